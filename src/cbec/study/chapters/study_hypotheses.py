"""Study book, hypotheses: the study's own pre-specified hypotheses, each with the test the rule of
:mod:`cbec.stats.hypotheses` gives it — one-sided and Holm-adjusted as one family for a sign, the tolerance-band
rule of the claims register for a size — and its verdict."""

from __future__ import annotations

from cbec.io.hypotheses import load_hypotheses
from cbec.stats.hypotheses import hypothesis_tests
from cbec.study.chapters.base import ChapterResult, RunConfig, construct_labels, format_p, level_text, load_study


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
    t.insert(3, "stated", [_stated(r) for r in t.itertuples()])
    t["p_one_sided"] = [format_p(p) if p == p else "" for p in t["p_one_sided"]]
    t["p_holm"] = [format_p(p) if p == p else "" for p in t["p_holm"]]
    cols = ["id", "statement", "about", "stated", "estimate", "std_error", "ci_low", "ci_high", "p_one_sided",
            "p_holm", "verdict", "sign"]  # fmt: skip
    r.table("tests", t[cols + ["term", "rule"]], f"The study's {len(t)} hypotheses", columns=cols)
    r.value(hy_n=len(t), hy_supported=int((t["verdict"] == "supported").sum()), hy_alpha=f"{cfg.alpha:g}",
            hy_level=level_text(cfg.alpha), hy_outcome=st.instrument.outcome_en)  # fmt: skip
    r.notes["summary"] = _summary(t, cfg.alpha)
    return r


def _stated(row) -> str:
    """What the hypothesis says: a sign, or a size (its band)."""
    if row.rule == "band":
        return f"between {row.band_low:g} and {row.band_high:g}"
    return row.direction


def _summary(t, alpha: float) -> str:
    """One sentence per rule that the study's hypotheses use."""
    direction, band = t[t["rule"] == "direction"], t[t["rule"] == "band"]
    parts = []
    if len(direction):
        supported = direction.loc[direction["verdict"] == "supported", "id"].tolist()
        wrong = direction.loc[(direction["verdict"] != "supported") & (direction["sign"] == "opposite"), "id"]
        against = f"; the estimate of {', '.join(wrong)} has the sign opposite to the one stated" if len(wrong) else ""
        parts.append(
            f"Of the study's {_hypotheses(len(direction))}{' about a sign' if len(band) else ''}, {len(supported)} "
            + (f"({', '.join(supported)}) " if supported else "")
            + f"{'is' if len(supported) == 1 else 'are'} supported at alpha {alpha:g} after Holm's adjustment"
            + against
            + "."
        )
    if len(band):
        counts = band["verdict"].value_counts()
        whose = "its" if len(direction) else "the study's"
        parts.append(
            f"Of {whose} {_hypotheses(len(band))} about a size, "
            f"{counts.get('matches', 0)} {_verb(counts.get('matches', 0), 'matches', 'match')} its band, "
            f"{counts.get('differs', 0)} {_verb(counts.get('differs', 0), 'differs', 'differ')} from it and "
            f"{counts.get('inconclusive', 0)} {_verb(counts.get('inconclusive', 0), 'is', 'are')} inconclusive "
            "(each judged on its own interval)."
        )
    return " ".join(parts)


def _hypotheses(n: int) -> str:
    return f"{n} hypothesis" if n == 1 else f"{n} hypotheses"


def _verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _about(term: str, labels: dict[str, str]) -> str:
    """The construct, or the pair, a hypothesis is about, by the study's own names (codes may hold an x)."""
    if term in labels:
        return f"{labels[term]} ({term})"
    pair = next((f"{labels[a]} × {labels[b]}" for a in labels for b in labels if f"{a}x{b}" == term), term)
    return f"{pair} ({term})"
