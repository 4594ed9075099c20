"""Read a survey export into the tidy data contract (one row per firm, one column per item id).

Supported exports, detected from the file's extension and header (override with ``fmt``):

``tidy``        CSV, Parquet or xlsx whose columns are already the instrument's ids.
``wjx``         问卷星 (Wenjuanxing) Excel/CSV export: Chinese metadata columns, then one
                column per question headed ``N、text`` or ``N(k)`` for matrix rows.
``qualtrics``   Qualtrics CSV with its three header rows (ids, question text, ImportId JSON).
``spss``/``stata``  ``.sav`` / ``.dta`` files, value labels resolved by pyreadstat.

Every loader returns strings/numbers as found plus a ``_source_row`` column (the row number a
person sees when opening the file), so that validation errors can point at the original row.
Nothing here judges the answers: that is :mod:`cbec.validate`'s job.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from cbec.instrument import Instrument

SOURCE_ROW = "_source_row"
FORMATS = ("tidy", "wjx", "qualtrics", "spss", "stata")

# 问卷星 metadata headers and the contract column each feeds, where it feeds one.
WJX_META = {
    "序号": "respondent_id",
    "答卷编号": "respondent_id",
    "提交答卷时间": "_submitted_at",
    "所用时间": "duration_s",
    "来源": "_source",
    "来源详情": "_source_detail",
    "来自IP": "_ip",
    "总分": "_total_score",
}
_WJX_QUESTION = re.compile(r"^\s*(\d+)\s*[、.．]")
_WJX_MATRIX = re.compile(r"^\s*(\d+)\s*[(（]\s*(\d+)\s*[)）]")


class SurveyInputError(Exception):
    """An expected problem with a user's file: reported as one clear message, exit status 2."""

    def __init__(self, path: str | Path, message: str, *, row: int | None = None, column: str | None = None,
                 hint: str = ""):
        self.path, self.row, self.column, self.hint = str(path), row, column, hint
        where = [f"file {self.path}"]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = f"{', '.join(where)}: {message}"
        if hint:
            text += f"\n  what to do: {hint}"
        super().__init__(text)


def _read_text_table(path: Path, header: int | list[int] | None = 0) -> pd.DataFrame:
    """Read a CSV in UTF-8 (with or without BOM) or GB18030, the encodings 问卷星 writes."""
    last_error: Exception | None = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False, na_values=[""],
                               header=header)
        except UnicodeDecodeError as exc:
            last_error = exc
        except pd.errors.ParserError as exc:
            raise SurveyInputError(path, f"not a readable CSV table ({exc})",
                                   hint="export the survey again as CSV or xlsx") from exc
        except pd.errors.EmptyDataError as exc:
            raise SurveyInputError(path, "the file is empty", hint="check that the export finished") from exc
    raise SurveyInputError(path, f"cannot decode the text as UTF-8 or GB18030/GBK ({last_error})",
                           hint="re-export as UTF-8 CSV or as xlsx")


def _read_any_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_text_table(path)
    if suffix in (".xlsx", ".xlsm"):
        try:
            return pd.read_excel(path, dtype=str, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise SurveyInputError(path, f"not a readable Excel workbook ({exc})",
                                   hint="open it in Excel/WPS and save as .xlsx again") from exc
    if suffix == ".parquet":
        return pd.read_parquet(path)
    raise SurveyInputError(path, f"unsupported file type {suffix!r}",
                           hint="use CSV, xlsx, Parquet, SPSS .sav or Stata .dta")


def detect_format(path: str | Path) -> str:
    """Guess the export format from extension and header row."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".sav":
        return "spss"
    if suffix == ".dta":
        return "stata"
    if suffix == ".parquet":
        return "tidy"
    head = _read_any_table(path).head(2) if suffix in (".csv", ".txt", ".xlsx", ".xlsm") else None
    if head is None:
        raise SurveyInputError(path, f"unsupported file type {suffix!r}",
                               hint="use CSV, xlsx, Parquet, SPSS .sav or Stata .dta")
    cols = [str(c) for c in head.columns]
    if any(c in WJX_META for c in cols) or sum(bool(_WJX_QUESTION.match(c) or _WJX_MATRIX.match(c)) for c in cols) >= 3:
        return "wjx"
    if "ResponseId" in cols or ("StartDate" in cols and len(head) and str(head.iloc[0, 0]).startswith("Start")):
        return "qualtrics"
    return "tidy"


def load_mapping(path: str | Path | None) -> dict[str, str]:
    """Read a YAML mapping ``{column in the export: instrument id}``; ``None`` gives ``{}``.

    The file has one key, ``columns``, e.g.::

        columns:
          Q5_1: MI11
          "3(1)": MI11
    """
    if path is None:
        return {}
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SurveyInputError(path, f"cannot read the mapping file ({exc})",
                               hint="the mapping is YAML with a 'columns:' block") from exc
    cols = raw.get("columns") if isinstance(raw, dict) else None
    if not isinstance(cols, dict):
        raise SurveyInputError(path, "the mapping file has no 'columns:' block",
                               hint="write 'columns:' then one 'export column: item id' line each")
    return {str(k): str(v) for k, v in cols.items()}


def _wjx_columns(columns: list[str], inst: Instrument) -> dict[str, str]:
    """Map 问卷星 headers to ids: questions in the order our questionnaire asks them.

    Our questionnaire, fielded on 问卷星, puts the profile fields first (one question each) and
    then one matrix question per factor block; matrix rows come out as ``N(k)`` columns. So the
    ``k``-th Likert column in export order is the ``k``-th Likert id of the instrument.
    """
    mapping: dict[str, str] = {}
    likert_cols = [c for c in columns if _WJX_MATRIX.match(c)]
    plain = [c for c in columns if _WJX_QUESTION.match(c) and not _WJX_MATRIX.match(c)]
    for c in columns:
        if c in WJX_META:
            mapping[c] = WJX_META[c]
    # A header that spells out an instrument id ("1、respondent_id" or "3(1)MI11") is taken at its word.
    known = set(inst.columns)
    for c in plain + likert_cols:
        for tok in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", c):
            if tok in known:
                mapping[c] = tok
                break
    unmapped_likert = [c for c in likert_cols if c not in mapping]
    free_ids = [i for i in inst.likert_ids if i not in mapping.values()]
    mapping.update(dict(zip(unmapped_likert, free_ids)))
    unmapped_plain = [c for c in plain if c not in mapping]
    free_fields = [f.id for f in inst.fields if f.id not in mapping.values() and not f.derived
                   and f.id not in ("respondent_id", "duration_s")]
    mapping.update(dict(zip(unmapped_plain, free_fields)))
    return mapping


def _parse_wjx_duration(values: pd.Series) -> pd.Series:
    """问卷星 writes completion time as ``"523秒"``; keep the number."""
    return values.astype("string").str.replace("秒", "", regex=False).str.strip()


def read_survey(path: str | Path, instrument: Instrument, fmt: str | None = None,
                mapping: str | Path | dict | None = None) -> tuple[pd.DataFrame, str]:
    """Load a survey export into contract columns (values still raw) and say which format it was.

    Parameters
    ----------
    path : str or Path
        The export. It is only read, never written.
    instrument : Instrument
        The questionnaire that defines the target ids.
    fmt : {"tidy", "wjx", "qualtrics", "spss", "stata"}, optional
        Skip detection.
    mapping : path or dict, optional
        ``{export column: instrument id}`` for questionnaires that are not ours verbatim.

    Returns
    -------
    data : DataFrame
        Contract columns present in the file, plus ``_source_row`` (1-based row as seen in the file)
        and any metadata columns (``_ip``, ``_submitted_at``) used by the duplicate screen.
    fmt : str
        The format used.
    """
    path = Path(path)
    if not path.exists():
        raise SurveyInputError(path, "no such file", hint="check the path given to --survey")
    if path.stat().st_size == 0:
        raise SurveyInputError(path, "the file is empty", hint="check that the export finished")
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise SurveyInputError(path, f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    user_map = mapping if isinstance(mapping, dict) else load_mapping(mapping)

    header_rows = 1
    if fmt == "tidy":
        df = _read_any_table(path)
    elif fmt == "wjx":
        df = _read_any_table(path)
        auto = _wjx_columns([str(c) for c in df.columns], instrument)
        df = df.rename(columns={**auto, **user_map})
        if "duration_s" in df.columns:
            df["duration_s"] = _parse_wjx_duration(df["duration_s"])
        user_map = {}
    elif fmt == "qualtrics":
        df = _read_text_table(path, header=0)
        # Rows 2 and 3 are the question text and the ImportId JSON, not answers.
        df = df.iloc[2:].reset_index(drop=True)
        header_rows = 3
        qualtrics_meta = {"ResponseId": "respondent_id", "Duration (in seconds)": "duration_s",
                          "IPAddress": "_ip", "RecordedDate": "_submitted_at"}
        df = df.rename(columns={k: v for k, v in qualtrics_meta.items() if k in df.columns})
    else:
        df = _read_stat_file(path, fmt)

    if user_map:
        missing = [k for k in user_map if k not in df.columns]
        if missing:
            raise SurveyInputError(path, f"mapping names columns the file does not have: {missing[:5]}",
                                   column=missing[0], hint="fix the mapping file's left-hand names")
        df = df.rename(columns=user_map)
    df.columns = [str(c).strip() for c in df.columns]
    dupes = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise SurveyInputError(path, f"two columns map to the same id: {dupes}", column=dupes[0],
                               hint="each instrument id may appear once; check the mapping")
    keep = [c for c in df.columns if c in set(instrument.columns) or c.startswith("_")]
    if not any(c in instrument.likert_ids for c in keep):
        raise SurveyInputError(path, "no column matches the questionnaire's item ids (MI11 … TO32)",
                               hint="this does not look like a cbec survey export; pass --format or a "
                                    "--mapping file that maps its columns to the item ids")
    out = df[keep].copy()
    out.insert(0, SOURCE_ROW, range(header_rows + 1, header_rows + 1 + len(out)))
    return out.reset_index(drop=True), fmt


def _read_stat_file(path: Path, fmt: str) -> pd.DataFrame:
    import pyreadstat

    reader = pyreadstat.read_sav if fmt == "spss" else pyreadstat.read_dta
    try:
        df, meta = reader(str(path), apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises its own error types for broken files
        raise SurveyInputError(path, f"not a readable {fmt.upper()} file ({exc})",
                               hint="save it again from SPSS/Stata, or export CSV") from exc
    # Likert items keep their scores; category fields use their value labels when those name a level.
    labels = meta.variable_value_labels or {}
    for col, lab in labels.items():
        if col in df.columns:
            values = set(lab.values())
            if not all(str(v).strip().isdigit() for v in values) and not _looks_likert(values):
                df[col] = df[col].map(lambda v, lab=lab: lab.get(v, v) if pd.notna(v) else v)
    return df


def _looks_likert(values: set) -> bool:
    words = {"agree", "disagree", "同意", "不同意", "neutral", "一般"}
    return any(any(w in str(v).lower() for w in words) for v in values)
