"""Estimates that cannot be right: flagged beside the number, never printed as a plain result.

A standardised loading or path beyond ±1, an R² outside [0, 1], a negative variance (a Heywood case), a
latent correlation matrix that is not positive definite, or a fit that did not converge is an improper
solution: the model does not describe these data, and the number is not an estimate of anything
(Kolenikov & Bollen 2012, Sociological Methods & Research 41, 124–167; Dijkstra & Henseler 2015 for PLSc,
where disattenuation can push R² above 1). Why hand-written: semopy and our PLS report the numbers but do not
judge them; the checks are one comparison each.

>>> import pandas as pd
>>> bounds_flags(pd.Series({"a": 0.5, "b": 1.049}), 0, 1, "R²").to_dict()
{'a': '', 'b': 'R² 1.049 outside [0, 1]: improper solution'}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["bounds_flags", "cfa_problems", "flag_column"]


def bounds_flags(values: pd.Series, low: float, high: float, what: str) -> pd.Series:
    """For each value: empty when inside [low, high] (or missing), else the reason it cannot be right."""
    v = pd.to_numeric(values, errors="coerce")
    bad = (v < low - 1e-9) | (v > high + 1e-9)
    return pd.Series(
        [
            f"{what} {x:.3f} outside [{low:g}, {high:g}]: improper solution" if b else ""
            for x, b in zip(v, bad, strict=True)
        ],
        index=values.index,
        dtype="string",
    )


def flag_column(frame: pd.DataFrame, column: str, low: float, high: float, what: str) -> pd.DataFrame:
    """``frame`` with a ``flag`` column saying which values of ``column`` cannot be right (joined with any
    flag already there)."""
    new = bounds_flags(frame[column], low, high, what)
    old = frame["flag"].astype("string").fillna("") if "flag" in frame.columns else pd.Series("", index=frame.index)
    joined = [("; ".join(x for x in (a, b) if x)) for a, b in zip(old, new, strict=True)]
    return frame.assign(flag=pd.array(joined, dtype="string"))


def cfa_problems(cfa) -> list[str]:
    """What makes a fitted CFA (:class:`cbec.stats.measurement.CFAResult`) an improper solution, in words;
    an empty list for a proper one."""
    est = cfa.estimates
    out: list[str] = []
    var = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])]
    neg = var[var["estimate"] < 0]
    if len(neg):
        out.append("negative variance (Heywood case) for " + ", ".join(neg["lhs"].astype(str)))
    load = est[est["op"] == "=~"]
    over = load[load["std_loading"].abs() > 1 + 1e-9]
    if len(over):
        out.append("standardised loading beyond ±1 for " + ", ".join(over["rhs"].astype(str)))
    if load["std_loading"].isna().any():
        out.append("standardised loadings undefined (non-positive variance)")
    corr = cfa.latent_corr.to_numpy(float)
    if corr.shape[0] > 1:
        if np.isnan(corr).any():
            out.append("latent correlations undefined")
        elif np.linalg.eigvalsh((corr + corr.T) / 2).min() <= 0:
            out.append("latent correlation matrix not positive definite")
        elif (np.abs(corr[np.triu_indices_from(corr, 1)]) > 1).any():
            out.append("latent correlation beyond ±1")
    if not np.isfinite(float(cfa.fit.get("chi2", np.nan))):
        out.append("the fit did not converge (no finite chi-square)")
    return out
