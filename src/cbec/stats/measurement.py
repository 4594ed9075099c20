"""Measurement model: reliability, confirmatory factor analysis, validity, factor scores.

Each statistic is a function of a DataFrame of item scores (reverse items already recoded), most of them
with a ``blocks`` mapping ``{scale name: [item ids]}``. Tables come back as DataFrames; single results as a
Series (``cronbach_alpha``, ``sampling_adequacy``, ``compare_nested`` …) or a float (``composite_reliability``,
``average_variance_extracted``, ``omega_total``, ``srmr``), as each docstring says.

CFA is fitted with semopy (maximum likelihood, Wishart objective, BFGS: it reproduces lavaan's
Holzinger–Swineford solution to 1e-3, see ``tests/test_measurement_published.py``). semopy reports
neither SRMR nor the RMSEA confidence interval, so both are computed here from the fitted model.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize, stats

from cbec.io.instrument import Instrument

if TYPE_CHECKING:  # semopy takes 1.9 s to import (sympy); only the CFA functions load it
    import semopy

NORMALISATION_RULES = ("scale", "minmax", "minmax_0.01_0.99")


# --- reliability ---------------------------------------------------------------------------------


def cronbach_alpha(items: pd.DataFrame, confidence: float = 0.95) -> pd.Series:
    """Cronbach's alpha with Feldt's F-based confidence interval.

    ``alpha = k/(k-1) * (1 - sum(var_i) / var(total))`` on complete rows.

    Parameters
    ----------
    items : DataFrame
        One column per item, one row per respondent; rows with a missing item are dropped.
    confidence : float

    Returns
    -------
    Series with ``alpha, ci_low, ci_high, n, k``.

    References
    ----------
    Cronbach, L. J. (1951). Psychometrika 16, 297–334.
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Applied Psychological Measurement 11, 93–103.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 2, 3], "q2": [2, 2, 3, 5, 5, 1, 3], "q3": [1, 3, 3, 4, 4, 2, 2]})
    >>> cronbach_alpha(items).round(3)[["alpha", "ci_low", "ci_high"]].tolist()
    [0.935, 0.758, 0.988]
    """
    x = items.dropna().to_numpy(dtype=float)
    n, k = x.shape
    if k < 2:
        raise ValueError("alpha needs at least two items")
    total_var = x.sum(axis=1).var(ddof=1)
    alpha = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - confidence) / 2
    low = 1 - (1 - alpha) * stats.f.isf(tail, df1, df2)
    high = 1 - (1 - alpha) * stats.f.isf(1 - tail, df1, df2)
    return pd.Series({"alpha": alpha, "ci_low": low, "ci_high": high, "n": n, "k": k})


def item_total_table(data: pd.DataFrame, blocks: dict[str, list[str]]) -> pd.DataFrame:
    """Corrected item-total correlation and alpha-if-item-deleted for every item of every block."""
    rows = []
    for name, ids in blocks.items():
        block = data[ids].dropna()
        for item in ids:
            rest = [i for i in ids if i != item]
            r = np.corrcoef(block[item], block[rest].sum(axis=1))[0, 1]
            a_del = cronbach_alpha(block[rest])["alpha"] if len(rest) >= 2 else np.nan
            rows.append({"block": name, "item": item, "item_total_r": r, "alpha_if_deleted": a_del})
    return pd.DataFrame(rows)


def composite_reliability(std_loadings: pd.Series) -> float:
    """CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)) from standardised loadings (Fornell & Larcker 1981)."""
    lam = std_loadings.to_numpy(dtype=float)
    s = lam.sum() ** 2
    return float(s / (s + (1 - lam**2).sum()))


def average_variance_extracted(std_loadings: pd.Series) -> float:
    """AVE = mean of squared standardised loadings (Fornell & Larcker 1981)."""
    lam = std_loadings.to_numpy(dtype=float)
    return float((lam**2).mean())


def omega_total(items: pd.DataFrame) -> float:
    """McDonald's omega from a one-factor CFA of the block (needs at least three items).

    ``omega = (sum l)^2 psi / ((sum l)^2 psi + sum theta)`` with unstandardised loadings ``l``, factor
    variance ``psi`` and residual variances ``theta`` (McDonald 1999, *Test Theory*, ch. 6; Raykov 2001).
    """
    ids = list(items.columns)
    if len(ids) < 3:
        return float("nan")
    fit = fit_cfa(items, {"F": ids})
    est = fit.estimates
    lam = est.loc[est["op"] == "=~", "estimate"].to_numpy()
    var = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])].set_index("lhs")["estimate"]
    s = lam.sum() ** 2 * var["F"]
    return float(s / (s + var[ids].sum()))


# --- CFA -----------------------------------------------------------------------------------------


@dataclass
class CFAResult:
    """A fitted CFA: tidy estimates, fit indices, latent correlations, and the semopy model."""

    estimates: pd.DataFrame
    fit: pd.Series
    latent_corr: pd.DataFrame
    model: semopy.Model
    blocks: dict[str, list[str]]

    @property
    def loadings(self) -> pd.DataFrame:
        """Standardised loadings with standard errors: ``factor, item, std_loading, estimate, std_error, z, p``."""
        e = self.estimates[self.estimates["op"] == "=~"]
        return e.rename(columns={"lhs": "factor", "rhs": "item"})[
            ["factor", "item", "std_loading", "estimate", "std_error", "z", "p_value"]
        ].reset_index(drop=True)


def cfa_syntax(blocks: dict[str, list[str]], second_order: str | None = None) -> str:
    """lavaan-style model text: one ``factor =~ items`` line per block, optionally a second-order factor."""
    lines = [f"{name} =~ {' + '.join(ids)}" for name, ids in blocks.items()]
    if second_order:
        lines.append(f"{second_order} =~ {' + '.join(blocks)}")
    return "\n".join(lines)


def fit_cfa(data: pd.DataFrame, blocks: dict[str, list[str]], second_order: str | None = None) -> CFAResult:
    """Fit a CFA by maximum likelihood and return estimates and fit indices.

    Parameters
    ----------
    data : DataFrame
        Item scores; rows with missing items are dropped (listwise).
    blocks : dict
        ``{factor: [items]}``.
    second_order : str, optional
        Name of a second-order factor loading on every first-order factor.

    Returns
    -------
    CFAResult

    References
    ----------
    Hu, L., & Bentler, P. M. (1999). Structural Equation Modeling 6, 1–55 (fit cut-offs).
    """
    items = [i for ids in blocks.values() for i in ids]
    x = data[items].dropna().astype(float)
    desc = cfa_syntax(blocks, second_order)
    import semopy

    model = semopy.Model(desc)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # An improper solution (e.g. a scale of pure noise) gives NaN standardised values; they are
        # reported as such and fail the validity checks, so numpy's warnings add nothing.
        # semopy hands variance bounds to every solver; BFGS ignores them and scipy says so. The
        # bounds are not needed: a negative variance (Heywood case) shows up in the estimates.
        warnings.filterwarnings("ignore", message="Method BFGS cannot handle bounds", category=RuntimeWarning)
        model.fit(x, obj="MLW", solver="BFGS")
        ins = model.inspect(std_est=True)
    ops = {"~": "=~", "~~": "~~"}
    est = pd.DataFrame(
        {
            # semopy writes a loading as "item ~ factor"; turn it round to lavaan's "factor =~ item".
            "lhs": np.where(ins["op"] == "~", ins["rval"], ins["lval"]),
            "op": ins["op"].map(ops),
            "rhs": np.where(ins["op"] == "~", ins["lval"], ins["rval"]),
            "estimate": pd.to_numeric(ins["Estimate"], errors="coerce"),
            "std_loading": pd.to_numeric(ins["Est. Std"], errors="coerce"),
            "std_error": pd.to_numeric(ins["Std. Err"], errors="coerce"),
            "z": pd.to_numeric(ins["z-value"], errors="coerce"),
            "p_value": pd.to_numeric(ins["p-value"], errors="coerce"),
        }
    )
    fit = fit_indices(model, n=len(x))
    latents = list(blocks)
    lat_cov = _latent_covariance(est, latents)
    var = np.diag(lat_cov)
    # A non-positive latent variance is an improper solution: its correlations are undefined (NaN).
    sd = np.where(var > 0, np.sqrt(np.abs(var)), np.nan)
    corr = pd.DataFrame(lat_cov / np.outer(sd, sd), index=latents, columns=latents)
    return CFAResult(estimates=est, fit=fit, latent_corr=corr, model=model, blocks=blocks)


def _latent_covariance(est: pd.DataFrame, latents: list[str]) -> np.ndarray:
    cov = np.full((len(latents), len(latents)), np.nan)
    pos = {name: i for i, name in enumerate(latents)}
    for r in est[est["op"] == "~~"].itertuples():
        if r.lhs in pos and r.rhs in pos:
            cov[pos[r.lhs], pos[r.rhs]] = cov[pos[r.rhs], pos[r.lhs]] = r.estimate
    return cov


def rmsea_ci(chi2: float, df: int, n: int, level: float = 0.90) -> tuple[float, float, float]:
    """RMSEA with its confidence interval by inverting the non-central chi-square (Steiger 1990).

    ``RMSEA = sqrt(max(chi2 - df, 0) / (df * n))``; the bounds are ``sqrt(lambda / (df * n))`` for the
    non-centralities ``lambda`` at which ``chi2`` sits at the upper and lower tail quantiles. ``n`` is the
    sample size as lavaan uses it.
    """
    point = np.sqrt(max(chi2 - df, 0.0) / (df * n))
    upper_tail = (1 + level) / 2  # 0.95 for a 90% interval
    lower_tail = (1 - level) / 2

    def solve(target: float) -> float:
        f = lambda lam: stats.ncx2.cdf(chi2, df, lam) - target if lam > 0 else stats.chi2.cdf(chi2, df) - target
        if f(1e-9) < 0:  # even a central chi-square puts chi2 below the quantile
            return 0.0
        hi = max(chi2, 1.0)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 1e-9, hi, xtol=1e-10)

    lam_low, lam_high = solve(upper_tail), solve(lower_tail)
    return float(point), float(np.sqrt(lam_low / (df * n))), float(np.sqrt(lam_high / (df * n)))


def srmr(sample_cov: np.ndarray, implied_cov: np.ndarray) -> float:
    """Standardised root mean square residual (Bentler's form, as lavaan's ``srmr``).

    Residual covariances divided by the observed standard deviations, averaged in square over the
    lower triangle including the diagonal.
    """
    s, sig = np.asarray(sample_cov), np.asarray(implied_cov)
    d = np.sqrt(np.diag(s))
    resid = (s - sig) / np.outer(d, d)
    tri = np.tril_indices_from(resid)
    return float(np.sqrt(np.mean(resid[tri] ** 2)))


def fit_indices(model: semopy.Model, n: int) -> pd.Series:
    """chi2, df, chi2/df, CFI, TLI, RMSEA with 90% CI and SRMR of a fitted semopy model.

    semopy's AIC/BIC are left out: they are not on lavaan's likelihood scale and ranked a one-factor
    model above a seven-factor one whose chi-square was 5,000 lower on our data.
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # a saturated model (df = 0) has no RMSEA/TLI
        import semopy

        st = semopy.calc_stats(model).iloc[0]
    chi2, df = float(st["chi2"]), int(st["DoF"])
    rmsea, lo, hi = rmsea_ci(chi2, df, n) if df > 0 else (np.nan, np.nan, np.nan)
    implied = model.calc_sigma()[0]
    # semopy keeps the ML (divide-by-n) sample covariance, the one lavaan's SRMR uses.
    sample = model.mx_cov
    return pd.Series(
        {
            "n": n,
            "chi2": chi2,
            "df": df,
            "chi2_df": chi2 / df if df > 0 else np.nan,
            "p_value": float(st["chi2 p-value"]),
            "cfi": float(st["CFI"]),
            "tli": float(st["TLI"]),
            "rmsea": rmsea,
            "rmsea_ci_low": lo,
            "rmsea_ci_high": hi,
            "srmr": srmr(sample, implied),
        }
    )


#: Conventional cut-offs (Hu & Bentler 1999; chi2/df after Kline 2016).
FIT_CUTOFFS = {
    "chi2_df": ("<=", 3.0),
    "cfi": (">=", 0.95),
    "tli": (">=", 0.95),
    "rmsea": ("<=", 0.06),
    "srmr": ("<=", 0.08),
}


def fit_table(fits: dict[str, pd.Series]) -> pd.DataFrame:
    """Fit indices of several models side by side, with the cut-off and whether each model meets it."""
    rows = []
    for idx, (op, cut) in FIT_CUTOFFS.items():
        row: dict[str, object] = {"index": idx, "cut_off": f"{op} {cut}"}
        for name, f in fits.items():
            v = f[idx]
            row[name] = v
            row[f"{name}_ok"] = bool(v <= cut) if op == "<=" else bool(v >= cut)
        rows.append(row)
    return pd.DataFrame(rows)


def compare_nested(restricted: CFAResult, full: CFAResult) -> pd.Series:
    """Chi-square difference test of a restricted model against the model it is nested in."""
    d_chi2 = restricted.fit["chi2"] - full.fit["chi2"]
    d_df = int(restricted.fit["df"] - full.fit["df"])
    p = float(stats.chi2.sf(d_chi2, d_df)) if d_df > 0 else float("nan")
    return pd.Series({"delta_chi2": d_chi2, "delta_df": d_df, "p_value": p})


# --- validity ------------------------------------------------------------------------------------


def reliability_table(
    data: pd.DataFrame,
    cfa: CFAResult,
    sub_blocks: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """Alpha (with CI), omega, CR and AVE for every factor and, optionally, every sub-dimension.

    CR and AVE use the standardised loadings of ``cfa`` (a sub-dimension uses its items' loadings on
    their factor). Omega comes from a separate one-factor model of the block and needs three or more
    items, so it is empty for two-item sub-dimensions.
    """
    load = cfa.loadings.set_index("item")["std_loading"]
    rows = []
    for level, blocks in (("factor", cfa.blocks), ("subdimension", sub_blocks or {})):
        for name, ids in blocks.items():
            a = cronbach_alpha(data[ids])
            rows.append(
                {
                    "level": level,
                    "scale": name,
                    "k": len(ids),
                    "alpha": a["alpha"],
                    "alpha_ci_low": a["ci_low"],
                    "alpha_ci_high": a["ci_high"],
                    "omega": omega_total(data[ids]),
                    "cr": composite_reliability(load[ids]),
                    "ave": average_variance_extracted(load[ids]),
                }
            )
    return pd.DataFrame(rows)


def fornell_larcker(cfa: CFAResult) -> pd.DataFrame:
    """Latent correlations with sqrt(AVE) on the diagonal (Fornell & Larcker 1981). Whether the criterion
    holds — each sqrt(AVE) above the factor's correlations with every other factor — is
    :func:`fornell_larcker_holds`."""
    load = cfa.loadings
    ave = load.groupby("factor", sort=False)["std_loading"].apply(lambda s: float((s**2).mean()))
    m = cfa.latent_corr.copy()
    for f in m.index:
        m.loc[f, f] = np.sqrt(ave[f])
    return m


def fornell_larcker_holds(cfa: CFAResult) -> pd.Series:
    m = fornell_larcker(cfa)
    out = {}
    for f in m.index:
        others = m.loc[f].drop(f).abs()
        out[f] = bool(m.loc[f, f] > others.max())
    return pd.Series(out, name="fornell_larcker_holds")


def htmt(data: pd.DataFrame, blocks: dict[str, list[str]]) -> pd.DataFrame:
    """Heterotrait–monotrait ratio of correlations for every pair of blocks (Henseler et al. 2015).

    ``HTMT_ij = mean(r between items of i and j) / sqrt(mean(r within i) * mean(r within j))``,
    using the absolute item correlations. Values above 0.85 (strict) or 0.90 (lenient) signal that two
    scales may not be distinct.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). Journal of the Academy of Marketing Science 43, 115–135.

    Examples
    --------
    Two independent factors measured by three items each are far from the 0.85 threshold:

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=(300, 2))
    >>> d = pd.DataFrame({f"a{i}": f[:, 0] + rng.normal(size=300) for i in range(3)}
    ...                  | {f"b{i}": f[:, 1] + rng.normal(size=300) for i in range(3)})
    >>> round(float(htmt(d, {"A": ["a0", "a1", "a2"], "B": ["b0", "b1", "b2"]}).loc["A", "B"]), 2)
    0.09
    """
    names = list(blocks)
    r = data[[i for ids in blocks.values() for i in ids]].corr().abs()

    def mono(ids):
        sub = r.loc[ids, ids].to_numpy()
        return sub[np.triu_indices_from(sub, k=1)].mean()

    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            hetero = r.loc[blocks[a], blocks[b]].to_numpy().mean()
            out.loc[a, b] = out.loc[b, a] = hetero / np.sqrt(mono(blocks[a]) * mono(blocks[b]))
    return out


def htmt_flags(matrix: pd.DataFrame, strict: float = 0.85, lenient: float = 0.90) -> pd.DataFrame:
    """Tidy pairs of an HTMT matrix with flags above the strict and lenient thresholds."""
    names = list(matrix.index)
    rows = [
        {
            "scale_a": a,
            "scale_b": b,
            "htmt": matrix.loc[a, b],
            f"above_{strict}": matrix.loc[a, b] > strict,
            f"above_{lenient}": matrix.loc[a, b] > lenient,
        }
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]
    return pd.DataFrame(rows)


def sampling_adequacy(data: pd.DataFrame) -> pd.Series:
    """Kaiser–Meyer–Olkin measure and Bartlett's test of sphericity (via factor_analyzer)."""
    from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo

    x = data.dropna().astype(float)
    chi2, p = calculate_bartlett_sphericity(x)
    _, kmo = calculate_kmo(x)
    k = x.shape[1]
    return pd.Series(
        {"kmo": float(kmo), "bartlett_chi2": float(chi2), "bartlett_df": k * (k - 1) // 2, "bartlett_p": float(p)}
    )


def common_factor_comparison(data: pd.DataFrame, cfa: CFAResult) -> pd.Series:
    """Common-method check by CFA: one factor for all items against the fitted multi-factor model.

    If a single common factor (method variance) explained the item covariances, the one-factor model
    would fit about as well; a large, significant chi-square difference says it does not
    (Podsakoff et al. 2003, Table 4).
    """
    items = [i for ids in cfa.blocks.values() for i in ids]
    single = fit_cfa(data, {"common": items})
    out = compare_nested(single, cfa)
    out["single_factor_cfi"] = single.fit["cfi"]
    out["single_factor_rmsea"] = single.fit["rmsea"]
    return out


def harman_single_factor(data: pd.DataFrame) -> pd.Series:
    """Harman's test: share of total variance on the first unrotated principal component.

    More than half is the usual warning sign of common-method variance (Podsakoff et al. 2003).
    """
    x = data.dropna().astype(float)
    eig = np.linalg.eigvalsh(np.corrcoef(x.to_numpy(), rowvar=False))[::-1]
    share = float(eig[0] / eig.sum())
    return pd.Series({"first_factor_share": share, "above_half": share > 0.5, "n_eigen_above_1": int((eig > 1).sum())})


# --- scores ----------------------------------------------------------------------------------------


def mean_scores(data: pd.DataFrame, blocks: dict[str, list[str]]) -> pd.DataFrame:
    """Mean of each block's items per respondent (reverse items must already be recoded)."""
    return pd.DataFrame({name: data[ids].astype(float).mean(axis=1) for name, ids in blocks.items()}, index=data.index)


def cfa_scores(cfa: CFAResult, data: pd.DataFrame) -> pd.DataFrame:
    """Regression (Thurstone) factor scores from a fitted CFA, standardised to mean 0, sd 1."""
    items = [i for ids in cfa.blocks.values() for i in ids]
    sc = cfa.model.predict_factors(data[items].astype(float))
    sc = sc[list(cfa.blocks)]
    sc.index = data.index
    return (sc - sc.mean()) / sc.std(ddof=0)


def normalise(scores: pd.DataFrame, rule: str = "scale", points: int = 7) -> pd.DataFrame:
    """Map factor scores to indices U in [0, 1] for the coupling models.

    Rules
    -----
    ``scale``            ``(x - 1) / (k - 1)`` for means on a k-point scale: comparable across samples.
    ``minmax``           ``(x - min) / (max - min)`` within the sample: the usual choice in
                         coupling-coordination studies, but it puts one firm at exactly 0.
    ``minmax_0.01_0.99`` ``0.01 + 0.98 * minmax``: keeps every index positive so that products and
                         logarithms in the coupling degree stay defined.
    """
    if rule == "scale":
        return (scores - 1) / (points - 1)
    mm = (scores - scores.min()) / (scores.max() - scores.min())
    if rule == "minmax":
        return mm
    if rule == "minmax_0.01_0.99":
        return 0.01 + 0.98 * mm
    raise ValueError(f"unknown normalisation rule {rule!r}; use one of {NORMALISATION_RULES}")


def factor_blocks(inst: Instrument) -> dict[str, list[str]]:
    """The seven factor blocks of the instrument."""
    return dict(inst.factor_items)


def compare_with_truth(cfa: CFAResult, truth_loadings: dict[str, float], z: float = 1.959964) -> pd.DataFrame:
    """Recovered standardised loadings against the planted ones, with Wald intervals.

    The standard error of a standardised loading is approximated by the unstandardised SE times the
    ratio of standardised to unstandardised estimate (the delta method for a fixed scaling).
    Marker loadings (fixed to 1) carry no SE; their interval uses the median SE of the other items.
    """
    ld = cfa.loadings.copy()
    ratio = ld["std_loading"] / ld["estimate"]
    se_std = ld["std_error"] * ratio
    se_std = se_std.fillna(se_std.median())
    ld["std_se"] = se_std
    ld["ci_low"] = ld["std_loading"] - z * se_std
    ld["ci_high"] = ld["std_loading"] + z * se_std
    ld["truth"] = ld["item"].map(truth_loadings)
    ld["covered"] = (ld["truth"] >= ld["ci_low"]) & (ld["truth"] <= ld["ci_high"])
    return ld[["factor", "item", "std_loading", "std_se", "ci_low", "ci_high", "truth", "covered"]]


def scale_verdicts(
    reliability: pd.DataFrame,
    fl_holds: pd.Series,
    htmt_matrix: pd.DataFrame,
    names: dict[str, str],
    htmt_cut: float = 0.85,
) -> pd.DataFrame:
    """One plain-language verdict per factor, built from its numbers (alpha, CR, AVE, FL, HTMT)."""
    rows = []
    fac = reliability[reliability["level"] == "factor"].set_index("scale")
    for f, r in fac.iterrows():
        h = htmt_matrix.loc[f].drop(f)
        ok_rel = r["alpha"] >= 0.70 and r["cr"] >= 0.70
        ok_conv = r["ave"] >= 0.50
        ok_disc = bool(fl_holds.get(f, False)) and bool(h.max() <= htmt_cut)
        verdict = "holds" if (ok_rel and ok_conv and ok_disc) else ("holds with caveats" if ok_rel else "fails")
        text = (
            f"**{names.get(f, f)} ({f})** — alpha {r['alpha']:.2f} (95% CI {r['alpha_ci_low']:.2f}–"
            f"{r['alpha_ci_high']:.2f}), CR {r['cr']:.2f}, AVE {r['ave']:.2f}; highest HTMT {h.max():.2f} "
            f"(with {h.idxmax()}). "
        )
        text += "Reliable; " if ok_rel else "Not reliable enough (alpha or CR below 0.70); "
        text += (
            "the items share most of their variance with the factor; "
            if ok_conv
            else "the factor explains less than half of its items' variance (AVE < 0.50); "
        )
        text += (
            "and it is distinct from the other factors."
            if ok_disc
            else "and it is not clearly distinct from every other factor."
        )
        rows.append(
            {
                "factor": f,
                "verdict": verdict,
                "reliable": ok_rel,
                "convergent": ok_conv,
                "discriminant": ok_disc,
                "text": text,
            }
        )
    return pd.DataFrame(rows)


def factor_indices(data: pd.DataFrame, inst: Instrument, rule: str = "scale") -> pd.DataFrame:
    """Mean-of-items factor scores of the seven factors mapped to [0, 1] by ``rule`` (see :func:`normalise`)."""
    return normalise(mean_scores(data, factor_blocks(inst)), rule=rule, points=inst.likert_points)
