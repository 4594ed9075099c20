"""The whole book as one PDF: the book's pages on one HTML page, printed by Chromium.

Why not LaTeX. Jupyter Book 1 makes PDF through Sphinx's LaTeX builder, and for that builder myst-nb
renders a notebook output from ``application/pdf``, images, ``text/latex``, ``text/markdown`` or
``text/plain`` only — never ``text/html`` (myst-nb 1.4.0, ``myst_nb/core/render.py``,
``base_render_priority()["latex"]``). Every result table of this book is an HTML table (the display layer's
escaped, labelled pandas Styler), so a LaTeX PDF would print each one as the raw ``repr`` of a data frame, cut
at the page edge. Printing the HTML keeps the same tables, figures, captions and numbering as the web book,
with the CJK fonts the figures already use and no TeX installation.

Steps: (1) Sphinx's ``singlehtml`` builder writes every page of the run's table of contents into one page
(figure numbers from Sphinx, bibliography included); (2) the result tables are numbered as in the web book;
(3) Playwright drives Debian's Chromium (the browser the book's browser test uses) to lay the page out as print
at the A4 text width, put any table still wider than the text block on a landscape page of its own (shrunk
only if it is wider than that page's text block too; both recorded in the report), and print it with page
numbers and an outline. The PDF and a report of what was checked (pages, tables fitted,
figures) are written beside the book.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

__all__ = ["PDF_NAME", "build_pdf", "single_page"]

#: The file name of the printed book, in the run folder and in the web book's root (linked from Downloads).
PDF_NAME = "cbec-book.pdf"
#: The single page, written at the root of the singlehtml build so its relative ``_static``/``_images``
#: links resolve (Sphinx writes it under the root document's folder but links from the build root).
PRINT_PAGE = "whole-book.html"
#: A4 with 18 mm side margins: the text block is 174 mm, which Chromium lays out at 96 px per inch.
PAGE_FORMAT = "A4"
PAGE_MARGIN = {"top": "16mm", "bottom": "18mm", "left": "18mm", "right": "18mm"}
TEXT_WIDTH_PX = round(174 / 25.4 * 96)
#: A table too wide for that block goes on a landscape page of its own, whose text block is 261 mm.
LANDSCAPE_WIDTH_PX = round(261 / 25.4 * 96)
#: The page rules, from the settings above: portrait A4, and a named landscape page for wide tables (Chromium
#: lays the element out at the landscape page's width; Playwright keeps the CSS page sizes when told to).
PAGE_CSS = (
    "@page {{ size: A4; margin: {top} {right} {bottom} {left}; }}\n"
    "@page cbec-wide {{ size: A4 landscape; }}\n"
    ".cbec-landscape {{ page: cbec-wide; }}\n"
).format(**PAGE_MARGIN)
#: Below this shrink factor a table's text would be under ~4.5 pt; it is then reported as not fitting.
MIN_ZOOM = 0.6

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Each table still wider than its column after the print style sheet wrapped its text goes on a landscape page,
# laid out at that page's width (and shrunk only if it is wider still); return what was done so the report (and
# the test) can say which tables turned, which were shrunk and by how much, and whether any is still cut.
_FIT_JS = """([minZoom, wideCol]) => {
  for (const d of document.querySelectorAll('details')) d.open = true;  // folded long tables print open
  const out = {tables: 0, landscape: [], shrunk: [], overflow: []};
  const article = document.querySelector('article') || document.body;
  const col = article.getBoundingClientRect().width;
  for (const t of article.querySelectorAll('table')) {
    out.tables += 1;
    const need = Math.max(t.scrollWidth, t.getBoundingClientRect().width);
    const name = ((t.caption || {}).textContent || t.outerHTML.slice(0, 60)).trim().slice(0, 70);
    if (need <= col + 1) continue;
    const box = t.closest('div.cell_output') || t.parentElement;
    box.classList.add('cbec-landscape');
    box.style.width = wideCol + 'px';  // its width on the landscape page, so that what is measured is what prints
    const wide = Math.max(t.scrollWidth, t.getBoundingClientRect().width);
    const zoom = wide <= wideCol + 1 ? 1 : Math.max(minZoom, Math.floor((wideCol / wide) * 100) / 100);
    if (zoom < 1) { t.style.zoom = zoom; out.shrunk.push([name, zoom]); }
    out.landscape.push(name);
    // Cut either way: past the page's text block, or hidden inside the table's own scroll box.
    if (t.getBoundingClientRect().right > box.getBoundingClientRect().right + 1
        || t.scrollWidth > t.clientWidth + 1) out.overflow.push(name);
  }
  out.figures = article.querySelectorAll('figure img, img').length;
  out.brokenImages = [...article.querySelectorAll('img')].filter(i => !i.complete || i.naturalWidth === 0)
    .map(i => i.getAttribute('src'));
  return out;
}"""

_FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center;color:#555">'
    '<span class="title"></span> · <span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)


class PdfError(RuntimeError):
    """The PDF could not be made; the message says why and what to do."""


def single_page(src: Path, dest: Path) -> Path:
    """Build the book source ``src`` (as staged by :func:`cbec.book.staging.stage_book`) into one HTML page
    under ``dest`` with Sphinx warnings as errors; return the page's path."""
    from cbec.book.staging import JUPYTER_BOOK, toc_files

    cmd = [
        *JUPYTER_BOOK,
        "build",
        str(src),
        "--path-output",
        str(dest),
        "--builder",
        "singlehtml",
        "-W",
        "-n",
        "--keep-going",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "WARNING" in ln or "rror" in ln]
        raise PdfError("the one-page build for the PDF failed:\n  " + "\n  ".join(lines[:15]))
    built = dest / "_build" / "singlehtml"
    root_doc = toc_files(src / "_toc.yml")[0]
    page = built / PRINT_PAGE
    shutil.copy2(built / f"{root_doc}.html", page)
    return page


def print_page(page: Path, pdf: Path, title: str) -> dict:
    """Print ``page`` to ``pdf`` in headless Chromium; return what the layout check found."""
    if not CHROMIUM.exists():
        raise PdfError(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps does, as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            view = browser.new_page(viewport={"width": TEXT_WIDTH_PX, "height": 1100})
            view.goto(page.resolve().as_uri(), wait_until="load")
            view.emulate_media(media="print", color_scheme="light")
            view.add_style_tag(content=PAGE_CSS)
            layout = view.evaluate(_FIT_JS, [MIN_ZOOM, LANDSCAPE_WIDTH_PX])
            view.pdf(
                path=str(pdf),
                format=PAGE_FORMAT,
                prefer_css_page_size=True,
                margin=PAGE_MARGIN,  # type: ignore[arg-type]  # playwright's TypedDict of the same keys
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=_FOOTER.replace('<span class="title"></span>', title),
                outline=True,
                tagged=True,
            )
        finally:
            browser.close()
    return layout


def build_pdf(out: Path, title: str = "") -> dict:
    """Print the book staged under ``out/src`` to ``out/cbec-book.pdf`` and copy it into the web book
    (``out/html``), where the Downloads page links it. Returns the report written to ``out/pdf.json``: the
    PDF's size and SHA-256, and the layout check (tables, which were shrunk and by how much, any that still
    overflow, figures, broken images)."""
    out = out.resolve()
    src = out / "src"
    if not (src / "_toc.yml").exists():
        raise PdfError(f"no book source under {src}: run `cbec run` first")
    work = out / "jb-pdf"
    shutil.rmtree(work, ignore_errors=True)
    page = single_page(src, work)
    pdf = out / PDF_NAME
    layout = print_page(page, pdf, title or _title(src))
    if layout["overflow"] or layout["brokenImages"]:
        raise PdfError(
            f"the printed book would cut tables {layout['overflow']} or miss images {layout['brokenImages']}"
        )
    if (out / "html").is_dir():
        shutil.copy2(pdf, out / "html" / PDF_NAME)
    data = pdf.read_bytes()
    report = {"pdf": str(pdf), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), **layout}
    (out / "pdf.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def _title(src: Path) -> str:
    import html

    import yaml

    cfg = yaml.safe_load((src / "_config.yml").read_text(encoding="utf-8")) or {}
    return html.escape(str(cfg.get("title", "")))
