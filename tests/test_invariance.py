"""Multi-group CFA against lavaan's published values, and invariance verdicts on simulated worlds.

Reference: lavaan tutorial "Multiple groups" (the Holzinger & Swineford three-factor model by school), as
published in the lavaan website source, yrosseel/lavaan.org.old, ``tutorial.src/groups.tex`` (commit
2d9c6e12e202dcd33392f5b453aed9f3cd3cab39; lavaan 0.5-16 and semTools' measurementInvariance). The data are
semopy's copy of HolzingerSwineford1939 (``semopy.examples.holzinger39``, MIT licence).
"""

import numpy as np
import pytest

from cbec.stats.invariance import fit_multigroup_cfa, invariance_table

HS_BLOCKS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
#: level -> (chi2, df, chi2 Pasteur, chi2 Grant-White, CFI, RMSEA), as printed on the page.
LAVAAN = {
    "configural": (115.851, 48, 64.309, 51.542, 0.923, 0.097),
    "metric": (124.044, 54, 68.825, 55.219, 0.921, 0.093),
    "scalar": (164.103, 60, None, None, 0.882, 0.107),
}
#: free loadings x2, x3, x5, x6, x8, x9 as printed (configural per school; metric shared).
LOADINGS = {
    "configural.g1": [0.394, 0.570, 1.183, 0.875, 1.125, 0.922],
    "configural.g2": [0.736, 0.925, 0.990, 0.963, 1.226, 1.058],
    "metric": [0.599, 0.784, 1.083, 0.912, 1.201, 1.038],
}
FREE = ["visual=~x2", "visual=~x3", "textual=~x5", "textual=~x6", "speed=~x8", "speed=~x9"]


@pytest.fixture(scope="module")
def hs():
    from semopy.examples import holzinger39

    return holzinger39.get_data()


@pytest.mark.parametrize("level", list(LAVAAN))
def test_holzinger_swineford_by_school_as_lavaan(hs, level):
    fit = fit_multigroup_cfa(hs, HS_BLOCKS, "school", level)
    chi2, df, pasteur, grant_white, cfi, rmsea = LAVAAN[level]
    assert fit.converged and fit.groups == ["Pasteur", "Grant-White"]
    assert fit.chi2 == pytest.approx(chi2, abs=1e-2) and fit.df == df
    if pasteur is not None:
        assert fit.chi2_by_group["Pasteur"] == pytest.approx(pasteur, abs=1e-2)
        assert fit.chi2_by_group["Grant-White"] == pytest.approx(grant_white, abs=1e-2)
    assert fit.cfi == pytest.approx(cfi, abs=1e-3) and fit.rmsea == pytest.approx(rmsea, abs=1e-3)


def test_loadings_as_lavaan(hs):
    conf = fit_multigroup_cfa(hs, HS_BLOCKS, "school", "configural").params.set_index("param")["estimate"]
    metric = fit_multigroup_cfa(hs, HS_BLOCKS, "school", "metric").params.set_index("param")["estimate"]
    for g in ("g1", "g2"):
        got = [conf[f"{name}.{g}"] for name in FREE]
        np.testing.assert_allclose(got, LOADINGS[f"configural.{g}"], atol=1e-3)
    np.testing.assert_allclose([metric[name] for name in FREE], LOADINGS["metric"], atol=1e-3)


def test_intercepts_are_group_means_in_the_configural_model(hs):
    # with latent means fixed at 0 the intercepts reproduce each school's item means (lavaan: x1 4.941, 4.930)
    conf = fit_multigroup_cfa(hs, HS_BLOCKS, "school", "configural").params.set_index("param")["estimate"]
    assert conf["x1~1.g1"] == pytest.approx(4.941, abs=1e-3) and conf["x1~1.g2"] == pytest.approx(4.930, abs=1e-3)


def test_hs_scalar_invariance_fails_and_partial_invariance_is_found(hs):
    # ΔCFI configural -> scalar is -.041 on the page: scalar invariance fails by Chen's rule
    table = invariance_table(hs, HS_BLOCKS, "school").set_index("level")
    assert table.loc["metric", "holds"]
    assert "partial scalar" in table.index and table.loc["partial scalar", "free_intercepts"]
    assert table.loc["metric", "delta_chi2"] == pytest.approx(8.192, abs=1e-2)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [5, 6, 7])
def test_the_planted_non_invariant_item_is_found_and_freed(inst, seed):
    # scenario "noninvariant_item": SC12 reads 0.8 latent SD higher in large firms at the same factor level.
    # Full scalar invariance fails by Chen's rule and the first intercept freed is SC12's (seeds 5-7);
    # in the shipped world the same test passes without freeing anything.
    from cbec.article.simulate import scenario_config, simulate_survey
    from cbec.io.validate import validate_frame
    from cbec.stats import measurement as ms

    blocks = ms.factor_blocks(inst)
    df, _ = simulate_survey(scenario_config("noninvariant_item", n=1000, seed=seed), inst)
    table = invariance_table(validate_frame(df, inst).clean, blocks, "size_class").set_index("level")
    assert table.loc["metric", "holds"]
    assert table.loc["partial scalar", "free_intercepts"].split(", ")[0] == "SC12"
    df, _ = simulate_survey(scenario_config("shipped", n=1000, seed=seed), inst)
    table = invariance_table(validate_frame(df, inst).clean, blocks, "size_class").set_index("level")
    assert "scalar" in table.index and table.loc["scalar", "holds"]


def test_a_warm_start_reaches_the_same_minimum(hs):
    # metric from the configural fit, scalar from the metric fit: the optimiser starts elsewhere, ends the same
    conf = fit_multigroup_cfa(hs, HS_BLOCKS, "school", "configural")
    metric = fit_multigroup_cfa(hs, HS_BLOCKS, "school", "metric", start=conf)
    scalar = fit_multigroup_cfa(hs, HS_BLOCKS, "school", "scalar", start=metric)
    assert metric.chi2 == pytest.approx(LAVAAN["metric"][0], abs=1e-3)
    assert scalar.chi2 == pytest.approx(LAVAAN["scalar"][0], abs=1e-3)


def _world_sample(inst, scenario: str, n: int, seed: int):
    from cbec.article.power import world_frame
    from cbec.article.simulate import draw_latent_world, scenario_config
    from cbec.io.validate import recode_reverse

    world = draw_latent_world(scenario_config(scenario, n=n, dirt=False), inst, np.random.default_rng(seed), reps=1)
    return recode_reverse(world_frame(world, 0, inst), inst)


def test_the_shifted_item_is_found_when_both_groups_are_large(inst):
    # 2,000 firms: about 1,400 SMEs and 600 large firms, both above Chen's 300. Her looser pair (.010 / .015),
    # which the rule used there before, let SC12's shift through in half the samples (ΔCFI about -.008).
    from cbec.stats import measurement as ms

    d = _world_sample(inst, "noninvariant_item", 2000, seed=36)
    blocks = ms.factor_blocks(inst)
    assert d["size_class"].value_counts().min() >= 300
    metric, scalar = (fit_multigroup_cfa(d, blocks, "size_class", lv) for lv in ("metric", "scalar"))
    assert -0.010 < scalar.cfi - metric.cfi < -0.005  # passes the looser pair, fails the stricter
    table = invariance_table(d, blocks, "size_class").set_index("level")
    assert table.loc["partial scalar", "free_intercepts"].split(", ")[0] == "SC12"


def test_strong_acquiescence_is_not_read_as_non_invariance(inst):
    # null_method: acquiescence loads 0.70 on every answer, the same in every group. Without the method factor
    # the configural model misfits (CFI below .90) and the rule finds no invariance at all; with it, scalar holds.
    from cbec.article import groups
    from cbec.stats import measurement as ms
    from cbec.study.chapters.base import invariance_options

    d = _world_sample(inst, "null_method", 600, seed=32)
    blocks = ms.factor_blocks(inst)
    plain = invariance_table(d, blocks, "size_class").set_index("level")
    assert plain.loc["configural", "cfi"] < 0.90 and not plain.loc["configural", "holds"]
    table = groups.measurement_invariance(d, blocks, **invariance_options(inst))
    assert set(groups.invariance_reached(table).values()) == {"scalar"}


@pytest.mark.parametrize("level", ["configural", "scalar"])
def test_the_objectives_gradient_is_its_derivative(hs, level):
    """The analytic gradient against central differences, with the acquiescence factor (fixed +1/-1 loadings)
    and a freed intercept, at a point away from the optimum: every free parameter's entry in every matrix."""
    from cbec.stats import invariance as iv

    signs = {"x3": -1.0, "x6": -1.0}
    labels, moments = iv._group_moments(hs, HS_BLOCKS, "school")
    model = iv._Model(HS_BLOCKS, len(labels), level, ("x5",), signs)
    x = iv._start(model, moments) + np.random.default_rng(1).normal(scale=0.05, size=len(model.names))
    _, grad = iv._objective(x, model, moments)
    h = 1e-6
    numeric = [
        (iv._objective(x + h * e, model, moments)[0] - iv._objective(x - h * e, model, moments)[0]) / (2 * h)
        for e in np.eye(len(x))
    ]
    assert grad == pytest.approx(np.array(numeric), rel=1e-5, abs=1e-3)


@pytest.mark.parametrize("level", ["configural", "scalar"])
def test_the_information_is_the_expected_hessian(hs, level):
    """The preconditioner's expected information against central differences of the gradient where the groups'
    moments are the model's own (there the expected and the observed Hessian are equal), with the acquiescence
    factor, a freed intercept and latent means: every entry, covariances between parameters included."""
    from cbec.stats import invariance as iv

    signs = {"x3": -1.0, "x6": -1.0}
    labels, moments = iv._group_moments(hs, HS_BLOCKS, "school")
    model = iv._Model(HS_BLOCKS, len(labels), level, ("x5",), signs)
    x = iv._start(model, moments) + np.random.default_rng(2).normal(scale=0.1, size=len(model.names))
    implied = []
    for g, (_, _, n) in enumerate(moments):
        lam, phi, theta, nu, alpha = model.matrices(x, g)
        implied.append((nu + lam @ alpha, lam @ phi @ lam.T + np.diag(theta), n))
    h = 1e-6
    numeric = np.array(
        [(iv._objective(x + h * e, model, implied)[1] - iv._objective(x - h * e, model, implied)[1]) / (2 * h)
         for e in np.eye(len(x))]
    )  # fmt: skip
    assert iv._information(x, model, implied) == pytest.approx(numeric, rel=1e-5, abs=1e-3 * np.abs(numeric).max())


def test_the_preconditioned_fit_reaches_the_plain_minimum(inst):
    """The fit runs L-BFGS-B in coordinates scaled by the information at the start; it must land where the
    optimiser in the raw coordinates lands (same χ², same estimates), with the acquiescence factor's variance
    bounded at 0, in fewer iterations."""
    from scipy import optimize

    from cbec.stats import invariance as iv
    from cbec.stats import measurement as ms
    from cbec.study.chapters.base import invariance_options

    d = _world_sample(inst, "shipped", 600, seed=33)
    blocks, signs = ms.factor_blocks(inst), invariance_options(inst)["method_signs"]
    labels, moments = iv._group_moments(d, blocks, "size_class")
    model = iv._Model(blocks, len(labels), "scalar", (), signs)
    x0 = iv._start(model, moments)
    bounds = [(None, None)] * len(x0)
    for g in range(len(labels)):
        bounds[model.phi[g, -1, -1]] = (0.0, None)
    plain = optimize.minimize(
        iv._objective, x0, args=(model, moments), jac=True, method="L-BFGS-B", bounds=bounds, options=iv._OPTIONS
    )
    fast = iv._minimise(model, moments, x0, len(labels))
    assert fast.success and fast.fun == pytest.approx(plain.fun, abs=1e-6)
    assert fast.x == pytest.approx(plain.x, abs=1e-4)
    assert fast.nit < plain.nit / 2


def test_started_from_the_pooled_fit_the_levels_reach_their_own_minima(inst):
    """invariance_table starts every group's configural parameters from one fit of all firms (and each level
    from the one below); each level's χ² must be the one a fit from the default start reaches."""
    from cbec.stats import invariance as iv
    from cbec.stats import measurement as ms
    from cbec.study.chapters.base import invariance_options

    d = _world_sample(inst, "shipped", 600, seed=34)
    blocks, signs = ms.factor_blocks(inst), invariance_options(inst)["method_signs"]
    table = iv.invariance_table(d, blocks, "business_model", method_signs=signs).set_index("level")
    shared = iv.invariance_table(
        d, blocks, "business_model", method_signs=signs, start=iv.pooled_fit(d, blocks, signs)
    ).set_index("level")
    for level in ("configural", "metric", "scalar"):
        cold = iv.fit_multigroup_cfa(d, blocks, "business_model", level, method_signs=signs)
        assert table.loc[level, "chi2"] == pytest.approx(cold.chi2, abs=1e-5)
        assert shared.loc[level, "chi2"] == pytest.approx(cold.chi2, abs=1e-5)
