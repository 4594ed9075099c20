"""The batched power study is the one-survey path, sample by sample, only faster."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from cbec.article import power
from cbec.article.simulate import SimulationConfig, draw_latent_world, scenario_config
from cbec.io.validate import recode_reverse
from cbec.stats import models
from cbec.stats.regression import fit_ols, fit_ols_batch


@pytest.fixture(scope="module")
def batch(inst):
    cfg = scenario_config("realistic", n=180, dirt=False, couplings={"MI*SC": 0.2})
    return draw_latent_world(cfg, inst, np.random.default_rng(5), reps=3)


def test_batch_equals_one_survey_path(batch, inst):
    res = power.batch_joint_model(batch, inst)
    for r in range(3):
        a = models.prepare(recode_reverse(power.world_frame(batch, r, inst), inst), inst)
        one = models.joint_interaction_model(a.scores, a.y, a.controls)
        one.index = [f"{x}x{y}" for x, y in zip(one["factor_a"], one["factor_b"], strict=True)]
        for col in ("estimate", "std_error", "p_value", "p_holm", "rank"):
            np.testing.assert_allclose(res[col].iloc[r].to_numpy(), one.loc[res[col].columns, col], rtol=1e-9)


def test_fit_ols_batch_is_hc3_ols():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 90, 3))
    y = x @ np.array([0.5, -1.0, 0.0]) + rng.standard_t(3, size=(4, 90)) * (1 + np.abs(x[..., 0]))
    got = fit_ols_batch(y, x, ["a", "b", "c"])
    for r in range(4):
        ref = fit_ols(pd.Series(y[r]), pd.DataFrame(x[r], columns=["a", "b", "c"]))
        for key in ("params", "bse", "pvalues"):
            np.testing.assert_allclose(got[key].iloc[r], getattr(ref, key), rtol=1e-10)


def test_holm_along_rows_equals_statsmodels():
    p = np.random.default_rng(2).uniform(0, 0.2, size=(6, 21))
    want = np.vstack([multipletests(row, method="holm")[1] for row in p])
    np.testing.assert_allclose(models.holm(p), want, rtol=1e-12)


def test_a_cell_is_a_function_of_its_seed_alone(inst):
    a = power.power_curve(sample_sizes=(200, 300), gammas=(0.0, 0.25), reps=30, instrument=inst)
    alone = power.power_cell(300, 0.25, 30, "MI*SC", 0.05, (2026, 1, 1), instrument=inst)
    assert a.iloc[3].to_dict() == pytest.approx(alone)
    other = power.power_cell(300, 0.25, 30, "MI*SC", 0.05, (2027, 1, 1), instrument=inst)
    assert other != alone


def test_power_rises_with_n_and_gamma(inst):
    # 60 samples per cell: the Monte Carlo SE of a power near 0.5 is 0.065, far below the gaps asserted.
    c = power.power_curve(sample_sizes=(200, 1000), gammas=(0.0, 0.25), reps=60, instrument=inst).set_index(
        ["n", "gamma"]
    )["power_holm"]
    assert c[(1000, 0.25)] > 0.9 and c[(200, 0.25)] < 0.4
    assert c[(1000, 0.0)] <= 0.1 and c[(200, 0.0)] <= 0.1  # no coupling: family-wise rate near alpha


def test_degenerate_sample_is_refused(inst):
    cfg = SimulationConfig(n=8, dirt=False, share_large=0.0)
    world = draw_latent_world(cfg, inst, np.random.default_rng(0), reps=2)
    with pytest.raises(ValueError, match="lack a firm type"):
        power.batch_joint_model(world, inst)


@pytest.mark.slow
def test_dask_cluster_gives_the_same_power_curve(inst):
    from distributed import Client, LocalCluster

    grid = {"sample_sizes": (200, 400), "gammas": (0.0, 0.2), "reps": 30, "instrument": inst}
    local = power.power_curve(**grid)
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        with Client(cluster) as client:
            remote = power.power_curve(**grid, client=client)
    pd.testing.assert_frame_equal(local, remote)


def test_batched_verdict_rule_equals_the_per_sample_test(batch, inst):
    """The power study's verdict rate (pre-specified pair above every other pair, intersection-union test)
    is the same decision as cbec.stats.ranks.ordered_comparisons on each sample's joint model."""
    from cbec.stats.ranks import ordered_comparisons

    res = power.batch_joint_model(batch, inst)
    pairs = list(res["estimate"].columns)
    for name in ("MIxSC", "TPxRC"):
        fast = power.largest_by_iut(res, name, 0.05)
        for r in range(3):
            a = models.prepare(recode_reverse(power.world_frame(batch, r, inst), inst), inst)
            fit = fit_ols(a.y, models.joint_design(a.scores, a.controls))
            slow = ordered_comparisons(
                fit.params[pairs], fit.cov_params().loc[pairs, pairs], [name], [p for p in pairs if p != name]
            )
            assert fast[r] == (slow["verdict"] == "matches")
            assert power.iut_z_min(res, name)[r] == pytest.approx(slow["z_min"], rel=1e-8)
            np.testing.assert_allclose(res["cov"][r], fit.cov_params().loc[pairs, pairs].to_numpy(), rtol=1e-8)
