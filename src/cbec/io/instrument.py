"""The questionnaire as data: load the instrument YAML (``cbec/resources/instrument.yaml`` by default) and
answer questions about it.

Every other module asks this one for item ids, labels, reverse-coded items, response options and
the size rule, so that a change to the questionnaire is a change to one YAML file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
import yaml

from cbec.io.typed_numbers import UNITS
from cbec.io.user_yaml import load_user_yaml
from cbec.resources import resource

DEFAULT_INSTRUMENT = resource("instrument.yaml")


class InstrumentError(ValueError):
    """The instrument file is malformed."""


@dataclass(frozen=True)
class Item:
    id: str
    factor: str
    subdimension: int
    en: str
    zh: str
    reverse: bool = False


@dataclass(frozen=True)
class SubDimension:
    factor: str
    index: int
    en: str
    zh: str
    items: tuple[Item, ...]

    @property
    def code(self) -> str:
        return f"{self.factor}{self.index}"


@dataclass(frozen=True)
class Factor:
    code: str
    en: str
    zh: str
    subdimensions: tuple[SubDimension, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(it for sd in self.subdimensions for it in sd.items)


@dataclass(frozen=True)
class Field:
    id: str
    kind: str
    en: str
    zh: str
    required: bool = False
    derived: bool = False
    min: float | None = None
    max: float | None = None
    levels: tuple[dict, ...] = ()
    unit: str | None = None

    @property
    def level_values(self) -> tuple[str, ...]:
        return tuple(str(lv["value"]) for lv in self.levels)


@dataclass(frozen=True)
class Instrument:
    """A parsed questionnaire. Build it with :func:`load_instrument`."""

    path: Path
    raw: dict = field(repr=False)
    factors: tuple[Factor, ...]
    performance_items: tuple[Item, ...]
    attention_id: str | None  # None: the questionnaire has no attention check (the screen is then off)
    attention_expected: int | None
    fields: tuple[Field, ...]
    marker_id: str | None = None  # the common-method marker item, when the questionnaire has one
    outcome_code: str = "PERF"
    outcome_en: str = "Performance"
    outcome_zh: str = "绩效"

    # -- the answer scale ---------------------------------------------------------------------
    @property
    def continuous(self) -> bool:
        """Scores that are not answer options (test scores, sums): no option labels, no long-string screen."""
        return self.raw["scale"]["type"] == "continuous"

    @property
    def scale_min(self) -> float | None:
        return self.raw["scale"]["min"]

    @property
    def scale_max(self) -> float | None:
        return self.raw["scale"]["max"]

    @property
    def missing_codes(self) -> tuple[float, ...]:
        """Answers that mean "no answer" in this study (``missing_codes: [-99, 98]``): read as missing, logged."""
        return tuple(float(v) for v in self.raw.get("missing_codes") or ())

    @property
    def has_size_rule(self) -> bool:
        return bool(self.raw.get("size_rule"))

    # -- item lists ---------------------------------------------------------------------------
    @property
    def likert_points(self) -> int:
        if self.continuous:
            raise InstrumentError(f"{self.path}: the scale is continuous; it has no answer points")
        return int(self.raw["likert"]["points"])

    @cached_property
    def factor_items(self) -> dict[str, list[str]]:
        """Factor code -> its item ids, in questionnaire order."""
        return {f.code: [it.id for it in f.items] for f in self.factors}

    @cached_property
    def subdimension_items(self) -> dict[str, list[str]]:
        """Sub-dimension code (e.g. ``MI1``) -> its item ids."""
        return {sd.code: [it.id for it in sd.items] for f in self.factors for sd in f.subdimensions}

    @cached_property
    def items(self) -> dict[str, Item]:
        """Every Likert item (factor, performance) by id."""
        out = {it.id: it for f in self.factors for it in f.items}
        out.update({it.id: it for it in self.performance_items})
        return out

    @property
    def factor_item_ids(self) -> list[str]:
        return [i for f in self.factors for i in self.factor_items[f.code]]

    @property
    def performance_item_ids(self) -> list[str]:
        return [it.id for it in self.performance_items]

    @property
    def likert_ids(self) -> list[str]:
        """All columns answered on the Likert scale, attention check (and marker item, if any) included."""
        att = [self.attention_id] if self.attention_id else []
        return [*self.factor_item_ids, *self.performance_item_ids, *att, *self.marker_ids]

    @property
    def marker_ids(self) -> list[str]:
        return [self.marker_id] if self.marker_id else []

    @property
    def reverse_items(self) -> list[str]:
        return [i for i, it in self.items.items() if it.reverse]

    @property
    def factor_codes(self) -> list[str]:
        return [f.code for f in self.factors]

    def factor(self, code: str) -> Factor:
        for f in self.factors:
            if f.code == code:
                return f
        raise KeyError(f"unknown factor code {code!r}; known: {', '.join(self.factor_codes)}")

    def field(self, field_id: str) -> Field:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    @property
    def columns(self) -> list[str]:
        """Every column of the tidy data contract, in a stable order."""
        return [*(f.id for f in self.fields), *self.likert_ids]

    @property
    def multi_selects(self) -> list[dict]:
        """Multi-select questions: ``{"id", "en", "zh", "options": [{"field", "en", "zh"}, ...]}``."""
        return list(self.raw.get("multi_select") or [])

    # -- response options --------------------------------------------------------------------
    @cached_property
    def likert_label_map(self) -> dict[str, int]:
        """Lower-cased option label (Chinese or English, incl. aliases) -> score."""
        if self.continuous:
            return {}
        lk = self.raw["likert"]
        out: dict[str, int] = {}
        for lab in lk["labels"]:
            out[str(lab["en"]).strip().lower()] = int(lab["value"])
            out[str(lab["zh"]).strip().lower()] = int(lab["value"])
        for value, words in (lk.get("aliases") or {}).items():
            for w in words:
                out[str(w).strip().lower()] = int(value)
        return out

    # -- size rule ---------------------------------------------------------------------------
    @property
    def size_rule_text(self) -> dict[str, str]:
        return dict(self.raw["size_rule"]["text"]) if self.has_size_rule else {}

    def derive_size_class(self, employees: pd.Series, revenue_band: pd.Series | None = None) -> pd.Series:
        """Apply the instrument's size rule; missing employees give a missing class."""
        if not self.has_size_rule:
            raise InstrumentError(f"{self.path}: the instrument has no size_rule")
        rule = self.raw["size_rule"]
        emp = pd.to_numeric(employees, errors="coerce")
        large = emp >= rule["large_min_employees"]
        if revenue_band is not None:
            band = revenue_band.astype("string")
            band_large = band.isin(rule["large_revenue_bands"])
            large = large & (band_large | band.isna())
        out = pd.Series(pd.NA, index=employees.index, dtype="string")
        out[emp.notna() & large] = "large"
        out[emp.notna() & ~large] = "sme"
        return out

    # -- documentation tables ----------------------------------------------------------------
    @property
    def scale_text(self) -> str:
        """The answer scale in words: ``likert 1–7`` or ``continuous``."""
        return "continuous" if self.continuous else f"likert 1–{self.likert_points}"

    @property
    def allowed_text(self) -> str:
        if not self.continuous:
            return f"1 … {self.likert_points}"
        lo, hi = self.scale_min, self.scale_max
        return f"{'' if lo is None else f'{lo:g}'} … {'' if hi is None else f'{hi:g}'}".strip()

    def data_dictionary(self) -> pd.DataFrame:
        """One row per column of the data contract: id, type, allowed values, both labels."""
        rows = []
        for f in self.fields:
            if f.kind == "category":
                allowed = " | ".join(f.level_values)
            elif f.min is not None or f.max is not None:
                lo = "" if f.min is None else f"{f.min:,.0f}"
                hi = "" if f.max is None else f"{f.max:,.0f}"
                allowed = f"{lo} … {hi}".strip()
            else:
                allowed = ""
            rows.append(
                {
                    "column": f.id,
                    "type": f.kind,
                    "allowed": allowed,
                    "required": f.required,
                    "label_en": f.en,
                    "label_zh": f.zh,
                    "block": "profile",
                }
            )
        scale = self.scale_text
        for it in self.items.values():
            block = "outcome" if it.factor == self.outcome_code else it.factor
            rows.append(
                {
                    "column": it.id,
                    "type": scale + (" (reverse-coded)" if it.reverse else ""),
                    "allowed": self.allowed_text,
                    "required": True,
                    "label_en": it.en,
                    "label_zh": it.zh,
                    "block": block,
                }
            )
        for item_id, key, what, block in (
            (self.attention_id, "attention_check", "attention check", "attention"),
            (self.marker_id, "marker", "common-method marker", "marker"),
        ):
            if item_id:
                extra = self.raw[key]
                allowed = f"expected {self.attention_expected}" if key == "attention_check" else self.allowed_text
                rows.append(
                    {
                        "column": item_id,
                        "type": f"{scale} ({what})",
                        "allowed": allowed,
                        "required": False,
                        "label_en": extra.get("en", item_id),
                        "label_zh": extra.get("zh", extra.get("en", item_id)),
                        "block": block,
                    }
                )
        return pd.DataFrame(rows)


def _parse_items(
    factor: str, sd_index: int, raw_items: list, reverse_ids=frozenset(), prefix: str | None = None
) -> tuple[Item, ...]:
    """Items of one block. An item is a mapping (``id``, ``en``, ``zh``, ``reverse``) or, in a study file, just
    its column name; without an ``id`` it is named by the article's scheme (``prefix`` + number, the prefix being
    factor + sub-dimension unless given).
    A missing Chinese text falls back to the English one, a missing English text to the id."""
    out = []
    for j, r in enumerate(raw_items, start=1):
        r = {"id": r} if isinstance(r, str | int) else r
        if not isinstance(r, dict):
            raise InstrumentError(f"item {j} of {factor}: expected a column name or a mapping, not {r!r}")
        item_id = _text(r.get("id")) or f"{prefix if prefix is not None else f'{factor}{sd_index}'}{j}"
        en = _text(r.get("en")) or item_id
        out.append(
            Item(
                id=item_id,
                factor=factor,
                subdimension=sd_index,
                en=en,
                zh=_text(r.get("zh")) or en,
                reverse=bool(r.get("reverse", False)) or item_id in reverse_ids,
            )
        )
    return tuple(out)


def _text(value) -> str:
    """A label or id from YAML as text; numbers are allowed (an item named 1), other types are not."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InstrumentError(f"expected text, not {type(value).__name__} {value!r}")
    return str(value).strip()


def load_instrument(path: str | Path | None = None) -> Instrument:
    """Read and check an instrument YAML file.

    Parameters
    ----------
    path : str or Path, optional
        The YAML file; defaults to the questionnaire shipped with the package.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        If a factor lacks sub-dimensions or items, a text lacks a language, or ids repeat.
    """
    path = Path(path) if path is not None else DEFAULT_INSTRUMENT
    try:
        raw = load_user_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InstrumentError(f"{path}: cannot read the instrument file ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise InstrumentError(
            f"{path}: not valid YAML ({exc}); `cbec instrument FILE` writes a valid starting point"
        ) from exc
    return instrument_from_mapping(raw, path)


def instrument_from_mapping(raw, path: str | Path = "<instrument>") -> Instrument:
    """Check and parse an instrument given as a mapping (as read from YAML); ``path`` names it in messages."""
    path = Path(path)
    try:
        return _parse(path, raw)
    except InstrumentError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise InstrumentError(f"{path}: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InstrumentError(
            f"{path}: the instrument lacks or mis-types {exc}; compare with the file `cbec instrument FILE` writes"
        ) from exc


def _parse(path: Path, raw) -> Instrument:
    if not isinstance(raw, dict):
        raise InstrumentError(f"{path}: the instrument must be a YAML mapping (likert:, factors:, fields: ...)")
    raw = _normalise_scale(path, dict(raw))
    reverse_ids = frozenset(str(i) for i in raw.get("reverse") or ())
    blocks = raw.get("factors", raw.get("constructs"))
    if not isinstance(blocks, list) or not blocks:
        raise InstrumentError(f"{path}: the instrument lists no constructs (factors: or constructs:, each with items)")
    factors = [_parse_factor(path, f, reverse_ids) for f in blocks]
    perf = raw.get("performance", raw.get("outcome"))
    if not isinstance(perf, dict) or not perf.get("items"):
        raise InstrumentError(f"{path}: the instrument names no outcome (outcome: or performance:, with items)")
    perf_code = _text(perf.get("code")) or "PERF"
    perf_items = _parse_items(perf_code, 0, perf["items"], reverse_ids, prefix=perf_code)
    fields = tuple(_parse_field(path, r) for r in raw.get("fields") or ())
    att = raw.get("attention_check") or None
    inst = Instrument(
        path=path,
        raw=raw,
        factors=tuple(factors),
        performance_items=perf_items,
        attention_id=att["id"] if att else None,
        attention_expected=int(att["expected"]) if att else None,
        fields=fields,
        marker_id=(raw.get("marker") or {}).get("id"),
        outcome_code=perf_code,
        outcome_en=_text(perf.get("en")) or perf_code,
        outcome_zh=_text(perf.get("zh")) or _text(perf.get("en")) or perf_code,
    )
    _check(inst)
    return inst


def _parse_factor(path: Path, f, reverse_ids) -> Factor:
    """A construct: either sub-dimensions of two or more items each (the article's scheme), or one list of
    items (any number from one; a single-item construct is flagged where a statistic needs several)."""
    if not isinstance(f, dict) or not _text(f.get("code")):
        raise InstrumentError(f"{path}: every construct needs a code (code: ...), not {f!r}")
    code = _text(f["code"])
    en = _text(f.get("en")) or code
    zh = _text(f.get("zh")) or en
    if f.get("items"):
        items = _parse_items(code, 1, f["items"], reverse_ids)
        return Factor(code=code, en=en, zh=zh, subdimensions=(SubDimension(code, 1, en, zh, items),))
    sds = []
    for k, sd in enumerate(f.get("subdimensions") or [], start=1):
        items = _parse_items(code, k, sd.get("items") or [], reverse_ids)
        if len(items) < 2:
            raise InstrumentError(f"{path}: sub-dimension {code}{k} needs at least two items")
        sd_en = _text(sd.get("en")) or f"{code}{k}"
        sds.append(SubDimension(factor=code, index=k, en=sd_en, zh=_text(sd.get("zh")) or sd_en, items=items))
    if not sds:
        raise InstrumentError(f"{path}: construct {code} lists no items (items: or subdimensions:)")
    return Factor(code=code, en=en, zh=zh, subdimensions=tuple(sds))


def _parse_field(path: Path, r) -> Field:
    if not isinstance(r, dict) or not _text(r.get("id")):
        raise InstrumentError(f"{path}: every field needs an id, not {r!r}")
    en = _text(r.get("en")) or _text(r["id"])
    return Field(
        id=_text(r["id"]),
        kind=_text(r.get("kind")) or "category",
        en=en,
        zh=_text(r.get("zh")) or en,
        required=bool(r.get("required", False)),
        derived=bool(r.get("derived", False)),
        min=r.get("min"),
        max=r.get("max"),
        levels=tuple(r.get("levels") or ()),
        unit=r.get("unit"),
    )


def _normalise_scale(path: Path, raw: dict) -> dict:
    """One answer scale for every item: ``likert: {points, labels}`` (labels default to the numbers), or
    ``scale: {type: likert, points: k}``, or ``scale: {type: continuous, min: a, max: b}`` for scores that are
    not answer options (test scores, sums). Returns ``raw`` with ``scale`` filled in and checked."""
    sc = raw.get("scale")
    if sc is None and "likert" in raw:
        sc = {"type": "likert", **(raw["likert"] if isinstance(raw["likert"], dict) else {})}
    if not isinstance(sc, dict):
        raise InstrumentError(
            f"{path}: the instrument lacks the answer scale: likert: {{points: k}} or scale: {{type: continuous}}"
        )
    kind = sc.get("type", "likert")
    if kind == "continuous":
        lo, hi = sc.get("min"), sc.get("max")
        for name, v in (("min", lo), ("max", hi)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise InstrumentError(f"{path}: scale.{name} must be a number, not {v!r}")
        if lo is not None and hi is not None and not lo < hi:
            raise InstrumentError(f"{path}: scale.min ({lo}) must be below scale.max ({hi})")
        raw["scale"] = {"type": "continuous", "min": lo, "max": hi}
        if raw.get("attention_check"):
            raise InstrumentError(f"{path}: an attention check needs a Likert scale (its expected answer)")
        return raw
    if kind != "likert":
        raise InstrumentError(f"{path}: scale.type must be likert or continuous, not {kind!r}")
    k = sc.get("points")
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= 11:
        raise InstrumentError(f"{path}: the scale's points must be a whole number from 2 to 11, not {k!r}")
    labels = sc.get("labels") or [{"value": v, "en": str(v), "zh": str(v)} for v in range(1, k + 1)]
    if not isinstance(labels, list) or not all(isinstance(lab, dict) for lab in labels):
        raise InstrumentError(f"{path}: likert.labels must be a list of {{value, en, zh}} mappings")
    values = sorted(int(lab.get("value", 0)) for lab in labels)
    if values != list(range(1, k + 1)):
        raise InstrumentError(f"{path}: likert.labels must number the {k} answers 1..{k} (found {values})")
    for lab in labels:
        if not str(lab.get("en", "")).strip() or not str(lab.get("zh", "")).strip():
            raise InstrumentError(f"{path}: likert label {lab.get('value')} needs both English and Chinese text")
    raw["likert"] = {**(raw.get("likert") or {}), "points": k, "labels": labels}
    raw["scale"] = {"type": "likert", "points": k, "min": 1, "max": k}
    att = raw.get("attention_check")
    if att:
        expected = att.get("expected") if isinstance(att, dict) else None
        if isinstance(expected, bool) or not isinstance(expected, int) or not 1 <= expected <= k:
            raise InstrumentError(
                f"{path}: attention_check.expected must be one of the answers 1..{k}, not {expected!r} "
                "(the attention check is optional: leave out attention_check: if your survey has none)"
            )
    return raw


def _check(inst: Instrument) -> None:
    if inst.reverse_items and inst.continuous and (inst.scale_min is None or inst.scale_max is None):
        raise InstrumentError(
            f"{inst.path}: reverse-worded items on a continuous scale need scale.min and scale.max "
            "(an item is recoded as min + max - answer)"
        )
    unknown_reverse = sorted(set(map(str, inst.raw.get("reverse") or ())) - set(inst.items))
    if unknown_reverse:
        raise InstrumentError(f"{inst.path}: reverse: names items no construct has: {unknown_reverse}")
    ids = inst.columns
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InstrumentError(f"{inst.path}: duplicate ids {dupes}")
    # Ids become column names, file names and code spans in the book: letters, digits and _ only.
    odd = [i for i in ids if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", i)]
    if odd:
        raise InstrumentError(
            f"{inst.path}: ids may hold only letters, digits and '_' and start with a letter; not {odd[:3]}"
        )
    for it in inst.items.values():
        if not it.en.strip() or not it.zh.strip():
            raise InstrumentError(f"{inst.path}: item {it.id} needs both English and Chinese text")
    for f in inst.fields:
        if not f.en.strip() or not f.zh.strip():
            raise InstrumentError(f"{inst.path}: field {f.id} needs both English and Chinese labels")
        if f.kind == "category" and not f.levels:
            raise InstrumentError(f"{inst.path}: category field {f.id} lists no levels")
        if f.unit is not None and f.unit not in UNITS:
            raise InstrumentError(f"{inst.path}: field {f.id} has unit {f.unit!r}; known units: {', '.join(UNITS)}")
    field_ids = {f.id for f in inst.fields}
    for ms in inst.multi_selects:
        for opt in ms.get("options") or []:
            if opt.get("field") not in field_ids:
                raise InstrumentError(
                    f"{inst.path}: multi-select {ms.get('id')!r} feeds unknown field {opt.get('field')!r}"
                )
