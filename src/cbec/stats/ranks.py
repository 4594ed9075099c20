"""Inference on ranks: which estimate is largest, and how sure can we be?

A ranking of point estimates says nothing about whether the top one is really the largest. This module
gives the two answers a reader needs:

- :func:`rank_confidence_sets` — simultaneous confidence sets for the ranks of all estimates
  (Mogstad, Romano, Shaikh & Wilhelm 2024): with probability about ``coverage`` every true rank lies in its
  set at once. An item whose set is ``{1}`` is established as the largest.
- :func:`rank_distribution` — the bootstrap distribution of each item's rank, the probability that it
  ranks first, and an interval for the gap between the top two.

Why by hand: the reference implementation is the R package csranks (MIT); no Python port exists on PyPI.
This follows its ``csranks_simul`` with ``cstype="two-sided"`` and ``stepdown=TRUE`` (the defaults),
and ``csdiffmeans`` behind it, as in danielwilhelm/R-CS-ranks, commit bd4f755 (2024-09-09), files
``R/ranks.R`` and ``R/diffmeans.R``. One difference, stated: csranks draws new normal vectors at each
step-down step; here one set of draws serves every step (the same distribution, less Monte Carlo noise).

References
----------
Mogstad, M., Romano, J. P., Shaikh, A. M., & Wilhelm, D. (2024). Inference for ranks with applications
to mobility across neighbourhoods and academic achievement across countries. *Review of Economic
Studies* 91(1), 476–518. https://doi.org/10.1093/restud/rdad006
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ordered_comparisons", "point_ranks", "rank_confidence_sets", "rank_distribution"]


def point_ranks(estimates) -> np.ndarray:
    """Rank 1 for the largest estimate; ties share the best rank (``1 + #{k: x_k > x_j}``, csranks' irank).

    >>> point_ranks([0.1, 0.3, 0.3, -1]).tolist()
    [3, 1, 1, 4]
    """
    x = np.asarray(estimates, dtype=float)
    return 1 + (x[None, :] > x[:, None]).sum(axis=1)


def _difference_bounds(
    x: np.ndarray, cov: np.ndarray, coverage: float, draws: np.ndarray, stepdown: bool, only: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous bounds for all differences x_j - x_k (csdiffmeans, symmetric request).

    Returns ``lower, upper`` (p x p). With ``stepdown`` the symmetric request is turned into lower bounds
    over all ordered pairs (upper bounds are +inf), as csranks does; the max-t critical value is
    recomputed over the differences not yet rejected until no new rejection occurs.
    """
    p = len(x)
    diff = x[:, None] - x[None, :]
    var = np.diag(cov)
    sd = np.sqrt(np.maximum(var[:, None] + var[None, :] - 2 * cov, 1e-300))
    zdiff = (draws[:, :, None] - draws[:, None, :]) / sd[None, :, :]  # R x p x p
    active = ~np.eye(p, dtype=bool)
    if only is not None:  # a marginal set: the differences that involve item `only`
        keep = np.zeros((p, p), dtype=bool)
        keep[only, :] = True
        if stepdown:
            keep[:, only] = True
        active &= keep
    lower = np.zeros((p, p))
    upper = np.full((p, p), np.inf)
    if not stepdown:
        crit = np.quantile(np.abs(zdiff[:, active]).max(axis=1), coverage)
        lower[active] = diff[active] - sd[active] * crit
        upper[active] = diff[active] + sd[active] * crit
        return lower, upper
    while active.any():
        crit = np.quantile(zdiff[:, active].max(axis=1), coverage)
        lower[active] = diff[active] - sd[active] * crit
        rejected = active & (lower > 0)
        if not rejected.any():
            break
        active &= ~rejected
    return lower, upper


def rank_confidence_sets(
    estimates: pd.Series,
    cov,
    coverage: float = 0.95,
    n_draws: int = 1000,
    seed: int = 0,
    stepdown: bool = True,
    simultaneous: bool = True,
) -> pd.DataFrame:
    """Simultaneous confidence sets for the ranks of ``estimates`` (rank 1 = largest).

    With ``Sigma`` the covariance of the estimates, ``s_jk = sqrt(S_jj + S_kk - 2 S_jk)`` and ``c`` the
    ``coverage`` quantile of ``max_{(j,k) in I} (Z_j - Z_k) / s_jk`` for ``Z ~ N(0, Sigma)``, the lower
    bound of ``theta_j - theta_k`` is ``x_j - x_k - s_jk c``; ``I`` starts with all ordered pairs and loses
    those whose bound is positive, step by step. Then

    ``rank_low_j = 1 + #{k : lower_kj > 0}`` (items significantly larger than j) and
    ``rank_high_j = p - #{k : lower_jk > 0}`` (items significantly smaller than j).

    Parameters
    ----------
    estimates : Series
        One estimate per item, indexed by the item's name.
    cov : array-like, p x p
        Their estimated covariance matrix (e.g. the HC3 block of a regression).
    coverage : float
        Simultaneous coverage of the sets (csranks' default 0.95).
    n_draws : int
        Parametric-bootstrap draws for the critical values (csranks' ``R``, default 1000).
    seed : int
    stepdown : bool
        The step-down refinement (csranks' default); ``False`` gives the single-step sets.
    simultaneous : bool
        ``True``: all sets cover all true ranks at once; ``False``: each set covers its own item's rank
        (csranks' ``simul=FALSE``, one computation per item).

    Returns
    -------
    DataFrame indexed like ``estimates`` with ``estimate, rank, rank_low, rank_high``.

    Examples
    --------
    Two independent estimates one standard error apart cannot be ordered; five apart they can:

    >>> import pandas as pd, numpy as np
    >>> sets = rank_confidence_sets(pd.Series({"a": 1.0, "b": 0.0}), np.eye(2) / 2)
    >>> sets[["rank_low", "rank_high"]].to_numpy().tolist()
    [[1, 2], [1, 2]]
    >>> sets = rank_confidence_sets(pd.Series({"a": 5.0, "b": 0.0}), np.eye(2) / 2)
    >>> sets[["rank_low", "rank_high"]].to_numpy().tolist()
    [[1, 1], [2, 2]]
    """
    x = np.asarray(estimates, dtype=float)
    sigma = np.asarray(cov, dtype=float)
    p = len(x)
    if sigma.shape != (p, p):
        raise ValueError(f"cov must be {p} x {p}, is {sigma.shape}")
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(np.zeros(p), sigma, size=n_draws, method="eigh")
    if simultaneous:
        n_above, n_below = _counts(*_difference_bounds(x, sigma, coverage, draws, stepdown), stepdown)
    else:
        n_above, n_below = np.empty(p, dtype=int), np.empty(p, dtype=int)
        for j in range(p):
            a, b = _counts(*_difference_bounds(x, sigma, coverage, draws, stepdown, only=j), stepdown)
            n_above[j], n_below[j] = a[j], b[j]
    return pd.DataFrame(
        {"estimate": x, "rank": point_ranks(x), "rank_low": 1 + n_above, "rank_high": p - n_below},
        index=estimates.index,
    )


def _counts(lower: np.ndarray, upper: np.ndarray, stepdown: bool) -> tuple[np.ndarray, np.ndarray]:
    """Items significantly above (column j of ``lower``) and below (row j) each item."""
    n_above = (lower > 0).sum(axis=0) if stepdown else (upper < 0).sum(axis=1)
    return n_above, (lower > 0).sum(axis=1)


def rank_distribution(draws: pd.DataFrame, estimates: pd.Series, level: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """Bootstrap distribution of ranks from resampled estimates (one row per draw, one column per item).

    Returns a table with each item's probability of ranking first and the (1 - level)/2, 0.5 and (1 + level)/2
    quantiles of its bootstrap rank, and a dict with the point-estimate top item, runner-up and a percentile interval
    for their difference (the same two items in every draw); with a single item there is no runner-up, and
    the runner-up and gap entries are None.
    """
    r = np.apply_along_axis(point_ranks, 1, draws.to_numpy(float))
    tail = (1 - level) / 2
    table = pd.DataFrame(
        {
            "p_first": (r == 1).mean(axis=0),
            "boot_rank_low": np.quantile(r, tail, axis=0, method="inverted_cdf"),
            "boot_rank_median": np.quantile(r, 0.5, axis=0, method="inverted_cdf"),
            "boot_rank_high": np.quantile(r, 1 - tail, axis=0, method="inverted_cdf"),
        },
        index=draws.columns,
    )
    order = estimates.sort_values(ascending=False).index
    if len(order) < 2:
        none = {"runner_up": None, "gap": None, "gap_ci_low": None, "gap_ci_high": None}
        return table, {"top": order[0], **none}
    top, second = order[0], order[1]
    gap = draws[top] - draws[second]
    summary = {
        "top": top,
        "runner_up": second,
        "gap": float(estimates[top] - estimates[second]),
        "gap_ci_low": float(np.quantile(gap, tail)),
        "gap_ci_high": float(np.quantile(gap, 1 - tail)),
    }
    return table, summary


def ordered_comparisons(
    estimates: pd.Series, cov: pd.DataFrame, above: list[str], below: list[str], alpha: float = 0.05
) -> dict:
    """Test a pre-specified ordering: every item in ``above`` exceeds every item in ``below``.

    The claim is the intersection of the one-sided hypotheses theta_a > theta_b over all pairs (a, b), so it is
    established by an intersection–union test: each one-sided z-test at level ``alpha``, the claim when all of
    them reject, with size at most ``alpha`` and no multiplicity correction (Berger 1982; Berger & Hsu 1996).
    The opposite finding — some item of ``below`` exceeds some item of ``above`` — is a union of one-sided
    hypotheses, so its tests are Holm-adjusted. This is the test for a question asked before the data were
    seen ("is MI × SC the largest?"); the simultaneous rank sets of :func:`rank_confidence_sets` answer the
    exploratory "which one is largest?" and are needlessly strict for a single pre-specified item.

    Returns ``verdict`` (``matches`` | ``differs`` | ``inconclusive``), ``p_iut`` (the largest one-sided
    p-value for the claim), ``p_reverse`` (the smallest Holm-adjusted p-value against it), ``z_min`` and
    ``closest`` (the comparison nearest to failing), and ``z``, every comparison's one-sided z by name
    (``"a > b"``).

    References
    ----------
    Berger, R. L. (1982). Multiparameter hypothesis testing and acceptance sampling. Technometrics 24, 295–300.
    Berger, R. L., & Hsu, J. C. (1996). Bioequivalence trials, intersection-union tests and equivalence
    confidence sets. Statistical Science 11, 283–319.

    Examples
    --------
    >>> est = pd.Series({"a": 0.30, "b": 0.10, "c": 0.05})
    >>> cov = pd.DataFrame(np.diag([0.05**2] * 3), index=est.index, columns=est.index)
    >>> ordered_comparisons(est, cov, ["a"], ["b", "c"])["verdict"]
    'matches'
    >>> ordered_comparisons(est, cov, ["c"], ["a", "b"])["verdict"]
    'differs'
    """
    from scipy.stats import norm

    rows = []
    for a in above:
        for b in below:
            if a == b:
                continue
            se = float(np.sqrt(cov.loc[a, a] + cov.loc[b, b] - 2 * cov.loc[a, b]))
            diff = float(estimates[a] - estimates[b]) / se
            rows.append((f"{a} > {b}", diff, float(norm.sf(diff)), float(norm.cdf(diff))))
    names = [r[0] for r in rows]
    z, p_for, p_against = ([float(r[k]) for r in rows] for k in (1, 2, 3))
    order = np.argsort(p_against)
    m = len(p_against)
    holm = np.maximum.accumulate([min(1.0, (m - k) * p_against[i]) for k, i in enumerate(order)])
    p_reverse = float(holm[0]) if m else 1.0
    p_iut = max(p_for)
    verdict = "matches" if p_iut < alpha else ("differs" if p_reverse < alpha else "inconclusive")
    k = int(np.argmin(z))
    return {
        "verdict": verdict,
        "p_iut": p_iut,
        "p_reverse": p_reverse,
        "z_min": z[k],
        "closest": names[k],
        "z": pd.Series(z, index=names, dtype=float),
    }
