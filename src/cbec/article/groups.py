"""Paths by group: do the coupling effects, and the payoff of balance versus focus, differ by firm type?

The article claims that large firms gain from developing all seven factors in balance while SMEs gain
from breaking through on a few, and it gives stage-by-stage advice. Each claim becomes a test here:

* :func:`group_coupling_difference` — the full second-order model fitted with every term interacted with a
  group dummy; the group x product coefficient of each pair is the difference in coupling between groups
  (HC3 Wald test, Holm across the 21 pairs), plus a case-resampling bootstrap of that difference.
* :func:`balance_focus` — per-firm balance (spread of the seven indices, seven-factor D) and focus (lead of
  the top two indices over the other five), and a model in which their payoff differs by size.
* :func:`stage_fit` — whether firms whose strongest factors are the ones advised for their stage perform
  better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cbec.stats import coupling, models
from cbec.stats.regression import bootstrap_ols, contrast, fit_ols

#: Groupings the size-paths chapter compares: column, the level coded 1, and a label.
GROUPINGS = {
    "size": ("size_class", ("sme",), "SME (vs large)"),
    "business_model": ("business_model", ("operations",), "operations-led (vs factory-led)"),
    "market": ("main_market", ("sea", "other_emerging"), "SE Asia & emerging (vs Europe/N. America)"),
}

#: The article's stage advice (its Table 4): which factors to build first at each stage.
STAGE_ADVICE = {"start": ("MI", "RC"), "growth": ("SC", "MK"), "mature": ("TP", "CX", "TO")}


def group_dummy(data: pd.DataFrame, grouping: str) -> pd.Series:
    """1 for the focal group of a grouping (see :data:`GROUPINGS`), 0 otherwise."""
    col, focal, _ = GROUPINGS[grouping]
    return data[col].isin(focal).astype(float).rename(grouping)


def _joint_design(z: pd.DataFrame, g: pd.Series, controls: pd.DataFrame) -> pd.DataFrame:
    # The squares, and their differences by group, are in for the reason they are in the book's joint model:
    # without them a group difference in curvature shows as a group difference in coupling. Measured in the
    # `realistic` world (no coupling differs by group), 5,000 firms, 30 samples: some difference Holm-significant
    # in 33% of samples without the squares, 7% with them.
    pairs = models.pair_list(z.columns)
    prods = pd.concat([(z[a] * z[b]).rename(f"{a}x{b}") for a, b in pairs], axis=1)
    squares = pd.concat([(z[a] ** 2).rename(f"{a}_sq") for a in z.columns], axis=1)
    base = pd.concat([z, prods, squares], axis=1)
    inter = base.mul(g, axis=0).add_suffix(f"_x_{g.name}")
    ctrl = controls.drop(columns=[c for c in controls.columns if c.startswith(GROUPINGS[g.name][0])], errors="ignore")
    return pd.concat([base, g, inter, ctrl], axis=1)


def group_coupling_difference(
    scores: pd.DataFrame,
    y: pd.Series,
    controls: pd.DataFrame,
    g: pd.Series,
    n_boot: int = 0,
    seed: int = 2026,
    level: float = 0.95,
) -> pd.DataFrame:
    """Difference in each pair's coupling between the focal group and the rest.

    Fits ``y ~ Z + products + squares + G + G x (Z + products + squares) + controls`` — the book's full
    second-order model with every term allowed to differ by group — with standardised factors ``Z`` (HC3). The
    coefficient of ``G x product`` is the focal group's coupling minus the reference group's; the group's own
    coupling estimates are reported beside it. ``n_boot`` > 0 adds percentile bootstrap intervals of the
    difference (case resampling of the whole model).

    Returns
    -------
    DataFrame with ``factor_a, factor_b, coupling_reference, coupling_focal, difference, std_error, p_value,
    p_holm, ci_low, ci_high[, boot_ci_low, boot_ci_high]``.
    """
    z = models.standardise(scores)
    x = _joint_design(z, g, controls)
    res = fit_ols(y, x)
    zc = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for a, b in models.pair_list(scores.columns):
        ref, diff = f"{a}x{b}", f"{a}x{b}_x_{g.name}"
        d, se = float(res.params[diff]), float(res.bse[diff])
        rows.append(
            {
                "factor_a": a,
                "factor_b": b,
                "coupling_reference": float(res.params[ref]),
                "coupling_focal": float(res.params[ref] + res.params[diff]),
                "difference": d,
                "std_error": se,
                "p_value": float(res.pvalues[diff]),
                "ci_low": d - zc * se,
                "ci_high": d + zc * se,
                "_term": diff,
            }
        )
    out = pd.DataFrame(rows)
    out["p_holm"] = models.holm(out["p_value"])
    if n_boot:
        # Case resampling of the whole model, every draw solved at once (the same draws as a refit loop).
        idx = np.random.default_rng(seed).integers(0, len(y), size=(n_boot, len(y)))
        draws = bootstrap_ols(y, x, n_boot, indices=idx)[out["_term"]].to_numpy()
        tail = (1 - level) / 2 * 100
        out["boot_ci_low"] = np.percentile(draws, tail, axis=0)
        out["boot_ci_high"] = np.percentile(draws, 100 - tail, axis=0)
    return out.drop(columns="_term")


def balance_focus(indices: pd.DataFrame) -> pd.DataFrame:
    """Per-firm profile measures from the seven factor indices U in [0, 1].

    ``level``  mean of the seven indices (T with equal weights);
    ``spread`` their standard deviation (low spread = balanced);
    ``system_D`` the seven-factor coupling coordination degree;
    ``focus``  mean of the top two indices minus mean of the other five.
    """
    u = indices.to_numpy(float)
    srt = np.sort(u, axis=1)
    return pd.DataFrame(
        {
            "level": u.mean(axis=1),
            "spread": u.std(axis=1),
            "system_D": coupling.coordination_degree(u),
            "focus": srt[:, -2:].mean(axis=1) - srt[:, :-2].mean(axis=1),
        },
        index=indices.index,
    )


def _profile_design(profile: pd.DataFrame, measure: str, sme: pd.Series) -> pd.DataFrame:
    """Measure and level (standardised), level², the SME dummy and measure × SME.

    Level² is there because the seven-factor D and the spread are nonlinear in the level (D correlates
    0.98 with it): without the curvature of level, a slope on D is partly a slope on level
    (measured: the large-firm slope on D moved from −0.58 to −0.20 when level² entered).
    """
    zm = models.standardise(profile[[measure, "level"]])
    return pd.concat(
        [zm, (zm["level"] ** 2).rename("level_sq"), sme.rename("sme"), (zm[measure] * sme).rename(f"{measure}_x_sme")],
        axis=1,
    )


def balance_focus_by_size(
    profile: pd.DataFrame, y: pd.Series, sme: pd.Series, controls: pd.DataFrame, level: float = 0.95
) -> pd.DataFrame:
    """Is spread, focus or seven-factor D associated with performance differently in SMEs and large firms?

    For each measure ``m`` in (spread, focus, system_D): ``y ~ m + level + level² + SME + m x SME + controls``
    with the measure and level standardised, HC3. The article's advice reads as a negative ``m`` slope for
    large firms when ``m`` is spread (balance) and a positive ``m x SME`` term (focus matters more for
    SMEs); for system_D the reverse.
    """
    zc = stats.norm.ppf(0.5 + level / 2)
    ctrl = controls.drop(columns=[c for c in controls.columns if c.startswith("size_class")], errors="ignore")
    rows = []
    for m in ("spread", "focus", "system_D"):
        res = fit_ols(y, pd.concat([_profile_design(profile, m, sme), ctrl], axis=1))
        terms = {
            "slope_large": contrast(res, f"{m} = 0"),
            "slope_sme": contrast(res, f"{m} + {m}_x_sme = 0"),
            "difference_sme_minus_large": contrast(res, f"{m}_x_sme = 0"),
        }
        for term, c in terms.items():
            est, se = c["estimate"], c["std_error"]
            rows.append(
                {
                    "measure": m,
                    "term": term,
                    "estimate": est,
                    "std_error": se,
                    "ci_low": est - zc * se,
                    "ci_high": est + zc * se,
                    "p_value": c["p_value"],
                }
            )
    return pd.DataFrame(rows)


def predicted_by_size(
    profile: pd.DataFrame,
    y: pd.Series,
    sme: pd.Series,
    measure: str,
    grid: np.ndarray | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Predicted performance against a profile measure (in SD units) for large firms and SMEs, level at its
    mean, with pointwise intervals at ``level`` (HC3, as the chapter's slope tests): the data behind the
    size-paths figure."""
    from scipy.stats import norm

    res = fit_ols(y, _profile_design(profile, measure, sme), cov_type="HC3")
    b, cov = res.params, res.cov_params()
    z = norm.ppf(0.5 + level / 2)
    grid = np.linspace(-2, 2, 41) if grid is None else grid
    rows = []
    for label, s in (("large", 0.0), ("sme", 1.0)):
        for v in grid:
            c = pd.Series(0.0, index=b.index)
            c[["const", measure, "sme", f"{measure}_x_sme"]] = [1.0, v, s, v * s]
            pred, se = float(c @ b), float(np.sqrt(c @ cov @ c))
            lo, hi = pred - z * se, pred + z * se
            rows.append({"group": label, measure: v, "predicted": pred, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


def stage_test_missing(data: pd.DataFrame, indices: pd.DataFrame) -> str:
    """What a questionnaire lacks for the stage test ("" when it can be run)."""
    needed = sorted({f for fs in STAGE_ADVICE.values() for f in fs} - set(indices.columns))
    parts = (["a stage question"] if "stage" not in data.columns else []) + (
        [f"the factors {', '.join(needed)}"] if needed else []
    )
    return " and ".join(parts)


def stage_fit(indices: pd.DataFrame, stage: pd.Series) -> pd.Series:
    """How much a firm's advised factors lead its other factors (mean index of the factors advised for its
    stage minus mean of the rest); positive means the firm is strongest where the article says it should be."""
    out = pd.Series(np.nan, index=indices.index, name="stage_fit")
    for st, advised in STAGE_ADVICE.items():
        rows = stage == st
        others = [c for c in indices.columns if c not in advised]
        out[rows] = indices.loc[rows, list(advised)].mean(axis=1) - indices.loc[rows, others].mean(axis=1)
    return out


def stage_fit_model(
    fit: pd.Series,
    profile: pd.DataFrame,
    y: pd.Series,
    controls: pd.DataFrame,
    sme: pd.Series | None = None,
    level_ci: float = 0.95,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Performance on stage fit (standardised), holding the firm's profile (level, spread, focus) and the
    controls fixed. Without spread and focus, a firm whose advised factors lead is simply a focused firm,
    and the size paths' payoff to focus would pass for a stage effect. Because that payoff differs by size,
    spread and focus also enter interacted with ``sme`` when it is given, and with ``scores`` the seven
    factors and their 21 products are held fixed as well (a planted coupling otherwise passed for a stage
    effect). Measured on 100 simulations that plant no stage effect: one-sided p < 0.05 in 7 with all of
    these held fixed."""
    shape = models.standardise(pd.concat([fit, profile[["level", "spread", "focus"]]], axis=1))
    if sme is not None:
        shape = shape.assign(spread_x_sme=shape["spread"] * sme, focus_x_sme=shape["focus"] * sme)
    parts = [shape, controls]
    if scores is not None:
        parts[0] = shape.drop(columns="level")  # the level is a linear combination of the seven factors
        # The factors and their pairwise products held fixed too: a coupling (MI x SC) rewards firms whose
        # leading factors overlap the advised ones, which passed for a stage effect (10 of 100 simulations
        # with no stage effect 'matched' the claim before this).
        parts.append(models.joint_design(scores, pd.DataFrame(index=scores.index)))
    x = pd.concat(parts, axis=1)
    ok = x.notna().all(axis=1)
    res = fit_ols(y[ok], x[ok])
    zc = stats.norm.ppf(0.5 + level_ci / 2)
    est, se = float(res.params["stage_fit"]), float(res.bse["stage_fit"])
    return pd.DataFrame(
        [
            {
                "term": "stage_fit",
                "estimate": est,
                "std_error": se,
                "ci_low": est - zc * se,
                "ci_high": est + zc * se,
                "p_value": float(res.pvalues["stage_fit"]),
                "n": int(ok.sum()),
            }
        ]
    )


def measurement_invariance(
    data: pd.DataFrame, blocks: dict[str, list[str]], method_signs: dict[str, float] | None = None
) -> pd.DataFrame:
    """Configural, metric and scalar invariance of the factor model for every grouping the data hold
    (:func:`cbec.stats.invariance.invariance_table`: Chen's 2007 stricter cut-offs, the acquiescence factor when
    ``method_signs`` is given), one block of rows per grouping."""
    from cbec.stats.invariance import invariance_table, pooled_fit

    present = [
        (name, col) for name, (col, _, _) in GROUPINGS.items() if col in data.columns and data[col].nunique() > 1
    ]
    start = pooled_fit(data, blocks, method_signs) if present else None  # one start for every grouping
    tables = [
        invariance_table(data, blocks, col, method_signs=method_signs, start=start).assign(grouping=name)
        for name, col in present
    ]
    return pd.concat(tables, ignore_index=True)


def invariance_reached(table: pd.DataFrame) -> dict[str, str]:
    """Per grouping, the highest level that holds: ``scalar``, ``partial scalar``, ``metric`` or ``none``."""
    out = {}
    for name, t in table.groupby("grouping", sort=False):
        held = t.set_index("level")["holds"]
        reached = "none"
        for level in ("configural", "metric", "scalar", "partial scalar"):
            if level in held.index and held[level]:
                reached = level
            elif level in held.index:
                break
        out[name] = reached
    return out
