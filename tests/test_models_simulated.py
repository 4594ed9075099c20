"""Coupling models on simulated data: recovery of a planted pair, calibration under no coupling."""

import pytest

from cbec.article.simulate import SimulationConfig, simulate_survey
from cbec.io.validate import recode_reverse
from cbec.stats import measurement as ms
from cbec.stats import models


def _analyse(inst, **cfg):
    df, _ = simulate_survey(SimulationConfig(dirt=False, **cfg), inst)
    df = recode_reverse(df, inst)
    a = models.prepare(df, inst)
    return models.joint_interaction_model(a.scores, a.y, a.controls)


# Main effects strongest on MI and SC, so the coupled pair is never the pair of the largest main effects.
MAIN = {"MI": 0.25, "SC": 0.25, "MK": 0.10, "CX": 0.10, "TP": 0.05, "RC": 0.05, "TO": 0.05}


@pytest.mark.slow
@pytest.mark.parametrize("pair", ["TP*RC", "MK*TO"])
def test_planted_pair_ranks_first(inst, pair):
    # The 95% target of issue 5 at the shipped sample size (600 firms), with the planted coupling at 0.25 SD.
    # Measured over 200 seeds when written: TP*RC first in 99.0%, MK*TO in 99.5%; with a true rate of 99%,
    # fewer than 95 of 100 happens with probability 0.003. (At 0.15 SD the rate is about 80%: see the
    # power study in the coupling chapter.)
    hits = 0
    for s in range(100):
        t = _analyse(inst, n=600, seed=100 + s, couplings={pair: 0.25}, main_effects=MAIN)
        top = t.sort_values("rank").iloc[0]
        hits += f"{top['factor_a']}*{top['factor_b']}" == pair
    assert hits >= 95


@pytest.mark.slow
def test_no_coupling_keeps_familywise_error(inst):
    reps = 200
    any_sig = 0
    for s in range(reps):
        t = _analyse(
            inst, n=600, seed=500 + s, couplings={}, main_effects=MAIN, delta_balance_large=0.0, delta_focus_sme=0.0
        )
        any_sig += bool((t["p_holm"] < 0.05).any())
    # Nominal 5%; for a true rate of 5% over 200 seeds, more than 18 happens with probability < 1%.
    assert any_sig <= 18


@pytest.mark.slow
def test_normalisation_sensitivity_covers_every_rule(inst):
    df, _ = simulate_survey(SimulationConfig(n=300, seed=9, dirt=False), inst)
    df = recode_reverse(df, inst)
    a = models.prepare(df, inst)
    out = models.normalisation_sensitivity(a.scores, a.y, a.controls, ms.NORMALISATION_RULES)
    assert set(out["rule"]) == set(ms.NORMALISATION_RULES) and len(out) == 2 * len(ms.NORMALISATION_RULES)
    # Under every rule the D models are those of fit_all_pairs on the rule's indices: the same MI x SC estimate,
    # its rank and the top pair (the table fits only what it reads, by least squares).
    for rule in ms.NORMALISATION_RULES:
        pairs = models.fit_all_pairs(ms.normalise(a.scores, rule, 7), a.scores, a.y, a.controls, n_boot=0)
        for method in ("coordination_D", "coordination_D_revised"):
            g = pairs[pairs["method"] == method]
            direct = g[(g["factor_a"] == "MI") & (g["factor_b"] == "SC")].iloc[0]
            top = g[g["rank"] == 1].iloc[0]
            row = out[(out["rule"] == rule) & (out["method"] == method)].iloc[0]
            assert row["MIxSC_estimate"] == pytest.approx(direct["estimate"], rel=1e-10)
            assert row["MIxSC_rank"] == direct["rank"] and row["top_pair"] == f"{top['factor_a']}x{top['factor_b']}"
    # The scale rule is affine in the scores, min-max is affine per factor: D changes, so estimates differ.
    assert out.groupby("method")["MIxSC_estimate"].nunique().min() > 1


@pytest.mark.slow
def test_squares_keep_curvature_out_of_the_couplings(inst):
    """hidden_coupling: MI × SC is not coupled, but MI and SC correlate 0.55 and performance is curved. Fresh
    seeds (24001-24004), 200 samples of 2,000 firms. Measured when written: with the squares, MI × SC
    Holm-significant in 0% of samples and its mean estimate -0.008; products only: 7.5% and 0.031."""
    import numpy as np

    from cbec.article import power
    from cbec.article.simulate import draw_latent_world, scenario_config

    sig, est = [], []
    for b in range(4):
        world = draw_latent_world(
            scenario_config("hidden_coupling", n=2000, dirt=False), inst, np.random.default_rng(24001 + b), reps=50
        )
        m = power.batch_joint_model(world, inst)
        sig.append((m["p_holm"]["MIxSC"] < 0.05).to_numpy())
        est.append(m["estimate"]["MIxSC"].to_numpy())
    sig, est = np.concatenate(sig), np.concatenate(est)
    assert sig.mean() <= 0.07
    # the product-only model's bias (0.031) is four standard errors of this mean away from zero
    assert abs(est.mean()) < 0.015
