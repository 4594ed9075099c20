"""The interview chapters' work for any codebook, shared by the article's chapter 7
(:mod:`cbec.article.chapters.interviews`) and the study book's (:mod:`cbec.study.chapters.study_interviews`):
transcripts read and skipped, the coders and their agreement, salience, co-occurrence, exemplar quotes and the
joint display with the survey."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cbec.study import coder
from cbec.study import interviews as iv
from cbec.study.chapters.base import ChapterResult, RunConfig


def code_interviews(r: ChapterResult, cfg: RunConfig, codebook, survey_effects) -> ChapterResult:
    """The chapter's work for any codebook: ``survey_effects(cfg)`` gives the survey's main effects per factor
    (``term, estimate, p_value``) for the joint display."""
    folder = Path(cfg.interviews_dir)
    corpus = iv.read_transcripts(folder)
    if (folder / iv.ILLUSTRATIVE_MARK).exists():
        r.notes["illustrative"] = (
            ":::{warning}\n**Illustrative transcripts.** The interviews analysed here were "
            "written for this project as illustrative material; the firms and people are "
            "fictional, and the hand-coded sample was written by the project too, so the "
            "agreement below is optimistic.\n:::"
        )
    factors = codebook.factor_codes
    hybrid = coder.fit_coder(codebook)
    coded, primary, keyword = iv.hybrid_codes(corpus.segments, hybrid)
    r.table("coded_segments", coded, "", save=True)
    files = corpus.files.drop(columns=["date"])
    r.table("files", files.loc[:, (files != "").any()], "Transcripts read", save=False)  # optional keys unused
    r.table("skipped", corpus.skipped, "Files skipped, with the reason", save=False)
    answers = corpus.segments[corpus.segments["speaker"] == "respondent"]
    _agreement(r, cfg, folder, coded, keyword, answers, factors)
    _realtext(r, codebook)
    r.value(
        iv_coder=hybrid.trained_on,
        iv_uncoded=int((primary["primary"] == "").sum()),
        iv_uncoded_share=f"{(primary['primary'] == '').mean():.0%}" if len(primary) else "—",
    )
    by_firm = iv.salience(coded, corpus.segments, "firm", factors)
    by_size = iv.salience(coded, corpus.segments, "size_class", factors)
    co = iv.cooccurrence(coded, corpus.segments, factors)
    pairs = iv.cooccurrence_pairs(co)
    r.table("salience_by_firm", by_firm, "Salience by firm (share of answers)", index=True)
    r.table("salience_by_size", by_size, "Salience by size group (share of answers)", index=True)
    r.table("cooccurrence", co, "", index=True)
    r.table("cooccurrence_pairs", pairs, "Most frequent factor pairs in answers")
    r.table("cooccurrence_top", pairs.head(8), "Most frequent factor pairs in answers", save=False)
    _figures(r, iv.salience(coded, corpus.segments, "file", factors).rename(index=lambda f: f.rsplit(".", 1)[0]), co)
    quotes = iv.attach_translations(iv.exemplar_quotes(coded, files=corpus.files), folder)
    r.table("quotes", quotes, "", save=True)  # shown as block quotes (ShownChapter.quotes), never as Markdown
    salient = by_size.mean().sort_values(ascending=False)
    joint = iv.joint_display(survey_effects(cfg), by_size.mean())
    r.table("joint_display", joint, "Survey association and interview salience per factor")
    untranslated = int(((quotes["translation"] == "") & ~quotes["quote"].str.isascii()).sum())
    name = codebook.factor_names
    r.value(
        iv_most_salient=" and ".join(f"{name[f]} ({f})" for f in salient.index[:2]),
        iv_agree=", ".join(joint.loc[joint["reading"].str.startswith("agreement"), "factor"]) or "none",
        iv_tension=", ".join(joint.loc[joint["reading"] == "tension", "factor"]) or "none",
        iv_untranslated=untranslated,
    )
    _counts(r, corpus, coded, answers, pairs)
    return r


def _counts(r: ChapterResult, corpus, coded, answers, pairs) -> None:
    """The counts the prose quotes: transcripts, answers, size classes, the most frequent pair."""
    top = pairs.iloc[0] if len(pairs) and pairs["segments_together"].iloc[0] > 0 else None
    misc = pairs[(pairs["factor_a"] == "MI") & (pairs["factor_b"] == "SC")]
    r.value(
        iv_present=True,
        iv_read=len(corpus.files),
        iv_skipped=len(corpus.skipped),
        iv_segments=len(answers),
        iv_coded=coded["segment_id"].nunique(),
        iv_large=int((corpus.files["size_class"] == "large").sum()),
        iv_sme=int((corpus.files["size_class"] == "sme").sum()),
        iv_pairs=len(pairs),
        iv_top_pair=f"{top['factor_a']} × {top['factor_b']}"
        if top is not None
        else "no pair (no answer has two codes)",
        iv_top_n=int(top["segments_together"]) if top is not None else 0,
        iv_misc_n=int(misc["segments_together"].iloc[0]) if len(misc) else 0,
        iv_misc_rank=int(misc.index[0]) + 1 if len(misc) else 0,
    )


def _agreement(r: ChapterResult, cfg: RunConfig, folder: Path, coded, keyword, answers, factors) -> None:
    """Both coders against the hand-coded sample and against each other; a second person when given."""
    ids = answers["segment_id"]
    hybrid_m = iv.presence_matrix(coded, ids, factors)
    keyword_m = iv.presence_matrix(keyword, ids, factors)
    between = iv.kappa_table(hybrid_m, keyword_m)
    r.table("kappa_hybrid_vs_keyword", between, "The combined coder against the keyword coder alone (all answers)")
    r.value(iv_kappa_between=f"{between.set_index('factor').loc['pooled', 'kappa']:.2f}")
    gold_path = Path(cfg.gold_path) if cfg.gold_path else folder / iv.GOLD_CODING
    if not gold_path.exists():
        r.table("kappa_auto_vs_gold", pd.DataFrame(columns=["factor", "kappa", "agreement"]), "No hand-coded sample")
        r.table("kappa_keyword_vs_gold", pd.DataFrame(), "", save=False)
        r.value(iv_kappa=float("nan"), iv_gold=False, iv_kappa_text="not checked (no hand-coded sample)",
                iv_kappa_keyword_text="not checked")  # fmt: skip
        r.notes["no_gold"] = (
            "No hand-coded sample was found (`coding_gold.csv` in the transcripts folder, or "
            "`--gold`), so the automatic coding is not checked against a person's."
        )
        return
    gold = iv.coding_to_matrix(iv.read_coding(gold_path), factors)
    kappa = iv.kappa_table(hybrid_m.reindex(gold.index, fill_value=0), gold)
    kappa_kw = iv.kappa_table(keyword_m.reindex(gold.index, fill_value=0), gold)
    r.table(
        "kappa_auto_vs_gold",
        kappa,
        f"The combined coder against the hand-coded sample ({kappa.attrs['segments']} segments)",
    )
    r.table("kappa_keyword_vs_gold", kappa_kw, "The keyword coder alone against the hand-coded sample")
    pooled = kappa.set_index("factor").loc["pooled", "kappa"]
    r.value(
        iv_kappa=pooled,
        iv_gold=True,
        iv_kappa_text=f"{pooled:.2f}",
        iv_kappa_keyword_text=f"{kappa_kw.set_index('factor').loc['pooled', 'kappa']:.2f}",
    )
    if cfg.second_coder_path:
        k2 = iv.kappa_table(gold, iv.coding_to_matrix(iv.read_coding(cfg.second_coder_path), factors))
        r.table("kappa_between_coders", k2, "Agreement between the two human coders")


def _realtext(r: ChapterResult, codebook) -> None:
    """The coder on text no one on the project wrote: leave-one-source-out over the shipped real-text set
    (only for the shipped codebook's factors, which are the set's labels)."""
    if set(codebook.factor_codes) != set(coder.realtext_set()["label"]):
        r.value(iv_realtext=False, iv_realtext_accuracy="not measured", iv_realtext_uncoded="—", iv_realtext_n=0,
                iv_realtext_sources=0, iv_realtext_keyword="—", iv_realtext_heldout="—")  # fmt: skip
        for name in ("realtext_by_factor", "realtext_by_split"):
            r.table(name, pd.DataFrame(), "", save=False)
        r.notes["realtext"] = (
            "The real-text measure of the coder applies to the shipped codebook's factors only; for this "
            "codebook the hand-coded sample is the only check of the coding."
        )
        return
    ev = coder.evaluate_by_source(codebook=codebook)
    overall = coder.accuracy_table(ev).iloc[0]
    by_label = coder.accuracy_table(ev, "label")
    by_split = coder.accuracy_table(ev, "split")
    cols = ["paragraphs", "hybrid_accuracy", "hybrid_uncoded", "hybrid_recall", "keyword_accuracy", "learned_accuracy"]
    r.table(
        "realtext_by_factor",
        by_label[cols].reset_index(),
        "Primary factor right, out of sample (each source coded by a coder trained without it), by factor",
    )
    r.table("realtext_by_split", by_split[cols].reset_index(), "The same, for the development and held-out sources")
    r.table("realtext_paragraphs", ev, "", save=True)
    r.value(
        iv_realtext=True,
        iv_realtext_accuracy=f"{overall['hybrid_accuracy']:.2f}",
        iv_realtext_uncoded=f"{overall['hybrid_uncoded']:.0%}",
        iv_realtext_keyword=f"{overall['keyword_accuracy']:.2f}",
        iv_realtext_heldout=f"{by_split.loc['heldout', 'hybrid_accuracy']:.2f}",
        iv_realtext_n=int(overall["paragraphs"]),
        iv_realtext_sources=int(ev["source"].nunique()),
    )


def _figures(r: ChapterResult, by_file: pd.DataFrame, co: pd.DataFrame) -> None:
    r.figure(
        "salience",
        "matrix_heatmap",
        by_file,
        "Share of each transcript's answers mentioning a factor",
        fmt=".2f",
        cmap="mako_r",
        alt="Heatmap: for each transcript, the share of its answers that mention each factor.",
    )
    r.figure(
        "cooccurrence",
        "matrix_heatmap",
        co,
        "Answers in which two factors are coded together (diagonal: all answers per factor)",
        fmt=".0f",
        cmap="mako_r",
        alt="Heatmap of how often two factors are mentioned in the same answer.",
    )
    r.figure(
        "network",
        "cooccurrence_network",
        co,
        alt="Network of the factors; thicker links: mentioned together more often.",
    )


#: Tables the chapter's display cells show, and the values its prose quotes, when no transcripts are given.
_SHOWN = (
    "files",
    "skipped",
    "kappa_auto_vs_gold",
    "kappa_keyword_vs_gold",
    "kappa_hybrid_vs_keyword",
    "realtext_by_factor",
    "realtext_by_split",
    "salience_by_firm",
    "salience_by_size",
    "cooccurrence_top",
    "quotes",
    "joint_display",
)


def absent(r: ChapterResult) -> ChapterResult:
    r.absent = True
    r.notes["absent"] = (
        "This run was given no interview transcripts (`cbec run --interviews DIR`): the sections below are empty."
    )
    for name in _SHOWN:
        r.table(name, pd.DataFrame(columns=["quote", "factor", "firm"] if name == "quotes" else []), "", save=False)
    r.value(
        iv_present=False,
        iv_read=0,
        iv_skipped=0,
        iv_segments=0,
        iv_coded=0,
        iv_large=0,
        iv_sme=0,
        iv_kappa=float("nan"),
        iv_kappa_text="not checked",
        iv_kappa_keyword_text="not checked",
        iv_kappa_between="—",
        iv_coder="—",
        iv_uncoded=0,
        iv_uncoded_share="—",
        iv_realtext=False,
        iv_realtext_accuracy="not measured",
        iv_realtext_uncoded="—",
        iv_realtext_keyword="—",
        iv_realtext_heldout="—",
        iv_realtext_n=0,
        iv_realtext_sources=0,
        iv_pairs=0,
        iv_most_salient="—",
        iv_agree="none",
        iv_tension="none",
        iv_untranslated=0,
        iv_gold=False,
        iv_top_pair="—",
        iv_top_n=0,
        iv_misc_n=0,
        iv_misc_rank=0,
    )
    return r
