"""Run the whole analysis: validate the survey, execute every chapter notebook, build the book.

``run`` is what ``cbec run`` and ``make book`` call. The steps write only under ``out``::

    out/run_config.json  the settings every chapter reads (one configuration: chapters cannot disagree)
    out/processed/   clean.parquet, quarantine.parquet (raw), quarantine.csv (for people), report.json
    out/results/     every result table as CSV, named <chapter>_<table>.csv (cbec.book.chapter.run_chapter)
    out/notebooks/   executed notebooks (build products)
    out/src/         the staged book source (handwritten pages, generated appendices, notebooks)
    out/html/        the built book

A failing notebook stops the run with :class:`PipelineError` naming the notebook, the cell and
the error; the book is then not built, so no half-built book is ever reported as a success.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import papermill as pm
from papermill.exceptions import PapermillExecutionError

from cbec.io.instrument import load_instrument
from cbec.io.validate import QualityThresholds, validate_survey
from cbec.study.chapters.base import RunConfig

#: The source tree: the book's pages, notebooks and configuration live there, not in the installed package.
REPO_ROOT = Path(__file__).resolve().parents[3]
SHIPPED_INTERVIEWS = REPO_ROOT / "data" / "interviews"
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
BOOK_DIR = REPO_ROOT / "book"


class PipelineError(RuntimeError):
    """A step of the run failed; the message names the step, notebook and cell."""


@dataclass
class RunSettings:
    survey: Path
    out: Path
    fmt: str | None = None
    mapping: Path | None = None
    interviews: Path | None = None
    ground_truth: Path | None = None  # given only for simulated data: the chapters then check recovery
    instrument: Path | None = None  # a questionnaire other than the shipped one
    gold: Path | None = None  # hand-coded interview sample; default: coding_gold.csv beside the transcripts
    second_coder: Path | None = None
    normalisation: str = "scale"
    seed: int = 2026
    alpha: float = 0.05
    n_boot: int = 999
    power_reps: int = 100
    thresholds: QualityThresholds = field(default_factory=QualityThresholds)
    notebooks: tuple[str, ...] | None = None  # default: every notebook in _toc.yml
    jobs: int = 1  # chapters executed side by side
    force: bool = False  # ignore the execution cache
    build: bool = True  # build the book after the chapters
    notebook_dir: Path = NOTEBOOK_DIR


def notebook_parameters(path: Path) -> dict[str, dict]:
    """The parameters a notebook declares in its ``parameters`` cell (papermill's inspection)."""
    return pm.inspect_notebook(str(path))


def _ipc_kernel_manager():
    """A kernel manager on IPC (Unix-socket) transport: the kernel runs on this machine only, so TCP buys
    nothing, and ipykernel 7 prints an encryption warning for every TCP kernel."""
    from jupyter_client.manager import KernelManager

    class IPCKernelManager(KernelManager):
        def __init__(self, **kw):
            super().__init__(transport="ipc", **kw)

    return IPCKernelManager


def execute_notebook(src: Path, dst: Path, parameters: dict, cwd: Path, declared: dict | None = None) -> None:
    """Execute one notebook with papermill; unknown parameters and failing cells raise PipelineError."""
    declared = notebook_parameters(src) if declared is None else declared
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise PipelineError(f"{src.name}: unknown parameter(s) {unknown}; the notebook declares {sorted(declared)}")
    try:
        pm.execute_notebook(
            str(src),
            str(dst),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(cwd),
            log_output=False,
            kernel_manager_class=_ipc_kernel_manager(),
        )
    except PapermillExecutionError as exc:
        raise PipelineError(
            f"notebook {src.name} failed in cell {exc.cell_index} (execution count {exc.exec_count}): "
            f"{exc.ename}: {exc.evalue}\n  executed copy with the traceback: {dst}"
        ) from exc


def run_config(settings: RunSettings, paths: dict[str, Path]) -> RunConfig:
    """The one configuration every chapter of this run reads."""
    s = settings

    def path(p: Path | None) -> str:
        return str(Path(p).resolve()) if p else ""

    return RunConfig(
        processed_dir=str(paths["processed"]),
        results_dir=str(paths["results"]),
        ground_truth_path=path(s.ground_truth),
        instrument_path=path(s.instrument),
        interviews_dir=path(s.interviews),
        gold_path=path(s.gold),
        second_coder_path=path(s.second_coder),
        seed=s.seed,
        alpha=s.alpha,
        n_boot=s.n_boot,
        power_reps=s.power_reps,
        normalisation=s.normalisation,
    )


def run(settings: RunSettings, progress: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Validate, execute all chapters and build the book. Returns the main output paths."""
    say = progress or (lambda _msg: None)
    # Notebooks run in another working directory: hand them absolute paths only.
    settings.survey = Path(settings.survey).resolve()
    if settings.interviews:
        settings.interviews = Path(settings.interviews).resolve()
    out = settings.out.resolve()
    paths = {k: out / k for k in ("processed", "results", "notebooks", "src", "html")}
    for k in ("processed", "results", "notebooks"):
        paths[k].mkdir(parents=True, exist_ok=True)

    say(f"validating {settings.survey}")
    inst = load_instrument(settings.instrument)
    result = validate_survey(
        settings.survey, instrument=inst, fmt=settings.fmt, mapping=settings.mapping, thresholds=settings.thresholds
    )
    result.write(paths["processed"])
    if result.report["rows_clean"] < 30:
        raise PipelineError(
            f"only {result.report['rows_clean']} rows passed validation (of "
            f"{result.report['rows_in']}); see {paths['processed'] / 'quarantine.csv'}"
        )
    cfg_path = run_config(settings, paths).write(out / "run_config.json")

    chapters = settings.notebooks or tuple(_toc_notebooks(REPO_ROOT / "_toc.yml"))
    timings = execute_chapters(chapters, settings, paths, cfg_path, say)
    (out / "timings.json").write_text(json.dumps({"chapters_seconds": timings}, indent=2) + "\n", encoding="utf-8")
    if not settings.build:
        return paths

    say("building the book")
    build_book(out)
    return paths


def execute_chapters(chapters, settings: RunSettings, paths: dict[str, Path], cfg_path: Path, say) -> dict:
    """Execute (or restore from the cache) every chapter, ``settings.jobs`` at a time.

    Chapters read the validated survey and the run configuration, never each other, so they run side by side.
    With more than one job each kernel gets one BLAS thread (two multi-threaded kernels on two cores
    oversubscribe them). Returns each chapter's seconds (0.0 when served from the cache).
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    from cbec.book import cache

    cfg = RunConfig.load(cfg_path)
    store = settings.out.resolve() / "cache"
    if settings.jobs > 1:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"

    def one(name: str) -> tuple[str, float]:
        src = settings.notebook_dir / f"{name}.ipynb"
        executed = paths["notebooks"] / f"{name}.ipynb"
        key = cache.chapter_key(src, cfg)
        if not settings.force and cache.restore(store, name, key, executed, paths["results"]):
            say(f"  {name}: cached")
            return name, 0.0
        t0 = time.perf_counter()
        execute_notebook(src, executed, {"run_config": str(cfg_path)}, cwd=paths["notebooks"])
        cache.store(store, name, key, executed, paths["results"])
        secs = round(time.perf_counter() - t0, 1)
        say(f"  {name}: {secs} s")
        return name, secs

    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        done = dict(pool.map(one, chapters))
    return {name: done[name] for name in chapters}


def stage_book(out: Path) -> Path:
    """Assemble the book source under ``out/src``: config, pages, generated appendices, notebooks."""
    from cbec.book import figures, pages

    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    for f in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy2(REPO_ROOT / f, src / f)
    shutil.copytree(BOOK_DIR, src / "book")
    inst = load_instrument(_configured_instrument(out))
    (src / "book" / "appendix_questionnaire.md").write_text(pages.questionnaire_page(inst), encoding="utf-8")
    (src / "book" / "appendix_data_dictionary.md").write_text(pages.data_dictionary_page(inst), encoding="utf-8")
    (src / "book" / "figures").mkdir(exist_ok=True)
    figures.save(figures.seven_factor_system(inst), src / "book" / "figures" / "seven_factor_system.png")
    executed = out / "notebooks"
    toc_notebooks = _toc_notebooks(REPO_ROOT / "_toc.yml")
    missing = [n for n in toc_notebooks if not (executed / f"{n}.ipynb").exists()]
    if missing:
        raise PipelineError(f"cannot build the book: executed notebooks missing for {missing}; run `cbec run` first")
    for n in toc_notebooks:
        nb = nbformat.read(executed / f"{n}.ipynb", as_version=4)
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            # papermill's injected cell shows run-time paths; readers need none of it.
            if "injected-parameters" in tags and "remove-cell" not in tags:
                cell.metadata["tags"] = [*tags, "remove-cell"]
        nbformat.write(nb, src / "notebooks" / f"{n}.ipynb")
    _generated_pages(out, src)
    return src


def _generated_pages(out: Path, src: Path) -> None:
    """Findings, downloads and provenance, written from this run's results (never typed)."""
    from cbec.book import generated

    cfg = RunConfig.load(out / "run_config.json")
    book = src / "book"
    (book / "findings.md").write_text(generated.findings_page(out, cfg), encoding="utf-8")
    files = generated.downloads(out, src, cfg)
    (book / "downloads.md").write_text(generated.downloads_page(files), encoding="utf-8")
    prov = generated.provenance(out, cfg, REPO_ROOT)
    (out / "provenance.json").write_text(json.dumps(prov, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (book / "provenance.md").write_text(generated.provenance_page(prov), encoding="utf-8")
    (book / "rerun_facts.md").write_text(generated.rerun_facts(out), encoding="utf-8")


def _configured_instrument(out: Path) -> str | None:
    """The instrument of the run in ``out`` (the appendices render the user's questionnaire)."""
    cfg = out / "run_config.json"
    return (RunConfig.load(cfg).instrument_path or None) if cfg.exists() else None


def _toc_notebooks(toc: Path) -> list[str]:
    import yaml

    data = yaml.safe_load(toc.read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            f = node.get("file")
            if isinstance(f, str) and f.startswith("notebooks/"):
                files.append(f.split("/", 1)[1])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    return files


def _title_the_redirect(index: Path) -> None:
    """Jupyter Book's root index.html is a bare refresh tag; make it a page with a title and a link."""
    import html as _html

    import yaml

    if index.exists() and "<title>" not in index.read_text(encoding="utf-8"):
        title = _html.escape(yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))["title"])
        index.write_text(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title>"
            '<meta http-equiv="Refresh" content="0; url=book/index.html"></head>'
            f'<body><p><a href="book/index.html">{title}</a></p></body></html>\n',
            encoding="utf-8",
        )


def _drop_duplicate_thebe_config(html: Path) -> None:
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


def build_book(out: Path) -> Path:
    """Build ``out/html`` with Sphinx warnings as errors; a failed build leaves no ``out/html``."""
    out = out.resolve()
    src = stage_book(out)
    jb_out = out / "jb"
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
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
        raise PipelineError(f"the book build failed (warnings are errors); full log: {log}\n  {detail}")
    shutil.move(str(jb_out / "_build" / "html"), str(html))
    _title_the_redirect(html / "index.html")
    _drop_duplicate_thebe_config(html)
    shutil.rmtree(jb_out, ignore_errors=True)
    (out / "run.json").write_text(json.dumps({"html": str(html / "index.html")}, indent=2) + "\n", encoding="utf-8")
    return html
