"""cbec: the analysis behind cbec-book, a reproducible study of cross-border e-commerce success factors.

The statistics a researcher would call directly are here, flat (the layers behind them: ``cbec.io`` reads and
validates survey data, ``cbec.stats`` holds the estimators, ``cbec.study`` any study's chapters (the study book),
``cbec.article`` the source article's replication — its claims, case firms, simulated world, calibration and the
chapters only its book has — and ``cbec.book`` the book)::

    import cbec
    inst = cbec.load_instrument()
    res = cbec.validate_survey("export.xlsx", inst)        # clean rows, quarantine with reasons, report
    cbec.cronbach_alpha(res.clean[inst.factor_items["MI"]])
"""

import importlib

__version__ = "0.3.0"

#: Public name -> module that defines it. Loaded on first use (PEP 562), so that ``cbec run`` and the
#: chapter kernels do not pay for statsmodels, scipy and semopy before they need them (2.1 s measured).
_API = {
    "load_instrument": "cbec.io.instrument",
    "Instrument": "cbec.io.instrument",
    "InstrumentError": "cbec.io.instrument",
    "read_survey": "cbec.io.ingest",
    "SurveyInputError": "cbec.io.ingest",
    "parse_typed_number": "cbec.io.typed_numbers",
    "validate_survey": "cbec.io.validate",
    "validate_frame": "cbec.io.validate",
    "QualityThresholds": "cbec.io.validate",
    "cronbach_alpha": "cbec.stats.measurement",
    "omega_total": "cbec.stats.measurement",
    "composite_reliability": "cbec.stats.measurement",
    "average_variance_extracted": "cbec.stats.measurement",
    "htmt": "cbec.stats.measurement",
    "fit_cfa": "cbec.stats.measurement",
    "coupling_degree": "cbec.stats.coupling",
    "coupling_degree_revised": "cbec.stats.coupling",
    "coordination_degree": "cbec.stats.coupling",
    "prepare": "cbec.stats.models",
    "fit_all_pairs": "cbec.stats.models",
    "joint_interaction_model": "cbec.stats.models",
    "joint_rank_inference": "cbec.stats.models",
    "rsa_fit_pattern": "cbec.stats.models",
    "rank_confidence_sets": "cbec.stats.ranks",
    "fit_ols": "cbec.stats.regression",
    "fit_ols_batch": "cbec.stats.regression",
    "bootstrap_ols": "cbec.stats.regression",
    "simulate_survey": "cbec.article.simulate",
    "SimulationConfig": "cbec.article.simulate",
    "scenario_config": "cbec.article.simulate",
    "power_curve": "cbec.article.power",
    "pls_sem": "cbec.stats.pls",
    "pls_bootstrap": "cbec.stats.pls",
    "latent_interaction_model": "cbec.stats.latent",
    "latent_scores": "cbec.stats.latent",
    "latent_main_effects": "cbec.stats.latent",
    "fit_multigroup_cfa": "cbec.stats.invariance",
    "invariance_table": "cbec.stats.invariance",
    "lindell_whitney": "cbec.stats.method_variance",
    "RunConfig": "cbec.study.chapters",
    "CHAPTERS": "cbec.study.chapters",
}

__all__ = list(_API)


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cbec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
