"""A study's pre-specified hypotheses: a CSV file beside the study file (``hypotheses:`` in study.yaml).

Columns: ``id`` (H1, H2, ...), ``statement`` (the hypothesis in the researcher's words), ``term`` (a construct
code — the construct goes with the outcome — or ``AxB`` — constructs A and B are coupled: the outcome rises
with their product) and ``direction`` (``positive`` or ``negative``). The subset of the claims register's
columns that a testable hypothesis about the study's own constructs needs; every other claim-register column
belongs to the article's study."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["COLUMNS", "DIRECTIONS", "HypothesesError", "Hypothesis", "load_hypotheses"]

COLUMNS = ("id", "statement", "term", "direction")
DIRECTIONS = ("positive", "negative")


class HypothesesError(ValueError):
    """A hypotheses file that cannot be used, naming the file, row and column at fault."""


@dataclass(frozen=True)
class Hypothesis:
    id: str
    statement: str
    term: str  # "A" (main effect) or "AxB" (coupling), in the joint model's names
    direction: str
    kind: str  # "main" or "coupling"


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
        if direction not in DIRECTIONS:
            raise HypothesesError(f"{path}: row {i}, column direction: {r.direction!r} (use positive or negative)")
        name, kind = _term(path, i, term, constructs)
        out.append(Hypothesis(hid, r.statement.strip(), name, direction, kind))
    return out


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
