"""The book's source and its build: the pages, notebooks, table of contents and Sphinx configuration staged
under ``out/src`` (only changed files touched, so Sphinx re-reads only what changed), then built by Jupyter Book
into ``out/html`` with warnings as errors. Paths to the shipped sources are here, in one place.

:func:`cbec.book.pipeline.run` calls :func:`stage_book` and :func:`build_book` after the chapters ran; the PDF
(:mod:`cbec.book.pdf`) stages the same source.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import nbformat
import pandas as pd

from cbec.book.cache import cached_file, derived_file
from cbec.io.instrument import load_instrument
from cbec.study.chapters.base import RunConfig, study_spec


class PipelineError(RuntimeError):
    """A step of the run failed; the message names the step, notebook and cell."""


#: The book's sources — chapter notebooks, handwritten pages, the two tables of contents, the Sphinx configuration and
#: the bibliography — ship inside the package (cbec/site), so an installed cbec builds the book anywhere; a checkout
#: is only the developer's view of the same files.
SITE = Path(__file__).resolve().parents[1] / "site"


NOTEBOOK_DIR = SITE / "notebooks"


BOOK_DIR = SITE / "book"


#: A source checkout's root, where there is one: its git state and CITATION.cff for provenance, the benchmark
#: results. An installed package has none of them, and the pages say so.
REPO_ROOT = Path(__file__).resolve().parents[3]
#: The illustrative interview transcripts of the shipped article study (a checkout's data/interviews).
SHIPPED_INTERVIEWS = REPO_ROOT / "data" / "interviews"
#: Jupyter Book's command line through this interpreter: an installed package need not have put the
#: ``jupyter-book`` script beside it (a venv that reaches its dependencies by a .pth file has none).
JUPYTER_BOOK = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())"]


#: The tables of contents of the two books: the source article's replication, and a researcher's own study.
TOCS = {"article": SITE / "_toc.yml", "study": SITE / "_toc_study.yml"}


def _sync_tree(new: Path, dst: Path) -> int:
    """Make ``dst`` hold exactly the files of ``new``, rewriting only files whose bytes changed.

    Sphinx re-reads a page only when its source is newer than its last read, so keeping unchanged
    files untouched is what lets a re-run with nothing changed rebuild the book in about two seconds.
    """
    dst.mkdir(parents=True, exist_ok=True)
    wanted = {p.relative_to(new) for p in new.rglob("*") if p.is_file()}
    changed = 0
    for p in sorted(dst.rglob("*"), reverse=True):
        rel = p.relative_to(dst)
        if p.is_file() and rel not in wanted:
            p.unlink()
            changed += 1
        elif p.is_dir() and not (new / rel).is_dir():
            shutil.rmtree(p)
    for rel in wanted:
        target = dst / rel
        if target.is_file() and target.read_bytes() == (new / rel).read_bytes():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(new / rel, target)
        os.utime(target)  # newer than Sphinx's last read, whatever the source file's own time
        changed += 1
    return changed


def stage_book(out: Path, pdf: bool = False) -> tuple[Path, int]:
    """Assemble the book source under ``out/src``: config, pages, generated appendices, notebooks (``pdf``:
    the Downloads page links the printed book, which :func:`cbec.book.pdf.build_pdf` makes after the build).

    The tree is assembled aside and synced into ``out/src`` file by file (see :func:`_sync_tree`).
    Returns the source folder and how many of its files changed."""
    src = out / "src"
    staging = out / "src.next"
    if staging.exists():
        shutil.rmtree(staging)
    _assemble(out, staging, pdf)
    changed = _sync_tree(staging, src)
    shutil.rmtree(staging)
    return src, changed


def _assemble(out: Path, src: Path, pdf: bool = False) -> None:
    from cbec.book import pages

    (src / "notebooks").mkdir(parents=True)
    cfg = RunConfig.load(out / "run_config.json")
    shutil.copy2(SITE / "references.bib", src / "references.bib")
    spec = study_spec(cfg) if cfg.book == "study" else None
    _write_config(cfg, src / "_config.yml", spec)
    toc = write_toc(cfg.book, materials(cfg), src / "_toc.yml")
    if cfg.book == "article":
        shutil.copytree(BOOK_DIR, src / "book")
    else:  # the study book's pages are all generated; only the shared static files and templates are copied
        for shared in ("_static", "_templates"):
            shutil.copytree(BOOK_DIR / shared, src / "book" / shared)
    inst = load_instrument(_configured_instrument(out))
    (src / "book" / "appendix_questionnaire.md").write_text(
        pages.questionnaire_page(inst, article=cfg.book == "article"), encoding="utf-8"
    )
    (src / "book" / "appendix_data_dictionary.md").write_text(pages.data_dictionary_page(inst), encoding="utf-8")
    if cfg.book == "article":
        _system_figure(out, src, inst)
    executed = out / "notebooks"
    toc_notebooks = _toc_notebooks(toc)
    missing = [n for n in toc_notebooks if not (executed / f"{n}.ipynb").exists()]
    if missing:
        raise PipelineError(f"cannot build the book: executed notebooks missing for {missing}; run `cbec run` first")
    for n in toc_notebooks:
        nb = nbformat.read(executed / f"{n}.ipynb", as_version=4)
        _publishable(nb)
        nbformat.write(nb, src / "notebooks" / f"{n}.ipynb")
    _generated_pages(out, src, cfg, spec, pdf)


def _study_title(spec) -> str:
    """A study book's title: the study file's, or a plain one for a study book without a study file."""
    return spec.title if spec is not None else "A study book built with cbec"


def repository_url(conf: dict | None = None) -> str:
    """The project's public address from ``_config.yml`` (``repository.url``; empty when none is known)."""
    import yaml

    if conf is None:
        conf = yaml.safe_load((SITE / "_config.yml").read_text(encoding="utf-8"))
    return str((conf.get("repository") or {}).get("url") or "").strip()


def _write_config(cfg: RunConfig, dst: Path, spec) -> None:
    """The book's Sphinx configuration: the repository's, titled with the study's own title in a study book."""
    import yaml

    conf = yaml.safe_load((SITE / "_config.yml").read_text(encoding="utf-8"))
    url = repository_url(conf)
    conf["html"]["use_repository_button"] = bool(url)
    # Pages name the code's address through one substitution ({{ repository }}), never by hand.
    conf["parse"]["myst_enable_extensions"] = [*conf["parse"]["myst_enable_extensions"], "substitution"]
    conf["parse"]["myst_substitutions"] = {
        "repository": f"the project's repository, <{url}>" if url else "this book's source tree"
    }
    if url:
        conf["repository"] = {**(conf.get("repository") or {}), "url": url, "path_to_book": ""}
    else:
        conf.pop("repository", None)  # an empty address would give every page a dead source link
    # The book's Sphinx extension is code, not a staged file: its digest in the configuration makes a change to
    # it rebuild the book (a changed configuration value of kind "env" makes Sphinx read every page again).
    spec_ext = importlib.util.find_spec("cbec.book.sphinx_html")
    extension = Path(str(spec_ext and spec_ext.origin)).read_bytes()
    conf["sphinx"]["config"]["cbec_html_digest"] = hashlib.sha256(extension).hexdigest()[:16]
    if cfg.book == "study":
        conf["title"] = _study_title(spec)
        conf["author"] = "the study's authors (built with cbec)"
    dst.write_text(yaml.safe_dump(conf, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _publishable(nb) -> None:
    """An executed notebook as the book shows and offers it: papermill's record of the build machine's paths
    removed, and the injected parameter pointing at ``run_config.json`` beside it (relative), hidden."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            cell.source = 'run_config = "run_config.json"  # the run\'s settings (cbec run writes it)'
            cell.outputs = []
            if "remove-cell" not in tags:
                cell.metadata["tags"] = [*tags, "remove-cell"]


def _system_figure(out: Path, src: Path, inst) -> None:
    """The article's framework figure on its front page (cached on the instrument and the drawing code)."""
    (src / "book" / "figures").mkdir(exist_ok=True)
    name = "seven_factor_system.png"
    derived_file(out / "cache", name, *_source_figures("article", inst)[name], src / "book" / "figures" / name)


def _source_figures(book: str, inst=None) -> dict[str, tuple[bytes, Callable[[Path], None]]]:
    """The figures the pipeline draws from the source tree, not from the run — the front page's framework
    (from the questionnaire ``inst``, when given), the performance appendix's scale curve (the benchmark results)
    and the calibration appendix's panels (the calibration record): cache name -> (key, drawing)."""
    from cbec.article.calibration_record import RESULTS_NAME, load_calibration
    from cbec.resources import resource

    if book != "article":
        return {}
    code = _drawing_code()
    out: dict[str, tuple[bytes, Callable[[Path], None]]] = {}
    if inst is not None:
        out["seven_factor_system.png"] = (
            Path(inst.path).read_bytes() + code + metadata.version("matplotlib").encode(),
            lambda p: _save_figure("seven_factor_system", p, inst),
        )
    bench = _bench_results()
    if bench and "scale" in bench["results"]:
        sc = bench["results"]["scale"]
        out["performance_scale.png"] = (
            BENCH_FILE.read_bytes() + code,
            lambda p: _save_figure("scale_curve", p, pd.DataFrame(sc["rows"]), sc["growth_exponent"]),
        )
    record = load_calibration()
    if record:
        out["calibration.png"] = (
            resource(RESULTS_NAME).read_bytes() + code,
            lambda p: _save_figure("calibration_panels", p, pd.DataFrame(record["rows"]), record["meta"]["alpha"]),
        )
    return out


def _save_figure(draw: str, path: Path, *args) -> None:
    from cbec.book import figures

    figures.save(getattr(figures, draw)(*args), path)


def draw_source_figures(out: Path) -> None:
    """Draw :func:`_source_figures` into the run's cache, so that staging the book only copies them. They need
    nothing from the chapters, so ``cbec run`` draws them while the chapters execute: on a cold run they were
    2-3 s of the book build, matplotlib's import included."""
    cfg = RunConfig.load(out / "run_config.json")
    inst = load_instrument(_configured_instrument(out))
    for name, (key, draw) in _source_figures(cfg.book, inst).items():
        cached_file(out / "cache", name, key, draw)


def _generated_pages(out: Path, src: Path, cfg: RunConfig, spec, pdf: bool = False) -> None:
    """Findings, downloads and provenance, written from this run's results (never typed)."""
    from cbec.book import generated, study_pages

    book = src / "book"
    if cfg.book == "study":
        (book / "index.md").write_text(study_pages.front_page(out, cfg, spec), encoding="utf-8")
    else:
        (book / "findings.md").write_text(generated.findings_page(out, cfg), encoding="utf-8")
    files = generated.downloads(out, src, cfg)
    from cbec.io.fielding import wjx_import_problem
    from cbec.io.instrument import DEFAULT_INSTRUMENT

    problem = wjx_import_problem(load_instrument(cfg.instrument_path or DEFAULT_INSTRUMENT))
    page = generated.downloads_page(files, cfg.book == "article", problem, pdf=pdf)
    (book / "downloads.md").write_text(page, encoding="utf-8")
    prov = {**generated.provenance(out, cfg, REPO_ROOT), "book": cfg.book}
    if cfg.book == "study":
        prov["title"] = _study_title(spec)
    (out / "provenance.json").write_text(json.dumps(prov, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (book / "provenance.md").write_text(generated.provenance_page(prov), encoding="utf-8")
    if cfg.book == "article":
        (book / "rerun_facts.md").write_text(generated.rerun_facts(out), encoding="utf-8")
        (book / "abstract.md").write_text(generated.abstract(out, cfg), encoding="utf-8")
        (book / "reading_guide.md").write_text(generated.reading_guide(src / "_toc.yml"), encoding="utf-8")
        _performance_appendix(out, book)
        _calibration_appendix(out, book)


#: The benchmark results the performance appendix shows (a source checkout's; an installed package has none).
BENCH_FILE = REPO_ROOT / "benchmarks" / "results" / "latest.json"


def _bench_results() -> dict | None:
    return json.loads(BENCH_FILE.read_text(encoding="utf-8")) if BENCH_FILE.exists() else None


def _performance_appendix(out: Path, book: Path) -> None:
    """The performance appendix and its figure, from the benchmark results in the source tree."""
    from cbec.book import generated

    (book / "appendix_performance.md").write_text(generated.performance_page(_bench_results()), encoding="utf-8")
    _copy_source_figure(out, book, "performance_scale.png")


def _calibration_appendix(out: Path, book: Path) -> None:
    """The operating-characteristics appendix and its figure, from the committed calibration record."""
    from cbec.article.calibration_record import load_calibration
    from cbec.book.calibration_page import calibration_page

    (book / "appendix_calibration.md").write_text(calibration_page(load_calibration()), encoding="utf-8")
    _copy_source_figure(out, book, "calibration.png")


def _copy_source_figure(out: Path, book: Path, name: str) -> None:
    """One of :func:`_source_figures` into the book's figures (drawn now if the run has not drawn it yet)."""
    spec = _source_figures("article").get(name)
    if spec:
        derived_file(out / "cache", name, *spec, book / "figures" / name)


def _drawing_code() -> bytes:
    """The figure module's source, for the keys of the figures the pipeline draws itself: read without importing
    it (matplotlib takes most of a second to import, and a warm run draws nothing)."""
    from importlib.util import find_spec

    spec = find_spec("cbec.book.figures")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).read_bytes()


def _configured_instrument(out: Path) -> str | None:
    """The instrument of the run in ``out`` (the appendices render the user's questionnaire)."""
    cfg = out / "run_config.json"
    return (RunConfig.load(cfg).instrument_path or None) if cfg.exists() else None


def toc_files(toc: Path) -> list[str]:
    """Every page of the table of contents, in reading order (``book/index``, ``notebooks/03_coupling``, ...):
    the file parsed (and checked) by the same ``sphinx_external_toc`` that Jupyter Book builds it with, then
    walked depth first from the root."""
    from sphinx_external_toc.api import FileItem
    from sphinx_external_toc.parsing import parse_toc_yaml

    site = parse_toc_yaml(toc)
    files: list[str] = []

    def visit(name: str) -> None:
        files.append(name)
        for tree in site[name].subtrees:
            for item in tree.items:
                if isinstance(item, FileItem):
                    visit(str(item))

    visit(site.root.docname)
    return files


def _toc_notebooks(toc: Path) -> list[str]:
    """The chapter notebooks of a table of contents, in reading order (``03_coupling``, ...)."""
    return [f.split("/", 1)[1] for f in toc_files(toc) if f.startswith("notebooks/")]


#: Chapters of the study book that exist only when the study has their material.
OPTIONAL_STUDY_CHAPTERS = {
    "notebooks/s06_study_interviews": "interviews",
    "notebooks/s07_study_hypotheses": "hypotheses",
}


def materials(cfg) -> set[str]:
    """The optional materials a run has (a RunConfig or RunSettings): transcripts, hypotheses."""
    have = {
        "interviews": getattr(cfg, "interviews_dir", None) or getattr(cfg, "interviews", None),
        "hypotheses": getattr(cfg, "hypotheses_path", None) or getattr(cfg, "hypotheses", None),
    }
    return {k for k, v in have.items() if v}


def write_toc(book: str, present: set[str], dest: Path) -> Path:
    """The table of contents of this run's book, written to ``dest``: the study book drops a chapter whose
    material (transcripts, hypotheses) the study does not have (an empty chapter says nothing about the study)."""
    import yaml

    data = yaml.safe_load(TOCS[book].read_text(encoding="utf-8"))
    if book == "study":
        for part in data.get("parts", []):
            part["chapters"] = [c for c in part["chapters"] if OPTIONAL_STUDY_CHAPTERS.get(c.get("file"), "") in
                                {"", *present}]  # fmt: skip
    dest.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def book_notebooks(book: str, present: set[str]) -> list[str]:
    """The chapter notebooks of a book (the study book's optional chapters only with their material)."""
    return [
        n
        for n in _toc_notebooks(TOCS[book])
        if book != "study" or OPTIONAL_STUDY_CHAPTERS.get(f"notebooks/{n}", "") in {"", *present}
    ]


def build_book(out: Path, pdf: bool = False) -> Path:
    """Build ``out/html`` with Sphinx warnings as errors; a failed build leaves no ``out/html`` (``pdf``: the
    Downloads page links the PDF that :func:`cbec.book.pdf.build_pdf` prints next).

    Sphinx's build folder ``out/jb`` is kept between runs so that only changed pages are read again;
    it is deleted after a failed build, because Sphinx would not repeat the warnings of pages it does
    not re-read."""
    out = out.resolve()
    src, changed = stage_book(out, pdf)
    jb_out = out / "jb"
    html = out / "html"
    if changed == 0 and (html / "index.html").exists() and (jb_out / "_build" / "html").exists():
        return html  # the same source as the book already built: nothing to do
    if html.exists():
        shutil.rmtree(html)
    cmd = [
        *JUPYTER_BOOK,
        "build",
        str(src),
        "--path-output",
        str(jb_out),
        "--builder",
        "html",
        "-W",
        "-n",
        "--keep-going",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = out / "book-build.log"
    log.write_text(proc.stdout + "\n" + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        warnings = [
            ln
            for ln in (proc.stdout + proc.stderr).splitlines()
            if "WARNING" in ln or "error:" in ln.lower() or "Error:" in ln
        ]
        detail = "\n  ".join(warnings[:15]) or (proc.stdout + proc.stderr)[-2000:]
        shutil.rmtree(jb_out, ignore_errors=True)
        raise PipelineError(f"the book build failed (warnings are errors); full log: {log}\n  {detail}")
    shutil.copytree(jb_out / "_build" / "html", html)
    (out / "run.json").write_text(json.dumps({"html": str(html / "index.html")}, indent=2) + "\n", encoding="utf-8")
    return html
