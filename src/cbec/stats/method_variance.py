"""Common-method variance with a marker item: the Lindell–Whitney adjustment and a marker-partialled joint model.

One informant answers every question, so an answering style (agreeing with everything, say) inflates every
correlation among self-reported scores: main effects look larger, interactions smaller (Siemsen, Roth &
Oliveira 2010). A *marker* item, unrelated in theory to the constructs but answered the same way, estimates
that shared part. Lindell & Whitney (2001) take the marker's smallest positive correlation with the
substantive variables, ``r_M``, as the method-induced correlation and adjust each correlation as
``r_A = (r_U - r_M) / (1 - r_M)``, tested by ``t = r_A / sqrt((1 - r_A^2) / (n - 3))`` (the adjustment as
implemented and tested in the R package DMAR, yelleknek/DMAR, ``common_method_marker``).

For the coupling models, which the adjustment of single correlations does not reach, the marker is
partialled out of every factor score and of the outcome before the products are formed and the joint model
is refitted: a coupling that survives has not been produced by a respondent's answering style as the marker
measures it.

Reference: Lindell, M. K., & Whitney, D. J. (2001). Accounting for common method variance in cross-sectional
research designs. *Journal of Applied Psychology* 86(1), 114–121.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cbec.stats.invariance import single_group_cfa
from cbec.stats.models import joint_interaction_model

__all__ = ["lindell_whitney", "marker_partialled_joint_model", "acquiescence_check"]


def lindell_whitney(scores: pd.DataFrame, outcome: pd.Series, marker: pd.Series) -> tuple[pd.DataFrame, float]:
    """Each factor's correlation with the outcome, before and after the marker adjustment.

    Returns
    -------
    (table, r_m): ``factor, r_marker, r_unadjusted, r_adjusted, t, p_value`` per factor, and ``r_M``, the
    marker's smallest positive correlation with the factors and the outcome (0 when none is positive).
    """
    data = pd.concat([scores, outcome.rename("_outcome"), marker.rename("_marker")], axis=1).dropna()
    n = len(data)
    corr = data.corr()
    with_marker = corr["_marker"].drop("_marker")
    positive = with_marker[with_marker > 0]
    r_m = float(positive.min()) if len(positive) else 0.0
    r_u = corr["_outcome"].drop(["_outcome", "_marker"])
    r_a = (r_u - r_m) / (1 - r_m)
    t = r_a / np.sqrt((1 - r_a**2) / (n - 3))
    table = pd.DataFrame(
        {
            "factor": r_u.index,
            "r_marker": with_marker.reindex(r_u.index).to_numpy(),
            "r_unadjusted": r_u.to_numpy(),
            "r_adjusted": r_a.to_numpy(),
            "t": t.to_numpy(),
            "p_value": 2 * stats.t.sf(np.abs(t.to_numpy()), n - 3),
        }
    )
    return table, r_m


def _residual(v: pd.Series, marker: pd.Series) -> pd.Series:
    x = marker - marker.mean()
    b = float((x * (v - v.mean())).sum() / (x * x).sum())
    return v - v.mean() - b * x


def marker_partialled_joint_model(
    scores: pd.DataFrame, y: pd.Series, controls: pd.DataFrame, marker: pd.Series, level: float = 0.95
) -> pd.DataFrame:
    """The joint model of all 21 couplings after partialling the marker out of every score and the outcome
    (firms without a marker answer are left out)."""
    keep = marker.notna()
    m = marker[keep].astype(float)
    s = pd.DataFrame({c: _residual(scores.loc[keep, c].astype(float), m) for c in scores.columns})
    out = _residual(y[keep].astype(float), m)
    out = (out - out.mean()) / out.std(ddof=1)
    return joint_interaction_model(s, out, controls[keep], level=level).assign(method="interaction_joint_marker")


def acquiescence_check(
    data: pd.DataFrame, blocks: dict[str, list[str]], reverse_items=(), alpha: float = 0.05
) -> pd.Series:
    """An acquiescence factor added to the CFA: how much of every answer is a tendency to agree.

    Acquiescence is agreement whatever the statement says, so in the raw answers it loads equally on every
    item; after reverse-worded items are recoded it loads with the opposite sign on them. The model adds one
    factor with a single loading ``m`` (``+m`` on forward items, ``-m`` on recoded reverse items), uncorrelated
    with the substantive factors: ``Sigma = L Phi L' + Theta + m^2 s s'`` (an unmeasured latent method factor
    with equal loadings, Podsakoff et al. 2003; Williams, Hartman & Cavazotte 2010). Fitted by maximum likelihood
    from the CFA solution (analytic gradient); ``Δχ²`` on 1 df against the CFA, and ``share = m^2 / mean item
    variance``. Rule, stated in advance: method variance is *flagged* when the factor is significant at
    ``alpha`` and carries more than a tenth of the items' variance. Why by hand: semopy fits the unconstrained
    method factor slowly and often to improper solutions (tried: 25 s and standardised loadings above 1).

    Returns
    -------
    Series: ``delta_chi2``, ``p_value``, ``share``, ``flagged``, ``converged``.
    """
    from scipy import optimize

    items = [i for ids in blocks.values() for i in ids]
    x = data[items].astype(float).dropna().to_numpy()
    n, p = x.shape
    s = np.cov(x, rowvar=False, bias=True)
    base = single_group_cfa(pd.DataFrame(x, columns=items), blocks)
    lam0, phi0, th0 = base["lam"], base["phi"], base["theta"]
    free = lam0 != 0
    for f, ids in enumerate(blocks.values()):
        free[items.index(ids[0]), f] = False
    k = len(blocks)
    tri = np.tril_indices(k)
    sign = np.array([-1.0 if i in set(reverse_items) else 1.0 for i in items])
    logdet_s = np.linalg.slogdet(s)[1]
    nl = int(free.sum())

    def objective(v: np.ndarray) -> tuple[float, np.ndarray]:
        lam = lam0.copy()
        lam[free] = v[:nl]
        phi = np.zeros((k, k))
        phi[tri] = v[nl : nl + len(tri[0])]
        phi = phi + np.tril(phi, -1).T
        th, m = v[nl + len(tri[0]) : -1], v[-1]
        sigma = lam @ phi @ lam.T + np.diag(th) + m * m * np.outer(sign, sign)
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(v)
        inv = np.linalg.inv(sigma)
        value = n * (2 * np.log(np.diag(chol)).sum() + np.trace(s @ inv) - logdet_s - p)
        g = n * (inv - inv @ s @ inv)
        d_phi = (lam.T @ g @ lam) * np.where(np.eye(k, dtype=bool), 1.0, 2.0)
        grad = np.concatenate([(2 * g @ lam @ phi)[free], d_phi[tri], np.diag(g), [2 * m * sign @ g @ sign]])
        return value, grad

    v0 = np.concatenate([lam0[free], phi0[tri], th0, [0.3]])
    bounds = [(None, None)] * (len(v0) - 1) + [(0, None)]
    res = optimize.minimize(
        objective,
        v0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 20_000, "maxfun": 40_000, "ftol": 1e-14, "gtol": 1e-8},
    )
    delta = max(float(base["chi2"] - res.fun), 0.0)
    share = float(res.x[-1] ** 2 / np.mean(np.diag(s)))
    p_value = float(stats.chi2.sf(delta, 1))
    return pd.Series(
        {
            "delta_chi2": delta,
            "p_value": p_value,
            "share": share,
            "flagged": bool(p_value < alpha and share > 0.10),
            "converged": bool(res.success),
        }
    )
