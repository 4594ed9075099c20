"""Performance models for all 21 factor pairs: coordination degree, interaction, response surface.

Three readings of "two factors are coupled", each estimated for every pair with the same controls:

``coordination``  performance on the pair's coupling coordination degree D (the article's tradition),
                  holding the pair's two main effects fixed: D is mostly level, so without them it
                  measures level, not coupling (:func:`coordination_unconditional` shows the difference).
``interaction``   performance on both standardised factors and their product: coupling beyond levels.
``rsa``           polynomial regression with response-surface tests (Edwards & Parry 1993): a1–a4
                  along the lines of congruence and incongruence. No Python package offers this.

Inference: HC3 standard errors (Long & Ervin 2000), percentile bootstrap intervals, VIFs, Holm and
Benjamini–Hochberg adjustment across the 21 pairs of a method.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.outliers_influence import variance_inflation_factor
from statsmodels.tools.tools import add_constant

from cbec.stats import coupling
from cbec.stats.regression import bootstrap_ols, fit_ols

CONTROL_COLUMNS = ("size_class", "business_model", "main_market", "years_cbec", "stage")


def control_matrix(data: pd.DataFrame, columns=CONTROL_COLUMNS) -> pd.DataFrame:
    """Dummy-coded controls (first level of each category dropped) plus numeric ones, as floats."""
    cols = [c for c in columns if c in data.columns]
    if not cols:  # a study without profile controls
        return pd.DataFrame(index=data.index, dtype=float)
    cats = [c for c in cols if not pd.api.types.is_numeric_dtype(data[c])]
    out = pd.get_dummies(data[cols], columns=cats, drop_first=True, dtype=float)
    out = out.astype(float)
    # A control with no variation (e.g. all firms large in a subgroup) carries no information.
    return out.loc[:, out.std() > 0]


@dataclass
class AnalysisData:
    """The inputs every performance model uses, derived once from clean survey data."""

    data: pd.DataFrame
    scores: pd.DataFrame  # factor means on the 1..k scale
    indices: pd.DataFrame  # scores mapped to [0, 1]
    y: pd.Series  # standardised subjective performance
    controls: pd.DataFrame  # dummy-coded profile controls


def prepare(data: pd.DataFrame, inst, normalisation: str = "scale", control_columns=CONTROL_COLUMNS) -> AnalysisData:
    """Factor scores, indices, standardised performance and controls from clean data (reverse items recoded).

    On a continuous scale there are no answer points to map to [0, 1], so the indices use the sample's range
    (``minmax``) whatever ``normalisation`` says. ``control_columns``: the profile variables held fixed (the
    article's by default; a researcher's study names its own, or none)."""
    from cbec.stats import measurement as ms

    scores = ms.mean_scores(data, ms.factor_blocks(inst))
    indices = (
        ms.normalise(scores, "minmax") if inst.continuous else ms.normalise(scores, normalisation, inst.likert_points)
    )
    return AnalysisData(
        data=data,
        scores=scores,
        indices=indices,
        y=performance_score(data, inst.performance_item_ids),
        controls=control_matrix(data, control_columns),
    )


def performance_score(data: pd.DataFrame, items: list[str]) -> pd.Series:
    """Standardised mean of the subjective performance items (mean 0, sd 1)."""
    s = data[items].astype(float).mean(axis=1)
    return (s - s.mean()) / s.std(ddof=1)


def standardise(x: pd.DataFrame) -> pd.DataFrame:
    return (x - x.mean()) / x.std(ddof=1)


def _bootstrap_coef(
    y: np.ndarray, x: np.ndarray, col: int, n_boot: int, rng: np.random.Generator, contrast: np.ndarray | None = None
) -> np.ndarray:
    """Case-resampling bootstrap of one coefficient (or a linear contrast), every draw solved at once.

    ``x`` includes the constant. The draws' row indices are taken from ``rng`` in one block, which gives the
    same indices as drawing them one resample at a time; :func:`cbec.stats.regression.bootstrap_ols` then
    solves all resamples' normal equations together (measured in ``make bench`` against a refit loop).
    """
    n = len(y)
    idx = rng.integers(0, n, size=(n_boot, n))
    cols = [f"x{j}" for j in range(x.shape[1] - 1)]
    beta = bootstrap_ols(pd.Series(y), pd.DataFrame(x[:, 1:], columns=cols), n_boot, indices=idx).to_numpy()
    return beta @ contrast if contrast is not None else beta[:, col]


def _percentile_ci(draws: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    return float(np.percentile(draws, tail)), float(np.percentile(draws, 100 - tail))


def pair_list(factors) -> list[tuple[str, str]]:
    return list(combinations(list(factors), 2))


def interaction_model(y: pd.Series, z: pd.DataFrame, a: str, b: str, controls: pd.DataFrame):
    """OLS of y on standardised factors a, b, their product and controls.

    The product of two standardised factors is not itself centred: its mean is their correlation r_ab, which
    the constant absorbs."""
    x = pd.concat([z[[a, b]], (z[a] * z[b]).rename(f"{a}x{b}"), controls], axis=1)
    return fit_ols(y, x), x


def rsa_model(
    y: pd.Series,
    centred: pd.DataFrame,
    a: str,
    b: str,
    controls: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Polynomial regression y ~ a + b + a^2 + ab + b^2 + controls and its response-surface tests.

    With ``b1..b5`` the coefficients of a, b, a^2, ab, b^2 (predictors centred at the scale midpoint):

    * ``a1 = b1 + b2``, ``a2 = b3 + b4 + b5``: slope and curvature along the line of congruence (a = b);
    * ``a3 = b1 - b2``, ``a4 = b3 - b4 + b5``: slope and curvature along the line of incongruence (a = -b).

    A negative ``a4`` means performance falls as the two factors move apart — not, by itself, that fit matters
    (see :func:`rsa_fit_pattern`). Each ``a_k`` is a linear contrast tested with the HC3 covariance. Returns the
    contrast table and the design (columns ``b1..b5`` and the controls, no constant), which the bootstrap
    re-uses.

    References
    ----------
    Edwards, J. R., & Parry, M. E. (1993). Academy of Management Journal 36, 1577–1613.
    Shanock, L. R. et al. (2010). Journal of Business and Psychology 25, 543–554.
    """
    pa, pb = centred[a], centred[b]
    # The polynomial terms are named b1..b5 (as the RSA literature writes them), so contrasts read by name.
    x = pd.concat(
        [
            pa.rename("b1"),
            pb.rename("b2"),
            (pa**2).rename("b3"),
            (pa * pb).rename("b4"),
            (pb**2).rename("b5"),
            controls,
        ],
        axis=1,
    )
    res = fit_ols(y, x)
    contrasts = {
        "a1": {"b1": 1, "b2": 1},
        "a2": {"b3": 1, "b4": 1, "b5": 1},
        "a3": {"b1": 1, "b2": -1},
        "a4": {"b3": 1, "b4": -1, "b5": 1},
    }
    rows = []
    for name, weights in contrasts.items():
        vec = np.array([float(weights.get(term, 0)) for term in res.params.index])
        est = float(vec @ res.params)
        se = float(np.sqrt(vec @ res.cov_params().to_numpy() @ vec))
        t = est / se
        rows.append(
            {
                "term": name,
                "estimate": est,
                "std_error": se,
                "t": t,
                "p_value": float(2 * stats.norm.sf(abs(t))),
                "contrast": vec,
            }
        )
    return pd.DataFrame(rows), x


def rsa_surface(
    y: pd.Series,
    centred: pd.DataFrame,
    a: str,
    b: str,
    controls: pd.DataFrame,
    half_width: float = 2.0,
    steps: int = 41,
) -> pd.DataFrame:
    """Predicted performance over a grid of the two factors (centred at the scale midpoint), controls at
    their means: the fitted response surface of :func:`rsa_model`."""
    _, x = rsa_model(y, centred, a, b, controls)
    beta = fit_ols(y, x).params
    ctrl = float(controls.mean() @ beta[controls.columns]) if controls.shape[1] else 0.0
    g = np.linspace(-half_width, half_width, steps)
    ga, gb = np.meshgrid(g, g, indexing="ij")
    pred = (
        beta["const"]
        + beta["b1"] * ga
        + beta["b2"] * gb
        + beta["b3"] * ga**2
        + beta["b4"] * ga * gb
        + beta["b5"] * gb**2
        + ctrl
    )
    return pd.DataFrame({a: ga.ravel(), b: gb.ravel(), "predicted": pred.ravel()})


def fit_all_pairs(
    indices: pd.DataFrame,
    scores: pd.DataFrame,
    y: pd.Series,
    controls: pd.DataFrame,
    n_boot: int = 999,
    seed: int = 2026,
    points: int = 7,
    level: float = 0.95,
) -> pd.DataFrame:
    """Estimate every method for every pair; one tidy row per (pair, method).

    Parameters
    ----------
    indices : DataFrame
        Factor indices U in [0, 1] (for C and D).
    scores : DataFrame
        Factor mean scores on the 1..points scale (for the interaction and RSA models).
    y : Series
        Standardised performance.
    controls : DataFrame
        From :func:`control_matrix`.
    n_boot : int
        Bootstrap replications for the percentile intervals (0 skips the bootstrap).

    Returns
    -------
    DataFrame with ``factor_a, factor_b, method, estimate, std_error, t, p_value, ci_low, ci_high,
    boot_ci_low, boot_ci_high, vif_max, p_holm, p_bh, p_adjusted, rank``. ``ci_*`` are HC3 Wald
    intervals, ``boot_ci_*`` percentile bootstrap intervals; ``p_adjusted`` is Holm's.
    """
    rng = np.random.default_rng(seed)
    z = standardise(scores)
    centred = scores - (points + 1) / 2
    zcrit = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for a, b in pair_list(scores.columns):
        pi = coupling.pair_indices(indices, a, b)
        for method, regressor in (
            ("coordination_D", pi["D"]),
            ("coordination_D_revised", pi["D_revised"]),
            ("coupling_C", pi["C"]),
        ):
            # D grows with the pair's level as much as with its balance: without the two main effects
            # it ranks the pair with the largest main effects first even when no coupling exists.
            x = pd.concat([standardise(regressor.to_frame(method)), z[[a, b]], controls], axis=1)
            rows.append(_row(a, b, method, fit_ols(y, x), method, x, y, n_boot, rng, zcrit))
        res, x = interaction_model(y, z, a, b, controls)
        row = _row(a, b, "interaction", res, f"{a}x{b}", x, y, n_boot, rng, zcrit)
        row["vif_max"] = float(
            max(variance_inflation_factor(add_constant(x[[a, b, f"{a}x{b}"]]).to_numpy(), i) for i in (1, 2, 3))
        )
        rows.append(row)
        rsa, x_rsa = rsa_model(y, centred, a, b, controls)
        rsa = rsa.set_index("term")
        a4 = rsa.loc["a4"]
        xr = add_constant(x_rsa, has_constant="add").to_numpy(float)
        boot = (
            _bootstrap_coef(y.to_numpy(float), xr, 0, n_boot, rng, contrast=a4["contrast"])
            if n_boot
            else np.array([np.nan])
        )
        blo, bhi = _percentile_ci(boot, level) if n_boot else (np.nan, np.nan)
        rows.append(
            {
                "factor_a": a,
                "factor_b": b,
                "method": "rsa_a4",
                "estimate": a4["estimate"],
                "std_error": a4["std_error"],
                "t": a4["t"],
                "p_value": a4["p_value"],
                "ci_low": a4["estimate"] - zcrit * a4["std_error"],
                "ci_high": a4["estimate"] + zcrit * a4["std_error"],
                "boot_ci_low": blo,
                "boot_ci_high": bhi,
                "a1": rsa.loc["a1", "estimate"],
                "a2": rsa.loc["a2", "estimate"],
                "a3": rsa.loc["a3", "estimate"],
                "a3_p": rsa.loc["a3", "p_value"],
            }
        )
    joint = joint_interaction_model(scores, y, controls, level=level)
    return pd.concat([adjust_and_rank(pd.DataFrame(rows)), joint], ignore_index=True)


def coordination_unconditional(
    indices: pd.DataFrame, scores: pd.DataFrame, y: pd.Series, controls: pd.DataFrame
) -> pd.DataFrame:
    """Revised D of every pair with and without the pair's main effects, side by side.

    The unconditional regression is what coupling-coordination studies usually report; it is shown once,
    as a descriptive index, so the reader sees how much of it is level. Ranks come from the conditional
    model only.
    """
    from cbec.stats.regression import fit_ols

    z = standardise(scores)
    rows = []
    for a, b in pair_list(scores.columns):
        d = standardise(coupling.pair_indices(indices, a, b)["D_revised"].to_frame("D"))
        un = fit_ols(y, pd.concat([d, controls], axis=1))
        co = fit_ols(y, pd.concat([d, z[[a, b]], controls], axis=1))
        rows.append(
            {
                "factor_a": a,
                "factor_b": b,
                "estimate_unconditional": un.params["D"],
                "p_unconditional": un.pvalues["D"],
                "estimate_conditional": co.params["D"],
                "p_conditional": co.pvalues["D"],
            }
        )
    out = pd.DataFrame(rows)
    out["p_holm_unconditional"] = holm(out["p_unconditional"])
    out["p_holm_conditional"] = holm(out["p_conditional"])
    out["rank_unconditional"] = out["estimate_unconditional"].rank(ascending=False, method="min").astype(int)
    out["rank_conditional"] = out["estimate_conditional"].rank(ascending=False, method="min").astype(int)
    return out


def _row(a, b, method, res, term, x, y, n_boot, rng, zcrit) -> dict:
    """One tidy row for coefficient ``term`` of ``res`` (read by name), with its bootstrap interval."""
    est, se = float(res.params[term]), float(res.bse[term])
    if n_boot:
        xm = add_constant(x, has_constant="add")
        col = list(xm.columns).index(term)  # the bootstrap solves arrays laid out like the named design
        blo, bhi = _percentile_ci(_bootstrap_coef(y.to_numpy(float), xm.to_numpy(float), col, n_boot, rng))
    else:
        blo = bhi = np.nan
    return {
        "factor_a": a,
        "factor_b": b,
        "method": method,
        "estimate": est,
        "std_error": se,
        "t": float(res.tvalues[term]),
        "p_value": float(res.pvalues[term]),
        "ci_low": est - zcrit * se,
        "ci_high": est + zcrit * se,
        "boot_ci_low": blo,
        "boot_ci_high": bhi,
    }


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979), along the last axis (one family per row).

    ``p_adj(i) = max_{j <= i} min(1, (m - j + 1) p(j))`` over the sorted p-values. Written here because
    statsmodels' ``multipletests(method="holm")`` takes about 80 ms for 21 p-values (its BH takes 0.04 ms)
    and handles one family per call, which dominated the power simulation; the results are identical (tested).
    """
    p = np.asarray(p_values, dtype=float)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * np.take_along_axis(p, order, axis=-1))
    out = np.empty_like(p)
    np.put_along_axis(out, order, np.maximum.accumulate(stepped, axis=-1), axis=-1)
    return out


def adjust_and_rank(table: pd.DataFrame) -> pd.DataFrame:
    """Holm and BH adjustment within each method across its pairs, and the pair's rank.

    Rank 1 is the strongest coupling: the largest estimate, except for ``rsa_a4`` where the most
    negative curvature along the incongruence line (fit matters most) ranks first.
    """
    out = []
    for method, g in table.groupby("method", sort=False):
        g = g.copy()
        g["p_holm"] = holm(g["p_value"])
        g["p_bh"] = multipletests(g["p_value"], method="fdr_bh")[1]
        g["p_adjusted"] = g["p_holm"]
        key = -g["estimate"] if method == "rsa_a4" else g["estimate"]
        g["rank"] = key.rank(ascending=False, method="min").astype(int)
        out.append(g)
    return pd.concat(out, ignore_index=True)


def joint_interaction_model(
    scores: pd.DataFrame,
    y: pd.Series,
    controls: pd.DataFrame,
    level: float = 0.95,
) -> pd.DataFrame:
    """All seven standardised factors and all 21 products in one model (HC3): partial coupling effects.

    Fitting one pair at a time leaves the other products out, and products that share a factor are
    correlated (for standardised normal factors, cov(x_a x_b, x_b x_c) = rho_ac + rho_ab rho_bc), so a
    real coupling of (a, b) leaks into every pair that shares a or b. The joint model removes that
    omitted-variable bias at the price of wider intervals.
    """
    res = fit_ols(y, joint_design(scores, controls))
    zc = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for a, b in pair_list(scores.columns):
        name = f"{a}x{b}"
        est, se = float(res.params[name]), float(res.bse[name])
        rows.append(
            {
                "factor_a": a,
                "factor_b": b,
                "method": "interaction_joint",
                "estimate": est,
                "std_error": se,
                "t": float(res.tvalues[name]),
                "p_value": float(res.pvalues[name]),
                "ci_low": est - zc * se,
                "ci_high": est + zc * se,
            }
        )
    return adjust_and_rank(pd.DataFrame(rows))


def baseline_and_increment(
    scores: pd.DataFrame, y: pd.Series, controls: pd.DataFrame, system_d: pd.Series
) -> dict[str, pd.DataFrame]:
    """Main-effects baseline; level² added; the seven-factor D added over level and level²; the squares of the
    factors added over the baseline; all pairwise interactions added over main effects and squares (the
    increment of the couplings in the full second-order model, :func:`joint_design`).

    Returns the baseline coefficients and a model-comparison table with R², ΔR² (against the model each
    row builds on) and the robust (HC3) Wald test of the added terms, one row per ``step``: ``main_effects``,
    ``level_sq``, ``system_D``, ``squares``, ``products``.
    """
    z = standardise(scores)
    base_x = pd.concat([z, controls], axis=1)
    base = fit_ols(y, base_x)
    f = list(scores.columns)
    coefs = pd.DataFrame(
        {
            "term": f,
            "estimate": base.params[f].to_numpy(),
            "std_error": base.bse[f].to_numpy(),
            "p_value": base.pvalues[f].to_numpy(),
        }
    )
    # Seven-factor D is nearly a function of the mean level (r = 0.98): it is judged against a baseline
    # that already holds the curvature of level (level itself is in the span of the main effects).
    level = standardise(scores.mean(axis=1).to_frame("level"))["level"]
    level_x = pd.concat([base_x, (level**2).rename("level_sq")], axis=1)
    d_x = pd.concat([level_x, standardise(system_d.to_frame("system_D"))], axis=1)
    inter = pd.concat([z[a] * z[b] for a, b in pair_list(scores.columns)], axis=1)
    inter.columns = [f"{a}x{b}" for a, b in pair_list(scores.columns)]
    sq = pd.concat([(z[a] ** 2).rename(f"{a}_sq") for a in f], axis=1)
    sq_x = pd.concat([base_x, sq], axis=1)
    full_x = pd.concat([sq_x, inter], axis=1)
    rows = [
        {
            "step": "main_effects",
            "model": "main effects + controls",
            "r2": base.rsquared,
            "added_terms": 0,
            "delta_r2": np.nan,
            "wald_chi2": np.nan,
            "wald_df": np.nan,
            "p_value": np.nan,
        }
    ]
    level_fit = fit_ols(y, level_x)
    sq_fit = fit_ols(y, sq_x)
    k = len(f)
    for step, name, x, added, ref in (
        ("level_sq", "+ curvature of the mean level (level²)", level_x, ["level_sq"], base),
        ("system_D", f"+ {k}-factor coordination D, given level and level²", d_x, ["system_D"], level_fit),
        ("squares", f"+ the squares of the {k} factors (curvature of each)", sq_x, list(sq.columns), base),
        ("products", f"+ all {len(inter.columns)} pairwise interactions, given main effects and squares", full_x,
         list(inter.columns), sq_fit),
    ):  # fmt: skip
        res = fit_ols(y, x)
        w = res.wald_test(", ".join(f"{t} = 0" for t in added), scalar=True)
        rows.append(
            {
                "step": step,
                "model": name,
                "r2": res.rsquared,
                "added_terms": len(added),
                "delta_r2": res.rsquared - ref.rsquared,
                "wald_chi2": float(w.statistic),
                "wald_df": len(added),
                "p_value": float(w.pvalue),
            }
        )
    return {"baseline": coefs, "comparison": pd.DataFrame(rows)}


def simple_slopes(
    scores: pd.DataFrame, y: pd.Series, controls: pd.DataFrame, a: str, b: str, at=(-1.0, 0.0, 1.0), level: float = 0.95
) -> pd.DataFrame:
    """Slope of standardised ``a`` at standardised levels of ``b``, from the joint model (all factors and all
    21 products held fixed; HC3). Probing the pair that ranked first is post-selection: these slopes
    describe the selected pair, they do not test it again."""
    res = fit_ols(y, joint_design(scores, controls))
    zc = stats.norm.ppf(0.5 + level / 2)
    prod = _product_name(scores, a, b)
    rows = []
    for v in at:
        t = res.t_test(f"{a} + {v} * {prod} = 0")
        slope, se = float(np.squeeze(t.effect)), float(np.squeeze(t.sd))
        rows.append(
            {
                "moderator_level_sd": v,
                "slope": slope,
                "std_error": se,
                "ci_low": slope - zc * se,
                "ci_high": slope + zc * se,
                "p_value": 2 * stats.norm.sf(abs(slope / se)),
            }
        )
    return pd.DataFrame(rows)


def _product_name(scores: pd.DataFrame, a: str, b: str) -> str:
    order = list(scores.columns)
    return f"{a}x{b}" if order.index(a) < order.index(b) else f"{b}x{a}"


def johnson_neyman(
    scores: pd.DataFrame, y: pd.Series, controls: pd.DataFrame, a: str, b: str, level: float = 0.95
) -> dict:
    """Johnson–Neyman bounds in the joint model: the values of standardised ``b`` where the slope of ``a``
    is significant, reported only inside the observed range of ``b``.

    Solves ``(g1 + g3 v)^2 = z^2 (V11 + 2 v V13 + v^2 V33)`` for v, with ``g1`` the slope of ``a`` and ``g3``
    the product's coefficient. Returns the roots, the observed range of ``b``, the region(s) of that range
    where the slope is significant, and a sentence saying so.
    """
    z = standardise(scores)
    res = fit_ols(y, joint_design(scores, controls))
    prod = _product_name(scores, a, b)
    g1, g3 = float(res.params[a]), float(res.params[prod])
    cov = res.cov_params()
    v11, v13, v33 = float(cov.loc[a, a]), float(cov.loc[a, prod]), float(cov.loc[prod, prod])
    z2 = stats.norm.ppf(0.5 + level / 2) ** 2
    qa, qb, qc = g3**2 - z2 * v33, 2 * (g1 * g3 - z2 * v13), g1**2 - z2 * v11
    lo, hi = float(z[b].min()), float(z[b].max())
    grid = np.linspace(lo, hi, 2001)
    sig = qa * grid**2 + qb * grid + qc > 0
    disc = qb**2 - 4 * qa * qc
    roots = [] if disc < 0 or qa == 0 else sorted(float((-qb + s * np.sqrt(disc)) / (2 * qa)) for s in (-1, 1))
    # Runs of consecutive grid points where the slope is significant.
    edges = np.flatnonzero(np.diff(np.concatenate([[0], sig.astype(int), [0]])))
    regions = [(float(grid[s]), float(grid[e - 1])) for s, e in zip(edges[::2], edges[1::2], strict=True)]
    described = [_jn_region(r0, r1, g1, g3, z[b]) for r0, r1 in regions]
    if not regions:
        text = f"the slope of {a} is not significant anywhere in the observed range of {b} ({lo:+.2f} to {hi:+.2f} SD)"
    elif regions == [(lo, hi)]:
        d = described[0]
        text = (
            f"the slope of {a} is significant and {d['sign']} across the whole observed range of {b} "
            f"({lo:+.2f} to {hi:+.2f} SD; all {d['n']} firms)"
        )
    else:
        spans = " and ".join(
            f"{d['from']:+.2f} to {d['to']:+.2f} SD ({d['sign']}, from {d['slope_from']:+.3f} to {d['slope_to']:+.3f}; "
            f"{d['n']} of {len(z)} firms)"
            for d in described
        )
        text = f"the slope of {a} is significant where {b} lies from {spans} (observed range {lo:+.2f} to {hi:+.2f} SD)"
    return {
        "roots": roots,
        "observed_range": (lo, hi),
        "significant_regions": regions,
        "regions": described,
        "text": text,
    }


def _jn_region(r0: float, r1: float, g1: float, g3: float, moderator: pd.Series) -> dict:
    """One significant stretch of the moderator: the slope at both ends, its sign, and the firms inside it."""
    s0, s1 = g1 + g3 * r0, g1 + g3 * r1
    return {
        "from": r0,
        "to": r1,
        "slope_from": s0,
        "slope_to": s1,
        "sign": "positive" if s0 + s1 > 0 else "negative",
        "n": int(moderator.between(r0, r1).sum()),
    }


def normalisation_sensitivity(
    scores: pd.DataFrame, y: pd.Series, controls: pd.DataFrame, rules, points: int = 7, a: str = "MI", b: str = "SC"
) -> pd.DataFrame:
    """Re-fit the D models under each normalisation rule; report the (a, b) estimate, rank and the top pair.

    The estimates are those of :func:`fit_all_pairs`' two D models (the standardised index with both factors
    and the controls), by least squares alone: the table reads no error, interval or other method, and refitting
    every method of every pair under each rule was a third of the coupling chapter's time (tested equal)."""
    from cbec.stats.measurement import normalise

    z = standardise(scores)
    base = np.column_stack([np.ones(len(y)), controls.to_numpy(float)])
    target = y.to_numpy(float)
    rows = []
    for rule in rules:
        idx = normalise(scores, rule, points)
        est: dict[str, pd.Series] = {}
        for method in ("coordination_D", "coordination_D_revised"):
            values = {}
            for fa, fb in pair_list(scores.columns):
                d = coupling.pair_indices(idx, fa, fb)[method.replace("coordination_", "")]
                x = np.column_stack([base, standardise(d.to_frame()).to_numpy(float), z[[fa, fb]].to_numpy(float)])
                values[f"{fa}x{fb}"] = np.linalg.lstsq(x, target, rcond=None)[0][base.shape[1]]
            est[method] = pd.Series(values)
        for method, e in est.items():
            rank = e.rank(ascending=False, method="min").astype(int)  # as adjust_and_rank ranks them
            rows.append(
                {
                    "rule": rule,
                    "method": method,
                    f"{a}x{b}_estimate": float(e[f"{a}x{b}"]),
                    f"{a}x{b}_rank": int(rank[f"{a}x{b}"]),
                    "top_pair": str(rank.index[rank == 1][0]),
                }
            )
    return pd.DataFrame(rows)


def joint_design(scores: pd.DataFrame, controls: pd.DataFrame, squares: bool = True) -> pd.DataFrame:
    """The joint model's design: standardised factors, all pairwise products (named ``AxB``), the squares of the
    factors (``A_sq``) and the controls — the full second-order model.

    Why the squares: when two factors are correlated and the outcome is curved in one of them, a model with the
    product but without the squares credits the curvature to the product (Ganzach 1997; Edwards & Parry 1993
    fit the full quadratic for the same reason). In the ``hidden_coupling`` world (no MI × SC coupling, MI and
    SC correlated 0.55, the outcome curved in MI) the product-only model finds a Holm-significant MI × SC in
    about a third of samples of 2,000 firms; with the squares in, at the nominal rate (tests/test_models_simulated).
    ``squares=False`` gives the product-only model, kept for that comparison.
    """
    z = standardise(scores)
    inter = pd.concat([(z[a] * z[b]).rename(f"{a}x{b}") for a, b in pair_list(scores.columns)], axis=1)
    parts = [z, inter]
    if squares:
        parts.append(pd.concat([(z[a] ** 2).rename(f"{a}_sq") for a in scores.columns], axis=1))
    return pd.concat([*parts, controls], axis=1)


@dataclass
class RankInference:
    """The joint model's couplings ranked, with the uncertainty of the ranking (see :func:`joint_rank_inference`)."""

    table: pd.DataFrame  # one row per pair
    verdict: dict  # the rule's outcome for the top pair
    coverage: float
    cov: pd.DataFrame | None = None  # HC3 covariance of the coupling estimates, by product name ("AxB")


def rank_verdict(table: pd.DataFrame) -> dict:
    """The rule fixed in the methods chapter: the top pair is *established* as the strongest coupling only
    when its simultaneous rank confidence set is {1}; otherwise it is the largest point estimate, not
    separated from every other pair whose set also contains rank 1."""
    top = table.sort_values("estimate", ascending=False).iloc[0]
    rivals = table[(table["rank_low"] == 1) & (table.index != top.name)]
    names = [f"{r.factor_a} × {r.factor_b}" for r in rivals.itertuples()]
    established = int(top["rank_low"]) == 1 and int(top["rank_high"]) == 1
    return {
        "top_pair": f"{top['factor_a']} × {top['factor_b']}",
        "established": established,
        "rank_low": int(top["rank_low"]),
        "rank_high": int(top["rank_high"]),
        "not_separated_from": names,
        "text": (
            "established as the strongest coupling (its rank confidence set is {1})"
            if established
            else "the largest point estimate, not separated from " + _join(names, len(table) - 1)
        ),
    }


def _join(names: list[str], n_others: int) -> str:
    if len(names) == n_others:
        return f"any of the other {n_others} pairs"
    if len(names) > 5:
        return f"{len(names)} of the other {n_others} pairs, among them " + ", ".join(names[:3])
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def joint_rank_inference(
    scores: pd.DataFrame,
    y: pd.Series,
    controls: pd.DataFrame,
    n_boot: int = 999,
    seed: int = 2026,
    coverage: float = 0.95,
    n_draws: int = 1000,
) -> RankInference:
    """Rank the 21 couplings of the joint model and say how sure the ranking is.

    For every pair: the HC3 estimate, its point rank, the simultaneous 95% rank confidence set of
    Mogstad et al. (2024) from the HC3 covariance of the 21 product terms (:func:`cbec.ranks.rank_confidence_sets`),
    the share of case-resampling bootstrap draws in which it ranks first, its bootstrap rank quantiles, and
    its effect size: ΔR² of dropping its product from the joint model and Cohen's f² = ΔR² / (1 − R²).
    """
    from cbec.stats.ranks import rank_confidence_sets, rank_distribution
    from cbec.stats.regression import bootstrap_ols, fit_ols

    x = joint_design(scores, controls)
    res = fit_ols(y, x)
    names = [f"{a}x{b}" for a, b in pair_list(scores.columns)]
    est = res.params[names]
    sets = rank_confidence_sets(est, res.cov_params().loc[names, names], coverage=coverage, n_draws=n_draws, seed=seed)
    draws = bootstrap_ols(y, x, n_boot, seed=seed)[names]
    dist, gap = rank_distribution(draws, est, level=coverage)
    r2 = res.rsquared
    drop_r2 = pd.Series({n: r2 - fit_ols(y, x.drop(columns=n), cov_type="nonrobust").rsquared for n in names})
    pairs = pd.DataFrame(pair_list(scores.columns), columns=["factor_a", "factor_b"], index=names)
    table = pd.concat(
        [
            pairs,
            sets,
            res.bse[names].rename("std_error"),
            res.pvalues[names].rename("p_value"),
            dist,
            drop_r2.rename("delta_r2"),
            (drop_r2 / (1 - r2)).rename("cohen_f2"),
        ],
        axis=1,
    )
    zc = stats.norm.ppf(0.5 + coverage / 2)
    table["ci_low"] = table["estimate"] - zc * table["std_error"]
    table["ci_high"] = table["estimate"] + zc * table["std_error"]
    table["p_holm"] = holm(table["p_value"])
    verdict = rank_verdict(table)
    verdict.update(gap)
    return RankInference(
        table=table.reset_index(names="term"),
        verdict=verdict,
        coverage=coverage,
        cov=res.cov_params().loc[names, names],
    )


def rsa_parameters(b: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """Response-surface parameters from the polynomial coefficients ``b1..b5`` (one row per draw).

    ``a1 = b1 + b2``, ``a2 = b3 + b4 + b5``, ``a3 = b1 - b2``, ``a4 = b3 - b4 + b5``, ``a5 = b3 - b5``;
    stationary point ``X0 = (b2 b4 - 2 b1 b5) / (4 b3 b5 - b4²)``, ``Y0 = (b1 b4 - 2 b2 b3) / (4 b3 b5 - b4²)``;
    first principal axis ``Y = p10 + p11 X`` with ``p11 = (b5 - b3 + sqrt((b3 - b5)² + b4²)) / b4`` and
    ``p10 = Y0 - p11 X0``. Formulas as defined in the R package RSA 0.10.8 (Schönbrodt & Humberg;
    nicebread/RSA, commit e81cb9a, ``R/RSA.R``), after Edwards (2002).
    """
    frame = b.to_frame().T if isinstance(b, pd.Series) else b
    b1, b2, b3, b4, b5 = (frame[f"b{k}"].to_numpy(float) for k in range(1, 6))
    den = 4 * b3 * b5 - b4**2
    with np.errstate(divide="ignore", invalid="ignore"):
        x0 = (b2 * b4 - 2 * b1 * b5) / den
        y0 = (b1 * b4 - 2 * b2 * b3) / den
        p11 = (b5 - b3 + np.sqrt((b3 - b5) ** 2 + b4**2)) / b4
    return pd.DataFrame(
        {
            "a1": b1 + b2,
            "a2": b3 + b4 + b5,
            "a3": b1 - b2,
            "a4": b3 - b4 + b5,
            "a5": b3 - b5,
            "X0": x0,
            "Y0": y0,
            "p10": y0 - p11 * x0,
            "p11": p11,
        },
        index=frame.index,
    )


#: Equivalence bounds of the congruence rule (smallest differences that matter, fixed before any result): the
#: level slopes a1 and a2 within ±0.15 SD of the outcome per scale point (a product surface 0.25·ab has
#: a2 = 0.25); the ridge's crossing of the line of incongruence, shift = -a3 / (2 a4), within ±0.25 scale
#: points of the line of congruence; the first principal axis's intercept p10 within ±0.5 scale points of 0
#: and its slope p11 between 2/3 and 3/2 (a ridge steeper or flatter than the line of congruence by half,
#: symmetric on the log scale: the axis is the same whichever factor is called X).
RSA_EQUIVALENCE = {
    "a1": (-0.15, 0.15),
    "a2": (-0.15, 0.15),
    "shift": (-0.25, 0.25),
    "p10": (-0.5, 0.5),
    "p11": (2 / 3, 3 / 2),
}


def _with_shift(p: pd.DataFrame) -> pd.DataFrame:
    """RSA parameters plus ``shift``: where the surface's ridge crosses the line of incongruence (X = -Y),
    ``-a3 / (2 a4)`` in scale points of X (0: the ridge is not shifted off the line of congruence)."""
    return p.assign(shift=-p["a3"] / (2 * p["a4"]))


def rsa_fit_pattern(
    y: pd.Series,
    centred: pd.DataFrame,
    a: str,
    b: str,
    controls: pd.DataFrame,
    n_boot: int = 999,
    seed: int = 2026,
    level: float = 0.95,
) -> tuple[pd.DataFrame, dict]:
    """The response-surface parameters with percentile bootstrap intervals, and the fit-pattern verdict.

    The rule (fixed in the methods chapter): the data show a **congruence** (fit) pattern only when the
    surface falls away from the line of congruence (``a4`` < 0: its one-sided bound below 0), and each
    equality of the strict congruence pattern of Humberg, Nestler & Back (2019) is *shown* by an equivalence
    test, not assumed because an interval contains the null: two one-sided tests at level alpha, i.e. the
    1 − 2·alpha bootstrap interval inside the bounds :data:`RSA_EQUIVALENCE` (Schuirmann 1987) — the ridge on
    the line of congruence (``p10`` within ±0.5 scale points of 0, ``p11`` between 2/3 and 3/2), not shifted
    (``shift = -a3 / (2 a4)``, where the ridge crosses the line of incongruence, within ±0.25 scale points)
    and level not mattering along it (``a1``, ``a2`` within ±0.15 SD of the outcome per scale point). All of
    them must hold (an intersection–union test, so no adjustment). When only ``a1`` or ``a2`` fail, the
    verdict is **congruence with level effects**. A pure product surface ``y = c·ab = c[(a+b)² − (a−b)²]/4``
    has ``a2 = c``: a negative ``a4`` alone never shows that fit matters, and with equivalence tests a noisy
    surface no longer passes for congruence. A line of congruence
    means something only if the two factors are measured on the same scale.
    """
    from cbec.stats.regression import bootstrap_ols, fit_ols

    _, x = rsa_model(y, centred, a, b, controls)
    poly = ["b1", "b2", "b3", "b4", "b5"]
    est = _with_shift(rsa_parameters(fit_ols(y, x).params[poly])).iloc[0]
    draws = _with_shift(rsa_parameters(bootstrap_ols(y, x, n_boot, seed=seed)[poly]))
    tail = (1 - level) / 2
    alpha = 1 - level
    bounds = pd.DataFrame(RSA_EQUIVALENCE, index=["equivalence_low", "equivalence_high"]).T
    table = pd.DataFrame(
        {
            "estimate": est,
            "ci_low": draws.quantile(tail),
            "ci_high": draws.quantile(1 - tail),
            # two one-sided tests at alpha each: the 1 - 2 alpha interval
            "tost_ci_low": draws.quantile(alpha),
            "tost_ci_high": draws.quantile(1 - alpha),
        }
    ).join(bounds)
    table.index.name = "parameter"
    shown = lambda p: bool(  # noqa: E731
        table.loc[p, "equivalence_low"] <= table.loc[p, "tost_ci_low"]
        and table.loc[p, "tost_ci_high"] <= table.loc[p, "equivalence_high"]
    )
    ridge = table.loc["a4", "tost_ci_high"] < 0 and shown("p10") and shown("p11") and shown("shift")
    strict = ridge and shown("a1") and shown("a2")
    verdict = "congruence" if strict else ("congruence with level effects" if ridge else "no fit pattern")
    return table.reset_index(), {"pair": f"{a} × {b}", "verdict": verdict}
