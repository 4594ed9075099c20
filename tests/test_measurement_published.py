"""Measurement functions against published values on real public data.

Reference numbers and their sources:

* Holzinger & Swineford (1939), 301 pupils, the three-factor CFA of the lavaan tutorial
  (https://lavaan.ugent.be/tutorial/cfa.html): chi-square 85.306 on 24 df, CFI 0.931, TLI 0.896,
  RMSEA 0.092 with 90% CI [0.071, 0.114], SRMR 0.065; loadings x2 0.554, x3 0.729, x5 1.113,
  x6 0.926, x8 1.180, x9 1.082. Data: semopy/examples/holzinger_swineford39_data.csv.
* Cronbach's alpha on pingouin's bundled ``cronbach_alpha`` data set (long format, pingouin docs of
  ``pingouin.cronbach_alpha``): alpha 0.5917, 95% CI [0.195, 0.840].
"""

from pathlib import Path

import pandas as pd
import pytest
import semopy

from cbec.stats import measurement as ms

#: The published values carry three decimals, so agreement within rounding is 5e-4; semopy's BFGS
#: optimum differs from lavaan's by up to ~5e-4 in the loadings, so 1e-3 is the tolerance.
PUBLISHED_TOL = 1e-3

HS_BLOCKS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}


@pytest.fixture(scope="module")
def hs_fit():
    data = pd.read_csv(Path(semopy.__file__).parent / "examples" / "holzinger_swineford39_data.csv")
    return ms.fit_cfa(data, HS_BLOCKS)


@pytest.mark.parametrize(
    "index,value",
    [
        ("chi2", 85.306),
        ("df", 24),
        ("cfi", 0.931),
        ("tli", 0.896),
        ("rmsea", 0.092),
        ("rmsea_ci_low", 0.071),
        ("rmsea_ci_high", 0.114),
        ("srmr", 0.065),
    ],
)
def test_holzinger_swineford_fit(hs_fit, index, value):
    assert hs_fit.fit[index] == pytest.approx(value, abs=PUBLISHED_TOL)


@pytest.mark.parametrize(
    "item,value", [("x2", 0.554), ("x3", 0.729), ("x5", 1.113), ("x6", 0.926), ("x8", 1.180), ("x9", 1.082)]
)
def test_holzinger_swineford_loadings(hs_fit, item, value):
    est = hs_fit.loadings.set_index("item")["estimate"]
    assert est[item] == pytest.approx(value, abs=PUBLISHED_TOL)


def test_cronbach_alpha_matches_pingouin_published_example():
    pg = pytest.importorskip("pingouin")  # GPL-3: test-only, used for its data set
    long = pg.read_dataset("cronbach_alpha")
    wide = long.pivot_table(index="Subj", columns="Items", values="Scores")
    a = ms.cronbach_alpha(wide)
    assert a["alpha"] == pytest.approx(0.5917, abs=1e-4)
    assert a["ci_low"] == pytest.approx(0.195, abs=PUBLISHED_TOL)
    assert a["ci_high"] == pytest.approx(0.840, abs=PUBLISHED_TOL)


def test_alpha_agrees_with_pingouin_on_other_data(inst, small_survey):
    pg = pytest.importorskip("pingouin")
    df, _ = small_survey
    items = df[inst.factor_items["SC"][:4]].dropna().astype(float)
    ours = ms.cronbach_alpha(items)
    theirs, ci = pg.cronbach_alpha(data=items)
    assert ours["alpha"] == pytest.approx(theirs, abs=1e-10)
    assert (ours["ci_low"], ours["ci_high"]) == pytest.approx(tuple(ci), abs=1e-3)  # pingouin rounds to 3 dp


def test_cr_and_ave_by_hand():
    lam = pd.Series([0.7, 0.8, 0.9])
    # (2.4)^2 / ((2.4)^2 + 0.51 + 0.36 + 0.19) = 5.76 / 6.82
    assert ms.composite_reliability(lam) == pytest.approx(5.76 / 6.82, rel=1e-12)
    assert ms.average_variance_extracted(lam) == pytest.approx((0.49 + 0.64 + 0.81) / 3, rel=1e-12)


def test_omega_equals_true_score_share_of_the_implied_sum_variance():
    data = pd.read_csv(Path(semopy.__file__).parent / "examples" / "holzinger_swineford39_data.csv")
    items = HS_BLOCKS["textual"]
    one = ms.fit_cfa(data, {"F": items})
    est = one.estimates
    lam = est.loc[est["op"] == "=~", "estimate"].sum()
    psi = est.loc[(est["op"] == "~~") & (est["lhs"] == "F") & (est["rhs"] == "F"), "estimate"].item()
    sigma = one.model.calc_sigma()[0]
    # Independent route: omega = (sum lambda)^2 psi / 1' Sigma_hat 1 (no correlated errors in the model).
    assert ms.omega_total(data[items]) == pytest.approx(lam**2 * psi / sigma.sum(), abs=1e-6)


# ECSI mobile-phone survey (Tenenhaus et al. 2005, 250 customers), PLS model Image/Expectation/Value/
# Satisfaction as estimated by seminr. Outer loadings and the published reliability table are frozen from
# seminr's test fixtures (github.com/sem-in-r/seminr, tests/fixtures/V_3_5_X/cross_loadings.csv and
# reliability.csv, commit a380adbe). rhoC there is Dillon-Goldstein's rho = composite reliability.
ECSI_LOADINGS = {
    "Image": [0.763199100938388, 0.598825742061012, 0.561373435201573, 0.76917060820122, 0.73625435746935],
    "Expectation": [0.76152466539557, 0.710214472518844, 0.597659373657607],
    "Value": [0.901400554962628, 0.940265063862509],
    "Satisfaction": [0.804053676874834, 0.842878555812946, 0.850379560919916],
}
ECSI_PUBLISHED = {  # construct: (rhoC, AVE)
    "Image": (0.818325774056256, 0.477979834838268),
    "Expectation": (0.733177801505283, 0.480507046633952),
    "Value": (0.917897281748515, 0.84831067540365),
    "Satisfaction": (0.871457927643628, 0.693363990925202),
}
#: Same closed form on loadings published to 15 digits: only rounding of those digits can differ.
FORMULA_TOL = 1e-9


@pytest.mark.parametrize("construct", list(ECSI_PUBLISHED))
def test_cr_and_ave_match_published_ecsi_table(construct):
    lam = pd.Series(ECSI_LOADINGS[construct])
    rho_c, ave = ECSI_PUBLISHED[construct]
    assert ms.composite_reliability(lam) == pytest.approx(rho_c, abs=FORMULA_TOL)
    assert ms.average_variance_extracted(lam) == pytest.approx(ave, abs=FORMULA_TOL)
