"""Chapter functions: each takes the run's :class:`~cbec.study.chapters.base.RunConfig` and returns a
:class:`~cbec.study.chapters.base.ChapterResult`. The notebooks call them through
:func:`cbec.book.chapter.run_chapter`; the Python API can call them directly."""

import importlib
from collections.abc import Iterator, Mapping

from cbec.study.chapters.base import ChapterResult, RunConfig, Study, load_study

#: Chapter name (also the prefix of its result files) -> the package of the module defining ``<name>_chapter``:
#: the article's book's own chapters in :mod:`cbec.article.chapters`, every study's here.
_PACKAGES = {
    "simulated_data": "cbec.article.chapters",
    "data_quality": "cbec.study.chapters",
    "measurement": "cbec.article.chapters",
    "coupling": "cbec.article.chapters",
    "size_paths": "cbec.article.chapters",
    "claims": "cbec.article.chapters",
    "cases": "cbec.article.chapters",
    "interviews": "cbec.article.chapters",
    "pls": "cbec.article.chapters",
    # the study book: a researcher's own study, every word from the study file and the run
    "study_measurement": "cbec.study.chapters",
    "study_couplings": "cbec.study.chapters",
    "study_groups": "cbec.study.chapters",
    "study_pls": "cbec.study.chapters",
    "study_interviews": "cbec.study.chapters",
    "study_hypotheses": "cbec.study.chapters",
}
_NAMES = tuple(_PACKAGES)

#: Seconds each chapter took in a cold run of the shipped survey (2 cores, two chapters side by side, 2026-12-06).
#: Used only to start the long chapters first when no earlier execution of this run's cache says more.
TYPICAL_SECONDS = {"pls": 10.5, "coupling": 8.5, "interviews": 4.0, "size_paths": 3.0, "measurement": 2.7}


class _Chapters(Mapping):
    """Chapter name -> chapter function, each module imported on first use: a chapter kernel loads its own
    chapter's dependencies only (jieba for the interviews, semopy for measurement), not every chapter's."""

    def __getitem__(self, name: str):
        if name not in _NAMES:
            raise KeyError(name)
        return getattr(importlib.import_module(f"{_PACKAGES[name]}.{name}"), f"{name}_chapter")

    def __iter__(self) -> Iterator[str]:
        return iter(_NAMES)

    def __len__(self) -> int:
        return len(_NAMES)


CHAPTERS = _Chapters()


def chapter_name(notebook: str) -> str:
    """``03_coupling`` -> ``coupling``; ``s02_study_measurement`` -> ``study_measurement`` (the study book)."""
    head, _, rest = notebook.partition("_")
    return rest if rest and head.lstrip("s").isdigit() else notebook


def chapter_modules(notebooks) -> list[str]:
    """The modules the chapters of ``notebooks`` need: what a warm kernel imports before it executes any of
    them. Names that are not chapters are skipped."""
    names = {chapter_name(nb) for nb in notebooks}
    return [f"{_PACKAGES[n]}.{n}" for n in _NAMES if n in names]


def __getattr__(attr: str):
    if attr.endswith("_chapter") and attr[: -len("_chapter")] in _NAMES:
        return CHAPTERS[attr[: -len("_chapter")]]
    raise AttributeError(f"module 'cbec.study.chapters' has no attribute {attr!r}")


__all__ = [
    "CHAPTERS",
    "chapter_modules",
    "ChapterResult",
    "RunConfig",
    "Study",
    "load_study",
    *(f"{n}_chapter" for n in _NAMES),
]
