"""Study book, interviews: the study's transcripts coded against the study's own codebook (one factor per
construct), with the same coders, agreement checks, salience, co-occurrence and joint display as the article's
interview chapter; the survey side of the joint display is the study's main-effects model."""

from __future__ import annotations

import pandas as pd

from cbec.stats import models
from cbec.stats.regression import fit_ols
from cbec.study import interviews as iv
from cbec.study.chapters.base import ChapterResult, RunConfig, load_study
from cbec.study.chapters.interview_coding import absent, code_interviews


def study_interviews_chapter(cfg: RunConfig) -> ChapterResult:
    """The study's interviews; empty (with a note) when the study names no transcripts."""
    r = ChapterResult("study_interviews")
    if not cfg.interviews_dir:
        return absent(r)
    return code_interviews(r, cfg, iv.load_codebook(cfg.codebook_path or iv.CODEBOOK_YAML), study_main_effects)


def study_main_effects(cfg: RunConfig) -> pd.DataFrame:
    """Standardised main effects of the study's constructs on its outcome (OLS, HC3): ``term, estimate,
    std_error, p_value``."""
    a = load_study(cfg).analysis
    x = pd.concat([models.standardise(a.scores), a.controls], axis=1)
    fit = fit_ols(a.y, x)
    terms = list(a.scores.columns)
    return pd.DataFrame(
        {
            "term": terms,
            "estimate": fit.params[terms].to_numpy(),
            "std_error": fit.bse[terms].to_numpy(),
            "p_value": fit.pvalues[terms].to_numpy(),
        }
    )
