"""Data is text, never markup: the one place where strings from data are made safe to show and to save.

The book is a website built from other people's data (transcripts, survey cells, fill-ins, a user's own
instrument labels). Anything from data that reaches a page is escaped here:

- **tables** — :func:`install` registers :func:`render_styler` as the notebook kernel's HTML formatter for
  pandas Stylers, so every ``df.style...`` a chapter displays has its text cells, index and column labels
  and caption HTML-escaped, whatever formatting the chapter applied to its numbers. Plain DataFrames are
  already escaped by pandas' own ``to_html``.
- **prose built from data** — :func:`md_text` backslash-escapes every ASCII punctuation character (which
  CommonMark and MyST allow for any of them), so a role ``{eval-rst}``, a fence, a link or ``<script>``
  shows as the characters typed; :func:`html_text` does the same for HTML output.
- **quotes** — :func:`quotes_html` renders interview quotes as HTML block quotes of escaped text, never
  through Markdown.
- **downloads** — :func:`to_csv_for_people` neutralises text cells that a spreadsheet would run as a formula
  (OWASP's CSV-injection advice: a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
  leading apostrophe); numbers and text that reads as a number are written unchanged.

Control characters and bidirectional overrides (which can make text display in another order than it
is stored) are shown as visible ``[U+202E]``-style marks in all of these.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler

__all__ = ["install", "render_styler", "md_text", "html_text", "quotes_html", "to_csv_for_people",
           "neutralise_formula", "visible_controls"]

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


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


def render_styler(styler: Styler) -> str:
    """HTML of a Styler with every text cell, index label, column label and the caption escaped.

    Numeric formatting the chapter applied is kept: only text columns get an escaping formatter.
    """
    data = styler.data
    text_cols = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
    if text_cols:
        styler = styler.format(escape="html", subset=text_cols, na_rep="—")
    styler = styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    if styler.caption is not None:
        styler.caption = html_text(styler.caption)
    return styler.to_html()


def install() -> None:
    """Make the running IPython kernel render every pandas Styler with :func:`render_styler`."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("cbec.safe_display.install() must run inside an IPython kernel")
    shell.display_formatter.formatters["text/html"].for_type(Styler, render_styler)


def quotes_html(quotes: pd.DataFrame, text: str = "quote", cite: Iterable[str] = ("factor", "firm")) -> str:
    """Interview quotes as HTML block quotes of escaped text, each with an escaped attribution line."""
    parts = []
    for _, row in quotes.iterrows():
        who = " · ".join(html_text(row[c]) for c in cite if c in row and pd.notna(row[c]))
        parts.append(f'<blockquote class="cbec-quote"><p>{html_text(row[text])}</p>'
                     f"<footer>{who}</footer></blockquote>")
    return "\n".join(parts)


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
