"""The questionnaire as a text 问卷星 imports, so that a researcher fields exactly the survey the book reads.

问卷星 creates a questionnaire from plain text (批量导入 / its text-to-survey service): the first line is the
title, then the description, then numbered questions ``N. 题干[题型]`` separated by blank lines, each followed
by its options one per line; a matrix-scale question lists its rows after ``行：`` and its columns after
``列：`` as ``- text`` lines, and ``=== 分页 ===`` starts a new page. The rules are those of 问卷星's own
parser as published in its SDK (wjxcom/wjx-ai-kit, ``wjx-api-sdk/src/modules/survey/text-to-survey.ts`` and
the DSL syntax guide beside it); ``tests/test_fielding.py`` parses our text by those rules.

Why by hand: no library writes this format. The layout follows how the book reads a download: one
matrix-scale question per factor whose rows are the items (a download heads them ``N(row text)``, matched to
item ids by their text), the profile questions as single-choice or fill-in questions, the sales channels as
one multi-select question, the attention check as a row among the items and the common-method marker (when
the instrument has one) as a row among the performance statements.
"""

from __future__ import annotations

from cbec.io.instrument import Instrument

__all__ = ["wjx_import_problem", "wjx_import_text"]

_PAGE = "=== 分页 ==="
_WORDS = {
    "zh": {"scale": "请根据贵企业的实际情况，选择您对每个陈述的同意程度。", "profile": "企业概况"},
    "en": {"scale": "Please say how far you agree with each statement about your firm.", "profile": "Firm profile"},
}


def _clean(text: str) -> str:
    """One line of question text; square brackets would be read as a question-type label."""
    line = " ".join(str(text).split())
    if "[" in line or "]" in line:
        raise ValueError(f"问卷星's text import reads [...] as a question type; reword {line!r} without brackets")
    return line


def _matrix(n: int, title: str, rows: list[str], columns: list[str]) -> list[str]:
    return [
        f"{n}. {_clean(title)}[矩阵量表题]",
        "行：",
        *(f"- {_clean(r)}" for r in rows),
        "列：",
        *(f"- {_clean(c)}" for c in columns),
        "",
    ]


def wjx_import_text(inst: Instrument, lang: str = "zh") -> str:
    """The instrument as 问卷星 import text in Chinese (``lang="zh"``) or English.

    Parameters
    ----------
    inst : Instrument
    lang : {"zh", "en"}

    Returns
    -------
    str
        Paste it into 问卷星's text import (or save it as a .txt file and import it).

    Examples
    --------
    >>> from cbec.io.instrument import load_instrument
    >>> text = wjx_import_text(load_instrument())
    >>> text.splitlines()[0]
    '跨境电商企业成功要素调查问卷'
    >>> sum(line.endswith("[矩阵量表题]") for line in text.splitlines())  # seven factors and performance
    8
    """
    if lang not in _WORDS:
        raise ValueError("lang must be 'zh' or 'en'")
    if inst.continuous:
        raise ValueError("a continuous scale has no answer options to field as a 问卷星 matrix question")
    words = _WORDS[lang]
    scale = [lab[lang] for lab in inst.raw["likert"]["labels"]]
    title = inst.raw.get("title") or inst.raw.get("name") or ""
    title = title.get(lang, title.get("en", "")) if isinstance(title, dict) else str(title)
    lines = [_clean(str(title or "")), "", words["scale"], ""]
    n = 0
    for f in inst.fields:
        if (
            f.derived
            or f.id in ("respondent_id", "duration_s")
            or any(f.id in {o["field"] for o in ms["options"]} for ms in inst.multi_selects)
        ):
            continue
        n += 1
        if f.kind == "category":
            lines += [f"{n}. {_clean(getattr(f, lang))}[单选题]", *(_clean(lv[lang]) for lv in f.levels), ""]
        else:
            lines += [f"{n}. {_clean(getattr(f, lang))}[填空题]", ""]
    for ms in inst.multi_selects:
        n += 1
        lines += [f"{n}. {_clean(ms[lang])}[多选题]", *(_clean(o[lang]) for o in ms["options"]), ""]
    att = inst.raw["attention_check"][lang] if inst.attention_id else None
    middle = len(inst.factors) // 2
    for k, fac in enumerate(inst.factors):
        lines += [_PAGE, ""]
        rows = [getattr(it, lang) for sd in fac.subdimensions for it in sd.items]
        if k == middle and att:  # the attention check hides among the items, as it should
            rows.append(att)
        n += 1
        lines += _matrix(n, getattr(fac, lang), rows, scale)
    n += 1
    rows = [getattr(it, lang) for it in inst.performance_items]
    if inst.marker_id:  # the marker sits among the last statements, as any other would
        rows.append(inst.raw["marker"][lang])
    lines += [_PAGE, "", *_matrix(n, inst.outcome_zh if lang == "zh" else inst.outcome_en, rows, scale)]
    return "\n".join(lines).rstrip() + "\n"


def wjx_import_problem(inst: Instrument) -> str | None:
    """Why this questionnaire cannot be written as 问卷星 import text (a continuous scale, a bracket in a
    wording), or ``None`` when it can: the book then leaves the import text out and says why instead of
    failing after every chapter has run."""
    try:
        for lang in _WORDS:
            wjx_import_text(inst, lang)
    except ValueError as exc:
        return str(exc)
    return None
