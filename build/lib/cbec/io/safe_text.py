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
from pathlib import Path

import pandas as pd

__all__ = ["visible_controls", "html_text", "md_text", "neutralise_formula", "to_csv_for_people"]

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")


def visible_controls(text: str) -> str:
    """Replace control characters and bidi overrides by a visible ``[U+XXXX]`` mark.

    >>> visible_controls("abc\\u202edef")
    'abc[U+202E]def'
    """
    return _CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


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
    """A text cell a spreadsheet would evaluate gets a leading apostrophe; numbers pass unchanged.

    >>> neutralise_formula("=HYPERLINK(\\"x\\")"), neutralise_formula("-5.2"), neutralise_formula(-5.2)
    ('\\'=HYPERLINK("x")', '-5.2', -5.2)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value.strip()):
        return "'" + value
    return value


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
