"""Chapter 6: the two case firms, coded from the article by a stated rubric."""

from __future__ import annotations

from cbec.article import cases
from cbec.article.claims import load_claims
from cbec.study.chapters.base import ChapterResult, RunConfig


def cases_chapter(cfg: RunConfig) -> ChapterResult:
    """Profiles, headline figures (claims register ids) and rubric scores per factor of both firms."""
    register = load_claims()
    data = cases.load_cases(claims=register)
    scores = cases.factor_scores(data)
    r = ChapterResult("cases")
    r.table("profiles", cases.profile_table(data), "The two case firms", index=True, save=False)
    r.table("facts", cases.facts_table(data, register), "Headline figures (claims register ids)", save=False)
    r.table(
        "factor_scores",
        scores,
        "Practices per factor and the resulting score",
        columns=["firm", "factor", "practices", "quantified_outcomes", "score", "practice_list", "claims"],
    )
    r.figure(
        "comparison",
        "case_comparison",
        scores,
        alt="Bar chart of the rubric score of each factor for the two case firms.",
    )
    piv = scores.pivot(index="factor", columns="firm_id", values="score")
    r.value(cs_same=int((piv.iloc[:, 0] == piv.iloc[:, 1]).sum()), cs_min=int(scores["score"].min()))
    return r
