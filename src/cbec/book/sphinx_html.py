"""A Sphinx extension for what Jupyter Book 1 leaves undone in the book's HTML, done while Sphinx builds it
(listed in ``_config.yml`` under ``sphinx.extra_extensions``), not by rewriting the written files:

* **table numbers** — result tables come out of notebook cells as raw HTML, which Sphinx does not number; each
  page's captioned tables are counted when the page is read, numbered 1, 2, ... through the book in the table
  of contents' order when it is written, and a page is written again when the tables before it change in
  number (``env-get-updated``, the mechanism Sphinx uses for its own figure numbers), so an incremental build
  numbers as a full one does;
* **equations as MathML** — converted from their TeX at build time by docutils (the converter of its own HTML
  writer), which every current browser draws natively: no MathJax (1.2 MB of script and its fonts on the
  page with the simulator's equations; 24 MB in the built book);
* **lighter pages** — one copy of sphinx-thebe's inline config (it writes two, and the second throws in the
  reader's console), and through the template filter
  ``without_script`` (``book/_templates/layout.html``) no Font Awesome script (1.5 MB: it only redraws icons
  the theme's style sheet draws with the Font Awesome web font, checked in the browser at 1280 and 390 px) and
  the search index only on the search page (the header's search box sends the query there);
* **the built folder** — the book's own static files copied even when no page was written (Sphinx copies
  them only with a page), figures stored as palette PNGs, and a root ``index.html`` with a title and a link
  instead of a bare refresh tag.

None changes what a page says.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from docutils import nodes

__all__ = ["number_captions", "palette_png", "refresh_static", "setup", "without_script"]

_TABLE_CAPTION = re.compile(r'(<table id="T_[0-9a-f]+"[^>]*>\s*)<caption>')


def _html_outputs(doctree: nodes.Node) -> list[nodes.raw]:
    return [n for n in doctree.findall(nodes.raw) if "html" in n.get("format", "").split()]


def number_captions(html: str, start: int) -> tuple[str, int]:
    """Number the captioned result tables of ``html`` from ``start + 1`` ("Table 12. ..."); return the text
    and the last number given.

    >>> number_captions('<table id="T_ab1"><caption>Paths</caption></table>', 11)[0]
    '<table id="T_ab1"><caption id="table-12"><span class="caption-number">Table 12. </span>Paths</caption></table>'
    """
    k = start

    def number(m: re.Match) -> str:
        nonlocal k
        k += 1
        return f'{m.group(1)}<caption id="table-{k}"><span class="caption-number">Table {k}. </span>'

    return _TABLE_CAPTION.sub(number, html), k


def _stored(env, name: str) -> dict:
    """The extension's data in Sphinx's environment (pickled between builds; absent in a fresh one)."""
    return env.__dict__.setdefault(name, {})


def _count_tables(app, doctree: nodes.document) -> None:
    count = sum(len(_TABLE_CAPTION.findall(n.astext())) for n in _html_outputs(doctree))
    _stored(app.env, "cbec_tables")[app.env.docname] = count


def _reading_order(env) -> list[str]:
    """The documents in the table of contents' order: the root, then its toctrees depth first."""
    order: list[str] = []

    def walk(doc: str) -> None:
        if doc not in order:
            order.append(doc)
            for child in env.toctree_includes.get(doc, []):
                walk(child)

    walk(env.config.root_doc)
    return order


def _renumbered(app, env) -> list[str]:
    """The pages whose first table number changed since the last build: Sphinx writes them again."""
    offsets, k = {}, 0
    for doc in _reading_order(env):
        offsets[doc] = k
        k += _stored(env, "cbec_tables").get(doc, 0)
    before, env.cbec_table_offsets = _stored(env, "cbec_table_offsets"), offsets
    return [d for d, k in offsets.items() if before.get(d) != k]


def _number_tables(app, doctree: nodes.document, docname: str) -> None:
    """Number the page's tables from its offset (for the one-page build the whole book hangs under the root,
    whose offset is 0, so its tables run 1, 2, ... in reading order)."""
    k = _stored(app.env, "cbec_table_offsets").get(docname, 0)
    for node in _html_outputs(doctree):
        text, k = number_captions(node.astext(), k)
        if text != node.astext():
            node.replace_self(nodes.raw(node.rawsource, text, **node.attributes))


def _purge(app, env, docname: str) -> None:
    _stored(env, "cbec_tables").pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    for doc in docnames:
        _stored(env, "cbec_tables")[doc] = _stored(other, "cbec_tables").get(doc, 0)


def _one_copy_each(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Per page: each script once (sphinx-thebe's inline config comes twice, and the copy throws)."""
    scripts = context.get("script_files")
    if scripts is None:
        return
    keep, seen = [], set()
    # in the order the page loads them (Sphinx sorts by priority after this event): the first copy stays
    for js in sorted(scripts, key=lambda js: getattr(js, "priority", 500)):
        key = (str(getattr(js, "filename", js) or ""), getattr(js, "attributes", {}).get("body", ""))
        if key not in seen:
            seen.add(key)
            keep.append(js)
    scripts[:] = keep  # the builder restores its own list after each page


#: Top-level amsmath environments docutils' converter knows only in their inner form.
_ENVIRONMENTS = {"align": "aligned", "gather": "gathered", "equation": ""}


def _mathml(node: nodes.Element, block: bool) -> str:
    """The TeX of ``node`` as MathML, converted by docutils (the converter its own HTML writer uses); TeX it
    cannot read is a warning naming the page and line (an error under ``-W``), shown as its source."""
    import html

    from docutils.utils.math import latex2mathml
    from sphinx.util import logging

    tex = re.sub(
        r"\\(begin|end)\{(align|gather|equation)\*?\}",
        lambda m: f"\\{m[1]}{{{_ENVIRONMENTS[m[2]]}}}" if _ENVIRONMENTS[m[2]] else "",
        node.astext(),
    )
    try:
        mathml = latex2mathml.tex2mathml(tex)
    except latex2mathml.MathError as exc:
        logging.getLogger(__name__).warning(f"equation not converted to MathML: {exc}", location=node)
        return f"<code>{html.escape(node.astext())}</code>"
    # A display equation is written as an inline math element in display style inside its centred block:
    # Chromium lays out display="block" as a centred block that overflows to the left, out of reach on a phone.
    return mathml.replace("<math ", '<math displaystyle="true" ', 1) if block else mathml


def _visit_math(translator, node: nodes.math) -> None:
    translator.body.append(translator.starttag(node, "span", "", CLASS="math"))
    translator.body.append(_mathml(node, block=False) + "</span>")
    raise nodes.SkipNode


def _visit_math_block(translator, node: nodes.math_block) -> None:
    from sphinx.util.math import get_node_equation_number

    translator.body.append(translator.starttag(node, "div", CLASS="math"))
    if node.get("number"):
        translator.body.append(f'<span class="eqno">({get_node_equation_number(translator, node)})</span>')
    translator.body.append(_mathml(node, block=True) + "</div>\n")
    raise nodes.SkipNode


def without_script(html: str, name: str) -> str:
    """Template filter: ``html`` without the ``<script src=...name...></script>`` tags (``book/_templates``).

    >>> str(without_script('<meta/>\\n  <script defer src="s/fontawesome.js?d=1"></script>', "fontawesome.js"))
    '<meta/>'
    """
    from markupsafe import Markup

    pattern = rf'\s*<script[^>]*\ssrc="[^"]*{re.escape(name)}[^"]*"[^>]*></script>'
    return Markup(re.sub(pattern, "", str(html)))


def _template_filters(app) -> None:
    templates = getattr(app.builder, "templates", None)
    if templates is not None and hasattr(templates, "environment"):
        templates.environment.filters["without_script"] = without_script


def refresh_static(static: Path, dest: Path) -> int:
    """Copy the book's own static files (style sheet, icon) into the built book. Sphinx copies static files only
    when it writes some page: a change to ``cbec.css`` alone left the previous style sheet in the book ("no
    targets are out of date"). Returns how many files were replaced."""
    k = 0
    for f in static.rglob("*"):
        target = dest / f.relative_to(static)
        if f.is_file() and (not target.exists() or target.read_bytes() != f.read_bytes()):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)
            k += 1
    return k


def palette_png(png: Path) -> None:
    """Store a figure file as a palette PNG when that is smaller (:func:`cbec.book.png.palette`). The chapters'
    figures arrive as palettes already (their kernels store them so); this catches any other."""
    from cbec.book.png import palette

    data = png.read_bytes()
    smaller = palette(data)
    if smaller is not data:
        png.write_bytes(smaller)


def _titled_redirect(app, outdir: Path) -> None:
    """The root ``index.html`` as a page with a title and a link (sphinx-external-toc, which runs after this,
    writes a bare refresh tag only where none exists)."""
    import html

    first = f"{app.config.root_doc}.html"
    title = html.escape(app.config.html_title or app.config.project)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        f'<meta http-equiv="Refresh" content="0; url={first}"></head>'
        f'<body><p><a href="{first}">{title}</a></p></body></html>\n'
    )
    index = outdir / "index.html"
    if app.config.root_doc != "index" and (not index.exists() or index.read_text(encoding="utf-8") != page):
        index.write_text(page, encoding="utf-8")


def _finish(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for static in app.config.html_static_path:
        refresh_static(Path(app.confdir) / static, outdir / "_static")
    for f in (outdir / "_static" / "scripts").glob("fontawesome.js*"):
        f.unlink()  # no page loads it (the template filter drops the tag)
    if getattr(app.builder, "math_renderer_name", "") != "mathjax":
        shutil.rmtree(outdir / "_static" / "mathjax", ignore_errors=True)  # left by a build that still used it
    for png in (outdir / "_images").glob("*.png"):
        palette_png(png)
    _titled_redirect(app, outdir)


def setup(app) -> dict:
    # set by cbec.book.staging to this module's digest: a change to the code rebuilds every page
    app.add_config_value("cbec_html_digest", "", "env")
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-read", _count_tables)
    app.connect("env-get-updated", _renumbered)
    app.connect("doctree-resolved", _number_tables)
    app.connect("builder-inited", _template_filters)
    app.connect("html-page-context", _one_copy_each, priority=900)  # after Thebe adds its scripts
    # equations as MathML written at build time (html_math_renderer: mathml in _config.yml): no MathJax
    app.add_html_math_renderer("mathml", (_visit_math, None), (_visit_math_block, None))
    app.connect("build-finished", _finish, priority=400)  # before sphinx-external-toc's bare redirect
    return {"version": "1", "env_version": 1, "parallel_read_safe": True, "parallel_write_safe": True}
