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
    attention_id: str
    attention_expected: int
    fields: tuple[Field, ...]
    marker_id: str | None = None  # the common-method marker item, when the questionnaire has one

    # -- item lists ---------------------------------------------------------------------------
    @property
    def likert_points(self) -> int:
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
        return [*self.factor_item_ids, *self.performance_item_ids, self.attention_id, *self.marker_ids]

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
        return dict(self.raw["size_rule"]["text"])

    def derive_size_class(self, employees: pd.Series, revenue_band: pd.Series | None = None) -> pd.Series:
        """Apply the instrument's size rule; missing employees give a missing class."""
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
        k = self.likert_points
        for it in self.items.values():
            block = "performance" if it.factor == "PERF" else it.factor
            rows.append(
                {
                    "column": it.id,
                    "type": f"likert 1–{k}" + (" (reverse-coded)" if it.reverse else ""),
                    "allowed": f"1 … {k}",
                    "required": False,
                    "label_en": it.en,
                    "label_zh": it.zh,
                    "block": block,
                }
            )
        att = self.raw["attention_check"]
        rows.append(
            {
                "column": self.attention_id,
                "type": f"likert 1–{k} (attention check)",
                "allowed": f"expected {self.attention_expected}",
                "required": False,
                "label_en": att["en"],
                "label_zh": att["zh"],
                "block": "attention",
            }
        )
        if self.marker_id:
            mk = self.raw["marker"]
            rows.append(
                {
                    "column": self.marker_id,
                    "type": f"likert 1–{k} (common-method marker)",
                    "allowed": f"1–{k}",
                    "required": False,
                    "label_en": mk["en"],
                    "label_zh": mk["zh"],
                    "block": "marker",
                }
            )
        return pd.DataFrame(rows)


def _parse_items(factor: str, sd_index: int, raw_items: list[dict]) -> tuple[Item, ...]:
    return tuple(
        Item(
            id=f"{factor}{sd_index}{j}",
            factor=factor,
            subdimension=sd_index,
            en=str(r["en"]),
            zh=str(r["zh"]),
            reverse=bool(r.get("reverse", False)),
        )
        for j, r in enumerate(raw_items, start=1)
    )


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
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InstrumentError(f"{path}: cannot read the instrument file ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise InstrumentError(
            f"{path}: not valid YAML ({exc}); `cbec instrument FILE` writes a valid starting point"
        ) from exc
    try:
        return _parse(path, raw)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InstrumentError):
            raise
        raise InstrumentError(
            f"{path}: the instrument lacks or mis-types {exc}; compare with the file `cbec instrument FILE` writes"
        ) from exc


def _parse(path: Path, raw) -> Instrument:
    if not isinstance(raw, dict):
        raise InstrumentError(f"{path}: the instrument must be a YAML mapping (likert:, factors:, fields: ...)")
    _check_scale(path, raw)
    factors = []
    for f in raw["factors"]:
        sds = []
        for k, sd in enumerate(f.get("subdimensions") or [], start=1):
            items = _parse_items(f["code"], k, sd.get("items") or [])
            if len(items) < 2:
                raise InstrumentError(f"{path}: sub-dimension {f['code']}{k} needs at least two items")
            sds.append(SubDimension(factor=f["code"], index=k, en=sd["en"], zh=sd["zh"], items=items))
        if not sds:
            raise InstrumentError(f"{path}: factor {f['code']} has no sub-dimensions (each needs two items or more)")
        factors.append(Factor(code=f["code"], en=f["en"], zh=f["zh"], subdimensions=tuple(sds)))
    perf = raw["performance"]
    perf_items = tuple(
        Item(
            id=f"{perf['code']}{j}",
            factor=perf["code"],
            subdimension=0,
            en=r["en"],
            zh=r["zh"],
            reverse=bool(r.get("reverse", False)),
        )
        for j, r in enumerate(perf["items"], start=1)
    )
    fields = tuple(
        Field(
            id=r["id"],
            kind=r["kind"],
            en=r["en"],
            zh=r["zh"],
            required=bool(r.get("required", False)),
            derived=bool(r.get("derived", False)),
            min=r.get("min"),
            max=r.get("max"),
            levels=tuple(r.get("levels") or ()),
            unit=r.get("unit"),
        )
        for r in raw["fields"]
    )
    att = raw["attention_check"]
    inst = Instrument(
        path=path,
        raw=raw,
        factors=tuple(factors),
        performance_items=perf_items,
        attention_id=att["id"],
        attention_expected=int(att["expected"]),
        fields=fields,
        marker_id=(raw.get("marker") or {}).get("id"),
    )
    _check(inst)
    return inst


def _check_scale(path: Path, raw: dict) -> None:
    """The answer scale: k points (2 to 11), one label per point numbered 1..k in both languages."""
    lk = raw.get("likert")
    if not isinstance(lk, dict):
        raise InstrumentError(f"{path}: the instrument lacks or mis-types 'likert' (points: and labels:)")
    k = lk.get("points")
    if not isinstance(k, int) or not 2 <= k <= 11:
        raise InstrumentError(f"{path}: likert.points must be a whole number from 2 to 11, not {k!r}")
    values = sorted(int(lab.get("value", 0)) for lab in lk.get("labels") or [])
    if values != list(range(1, k + 1)):
        raise InstrumentError(f"{path}: likert.labels must number the {k} answers 1..{k} (found {values})")
    for lab in lk["labels"]:
        if not str(lab.get("en", "")).strip() or not str(lab.get("zh", "")).strip():
            raise InstrumentError(f"{path}: likert label {lab.get('value')} needs both English and Chinese text")
    expected = (raw.get("attention_check") or {}).get("expected")
    if not isinstance(expected, int) or not 1 <= expected <= k:
        raise InstrumentError(f"{path}: attention_check.expected must be one of the answers 1..{k}")


def _check(inst: Instrument) -> None:
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
