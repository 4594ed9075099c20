"""Book pages generated from data files: the questionnaire appendix and the data dictionary.

Both are written from the instrument YAML at build time, so the book can never disagree with
the questionnaire the loaders and the validator use.
"""

from __future__ import annotations

from cbec.book.safe_display import md_text
from cbec.io.instrument import Instrument


def _cell(text: object) -> str:
    """Instrument text is data (a user's own instrument may hold anything): shown, never interpreted."""
    return md_text(text)


def _title(inst: Instrument) -> tuple[str, str]:
    """The questionnaire's title in English and Chinese (a study file may give one string)."""
    t = inst.raw.get("title") or inst.raw.get("name") or "Questionnaire"
    return (str(t.get("en", "")), str(t.get("zh", t.get("en", "")))) if isinstance(t, dict) else (str(t), str(t))


def _scale_sentence(inst: Instrument) -> str:
    if inst.continuous:
        where = f" from {inst.allowed_text}" if inst.scale_min is not None or inst.scale_max is not None else ""
        rev = (
            f" Items marked ↺ are reverse-scored and recoded as {inst.scale_min:g} + {inst.scale_max:g} − score."
            if inst.reverse_items
            else ""
        )
        return f"Every item is a continuous score{where}.{rev}"
    k = inst.likert_points
    scale = " · ".join(
        f"{lab['value']} {_cell(lab['zh'])} / {_cell(lab['en'])}"
        if lab["zh"] != lab["en"]
        else f"{lab['value']} {_cell(lab['en'])}"
        for lab in inst.raw["likert"]["labels"]
    )
    rev = (
        f" Items marked ↺ are reverse-coded: agreement means *less* of the construct, and the pipeline recodes "
        f"them as {k + 1} − answer before scoring."
        if inst.reverse_items
        else ""
    )
    return f"Unless stated otherwise, every statement is answered on a {k}-point scale: {scale}.{rev}"


def questionnaire_page(inst: Instrument, article: bool = True) -> str:
    """The questionnaire as a readable MyST page (bilingual where the questionnaire is)."""
    en, zh = _title(inst)
    version = f" (instrument version {_cell(inst.raw['version'])})" if inst.raw.get("version") else ""
    origin = (
        "This page is generated from the instrument file that the loaders, the validator and the simulator "
        "read. Item wording is the project's own operationalisation of the seven-factor framework {cite}`li2026`."
        if article
        else "This page is generated from the study file, the same declaration the loaders and the validator read."
    )
    lines = [
        "(appendix-questionnaire)=",
        "# Appendix A. The questionnaire 问卷",
        "",
        f"**{_cell(en)}**" + (f" — {_cell(zh)}" if zh != en else "") + f"{version}.",
        "",
        origin,
        "",
        _scale_sentence(inst),
        "",
        *_profile_part(inst),
    ]
    n0 = 2 if inst.fields else 1
    for n, fac in enumerate(inst.factors, start=n0):
        lines += [f"## Part {n}. {_cell(fac.en)}" + (f" {_cell(fac.zh)}" if fac.zh != fac.en else ""), ""]
        for sd in fac.subdimensions:
            if len(fac.subdimensions) > 1:
                lines += [f"**{sd.code} {_cell(sd.en)} · {_cell(sd.zh)}**", ""]
            lines += _item_table(sd.items)
    lines += [f"## Part {len(inst.factors) + n0}. {_cell(inst.outcome_en)} (outcome)", ""]
    lines += _item_table(inst.performance_items)
    if inst.attention_id:
        att = inst.raw["attention_check"]
        lines += [
            "## Attention check 注意力检测",
            "",
            f"`{inst.attention_id}` — {_cell(att.get('en', ''))} {_cell(att.get('zh', ''))} "
            f"Any answer other than {inst.attention_expected} quarantines the response.",
            "",
        ]
    return "\n".join(lines)


def _item_table(items) -> list[str]:
    bilingual = any(it.zh != it.en for it in items)
    head = ["| id | statement | 陈述 |", "|---|---|---|"] if bilingual else ["| id | statement |", "|---|---|"]
    rows = [
        f"| `{it.id}`{' ↺' if it.reverse else ''} | {_cell(it.en)}" + (f" | {_cell(it.zh)} |" if bilingual else " |")
        for it in items
    ]
    return [*head, *rows, ""]


def _profile_part(inst: Instrument) -> list[str]:
    if not inst.fields:
        return []
    lines = ["## Part 1. Profile 概况", "", "| id | question | 问题 | answer |", "|---|---|---|---|"]
    for f in inst.fields:
        if f.derived or f.id in ("respondent_id", "duration_s"):
            continue
        if f.kind == "category":
            ans = "; ".join(f"{lv['en']} / {lv['zh']}" for lv in f.levels)  # escaped below, as a whole
        elif f.kind == "integer" and f.max == 1:
            ans = "yes / no"
        else:
            ans = "number" if f.kind in ("number", "integer") else "text"
        lines.append(f"| `{f.id}` | {_cell(f.en)} | {_cell(f.zh)} | {_cell(ans)} |")
    lines.append("")
    if inst.has_size_rule:
        lines += [
            f"Size class is not asked but derived: {_cell(inst.size_rule_text['en'])}",
            "",
            f"规模类别由规则推导：{_cell(inst.size_rule_text['zh'])}",
            "",
        ]
    return lines


def data_dictionary_page(inst: Instrument) -> str:
    """Every column of the tidy data contract, generated from the instrument."""
    dd = inst.data_dictionary()
    lines = [
        "(appendix-data-dictionary)=",
        "# Appendix B. Data dictionary 数据字典",
        "",
        "One row per respondent, one column per id below; missing answers are empty cells. Every loader "
        "(问卷星, Qualtrics, SPSS, Stata, tidy CSV) produces exactly this table. Generated from the "
        "questionnaire this run used.",
        "",
        "| column | block | type | allowed | required | label | 标签 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in dd.itertuples(index=False):
        lines.append(
            f"| `{r.column}` | {_cell(r.block)} | {_cell(r.type)} | {_cell(r.allowed)} | "
            f"{'yes' if r.required else ''} | {_cell(r.label_en)} | {_cell(r.label_zh)} |"
        )
    lines.append("")
    return "\n".join(lines)


def data_notice(origin: str, book: str = "article") -> str:
    """The banner every chapter shows, from the data's recorded origin (never from the presence of a file):
    simulated data, or real data."""
    if origin == "simulated":
        where = "the *Simulated data* chapter" if book == "article" else "`cbec simulate`"
        return (
            f":::{{warning}}\n**Simulated data.** The survey analysed on this page was generated by {where}, not "
            "collected from respondents. Results show what the method recovers from a known truth, not facts "
            "about a real population.\n:::"
        )
    return (
        ":::{note}\n**Real data.** This page analyses the data given to `cbec run`; no ground truth is known, so "
        "recovery checks against a planted truth are not shown.\n:::"
    )


def glue(name: str, value: object) -> None:
    """Glue a value for ``{glue:text}`` in the prose, as a plain Python number or string.

    myst-nb formats glued numbers by parsing their ``repr``; numpy 2 scalars print as
    ``np.float64(0.5)``, which it cannot parse, so numpy scalars are converted first.
    """
    from myst_nb import glue as _glue

    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    _glue(name, value, display=False)
