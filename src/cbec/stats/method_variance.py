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

from cbec.stats.models import joint_interaction_model

__all__ = ["lindell_whitney", "marker_partialled_joint_model"]


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
