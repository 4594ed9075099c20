"""Study book, groups: do the constructs go with the outcome alike in every group of each grouping variable the
study declares? None, one or several groupings, any column, any level codes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec.stats.models import holm, standardise
from cbec.stats.regression import fit_ols
from cbec.study.chapters.base import ChapterResult, RunConfig, construct_labels, format_p, load_study, study_spec

#: Fewer respondents than this in a group and its slopes are not estimated (the chapter says so).
MIN_GROUP_N = 30


def study_groups_chapter(cfg: RunConfig) -> ChapterResult:
    """For every declared grouping with two or more groups of at least ``MIN_GROUP_N`` respondents: each
    construct's slope on the outcome in every group, and a robust (HC3) Wald test that the slopes are equal
    across the groups, Holm-corrected across the constructs of that grouping."""
    st = load_study(cfg)
    spec = study_spec(cfg)
    groupings = spec.groupings if spec is not None else ()
    r = ChapterResult("study_groups")
    r.value(gr_n=len(groupings))
    if not groupings:
        r.notes["summary"] = (
            "The study file declares no grouping variable, so no groups are compared; add one under "
            "groupings: to compare them."
        )
        return r
    sentences = [_grouping(r, st, g, cfg) for g in groupings]
    r.notes["summary"] = " ".join(sentences)
    return r


def _grouping(r: ChapterResult, st, g, cfg: RunConfig) -> str:
    clean, a, inst = st.clean, st.analysis, st.instrument
    if g.column not in clean.columns:
        return f"The grouping {g.en} (column `{g.column}`) is not in the data, so it is not compared."
    codes = clean[g.column].astype("string")
    counts = codes.value_counts(dropna=True)
    usable = [lv for lv, n in counts.items() if n >= MIN_GROUP_N]
    sizes = ", ".join(f"{g.label(lv)} {n}" for lv, n in counts.items())
    if len(usable) < 2:
        return (
            f"{g.en} has {len(counts)} group(s) in the data ({sizes or 'none'}); a comparison needs two groups of at "
            f"least {MIN_GROUP_N} respondents, so {g.en} is not compared."
        )
    keep = codes.isin(usable).to_numpy()
    z = standardise(a.scores[keep])
    y, grp = a.y[keep], codes[keep]
    labels = construct_labels(inst)
    rows = []
    for c in z.columns:
        row: dict[str, object] = {"construct": labels[c]}
        for lv in usable:
            m = (grp == lv).to_numpy()
            row[f"slope: {g.label(lv)}"] = float(fit_ols(y[m], z[m]).params[c])
        row["p_equal"] = _equal_slopes_p(y, z, grp, c, usable)
        rows.append(row)
    t = pd.DataFrame(rows)
    t["p_holm"] = holm(t["p_equal"])
    r.table(
        f"slopes_{g.column}",
        t,
        f"Slope of each construct on {inst.outcome_en} in each group of {g.en}, and the test that they are equal",
    )
    n_diff = int((t["p_holm"] < cfg.alpha).sum())
    return (
        f"{g.en} ({sizes}): {len(usable)} groups compared; the slopes differ between groups (Holm-corrected p < "
        f"{cfg.alpha:g}) for {n_diff} of {len(t)} construct(s)"
        + (f", smallest p {format_p(t['p_holm'].min())}." if len(t) else ".")
    )


def _equal_slopes_p(y: pd.Series, z: pd.DataFrame, grp: pd.Series, c: str, levels: list[str]) -> float:
    """HC3 Wald test that construct ``c``'s slope is the same in every group, in one model with group
    intercepts and group-specific slopes of every construct."""
    dummies = pd.DataFrame({f"g_{lv}": (grp == lv).astype(float).to_numpy() for lv in levels[1:]}, index=z.index)
    inter = {f"{k}_x_{d}": z[k] * dummies[d] for k in z.columns for d in dummies.columns}
    x = pd.concat([z, dummies, pd.DataFrame(inter, index=z.index)], axis=1)
    res = fit_ols(y, x)
    names = [f"{c}_x_{d}" for d in dummies.columns]
    restriction = np.zeros((len(names), len(res.params)))
    for i, n in enumerate(names):
        restriction[i, list(res.params.index).index(n)] = 1.0
    return float(res.wald_test(restriction, scalar=True).pvalue)
