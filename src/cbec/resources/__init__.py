"""Data that ship inside the package: the questionnaire, the interview codebook, the article's claims
register and case profiles. Found with :mod:`importlib.resources`, so an installed ``cbec`` (a wheel, not
only this source tree) has them."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["resource"]


def resource(name: str) -> Path:
    """Path of a shipped data file (pip unpacks packages, so the resource is a real file)."""
    path = Path(str(files(__name__) / name))
    if not path.exists():
        raise FileNotFoundError(f"cbec ships no resource {name!r} (looked in {path.parent})")
    return path
