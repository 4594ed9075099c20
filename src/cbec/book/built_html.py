"""What the book build does to the HTML Sphinx wrote: table numbers, the redirect's title, the book's own static
files, one copy of Thebe's config, and lighter pages (no icon script, MathJax and the search index only where
used, palette figures). Each is a fix for a gap in Jupyter Book 1's output, named in its docstring; none changes
what a page says."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

__all__ = [
    "drop_duplicate_thebe_config",
    "number_tables",
    "refresh_static",
    "slim_pages",
    "title_the_redirect",
]


_TABLE_CAPTION = re.compile(r'(<table id="T_[0-9a-f]+"[^>]*>\s*)<caption>')


def number_tables(pages: list[Path]) -> int:
    """Number the captioned result tables of ``pages`` (in reading order) 1, 2, ... ("Table 12. ...").

    Figures are numbered by Sphinx; tables come out of notebook cells, which Sphinx does not number. The
    numbers are set on the built HTML, after any page was served from the cache, so they always run 1, 2, ...
    through the book as it stands. Pages that do not exist are skipped. Returns the number of tables."""
    k = 0

    def number(m: re.Match) -> str:
        nonlocal k
        k += 1
        return f'{m.group(1)}<caption id="table-{k}"><span class="caption-number">Table {k}. </span>'

    for path in pages:
        if path.exists():
            text = path.read_text(encoding="utf-8")
            path.write_text(_TABLE_CAPTION.sub(number, text), encoding="utf-8")
    return k


def title_the_redirect(index: Path, config: Path) -> None:
    """Jupyter Book's root index.html is a bare refresh tag; make it a page with a title and a link."""
    import html as _html

    import yaml

    if index.exists() and "<title>" not in index.read_text(encoding="utf-8"):
        title = _html.escape(str(yaml.safe_load(config.read_text(encoding="utf-8"))["title"]))
        index.write_text(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title>"
            '<meta http-equiv="Refresh" content="0; url=book/index.html"></head>'
            f'<body><p><a href="book/index.html">{title}</a></p></body></html>\n',
            encoding="utf-8",
        )


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


_FONTAWESOME_JS = re.compile(r'\s*<script defer src="[./]*_static/scripts/fontawesome\.js[^"]*"></script>')
_SEARCH_INDEX = re.compile(r'\s*<script src="[./]*searchindex\.js"></script>')
_MATHJAX = re.compile(
    r'\s*<script>window\.MathJax = [^<]*</script>\s*<script defer="defer" src="[^"]*tex-chtml\.js[^"]*"></script>'
)


def slim_pages(html: Path) -> None:
    """Lighter pages (#26): drop the theme's Font Awesome script (1.5 MB, the largest file of every page) — it
    only redraws icons the theme's style sheet already draws with the Font Awesome web font (checked in the
    browser at 1280 and 390 px); load MathJax (1.2 MB) only on pages that have an equation and the search index
    only on the search page (the header's search box sends the query there); store figures as palette PNGs."""
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        slim = _FONTAWESOME_JS.sub("", text)
        if 'class="math' not in slim:
            slim = _MATHJAX.sub("", slim)
        if page.name != "search.html":
            slim = _SEARCH_INDEX.sub("", slim)
        if slim != text:
            page.write_text(slim, encoding="utf-8")
    for f in (html / "_static" / "scripts").glob("fontawesome.js*"):
        f.unlink()
    for png in (html / "_images").glob("*.png"):
        _palette_png(png)


def _palette_png(png: Path) -> None:
    """Store an opaque figure as a 256-colour palette PNG when that is smaller (the figures are flat colours
    and anti-aliased edges: a third of the bytes, no pixel off by more than 16 of 255, white stays white —
    measured on the book's 23 figures, Pillow's max-coverage quantiser; the octree one turned the white
    background grey). Figures with transparency are left as they are."""
    import io

    from PIL import Image

    with Image.open(png) as im:
        lowest_alpha = im.getchannel("A").getextrema()[0] if im.mode in ("RGBA", "LA") else 255
        if isinstance(lowest_alpha, (int, float)) and lowest_alpha < 255:
            return
        palette = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    palette.save(buf, "PNG", optimize=True)
    if buf.tell() < png.stat().st_size:
        png.write_bytes(buf.getvalue())


def drop_duplicate_thebe_config(html: Path) -> None:
    """sphinx-thebe 0.3 writes its inline config script twice into every page, and the second copy throws
    ("Identifier 'THEBE_JS_URL' has already been declared") in every reader's console. Thebe is off for this
    book; keep the first copy so the extension's own script still finds its settings."""
    import re

    pattern = re.compile(r"\s*<script>const THEBE_JS_URL = [^<]*</script>")
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        hits = list(pattern.finditer(text))
        if len(hits) > 1:
            for m in reversed(hits[1:]):
                text = text[: m.start()] + text[m.end() :]
            page.write_text(text, encoding="utf-8")
