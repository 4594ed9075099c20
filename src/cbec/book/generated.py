"""Pages written at build time from the run's results: findings at a glance, downloads, provenance.

Nothing on these pages is typed: every number comes from the run's result tables, every hash from the files
themselves. Text from data is escaped (:func:`cbec.io.safe_text.md_text`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from cbec.article.planted import planted_cycle_reduction, ratio_of_thirds
from cbec.book.cache import derived_file
from cbec.io.fielding import wjx_import_problem, wjx_import_text
from cbec.io.instrument import DEFAULT_INSTRUMENT, load_instrument
from cbec.io.safe_text import md_text, to_csv_for_people, to_xlsx_for_people
from cbec.io.validate import strict_json
from cbec.resources import resource
from cbec.study.chapters.base import RunConfig, Table, format_p, level_text

#: Packages whose versions the provenance page records.
PACKAGES = (
    "cbec",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "semopy",
    "factor_analyzer",
    "pandera",
    "matplotlib",
    "seaborn",
    "jieba",
    "papermill",
    "myst-nb",
    "jupyter-book",
    "sphinx",
)

#: The findings table: register claim, what it is about, how the estimate is shown.
FINDINGS = (
    ("C03", "MI × SC is the strongest coupling"),
    ("C80", "Positioning and supply chain lead, team, technology and compliance follow"),
    ("C78a", "Large firms: balance goes with performance"),
    ("C78b", "SMEs: focus goes with performance"),
    ("C79", "Stage-matched priorities go with performance"),
    ("C25", "Each day less inventory: +0.5 points of margin"),
    ("C13", "Niche focus: 15–20 points more margin"),
    ("C54", "Good customer experience doubles repurchase"),
    ("C14", "Flexible supply chains: order cycles 60% shorter"),
)
#: What the simulator plants for the claims it encodes (read from ground_truth.json), on the claim's own scale
#: where a closed form exists (the construct's thirds), else the planted parameter named as such.
PLANTED = {
    "C03": lambda t: f"γ = {t['couplings'].get('MI*SC', 0):.2f} SD, the largest coupling (latent)",
    "C80": lambda t: "main effects {MI}/{SC} > {MK}/{CX} > {TP}/{RC}/{TO} (latent)".format(
        **{k: f"{v:.2f}" for k, v in t["main_effects"].items()}
    ),
    "C78a": lambda t: f"balance gain, δ = {t['config']['delta_balance_large']:.2f} per SD of spread",
    "C78b": lambda t: f"focus gain, δ = {t['config']['delta_focus_sme']:.2f} per unit of lead",
    "C79": lambda t: "none planted",
    "C25": lambda t: f"{-t['config']['margin_per_inventory_day']:.2f}",
    "C13": lambda t: f"{t['config']['margin_niche_premium']:.1f}",
    "C54": lambda t: f"{ratio_of_thirds(t['config']['repurchase_log_effect_cx']):.2f} (construct's thirds)",
    "C14": lambda t: f"{planted_cycle_reduction(t['config']['cycle_log_effect_sc']):.1f}% (construct's thirds)",
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def findings_page(out: Path, cfg: RunConfig) -> str:
    """Each central claim of the article, our estimate with its interval and unit, the planted truth when the
    data are simulated, and the verdict by the rule of the methods chapter; a sentence for every *differs*."""
    tested = pd.read_csv(out / "results" / "claims_tested.csv", encoding="utf-8-sig").set_index("claim_id")
    truth = json.loads(Path(cfg.ground_truth_path).read_text(encoding="utf-8")) if cfg.simulated else None
    level = level_text(cfg.alpha)
    lines = [
        "(findings)=",
        "# Findings at a glance",
        "",
        f"The article's central claims, each with our estimate, its {level} interval and unit, and the verdict "
        "reached by the rule stated in {ref}`methods` (*matches* · *differs* · *inconclusive*). All numbers "
        "come from this run's result tables.",
        "",
    ]
    if truth is not None:
        lines += [
            ":::{warning}",
            "The survey in this run is **simulated**: a verdict says whether the method "
            "recovers what the simulation planted (column *planted*), not whether the claim holds for real "
            "firms.",
            ":::",
            "",
        ]
    rows = [_finding_row(cid, label, tested.loc[cid], truth) for cid, label in FINDINGS if cid in tested.index]
    table = pd.DataFrame(rows, columns=["claim", "verdict", "estimate", "unit", "planted"])
    columns = ["claim", "verdict", "estimate", "unit", *(["planted"] if truth else [])]
    caption = f"The article's central claims: our estimate ({level} interval), unit, planted truth and verdict"
    lines += ["", _html_table(Table(table, caption, columns=columns), level), ""]
    lines += _differs_sentences(tested)
    lines += [
        "",
        "Details, and every other claim, in {doc}`../notebooks/05_claims`; the couplings in "
        "{doc}`../notebooks/03_coupling`.",
        "",
    ]
    return "\n".join(lines)


def _finding_row(cid: str, label: str, r: pd.Series, truth: dict | None) -> dict:
    est = "—" if pd.isna(r["estimate"]) else f"{r['estimate']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
    if cid == "C03" and pd.notna(r.get("rank_low")):
        est += f"; rank set {int(r['rank_low'])}–{int(r['rank_high'])}"
    if pd.notna(r.get("p_iut", np.nan)):
        est += f"; exceeds every rival: p {format_p(r['p_iut'])}"
    if pd.notna(r.get("p_holm")):
        est += f"; Holm p {format_p(r['p_holm'])}"
    planted = (PLANTED[cid](truth) if cid in PLANTED else "—") if truth else ""
    unit = "" if pd.isna(r.get("unit")) else str(r["unit"])
    return {"claim": f"{cid} {label}", "estimate": est, "unit": unit, "planted": planted, "verdict": r["verdict"]}


def _differs_sentences(tested: pd.DataFrame) -> list[str]:
    """Why each *differs* (under the claim's reading or the other one) differs, in the rule's own terms."""
    out = []
    for cid, r in tested.iterrows():
        for col, reading in (("verdict", ""), ("verdict_alt", " under the other reading of its wording")):
            if r.get(col) != "differs":
                continue
            if pd.notna(r.get("band_low")) and col == "verdict":
                why = (
                    f"its interval [{r['ci_low']:.3f}, {r['ci_high']:.3f}] lies wholly outside the band "
                    f"[{r['band_low']:g}, {r['band_high']:g}] the rule accepts as the article's figure"
                )
            elif pd.notna(r.get("p_reverse")):
                why = f"another pair is significantly larger (p {format_p(r['p_reverse'])})"
            elif col == "verdict_alt":
                why = "the estimate lies outside the band that reading implies"
            else:
                why = "the estimate is significantly of the opposite sign"
            out.append(f"- **{cid} differs**{reading}: {why}.")
    return ["**Why a claim differs.**", "", *out] if out else []


def _html_table(table: Table, level: str) -> str:
    """A result table of a generated page, in the same display layer (labels, escaping, numbering) as the
    chapters' tables."""
    from cbec.book.chapter import styled
    from cbec.book.safe_display import render_styler

    # A fixed table id (Styler draws a random one): the same results give the same page, so an unchanged book is
    # recognised as unchanged and not rebuilt (a random id rebuilt it on every warm run: 6.8 s instead of 3).
    uuid = hashlib.sha256(table.caption.encode("utf-8")).hexdigest()[:10]
    st = styled(table, level).set_uuid(uuid)
    # One HTML block for MyST (a blank line would end it), styled like a chapter's output.
    html = re.sub(r"\n\s*\n", "\n", render_styler(st))
    return '<div class="cell_output">\n' + html + "\n</div>"


def downloads(out: Path, src: Path, cfg: RunConfig) -> dict[str, Path]:
    """Copy every download into the book source (``src/book/downloads``) and pack a results bundle with a
    manifest of SHA-256 hashes. Returns name -> staged path."""
    dl = src / "book" / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for result in sorted([*(out / "results").glob("*.csv"), *(out / "results").glob("*.svg")]):
        files[result.name] = Path(shutil.copy2(result, dl / result.name))
    clean = pd.read_parquet(out / "processed" / "clean.parquet")
    files["survey_as_analysed.csv"] = to_csv_for_people(clean, dl / "survey_as_analysed.csv")
    files["quarantine.csv"] = Path(shutil.copy2(out / "processed" / "quarantine.csv", dl / "quarantine.csv"))
    report = json.loads((out / "processed" / "report.json").read_text(encoding="utf-8"))
    report["source"] = Path(report["source"]).name  # the file, not where it lies on the builder's machine
    (dl / "validation_report.json").write_text(strict_json(report) + "\n", encoding="utf-8")
    files["validation_report.json"] = dl / "validation_report.json"
    instrument = Path(cfg.instrument_path) if cfg.instrument_path else DEFAULT_INSTRUMENT
    files["instrument.yaml"] = Path(shutil.copy2(instrument, dl / "instrument.yaml"))
    inst = load_instrument(instrument)  # read once: the dictionary, the workbook and the import text use it
    dd = inst.data_dictionary()

    def workbook(path: Path) -> None:
        to_xlsx_for_people({"questionnaire": dd}, path)

    key = dd.to_csv(index=False).encode() + metadata.version("openpyxl").encode()
    for lang in ("zh", "en") if wjx_import_problem(inst) is None else ():
        name = f"questionnaire_wjx_{lang}.txt"
        (dl / name).write_text(wjx_import_text(inst, lang), encoding="utf-8")
        files[name] = dl / name
    files["questionnaire.xlsx"] = derived_file(
        out / "cache", "questionnaire.xlsx", key, workbook, dl / "questionnaire.xlsx"
    )
    for name in ("codebook.yaml", "cases.yaml") if cfg.book == "article" else ():
        files[name] = Path(shutil.copy2(resource(name), dl / name))
    if cfg.book == "article":  # a table for people, like every other CSV download (BOM, no live formula)
        register = pd.read_csv(resource("claims.csv"), dtype=str, keep_default_na=False, encoding="utf-8")
        files["claims.csv"] = to_csv_for_people(register, dl / "claims.csv")
    if cfg.simulated:
        files["ground_truth.json"] = Path(shutil.copy2(cfg.ground_truth_path, dl / "ground_truth.json"))
    manifest = {name: {"sha256": sha256(p), "bytes": p.stat().st_size} for name, p in sorted(files.items())}
    (dl / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    files["manifest.json"] = dl / "manifest.json"
    with zipfile.ZipFile(dl / "cbec_results.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, p in sorted(files.items()):
            # a fixed entry time: the same files give the same bundle, byte for byte
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), p.read_bytes(), zipfile.ZIP_DEFLATED)
    files["cbec_results.zip"] = dl / "cbec_results.zip"
    return files


# The printed book sits at the web book's root (cbec.book.pdf.PDF_NAME); raw HTML, because a Sphinx download
# role would need the file before the pages are built.
_PDF_LINE = (
    'The whole book as one PDF: <a href="../cbec-book.pdf">cbec-book.pdf</a> (A4, every chapter and appendix, '
    "numbered figures and tables, the references; its SHA-256 is in `pdf.json` beside the run).",
    "",
)


def downloads_page(
    files: dict[str, Path], article: bool = True, wjx_problem: str | None = None, pdf: bool = False
) -> str:
    """The downloads page; ``wjx_problem`` says why no 问卷星 import text is offered (its wording is the
    questionnaire's own, so it is shown as text); ``pdf``: the run prints the whole book (``cbec run --pdf``),
    which is linked here (the file is made after the pages, so it has no checksum in the table)."""
    what = "the article's claims register and case profiles, the interview codebook, " if article else ""
    field = (
        " To field the survey, import `questionnaire_wjx_zh.txt` (or the English `questionnaire_wjx_en.txt`) into "
        "问卷星 as text: it creates the questions in the layout the pipeline reads back"
        + (" ({ref}`appendix-rerun`)." if article else ".")
        if "questionnaire_wjx_zh.txt" in files
        else (f" No 问卷星 import text is offered: {md_text(wjx_problem)}." if wjx_problem else "")
    )
    lines = [
        "(downloads)=",
        "# Data and downloads",
        "",
        "Every result table of this run as CSV (safe to open in a spreadsheet), every figure as SVG (a vector "
        "drawing, sharp at any size, for print and slides), the data as analysed, the "
        f"questionnaire{', ' + what if what else ''}"
        f"{'and the ground truth of the simulation' if 'ground_truth.json' in files else ''}. "
        "`cbec_results.zip` holds all of them "
        f"with `manifest.json`, the SHA-256 hash of every file.{field}",
        "",
        *(_PDF_LINE if pdf else ()),
        "| file | bytes | SHA-256 |",
        "|---|---:|---|",
    ]
    for name, p in sorted(files.items()):
        digest = sha256(p) if name != "cbec_results.zip" else "(the bundle)"
        # File names are the pipeline's own (result names, fixed resource names): safe inside the role.
        lines.append(f"| {{download}}`{name} <downloads/{name}>` | {p.stat().st_size:,} | `{digest[:16]}…` |")
    return "\n".join(lines) + "\n"


#: What provenance records as the code when the book was built by an installed package, not a checkout.
NOT_A_CHECKOUT = "not a git checkout"


def _git_state(repo: Path) -> str:
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return NOT_A_CHECKOUT
    return commit + (" with uncommitted changes" if dirty else "")


def _results_time(out: Path) -> str:
    """When the newest chapter was executed (an execution restored from the cache keeps its own time).

    The build time is not recorded: it would make every build differ from the last, and an unchanged
    book could never be recognised as unchanged (see ``cbec.book.staging.build_book``)."""
    stamps = [p.stat().st_mtime for p in (out / "notebooks").glob("*.ipynb")]
    when = datetime.fromtimestamp(max(stamps), UTC) if stamps else datetime.now(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S")


def provenance(out: Path, cfg: RunConfig, repo: Path) -> dict:
    """What produced this book: code state, every input's hash, the run's settings, versions, platform, time."""
    inputs: dict[str, str] = {}
    report = json.loads((out / "processed" / "report.json").read_text(encoding="utf-8"))
    candidates = [Path(report["source"])]
    candidates += [
        Path(p)
        for p in (
            cfg.instrument_path,
            cfg.ground_truth_path,
            cfg.gold_path,
            cfg.second_coder_path,
            cfg.codebook_path,
            cfg.hypotheses_path,
        )
        if p
    ]
    if not cfg.instrument_path:
        candidates.append(DEFAULT_INSTRUMENT)
    candidates += [resource(n) for n in ("claims.csv", "cases.yaml", "codebook.yaml", "realtext_paragraphs.csv")]
    if cfg.interviews_dir:
        candidates += sorted(p for p in Path(cfg.interviews_dir).iterdir() if p.is_file())
    for p in candidates:
        # A file is named by its name and content hash, never by where it lies on the builder's machine; a
        # link out of its folder is neither read nor named.
        if p.is_file() and not p.is_symlink():
            inputs[p.name if p.name not in inputs else f"{p.parent.name}/{p.name}"] = sha256(p)
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return {
        "code": _git_state(repo),
        "results_utc": _results_time(out),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "inputs_sha256": inputs,
        "run_config": _published_config(out),
        "versions": versions,
        "citation": citation(repo),
    }


def citation(repo: Path | None) -> dict:
    """The project's citation (``CITATION.cff`` in the source tree ``repo``, the one place it is written);
    outside a checkout (an installed wheel, ``None``) the package's name and version stand in."""
    import yaml

    from cbec import __version__

    cff = repo / "CITATION.cff" if repo else None
    if cff and cff.is_file():
        doc = yaml.safe_load(cff.read_text(encoding="utf-8"))
        from cbec.book.staging import repository_url

        doc["repository-code"] = doc.get("repository-code") or repository_url() or None
        return {k: doc.get(k) for k in ("title", "version", "date-released", "license", "repository-code")} | {
            "authors": [a.get("name") or f"{a.get('family-names')}, {a.get('given-names')}" for a in doc["authors"]]
        }
    return {"title": "cbec-book", "version": __version__, "authors": ["cbec-book contributors"], "license": "MIT"}


def _bib_value(text: object) -> str:
    """A value inside the fenced BibTeX block: no backtick can close the fence, no brace unbalance the entry."""
    return re.sub(r"[`{}\\]", "", str(text))


def _bibtex(prov: dict) -> list[str]:
    """The book's BibTeX entry, from the citation record and the run (study books carry their own title)."""
    c = prov.get("citation") or citation(None)
    article = prov.get("book", "article") == "article"
    title = c["title"] if article else f"{prov.get('title', 'A study book')} (built with {c['title'].split(':')[0]})"
    year = str(c.get("date-released") or "")[:4] or prov["results_utc"][:4]
    url = f"  url     = {{{c['repository-code']}}}," if c.get("repository-code") else None
    lines = [
        "@software{cbecbook,",
        f"  title   = {{{_bib_value(title)}}},",
        f"  author  = {{{' and '.join('{' + _bib_value(a) + '}' for a in c['authors'])}}},",
        f"  version = {{{c['version']}}},",
        f"  year    = {{{year}}},",
        *([url] if url else []),
        f"  note    = {{Built from {_bib_value(prov['code'][:12])}; licence {c.get('license', 'MIT')}}}",
        "}",
    ]
    return lines


def _published_config(out: Path) -> dict:
    """The run's settings as published: every path by its file or folder name only (no machine's layout)."""
    cfg = json.loads((out / "run_config.json").read_text(encoding="utf-8"))
    paths = ("processed_dir", "results_dir", "ground_truth_path", "instrument_path", "study_path", "interviews_dir",
             "gold_path", "second_coder_path", "codebook_path", "hypotheses_path")  # fmt: skip
    return {k: (Path(v).name if k in paths and v else v) for k, v in cfg.items() if k != "dask_scheduler"}


def _code_words(prov: dict) -> str:
    """Which code made the book: a checkout's commit, or the installed package's version (no git state exists)."""
    if prov["code"] == NOT_A_CHECKOUT:
        from cbec import __version__

        return f"the installed package cbec {__version__} (not a git checkout)"
    return f"code at `{md_text(prov['code'])}`"


def provenance_page(prov: dict) -> str:
    lines = [
        "(provenance)=",
        "# Provenance",
        "",
        f"The results in this book were computed on {prov['results_utc']} UTC from {_code_words(prov)}, with Python "
        f"{prov['python']} on {md_text(prov['platform'])}. The same inputs, settings and versions rebuild it.",
        "",
        "## Inputs",
        "",
        "| file | SHA-256 |",
        "|---|---|",
    ]
    lines += [f"| `{md_text(Path(p).name)}` | `{h}` |" for p, h in prov["inputs_sha256"].items()]
    lines += ["", "## Settings every chapter read (`run_config.json`)", "", "| setting | value |", "|---|---|"]
    lines += [f"| `{k}` | {md_text(v) if v != '' else '—'} |" for k, v in prov["run_config"].items()]
    lines += ["", "## Package versions", "", "| package | version |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in prov["versions"].items()]
    lines += [
        "",
        "## How to cite",
        "",
        "```bibtex",
        *_bibtex(prov),
        "```",
        "",
        "Cite the article as {cite}`li2026`. Licence: MIT (the code and the book); the article's facts are "
        "used with a reference and paraphrased."
        if prov.get("book", "article") == "article"
        else "Cite the study's own data and questionnaire as their authors ask. Licence of the code: MIT.",
        "",
    ]
    return "\n".join(lines)


def result_table(results: Path, name: str) -> pd.DataFrame | None:
    """A result table of this run (``results/<chapter>_<table>.csv``), or None when its chapter did not make it."""
    p = results / f"{name}.csv"
    return pd.read_csv(p, encoding="utf-8-sig") if p.exists() else None


#: One line on each page of the article's book, for the front page's reading guide (the list itself is the
#: table of contents of this run, so a page the run does not build is not listed and a new page is).
PAGE_LINES = {
    "book/findings": "gives every central claim, our estimate and the verdict in one table — start there.",
    "book/methods": "explains the design: questionnaire, measurement model, coupling models, inference.",
    "notebooks/00_simulated_data": "documents the generating model and its ground truth.",
    "notebooks/01_data_quality": "follows every submitted row to the analysis or to the quarantine.",
    "notebooks/02_measurement": "checks that the seven scales are reliable and distinct.",
    "notebooks/03_coupling": "tests all 21 factor pairs and asks how many firms a study needs.",
    "notebooks/04_size_paths": "tests balance versus focus by firm size, group differences and stage advice.",
    "notebooks/05_claims": "sets the article's reported effects against estimates from the survey.",
    "notebooks/06_cases": "profiles the two case firms, coded from the article.",
    "notebooks/07_interviews": "codes interview transcripts and sets them beside the survey.",
    "notebooks/08_pls": "sets PLS-SEM, as SmartPLS and seminr users run it, beside regression and the constructs.",
    "book/appendix_questionnaire": "is the questionnaire, in English and Chinese.",
    "book/appendix_data_dictionary": "lists every column the pipeline reads.",
    "book/appendix_rerun": "shows how to build this book for your own survey.",
    "book/appendix_performance": "measures the pipeline's speed and memory.",
    "book/appendix_calibration": "measures how often each verdict rule is right, in every simulated world.",
    "book/downloads": "offers every result table and the data as analysed.",
    "book/provenance": "records the code, inputs, settings and versions behind this run, with how to cite it.",
}


def reading_guide(toc: Path) -> str:
    """The front page's list of pages, in the order of this run's table of contents, each with its line."""
    from cbec.book.staging import toc_files

    pages = toc_files(toc)[1:]
    return "\n".join(f"- {{doc}}`/{p}` {PAGE_LINES.get(p, '')}".rstrip() for p in pages) + "\n"


def abstract(out: Path, cfg: RunConfig) -> str:
    """The front page's summary of what this run found, three to five sentences read from its result tables
    (nothing typed by hand: another run, another summary)."""
    table = functools.partial(result_table, out / "results")
    lvl = level_text(cfg.alpha)
    lines = []
    ranks = table("coupling_rank_inference")
    if ranks is not None and len(ranks):
        t = ranks.sort_values("estimate", ascending=False).iloc[0]
        pair = f"{t['factor_a']} × {t['factor_b']}"
        where = (
            "established as the largest (its simultaneous rank set is {1})"
            if int(t["rank_low"]) == int(t["rank_high"]) == 1
            else f"not separated from the others: its simultaneous rank set runs from {int(t['rank_low'])} to "
            f"{int(t['rank_high'])}"
        )
        lines.append(
            f"- **Couplings.** Of {len(ranks)} pairs in the joint model, {pair} has the largest coupling, "
            f"{t['estimate']:.3f} SD of performance per SD of both ({lvl} CI {t['ci_low']:.3f} to "
            f'{t["ci_high"]:.3f}); as the exploratory "which is largest" it is {where}.'
        )
    claims = table("claims_tested")
    c03 = claims[claims["claim_id"] == "C03"] if claims is not None and "claim_id" in claims else None
    if lines and c03 is not None and len(c03):
        lines[-1] += (
            " Asked as the article's pre-specified claim — MI × SC above every other pair, compared on the "
            f"constructs — the intersection–union test finds that it *{c03['verdict'].iloc[0]}*."
        )
    if claims is not None and len(claims):
        once = claims[claims["part_of"].isna()] if "part_of" in claims.columns else claims
        v = once["verdict"].value_counts()
        lines.append(
            f"- **The article's claims.** Of {len(once)} claims this survey can test, {int(v.get('matches', 0))} "
            f"match, {int(v.get('differs', 0))} differ and {int(v.get('inconclusive', 0))} are inconclusive "
            "({doc}`findings`)."
        )
    inv = table("measurement_invariance")
    if inv is not None and len(inv):
        size = inv[inv["grouping"] == "size"]
        held = [lv for lv, ok in zip(size["level"], size["holds"], strict=True) if bool(ok)]
        lines.append(
            "- **Large firms and SMEs.** Measurement invariance holds up to the "
            f"{held[-1] if held else 'none'} level, so "
            + (
                "the groups' slopes and couplings may be compared"
                if held and held[-1] != "configural"
                else "the groups' scores cannot be compared directly"
            )  # fmt: skip
            + " ({doc}`../notebooks/04_size_paths`)."
        )
    if not lines:
        return "No chapter produced a result to summarise.\n"
    origin = "simulated survey" if cfg.simulated else "survey"
    return f"What this run found in the {origin} of {_n_firms(out)} firms:\n\n" + "\n".join(lines) + "\n"


def _n_firms(out: Path) -> int:
    return int(json.loads((out / "processed" / "report.json").read_text(encoding="utf-8"))["rows_clean"])


def rerun_facts(out: Path) -> str:
    """Facts for the re-run appendix from this run: Python, run time per chapter, firms needed (power study)."""
    lines = [
        f"- **Python**: 3.11 (this book was built with {platform.python_version()}); everything else is "
        "pinned in `requirements.txt` and installed by `make venv`."
    ]
    timings = out / "timings.json"
    if timings.exists():
        chapters = json.loads(timings.read_text(encoding="utf-8"))["chapters"]
        secs = {name: c["seconds"] for name, c in chapters.items()}
        lines.append(
            f"- **Run time**: executing the chapters of this book took {sum(secs.values()) / 60:.1f} minutes of "
            f"computing (longest: {max(secs, key=lambda k: secs[k])}, {max(secs.values()):.0f} s), run two at a "
            "time on a two-core machine; validation and the book build add a few seconds. A re-run re-executes "
            "only the chapters whose notebook, settings or input files changed."
        )
    power = out / "results" / "coupling_power.csv"
    if power.exists():
        curve = pd.read_csv(power, encoding="utf-8-sig")
        for gamma in (0.15, 0.20, 0.25):
            ok = curve[(curve["gamma"].round(2) == gamma) & (curve["power_holm"] >= 0.8)]
            need = f"about {int(ok['n'].min())} firms" if len(ok) else f"more than {int(curve['n'].max())} firms"
            lines.append(
                f"- **Sample size**: to find a coupling of {gamma:.2f} SD with 80% power (Holm across 21 "
                f"pairs) a survey needs {need} after screening (power study of this run)."
            )
    return "\n".join(lines) + "\n"


def _pls_paragraph(pls: dict) -> list[str]:
    """The PLS-SEM timings of the performance appendix (nothing when the benchmark file predates them)."""
    if "pi_bootstrap_999_seconds" not in pls:
        return []
    seminr = (
        f" (seminr's Python port: about {pls['seminr_py_bootstrap_5000_seconds_scaled']:.0f} s)"
        if "seminr_py_bootstrap_5000_seconds_scaled" in pls
        else ""
    )
    return [
        f"**PLS-SEM.** The seven-factor model is estimated in {pls['estimate_seconds']} s and bootstrapped 5,000 "
        f"times in {pls['bootstrap_5000_seconds']} s{seminr}, every resample's correlation matrix coming from one "
        "weighted product of the firms' cross-products. A product-indicator model of one pair "
        f"({pls['pi_pair'].replace('*', ' × ')}, {pls['pi_indicators']} indicators) takes "
        f"{pls['pi_bootstrap_999_seconds']} s for 999 resamples, its products formed anew in each from the "
        f"resample's moments, against about {pls['pi_refit_loop_999_seconds_scaled']:.0f} s refitting every "
        "resample's data "
        f"({pls['pi_bootstrap_speedup_vs_refit']}× faster, the same draws).",
        "",
    ]


def performance_page(bench: dict | None) -> str:
    """The performance appendix from ``benchmarks/results/latest.json`` (written by ``make bench``, not by
    the book build): the targets beside the measured figures, the scale curve, and when Dask is worth it."""
    lines = ["(appendix-performance)=", "# Appendix D. Performance", ""]
    if not bench:
        return "\n".join([*lines, "No benchmark results yet: run `make bench` and rebuild the book.", ""])
    m, r = bench["machine"], bench["results"]
    lines += [
        f"Measured by `make bench` on {m['date']}: {m['cores']} cores, {m['platform']}, Python {m['python']}, "
        f"numpy {m['numpy']}, pandas {m['pandas']}, statsmodels {m['statsmodels']}. The book quotes the file "
        "`benchmarks/results/latest.json`; building the book does not re-measure.",
        "",
        "| target | rule | measured | met |",
        "|---|---|---:|:---:|",
    ]
    lines += _target_lines(r["targets"])
    lines += _speed_lines(r["bootstrap"], r["power_study"])
    lines += _pls_paragraph(r.get("pls", {}))
    if "scale" in r:
        lines += _scale_lines(r["scale"])
    if "cbec_run" in r:
        c = r["cbec_run"]
        lines += [
            f"**A run.** `cbec run` on the shipped survey took {c['cold_seconds']} s from an empty output folder "
            f"and {c['warm_seconds']} s again with nothing changed (chapters restored from the cache, the book "
            "left as built).",
            "",
            *_chapter_lines(c),
        ]
    if "dask" in r:
        lines += _dask_lines(r["dask"])
    if "calibration" in r:
        lines += _calibration_lines(r["calibration"])
    return "\n".join(lines)


def _target_lines(targets: list[dict]) -> list[str]:
    """The targets beside the measured figures, one table row each."""
    lines = []
    for t in targets:
        got = "—" if t["measured"] is None else f"{t['measured']:,} {t['unit']}".replace("ratio", "").strip()
        met = "—" if t["met"] is None else ("✓" if t["met"] else "✗")
        rule = t["rule"].replace("<=", "≤").replace(">=", "≥") + ("" if t["unit"] == "ratio" else f" {t['unit']}")
        lines.append(f"| {t['target']} | {rule} | {got} | {met} |")
    return lines


def _speed_lines(b: dict, p: dict) -> list[str]:
    """The batched bootstrap and power study against their one-at-a-time alternatives."""
    return [
        "",
        f"**Bootstrap.** The 21 pair models with 2,000 case resamples each take {b['batched_seconds']} s batched "
        f"(every resample's normal equations from one weighted product of shared cross-products) against "
        f"{b['statsmodels_loop_seconds_scaled']} s for a statsmodels refit loop on the same resamples: "
        f"{b['bootstrap_speedup_vs_statsmodels']}× faster; the coefficients agree to "
        f"{b['max_abs_difference']:.0e}.",
        "",
        f"**Power study.** The 1,600 simulated surveys of the coupling chapter take {p['batched_seconds']} s "
        f"drawn and fitted in batches, against about {p['one_at_a_time_seconds_scaled']:.0f} s one survey at a "
        "time; each grid cell has its own seed, so cells may run anywhere in any order.",
        "",
    ]


def _scale_lines(sc: dict) -> list[str]:
    """Time and memory against the number of firms."""
    lines = [
        "**Scale.** Reading, validating and scoring a survey and fitting the joint model and all 21 pair "
        f"models grows with the number of firms with exponent {sc['growth_exponent']} (fitted on "
        f"{', '.join(f'{n:,}' for n in sc['exponent_fitted_on'])} firms):",
        "",
        "| firms | clean | seconds | of which validation | peak memory (MB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in sc["rows"]:
        lines.append(
            f"| {row['n']:,} | {row['rows_clean']:,} | {row['seconds']:.1f} | {row['validate_seconds']:.1f} | "
            f"{row['peak_rss_mb']:,.0f} |"
        )
    lines += [
        "",
        "```{figure} figures/performance_scale.png",
        ":name: fig-performance-scale",
        ":alt: Two log-log panels: seconds and peak memory against the number of firms, from one "
        "thousand to one million.",
        "",
        "Time and peak memory against firms, log–log (from `make bench`).",
        "```",
        "",
    ]
    return lines


def _dask_lines(d: dict) -> list[str]:
    """The power grid on a local Dask cluster against one process, and when a cluster pays off."""
    return [
        f"**Dask.** The power grid on a local two-worker Dask cluster took {d['local_cluster_2_workers_seconds']}"
        f" s (of which {d['cluster_start_seconds']} s to start the cluster) against {d['local_seconds']} s in "
        f"one process, with {'identical' if d['identical'] else 'DIFFERENT'} results. On one machine the "
        "batched computation is already faster than shipping it to workers; a cluster pays off when the "
        "studies grow — a 20 × 20 power grid with 10,000 surveys per cell is 4 million surveys, about "
        f"{4_000_000 / 1600 * d['local_seconds'] / 3600:.1f} hours in one process at this speed — and is "
        "used with `cbec run --scheduler tcp://host:8786` (a running cluster) or `--workers N` (a local "
        "one).",
        "",
    ]


def _chapter_lines(c: dict) -> list[str]:
    """Seconds per chapter of the cold run and, for the heaviest, where they go (cProfile, cumulative)."""
    if not c.get("chapter_seconds"):
        return []
    out = ["| chapter | seconds | heaviest functions (cumulative seconds) |", "|---|---:|---|"]
    for nb, sec in sorted(c["chapter_seconds"].items(), key=lambda kv: -kv[1]):
        top = c.get("chapter_profile", {}).get(nb, [])
        out.append(f"| {nb} | {sec:.1f} | {', '.join(f'`{f}` {t:.1f}' for f, t in top[:4]) or '—'} |")
    return [*out, ""]


def _calibration_lines(cal: dict) -> list[str]:
    if "shares_identical" not in cal:  # a record from before this format: nothing to quote rather than a crash
        return []
    full = cal.get("full_study_500_one_process_seconds_estimated")
    timed = cal.get("full_study", {}).get("reps_timed")
    how = (
        f"Timed cell by cell (every world at every size, {timed[0]} and {timed[1]} samples each, one BLAS thread), the"
        if timed
        else "At that rate the"
    )
    est = (
        f" {how} whole study with 500 samples a cell would take about {full / 60:.0f} minutes in one "
        f"process, and about {full / 64 / cal['efficiency_two_workers'] / 60:.1f} minutes on 64 workers of the "
        "same efficiency."
        if full
        else ""
    )
    return [
        f"**Calibration.** A slice of the calibration study ({cal['samples']} simulated surveys) took "
        f"{cal['one_process_seconds']} s in one process and {cal['two_workers_seconds']} s on a local two-worker "
        f"Dask cluster (efficiency {cal['efficiency_two_workers']:.0%}), "
        f"{'the same verdict shares' if cal['shares_identical'] else 'DIFFERENT verdict shares'} and estimates "
        f"within {cal['largest_difference']:.0e} of each other; each cell has its own seed, so cells go to any "
        f"worker in any order.{est}{_record_wall_time()}",
        "",
        *_rule_profile_lines(cal.get("seconds_per_sample_by_rule") or {}),
        *_shortfall_lines(cal),
    ]


def _shortfall_lines(cal: dict) -> list[str]:
    """What the calibration target asks of each simulated survey against what the rules cost (the profile), all
    from the bench's cell-by-cell timing: its target, its cells and the samples a cell it stands for."""
    full, study = cal.get("full_study_500_one_process_seconds_estimated"), cal.get("full_study", {})
    by_size, target = study.get("seconds_per_sample_by_size"), study.get("target_seconds")
    if not full or not by_size or not target or full <= target:
        return []
    per = target / (len(study["cells"]) * study["target_reps"])
    return [
        f"The target of {target} s in one process allows {per:.3f} s a simulated survey; every rule "
        f"of the book applied to one costs {min(by_size.values()):.2f}–{max(by_size.values()):.2f} s (by sample "
        f"size, averaged over the worlds), so the study misses the target by a factor of about "
        f"{full / target:.0f}. The table says where: ten multi-group factor models per survey for "
        "the invariance rule, and bootstraps of 999 resamples (the book's setting, which the calibration must "
        "keep) for C14 and the response surface; on a cluster the study scales out instead.",
        "",
    ]


def _record_wall_time() -> str:
    """The committed calibration record's own wall time (``make calibrate``), when it says it."""
    from cbec.article.calibration_record import load_calibration

    meta = (load_calibration() or {}).get("meta", {})
    if not meta.get("seconds"):
        return ""
    workers = meta.get("workers", 1)
    where = f"{workers} local Dask workers" if isinstance(workers, int) and workers > 1 else "one process"
    return (
        f" The calibration record the book quotes ({len(meta['scenarios'])} worlds × {len(meta['sample_sizes'])} "
        f"sizes × {meta['reps']:,} samples, `make calibrate` on {meta['date']}) took {meta['seconds']:,.0f} s on "
        f"{where}."
    )


def _rule_profile_lines(by_size: dict) -> list[str]:
    """Where a simulated survey's time goes in the calibration study, step by step (one BLAS thread)."""
    if not by_size:
        return []
    sizes = list(by_size)
    steps = sorted(by_size[sizes[0]], key=lambda k: -by_size[sizes[-1]].get(k, 0.0))
    out = [
        "Where a simulated survey's time goes (seconds, realistic world, one BLAS thread):",
        "",
        "| step | " + " | ".join(f"{int(n):,} firms" for n in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    out += [f"| {k} | " + " | ".join(f"{by_size[n].get(k, float('nan')):.2f}" for n in sizes) + " |" for k in steps]
    totals = " | ".join(f"{sum(by_size[n].values()):.2f}" for n in sizes)
    return [*out, f"| **all** | {totals} |", ""]
