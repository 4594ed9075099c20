"""fit_ols's route for large designs (cbec.stats.regression._fit_full_rank) gives statsmodels' own fit."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cbec.stats import regression
from cbec.stats.regression import LARGE_N, fit_ols


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = LARGE_N + 5
    x = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"v{i}" for i in range(6)])
    y = pd.Series(1 + x["v0"] - 0.5 * x["v1"] + rng.normal(size=n) * (1 + x["v2"].abs()))  # heteroscedastic
    return y, x


@pytest.mark.parametrize("cov_type", ["HC3", "nonrobust"])
def test_large_designs_fit_exactly_as_statsmodels_does(data, cov_type):
    y, x = data
    ours = fit_ols(y, x, cov_type=cov_type)
    ref = sm.OLS(y, sm.add_constant(x)).fit(cov_type=cov_type)
    assert ours.model.pinv_wexog is not None and ours.df_resid == ref.df_resid and ours.df_model == ref.df_model
    pd.testing.assert_series_equal(ours.params, ref.params, rtol=1e-10)
    pd.testing.assert_series_equal(ours.bse, ref.bse, rtol=1e-9)
    assert float(ours.t_test("v0 - v1 = 0").sd[0, 0]) == pytest.approx(float(ref.t_test("v0 - v1 = 0").sd[0, 0]))
    assert ours.rsquared == pytest.approx(ref.rsquared, rel=1e-12)
    assert isinstance(ours._results, regression._LargeOLSResults)  # the BLAS route was the one compared


def test_an_ill_conditioned_design_takes_statsmodels_route(data):
    y, x = data
    x = x.assign(v6=x["v0"] + 1e-9 * x["v1"])  # nearly collinear: the pseudoinverse is the safer route
    assert regression._fit_full_rank(sm.OLS(y, sm.add_constant(x)), "HC3") is None
    with pytest.warns(Warning):  # statsmodels says the design is (numerically) rank-deficient, both times
        sm_route = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HC3")
        ours = fit_ols(y, x)
    pd.testing.assert_series_equal(ours.params, sm_route.params)
