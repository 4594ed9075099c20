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

from cbec.io.instrument import FACTOR_CODES, Instrument, load_instrument

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
    factor_correlation: float = 0.40
    loading_low: float = 0.65
    loading_high: float = 0.85
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


def _pairs_from_config(couplings: dict[str, float]) -> list[tuple[str, str, float]]:
    out = []
    for key, val in couplings.items():
        a, b = key.split("*")
        if a not in FACTOR_CODES or b not in FACTOR_CODES or a == b:
            raise ValueError(f"coupling {key!r} must name two different factor codes")
        out.append((a, b, float(val)))
    return out


def simulate_survey(
    config: SimulationConfig | None = None,
    instrument: Instrument | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Draw one simulated survey in the tidy data contract.

    Parameters
    ----------
    config : SimulationConfig, optional
        The generating model; defaults reproduce the shipped data set.
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
    n = cfg.n
    codes = inst.factor_codes

    # 1. Profile -------------------------------------------------------------------------------
    large = rng.random(n) < cfg.share_large
    factory = rng.random(n) < np.where(large, 0.60, 0.40)
    market = rng.choice(np.array(["eu_na", "sea", "other_emerging"]), size=n, p=[0.55, 0.30, 0.15])
    years = np.clip(np.round(rng.gamma(shape=3.0, scale=2.0, size=n) + np.where(large, 2, 0)), 1, 25)
    stage = np.where(years <= 3, "start", np.where(years <= 8, "growth", "mature"))
    employees = np.where(
        large,
        np.round(300 * np.exp(rng.exponential(0.9, size=n))),
        np.clip(np.round(np.exp(rng.normal(3.3, 0.9, size=n))), 3, 299),
    ).astype(np.int64)
    sme_bands = np.array(["lt5m", "5m_20m", "20m_100m", "100m_200m"])
    band = np.where(large, "ge200m", sme_bands[np.clip(rng.poisson(0.9, size=n), 0, 3)])

    # 2. Latent factors ------------------------------------------------------------------------
    k = len(codes)
    phi = np.full((k, k), cfg.factor_correlation)
    np.fill_diagonal(phi, 1.0)
    eta = rng.multivariate_normal(np.zeros(k), phi, size=n, method="cholesky")
    for code, shift in cfg.large_factor_shift.items():
        eta[:, codes.index(code)] += shift * large
    for code, shift in cfg.factory_factor_shift.items():
        eta[:, codes.index(code)] += shift * factory
    # Standardise so that betas and couplings are per standard deviation of the firm population.
    eta = (eta - eta.mean(axis=0)) / eta.std(axis=0)

    # 3. Items ---------------------------------------------------------------------------------
    loadings: dict[str, float] = {}
    items: dict[str, np.ndarray] = {}
    for j, code in enumerate(codes):
        for item_id in inst.factor_items[code]:
            lam = float(np.round(rng.uniform(cfg.loading_low, cfg.loading_high), 3))
            loadings[item_id] = lam
            latent = lam * eta[:, j] + np.sqrt(1 - lam**2) * rng.standard_normal(n)
            y = _cut(latent, CATEGORY_SHARES)
            items[item_id] = (inst.likert_points + 1 - y) if inst.items[item_id].reverse else y

    # 4. Performance ---------------------------------------------------------------------------
    beta = np.array([cfg.main_effects.get(c, 0.0) for c in codes])
    perf = eta @ beta
    for a, b, g in _pairs_from_config(cfg.couplings):
        perf += g * eta[:, codes.index(a)] * eta[:, codes.index(b)]
    spread = eta.std(axis=1)
    srt = np.sort(eta, axis=1)
    focus = srt[:, -2:].mean(axis=1) - srt[:, :-2].mean(axis=1)
    perf += np.where(large, -cfg.delta_balance_large * spread, cfg.delta_focus_sme * focus)
    ce = cfg.control_effects
    perf += (
        ce["large"] * large
        + ce["factory"] * factory
        + ce["eu_na"] * (market == "eu_na")
        + ce["years"] * years
        + ce["mature"] * (stage == "mature")
    )
    perf += cfg.noise_sd * rng.standard_normal(n)
    perf_std = (perf - perf.mean()) / perf.std()
    perf_loadings: dict[str, float] = {}
    for item_id in inst.performance_item_ids:
        lam = float(np.round(rng.uniform(cfg.performance_loading_low, cfg.performance_loading_high), 3))
        perf_loadings[item_id] = lam
        items[item_id] = _cut(lam * perf_std + np.sqrt(1 - lam**2) * rng.standard_normal(n), CATEGORY_SHARES)
    items[inst.attention_id] = np.full(n, inst.attention_expected, dtype=np.int64)

    # 5. Objective outcomes ----------------------------------------------------------------------
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
    cycle = 20.0 * np.exp(cfg.cycle_log_effect_sc * eta[:, i_sc] + 0.25 * rng.standard_normal(n))
    repurchase = np.clip(
        15.0 * np.exp(cfg.repurchase_log_effect_cx * eta[:, i_cx] + 0.10 * perf_std + 0.25 * rng.standard_normal(n)),
        0,
        95,
    )
    growth = 15.0 + 12.0 * perf_std + 10.0 * rng.standard_normal(n)
    band_mid = {"lt5m": 2.5, "5m_20m": 12.0, "20m_100m": 55.0, "100m_200m": 150.0, "ge200m": 400.0}
    revenue = np.array([band_mid[b] for b in band]) * np.exp(0.3 * rng.standard_normal(n))
    channels = {
        c: (rng.random(n) < p).astype(np.int64)
        for c, p in (("ch_marketplace", 0.9), ("ch_independent_site", 0.45), ("ch_social", 0.40), ("ch_b2b", 0.30))
    }

    df = pd.DataFrame(
        {
            "respondent_id": [f"R{i:05d}" for i in range(1, n + 1)],
            "duration_s": np.round(600 * np.exp(0.35 * rng.standard_normal(n))).astype(np.int64),
            "employees": employees,
            "revenue_band": band,
            "size_class": np.where(large, "large", "sme"),
            "business_model": np.where(factory, "factory", "operations"),
            "main_market": market,
            **channels,
            "years_cbec": years.astype(np.int64),
            "stage": stage,
            "category_strategy": np.where(niche, "niche", "broad"),
            "cross_border_revenue_m": np.round(revenue, 2),
            "revenue_growth_pct": np.round(growth, 1),
            "net_margin_pct": np.round(margin, 1),
            "inventory_days": np.round(inventory, 1),
            "repurchase_pct": np.round(repurchase, 1),
            "order_cycle_days": np.round(cycle, 1),
        }
    )
    for col in inst.likert_ids:
        df[col] = pd.array(items[col], dtype="Int64")

    truth_dirt: dict[str, list[str]] = {}
    if cfg.dirt:
        df, truth_dirt = _add_dirt(df, cfg, inst, rng)

    truth = {
        "description": "Ground truth of the simulated cbec-book survey. These data are simulated, not collected.",
        "config": asdict(cfg),
        "category_shares": list(CATEGORY_SHARES),
        "factor_codes": codes,
        "factor_correlation_matrix": phi.round(6).tolist(),
        "loadings_latent": loadings,
        "loadings_observed_implied": {i: round(implied_observed_loading(v), 6) for i, v in loadings.items()},
        "performance_loadings_latent": perf_loadings,
        "main_effects": dict(zip(codes, beta.tolist(), strict=False)),
        "couplings": {f"{a}*{b}": g for a, b, g in _pairs_from_config(cfg.couplings)},
        "strongest_coupling": max(cfg.couplings, key=cfg.couplings.get) if cfg.couplings else None,
        "size_paths": {
            "large": {"balance_penalty_per_sd_spread": cfg.delta_balance_large},
            "sme": {"focus_gain_per_unit_top2_lead": cfg.delta_focus_sme},
        },
        "dirty_rows": truth_dirt,
        "n_rows": int(len(df)),
    }
    return df, truth


def _add_dirt(
    df: pd.DataFrame, cfg: SimulationConfig, inst: Instrument, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Plant the problems a real export has, each kind on its own respondents."""
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
    cols = [df.columns.get_loc(c) for c in likert]
    median_duration = float(df["duration_s"].median())
    rows = picked["speeder"]
    df.iloc[rows, df.columns.get_loc("duration_s")] = np.round(
        median_duration * rng.uniform(0.08, 0.2, size=len(rows))
    ).astype(np.int64)
    for c in cols:
        df.iloc[rows, c] = rng.integers(1, inst.likert_points + 1, size=len(rows))
    for r in picked["straightliner"]:
        v = int(rng.choice([4, 5, 6, 7]))
        for c in cols:
            df.iat[r, c] = v
    att = df.columns.get_loc(inst.attention_id)
    for r in picked["attention_fail"]:
        df.iat[r, att] = int(rng.choice([v for v in range(1, inst.likert_points + 1) if v != inst.attention_expected]))
    for r in picked["heavy_missing"]:
        drop = rng.random(len(cols)) < cfg.heavy_missing_rate
        for c, d in zip(cols, drop, strict=False):
            if d:
                df.iat[r, c] = pd.NA
    # Scattered item non-response on everyone else.
    clean_rows = order[start:]
    mask = rng.random((len(clean_rows), len(cols))) < cfg.missing_cell_rate
    for ri, ci in zip(*np.nonzero(mask), strict=False):
        df.iat[clean_rows[ri], cols[ci]] = pd.NA

    # Duplicate submissions: half re-submitted under the same id, half under a new id.
    n_dup = int(round(cfg.duplicate_share * n))
    src = rng.choice(clean_rows, size=n_dup, replace=False)
    dups = df.iloc[src].copy()
    new_ids = [f"R{n + i:05d}" for i in range(1, n_dup + 1)]
    half = n_dup // 2
    dups.iloc[half:, df.columns.get_loc("respondent_id")] = new_ids[half:]
    dups["duration_s"] = dups["duration_s"] + rng.integers(1, 30, size=n_dup)
    df = pd.concat([df, dups], ignore_index=True)

    ids = df["respondent_id"]
    truth = {kind: sorted(ids.iloc[rows].tolist()) for kind, rows in picked.items()}
    truth["duplicates"] = [
        {"row": n + i, "respondent_id": new, "copy_of": old}
        for i, (new, old) in enumerate(zip(dups["respondent_id"], df["respondent_id"].iloc[src], strict=False))
    ]
    truth["item_missing_cells"] = int(mask.sum())
    return df, truth


def write_simulation(
    out_dir: str | Path, n: int = 600, seed: int = 2026, config: SimulationConfig | None = None
) -> tuple[Path, Path]:
    """Simulate and write ``survey_simulated.csv`` and ``ground_truth.json`` (byte-stable for a seed)."""
    cfg = config or SimulationConfig(n=n, seed=seed)
    df, truth = simulate_survey(cfg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / SIMULATED_CSV
    json_path = out / GROUND_TRUTH_JSON
    df.to_csv(csv_path, index=False, lineterminator="\n")
    json_path.write_text(json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return csv_path, json_path


def load_ground_truth(path: str | Path) -> dict:
    """Read a ``ground_truth.json`` written by :func:`write_simulation`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


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
    couplings = pd.DataFrame(
        [{"pair": k.replace("*", " x "), "gamma": v} for k, v in truth["couplings"].items()], columns=["pair", "gamma"]
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
