"""Text from data made safe: for a web page, for MyST Markdown, and for a spreadsheet.

Pure functions on strings and DataFrames, used wherever data reach people (the book layer's display,
the study layer's prose, the input layer's quarantine CSV). Why each rule: see :mod:`cbec.book.safe_display`.

A CSV text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by
Excel, WPS and LibreOffice (OWASP, "CSV Injection"); such cells get a leading apostrophe. Numbers, and text
that reads as a number, are written unchanged.
"""

from __future__ import annotations

import html
import re
import string
import unicodedata
from pathlib import Path

import pandas as pd

__all__ = ["visible_controls", "html_text", "md_text", "neutralise_formula", "to_csv_for_people", "to_xlsx_for_people"]

#: Unicode categories shown as marks: control (Cc: C0, DEL, C1 incl. next-line), format (Cf: bidi marks and
#: overrides, zero-width space and joiners, BOM, soft hyphen, Arabic letter mark, tag characters) and the line and
#: paragraph separators (Zl, Zp). Tab, line feed and carriage return are layout, not hidden text.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
_LAYOUT = frozenset("\t\n\r")
_NOT_PRINTABLE_ASCII = re.compile(r"[^ -~]")
_MD_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")


def visible_controls(text: str) -> str:
    """Replace every invisible character — Unicode's control (Cc) and format (Cf) characters and the line and
    paragraph separators — by a visible ``[U+XXXX]`` mark (tab, line feed and carriage return are kept). The one
    function every path that shows data uses (tables, prose, quotes, figure labels, file names).

    >>> visible_controls("abc\\u202edef\\u200b\\U000e0041\\u00ad\\u0085\\u2028x")
    'abc[U+202E]def[U+200B][U+E0041][U+00AD][U+0085][U+2028]x'
    >>> visible_controls("供应链\\tA")
    '供应链\\tA'
    """
    return _NOT_PRINTABLE_ASCII.sub(_mark, text)


def _mark(m: re.Match) -> str:
    ch = m.group()
    if ch in _LAYOUT or unicodedata.category(ch) not in _INVISIBLE:
        return ch
    return f"[U+{ord(ch):04X}]"


def html_text(value: object) -> str:
    """Text for an HTML page: escaped, quotes included, controls made visible.

    >>> html_text('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape(visible_controls(str(value)), quote=True)


def md_text(value: object) -> str:
    """Text for a MyST Markdown output: every ASCII punctuation mark backslash-escaped, line breaks folded.

    >>> md_text("{eval-rst}`x` [a](javascript:b)")
    '\\\\{eval\\\\-rst\\\\}\\\\`x\\\\` \\\\[a\\\\]\\\\(javascript\\\\:b\\\\)'
    """
    text = visible_controls(str(value)).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_formula(value: object) -> object:
    """A text cell a spreadsheet would evaluate gets a leading apostrophe — on every line of it, since a
    spreadsheet may start a new row at a line break inside a cell; numbers pass unchanged.

    >>> neutralise_formula("=HYPERLINK(\\"x\\")"), neutralise_formula("-5.2"), neutralise_formula(-5.2)
    ('\\'=HYPERLINK("x")', '-5.2', -5.2)
    >>> neutralise_formula("fine\\n=cmd|' /C calc'!A0")
    "fine\\n'=cmd|' /C calc'!A0"
    """
    if not isinstance(value, str) or _NUMBER.match(value.strip()):
        return value
    head, *rest = _LINE_BREAK.split(value)  # text, break, text, ...: the breaks are kept as they were
    later = "".join("'" + p if k % 2 == 1 and p.startswith(_FORMULA_START) else p for k, p in enumerate(rest))
    return ("'" if value.startswith(_FORMULA_START) else "") + head + later


_LINE_BREAK = re.compile(r"(\r\n|\r|\n|\u2028|\u2029|\x85)")


def to_xlsx_for_people(sheets: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Write a workbook meant to be opened by people: every text cell is stored as a string cell, never as a
    formula (openpyxl stores any text starting with ``=`` as a formula otherwise), numbers stay numbers.

    Why not ``DataFrame.to_excel``: it hands text to openpyxl as it is, so an instrument label ``=HYPERLINK(...)``
    became a live formula in the questionnaire workbook."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in sheets.items():
        ws = wb.create_sheet(title=str(name)[:31])
        ws.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            ws.append([None if _missing(v) else (v.item() if hasattr(v, "item") else v) for v in row])
        for cells in ws.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    path = Path(path)
    wb.save(path)
    return path


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def to_csv_for_people(df: pd.DataFrame, path: str | Path, index: bool = False) -> Path:
    """Write a CSV meant to be opened by people: text cells neutralised (see :func:`neutralise_formula`),
    UTF-8 with BOM so Excel reads Chinese. Machine copies the pipeline reads back are written elsewhere."""
    out = df.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].map(neutralise_formula)
    if index:
        out.index = out.index.map(neutralise_formula)
    out.columns = [neutralise_formula(c) for c in out.columns]
    path = Path(path)
    out.to_csv(path, index=index, encoding="utf-8-sig", lineterminator="\n")
    return path
