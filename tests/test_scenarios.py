"""Named simulated worlds: each plants its truth where an easy answer is not, and the methods are
checked against it (issue 13). Seeds and rates are stated beside each assertion."""

import json
from pathlib import Path

import numpy as np
import pytest

from cbec.article import power
from cbec.article.simulate import SCENARIOS, draw_latent_world, scenario_config, simulate_survey, write_simulation
from cbec.io.validate import recode_reverse, validate_frame
from cbec.stats import measurement as ms
from cbec.stats import models

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_files_are_the_shipped_scenario(tmp_path):
    # The split generator must draw exactly what the book ships (the committed files are the reference).
    csv, truth = write_simulation(tmp_path, scenario="shipped")
    assert csv.read_bytes() == (ROOT / "data/simulated/survey_simulated.csv").read_bytes()
    assert truth.read_bytes() == (ROOT / "data/simulated/ground_truth.json").read_bytes()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_is_a_survey_with_its_truth(name, inst, tmp_path):
    csv, truth_path = write_simulation(tmp_path, n=150, seed=4, scenario=name)
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    assert truth["scenario"] == name
    for key, value in SCENARIOS[name].items():
        assert truth["config"][key] == value
    import pandas as pd

    res = validate_frame(pd.read_csv(csv), inst)
    assert len(res.clean) + len(res.quarantine) == truth["n_rows"]


def test_unknown_scenario_lists_the_known_ones():
    with pytest.raises(ValueError, match="hidden_coupling"):
        scenario_config("no_such_world")


def test_realistic_world_has_factor_and_item_differences(inst):
    df, _ = simulate_survey(scenario_config("realistic", seed=8, dirt=False), inst)
    clean = recode_reverse(df, inst)
    scores = ms.mean_scores(clean, ms.factor_blocks(inst))
    # shipped world: factor means 4.62-4.69; here the planted threshold shifts spread them by about 0.9
    assert scores.mean().max() - scores.mean().min() > 0.5
    # reverse-worded items load at 0.7 of their forward loading: they correlate less with their factor score
    rev = [i for i in inst.factor_item_ids if inst.items[i].reverse]
    fwd = [i for i in inst.factor_item_ids if not inst.items[i].reverse]
    corr = {i: np.corrcoef(clean[i].astype(float), scores[i[:2]])[0, 1] for i in rev + fwd}
    assert np.mean([corr[i] for i in rev]) < np.mean([corr[i] for i in fwd]) - 0.05


def test_method_variance_world_is_flagged_by_harman(inst):
    # 49% of each answer's variance is acquiescence: Harman's first factor passes one half in each of
    # three seeds; in the shipped world (no method factor) it stays near 0.29.
    for seed in (1, 2, 3):
        df, _ = simulate_survey(scenario_config("null_method", seed=seed, dirt=False), inst)
        assert ms.harman_single_factor(recode_reverse(df, inst)[inst.factor_item_ids])["above_half"]
    df, _ = simulate_survey(scenario_config("shipped", seed=1, dirt=False), inst)
    assert not ms.harman_single_factor(recode_reverse(df, inst)[inst.factor_item_ids])["above_half"]


@pytest.mark.slow
def test_method_variance_does_not_make_couplings_appear(inst):
    # 200 samples of 600 firms with no coupling: the share with any Holm-significant pair is
    # Binomial(200, ~0.05); above 0.09 (about 3 SE) the joint model would be fooled by method variance.
    world = draw_latent_world(scenario_config("null_method", dirt=False), inst, np.random.default_rng(1), reps=200)
    fwer = (power.batch_joint_model(world, inst)["p_holm"] < 0.05).any(axis=1).mean()
    assert fwer <= 0.09


@pytest.mark.slow
def test_hidden_coupling_found_by_the_joint_model_not_by_unconditional_d(inst):
    # The planted pair TP x RC has the smallest main effects. Joint model: ranked first in 95 of 100
    # samples (seed 1); the unconditional coordination degree, which rewards high balanced levels,
    # ranks the strong-main-effect pair MI x SC above it in most samples.
    world = draw_latent_world(scenario_config("hidden_coupling", dirt=False), inst, np.random.default_rng(1), reps=100)
    assert (power.batch_joint_model(world, inst)["rank"]["TPxRC"] == 1).mean() >= 0.85
    above = 0
    for s in range(10):
        df, _ = simulate_survey(scenario_config("hidden_coupling", seed=100 + s, dirt=False), inst)
        a = models.prepare(recode_reverse(df, inst), inst)
        u = models.coordination_unconditional(a.indices, a.scores, a.y, a.controls).set_index(["factor_a", "factor_b"])
        above += u.loc[("MI", "SC"), "rank_unconditional"] < u.loc[("TP", "RC"), "rank_unconditional"]
    assert above >= 7
