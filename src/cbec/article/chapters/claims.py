"""Chapter 5: the article's numbers, and the claims the survey can test."""

from __future__ import annotations

from cbec.article.claims import estimate_claims, load_claims
from cbec.study.chapters.base import ChapterResult, RunConfig, level_text, load_study

#: A referee reads the claim first, then the verdict; the numbers behind it follow (the statement column keeps
#: a readable width, so the verdict stays on the first screen at 1280 px).
TESTED_COLUMNS = [
    "claim_id",
    "statement",
    "verdict",
    "verdict_alt",
    "article_value",
    "unit",
    "estimate",
    "ci_low",
    "ci_high",
    "band_low",
    "band_high",
    "p_holm",
]


def c03_calibration_sentence() -> str:
    """What the calibration appendix measured for C03's rule at the book's size: how often it reaches each
    verdict where the claim is true (the book's world) and where another pair carries the coupling."""
    from cbec.article.calibrate import NO_RECORD, load_calibration

    rec = load_calibration()
    if not rec:
        return NO_RECORD
    n = rec["meta"]["sample_sizes"][0]
    cell = {r["scenario"]: r for r in rec["rows"] if r["rule"] == "c03_verdict" and r["n"] == n}
    if not {"shipped", "hidden_coupling"} <= set(cell):
        return ""
    true, false = cell["shipped"], cell["hidden_coupling"]
    return (
        f"How this rule behaves was measured beforehand (appendix E, {rec['meta']['reps']} simulated surveys of "
        f"{n:,} firms a world): where C03 is true it says 'matches' in {100 * true['share_matches']:.0f}% of "
        f"samples and 'differs' in {100 * true['share_differs']:.0f}%; where another pair carries the coupling it "
        f"says 'differs' in {100 * false['share_differs']:.0f}% and 'matches' in "
        f"{100 * false['share_matches']:.0f}%.{_c03_tie_clause(rec)} At {n:,} firms an 'inconclusive' C03 is "
        f"the likely outcome even where it is true, not evidence against it{_c03_ceiling_clause(true)}."
    )


def _c03_ceiling_clause(true: dict) -> str:
    """The most any test of C03's size could find in the claim's own world (the record's ``share_ceiling``)."""
    ceiling = true.get("share_ceiling")
    if ceiling is None or ceiling != ceiling:  # a record from before the ceiling was measured, or NaN
        return ""
    pair = str(true["ceiling_pair"]).replace("x", " × ")
    return (
        f": no test of the same size could say 'matches' in more than {100 * ceiling:.0f}% of those "
        f"samples, since on the comparison with {pair} alone nothing beats a one-sided z-test"
    )


def _c03_tie_clause(rec: dict) -> str:
    """Why C03 is judged on the constructs, in the record's figures: the world where MI x SC ties with a less
    reliably measured pair, at the largest size simulated."""
    big = max(rec["meta"]["sample_sizes"])
    cell = {
        r["rule"]: r
        for r in rec["rows"]
        if r["scenario"] == "unequal_reliability" and r["n"] == big and r["rule"].startswith("c03_verdict")
    }
    if {"c03_verdict", "c03_verdict_scores"} - set(cell):
        return ""
    return (
        f" Where MI × SC ties with a pair whose factors are measured less reliably ({big:,} firms), it says "
        f"'matches' in {100 * cell['c03_verdict']['share_matches']:.0f}%; the same test on mean scores would say "
        f"so in {100 * cell['c03_verdict_scores']['share_matches']:.0f}%, which is why the claim is judged on the "
        "constructs."
    )


def c14_calibration_sentence() -> str:
    """What the calibration appendix measured for C14's rule in the book's world: how often it reaches each
    verdict where the claim is exactly true, at the book's size and the next, and where it is false."""
    from cbec.article.calibrate import NO_RECORD, load_calibration

    rec = load_calibration()
    if not rec:
        return NO_RECORD
    sizes = rec["meta"]["sample_sizes"][:2]
    cell = {
        (r["n"], r["cycle_world"]): r
        for r in rec["rows"]
        if r["rule"] == "c14_verdict" and r["scenario"] == "shipped" and r["n"] in sizes
    }
    if len(cell) < 2 * len(sizes):
        return ""
    (n1, n2), true, false = sizes, cell[(sizes[0], "claim_true")], cell[(sizes[0], "world")]
    return (
        f"C14's rule was measured the same way. Where the claim is exactly true (order cycles "
        f"{true['planted']:.1f}% shorter), at {n1:,} firms it says 'matches' in {100 * true['share_matches']:.0f}% "
        f"of samples and 'differs' in {100 * true['share_differs']:.0f}%, at {n2:,} firms 'matches' in "
        f"{100 * cell[(n2, 'claim_true')]['share_matches']:.0f}%; in the book's world ({false['planted']:.1f}%, just "
        f"outside the claim's band) it says 'matches' in {100 * false['share_matches']:.0f}% and 'differs' in "
        f"{100 * false['share_differs']:.0f}% at {n1:,} firms."
    )


def claims_chapter(cfg: RunConfig) -> ChapterResult:
    """The register (every statement, by section and kind) and the tested claims with band, interval and
    verdict."""
    st = load_study(cfg)
    register = load_claims()
    tested = estimate_claims(st.clean, st.instrument, register, alpha=cfg.alpha, n_boot=cfg.n_boot, seed=cfg.seed)
    r = ChapterResult("claims")
    r.table(
        "register",
        register,
        "The claims register: every numeric statement of the article, in our words",
        columns=["claim_id", "section", "kind", "about", "statement", "value", "unit"],
    )
    r.table(
        "by_section",
        register.groupby(["section", "kind"]).size().unstack(fill_value=0),
        "Statements by section and kind",
        index=True,
        save=False,
    )
    r.table(
        "tested",
        tested,
        "The article's effect claims against our estimates",
        columns=[c for c in TESTED_COLUMNS if c in tested.columns],
    )
    r.table("not_testable", tested.attrs["not_testable"], "Claims this questionnaire cannot test, and why")
    kinds = register["kind"].value_counts()
    # A claim is counted once: a compound claim by its own verdict, not again through its parts.
    claims_once = tested[tested["part_of"].isna()] if "part_of" in tested.columns else tested
    counts = claims_once["verdict"].value_counts()
    r.value(
        cl_n=len(register),
        cl_level=level_text(cfg.alpha),
        cl_market=int(kinds.get("market_statistic", 0)),
        cl_firm=int(kinds.get("firm_fact", 0)),
        cl_effect=int(kinds.get("effect_claim", 0)),
        cl_tested=len(claims_once),
        cl_matches=int(counts.get("matches", 0)),
        cl_differs=int(counts.get("differs", 0)),
        cl_inconclusive=int(counts.get("inconclusive", 0)),
        cl_c03_calibration=c03_calibration_sentence(),
        cl_c14_calibration=c14_calibration_sentence(),
    )
    if cfg.simulated:
        r.notes["truth"] = (
            "**What this shows on the shipped data.** The survey is simulated and the simulation was written to "
            "contain several of these effects, sometimes at a different size than the article reports (for "
            "instance the supply-chain effect on order cycles). A verdict here says whether the method recovers "
            "what the simulation holds — nothing about real firms. The simulation plants no stage effect."
        )
    return r
