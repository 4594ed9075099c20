"""Chapter 7: what the interviews say, coded against the same factors as the survey (the article's book); the
work is :func:`cbec.study.chapters.interview_coding.code_interviews`, which the study book's interview chapter
runs with the study's codebook."""

from __future__ import annotations

import pandas as pd

from cbec.stats import coupling, models
from cbec.study import interviews as iv
from cbec.study.chapters.base import ChapterResult, RunConfig, load_study
from cbec.study.chapters.interview_coding import absent, code_interviews


def interviews_chapter(cfg: RunConfig) -> ChapterResult:
    """Transcripts read and skipped, the coders and their agreement (with a person and on real text), salience
    by firm and size, co-occurrence, exemplar quotes and the joint display with the survey."""
    r = ChapterResult("interviews")
    if not cfg.interviews_dir:
        return absent(r)
    return code_interviews(r, cfg, iv.load_codebook(cfg.codebook_path or iv.CODEBOOK_YAML), _article_effects)


def _article_effects(cfg: RunConfig) -> pd.DataFrame:
    """The article's survey side of the joint display: main effects of the coupling chapter's baseline."""
    a = load_study(cfg).analysis
    return models.baseline_and_increment(a.scores, a.y, a.controls, coupling.system_indices(a.indices)["D"])["baseline"]
