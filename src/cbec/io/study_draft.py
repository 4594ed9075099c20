"""Draft a study file from an export's header row and answers, for the researcher to confirm (``cbec init``).

The step that takes longest by hand is writing down which columns are items of which construct. The draft
reads the header the way each export writes it and groups item columns into constructs:

- 问卷星 matrix rows ``12(statement)``: one construct per matrix question (``Q12``), items ``Q12_1, Q12_2, ...``
  with the statement as label; 问卷星 single questions ``3、question`` become candidate groupings or fields;
- Qualtrics and tidy names with a common prefix and a number (``Q5_1``, ``IMAG1``, ``cusl_2``): one
  construct per prefix;
- the answer scale from the answers: whole numbers from 1 to k give a k-point Likert scale, anything else a
  continuous one.

Columns with a few distinct values that are not items are offered as groupings. The last construct is marked as
the outcome, to be confirmed. Export headers that are not ids are mapped by a mapping file written beside the
study file. Why hand-written: the conventions are this project's (the loaders read the same headers).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from cbec.io.ingest import _WJX_MATRIX_TEXT as _WJX_MATRIX
from cbec.io.ingest import _WJX_QUESTION, WJX_MISSING_CODES, SurveyInputError, detect_format, read_table

_WJX_SINGLE = re.compile(_WJX_QUESTION.pattern + r"\s*(.+)$", re.S)
_PREFIXED = re.compile(r"^([A-Za-z][A-Za-z_]*?)_?(\d+)$")
#: Columns a survey tool adds that are never items or groupings.
_META = re.compile(r"^(序号|提交答卷时间|所用时间|来源|来源详情|来自IP|总分|StartDate|EndDate|Status|IPAddress|"
                   r"Progress|Duration.*|Finished|RecordedDate|ResponseId|Recipient.*|ExternalReference|"
                   r"Location.*|DistributionChannel|UserLanguage|Unnamed.*|)$", re.IGNORECASE)  # fmt: skip
MAX_GROUP_LEVELS = 10


def draft_study(export: str | Path, folder: str | Path) -> tuple[dict, dict[str, str]]:
    """The draft study file (as a mapping) and the mapping of export headers to ids (empty when the headers
    are ids already)."""
    export = Path(export)
    fmt = detect_format(export)
    data = read_table(export, fmt)
    header = [str(c) for c in data.columns]
    blocks, mapping = _item_blocks(header)
    # 0/1 columns under one question are a multi-select's options, not a scale
    blocks = {k: v for k, v in blocks.items() if not _binary(data[[src for _, _, src in v]])}
    constructs = []
    for code, cols in blocks.items():
        items = [{"id": ident, "en": label} if label != ident else ident for ident, label, _ in cols]
        constructs.append({"code": code, "en": code, "items": items})
    if len(constructs) < 2:
        raise SurveyInputError(
            export,
            f"found {len(constructs)} group(s) of item columns; a study needs constructs and an outcome",
            hint="name item columns with a common prefix and a number (A1, A2, ...), or write study.yaml by hand",
        )
    item_cols = [src for cols in blocks.values() for _, _, src in cols]
    answers = data[item_cols]
    if fmt == "wjx":  # 问卷星 writes a skipped or hidden question as -3 / -2: not answers
        answers = answers.mask(answers.astype("string").isin(list(WJX_MISSING_CODES)))
    scale = _scale(answers)
    used = set(item_cols)
    groupings = [
        {"column": mapping.get(c, c), "en": _label(c)}
        for c in header
        if c not in used and not _META.match(c) and 2 <= data[c].nunique(dropna=True) <= MAX_GROUP_LEVELS
    ]
    study = {
        "name": Path(folder).name,
        "title": Path(folder).name,
        "origin": "real",
        "data": _relative(export, Path(folder)),
        "format": fmt,
        "scale": scale,
        "constructs": constructs[:-1],
        "outcome": constructs[-1],
        "groupings": groupings,
    }
    return study, mapping


def _item_blocks(header: list[str]) -> tuple[dict[str, list[tuple[str, str, str]]], dict[str, str]]:
    """Construct code -> [(id, label, export column)], and the header -> id mapping for non-id headers."""
    blocks: dict[str, list[tuple[str, str, str]]] = {}
    mapping: dict[str, str] = {}
    for col in header:
        if m := _WJX_MATRIX.match(col):
            code = f"Q{m.group(1)}"
            ident = f"{code}_{len(blocks.get(code, [])) + 1}"
            blocks.setdefault(code, []).append((ident, m.group(2).strip(), col))
            mapping[col] = ident
        elif m := _WJX_SINGLE.match(col):
            mapping[col] = f"Q{m.group(1)}"
        elif (m := _PREFIXED.match(col)) and not _META.match(col):
            blocks.setdefault(m.group(1), []).append((col, col, col))
    return blocks, mapping


def _binary(cols: pd.DataFrame) -> bool:
    values = pd.to_numeric(cols.stack(), errors="coerce").dropna()
    return not values.empty and bool(values.isin([0, 1]).all())


def _scale(items: pd.DataFrame) -> dict:
    """Whole-number answers from 1 to k: a k-point Likert scale; anything else: continuous."""
    values = pd.to_numeric(items.stack(), errors="coerce").dropna()
    if values.empty:
        return {"points": 5, "note": "answers are option texts: list them under likert.labels, in order"}
    whole = bool((values % 1 == 0).all())
    lo, hi = float(values.min()), float(values.max())
    if whole and lo >= 1 and 2 <= hi <= 11:
        return {"points": int(hi)}
    return {"type": "continuous", "min": lo, "max": hi}


def _label(col: str) -> str:
    m = _WJX_SINGLE.match(col)
    return m.group(2).strip() if m else col


def _relative(path: Path, folder: Path) -> str:
    """The data file as the study file names it: relative to the study folder."""
    import os

    return os.path.relpath(path.resolve(), folder.resolve())


def write_draft(export: str | Path, folder: str | Path) -> list[Path]:
    """Write ``study.yaml`` (and ``mapping.yaml`` when needed) into ``folder``; never overwrite a study file."""
    folder = Path(folder)
    target = folder / "study.yaml"
    if target.exists():
        raise SurveyInputError(target, "a study file is already there", hint="choose a new folder, or edit it")
    study, mapping = draft_study(export, folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if mapping:
        study["mapping"] = "mapping.yaml"
        (folder / "mapping.yaml").write_text(
            yaml.safe_dump({"columns": mapping}, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        written.append(folder / "mapping.yaml")
    head = (
        "# Drafted by `cbec init` from the export's header row: confirm every line before running.\n"
        "# - name and label each construct (en:, zh:), and check which columns belong to it;\n"
        "# - the outcome is the LAST group found: move the right construct here;\n"
        "# - groupings are the columns with a few distinct values: keep those you want compared;\n"
        "# - add reverse: [...], missing_codes: [...], screens: ... as your study needs (see README).\n"
    )
    target.write_text(head + yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return [target, *written]
