"""Least squares with results keyed by name, and a bootstrap that solves every draw at once.

Every performance model of the book is an OLS fit with HC3 standard errors (Long & Ervin 2000); this is
the one place that fits them. Coefficients are read by column name (``res.params["MIxSC"]``) and
contrasts by named hypotheses (``res.t_test("spread + spread_x_sme = 0")``), never by position.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS, OLSResults
from statsmodels.tools.tools import add_constant

from cbec.stats.moments import symmetric_from_upper

__all__ = ["fit_ols", "fit_ols_batch", "bootstrap_ols", "bootstrap_ols_many", "resample_weights", "contrast"]


def fit_ols(y: pd.Series, x: pd.DataFrame, cov_type: str = "HC3"):
    """OLS of ``y`` on ``x`` plus a constant named ``const``, with HC3 (default) covariance.

    Parameters
    ----------
    y : Series
    x : DataFrame
        Regressors; their column names become the names of the coefficients.
    cov_type : str
        Passed to statsmodels (``"HC3"``; ``"nonrobust"`` for the classical covariance).

    Returns
    -------
    statsmodels RegressionResults whose ``params``, ``bse``, ``pvalues`` are Series keyed by name.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame({"a": rng.normal(size=2000), "b": rng.normal(size=2000)})
    >>> y = pd.Series(1 + 2 * x["a"] - x["b"] + rng.normal(size=2000))
    >>> res = fit_ols(y, x)
    >>> round(float(res.params["a"]), 1), res.cov_type
    (2.0, 'HC3')
    """
    design = _with_constant(x)
    if len(design) < LARGE_N:
        return OLS(y.astype(float), design).fit(cov_type=cov_type)
    model = _LargeOLS(y.astype(float), design)
    fast = _fit_full_rank(model, cov_type)
    return fast if fast is not None else model.fit(cov_type=cov_type)


#: From this many rows on, a well-conditioned design is solved through its cross-product (see below).
LARGE_N = 20_000
#: Rows per block of the large route's n-row products (leverages, sandwich): a few MB at any width.
_ROW_BLOCK = 32_768


def _with_constant(x: pd.DataFrame) -> pd.DataFrame:
    """``const`` and the columns of ``x`` as floats, in one column-major block: statsmodels then reads the
    design without copying it (``add_constant`` builds a frame of separate blocks, which it copies whole
    into one array — 330 MB more at 10^6 firms, #28)."""
    arr = np.empty((len(x), x.shape[1] + 1), order="F")
    arr[:, 0] = 1.0
    for j, c in enumerate(x.columns):
        arr[:, j + 1] = x[c].to_numpy(dtype=float)
    return pd.DataFrame(arr, index=x.index, columns=["const", *map(str, x.columns)], copy=False)


class _LargeOLS(OLS):
    """statsmodels' OLS whose p x n pseudoinverse is formed only if something asks for it (at full rank it is
    ``(X'X)^-1 X'``): the fit and its HC covariances below do without it, and at 10^6 rows it is as large as
    the design (#28). Influence measures and cluster covariances still find it."""

    _pinv: np.ndarray | None = None

    @property
    def pinv_wexog(self):
        if self._pinv is None and getattr(self, "normalized_cov_params", None) is not None:
            self._pinv = self.normalized_cov_params @ self.wexog.T
        return self._pinv

    @pinv_wexog.setter
    def pinv_wexog(self, value):
        self._pinv = value


def _fit_full_rank(model, cov_type: str):
    """The fit statsmodels would return, for a well-conditioned design, without its two SVDs of the whole
    design (one for the rank, one for the pseudoinverse): ``(X'X)^-1`` from the p x p cross-product, the
    pseudoinverse as ``(X'X)^-1 X'`` (equal to it at full rank). Why by hand: at 10^6 rows those SVDs were half
    the time of the 22 models a re-run fits (#28). ``None`` (use statsmodels) when the cross-product's
    condition number exceeds 10^8, where the pseudoinverse is the safer route; tested equal to statsmodels."""
    from statsmodels.regression.linear_model import RegressionResultsWrapper

    x = model.wexog
    gram = x.T @ x
    eig = np.linalg.eigvalsh(gram)
    if eig[0] <= 0 or eig[-1] / eig[0] > 1e8:
        return None
    inv = np.linalg.inv(gram)
    model.normalized_cov_params = inv
    model.wexog_singular_values = np.sqrt(eig[::-1])
    model.rank = x.shape[1]
    model.df_model = float(model.rank - model.k_constant)
    model.df_resid = model.nobs - model.rank
    beta = inv @ (x.T @ model.wendog)
    return RegressionResultsWrapper(_LargeOLSResults(model, beta, normalized_cov_params=inv, cov_type=cov_type))


class _LargeOLSResults(OLSResults):
    """statsmodels' OLS results with its two n-row steps of the robust covariance done as matrix products over
    blocks of rows. Why: statsmodels forms the leverages with a three-operand ``einsum`` (no BLAS) and the
    sandwich from a strided copy of the transposed pseudoinverse; at 10^6 rows these were half of the models'
    time, and each held an n x p temporary (#28). Same formulas: ``h_i = x_i' (X'X)^-1 x_i`` and
    ``P diag(s) P' = (X'X)^-1 X' diag(s) X (X'X)^-1`` with ``P`` the pseudoinverse at full rank."""

    def _abat_diagonal(self, a, b):
        out = np.empty(len(a))
        for s in range(0, len(a), _ROW_BLOCK):
            rows = a[s : s + _ROW_BLOCK]
            out[s : s + _ROW_BLOCK] = np.einsum("ij,ij->i", rows @ b, rows)  # diag(a b a'), one pass
        return out

    def _HCCM(self, scale):
        x, inv = self.model.wexog, self.normalized_cov_params
        meat = np.zeros((x.shape[1], x.shape[1]))
        for s in range(0, len(x), _ROW_BLOCK):
            rows = x[s : s + _ROW_BLOCK]
            meat += rows.T @ (rows * scale[s : s + _ROW_BLOCK, None])
        return inv @ meat @ inv


def contrast(res, hypothesis: str) -> dict[str, float]:
    """Estimate, standard error and two-sided p-value of a named linear combination, e.g.
    ``"spread + spread_x_sme = 0"`` (the left side is the quantity estimated)."""
    t = res.t_test(hypothesis)
    return {
        "estimate": float(np.squeeze(t.effect)),
        "std_error": float(np.squeeze(t.sd)),
        "p_value": float(np.squeeze(t.pvalue)),
    }


def resample_weights(indices: np.ndarray, n: int) -> np.ndarray:
    """How often each of ``n`` rows is drawn in each resample (draws x n), from the draws' row indices."""
    b = len(indices)
    flat = (indices + n * np.arange(b)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)


def bootstrap_ols(
    y: pd.Series,
    x: pd.DataFrame,
    n_boot: int,
    seed: int = 2026,
    indices: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """Case-resampling bootstrap of OLS coefficients (constant included), all draws in one pass.

    A resampled fit weights each firm by the number of times it was drawn, ``w``, so its normal equations
    are ``X' diag(w) X b = X' diag(w) y``. Stacking the draws' weights in ``W`` (draws x firms) gives every
    draw's ``X' diag(w) X`` as one matrix product ``W (x_i x_i')`` (only the upper triangle is formed) and
    likewise ``X' diag(w) y``; the small systems are solved together. A draw whose system is singular (a
    dummy with no firm drawn) is solved by least squares instead.

    Parameters
    ----------
    y, x : as for :func:`fit_ols`
    n_boot : int
    seed : int
    indices : array (n_boot x n), optional
        Row indices of each draw, to reproduce a given set of resamples exactly.
    weights : array (n_boot x n), optional
        :func:`resample_weights` of the draws, to share one set of resamples between several models.

    Returns
    -------
    DataFrame, one row per draw, one column per coefficient (``const`` first).
    """
    design = add_constant(x.astype(float), has_constant="add")
    xa, ya = design.to_numpy(float), y.to_numpy(float)
    n, p = xa.shape
    iu = np.triu_indices(p)
    products, xy = xa[:, iu[0]] * xa[:, iu[1]], xa * ya[:, None]
    beta = []
    for w in _weight_blocks(n, n_boot, seed, indices, weights):
        beta.append(_solve_draws(symmetric_from_upper(w @ products, p, iu), w @ xy, xa, ya, w))
    return pd.DataFrame(np.concatenate(beta), columns=design.columns)


#: Weights formed per block of draws when the whole matrix would pass 32 MB (999 draws of 5,000 firms: 40 MB):
#: glibc hands out arrays that large as fresh pages every call, and their page faults cost more than the
#: products (bootstrap of 5,000 firms 0.107 -> 0.078 s). Smaller matrices reuse freed memory and stay whole
#: (blocks cost 15% more on the 105 bootstraps of 600 firms of the coupling chapter).
_WHOLE_CELLS, BLOCK_CELLS = 4_000_000, 250_000


def _weight_blocks(n: int, n_boot: int, seed: int, indices, weights):
    """The draws' weights block by block, the same draws as formed at once (one generator, read in order)."""
    if weights is not None:
        yield weights
        return
    rng = np.random.default_rng(seed)
    total = n_boot if indices is None else len(indices)
    k = 1 if total * n <= _WHOLE_CELLS else total * n // BLOCK_CELLS
    for rows in np.array_split(np.arange(total), k):
        start, stop = int(rows[0]), int(rows[-1]) + 1
        drawn = rng.integers(0, n, size=(stop - start, n)) if indices is None else indices[start:stop]
        yield resample_weights(drawn, n)


def _solve_draws(xtx: np.ndarray, xty: np.ndarray, xa: np.ndarray, ya: np.ndarray, weights: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(xtx, xty[..., None])[..., 0]
    except np.linalg.LinAlgError:  # some draw left a dummy without firms: solve the others, fit that one apart
        beta = np.empty(xty.shape)
        for r in range(len(weights)):
            try:
                beta[r] = np.linalg.solve(xtx[r], xty[r])
            except np.linalg.LinAlgError:
                rows = np.repeat(np.arange(len(ya)), weights[r].astype(int))
                beta[r] = np.linalg.lstsq(xa[rows], ya[rows], rcond=None)[0]
        return beta


def bootstrap_ols_many(y: pd.Series, designs: dict[str, pd.DataFrame], weights: np.ndarray) -> dict[str, pd.DataFrame]:
    """:func:`bootstrap_ols` for several models of the same outcome on the same resamples, at the cost of one.

    The models share most regressors (the 21 pair models share the constant and the controls), so every
    cross-product ``x_j x_k`` over the union of their columns is formed and weighted once (``W C``), and
    each model's normal equations are read from it. For the 21 pair models this is 666 weighted columns
    instead of 1,638. Results equal :func:`bootstrap_ols` model by model (tested to 1e-10).

    Returns
    -------
    dict: model name -> DataFrame of draws x coefficients (``const`` first), as :func:`bootstrap_ols`.
    """
    framed = {k: add_constant(x.astype(float), has_constant="add") for k, x in designs.items()}
    union = list(dict.fromkeys(c for d in framed.values() for c in d.columns))
    full = pd.concat([d for d in framed.values()], axis=1)
    full = full.loc[:, ~full.columns.duplicated()][union].to_numpy(float)
    ya = y.to_numpy(float)
    iu = np.triu_indices(len(union))
    upper = weights @ (full[:, iu[0]] * full[:, iu[1]])
    xty_all = weights @ (full * ya[:, None])
    slot = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(iu[0], iu[1], strict=True))}
    out = {}
    for name, d in framed.items():
        idx = [union.index(c) for c in d.columns]
        p = len(idx)
        pos = np.array([[slot[(int(min(i, j)), int(max(i, j)))] for j in idx] for i in idx])
        xtx = upper[:, pos.ravel()].reshape(len(weights), p, p)
        beta = _solve_draws(xtx, xty_all[:, idx], full[:, idx], ya, weights)
        out[name] = pd.DataFrame(beta, columns=d.columns)
    return out


def fit_ols_batch(y: np.ndarray, x: np.ndarray, names: list[str]) -> dict[str, pd.DataFrame]:
    """OLS with HC3 standard errors for many samples at once: ``y`` is ``reps x n``, ``x`` is
    ``reps x n x p`` (without the constant, which is added and named ``const``).

    The same estimator as :func:`fit_ols` (tested equal to it sample by sample): per sample
    ``b = (X'X)^-1 X'y`` and ``V = (X'X)^-1 X' diag(e_i^2 / (1 - h_ii)^2) X (X'X)^-1`` with leverages
    ``h_ii = x_i' (X'X)^-1 x_i`` (MacKinnon & White 1985; Long & Ervin 2000), and two-sided p-values from
    the normal distribution as statsmodels reports for robust covariances. Written because statsmodels
    fits one sample per call; the power study fits thousands of simulated samples.

    Returns
    -------
    dict of DataFrames (one row per sample, one column per coefficient): ``params``, ``bse``, ``tvalues``,
    ``pvalues``; and ``cov``, the samples' HC3 covariance matrices as an array (samples x p x p, in the
    order of the columns, ``const`` first).
    """
    from scipy import stats

    reps, n, _ = x.shape
    xa = np.concatenate([np.ones((reps, n, 1)), x], axis=2)
    xtx_inv = np.linalg.inv(np.matmul(xa.transpose(0, 2, 1), xa))
    beta = np.matmul(xtx_inv, np.matmul(xa.transpose(0, 2, 1), y[..., None]))[..., 0]
    resid = y - np.matmul(xa, beta[..., None])[..., 0]
    h = np.einsum("rni,rij,rnj->rn", xa, xtx_inv, xa, optimize=True)
    omega = (resid / (1.0 - h)) ** 2
    meat = np.matmul(xa.transpose(0, 2, 1), xa * omega[..., None])
    cov = np.matmul(np.matmul(xtx_inv, meat), xtx_inv)
    se = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    cols = ["const", *names]
    t = beta / se
    frame = lambda a: pd.DataFrame(a, columns=cols)  # noqa: E731
    return {
        "params": frame(beta),
        "bse": frame(se),
        "tvalues": frame(t),
        "pvalues": frame(2 * stats.norm.sf(np.abs(t))),
        "cov": cov,
    }
