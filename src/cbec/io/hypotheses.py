"""A study's pre-specified hypotheses: a CSV file beside the study file (``hypotheses:`` in study.yaml).

Columns: ``id`` (H1, H2, ...), ``statement`` (the hypothesis in the researcher's words), ``term`` (a construct
code — the construct goes with the outcome — or ``AxB`` — constructs A and B are coupled: the outcome rises
with their product) and ``direction`` (``positive`` or ``negative``). A hypothesis that states a size rather
than a sign gives ``band_low`` and ``band_high`` instead (in standard deviations of the outcome per standard
deviation of the construct, or of the product of two standardised constructs), with ``band_reason`` saying why
those bounds — the claims register's tolerance band, judged by the same rule (:func:`cbec.stats.hypotheses
.hypothesis_tests`). These are the claims register's columns that a testable hypothesis about the study's own
constructs needs; the register's other columns (section, source line, article figure) belong to the article's
study."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["BAND_COLUMNS", "COLUMNS", "DIRECTIONS", "HypothesesError", "Hypothesis", "load_hypotheses"]

COLUMNS = ("id", "statement", "term", "direction")
#: Optional: a hypothesis about a size, not a sign (both bounds, or neither).
BAND_COLUMNS = ("band_low", "band_high", "band_reason")
DIRECTIONS = ("positive", "negative")


class HypothesesError(ValueError):
    """A hypotheses file that cannot be used, naming the file, row and column at fault."""


@dataclass(frozen=True)
class Hypothesis:
    id: str
    statement: str
    term: str  # "A" (main effect) or "AxB" (coupling), in the joint model's names
    direction: str  # "positive" / "negative"; "" for a band hypothesis
    kind: str  # "main" or "coupling"
    band: tuple[float, float] | None = None  # (low, high): a hypothesis about the size
    band_reason: str = ""


def load_hypotheses(path: str | Path, constructs: list[str]) -> list[Hypothesis]:
    """Read and check a hypotheses file against the study's construct codes."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise HypothesesError(f"{path}: cannot read the hypotheses file ({exc.__class__.__name__})") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise HypothesesError(f"{path}: the hypotheses file needs the columns {', '.join(missing)}")
    if df.empty:
        raise HypothesesError(f"{path}: the hypotheses file has no rows")
    out, seen = [], set()
    for i, r in enumerate(df.itertuples(index=False), start=2):  # row 1 is the header
        hid, term, direction = r.id.strip(), r.term.strip(), r.direction.strip().lower()
        if not hid or hid in seen:
            raise HypothesesError(f"{path}: row {i}, column id: {'empty' if not hid else f'{hid!r} repeated'}")
        seen.add(hid)
        band = _band(path, i, r._asdict())
        if direction not in DIRECTIONS and not (band and not direction):
            raise HypothesesError(
                f"{path}: row {i}, column direction: {r.direction!r} (use positive or negative, or leave it empty "
                "and give band_low and band_high)"
            )
        name, kind = _term(path, i, term, constructs)
        reason = str(getattr(r, "band_reason", "") or "").strip()
        out.append(Hypothesis(hid, r.statement.strip(), name, "" if band else direction, kind, band, reason))
    return out


def _band(path: Path, row: int, fields: dict) -> tuple[float, float] | None:
    """A hypothesis's tolerance band (both bounds, low below high), or None when it gives neither."""
    raw = [str(fields.get(c, "") or "").strip() for c in BAND_COLUMNS[:2]]
    if not any(raw):
        return None
    for col, text in zip(BAND_COLUMNS[:2], raw, strict=True):
        try:
            float(text)
        except ValueError:
            raise HypothesesError(f"{path}: row {row}, column {col}: {text!r} is not a number") from None
    low, high = map(float, raw)
    if not low < high:
        raise HypothesesError(f"{path}: row {row}, columns band_low/band_high: {low:g} is not below {high:g}")
    return low, high


def _term(path: Path, row: int, term: str, constructs: list[str]) -> tuple[str, str]:
    """A construct code, or two distinct codes joined by 'x' (either order; returned in the study's order)."""
    if term in constructs:
        return term, "main"
    for k, a in enumerate(constructs):
        for b in constructs[k + 1 :]:
            if term in (f"{a}x{b}", f"{b}x{a}"):
                return f"{a}x{b}", "coupling"
    raise HypothesesError(
        f"{path}: row {row}, column term: {term!r} is neither a construct nor a pair AxB of constructs "
        f"(constructs: {', '.join(constructs)})"
    )
