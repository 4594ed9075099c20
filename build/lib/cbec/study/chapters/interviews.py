"""Chapter 7: what the interviews say, coded against the same seven factors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cbec.stats import coupling, models
from cbec.study import interviews as iv
from cbec.study.chapters.base import ChapterResult, RunConfig, load_study


def interviews_chapter(cfg: RunConfig) -> ChapterResult:
    """Transcripts read and skipped, coder agreement, salience by firm and size, co-occurrence, exemplar
    quotes and the joint display with the survey."""
    r = ChapterResult("interviews")
    if not cfg.interviews_dir:
        return _absent(r)
    folder = Path(cfg.interviews_dir)
    corpus = iv.read_transcripts(folder)
    if (folder / iv.ILLUSTRATIVE_MARK).exists():
        r.notes["illustrative"] = (
            ":::{warning}\n**Illustrative transcripts.** The interviews analysed here were "
            "written for this project as illustrative material; the firms and people are "
            "fictional, and the hand-coded sample was written by the project too, so the "
            "agreement below is optimistic.\n:::"
        )
    coded = iv.code_segments(corpus.segments, iv.load_codebook())
    r.table("coded_segments", coded, "", save=True)
    r.table("files", corpus.files.drop(columns=["date"]), "Transcripts read", save=False)
    r.table("skipped", corpus.skipped, "Files skipped, with the reason", save=False)
    answers = corpus.segments[corpus.segments["speaker"] == "respondent"]
    by_firm = iv.salience(coded, corpus.segments, "firm")
    by_size = iv.salience(coded, corpus.segments, "size_class")
    co = iv.cooccurrence(coded, corpus.segments)
    pairs = iv.cooccurrence_pairs(co)
    r.table("salience_by_firm", by_firm, "Salience by firm (share of answers)", index=True)
    r.table("salience_by_size", by_size, "Salience by size group (share of answers)", index=True)
    r.table("cooccurrence", co, "", index=True)
    r.table("cooccurrence_pairs", pairs, "Most frequent factor pairs in answers")
    r.table("cooccurrence_top", pairs.head(8), "Most frequent factor pairs in answers", save=False)
    gold_path = Path(cfg.gold_path) if cfg.gold_path else folder / iv.GOLD_CODING
    if gold_path.exists():
        gold = iv.coding_to_matrix(iv.read_coding(gold_path))
        kappa = iv.kappa_table(iv.presence_matrix(coded, gold.index), gold)
        r.table(
            "kappa_auto_vs_gold",
            kappa,
            f"Automatic coder against the hand-coded sample ({kappa.attrs['segments']} segments)",
        )
        pooled = kappa.set_index("factor").loc["pooled", "kappa"]
        r.value(iv_kappa=pooled, iv_gold=True, iv_kappa_text=f"{pooled:.2f}")
        if cfg.second_coder_path:
            k2 = iv.kappa_table(gold, iv.coding_to_matrix(iv.read_coding(cfg.second_coder_path)))
            r.table("kappa_between_coders", k2, "Agreement between the two human coders")
    else:
        r.table("kappa_auto_vs_gold", pd.DataFrame(columns=["factor", "kappa", "agreement"]), "No hand-coded sample")
        r.value(iv_kappa=float("nan"), iv_gold=False, iv_kappa_text="not checked (no hand-coded sample)")
        r.notes["no_gold"] = (
            "No hand-coded sample was found (`coding_gold.csv` in the transcripts folder, or "
            "`--gold`), so the automatic coding is not checked against a person's."
        )
    by_file = iv.salience(coded, corpus.segments, "file").rename(index=lambda f: f.rsplit(".", 1)[0])
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
        alt="Network of the seven factors; thicker links: mentioned together more often.",
    )
    quotes = iv.attach_translations(iv.exemplar_quotes(coded, files=corpus.files), folder)
    r.table("quotes", quotes, "", save=True)  # shown as block quotes (ShownChapter.quotes), never as Markdown
    st = load_study(cfg)
    a = st.analysis
    base = models.baseline_and_increment(a.scores, a.y, a.controls, coupling.system_indices(a.indices)["D"])["baseline"]
    joint = iv.joint_display(base, iv.salience(coded, corpus.segments, "size_class").mean())
    r.table("joint_display", joint, "Survey association and interview salience per factor")
    salient = iv.salience(coded, corpus.segments, "size_class").mean().sort_values(ascending=False)
    untranslated = int(((quotes["translation"] == "") & ~quotes["quote"].str.isascii()).sum())
    r.value(
        iv_most_salient=" and ".join(salient.index[:2]),
        iv_agree=", ".join(joint.loc[joint["reading"].str.startswith("agreement"), "factor"]) or "none",
        iv_tension=", ".join(joint.loc[joint["reading"] == "tension", "factor"]) or "none",
        iv_untranslated=untranslated,
    )
    top = pairs.iloc[0]
    misc = pairs[(pairs["factor_a"] == "MI") & (pairs["factor_b"] == "SC")]
    r.value(
        iv_present=True,
        iv_read=len(corpus.files),
        iv_skipped=len(corpus.skipped),
        iv_segments=len(answers),
        iv_coded=coded["segment_id"].nunique(),
        iv_large=int((corpus.files["size_class"] == "large").sum()),
        iv_sme=int((corpus.files["size_class"] == "sme").sum()),
        iv_top_pair=f"{top['factor_a']} × {top['factor_b']}",
        iv_top_n=int(top["segments_together"]),
        iv_misc_n=int(misc["segments_together"].iloc[0]) if len(misc) else 0,
        iv_misc_rank=int(misc.index[0]) + 1 if len(misc) else 0,
    )
    return r


#: Tables the chapter's display cells show, and the values its prose quotes, when no transcripts are given.
_SHOWN = (
    "files",
    "skipped",
    "kappa_auto_vs_gold",
    "salience_by_firm",
    "salience_by_size",
    "cooccurrence_top",
    "quotes",
    "joint_display",
)


def _absent(r: ChapterResult) -> ChapterResult:
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
