"""One full run: simulate a small sample, export it as SPSS .sav, execute every chapter on that export,
build the book, inspect the HTML."""

import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from export_fixtures import write_stat_file
from hostile import PAYLOADS
from interview_fixtures import SECRETS, write_fixture_transcripts
from test_hostile_input import assert_inert

from cbec.article.simulate import SimulationConfig, simulate_survey, write_simulation
from cbec.book.pdf import CHROMIUM, CHROMIUM_ARGS  # the PDF printer's browser and flags, one place
from cbec.book.pipeline import RunSettings, run
from cbec.book.staging import REPO_ROOT, SITE
from cbec.io.instrument import load_instrument
from cbec.io.validate import validate_frame


@pytest.fixture(scope="module")
def sample_book(tmp_path_factory):
    """One full run on a small simulated sample exported as .sav, with hostile ids and transcripts planted;
    shared by the checks of this module (the browser test builds its own in a module of its own)."""
    return build_sample_book(tmp_path_factory.mktemp("book"))


def build_sample_book(tmp_path: Path) -> dict:
    write_simulation(tmp_path / "data", n=220, seed=7)
    df, _ = simulate_survey(SimulationConfig(n=220, seed=7))
    hostile_ids = _plant_hostile_ids(df)
    survey = write_stat_file(df, load_instrument(), tmp_path / "data" / "survey.sav")
    interviews = write_fixture_transcripts(tmp_path / "interviews")
    _write_hostile_transcript(interviews)
    paths = run(
        RunSettings(
            survey=survey,
            out=tmp_path / "out",
            interviews=interviews,
            ground_truth=tmp_path / "data" / "ground_truth.json",
            n_boot=99,
            power_reps=10,
        )
    )
    return {"paths": paths, "hostile_ids": hostile_ids, "root": tmp_path}


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_full_pipeline_builds_every_chapter(sample_book):
    paths, hostile_ids, tmp_path = sample_book["paths"], sample_book["hostile_ids"], sample_book["root"]
    assert '"format": "spss"' in (paths["processed"] / "report.json").read_text(encoding="utf-8")
    html = paths["html"]
    toc = yaml.safe_load((SITE / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for p in toc["parts"] for c in p["chapters"]]
    assert (html / "index.html").exists()
    index = (html / f"{toc['root']}.html").read_text(encoding="utf-8")
    # the front page says what this run found, with its numbers (from the result tables, not typed)
    section = re.search(r'<section id="what-this-run-found">(.*?)</section>', index, flags=re.S)
    found = re.sub(r"<[^>]+>", " ", section.group(1))
    assert len(re.findall(r"\b\d+\.\d{3}\b", found)) >= 3 and "intersection–union test" in found
    guide = re.search(r'<section id="how-this-book-tests-the-claims">(.*?)</section>', index, flags=re.S).group(1)
    for f in files[1:]:  # the reading guide: every page of the table of contents, each with its line
        name = re.escape(f.split("/")[-1])
        assert re.search(rf'{name}\.html"[^>]*>(?:(?!</a>).)*</a> [a-z]', guide, flags=re.S), f
    for f in files:
        page = html / f"{f}.html"
        assert page.exists(), f
        assert f.split("/")[-1] in index or f == toc["root"], f"index does not link {f}"
        text = page.read_text(encoding="utf-8")
        assert "{glue" not in text, f"unresolved glue on {f}"
        assert "IPython.core.display" not in text and not re.search(r"<pre>None</pre>|\bNone\b</", text), f
        if f.startswith("notebooks/"):
            assert "<table" in text, f"no table on {f}"
            # Survey chapters say the data are simulated; the case chapter says it is coded from the article.
            notice = "Coded from the article" if f.endswith("06_cases") else "Simulated data"
            assert notice in text, f"no '{notice}' notice on {f}"
            # how the page was made comes after its results: a phone reader meets the findings first
            assert text.count("How this page was made") == 1, f
            assert text.rfind("How this page was made") > text.rfind("</table>"), f"how-made note before a table on {f}"
    # Chapters that draw figures must show them (the simulated-data and claims chapters are tables only).
    for f in files:
        if f.startswith("notebooks/") and not f.endswith(("00_simulated_data", "05_claims")):
            assert re.search(r"<img[^>]+_images/", (html / f"{f}.html").read_text(encoding="utf-8")), f
    assert list(paths["results"].glob("*.csv")), "no result tables written"
    # Every result table is numbered, 1, 2, ... through the book in reading order.
    numbers = [
        int(n)
        for f in files
        for n in re.findall(
            r'<caption id="table-\d+"><span class="caption-number">Table (\d+)\. ',
            (html / f"{f}.html").read_text(encoding="utf-8"),
        )
    ]
    captions = sum((html / f"{f}.html").read_text(encoding="utf-8").count("<caption") for f in files)
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == captions >= 30, numbers

    # A long table is folded under its caption (with its row count); short ones are not.
    from cbec.book.chapter import LONG_TABLE_ROWS

    for page in (html / "notebooks").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r'<details class="cbec-long">(.*?)</details>', text, flags=re.S):
            rows = int(re.search(r"— ([\d,]+) rows", block).group(1).replace(",", ""))
            assert rows > LONG_TABLE_ROWS and block.count("<tr") == rows + 1, (page.name, rows)
        outside = re.sub(r'<details class="cbec-long">.*?</details>', "", text, flags=re.S)
        for body in re.findall(r"<tbody>(.*?)</tbody>", outside, flags=re.S):
            assert body.count("<tr") <= LONG_TABLE_ROWS, page.name
    assert 'class="cbec-long"' in (html / "notebooks" / "03_coupling.html").read_text(encoding="utf-8")

    # Lighter pages: no page loads the icon script; equations are MathML written at build time, so no page loads
    # MathJax (the simulated-data chapter has the equations); the search index only on the search page; figures
    # stored as palette PNGs.
    equations = (html / "notebooks" / "00_simulated_data.html").read_text(encoding="utf-8")
    assert equations.count("<math ") >= 8 and 'displaystyle="true"' in equations and "<msqrt>" in equations
    assert not (html / "_static" / "mathjax").exists()
    for page in (p for p in html.rglob("*.html") if "_static" not in p.parts):
        text = page.read_text(encoding="utf-8")
        assert "fontawesome.js" not in text, page
        assert not re.search(r"<script[^>]*(mathjax|tex-chtml)", text, re.I), page  # no MathJax script
        assert "window.MathJax" not in text and "\\(" not in text, page  # nor its config, nor raw TeX left
        assert ("searchindex.js" in text) == (page.name == "search.html"), page
        assert text.count("const THEBE_JS_URL") <= 1, page  # a second copy throws in the reader's console
    from PIL import Image

    for png in (html / "_images").glob("*.png"):
        with Image.open(png) as im:
            assert im.mode == "P", png

    # Data never becomes code: no payload runs on any page; each is shown as text where its field is shown.
    for page in html.rglob("*.html"):
        assert_inert(page.read_text(encoding="utf-8"))
    quality = assert_inert((html / "notebooks" / "01_data_quality.html").read_text(encoding="utf-8"))
    for rid in hostile_ids:
        assert rid in quality, f"quarantined id {rid!r} not shown as text"
    interviews_page = assert_inert((html / "notebooks" / "07_interviews.html").read_text(encoding="utf-8"))
    assert HOSTILE_FIRM in interviews_page
    # Downloads open safely in a spreadsheet: no text cell starts with a formula character.
    for csv in [*paths["results"].glob("*.csv"), paths["processed"] / "quarantine.csv"]:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for col in table.columns:
            cells = table[col]
            text = cells[~cells.str.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")]
            assert not text.str.match(r"^[=+\-@\t\r]").any(), (csv.name, col, text[text.str.match(r"^[=+\-@]")].head())

    # Provenance: every recorded hash is the hash of the file; every download link resolves.
    from cbec.book.generated import sha256

    prov = json.loads((tmp_path / "out" / "provenance.json").read_text(encoding="utf-8"))
    assert prov["inputs_sha256"] and prov["versions"]["cbec"] != "not installed"
    # inputs are named by file name (no machine's paths are published): find each among the run's inputs
    from cbec.resources import resource

    known: dict[str, list[Path]] = {}
    for folder in (tmp_path, Path(resource("instrument.yaml")).parent, REPO_ROOT / "data"):
        for f in folder.rglob("*"):
            if f.is_file() and "out" not in f.relative_to(folder).parts[:1]:
                known.setdefault(f.name, []).append(f)
                known.setdefault(f"{f.parent.name}/{f.name}", []).append(f)
    for name, digest in prov["inputs_sha256"].items():
        assert "/" not in name or name.count("/") == 1, name
        assert any(sha256(f) == digest for f in known.get(name, [])), name
    downloads = (html / "book" / "downloads.html").read_text(encoding="utf-8")
    links = re.findall(r'href="(\.\./_downloads/[^"]+)"', downloads)
    assert len(links) >= 20, links
    for link in links:
        assert (html / "book" / link).resolve().exists(), link
    # every figure of the chapters is also offered as a vector drawing
    svgs = [link for link in links if link.endswith(".svg")]
    shown = sum(len(re.findall(r"<img[^>]+_images/", (html / f"{f}.html").read_text(encoding="utf-8")))
                for f in files if f.startswith("notebooks/"))  # fmt: skip
    assert len(svgs) == shown > 0, (len(svgs), shown)
    assert all(b"<svg" in (html / "book" / s).resolve().read_bytes()[:400] for s in svgs)
    findings = assert_inert((html / "book" / "findings.html").read_text(encoding="utf-8"))
    assert "MI × SC is the strongest coupling" in findings and "planted" in findings
    # Findings as a referee reads them: a numbered table, the planted truth of every effect the simulator plants,
    # units, and a sentence for every "differs".
    findings = (html / "book" / "findings.html").read_text(encoding="utf-8")
    assert 'caption-number">Table 1. ' in findings and ">unit<" in findings
    for planted in (
        "balance gain, δ = 0.50",
        "focus gain, δ = 0.50",
        "main effects 0.20/0.20",
        "(construct&#x27;s thirds)",
    ):
        assert planted in findings or planted.replace("&#x27;", "'") in findings, planted
    for cid in re.findall(r">(C\d+\w*) [^<]*</td>\s*<td[^>]*>differs<", findings):
        assert f"{cid} differs" in findings, cid

    # No identifying detail from the fixture transcripts reaches any built page.
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into {page.relative_to(html)}"


HOSTILE_FIRM = "深湾电子" + PAYLOADS[1]


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (make installs it as root)")
def test_every_published_table_opens_without_a_formula_in_a_spreadsheet(sample_book, tmp_path):
    """All CSV and workbook downloads of the hostile sample book, and those inside the results archive, opened
    by LibreOffice Calc (see test_spreadsheet_roundtrip): not one formula cell."""
    from test_spreadsheet_roundtrip import formula_cells

    html = sample_book["paths"]["html"]
    files = [*html.glob("_downloads/*/*.csv"), *html.glob("_downloads/*/*.xlsx")]
    for archive in html.glob("_downloads/*/*.zip"):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if name.endswith((".csv", ".xlsx")):
                    target = tmp_path / "zip" / Path(name).name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(z.read(name))
                    files.append(target)
    assert len(files) >= 20, files
    found = formula_cells(files, tmp_path / "lo")
    assert {name: cells for name, cells in found.items() if cells} == {}


def _plant_hostile_ids(df):
    """Give three rows that the screens quarantine (not as duplicates) ids that are payloads."""
    raw = df.astype("string")
    raw.insert(0, "_source_row", range(2, len(raw) + 2))
    q = validate_frame(raw, load_instrument()).quarantine
    q = q[~q["reasons"].str.contains("duplicate")]
    ids = [f"R-{p}" for p in PAYLOADS[:3]]
    for rid, new in zip(q["respondent_id"].head(3), ids, strict=False):
        df.loc[df["respondent_id"] == rid, "respondent_id"] = new
    return ids


def _write_hostile_transcript(folder):
    answers = "\n".join(f"问：你们的供应链和市场定位怎么配合？\n答：我们做细分赛道，海外仓备货。{p}" for p in PAYLOADS)
    # an answer that is a formula from its first character: it reaches the coded-segment and quote downloads
    answers += '\n问：供应链呢？\n答：=HYPERLINK("http://cbec-xss-11","供应链")'
    (folder / "hostile.md").write_text(
        f"---\nfirm: {json.dumps(HOSTILE_FIRM, ensure_ascii=False)}\nrole: 总经理\nsize_class: sme\n"
        f"main_market: eu_na\nlanguage: zh\n---\n{answers}\n",
        encoding="utf-8",
    )


#: Table-cell texts that are leaks of a data frame's internals, not content for readers.
RAW_CELLS = {"nan", "NaN", "None", "True", "False", "<NA>", "NaT"}

AUDIT_JS = """() => {
  const main = document.querySelector('main') || document.body;
  const out = {wide: [], badImg: [], noCaption: [], rawCells: [], rawHeads: [], stderr: []};
  const col = (main.querySelector('article') || main).getBoundingClientRect().width;
  for (const t of main.querySelectorAll('div.cell_output table, article table')) {
    if (t.getBoundingClientRect().width > col + 2)
      out.wide.push((t.caption || {}).textContent || t.outerHTML.slice(0, 80));
    for (const td of t.querySelectorAll('td')) {
      const s = td.textContent.trim();
      if (RAW.includes(s)) out.rawCells.push(s);
    }
    for (const th of t.querySelectorAll('thead th')) {
      const s = th.textContent.trim();
      if (/^[a-z0-9]+(_[a-z0-9]+)+$/.test(s)) out.rawHeads.push(s);
    }
  }
  for (const img of main.querySelectorAll('img')) {
    const alt = img.getAttribute('alt') || '';
    const fileName = /\\.(png|svg|jpg)$/i.test(alt);
    if (!img.complete || img.naturalWidth === 0 || !alt.trim() || fileName) out.badImg.push(img.src);
  }
  for (const err of main.querySelectorAll('.output.stderr, .output.traceback, .output.error'))
    out.stderr.push(err.textContent.trim().slice(0, 120));
  for (const fig of main.querySelectorAll('figure'))
    if (!fig.querySelector('figcaption')) out.noCaption.push(fig.id);
  return out;
}""".replace("RAW", json.dumps(sorted(RAW_CELLS)))


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_book_in_a_real_browser(sample_book):
    """Every page in headless Chromium at 1280 px: no console error, no request off this machine, every internal
    link and anchor resolves, every image loads with real alt text, every figure has a caption, no table wider
    than its column, no raw values or identifiers in tables; screenshots of the front page and the coupling
    chapter at 1280 and 390 px are kept under the run's folder."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make installs it as root; CI runs as root)")
    import functools
    import http.server
    import threading
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    html = sample_book["paths"]["html"]

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    shots = sample_book["root"] / "out" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    assert "<title>" in (html / "index.html").read_text(encoding="utf-8")
    pages = sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if not p.relative_to(html).as_posix().startswith(("_", "genindex", "search"))
        and p.relative_to(html).as_posix() != "index.html"  # the root only redirects to the front page
    )
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            here: list[str] = []

            def route(r):
                host = urlparse(r.request.url).hostname
                if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
                    r.continue_()
                else:
                    problems.append(f"{here[-1]}: request to {r.request.url}")
                    r.abort()

            page.route("**/*", route)
            page.on("console", lambda m: m.type == "error" and problems.append(f"{here[-1]}: console: {m.text}"))
            page.on("pageerror", lambda e: problems.append(f"{here[-1]}: script error: {e}"))
            page.on("response", lambda r: r.status >= 400 and problems.append(f"{here[-1]}: {r.status} {r.url}"))
            for rel in pages:
                here.append(rel)
                page.goto(f"{base}/{rel}", wait_until="load")
                audit = page.evaluate(AUDIT_JS)
                for kind, items in audit.items():
                    problems += [f"{rel}: {kind}: {x}" for x in items[:3]]
                problems += _broken_links(
                    html, rel, page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
                )
            problems += _reader_checks(browser, base, pages, sample_book["root"] / "out" / "page_weight.json")
            for name, rel in (("front", "book/index.html"), ("coupling", "notebooks/03_coupling.html")):
                for width in (1280, 390):
                    page.set_viewport_size({"width": width, "height": 900})
                    here.append(rel)
                    page.goto(f"{base}/{rel}", wait_until="load")
                    page.screenshot(path=str(shots / f"{name}_{width}.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert not problems, "\n".join(problems[:40])
    assert len(list(shots.glob("*.png"))) == 4


# Dark mode: WCAG contrast of every table cell and caption against the colour behind it. 390 px: no cell whose
# text spills out of it, no short label (a factor name) broken over lines.
READER_JS = """() => {
  const lum = c => { const m = c.match(/[\\d.]+/g).map(Number);
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]); };
  const behind = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
    const m = c.match(/[\\d.]+/g); if (m && (m.length < 4 || +m[3] > 0.5)) return c; } return 'rgb(255,255,255)'; };
  const out = {theme: document.documentElement.dataset.theme, lowContrast: [], spill: [], broken: []};
  for (const el of document.querySelectorAll('main table td, main table th, main table caption')) {
    const a = lum(getComputedStyle(el).color), b = lum(behind(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) out.lowContrast.push(el.textContent.trim().slice(0, 30) + ' ' + ratio.toFixed(2));
  }
  for (const td of document.querySelectorAll('main table td, main table th')) {
    const text = td.textContent.trim();
    if (td.scrollWidth > td.clientWidth + 1) out.spill.push(text.slice(0, 30));
    const range = document.createRange(); range.selectNodeContents(td);
    const line = parseFloat(getComputedStyle(td).lineHeight) || 20;
    if (text.length > 1 && text.length <= 12 && !/[\\s\\-–—\\/·（）()、，]/.test(text)
        && range.getBoundingClientRect().height > 1.5 * line) out.broken.push(text);
  }
  return out;
}"""


def _reader_checks(browser, base: str, pages: list[str], weights_file: Path) -> list[str]:
    """Every page in dark mode (the system preference, followed) and at 390 px, and what each page weighs: raw
    bytes and gzip-compressed (as a web server sends them), written to ``weights_file``."""
    import gzip

    problems, weights = [], {}
    dark = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
    narrow = browser.new_context(viewport={"width": 390, "height": 900})
    for rel in pages:
        for ctx, kind in ((dark, "dark"), (narrow, "390px")):
            page = ctx.new_page()
            sizes: list[tuple[int, int]] = []
            page.on("response", lambda r, got=sizes: r.ok and got.append((len(b := r.body()), len(gzip.compress(b)))))
            page.goto(f"{base}/{rel}", wait_until="load")
            audit = page.evaluate(READER_JS)
            if kind == "dark":
                weights[rel] = {"bytes": sum(a for a, _ in sizes), "gzip": sum(z for _, z in sizes)}
                problems += [f"{rel}: theme {audit['theme']} in dark mode"] * (audit["theme"] != "dark")
                problems += [f"{rel}: dark mode contrast: {x}" for x in audit["lowContrast"][:3]]
            else:
                problems += [f"{rel}: 390 px: {k}: {x}" for k in ("spill", "broken") for x in audit[k][:3]]
            page.close()
    dark.close()
    narrow.close()
    weights_file.write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
    problems += [f"{rel}: {w['gzip']:,} bytes as served (gzip) > 1 MB" for rel, w in weights.items() if w["gzip"] > 1e6]
    return problems


def _broken_links(html: Path, rel: str, hrefs: list[str]) -> list[str]:
    bad = []
    for href in hrefs:
        if href.startswith(("http://", "https://", "mailto:", "javascript:")):
            continue
        path, _, anchor = href.partition("#")
        target = (html / rel).parent / path if path else html / rel
        target = target.resolve()
        if not target.exists():
            bad.append(f"{rel}: broken link {href}")
        elif anchor and target.suffix == ".html" and f'id="{anchor}"' not in target.read_text(encoding="utf-8"):
            bad.append(f"{rel}: missing anchor {href}")
    return bad


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_the_whole_book_prints_to_one_pdf(sample_book):
    """`cbec run --pdf`'s last step on a built book: every page of the table of contents in one A4 PDF with every
    numbered figure and table, no table wider than the text block, every font embedded (the CJK ones included)
    and Chinese text that extracts as written, the references, and the file linked from the Downloads page."""
    import subprocess

    if not CHROMIUM.exists() or not shutil.which("pdffonts"):
        pytest.skip("needs Debian's chromium and poppler-utils (make system-deps installs them as root)")
    from cbec.book.pdf import PDF_NAME, build_pdf
    from cbec.book.staging import build_book

    out = sample_book["root"] / "out"
    html = build_book(out, pdf=True)  # the Downloads page now links the PDF
    report = build_pdf(out)
    pdf = Path(report["pdf"])
    assert (html / PDF_NAME).read_bytes() == pdf.read_bytes()
    downloads = (html / "book" / "downloads.html").read_text(encoding="utf-8")
    assert f'href="../{PDF_NAME}"' in downloads
    assert report["overflow"] == [] and report["brokenImages"] == []
    assert all(zoom >= 0.6 for _, zoom in report["shrunk"])
    # a table too wide for the portrait text block turns to a landscape page of its own, where it prints whole
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True).stdout
    sizes = re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", info)
    wide_pages = sum(float(w) > float(h) for w, h in sizes)
    assert report["landscape"] and wide_pages >= 1, (report["landscape"], wide_pages)

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    assert len(pages) > 60
    web_figures = set()
    web_tables = set()
    for page in html.rglob("*.html"):
        body = page.read_text(encoding="utf-8")
        web_figures |= set(re.findall(r'caption-number">Fig\. (\d+)', body))
        web_tables |= set(re.findall(r'caption-number">Table (\d+)\.', body))
    assert web_figures and web_tables
    printed_figures = set(re.findall(r"Fig\. (\d+) ", text))
    printed_tables = set(re.findall(r"Table (\d+)\. ", text))
    assert web_figures <= printed_figures, sorted(web_figures - printed_figures, key=int)
    assert web_tables <= printed_tables, sorted(web_tables - printed_tables, key=int)
    assert "市场洞察与定位" in text  # the data dictionary's Chinese factor name, as text
    assert "Olsson" in text and "Psychometrika" in text  # the references
    assert "#\n" not in text  # no permalink marks after headings

    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(" yes " in f[60:] for f in fonts), "\n".join(f for f in fonts if " yes " not in f[60:])
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert len(images.splitlines()) - 2 >= len(web_figures)


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_an_unchanged_run_stages_an_unchanged_book(sample_book):
    """Staging the book twice from the same results changes no file: every generated page is a function of the
    results (a table id drawn at random made the warm re-run rebuild the whole book)."""
    from cbec.book.staging import stage_book

    out = (sample_book["root"] / "out").resolve()
    stage_book(out)
    assert stage_book(out)[1] == 0
