"""Chapter functions: each takes the run's :class:`~cbec.study.chapters.base.RunConfig` and returns a
:class:`~cbec.study.chapters.base.ChapterResult`. The notebooks call them through
:func:`cbec.book.chapter.run_chapter`; the Python API can call them directly."""

from cbec.study.chapters.base import ChapterResult, RunConfig, Study, load_study
from cbec.study.chapters.cases import cases_chapter
from cbec.study.chapters.claims import claims_chapter
from cbec.study.chapters.coupling import coupling_chapter
from cbec.study.chapters.data_quality import data_quality_chapter
from cbec.study.chapters.interviews import interviews_chapter
from cbec.study.chapters.measurement import measurement_chapter
from cbec.study.chapters.simulated_data import simulated_data_chapter
from cbec.study.chapters.size_paths import size_paths_chapter

#: Chapter name -> function; the name is also the prefix of its result files.
CHAPTERS = {
    "simulated_data": simulated_data_chapter,
    "data_quality": data_quality_chapter,
    "measurement": measurement_chapter,
    "coupling": coupling_chapter,
    "size_paths": size_paths_chapter,
    "claims": claims_chapter,
    "cases": cases_chapter,
    "interviews": interviews_chapter,
}

__all__ = ["CHAPTERS", "ChapterResult", "RunConfig", "Study", "load_study", *(f.__name__ for f in CHAPTERS.values())]
