"""Command line: ``cbec simulate | validate | run | book``.

Expected user errors (a bad export, a failing notebook, a broken book build) end with one clear
message on stderr and exit status 2, never with a Python traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cbec.io.ingest import FORMATS, SurveyInputError
from cbec.io.instrument import InstrumentError
from cbec.study.chapters.base import AnalysisSettings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="cbec-book: the cross-border e-commerce success-factor analysis, re-runnable on your data.",
)

EXPECTED_ERRORS = (SurveyInputError, InstrumentError)

# Quality-screen thresholds, shared by `validate` and `run` (rules: cbec.validate.QualityThresholds).
SpeederOpt = Annotated[float, typer.Option(min=0.0, max=1.0, help="Speeder: time below this share of the median.")]
LongstringOpt = Annotated[
    float, typer.Option(min=0.0, max=1.0, help="Straight-liner: same answer to this share of factor items in a row.")
]
MaxMissingOpt = Annotated[
    float, typer.Option(min=0.0, max=1.0, help="Quarantine rows missing more than this share of scale items.")
]
MaxImputeOpt = Annotated[
    float, typer.Option(min=0.0, max=1.0, help="Impute within a factor up to this share of its items.")
]


def _thresholds(speeder: float, longstring: float, max_missing: float, max_impute: float):
    from cbec.io.validate import QualityThresholds

    return QualityThresholds(
        speeder_fraction=speeder,
        longstring_fraction=longstring,
        max_missing_share=max_missing,
        max_impute_share_per_factor=max_impute,
    )


def with_settings(cls):
    """Give a command one option per field of the dataclass ``cls`` (type, default, help text and bounds from
    the field's declaration) and hand it ``cls(...)`` as its ``analysis`` argument: the options are declared
    once, in the dataclass, and never again here."""
    import dataclasses
    import functools
    import inspect
    import typing

    hints = typing.get_type_hints(cls)

    def decorate(fn):
        own = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.name != "analysis"]
        names = [f.name for f in dataclasses.fields(cls)]
        added = [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=f.default,
                annotation=Annotated[
                    hints[f.name],
                    typer.Option(help=f.metadata["help"], min=f.metadata.get("min"), max=f.metadata.get("max")),
                ],
            )
            for f in dataclasses.fields(cls)
        ]

        @functools.wraps(fn)
        def command(**kwargs):
            return fn(analysis=cls(**{k: kwargs.pop(k) for k in names}), **kwargs)

        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added
        command.__signature__ = inspect.Signature(params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return decorate


def _fail(message: str) -> NoReturn:
    typer.echo(f"cbec: error: {message}", err=True)
    raise typer.Exit(code=2)


@app.command()
def simulate(
    n: Annotated[int, typer.Option(min=50, help="Number of firms (clean rows before dirt is added).")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical files.")] = 2026,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("data/simulated"),
    scenario: Annotated[
        str,
        typer.Option(
            help="Simulated world: shipped, realistic, hidden_coupling, null_method or noninvariant_item "
            "(see the book's Simulated data chapter)."
        ),
    ] = "shipped",
) -> None:
    """Write a simulated survey (tidy CSV) and its ground_truth.json."""
    from cbec.article.simulate import SCENARIOS, write_simulation

    if scenario not in SCENARIOS:
        _fail(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    csv_path, truth_path = write_simulation(out, n=n, seed=seed, scenario=scenario)
    typer.echo(f"wrote {csv_path} and {truth_path} (simulated data, scenario {scenario}, seed {seed})")


@app.command()
def validate(
    survey: Annotated[
        Path, typer.Argument(help="Survey export: 问卷星 xlsx/csv, Qualtrics csv, .sav, .dta, tidy csv/parquet.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for clean.parquet, quarantine.csv, report.json.")],
    format: Annotated[
        str | None, typer.Option("--format", help=f"Skip detection: one of {', '.join(FORMATS)}.")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping of export columns to item ids.")] = None,
    instrument: Annotated[Path | None, typer.Option(help="Your own questionnaire (YAML).")] = None,
    speeder_fraction: SpeederOpt = 0.3,
    longstring_fraction: LongstringOpt = 0.5,
    max_missing_share: MaxMissingOpt = 0.2,
    max_impute_share: MaxImputeOpt = 1 / 3,
) -> None:
    """Load and validate a survey export; rejected rows go to the quarantine with reasons."""
    from cbec.io.instrument import load_instrument
    from cbec.io.validate import validate_survey

    th = _thresholds(speeder_fraction, longstring_fraction, max_missing_share, max_impute_share)
    try:
        inst = load_instrument(instrument)
        result = validate_survey(survey, instrument=inst, fmt=format, mapping=mapping, thresholds=th)
    except EXPECTED_ERRORS as exc:
        _fail(str(exc))
    paths = result.write(out)
    r = result.report
    typer.echo(
        f"{r['rows_in']} rows in: {r['rows_clean']} clean, {r['rows_quarantined']} quarantined "
        f"{json.dumps(r['by_reason'], ensure_ascii=False)}"
    )
    typer.echo(f"wrote {paths['clean']}, {paths['quarantine']}, {paths['report']}")


@app.command()
@with_settings(AnalysisSettings)
def run(
    analysis: AnalysisSettings,
    survey: Annotated[Path | None, typer.Option(help="Survey export to analyse (or give --study).")] = None,
    study: Annotated[
        Path | None, typer.Option(help="A study folder (study.yaml, data, ...): builds the book of that study.")
    ] = None,
    interviews: Annotated[Path | None, typer.Option(help="Folder of interview transcripts.")] = None,
    ground_truth: Annotated[
        Path | None, typer.Option(help="ground_truth.json, only when the survey is simulated.")
    ] = None,
    instrument: Annotated[
        Path | None, typer.Option(help="Your own questionnaire (YAML, as `cbec instrument` writes it).")
    ] = None,
    gold: Annotated[Path | None, typer.Option(help="Hand-coded interview sample (segment_id,factors).")] = None,
    second_coder: Annotated[
        Path | None, typer.Option(help="A second person's coding, for inter-coder agreement.")
    ] = None,
    codebook: Annotated[
        Path | None, typer.Option(help="Your interview codebook (YAML, as `cbec codebook` writes it).")
    ] = None,
    jobs: Annotated[int, typer.Option(min=0, help="Chapters executed side by side; 0: one per core.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Re-execute every chapter, ignoring the cache.")] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print the whole book to OUT/cbec-book.pdf.")] = False,
    scheduler: Annotated[
        str, typer.Option(help="Address of a Dask scheduler (tcp://host:8786) for the simulation studies.")
    ] = "",
    workers: Annotated[
        int, typer.Option(min=0, help="Start a local Dask cluster with this many worker processes.")
    ] = 0,
    out: Annotated[Path, typer.Option(help="Output folder (results/, html/, ...).")] = Path("_build"),
    format: Annotated[str | None, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping of export columns to item ids.")] = None,
    speeder_fraction: SpeederOpt = 0.3,
    longstring_fraction: LongstringOpt = 0.5,
    max_missing_share: MaxMissingOpt = 0.2,
    max_impute_share: MaxImputeOpt = 1 / 3,
) -> None:
    """Validate the survey, execute every chapter notebook and build the book into OUT/html."""
    from cbec.book.pipeline import PipelineError, RunSettings, settings_from_study
    from cbec.book.pipeline import run as run_pipeline

    jobs = jobs or (__import__("os").cpu_count() or 1)
    if (survey is None) == (study is None):
        _fail("give either --study FOLDER (a study folder with its study.yaml) or --survey FILE, not both or neither")
    if study is not None:
        from cbec.io.study import load_study_spec

        try:
            spec = load_study_spec(study)
            settings = settings_from_study(
                spec, out, jobs=jobs, force=force, pdf=pdf, scheduler=scheduler, workers=workers, **analysis.analysis()
            )
            paths = run_pipeline(settings, progress=lambda m: typer.echo(m, err=True))
        except (*EXPECTED_ERRORS, PipelineError) as exc:
            _fail(str(exc))
        typer.echo(f"book: {paths['html'] / 'index.html'}")
        typer.echo(f"result tables: {paths['results']}")
        if "pdf" in paths:
            typer.echo(f"pdf: {paths['pdf']}")
        return
    assert survey is not None  # exactly one of --study and --survey, checked above
    settings = RunSettings(
        survey=survey,
        out=out,
        fmt=format,
        mapping=mapping,
        interviews=interviews,
        ground_truth=ground_truth,
        instrument=instrument,
        gold=gold,
        second_coder=second_coder,
        codebook=codebook,
        jobs=jobs,
        force=force,
        pdf=pdf,
        scheduler=scheduler,
        workers=workers,
        thresholds=_thresholds(speeder_fraction, longstring_fraction, max_missing_share, max_impute_share),
        **analysis.analysis(),
    )
    try:
        paths = run_pipeline(settings, progress=lambda m: typer.echo(m, err=True))
    except (*EXPECTED_ERRORS, PipelineError) as exc:
        _fail(str(exc))
    typer.echo(f"book: {paths['html'] / 'index.html'}")
    typer.echo(f"result tables: {paths['results']}")
    if "pdf" in paths:
        typer.echo(f"pdf: {paths['pdf']}")


@app.command("init")
def init_cmd(
    folder: Annotated[Path, typer.Argument(help="The study folder to create (study.yaml goes there).")],
    from_export: Annotated[Path, typer.Option("--from-export", help="An export whose header row to read.")],
) -> None:
    """Draft a study file from an export's header row (constructs from item-name prefixes or 问卷星 matrix
    questions, the answer scale from the answers, groupings from columns with few values), to confirm and run."""
    from cbec.io.study_draft import write_draft

    try:
        written = write_draft(from_export, folder)
    except EXPECTED_ERRORS as exc:
        _fail(str(exc))
    for p in written:
        typer.echo(f"wrote {p}")
    typer.echo(f"confirm {written[0]}, then: cbec run --study {folder} --out {folder / '_build'}")


@app.command("instrument")
def instrument_cmd(
    out: Annotated[Path, typer.Argument(help="Where to write a copy of the shipped questionnaire, to edit.")],
) -> None:
    """Write the shipped questionnaire (YAML) to edit into your own version; use it with --instrument."""
    import shutil

    from cbec.io.instrument import DEFAULT_INSTRUMENT

    if out.exists():
        _fail(f"{out} exists; choose another file name")
    shutil.copyfile(DEFAULT_INSTRUMENT, out)
    typer.echo(f"wrote {out}; edit it, then run `cbec validate ... --instrument {out}`")


@app.command("codebook")
def codebook_cmd(
    out: Annotated[Path, typer.Argument(help="Where to write a copy of the shipped interview codebook, to edit.")],
) -> None:
    """Write the shipped interview codebook (YAML) to edit into your own: one factor per construct of your study
    (same codes), its sub-dimensions' Chinese and English terms, optional example sentences; name it under
    ``codebook:`` in study.yaml (or pass --codebook)."""
    import shutil

    from cbec.study.coder import CODEBOOK_YAML

    if out.exists():
        _fail(f"{out} exists; choose another file name")
    shutil.copyfile(CODEBOOK_YAML, out)
    typer.echo(f"wrote {out}; give each of your constructs a factor with its code, then name it under codebook:")


@app.command()
def questionnaire(
    out: Annotated[Path, typer.Argument(help="The text file to write (import it into 问卷星 as text).")],
    lang: Annotated[str, typer.Option(help="Language of the questions: zh or en.")] = "zh",
    instrument: Annotated[Path | None, typer.Option(help="Your own questionnaire (YAML).")] = None,
) -> None:
    """Write the questionnaire as 问卷星 import text: field it, download the answers, run `cbec run` on them."""
    from cbec.io.fielding import wjx_import_text
    from cbec.io.instrument import load_instrument

    if lang not in ("zh", "en"):
        _fail("--lang must be zh or en")
    try:
        text = wjx_import_text(load_instrument(instrument), lang)
    except (*EXPECTED_ERRORS, ValueError) as exc:
        _fail(str(exc))
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}: in 问卷星, create a questionnaire from text (文本导入) and paste or upload it")


@app.command()
def calibrate(
    out: Annotated[Path, typer.Option(help="The JSON file to write.")] = Path("calibration.json"),
    reps: Annotated[int, typer.Option(min=2, help="Simulated samples per scenario and sample size.")] = 100,
    sizes: Annotated[str, typer.Option(help="Sample sizes, comma-separated (the book's first).")] = "600,2000,5000",
    scenarios: Annotated[str, typer.Option(help="Scenarios, comma-separated (default: all).")] = "",
    workers: Annotated[int, typer.Option(min=0, help="Start a local Dask cluster with this many processes.")] = 0,
    scheduler: Annotated[str, typer.Option(help="Address of a running Dask scheduler.")] = "",
) -> None:
    """Measure the book's operating characteristics: every coupling rule in every simulated world."""
    from cbec.article.calibrate import run_calibration
    from cbec.article.simulate import SCENARIOS

    names = [s for s in scenarios.split(",") if s] or list(SCENARIOS)
    unknown = [s for s in names if s not in SCENARIOS]
    if unknown:
        _fail(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
    try:
        n = tuple(int(x) for x in sizes.split(","))
    except ValueError:
        _fail(f"--sizes must be whole numbers separated by commas, not {sizes!r}")
    seconds = run_calibration(
        out, names, n, reps, workers=workers, scheduler=scheduler, progress=lambda m: typer.echo(m, err=True)
    )
    typer.echo(f"wrote {out} ({len(names)} scenarios x {len(n)} sample sizes x {reps} samples, {seconds:.0f} s)")


@app.command()
def book(
    out: Annotated[Path, typer.Option(help="The output folder of an earlier `cbec run`.")] = Path("_build"),
) -> None:
    """Rebuild the book from the executed notebooks of an earlier run (no re-execution)."""
    from cbec.book.staging import PipelineError, build_book

    try:
        html = build_book(out)
    except PipelineError as exc:
        _fail(str(exc))
    typer.echo(f"book: {html / 'index.html'}")


if __name__ == "__main__":
    app()
