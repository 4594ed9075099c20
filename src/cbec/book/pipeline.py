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

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm

from cbec.book import kernels
from cbec.book.cache import derived_file
from cbec.io.instrument import load_instrument
from cbec.io.validate import QualityThresholds, validate_survey
from cbec.study.chapters.base import AnalysisSettings, RunConfig, study_spec

#: The book's sources — chapter notebooks, handwritten pages, the two tables of contents, the Sphinx configuration and
#: the bibliography — ship inside the package (cbec/site), so an installed cbec builds the book anywhere; a checkout
#: is only the developer's view of the same files.
SITE = Path(__file__).resolve().parents[1] / "site"
NOTEBOOK_DIR = SITE / "notebooks"
BOOK_DIR = SITE / "book"
#: Jupyter Book's command line through this interpreter: an installed package need not have put the
#: ``jupyter-book`` script beside it (a venv that reaches its dependencies by a .pth file has none).
JUPYTER_BOOK = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())"]
#: A source checkout's root, where there is one: its git state and CITATION.cff for provenance, the benchmark
#: results. An installed package has none of them, and the pages say so.
REPO_ROOT = Path(__file__).resolve().parents[3]
#: The illustrative interview transcripts of the shipped article study (a checkout's data/interviews).
SHIPPED_INTERVIEWS = REPO_ROOT / "data" / "interviews"


class PipelineError(RuntimeError):
    """A step of the run failed; the message names the step, notebook and cell."""


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


#: The tables of contents of the two books: the source article's replication, and a researcher's own study.
TOCS = {"article": SITE / "_toc.yml", "study": SITE / "_toc_study.yml"}


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
    chapters = settings.notebooks or tuple(book_notebooks(book_kind(settings), materials(settings)))
    with _dask_cluster(settings, say) as scheduler:
        cfg_path = run_config(settings, paths, scheduler).write(out / "run_config.json")
        timings = execute_chapters(chapters, settings, paths, cfg_path, say)
    (out / "timings.json").write_text(json.dumps({"chapters": timings}, indent=2) + "\n", encoding="utf-8")
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


def execute_chapters(chapters, settings: RunSettings, paths: dict[str, Path], cfg_path: Path, say) -> dict:
    """Execute (or restore from the cache) every chapter on ``settings.jobs`` warm kernels.

    Chapters read the validated survey and the run configuration, never each other, so they run side by side;
    the kernels are started once and reused, each chapter in a fresh namespace (:mod:`cbec.book.kernels`).
    With more than one job each kernel gets one BLAS thread, since two multi-threaded kernels on two cores
    oversubscribe them. Returns each chapter's execution seconds (for a chapter served from the cache, those
    of the execution it restores) and whether it was served from the cache.
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
    env = dict(os.environ)
    if settings.jobs > 1 and len(jobs) > 1:
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
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
    figure_key = Path(inst.path).read_bytes() + _drawing_code() + metadata.version("matplotlib").encode()

    def draw(p: Path) -> None:
        from cbec.book import figures

        figures.save(figures.seven_factor_system(inst), p)

    derived_file(
        out / "cache",
        "seven_factor_system.png",
        figure_key,
        draw,
        src / "book" / "figures" / "seven_factor_system.png",
    )


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


def _performance_appendix(out: Path, book: Path) -> None:
    """The performance appendix and its figure, from the benchmark results in the source tree."""
    from cbec.book import generated

    bench_file = REPO_ROOT / "benchmarks" / "results" / "latest.json"
    bench = json.loads(bench_file.read_text(encoding="utf-8")) if bench_file.exists() else None
    (book / "appendix_performance.md").write_text(generated.performance_page(bench), encoding="utf-8")
    if bench and "scale" in bench["results"]:
        sc = bench["results"]["scale"]

        def draw(p: Path) -> None:
            from cbec.book import figures

            figures.save(figures.scale_curve(pd.DataFrame(sc["rows"]), sc["growth_exponent"]), p)

        derived_file(
            out / "cache",
            "performance_scale.png",
            bench_file.read_bytes() + _drawing_code(),
            draw,
            book / "figures" / "performance_scale.png",
        )


def _calibration_appendix(out: Path, book: Path) -> None:
    """The operating-characteristics appendix and its figure, from the committed calibration record."""
    from cbec.book.calibration_page import calibration_page
    from cbec.resources import resource
    from cbec.study.calibration_record import RESULTS_NAME, load_calibration

    record = load_calibration()
    (book / "appendix_calibration.md").write_text(calibration_page(record), encoding="utf-8")
    if record:

        def draw(p: Path) -> None:
            from cbec.book import figures

            figures.save(figures.calibration_panels(pd.DataFrame(record["rows"]), record["meta"]["alpha"]), p)

        derived_file(
            out / "cache",
            "calibration.png",
            resource(RESULTS_NAME).read_bytes() + _drawing_code(),
            draw,
            book / "figures" / "calibration.png",
        )


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
