"""What every chapter function shares: the run's configuration, the study data, and the result object.

A chapter function takes a :class:`RunConfig` and returns a :class:`ChapterResult` holding its tables (by
name), figures, the values its prose quotes, and short notes. Nothing here displays or writes HTML: the
book layer does that (:mod:`cbec.book.chapter`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cbec.io.instrument import Instrument, load_instrument
from cbec.io.validate import ValidationResult, load_validation

if TYPE_CHECKING:
    from cbec.stats import models


def format_p(p: float) -> str:
    """One p-value style for tables and prose: three decimals, ``< 0.001`` below that, "—" when missing.

    >>> format_p(0.00594), format_p(1.5e-13), format_p(float("nan"))
    ('0.006', '< 0.001', '—')
    """
    if p is None or p is pd.NA or (isinstance(p, float) and np.isnan(p)):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def setting(default, help: str, **bounds):
    """A run setting: its default, the help text the command line shows, and bounds (``min``, ``max``) the
    command line checks. Declared once; the CLI options, ``run_config.json`` and the chapters' view derive
    from the declaration."""
    return field(default=default, metadata={"help": help, **bounds})


@dataclass(frozen=True)
class AnalysisSettings:
    """The analysis settings of a run, one declaration for every place that needs them: ``cbec run``'s options
    (:func:`cbec.book.cli.run`), the pipeline's settings and the chapters' :class:`RunConfig`."""

    seed: int = setting(2026, "Seed for bootstraps and simulations in the chapters.")
    alpha: float = setting(0.05, "Significance level (intervals are at 1 - alpha).", min=0.0001, max=0.5)
    n_boot: int = setting(999, "Bootstrap replications.", min=99)
    power_reps: int = setting(100, "Simulated surveys per cell of the power study.", min=10)
    normalisation: str = setting("scale", "Factor-index rule: scale | minmax | minmax_0.01_0.99.")

    def analysis(self) -> dict:
        """This object's analysis settings by name (for a subclass: only these, not its other fields)."""
        return {f.name: getattr(self, f.name) for f in fields(AnalysisSettings)}


@dataclass(frozen=True)
class RunConfig(AnalysisSettings):
    """One configuration for a whole run: every chapter reads the same values, so chapters cannot disagree.

    ``cbec run`` writes it as ``run_config.json`` in the output folder; each chapter notebook's only
    parameter is the path of that file. The analysis settings are inherited from :class:`AnalysisSettings`;
    the fields here say where the run's inputs are and what they are.
    """

    processed_dir: str = "_build/processed"
    results_dir: str = "_build/results"
    ground_truth_path: str = ""  # set only when the survey is simulated
    instrument_path: str = ""  # empty: the questionnaire shipped with cbec
    study_path: str = ""  # the study file (cbec run --study); empty: a run from --survey
    origin: str = "real"  # where the data came from: "simulated" only when cbec simulate made them
    book: str = "article"  # "article": the source article's replication; "study": the researcher's own study
    interviews_dir: str = ""  # empty: no interview chapter data
    gold_path: str = ""  # hand-coded sample for the coder-agreement check
    second_coder_path: str = ""
    codebook_path: str = ""  # the interview codebook; empty: the one shipped with cbec
    hypotheses_path: str = ""  # the study's pre-specified hypotheses (study book only)
    # A Dask scheduler for the simulation studies (cbec run --scheduler/--workers). The numbers do not
    # depend on it, so it is no part of any chapter's cache key.
    dask_scheduler: str = ""

    @classmethod
    def load(cls, path: str | Path) -> RunConfig:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"{path}: unknown run settings {unknown}; known: {sorted(known)}")
        return cls(**raw)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @property
    def simulated(self) -> bool:
        return self.origin == "simulated"


class RecordingConfig(RunConfig):
    """A :class:`RunConfig` that notes which settings are read (properties included: ``simulated`` reads
    ``origin``). Used to check that a chapter's cache key holds exactly the settings the chapter reads."""

    def __init__(self, cfg: RunConfig):
        super().__init__(**asdict(cfg))
        object.__setattr__(self, "_read", set())

    def __getattribute__(self, name: str):
        if name in RunConfig.__dataclass_fields__:
            object.__getattribute__(self, "_read").add(name)
        return object.__getattribute__(self, name)

    @property
    def read(self) -> set[str]:
        return set(object.__getattribute__(self, "_read"))


@dataclass
class Study:
    """The study data every survey chapter starts from, derived once per run configuration."""

    instrument: Instrument
    validation: ValidationResult
    analysis: models.AnalysisData

    @property
    def clean(self) -> pd.DataFrame:
        return self.validation.clean


@lru_cache(maxsize=4)
def _study(processed_dir: str, instrument_path: str, normalisation: str, book: str) -> Study:
    inst = load_instrument(instrument_path or None)
    v = load_validation(processed_dir)
    from cbec.stats import models  # statsmodels: only chapters that load the study need it

    # The article's models hold its profile variables fixed; a researcher's study declares none of them.
    controls = models.CONTROL_COLUMNS if book == "article" else ()
    return Study(instrument=inst, validation=v, analysis=models.prepare(v.clean, inst, normalisation, controls))


def load_study(cfg: RunConfig) -> Study:
    """The study data of a run (cached: chapters run in one process share it)."""
    return _study(cfg.processed_dir, cfg.instrument_path, cfg.normalisation, cfg.book)


def study_spec(cfg: RunConfig):
    """The run's study file, parsed (:class:`cbec.io.study.StudySpec`), or None for a run from ``--survey``."""
    from cbec.io.study import load_study_spec

    return load_study_spec(cfg.study_path) if cfg.study_path else None


def construct_labels(inst: Instrument) -> dict[str, str]:
    """Code -> the study's own label, for every construct and the outcome."""
    return {**{f.code: f.en for f in inst.factors}, inst.outcome_code: inst.outcome_en}


def latent_options(inst: Instrument) -> dict:
    """How the construct-level models (:mod:`cbec.stats.latent`) treat this study's answers: rating-scale
    answers as normal scores, and an acquiescence factor when reverse-worded items can separate agreeing from
    the constructs (the reasons are in those functions' docstrings; the effect is in the calibration appendix)."""
    return {"ordinal": not inst.continuous, "reversed_items": inst.reverse_items or None}


def invariance_options(inst: Instrument) -> dict:
    """How the invariance rule models this study's answers: with the acquiescence factor of the latent models
    when reverse-worded items can identify it (:func:`cbec.stats.invariance.invariance_table` says why)."""
    reversed_items = latent_options(inst)["reversed_items"]  # one answer to "is acquiescence modelled?"
    return {"method_signs": None if reversed_items is None else {i: -1.0 for i in reversed_items}}


def pair_label(labels: dict[str, str], a: str, b: str) -> str:
    """The one way a pair is written in the study book."""
    return f"{labels.get(a, a)} × {labels.get(b, b)}"


def level_text(alpha: float) -> str:
    """The interval level of a run's alpha, as the prose writes it: 95%, 99%, 90%."""
    return f"{100 * (1 - alpha):g}%"


@dataclass
class Table:
    """A result table: saved as ``<chapter>_<name>.csv`` when ``save``; shown with ``caption``."""

    frame: pd.DataFrame
    caption: str
    save: bool = True
    index: bool = False
    columns: list[str] | None = None  # the columns shown (all are saved)


@dataclass
class FigureSpec:
    draw: str
    args: tuple
    kwargs: dict
    caption: str = ""
    alt: str = ""


@dataclass
class ChapterResult:
    """A chapter's tables, figures, quoted values and notes, keyed by name."""

    chapter: str
    tables: dict[str, Table] = field(default_factory=dict)
    figures: dict[str, FigureSpec] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    absent: bool = False  # the chapter's input was not given: display cells show nothing

    def table(self, name: str, frame: pd.DataFrame, caption: str, **kw) -> pd.DataFrame:
        self.tables[name] = Table(frame, caption, **kw)
        return frame

    def figure(self, name: str, draw: str, *args, caption: str = "", alt: str = "", **kwargs) -> None:
        """Record a figure: ``draw`` names a function of :mod:`cbec.book.figures`, called with the arguments
        when the book shows it (the study layer draws nothing itself)."""
        self.figures[name] = FigureSpec(draw, args, kwargs, caption, alt)

    def value(self, **values) -> None:
        for k, v in values.items():
            if isinstance(v, np.generic):
                v = v.item()
            self.values[k] = v

    def file_name(self, name: str, suffix: str = ".csv") -> str:
        """The one rule for result file names (tables ``.csv``, the vector version of a figure ``.svg``)."""
        return f"{self.chapter}_{name}{suffix}"
