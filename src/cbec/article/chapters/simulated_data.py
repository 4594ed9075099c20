"""Chapter 0: the simulated data, the model that generated them and what it planted."""

from __future__ import annotations

from cbec.article.simulate import SimulationConfig, simulate_survey, truth_tables
from cbec.io.validate import load_ground_truth
from cbec.study.chapters.base import ChapterResult, RunConfig


def simulated_data_chapter(cfg: RunConfig) -> ChapterResult:
    """The generating model and its planted truth: the run's ground truth when the survey is simulated,
    otherwise the default model that made the example data shipped with the book."""
    truth = load_ground_truth(cfg.ground_truth_path) if cfg.simulated else simulate_survey(SimulationConfig())[1]
    tables = truth_tables(truth)
    c = truth["config"]
    r = ChapterResult("simulated_data")
    r.table("main_effects", tables["main_effects"], "Planted main effects (per standard deviation of each factor)")
    r.table("couplings", tables["couplings"], "Planted couplings (all other pairs: zero)")
    r.table("dirt", tables["dirt"], "Planted data problems")
    top = truth["strongest_coupling"]
    r.value(
        sim_n=c["n"],
        sim_seed=c["seed"],
        sim_rows=truth["n_rows"],
        sim_phi=c["factor_correlation"],
        sim_gamma_top=truth["couplings"].get(top, 0.0) if top else 0.0,
        sim_top_pair=(top or "none").replace("*", " × "),
        sim_noise=c["noise_sd"],
        sim_delta_large=c["delta_balance_large"],
        sim_delta_sme=c["delta_focus_sme"],
        sim_share_large=c["share_large"],
        sim_lam_lo=c["loading_low"],
        sim_lam_hi=c["loading_high"],
    )
    if not cfg.simulated:
        r.notes["yours"] = (
            "This run analyses your data. The model below generated the example data shipped "
            "with the book; nothing in it describes your firms."
        )
    return r
