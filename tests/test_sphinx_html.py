"""The book's Sphinx extension (cbec.book.sphinx_html) on a small Sphinx project: table numbers through the
book in reading order, kept right by an incremental build; equations as MathML; each inline script once."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

sphinx = pytest.importorskip("sphinx")
from sphinx.application import Sphinx  # noqa: E402


def _table(caption: str) -> str:
    return f'<table id="T_{abs(hash(caption)) % 10**6:06x}"><caption>{caption}</caption><tr><td>1</td></tr></table>'


def _page(title: str, tables: list[str], math: bool = False) -> str:
    raws = "\n\n".join(f".. raw:: html\n\n   {_table(t)}" for t in tables)
    eq = "\n\n.. math:: a^2 + b^2 = c^2\n" if math else ""
    return f"{title}\n{'=' * len(title)}\n\n{raws}\n{eq}"


def _write(src: Path, pages: dict[str, str]) -> None:
    for name, text in pages.items():
        (src / f"{name}.rst").write_text(text, encoding="utf-8")


def _build(src: Path, out: Path) -> None:
    app = Sphinx(
        str(src), str(src), str(out / "html"), str(out / "doctrees"), "html", status=None, warning=None,
        confoverrides={
            "extensions": ["sphinx.ext.mathjax", "cbec.book.sphinx_html"], "html_static_path": [],
            "html_math_renderer": "mathml",
        },
    )  # fmt: skip
    app.add_js_file(None, body="const ONCE = 1")
    app.add_js_file(None, body="const ONCE = 1", priority=600)  # a second copy, as sphinx-thebe writes
    app.build()


def _numbers(out: Path, page: str) -> list[int]:
    text = (out / "html" / f"{page}.html").read_text(encoding="utf-8")
    return [int(n) for n in re.findall(r'caption-number">Table (\d+)\. ', text)]


def test_tables_are_numbered_through_the_book_and_renumbered_incrementally(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "conf.py").write_text("project = 'T'\n", encoding="utf-8")
    toc = ".. toctree::\n\n   one\n   two\n   three\n"
    _write(src, {"index": f"Book\n====\n\n{toc}", "one": _page("One", ["a", "b"]), "two": _page("Two", [])})
    _write(src, {"three": _page("Three", ["c", "d"], math=True)})
    _build(src, out)
    assert (_numbers(out, "one"), _numbers(out, "three")) == ([1, 2], [3, 4])
    # a table added to the second page: only that page is read again, the third is written again renumbered
    _write(src, {"two": _page("Two", ["new"])})
    _build(src, out)
    assert (_numbers(out, "one"), _numbers(out, "two"), _numbers(out, "three")) == ([1, 2], [3], [4, 5])
    one = (out / "html" / "one.html").read_text(encoding="utf-8")
    three = (out / "html" / "three.html").read_text(encoding="utf-8")
    # the equation is MathML in the page, and no page loads MathJax
    assert "<math " in three and "<msup>" in three and "mathjax" not in (one + three).lower()
    assert one.count("const ONCE = 1") == 1  # each inline script once
    # the root page's redirect is not needed here (the root is index), and no bare one was written over it
    assert "<title>" in (out / "html" / "index.html").read_text(encoding="utf-8")


def test_template_filter_drops_only_the_named_script():
    from cbec.book.sphinx_html import without_script

    head = '<meta/>\n<script src="a/searchtools.js"></script>\n<script src="../searchindex.js"></script>'
    assert without_script(head, "searchindex.js") == '<meta/>\n<script src="a/searchtools.js"></script>'


def test_tex_the_converter_cannot_read_fails_the_build_naming_the_page(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "conf.py").write_text("project = 'T'\n", encoding="utf-8")
    _write(src, {"index": "Book\n====\n\n.. math:: \\unknownmacro{x}\n"})
    warnings = io.StringIO()
    app = Sphinx(
        str(src), str(src), str(out / "html"), str(out / "doctrees"), "html", status=None, warning=warnings,
        confoverrides={"extensions": ["cbec.book.sphinx_html"], "html_math_renderer": "mathml"},
    )  # fmt: skip
    app.build()
    assert "equation not converted to MathML" in warnings.getvalue() and "index.rst" in warnings.getvalue()
