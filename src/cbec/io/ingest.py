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
import zipfile
from pathlib import Path

import pandas as pd
import yaml

from cbec.io.instrument import Instrument
from cbec.io.user_yaml import load_user_yaml

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
# Question headers as 问卷星 writes them: "3、text", "3：text", "3:text", "3.text"; matrix rows and
# multi-select options "3(row text)" or "第3题(row text)" (按选项序号 downloads use the latter).
_WJX_QUESTION = re.compile(r"^\s*(?:第\s*)?(\d+)\s*(?:题)?\s*[、.．:：]")
_WJX_MATRIX_TEXT = re.compile(r"^\s*(?:第\s*)?(\d+)\s*(?:题)?\s*[(（](.+)[)）]\s*$")
#: Cells 问卷星 writes for an answer that does not exist, and why. "-3"/"-2" only in choice questions of a
#: 按选项序号 download (in a fill-in they could be a typed number).
WJX_MISSING_TEXT = {
    "(跳过)": "skipped_by_logic",
    "（跳过）": "skipped_by_logic",
    "(空)": "left_empty",
    "（空）": "left_empty",
}
WJX_MISSING_CODES = {"-3": "skipped_by_logic", "-2": "not_shown"}
#: A fill-in attached to an option: "其他新兴市场〖俄罗斯〗".
_WJX_FILL_IN = re.compile(r"^(.*?)〖(.*)〗\s*$", re.S)
#: Separator of chosen options in a multi-select cell.
WJX_MULTI_SEP = "┋"
FILL_IN_SUFFIX = "__text"
_MS_PREFIX = "_multi:"


class SurveyInputError(Exception):
    """An expected problem with a user's file: reported as one clear message, exit status 2."""

    def __init__(
        self, path: str | Path, message: str, *, row: int | None = None, column: str | None = None, hint: str = ""
    ):
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
            return pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False, na_values=[""], header=header)
        except UnicodeDecodeError as exc:
            last_error = exc
        except pd.errors.ParserError as exc:
            raise SurveyInputError(
                path, f"not a readable CSV table ({exc})", hint="export the survey again as CSV or xlsx"
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise SurveyInputError(path, "the file is empty", hint="check that the export finished") from exc
    raise SurveyInputError(
        path, f"cannot decode the text as UTF-8 or GB18030/GBK ({last_error})", hint="re-export as UTF-8 CSV or as xlsx"
    )


#: Files are untrusted input: a survey export larger than this stops with a clear error instead of
#: exhausting memory (a million-firm CSV of this questionnaire is about 200 MB).
MAX_SURVEY_BYTES = 512 * 2**20
#: An xlsx is a zip archive: its parts may expand to at most this much, at most this many times their
#: packed size (a "zip bomb" expands thousands of times).
MAX_XLSX_UNPACKED_BYTES = 2 * 2**30
MAX_XLSX_RATIO = 200
#: Container formats (Parquet, SPSS, Stata) are compressed, so a small file can hold a huge table: the number of
#: cells (rows x columns) is read from the file's metadata and checked before the table is materialised. A
#: million firms of the shipped questionnaire are about 7 x 10^7 cells.
MAX_SURVEY_CELLS = 100_000_000


def _check_cells(path: Path, rows: int, columns: int) -> None:
    if rows * columns > MAX_SURVEY_CELLS:
        raise SurveyInputError(
            path,
            f"the file holds {rows:,} rows x {columns:,} columns = {rows * columns:,} cells once unpacked; "
            f"the limit is {MAX_SURVEY_CELLS:,}",
            hint="not an ordinary survey export; split it, or raise cbec.io.ingest.MAX_SURVEY_CELLS from Python",
        )


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise SurveyInputError(path, f"not a readable Parquet file ({exc.__class__.__name__})") from None
    _check_cells(path, meta.num_rows, meta.num_columns)
    import pyarrow as pa

    df = pd.read_parquet(path)
    # Arrow's allocator keeps the freed conversion buffers for reuse: at 10^6 rows 560 MB that would stay
    # resident through validation (#28); the table itself is already pandas'.
    pa.default_memory_pool().release_unused()
    return df


def _check_xlsx_archive(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise SurveyInputError(
            path,
            "not a readable Excel workbook (the .xlsx archive is damaged)",
            hint="open it in Excel/WPS and save as .xlsx again",
        ) from exc
    unpacked = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    if unpacked > MAX_XLSX_UNPACKED_BYTES or unpacked / packed > MAX_XLSX_RATIO:
        raise SurveyInputError(
            path,
            f"the workbook would expand to {unpacked / 2**20:,.0f} MiB ({unpacked / packed:,.0f}× its size); "
            f"the limits are {MAX_XLSX_UNPACKED_BYTES / 2**30:.0f} GiB and {MAX_XLSX_RATIO}×",
            hint="this is not an ordinary survey export; export the answers again as CSV",
        )


def _read_any_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_text_table(path)
    if suffix in (".xlsx", ".xlsm"):
        _check_xlsx_archive(path)
        try:
            # Cached cell values only: formulas are never evaluated and external links never followed.
            return pd.read_excel(
                path,
                dtype=str,
                engine="openpyxl",
                engine_kwargs={"read_only": True, "data_only": True, "keep_links": False},
            )
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise SurveyInputError(
                path, f"not a readable Excel workbook ({exc})", hint="open it in Excel/WPS and save as .xlsx again"
            ) from exc
    if suffix == ".parquet":
        return _read_parquet(path)
    raise SurveyInputError(
        path, f"unsupported file type {suffix!r}", hint="use CSV, xlsx, Parquet, SPSS .sav or Stata .dta"
    )


def read_table(path: str | Path, fmt: str) -> pd.DataFrame:
    """An export's table as the tool wrote it (headers and answers untouched), for drafting a study file.
    Qualtrics' two extra header rows (question text, ImportId) are dropped."""
    path = Path(path)
    if fmt in ("spss", "stata"):
        return _read_stat_file(path, fmt)
    if fmt == "qualtrics":
        return _read_text_table(path, header=0).iloc[2:].reset_index(drop=True)
    return _read_any_table(path)


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
        raise SurveyInputError(
            path, f"unsupported file type {suffix!r}", hint="use CSV, xlsx, Parquet, SPSS .sav or Stata .dta"
        )
    cols = [str(c) for c in head.columns]
    if (
        any(c in WJX_META for c in cols)
        or sum(bool(_WJX_QUESTION.match(c) or _WJX_MATRIX_TEXT.match(c)) for c in cols) >= 3
    ):
        return "wjx"
    third_row = " ".join(str(v) for v in head.iloc[1].tolist()) if len(head) > 1 else ""
    if "ResponseId" in cols or "ImportId" in third_row:
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
        raw = load_user_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SurveyInputError(
            path, f"cannot read the mapping file ({exc})", hint="the mapping is YAML with a 'columns:' block"
        ) from exc
    cols = raw.get("columns") if isinstance(raw, dict) else None
    if not isinstance(cols, dict):
        raise SurveyInputError(
            path,
            "the mapping file has no 'columns:' block",
            hint="write 'columns:' then one 'export column: item id' line each",
        )
    return {str(k): str(v) for k, v in cols.items()}


def _norm_text(text: str) -> str:
    """Fold a question text for matching: no spaces or punctuation, lower case."""
    return re.sub(r"[\s\W_]+", "", str(text)).lower()


def _text_index(inst: Instrument) -> dict[str, str]:
    """Folded Chinese and English text of every item and field -> its id."""
    out: dict[str, str] = {}
    for it in inst.items.values():
        out[_norm_text(it.zh)] = it.id
        out[_norm_text(it.en)] = it.id
    for key, item_id in (("attention_check", inst.attention_id), ("marker", inst.marker_id)):
        if item_id:  # both are optional
            extra = inst.raw[key]
            for lang in ("zh", "en"):
                if extra.get(lang):
                    out[_norm_text(extra[lang])] = item_id
    for f in inst.fields:
        out[_norm_text(f.zh)] = f.id
        out[_norm_text(f.en)] = f.id
        out[_norm_text(f.id)] = f.id
    for i in inst.likert_ids:
        out[_norm_text(i)] = i
    for ms in inst.multi_selects:
        out[_norm_text(ms["zh"])] = _MS_PREFIX + ms["id"]
        out[_norm_text(ms["en"])] = _MS_PREFIX + ms["id"]
        for opt in ms["options"]:
            out[_norm_text(opt["zh"])] = opt["field"]
            out[_norm_text(opt["en"])] = opt["field"]
    return out


def _match_text(text: str, index: dict[str, str]) -> str | None:
    """The id whose text equals ``text`` (folded), or whose text starts it (exports truncate long texts)."""
    key = _norm_text(text)
    if not key:
        return None
    if key in index:
        return index[key]
    if len(key) >= 12:
        hits = {v for k, v in index.items() if k.startswith(key) or key.startswith(k) and len(k) >= 12}
        if len(hits) == 1:
            return hits.pop()
    return None


def _wjx_columns(columns: list[str], inst: Instrument) -> dict[str, str]:
    """Map 问卷星 headers to instrument ids.

    问卷星 heads a plain question ``N、text`` and a matrix row or multi-select option ``N(text)``. A header
    is matched by its text to an item or field (Chinese or English, as fielded); a header that names an id
    (``MI11``) is taken at its word. Matrix rows exported as bare numbers, ``N(k)``, are matched by position:
    the k-th unmatched Likert column is the k-th Likert id of the instrument not yet matched.
    """
    index = _text_index(inst)
    mapping: dict[str, str] = {c: WJX_META[c] for c in columns if c in WJX_META}
    numbered: list[str] = []
    for c in columns:
        if c in mapping:
            continue
        m_mat, m_q = _WJX_MATRIX_TEXT.match(c), _WJX_QUESTION.match(c)
        text = m_mat.group(2) if m_mat else (c[m_q.end() :] if m_q else c)
        hit = _match_text(text, index)
        if hit is None and m_mat and m_mat.group(2).strip().isdigit():
            numbered.append(c)
        elif hit is not None and hit not in mapping.values():
            mapping[c] = hit
    free = [i for i in inst.likert_ids if i not in mapping.values()]
    mapping.update(dict(zip(numbered, free, strict=False)))
    return mapping


def _qualtrics_columns(columns: list[str], texts: list[str], inst: Instrument) -> dict[str, str]:
    """Map Qualtrics export tags to ids: the tag itself when it is an id, else the question text
    (row 2), whose matrix rows read ``question - row text``."""
    index = _text_index(inst)
    meta = {
        "ResponseId": "respondent_id",
        "Duration (in seconds)": "duration_s",
        "IPAddress": "_ip",
        "RecordedDate": "_submitted_at",
    }
    mapping: dict[str, str] = {}
    known = set(inst.columns)
    for col, text in zip(columns, texts, strict=False):
        if col in meta:
            mapping[col] = meta[col]
        elif col in known:
            mapping[col] = col
        else:
            hit = _match_text(str(text).rsplit(" - ", 1)[-1], index)
            if hit is not None and hit not in mapping.values():
                mapping[col] = hit
    return mapping


def _split_fill_ins(df: pd.DataFrame, inst: Instrument) -> pd.DataFrame:
    """Split "option〖typed text〗" in category fields into the option and a ``<field>__text`` column."""
    for f in inst.fields:
        if f.kind != "category" or f.id not in df.columns:
            continue
        parts = df[f.id].astype("string").str.extract(_WJX_FILL_IN)
        has = parts[0].notna()
        if has.any():
            df[f.id] = df[f.id].astype("string").where(~has, parts[0].str.strip())
            df[f.id + FILL_IN_SUFFIX] = parts[1].str.strip().where(has)
    return df


def _expand_multi_selects(df: pd.DataFrame, inst: Instrument) -> tuple[pd.DataFrame, list[dict]]:
    """Turn a "A┋B" multi-select column into the instrument's 0/1 option fields.

    A chosen option is matched by its text (Chinese or English) or, in a 按选项序号 download, by its
    number in the instrument's option order. An option nobody defined is returned as a problem of that
    row (the validator quarantines the row), never dropped silently.
    """
    problems: list[dict] = []
    index = _text_index(inst)
    for ms in inst.multi_selects:
        col = _MS_PREFIX + ms["id"]
        if col not in df.columns:
            continue
        fields = [o["field"] for o in ms["options"]]
        values: dict[str, list] = {fid: [] for fid in fields}
        other_text: list = []
        other_field = next((o["field"] for o in ms["options"] if _is_other(o["en"]) or _is_other(o["zh"])), None)
        for i, cell in enumerate(df[col].astype("string")):
            text = "" if pd.isna(cell) else str(cell).strip()
            if not text or text in WJX_MISSING_TEXT or text in WJX_MISSING_CODES:
                for fid in fields:
                    values[fid].append(pd.NA)
                other_text.append(pd.NA)
                continue
            chosen: set[str] = set()
            written: list[str] = []
            for part in (p.strip() for p in text.split(WJX_MULTI_SEP) if p.strip()):
                m = _WJX_FILL_IN.match(part)
                part = m.group(1).strip() if m else part
                if m and m.group(2).strip():
                    written.append(m.group(2).strip())
                if part.isdigit() and 1 <= int(part) <= len(fields):
                    chosen.add(fields[int(part) - 1])
                elif (hit := _match_text(part, index)) is not None and hit in fields:
                    chosen.add(hit)
                elif _is_other(part):  # "其他〖…〗": an answer outside the list, kept with its text
                    chosen.update([other_field] if other_field else [])
                else:
                    problems.append({"index": i, "column": ms["id"], "value": part})
            for fid in fields:
                values[fid].append(str(int(fid in chosen)))
            other_text.append("; ".join(written) if written else pd.NA)
        for fid in fields:
            if fid not in df.columns:
                df[fid] = pd.array(values[fid], dtype="string")
        if any(isinstance(t, str) for t in other_text):
            df[ms["id"] + FILL_IN_SUFFIX] = pd.array(other_text, dtype="string")
        df = df.drop(columns=[col])
    return df, problems


#: How an "other, please specify" option reads in exports: 其他, 其它, Other, 其他（请注明）...
_OTHER = re.compile(r"^(?:其他|其它|other(?![a-z]))", re.IGNORECASE)


def _is_other(label: str) -> bool:
    return bool(_OTHER.match(label.strip()))


def _parse_wjx_duration(values: pd.Series) -> pd.Series:
    """问卷星 writes completion time as ``"523秒"``; keep the number."""
    return values.astype("string").str.replace("秒", "", regex=False).str.strip()


def read_survey(
    path: str | Path, instrument: Instrument, fmt: str | None = None, mapping: str | Path | dict | None = None
) -> tuple[pd.DataFrame, str]:
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
    _check_file(path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise SurveyInputError(path, f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    user_map = mapping if isinstance(mapping, dict) else load_mapping(mapping)
    df, header_rows, multi_problems, user_map = _read_format(path, fmt, instrument, user_map)
    df = _renamed(df, user_map, path)
    out = _contract_columns(df, instrument, path)
    out.insert(0, SOURCE_ROW, range(header_rows + 1, header_rows + 1 + len(out)))
    # What the validator must know about this export's conventions travels with the table — set here, by the
    # loader, and only here: metadata a file brings along (pandas restores a parquet file's attrs) is dropped,
    # so no input file can set its own missing codes or quarantine reasons.
    out.attrs.clear()
    out.attrs["missing_text"] = dict(WJX_MISSING_TEXT)
    if fmt == "wjx":
        out.attrs["missing_codes"] = dict(WJX_MISSING_CODES)
        out.attrs["option_numbers"] = True
        out.attrs["row_problems"] = multi_problems
    return out, fmt


def _check_file(path: Path) -> None:
    """Refuse a file that is missing, empty or larger than the limit, before reading a byte of it."""
    if not path.exists():
        raise SurveyInputError(path, "no such file", hint="check the path given to --survey")
    if path.stat().st_size == 0:
        raise SurveyInputError(path, "the file is empty", hint="check that the export finished")
    if path.stat().st_size > MAX_SURVEY_BYTES:
        raise SurveyInputError(
            path,
            f"the file has {path.stat().st_size / 2**20:,.0f} MiB; the limit is {MAX_SURVEY_BYTES / 2**20:,.0f} MiB",
            hint="split the export, or raise cbec.ingest.MAX_SURVEY_BYTES from Python",
        )


def _read_format(path: Path, fmt: str, instrument: Instrument, user_map: dict) -> tuple:
    """The export read by its format's rules: (table, header rows above the first answer, multi-select problems,
    the part of the user's mapping still to apply — a 问卷星 export applies it with its own column names)."""
    header_rows = 1
    multi_problems: list[dict] = []
    if fmt == "tidy":
        df = _read_any_table(path)
    elif fmt == "wjx":
        df = _read_any_table(path)
        auto = _wjx_columns([str(c) for c in df.columns], instrument)
        df = df.rename(columns={**auto, **user_map})
        if "duration_s" in df.columns:
            df["duration_s"] = _parse_wjx_duration(df["duration_s"])
        df, multi_problems = _expand_multi_selects(df, instrument)
        df = _split_fill_ins(df, instrument)
        user_map = {}
    elif fmt == "qualtrics":
        df = _read_text_table(path, header=0)
        # Rows 2 and 3 are the question text and the ImportId JSON, not answers.
        texts = [str(t) for t in df.iloc[0].tolist()] if len(df) else [""] * df.shape[1]
        df = df.iloc[2:].reset_index(drop=True)
        header_rows = 3
        df = df.rename(columns=_qualtrics_columns([str(c) for c in df.columns], texts, instrument))
    else:
        df = _read_stat_file(path, fmt)
    return df, header_rows, multi_problems, user_map


def _renamed(df: pd.DataFrame, user_map: dict, path: Path) -> pd.DataFrame:
    """The user's mapping applied; every column name stripped and unique."""
    if user_map:
        missing = [k for k in user_map if k not in df.columns]
        if missing:
            raise SurveyInputError(
                path,
                f"mapping names columns the file does not have: {missing[:5]}",
                column=missing[0],
                hint="fix the mapping file's left-hand names",
            )
        df = df.rename(columns=user_map)
    df.columns = [str(c).strip() for c in df.columns]
    dupes = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise SurveyInputError(
            path,
            f"two columns map to the same id: {dupes}",
            column=dupes[0],
            hint="each instrument id may appear once; check the mapping",
        )
    return df


def _contract_columns(df: pd.DataFrame, instrument: Instrument, path: Path) -> pd.DataFrame:
    """The columns the questionnaire defines (and their fill-in texts and metadata); none at all is an error."""
    contract = set(instrument.columns)
    keep = [
        c
        for c in df.columns
        if c in contract
        or (c.startswith("_") and not c.startswith(_MS_PREFIX))
        or (c.endswith(FILL_IN_SUFFIX) and c[: -len(FILL_IN_SUFFIX)] in contract)
        or c in {ms["id"] + FILL_IN_SUFFIX for ms in instrument.multi_selects}
    ]
    if not any(c in instrument.likert_ids for c in keep):
        raise SurveyInputError(
            path,
            f"no column matches the questionnaire's item ids ({instrument.factor_item_ids[0]} … "
            f"{instrument.factor_item_ids[-1]})",
            hint="this does not look like an export of this questionnaire; pass --format or a "
            "--mapping file that maps its columns to the item ids",
        )
    return df[keep].reset_index(drop=True)  # copy-on-write: no second copy of a large table


def _read_stat_file(path: Path, fmt: str) -> pd.DataFrame:
    import pyreadstat

    reader = pyreadstat.read_sav if fmt == "spss" else pyreadstat.read_dta
    try:
        _, head = reader(str(path), metadataonly=True)
        columns = max(head.number_columns or 1, 1)
        if head.number_rows is not None:  # some writers leave the row count out: then read one row past the cap
            _check_cells(path, head.number_rows, columns)
        df, meta = reader(str(path), apply_value_formats=False, row_limit=MAX_SURVEY_CELLS // columns + 1)
    except Exception as exc:  # pyreadstat raises its own error types for broken files
        raise SurveyInputError(
            path, f"not a readable {fmt.upper()} file ({exc})", hint="save it again from SPSS/Stata, or export CSV"
        ) from exc
    _check_cells(path, len(df), columns)
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
