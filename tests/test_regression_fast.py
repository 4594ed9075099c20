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
    assert ours.df_resid == ref.df_resid and ours.df_model == ref.df_model
    pd.testing.assert_series_equal(ours.params, ref.params, rtol=1e-10)
    pd.testing.assert_series_equal(ours.bse, ref.bse, rtol=1e-9)
    assert float(ours.t_test("v0 - v1 = 0").sd[0, 0]) == pytest.approx(float(ref.t_test("v0 - v1 = 0").sd[0, 0]))
    assert ours.rsquared == pytest.approx(ref.rsquared, rel=1e-12)
    assert isinstance(ours._results, regression._LargeOLSResults)  # the BLAS route was the one compared
    # the pseudoinverse is formed only when asked for, and is statsmodels' then (influence measures use it)
    np.testing.assert_allclose(ours.model.pinv_wexog, ref.model.pinv_wexog, rtol=1e-8, atol=1e-14)


def test_the_large_route_holds_no_n_by_p_temporary_beyond_its_design(data):
    """#28: at 10^6 firms every n x p array counted. The design is read by statsmodels without a copy, and
    neither the fit nor its HC3 covariance forms the pseudoinverse."""
    y, x = data
    ours = fit_ols(y, x)
    ours.bse  # the HC3 covariance, computed over blocks of rows
    assert ours.model._pinv is None
    assert np.shares_memory(ours.model.wexog, ours.model.data.orig_exog.to_numpy())


def test_an_ill_conditioned_design_takes_statsmodels_route(data):
    y, x = data
    x = x.assign(v6=x["v0"] + 1e-9 * x["v1"])  # nearly collinear: the pseudoinverse is the safer route
    assert regression._fit_full_rank(sm.OLS(y, sm.add_constant(x)), "HC3") is None
    with pytest.warns(Warning):  # statsmodels says the design is (numerically) rank-deficient, both times
        sm_route = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HC3")
        ours = fit_ols(y, x)
    pd.testing.assert_series_equal(ours.params, sm_route.params)
