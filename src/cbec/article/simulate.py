"""Simulated survey data whose ground truth encodes the article's hypotheses.

The shipped data set is *simulated*. It exists so that every step of the pipeline can be checked
against a known truth: the measurement model should recover the loadings planted here, the
coupling models should rank the planted pair first (and find nothing when nothing is planted),
and the size-path models should see the planted crossover between large firms and SMEs.

The generating model (documented in the book's "Simulated data" chapter):

1. Firm profile: size class, business model, main market, years in CBEC, stage.
2. Seven latent factors ``eta ~ N(mu(size, model), Phi)`` with an equicorrelation ``Phi``.
3. Items: ``y* = lambda * eta + sqrt(1 - lambda^2) * e``, cut at fixed thresholds into the
   7-point scale; reverse-coded items are flipped (``8 - y``) after cutting.
4. Performance: ``P = sum beta_f eta_f + sum gamma_ab eta_a eta_b + size path + controls + u``;
   large firms lose ``delta_balance`` per unit of spread of their seven factors, SMEs gain
   ``delta_focus`` per unit of lead of their top two factors over the rest.
5. Objective outcomes (inventory days, net margin, order cycle, repurchase, growth) follow the
   article's reported effect sizes, so the claims chapter has something to re-estimate.
6. Dirt: missing cells, heavy non-response, speeders, straight-liners, failed attention
   checks and duplicate submissions, each with its respondent ids stated in the truth file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cbec.io.instrument import Instrument, load_instrument

#: Probabilities of the seven answer categories for an item at the latent mean. Survey answers
#: in firm surveys lean towards agreement; these shares put the median answer at 5.
CATEGORY_SHARES = (0.03, 0.07, 0.12, 0.20, 0.25, 0.21, 0.12)

SIMULATED_CSV = "survey_simulated.csv"
GROUND_TRUTH_JSON = "ground_truth.json"


def _default_main_effects() -> dict[str, float]:
    # The article calls positioning and supply chain the core engines, experience and marketing
    # the growth levers, and technology, compliance and team the foundations.
    return {"MI": 0.20, "SC": 0.20, "MK": 0.15, "CX": 0.15, "TP": 0.08, "RC": 0.08, "TO": 0.08}


def _default_couplings() -> dict[str, float]:
    # The headline claim: MI x SC is the strongest coupling, planted at 0.20 per SD: the size at which
    # 600 firms find it reliably (see the power study in the coupling chapter; at 0.15 they often do
    # not). A weaker second pair keeps the ranking problem honest: the first pair must beat a real
    # competitor, not only noise.
    return {"MI*SC": 0.20, "MK*CX": 0.06}


@dataclass
class SimulationConfig:
    """Every parameter of the generating model; all of it is written to ``ground_truth.json``."""

    n: int = 600
    seed: int = 2026
    scenario: str = "shipped"
    factor_correlation: float = 0.40
    # A structured correlation matrix (factor_codes order) replaces the equicorrelation when given.
    factor_correlation_matrix: list[list[float]] | None = None
    loading_low: float = 0.65
    loading_high: float = 0.85
    # Factor-specific loading ranges (code -> [low, high]) replace the common range for those factors.
    loading_by_factor: dict[str, list[float]] = field(default_factory=dict)
    performance_loading_low: float = 0.75
    performance_loading_high: float = 0.88
    main_effects: dict[str, float] = field(default_factory=_default_main_effects)
    couplings: dict[str, float] = field(default_factory=_default_couplings)
    # Size paths at 0.5 per unit: 600 firms detect the large/SME difference in about 90% of samples
    # (measured over 40 seeds; at 0.12 only 17%). They do not leak into the coupling tests: with no
    # coupling planted, the share of samples with any Holm-significant pair stays at 5%.
    delta_balance_large: float = 0.5
    delta_focus_sme: float = 0.5
    share_large: float = 0.30
    large_factor_shift: dict[str, float] = field(default_factory=lambda: {"TP": 0.30, "TO": 0.30, "RC": 0.20})
    factory_factor_shift: dict[str, float] = field(default_factory=lambda: {"SC": 0.25})
    control_effects: dict[str, float] = field(
        default_factory=lambda: {"large": 0.10, "factory": 0.0, "eu_na": 0.10, "years": 0.02, "mature": 0.10}
    )
    noise_sd: float = 0.55
    # Objective outcomes, in the article's units (see the claims register).
    margin_per_inventory_day: float = -0.5
    margin_niche_premium: float = 15.0
    cycle_log_effect_sc: float = -0.35
    repurchase_log_effect_cx: float = 0.35
    # Dirt, as shares of the clean sample size.
    missing_cell_rate: float = 0.015
    heavy_missing_share: float = 0.02
    heavy_missing_rate: float = 0.45
    speeder_share: float = 0.02
    straightliner_share: float = 0.02
    attention_fail_share: float = 0.015
    duplicate_share: float = 0.01
    dirt: bool = True
    # Realism (all off in the shipped world). Shifting a factor's latent responses before they are cut
    # moves its items' means; item_threshold_sd gives each item its own thresholds.
    threshold_shift: dict[str, float] = field(default_factory=dict)
    item_threshold_sd: float = 0.0
    # Acquiescence: a respondent-level method factor loading on every Likert answer, performance included.
    method_loading: float = 0.0
    # Reverse-worded items measure their factor less well (loading times this ratio).
    reverse_loading_ratio: float = 1.0
    # Scalar non-invariance: item id -> shift of its latent response in large firms only.
    noninvariant_items: dict[str, float] = field(default_factory=dict)


def _structured_correlation() -> list[list[float]]:
    # Blocks the article's grouping suggests: the core engines (MI, SC), the growth levers (MK, CX) and the
    # foundations (TP, RC, TO) correlate more within than between blocks (order: MI SC MK TP RC CX TO).
    block = {"MI": 0, "SC": 0, "MK": 1, "CX": 1, "TP": 2, "RC": 2, "TO": 2}
    within = {0: 0.55, 1: 0.50, 2: 0.45}
    codes = ["MI", "SC", "MK", "TP", "RC", "CX", "TO"]
    return [[1.0 if a == b else (within[block[a]] if block[a] == block[b] else 0.25) for b in codes] for a in codes]


def _realistic() -> dict:
    """Item means that differ by factor and item, a structured factor correlation, mild acquiescence and
    reverse-worded items that measure less well: what a real firm survey looks like."""
    return {
        "factor_correlation_matrix": _structured_correlation(),
        "threshold_shift": {"MI": 0.15, "SC": 0.05, "MK": 0.30, "TP": -0.20, "RC": -0.40, "CX": 0.20, "TO": 0.0},
        "item_threshold_sd": 0.25,
        "method_loading": 0.25,
        "reverse_loading_ratio": 0.7,
    }


#: Named worlds for ``cbec simulate --scenario``: each states where the truth is and which easy answer it defeats.
SCENARIOS: dict[str, dict] = {
    # The data set the book ships: the article's hypotheses planted in a clean measurement world.
    "shipped": {},
    # The shipped hypotheses measured the way real surveys are.
    "realistic": _realistic(),
    # The coupling sits on two foundations with small main effects, while the core engines carry the
    # largest main effects and no coupling: methods that favour strong, balanced factors point the wrong way.
    "hidden_coupling": {
        **_realistic(),
        "main_effects": {"MI": 0.25, "SC": 0.25, "MK": 0.15, "CX": 0.15, "TP": 0.04, "RC": 0.04, "TO": 0.04},
        "couplings": {"TP*RC": 0.20},
    },
    # Nothing couples, but strong acquiescence reaches every answer, performance included.
    "null_method": {
        "couplings": {},
        "method_loading": 0.70,
        "loading_low": 0.45,
        "loading_high": 0.65,
        "performance_loading_low": 0.55,
        "performance_loading_high": 0.70,
    },
    # Two pairs with the same latent coupling, measured with different reliability: positioning and supply
    # chain by strong items, technology and compliance by weak ones. Observed-score couplings shrink the
    # second pair more; a latent estimator should find them equal.
    "unequal_reliability": {
        "couplings": {"MI*SC": 0.20, "TP*RC": 0.20},
        "loading_by_factor": {"MI": [0.85, 0.90], "SC": [0.85, 0.90], "TP": [0.55, 0.65], "RC": [0.55, 0.65]},
        "delta_balance_large": 0.0,
        "delta_focus_sme": 0.0,
    },
    # One supply-chain item reads higher in large firms at the same factor level (scalar non-invariance).
    "noninvariant_item": {"noninvariant_items": {"SC12": 0.8}},
}


def scenario_config(name: str, n: int = 600, seed: int = 2026, **overrides) -> SimulationConfig:
    """The :class:`SimulationConfig` of a named scenario (see :data:`SCENARIOS`), with overrides."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    return SimulationConfig(n=n, seed=seed, scenario=name, **{**SCENARIOS[name], **overrides})


@lru_cache(maxsize=8)
def _attenuation(shares: tuple[float, ...]) -> float:
    probs = np.asarray(shares, dtype=float)
    cuts = stats.norm.ppf(np.cumsum(probs)[:-1])
    dens = np.concatenate([[0.0], stats.norm.pdf(cuts), [0.0]])
    k = np.arange(1, len(probs) + 1)
    e_gz = float(np.sum(k * (dens[:-1] - dens[1:])))
    mean = float(np.sum(k * probs))
    return e_gz / float(np.sqrt(np.sum(probs * (k - mean) ** 2)))


def implied_observed_loading(loading: float, shares: tuple[float, ...] = CATEGORY_SHARES) -> float:
    """Correlation between a factor and its item after the latent response is cut into categories.

    For ``y* = l*eta + sqrt(1-l^2)*e`` with standard-normal parts and ``g`` the step function that
    maps ``y*`` to categories 1..K, Stein's lemma gives ``cov(g(y*), eta) = l * E[g(Z) Z]`` with
    ``E[g(Z) Z] = sum_k k (phi(t_{k-1}) - phi(t_k))``. Dividing by ``sd(g(Z))`` gives the standardised
    loading a CFA on the observed items should recover (before any estimation error).
    """
    return loading * _attenuation(tuple(shares))


def _cut(latent: np.ndarray, shares: tuple[float, ...]) -> np.ndarray:
    cuts = stats.norm.ppf(np.cumsum(shares)[:-1])
    return np.searchsorted(cuts, latent).astype(np.int64) + 1


def _pairs_from_config(couplings: dict[str, float], codes) -> list[tuple[str, str, float]]:
    out = []
    for key, val in couplings.items():
        a, b = key.split("*")
        if a not in codes or b not in codes or a == b:
            raise ValueError(f"coupling {key!r} must name two different factor codes")
        out.append((a, b, float(val)))
    return out


def factor_correlation(cfg: SimulationConfig, codes: list[str]) -> np.ndarray:
    """The factors' correlation matrix: the configured one, or equicorrelation ``factor_correlation``."""
    k = len(codes)
    if cfg.factor_correlation_matrix is None:
        phi = np.full((k, k), cfg.factor_correlation)
        np.fill_diagonal(phi, 1.0)
        return phi
    phi = np.asarray(cfg.factor_correlation_matrix, dtype=float)
    if phi.shape != (k, k) or not np.allclose(phi, phi.T) or not np.allclose(np.diag(phi), 1.0):
        raise ValueError(f"factor_correlation_matrix must be a symmetric {k}x{k} correlation matrix")
    if np.linalg.eigvalsh(phi)[0] <= 0:
        raise ValueError("factor_correlation_matrix must be positive definite")
    return phi


@dataclass
class LatentWorld:
    """One or many simulated samples before they become a survey file (arrays ``reps x n``, or ``n``).

    ``items`` hold the raw answers as a respondent would tick them (reverse-worded items not yet recoded),
    ``loadings`` the latent loading drawn for each item in each sample.
    """

    profile: dict[str, np.ndarray]
    eta: np.ndarray
    phi: np.ndarray
    items: dict[str, np.ndarray]
    loadings: dict[str, np.ndarray]
    perf_loadings: dict[str, np.ndarray]
    perf_std: np.ndarray
    method: np.ndarray | None
    perf_sd: np.ndarray  # SD of latent performance before standardising (per sample)


def _draw_profile(rng: np.random.Generator, shape: tuple[int, ...], cfg: SimulationConfig) -> dict[str, np.ndarray]:
    large = rng.random(shape) < cfg.share_large
    factory = rng.random(shape) < np.where(large, 0.60, 0.40)
    market = rng.choice(np.array(["eu_na", "sea", "other_emerging"]), size=shape, p=[0.55, 0.30, 0.15])
    years = np.clip(np.round(rng.gamma(shape=3.0, scale=2.0, size=shape) + np.where(large, 2, 0)), 1, 25)
    stage = np.where(years <= 3, "start", np.where(years <= 8, "growth", "mature"))
    return {"large": large, "factory": factory, "market": market, "years": years, "stage": stage}


def _draw_factors(
    rng: np.random.Generator, profile: dict[str, np.ndarray], cfg: SimulationConfig, codes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    phi = factor_correlation(cfg, codes)
    shape = profile["large"].shape
    eta = rng.multivariate_normal(np.zeros(len(codes)), phi, size=shape, method="cholesky")
    for code, shift in cfg.large_factor_shift.items():
        eta[..., codes.index(code)] += shift * profile["large"]
    for code, shift in cfg.factory_factor_shift.items():
        eta[..., codes.index(code)] += shift * profile["factory"]
    # Standardise within each sample so that betas and couplings are per SD of the firm population.
    eta = (eta - eta.mean(axis=-2, keepdims=True)) / eta.std(axis=-2, keepdims=True)
    return eta, phi


def _draw_items(
    rng: np.random.Generator,
    eta: np.ndarray,
    profile: dict[str, np.ndarray],
    method: np.ndarray | None,
    cfg: SimulationConfig,
    inst: Instrument,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Answers to the factor items: ``y* = l eta + m M + shift + noise``, cut into the scale's categories.

    ``M`` is the respondent's acquiescence (a method factor): it moves every answer towards agreement,
    so after a reverse-worded item is recoded it pulls the other way. ``shift`` moves the thresholds
    (factor- and item-specific) and, for non-invariant items, only in large firms.
    """
    shape = eta.shape[:-1]
    reps = shape[:-1]
    m = cfg.method_loading
    items: dict[str, np.ndarray] = {}
    loadings: dict[str, np.ndarray] = {}
    for j, code in enumerate(inst.factor_codes):
        low, high = cfg.loading_by_factor.get(code, (cfg.loading_low, cfg.loading_high))
        for item_id in inst.factor_items[code]:
            lam = np.round(rng.uniform(low, high, size=reps), 3)
            reverse = inst.items[item_id].reverse
            if reverse:
                lam = lam * cfg.reverse_loading_ratio
            shift: float | np.ndarray = cfg.threshold_shift.get(code, 0.0)
            if cfg.item_threshold_sd > 0:
                shift = shift + rng.normal(0.0, cfg.item_threshold_sd, size=reps + (1,))
            loadings[item_id] = lam
            lam_b = np.asarray(lam)[..., None]
            latent = lam_b * eta[..., j] + np.sqrt(1 - lam_b**2 - m**2) * rng.standard_normal(shape)
            latent = latent + shift + cfg.noninvariant_items.get(item_id, 0.0) * profile["large"]
            if method is not None:
                latent = latent + (-m if reverse else m) * method
            y = _cut(latent, CATEGORY_SHARES)
            items[item_id] = (inst.likert_points + 1 - y) if reverse else y
    return items, loadings


def _performance(
    rng: np.random.Generator, eta: np.ndarray, profile: dict[str, np.ndarray], cfg: SimulationConfig, codes
) -> np.ndarray:
    """Latent performance (not yet standardised): main effects, couplings, size paths, controls, noise."""
    beta = np.array([cfg.main_effects.get(c, 0.0) for c in codes])
    perf = eta @ beta
    for a, b, g in _pairs_from_config(cfg.couplings, codes):
        perf += g * eta[..., codes.index(a)] * eta[..., codes.index(b)]
    large = profile["large"]
    spread = eta.std(axis=-1)
    srt = np.sort(eta, axis=-1)
    focus = srt[..., -2:].mean(axis=-1) - srt[..., :-2].mean(axis=-1)
    perf += np.where(large, -cfg.delta_balance_large * spread, cfg.delta_focus_sme * focus)
    ce = cfg.control_effects
    perf += (
        ce["large"] * large
        + ce["factory"] * profile["factory"]
        + ce["eu_na"] * (profile["market"] == "eu_na")
        + ce["years"] * profile["years"]
        + ce["mature"] * (profile["stage"] == "mature")
    )
    perf += cfg.noise_sd * rng.standard_normal(large.shape)
    return perf


def _draw_performance_items(
    rng: np.random.Generator, perf_std: np.ndarray, method: np.ndarray | None, cfg: SimulationConfig, inst: Instrument
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Self-rated performance items; the same informant's acquiescence reaches them too."""
    reps = perf_std.shape[:-1]
    m = cfg.method_loading
    items, loadings = {}, {}
    for item_id in inst.performance_item_ids:
        lam = np.round(rng.uniform(cfg.performance_loading_low, cfg.performance_loading_high, size=reps), 3)
        loadings[item_id] = lam
        lam_b = np.asarray(lam)[..., None]
        latent = lam_b * perf_std + np.sqrt(1 - lam_b**2 - m**2) * rng.standard_normal(perf_std.shape)
        if method is not None:
            latent = latent + m * method
        items[item_id] = _cut(latent, CATEGORY_SHARES)
    return items, loadings


def draw_latent_world(
    cfg: SimulationConfig, inst: Instrument, rng: np.random.Generator, reps: int | None = None
) -> LatentWorld:
    """Profiles, factors, item answers and performance for one sample (``reps=None``) or ``reps`` at once.

    All samples of a batch are drawn with array operations (a leading ``reps`` axis), which is what makes
    the power study fast; with ``reps=None`` the draws are the ones :func:`simulate_survey` has always made.
    """
    _check_config(cfg)
    codes = inst.factor_codes
    shape = (cfg.n,) if reps is None else (reps, cfg.n)
    profile = _draw_profile(rng, shape, cfg)
    extra = {}
    if reps is None:  # firm size details the survey file reports but no model uses
        large = profile["large"]
        extra["employees"] = np.where(
            large,
            np.round(300 * np.exp(rng.exponential(0.9, size=shape))),
            np.clip(np.round(np.exp(rng.normal(3.3, 0.9, size=shape))), 3, 299),
        ).astype(np.int64)
        sme_bands = np.array(["lt5m", "5m_20m", "20m_100m", "100m_200m"])
        extra["band"] = np.where(large, "ge200m", sme_bands[np.clip(rng.poisson(0.9, size=shape), 0, 3)])
    eta, phi = _draw_factors(rng, profile, cfg, codes)
    method = rng.standard_normal(shape) if cfg.method_loading > 0 else None
    items, loadings = _draw_items(rng, eta, profile, method, cfg, inst)
    perf = _performance(rng, eta, profile, cfg, codes)
    perf_sd = perf.std(axis=-1, keepdims=True)
    perf_std = (perf - perf.mean(axis=-1, keepdims=True)) / perf_sd
    perf_items, perf_loadings = _draw_performance_items(rng, perf_std, method, cfg, inst)
    items.update(perf_items)
    return LatentWorld(
        {**profile, **extra}, eta, phi, items, loadings, perf_loadings, perf_std, method, perf_sd[..., 0]
    )


def _check_config(cfg: SimulationConfig) -> None:
    top = max(cfg.loading_high, cfg.performance_loading_high)
    if top**2 + cfg.method_loading**2 >= 1:
        raise ValueError(
            f"loading_high {top} and method_loading {cfg.method_loading} leave no room for item noise "
            "(their squares must sum to less than 1)"
        )
    if not 0 < cfg.reverse_loading_ratio <= 1:
        raise ValueError("reverse_loading_ratio must lie in (0, 1]")


def order_cycle_days(rng: np.random.Generator, eta_sc: np.ndarray, beta: float) -> np.ndarray:
    """Order-to-delivery cycle in days: 20 days at the average supply chain, ``exp(beta)`` times that per SD of
    the latent supply-chain factor, log-normal noise (SD 0.25). One formula for the simulated survey and the
    calibration of claim C14."""
    return 20.0 * np.exp(beta * eta_sc + 0.25 * rng.standard_normal(eta_sc.shape))


def _objective_outcomes(
    rng: np.random.Generator, world: LatentWorld, cfg: SimulationConfig, codes: list[str]
) -> dict[str, np.ndarray]:
    """Outcomes in the article's units, driven by the factors the article ties them to."""
    eta, perf_std, n = world.eta, world.perf_std, cfg.n
    i_sc, i_mi, i_cx, i_tp = (codes.index(c) for c in ("SC", "MI", "CX", "TP"))
    inventory = 45.0 * np.exp(-0.12 * eta[:, i_sc] - 0.04 * eta[:, i_tp] + 0.15 * rng.standard_normal(n))
    niche = rng.random(n) < stats.norm.cdf(0.8 * eta[:, i_mi] - 0.2)
    margin = (
        4.0
        + 2.0 * perf_std
        + cfg.margin_niche_premium * niche
        + cfg.margin_per_inventory_day * (inventory - 45.0)
        + 2.5 * rng.standard_normal(n)
    )
    cycle = order_cycle_days(rng, eta[:, i_sc], cfg.cycle_log_effect_sc)
    repurchase = np.clip(
        15.0 * np.exp(cfg.repurchase_log_effect_cx * eta[:, i_cx] + 0.10 * perf_std + 0.25 * rng.standard_normal(n)),
        0,
        95,
    )
    growth = 15.0 + 12.0 * perf_std + 10.0 * rng.standard_normal(n)
    band_mid = {"lt5m": 2.5, "5m_20m": 12.0, "20m_100m": 55.0, "100m_200m": 150.0, "ge200m": 400.0}
    revenue = np.array([band_mid[b] for b in world.profile["band"]]) * np.exp(0.3 * rng.standard_normal(n))
    channels = {
        c: (rng.random(n) < p).astype(np.int64)
        for c, p in (("ch_marketplace", 0.9), ("ch_independent_site", 0.45), ("ch_social", 0.40), ("ch_b2b", 0.30))
    }
    # No simulated firm sells through a channel outside the list; drawn without the generator, so that adding
    # the 其他 option left every other simulated value as it was.
    channels["ch_other"] = np.zeros(n, dtype=np.int64)
    return {
        **channels,
        "category_strategy": np.where(niche, "niche", "broad"),
        "cross_border_revenue_m": np.round(revenue, 2),
        "revenue_growth_pct": np.round(growth, 1),
        "net_margin_pct": np.round(margin, 1),
        "inventory_days": np.round(inventory, 1),
        "repurchase_pct": np.round(repurchase, 1),
        "order_cycle_days": np.round(cycle, 1),
    }


def _draw_marker(cfg: SimulationConfig, world: LatentWorld) -> np.ndarray:
    """Answers to the common-method marker: nothing but the respondent's acquiescence and noise.

    Drawn from a generator of its own (seeded ``[seed, 1]``), so adding the marker to a questionnaire leaves
    every other simulated answer as it was."""
    rng = np.random.default_rng([cfg.seed, 1])
    m = cfg.method_loading
    latent = np.sqrt(1 - m**2) * rng.standard_normal(world.perf_std.shape)
    if world.method is not None:
        latent = latent + m * world.method
    return _cut(latent, CATEGORY_SHARES)


def _plant_marker_dirt(df: pd.DataFrame, picked: dict, clean_rows: np.ndarray, cfg: SimulationConfig, inst) -> int:
    """The dirty rows answer the marker as they answer everything else (own generator, ``[seed, 2]``)."""
    rng = np.random.default_rng([cfg.seed, 2])
    col = inst.marker_id
    df.loc[picked["speeder"], col] = rng.integers(1, inst.likert_points + 1, size=len(picked["speeder"]))
    df.loc[picked["straightliner"], col] = df.loc[picked["straightliner"], inst.factor_item_ids[0]].to_numpy()
    heavy = picked["heavy_missing"]
    df.loc[heavy[rng.random(len(heavy)) < cfg.heavy_missing_rate], col] = pd.NA
    scattered = clean_rows[rng.random(len(clean_rows)) < cfg.missing_cell_rate]
    df.loc[scattered, col] = pd.NA
    return int(len(scattered))


def _survey_frame(
    rng: np.random.Generator, world: LatentWorld, outcomes: dict[str, np.ndarray], cfg: SimulationConfig, inst
) -> pd.DataFrame:
    n, p = cfg.n, world.profile
    df = pd.DataFrame(
        {
            "respondent_id": [f"R{i:05d}" for i in range(1, n + 1)],
            "duration_s": np.round(600 * np.exp(0.35 * rng.standard_normal(n))).astype(np.int64),
            "employees": p["employees"],
            "revenue_band": p["band"],
            "size_class": np.where(p["large"], "large", "sme"),
            "business_model": np.where(p["factory"], "factory", "operations"),
            "main_market": p["market"],
            **{k: v for k, v in outcomes.items() if k.startswith("ch_")},
            "years_cbec": p["years"].astype(np.int64),
            "stage": p["stage"],
            **{k: v for k, v in outcomes.items() if not k.startswith("ch_")},
        }
    )
    items = {**world.items, inst.attention_id: np.full(n, inst.attention_expected, dtype=np.int64)}
    for col in inst.likert_ids:
        df[col] = pd.array(items[col], dtype="Int64")
    return df


def simulate_survey(
    config: SimulationConfig | None = None,
    instrument: Instrument | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Draw one simulated survey in the tidy data contract.

    Parameters
    ----------
    config : SimulationConfig, optional
        The generating model; defaults reproduce the shipped data set (see :func:`scenario_config`
        for the named worlds that make the methods fail).
    instrument : Instrument, optional
        The questionnaire; defaults to the shipped one.

    Returns
    -------
    data : DataFrame
        One row per submission (dirty rows included), columns of the data contract.
    truth : dict
        Every parameter, the derived implied loadings and the ids of each kind of dirty row.
    """
    cfg = config or SimulationConfig()
    inst = instrument or load_instrument()
    rng = np.random.default_rng(cfg.seed)
    codes = inst.factor_codes
    world = draw_latent_world(cfg, inst, rng)
    if inst.marker_id:
        world.items[inst.marker_id] = _draw_marker(cfg, world)
    df = _survey_frame(rng, world, _objective_outcomes(rng, world, cfg, codes), cfg, inst)
    truth_dirt: dict[str, object] = {}
    if cfg.dirt:
        df, truth_dirt = _add_dirt(df, cfg, inst, rng)
    return df, _truth(cfg, world, codes, truth_dirt, len(df))


def _truth(cfg: SimulationConfig, world: LatentWorld, codes: list[str], dirt: dict, n_rows: int) -> dict:
    loadings = {i: float(v) for i, v in world.loadings.items()}
    exact_implied = cfg.method_loading == 0 and cfg.item_threshold_sd == 0 and not cfg.threshold_shift
    return {
        "description": "Ground truth of the simulated cbec-book survey. These data are simulated, not collected.",
        "scenario": cfg.scenario,
        "config": asdict(cfg),
        "category_shares": list(CATEGORY_SHARES),
        "factor_codes": codes,
        "factor_correlation_matrix": world.phi.round(6).tolist(),
        "loadings_latent": loadings,
        "loadings_observed_implied": {i: round(implied_observed_loading(v), 6) for i, v in loadings.items()},
        "loadings_observed_implied_exact": exact_implied,
        "performance_loadings_latent": {i: float(v) for i, v in world.perf_loadings.items()},
        "main_effects": {c: float(cfg.main_effects.get(c, 0.0)) for c in codes},
        "couplings": {f"{a}*{b}": g for a, b, g in _pairs_from_config(cfg.couplings, codes)},
        # Performance is standardised after it is drawn: a coupling gamma is gamma / SD in the units of the
        # standardised outcome, the units every estimator of the book reports (per SD of both factors).
        "performance_sd_latent": round(float(world.perf_sd), 6),
        "couplings_per_sd_performance": {
            f"{a}*{b}": round(g / float(world.perf_sd), 6) for a, b, g in _pairs_from_config(cfg.couplings, codes)
        },
        "strongest_coupling": max(cfg.couplings, key=lambda k: cfg.couplings[k]) if cfg.couplings else None,
        "method_factor": {"loading": cfg.method_loading, "reverse_loading_ratio": cfg.reverse_loading_ratio},
        "noninvariant_items": dict(cfg.noninvariant_items),
        "size_paths": {
            "large": {"balance_penalty_per_sd_spread": cfg.delta_balance_large},
            "sme": {"focus_gain_per_unit_top2_lead": cfg.delta_focus_sme},
        },
        "dirty_rows": dirt,
        "n_rows": int(n_rows),
    }


def _add_dirt(
    df: pd.DataFrame, cfg: SimulationConfig, inst: Instrument, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Plant the problems a real export has, each kind on its own respondents.

    The random draws are made in the order the shipped data set was drawn in (one straight-line value
    per row, then one attention answer per row, ...), and the cells are written column by column."""
    n = len(df)
    likert = inst.factor_item_ids + inst.performance_item_ids
    order = rng.permutation(n)
    counts = {
        "speeder": int(round(cfg.speeder_share * n)),
        "straightliner": int(round(cfg.straightliner_share * n)),
        "attention_fail": int(round(cfg.attention_fail_share * n)),
        "heavy_missing": int(round(cfg.heavy_missing_share * n)),
    }
    picked: dict[str, np.ndarray] = {}
    start = 0
    for kind, c in counts.items():
        picked[kind] = order[start : start + c]
        start += c

    df = df.copy()
    _plant_answer_patterns(df, picked, likert, cfg, inst, rng)
    # Scattered item non-response on everyone else.
    clean_rows = order[start:]
    mask = rng.random((len(clean_rows), len(likert))) < cfg.missing_cell_rate
    for j, col in enumerate(likert):
        df.loc[clean_rows[mask[:, j]], col] = pd.NA
    marker_missing = _plant_marker_dirt(df, picked, clean_rows, cfg, inst) if inst.marker_id else 0
    df, duplicates = _plant_duplicates(df, clean_rows, cfg, rng)

    ids = df["respondent_id"]
    truth: dict[str, object] = {kind: sorted(ids.iloc[rows].tolist()) for kind, rows in picked.items()}
    truth["duplicates"] = duplicates
    truth["item_missing_cells"] = int(mask.sum())
    if inst.marker_id:
        truth["marker_missing_cells"] = marker_missing
    return df, truth


def _plant_answer_patterns(
    df: pd.DataFrame, picked: dict, likert: list[str], cfg: SimulationConfig, inst: Instrument, rng
) -> None:
    """Speeders (fast, random answers), straight-liners, failed attention checks, heavy non-response."""
    rows = picked["speeder"]
    median_duration = float(df["duration_s"].median())
    df.loc[rows, "duration_s"] = np.round(median_duration * rng.uniform(0.08, 0.2, size=len(rows))).astype(np.int64)
    for col in likert:
        df.loc[rows, col] = rng.integers(1, inst.likert_points + 1, size=len(rows))
    rows = picked["straightliner"]
    line = np.array([int(rng.choice([4, 5, 6, 7])) for _ in rows], dtype=np.int64)
    for col in likert:
        df.loc[rows, col] = line
    others = [v for v in range(1, inst.likert_points + 1) if v != inst.attention_expected]
    rows = picked["attention_fail"]
    df.loc[rows, inst.attention_id] = np.array([int(rng.choice(others)) for _ in rows], dtype=np.int64)
    rows = picked["heavy_missing"]
    drop = rng.random((len(rows), len(likert))) < cfg.heavy_missing_rate  # one row's draws after another
    for j, col in enumerate(likert):
        df.loc[rows[drop[:, j]], col] = pd.NA


def _plant_duplicates(
    df: pd.DataFrame, clean_rows: np.ndarray, cfg: SimulationConfig, rng
) -> tuple[pd.DataFrame, list[dict]]:
    """Duplicate submissions: half re-submitted under the same id, half under a new id."""
    n = len(df)
    n_dup = int(round(cfg.duplicate_share * n))
    src = rng.choice(clean_rows, size=n_dup, replace=False)
    dups = df.iloc[src].copy()
    new_ids = [f"R{n + i:05d}" for i in range(1, n_dup + 1)]
    half = n_dup // 2
    dups.iloc[half:, df.columns.get_loc("respondent_id")] = new_ids[half:]
    dups["duration_s"] = dups["duration_s"] + rng.integers(1, 30, size=n_dup)
    out = pd.concat([df, dups], ignore_index=True)
    listed = [
        {"row": n + i, "respondent_id": new, "copy_of": old}
        for i, (new, old) in enumerate(zip(dups["respondent_id"], df["respondent_id"].iloc[src], strict=False))
    ]
    return out, listed


def write_simulation(
    out_dir: str | Path,
    n: int = 600,
    seed: int = 2026,
    config: SimulationConfig | None = None,
    scenario: str | None = None,
) -> tuple[Path, Path]:
    """Simulate and write ``survey_simulated.csv`` and ``ground_truth.json`` (byte-stable for a seed).

    ``scenario`` names one of :data:`SCENARIOS`; ``config`` gives a fully custom world instead.
    """
    if config is not None and scenario is not None:
        raise ValueError("give either a scenario name or a SimulationConfig, not both")
    cfg = config or scenario_config(scenario or "shipped", n=n, seed=seed)
    df, truth = simulate_survey(cfg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / SIMULATED_CSV
    json_path = out / GROUND_TRUTH_JSON
    df.to_csv(csv_path, index=False, lineterminator="\n")
    json_path.write_text(json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return csv_path, json_path


def truth_tables(truth: dict, instrument: Instrument | None = None) -> dict[str, pd.DataFrame]:
    """The ground truth as tidy tables for the book: effects, couplings, loadings, planted dirt."""
    inst = instrument or load_instrument()
    # ground_truth.json is written with sorted keys; show factors in the questionnaire's order.
    order = [c for c in inst.factor_codes if c in truth["main_effects"]]
    effects = pd.DataFrame(
        {
            "factor": order,
            "name": [inst.factor(c).en for c in order],
            "beta": [truth["main_effects"][c] for c in order],
        }
    )
    per_sd = truth.get("couplings_per_sd_performance", {})
    couplings = pd.DataFrame(
        [
            {"pair": k.replace("*", " x "), "gamma": v, "gamma_per_sd_performance": per_sd.get(k, float("nan"))}
            for k, v in truth["couplings"].items()
        ],
        columns=["pair", "gamma", "gamma_per_sd_performance"],
    )
    lat, obs = truth["loadings_latent"], truth["loadings_observed_implied"]
    loadings = pd.DataFrame(
        {
            "item": list(lat),
            "factor": [i[:2] for i in lat],
            "loading_latent": list(lat.values()),
            "loading_on_7_point_scale": [obs[i] for i in lat],
        }
    )
    dirt = truth.get("dirty_rows") or {}
    planted = pd.DataFrame(
        [{"problem": k, "rows": len(v)} for k, v in dirt.items() if isinstance(v, list)]
        + (
            [{"problem": "scattered missing cells", "rows": dirt["item_missing_cells"]}]
            if "item_missing_cells" in dirt
            else []
        ),
        columns=["problem", "rows"],
    )
    return {"main_effects": effects, "couplings": couplings, "loadings": loadings, "dirt": planted}
