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
import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import papermill as pm

from cbec.book import kernels
from cbec.book.staging import (
    NOTEBOOK_DIR,
    PipelineError,
    book_notebooks,
    build_book,
    materials,
)
from cbec.io.instrument import load_instrument
from cbec.io.validate import QualityThresholds, validate_survey
from cbec.study.chapters.base import AnalysisSettings, RunConfig


@dataclass(frozen=True, kw_only=True)
class RunSettings(AnalysisSettings):
    """What one ``cbec run`` is given: its inputs, how to execute, and the analysis settings (inherited from
    :class:`~cbec.study.chapters.base.AnalysisSettings`, declared once there). Frozen: a run never changes the
    settings it was handed."""

    survey: Path
    out: Path
    fmt: str | None = None
    mapping: Path | None = None
    interviews: Path | None = None
    ground_truth: Path | None = None  # given only for simulated data: the chapters then check recovery
    instrument: Path | None = None  # a questionnaire other than the shipped one
    gold: Path | None = None  # hand-coded interview sample; default: coding_gold.csv beside the transcripts
    second_coder: Path | None = None
    codebook: Path | None = None  # the interview codebook; default: the shipped one
    hypotheses: Path | None = None  # the study's pre-specified hypotheses (CSV)
    thresholds: QualityThresholds = field(default_factory=QualityThresholds)
    notebooks: tuple[str, ...] | None = None  # default: every notebook in _toc.yml
    jobs: int = 1  # chapters executed side by side
    force: bool = False  # ignore the execution cache
    build: bool = True  # build the book after the chapters
    pdf: bool = False  # also print the whole book to OUT/cbec-book.pdf (linked from the Downloads page)
    scheduler: str = ""  # address of a running Dask scheduler for the simulation studies
    workers: int = 0  # or: start a local Dask cluster with this many worker processes
    notebook_dir: Path = NOTEBOOK_DIR
    study: Path | None = None  # the study file the settings came from (settings_from_study)
    origin: str = ""  # "real" or "simulated"; empty: simulated exactly when a ground truth is given
    book: str = ""  # "article" or "study"; empty: the article's book for the shipped questionnaire


def book_kind(settings: RunSettings) -> str:
    """Which book a run builds: the one its study file declares (``cbec run --study``); a run from ``--survey``
    (with the shipped questionnaire or a variant of it given by ``--instrument``) builds the article's book."""
    return settings.book or "article"


def settings_from_study(spec, out: Path, **overrides) -> RunSettings:
    """Run settings from a parsed study file (:func:`cbec.io.study.load_study_spec`); ``overrides`` are the
    run's own settings (seed, alpha, jobs, ...). The study's questionnaire is written to ``out/instrument.yaml``
    so that every chapter and the appendices read exactly the questionnaire the data were validated with."""
    import yaml

    from cbec.io.instrument import DEFAULT_INSTRUMENT

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    inst_file = None  # the shipped questionnaire, unchanged: read from the package as a --survey run does
    if Path(spec.instrument.path) != DEFAULT_INSTRUMENT or spec.dropped_items or spec.groupings_added:
        inst_file = out / "instrument.yaml"
        inst_file.write_text(yaml.safe_dump(spec.instrument.raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return RunSettings(
        survey=spec.data,
        out=out,
        fmt=spec.fmt,
        mapping=spec.mapping,
        interviews=spec.transcripts,
        ground_truth=spec.ground_truth,
        instrument=inst_file,
        gold=spec.gold,
        codebook=spec.codebook,
        hypotheses=spec.hypotheses,
        thresholds=spec.thresholds,
        study=spec.path,
        origin=spec.origin,
        book="article" if spec.replicates_article else "study",
        **overrides,
    )


def notebook_parameters(path: Path) -> dict[str, dict]:
    """The parameters a notebook declares in its ``parameters`` cell (papermill's inspection)."""
    return pm.inspect_notebook(str(path))


def execute_notebook(src: Path, dst: Path, parameters: dict, cwd: Path, declared: dict | None = None) -> float:
    """Execute one notebook on a kernel of its own; unknown parameters and failing cells raise PipelineError.
    Returns the seconds it took."""
    declared = notebook_parameters(src) if declared is None else declared
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise PipelineError(f"{src.name}: unknown parameter(s) {unknown}; the notebook declares {sorted(declared)}")
    seconds: dict[str, float] = {}
    try:
        kernels.execute_all([(src.stem, src, dst, parameters)], 1, cwd, done=seconds.__setitem__)
    except kernels.NotebookFailed as exc:
        raise PipelineError(str(exc)) from exc
    return seconds[src.stem]


def run_config(settings: RunSettings, paths: dict[str, Path], scheduler: str = "") -> RunConfig:
    """The one configuration every chapter of this run reads (``scheduler``: the Dask address in use)."""
    s = settings

    def path(p: Path | None) -> str:
        return str(Path(p).resolve()) if p else ""

    return RunConfig(
        processed_dir=str(paths["processed"]),
        results_dir=str(paths["results"]),
        ground_truth_path=path(s.ground_truth),
        instrument_path=path(s.instrument),
        study_path=path(s.study),
        origin=s.origin or ("simulated" if s.ground_truth else "real"),
        book=book_kind(s),
        interviews_dir=path(s.interviews),
        gold_path=path(s.gold),
        second_coder_path=path(s.second_coder),
        codebook_path=path(s.codebook),
        hypotheses_path=path(s.hypotheses),
        dask_scheduler=scheduler,
        **s.analysis(),
    )


def run(settings: RunSettings, progress: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Validate, execute all chapters and build the book. Returns the main output paths."""
    say = progress or (lambda _msg: None)
    # Notebooks run in another working directory: hand them absolute paths only (a copy; the caller's stays).
    settings = replace(
        settings,
        survey=Path(settings.survey).resolve(),
        interviews=Path(settings.interviews).resolve() if settings.interviews else None,
    )
    out = settings.out.resolve()
    paths = {k: out / k for k in ("processed", "results", "notebooks", "src", "html")}
    for k in ("processed", "results", "notebooks"):
        paths[k].mkdir(parents=True, exist_ok=True)

    chapters = settings.notebooks or tuple(book_notebooks(book_kind(settings), materials(settings)))
    with _kernels_meanwhile(chapters, settings, paths) as pool:
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
        with _dask_cluster(settings, say) as scheduler:
            cfg_path = run_config(settings, paths, scheduler).write(out / "run_config.json")
            drawing = _source_figures_meanwhile(out) if settings.build else None
            timings = execute_chapters(chapters, settings, paths, cfg_path, say, pool)
    (out / "timings.json").write_text(json.dumps({"chapters": timings}, indent=2) + "\n", encoding="utf-8")
    if drawing is not None:
        drawing.join()
    if not settings.build:
        return paths

    say("building the book")
    build_book(out, pdf=settings.pdf)
    if settings.pdf:
        from cbec.book.pdf import PdfError, build_pdf

        say("printing the whole book to PDF")
        try:
            paths["pdf"] = Path(build_pdf(out)["pdf"])
        except PdfError as exc:
            raise PipelineError(str(exc)) from exc
    return paths


@contextmanager
def _kernels_meanwhile(chapters, settings: RunSettings, paths: dict[str, Path]):
    """Kernels started before validation when every chapter will execute (``--force``, or an output folder where
    none of them ever ran: the cache then holds nothing to restore), so that they boot and import while the
    survey is validated; ``None`` otherwise (the kernels are started once the cache has said which chapters
    run, and not at all when none does)."""
    from cbec.study.chapters import chapter_modules

    store = settings.out.resolve() / "cache"
    cold = settings.force or not any((store / name).is_dir() for name in chapters)
    if not chapters or not cold:
        yield None
        return
    size, env = min(settings.jobs, len(chapters)), _kernel_env(settings, chapters)
    with kernels.StartedPool(size, paths["notebooks"], chapter_modules(chapters), env) as pool:
        yield pool


def _kernel_env(settings: RunSettings, jobs) -> dict[str, str]:
    """The chapters' kernels' environment: with more than one job each kernel gets one BLAS thread, since two
    multi-threaded kernels on two cores oversubscribe them."""
    env = dict(os.environ)
    if settings.jobs > 1 and len(jobs) > 1:
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _source_figures_meanwhile(out: Path):
    """Draw the figures that need nothing from the chapters (:func:`cbec.book.staging.draw_source_figures`) in a
    thread while the chapters run in their kernels. A failure here only means the build draws them itself (and
    reports any error there)."""
    import threading

    from cbec.book.staging import draw_source_figures

    def draw() -> None:
        try:
            draw_source_figures(out)
        except Exception:  # noqa: BLE001 - the build draws the figure again and reports its error
            pass

    thread = threading.Thread(target=draw, name="cbec-source-figures", daemon=True)
    thread.start()
    return thread


def execute_chapters(chapters, settings: RunSettings, paths: dict[str, Path], cfg_path: Path, say, pool=None) -> dict:
    """Execute (or restore from the cache) every chapter on ``settings.jobs`` warm kernels.

    Chapters read the validated survey and the run configuration, never each other, so they run side by side;
    the kernels are started once and reused, each chapter in a fresh namespace (:mod:`cbec.book.kernels`).
    ``pool``: a :class:`~cbec.book.kernels.StartedPool` started earlier (:func:`_kernels_meanwhile`) to use
    instead. Returns each chapter's execution seconds (for a chapter served from the cache, those of the
    execution it restores) and whether it was served from the cache.
    """
    from cbec.book import cache
    from cbec.study.chapters import chapter_modules

    cfg = RunConfig.load(cfg_path)
    store = settings.out.resolve() / "cache"
    timings: dict[str, dict] = {}
    todo: dict[str, str] = {}
    for name in chapters:
        src = settings.notebook_dir / f"{name}.ipynb"
        key = cache.chapter_key(src, cfg)
        restored = (
            None
            if settings.force
            else cache.restore(store, name, key, paths["notebooks"] / f"{name}.ipynb", paths["results"], warn=say)
        )
        if restored is not None:
            say(f"  {name}: cached")
            timings[name] = {"seconds": restored, "cached": True}
        else:
            todo[name] = key

    def finish(name: str, secs: float) -> None:
        cache.store(store, name, todo[name], paths["notebooks"] / f"{name}.ipynb", paths["results"], secs)
        say(f"  {name}: {secs} s")
        timings[name] = {"seconds": secs, "cached": False}

    jobs = [
        (n, settings.notebook_dir / f"{n}.ipynb", paths["notebooks"] / f"{n}.ipynb", {"run_config": str(cfg_path)})
        for n in longest_first(todo, store)
    ]
    try:
        if pool is not None and jobs:
            pool.execute_all(jobs, done=finish)
        else:
            env = _kernel_env(settings, jobs)
            kernels.execute_all(jobs, settings.jobs, paths["notebooks"], chapter_modules(todo), env=env, done=finish)
    except kernels.NotebookFailed as exc:
        raise PipelineError(str(exc)) from exc
    return {name: timings[name] for name in chapters}


def longest_first(notebooks, store: Path) -> list[str]:
    """The notebooks in the order to start them: longest expected first, so that a long chapter does not start
    last and run alone (longest-processing-time scheduling). Expected seconds: the chapter's last execution in
    this output's cache, else its typical seconds on the shipped survey, else none (reading order)."""
    from cbec.book import cache
    from cbec.study.chapters import TYPICAL_SECONDS

    def expected(nb: str) -> float:
        last = cache.last_seconds(store, nb)
        return last if last is not None else TYPICAL_SECONDS.get(cache.chapter_of(nb), 0.0)

    return sorted(notebooks, key=lambda nb: -expected(nb))


@contextmanager
def _dask_cluster(settings: RunSettings, say):
    """The Dask scheduler address for the chapters' execution: the one given, or, with ``workers`` and no
    address, that of a local cluster that lives as long as the block; empty without either."""
    if settings.scheduler or not settings.workers:
        yield settings.scheduler
        return
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=settings.workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        say(f"local Dask cluster: {settings.workers} workers at {cluster.scheduler_address}")
        yield cluster.scheduler_address
