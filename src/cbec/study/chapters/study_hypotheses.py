"""Study book, hypotheses: the study's own pre-specified hypotheses, each with its one-sided test in the joint
model, Holm-adjusted as one family, and the verdict the rule of :mod:`cbec.stats.hypotheses` gives."""

from __future__ import annotations

from cbec.io.hypotheses import load_hypotheses
from cbec.stats.hypotheses import hypothesis_tests
from cbec.study.chapters.base import ChapterResult, RunConfig, construct_labels, format_p, load_study


def study_hypotheses_chapter(cfg: RunConfig) -> ChapterResult:
    """The hypotheses table and a one-sentence summary; empty (with a note) without a hypotheses file."""
    r = ChapterResult("study_hypotheses")
    if not cfg.hypotheses_path:
        r.absent = True
        r.notes["summary"] = "The study declares no hypotheses (`hypotheses:` in study.yaml), so none is tested."
        r.value(hy_n=0, hy_supported=0)
        return r
    st = load_study(cfg)
    a = st.analysis
    hyps = load_hypotheses(cfg.hypotheses_path, list(a.scores.columns))
    t = hypothesis_tests(hyps, a.scores, a.y, a.controls, alpha=cfg.alpha)
    labels = construct_labels(st.instrument)
    t.insert(2, "about", [_about(term, labels) for term in t["term"]])
    t["p_one_sided"] = [format_p(p) for p in t["p_one_sided"]]
    t["p_holm"] = [format_p(p) for p in t["p_holm"]]
    cols = ["id", "statement", "about", "direction", "estimate", "std_error", "p_one_sided", "p_holm", "verdict",
            "sign"]  # fmt: skip
    r.table("tests", t[cols + ["term"]], f"The study's {len(t)} hypotheses, tested as one family", columns=cols)
    supported = t.loc[t["verdict"] == "supported", "id"].tolist()
    opposite = t.loc[(t["verdict"] != "supported") & (t["sign"] == "opposite"), "id"].tolist()
    r.value(hy_n=len(t), hy_supported=len(supported), hy_alpha=f"{cfg.alpha:g}", hy_outcome=st.instrument.outcome_en)
    r.notes["summary"] = (
        f"Of the study's {len(t)} hypotheses, {len(supported)} "
        + (f"({', '.join(supported)}) " if supported else "")
        + f"{'is' if len(supported) == 1 else 'are'} supported at alpha {cfg.alpha:g} after Holm's adjustment"
        + (f"; the estimate of {', '.join(opposite)} has the sign opposite to the one stated" if opposite else "")
        + "."
    )
    return r


def _about(term: str, labels: dict[str, str]) -> str:
    """The construct, or the pair, a hypothesis is about, by the study's own names (codes may hold an x)."""
    if term in labels:
        return f"{labels[term]} ({term})"
    pair = next((f"{labels[a]} × {labels[b]}" for a in labels for b in labels if f"{a}x{b}" == term), term)
    return f"{pair} ({term})"
