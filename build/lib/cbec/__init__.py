"""cbec: the analysis behind cbec-book, a reproducible study of cross-border e-commerce success factors.

The statistics a researcher would call directly are here, flat (the layers behind them: ``cbec.io`` reads and
validates survey data, ``cbec.stats`` holds the estimators, ``cbec.study`` the article's study and its chapter
functions, ``cbec.book`` the book)::

    import cbec
    inst = cbec.load_instrument()
    res = cbec.validate_survey("export.xlsx", inst)        # clean rows, quarantine with reasons, report
    cbec.cronbach_alpha(res.clean[inst.factor_items["MI"]])
"""

from cbec.io.ingest import SurveyInputError, read_survey
from cbec.io.instrument import Instrument, InstrumentError, load_instrument
from cbec.io.typed_numbers import parse_typed_number
from cbec.io.validate import QualityThresholds, validate_frame, validate_survey
from cbec.stats.coupling import coordination_degree, coupling_degree, coupling_degree_revised
from cbec.stats.measurement import (
    average_variance_extracted,
    composite_reliability,
    cronbach_alpha,
    fit_cfa,
    htmt,
    omega_total,
)
from cbec.stats.models import (
    fit_all_pairs,
    joint_interaction_model,
    joint_rank_inference,
    prepare,
    rsa_fit_pattern,
)
from cbec.stats.ranks import rank_confidence_sets
from cbec.stats.regression import bootstrap_ols, fit_ols
from cbec.study.chapters import CHAPTERS, RunConfig
from cbec.study.simulate import SimulationConfig, simulate_survey

__version__ = "0.2.0"

__all__ = [
    "load_instrument",
    "Instrument",
    "InstrumentError",
    "read_survey",
    "validate_survey",
    "validate_frame",
    "QualityThresholds",
    "SurveyInputError",
    "parse_typed_number",
    "cronbach_alpha",
    "omega_total",
    "composite_reliability",
    "average_variance_extracted",
    "htmt",
    "fit_cfa",
    "coupling_degree",
    "coupling_degree_revised",
    "coordination_degree",
    "prepare",
    "fit_all_pairs",
    "joint_interaction_model",
    "joint_rank_inference",
    "rsa_fit_pattern",
    "rank_confidence_sets",
    "fit_ols",
    "bootstrap_ols",
    "simulate_survey",
    "SimulationConfig",
    "RunConfig",
    "CHAPTERS",
]
