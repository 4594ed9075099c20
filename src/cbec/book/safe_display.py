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

from collections.abc import Iterable

import pandas as pd
from pandas.io.formats.style import Styler

__all__ = [
    "install",
    "render_styler",
    "md_text",
    "html_text",
    "quotes_html",
    "to_csv_for_people",
    "neutralise_formula",
    "visible_controls",
]

# The pure text functions live in the input layer (the study layer needs them too); re-exported here.
from cbec.io.safe_text import (  # noqa: E402
    html_text,
    md_text,
    neutralise_formula,
    to_csv_for_people,
    visible_controls,
)


def render_styler(styler: Styler) -> str:
    """HTML of a Styler with every text cell, index label, column label and the caption escaped.

    Numeric formatting the chapter applied is kept: only text columns get an escaping formatter.
    """
    data = styler.data
    text_cols = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
    # html_text, not pandas' escape="html": it also shows invisible characters (a right-to-left override in a
    # firm's name would otherwise reorder the row on screen).
    if text_cols:
        styler = styler.format(html_text, subset=text_cols, na_rep="—")
    styler = styler.format_index(html_text, axis=0).format_index(html_text, axis=1)
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


def quotes_html(
    quotes: pd.DataFrame, text: str = "quote", cite: Iterable[str] = ("factor", "firm", "size_class", "role")
) -> str:
    """Interview quotes as HTML block quotes of escaped text: the words as spoken, the translation beneath
    when there is one, and an attribution line (factor · firm · size · role), all escaped."""
    parts = []
    for _, row in quotes.iterrows():
        who = " · ".join(html_text(row[c]) for c in cite if c in row and pd.notna(row[c]) and str(row[c]).strip())
        translation = str(row.get("translation", "") or "").strip()
        tr = f'<p class="cbec-translation"><em>{html_text(translation)}</em></p>' if translation else ""
        parts.append(
            f'<blockquote class="cbec-quote"><p>{html_text(row[text])}</p>{tr}<footer>{who}</footer></blockquote>'
        )
    return "\n".join(parts)
