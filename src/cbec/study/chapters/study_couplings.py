"""Study book, couplings: which pairs of the study's constructs go with the outcome together, and how sure is
the ranking? The joint model of all pairs and its simultaneous rank confidence sets, as in the article's book,
with every name and count from the study."""

from __future__ import annotations

import pandas as pd

from cbec.stats import models
from cbec.study.chapters.base import (
    ChapterResult,
    RunConfig,
    construct_labels,
    format_p,
    level_text,
    load_study,
    pair_label,
)


def study_couplings_chapter(cfg: RunConfig) -> ChapterResult:
    """Main effects and every pairwise product of the standardised construct scores in one model of the
    standardised outcome (HC3); with three or more pairs, simultaneous rank confidence sets (Mogstad et al.
    2024) and the rule of the methods note decide whether the top pair is established."""
    st = load_study(cfg)
    inst, a = st.instrument, st.analysis
    labels = construct_labels(inst)
    r = ChapterResult("study_couplings")
    k = a.scores.shape[1]
    n_pairs = k * (k - 1) // 2
    r.value(cp_k=k, cp_pairs=n_pairs, cp_n=len(a.y), cp_level=level_text(cfg.alpha), cp_outcome=inst.outcome_en)
    if k < 2:
        r.notes["summary"] = (
            f"The study declares one construct besides its outcome ({inst.outcome_en}), so there is no pair of "
            "constructs whose coupling could be estimated; this chapter computes nothing."
        )
        return r
    ri = models.joint_rank_inference(
        a.scores, a.y, a.controls, n_boot=cfg.n_boot, seed=cfg.seed, coverage=1 - cfg.alpha
    )
    t = ri.table.sort_values("estimate", ascending=False).copy()
    t.insert(0, "pair", [pair_label(labels, x, y) for x, y in zip(t["factor_a"], t["factor_b"], strict=True)])
    t["rank_set"] = [
        f"{lo}–{hi}" if lo != hi else f"{lo}" for lo, hi in zip(t["rank_low"], t["rank_high"], strict=True)
    ]
    cols = ["pair", "estimate", "std_error", "ci_low", "ci_high", "p_value", "p_holm", "rank", "rank_set", "delta_r2"]
    r.table(
        "joint",
        t[cols + ["factor_a", "factor_b"]],
        f"The {n_pairs} coupling(s) of the joint model, largest first ({level_text(cfg.alpha)} intervals)",
        columns=cols,
    )
    r.notes["summary"] = _summary(t, ri, n_pairs, inst.outcome_en, cfg)
    r.notes["limits"] = (
        "The data are cross-sectional answers, so a coupling is an association: it says which combinations of "
        "the constructs go with a higher outcome in this sample, not what would happen if a respondent's "
        "scores changed."
    )
    return r


def _summary(t: pd.DataFrame, ri, n_pairs: int, outcome: str, cfg: RunConfig) -> str:
    top = t.iloc[0]
    lvl = level_text(cfg.alpha)
    n_sig = int((t["p_holm"] < cfg.alpha).sum())
    head = (
        f"The joint model regresses {outcome} on the standardised scores of the constructs and all {n_pairs} "
        f"of their pairwise products. The largest coupling is {top['pair']}: {top['estimate']:.3f} "
        f"({lvl} CI {top['ci_low']:.3f} to {top['ci_high']:.3f}; p {format_p(top['p_value'])}). "
        f"{n_sig} of {n_pairs} coupling(s) are significant after Holm's correction at α = {cfg.alpha:g}."
    )
    if n_pairs < 3:
        return head + (
            " With fewer than three pairs a ranking says little beyond the intervals themselves, so no rank "
            "confidence sets are reported as a verdict."
        )
    established = int(top["rank_low"]) == 1 and int(top["rank_high"]) == 1
    rivals = int(((t["rank_low"] == 1).sum()) - 1)
    verdict = (
        "its simultaneous rank confidence set is {1}, so by the rule fixed beforehand it is established as the "
        "largest coupling"
        if established
        else f"its simultaneous rank confidence set runs from {int(top['rank_low'])} to {int(top['rank_high'])} "
        f"and {rivals} other pair(s) could also rank first, so it is not established as the largest"
    )
    return head + f" At {ri.coverage:.0%} simultaneous coverage {verdict}."
