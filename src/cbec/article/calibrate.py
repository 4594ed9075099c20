"""The book's operating characteristics: every verdict rule of the book, run on every simulated world.

A verdict in the book follows a rule written before the result (the methods chapter). Whether the rule
does what it says — finds a planted coupling, keeps unplanted pairs quiet, covers the truth with its
interval — depends on the world the data come from, so it is measured in each scenario of
:data:`cbec.article.simulate.SCENARIOS`, at the book's sample size and at larger ones, on seeds that no test
uses. ``make calibrate`` writes the figures to the package resource ``calibration.json`` (committed, so a
wheel has it); the book's calibration appendix and the coupling chapter quote that file (building the book
does not re-measure).

The rules measured (one row each per scenario, sample size and pair):

* ``latent_2spa`` — the construct-level joint model (:func:`cbec.stats.latent.latent_interaction_model`,
  rating-scale answers as normal scores): mean estimate, bias against the planted coupling and against the
  model's pseudo-true value, interval coverage of the planted value, empirical SD over mean reported SE, and
  the share of samples in which the pair is Holm-significant.
* ``c03_verdict`` — the article's claim C03 ("MI × SC is the strongest coupling") judged as the claims chapter
  judges it, in every world, true or not: the intersection–union test on the construct-level joint model,
  with the shares of *matches*, *differs* and *inconclusive*; ``c03_verdict_scores`` the same test on the
  mean-score joint model (HC3), which the book used before and which ranks reliably measured pairs first;
  ``share_ceiling`` the most any test of size alpha could find (the power of the one-sided z-test of MI × SC
  against the hardest single pair, ``ceiling_pair``).
* ``latent_rank_verdict`` — the rank rule of the methods chapter on the construct-level model: the share of
  samples in which the strongest planted pair is *established* as the largest (its simultaneous rank set is
  {1}), and the share in which some other pair is.
* ``observed_joint`` — the mean-score joint model (full second-order, HC3, Holm): the share of samples in
  which each planted pair is Holm-significant.
* ``any_unplanted`` (for both) — the share of samples in which some pair with nothing planted is
  Holm-significant: the family-wise false-positive rate, nominally at most alpha.
* ``largest_iut`` — the pre-specified strongest pair established above every other pair by the
  intersection–union test of the verdict rule (:func:`cbec.article.power.largest_by_iut`).
* ``group_false_difference`` — the size chapter's rule for group differences in coupling (3 groupings × 21
  pairs, :func:`cbec.article.groups.group_coupling_difference`, the full second-order model interacted with the
  group, Holm across the 63): the share of samples in which some difference is significant *in a grouping the
  world leaves equal* — business model and market always, size where the world has no size paths. A family-wise
  false-positive rate.
* ``group_size_detected`` — in worlds with size paths: the share of samples in which some size difference is
  significant. The balance penalty of large firms and the focus gain of SMEs are not polynomials; the
  second-order model expresses part of them as couplings that differ by size (:func:`pseudo_true_group_gaps`
  measures how much on the latent scale), so a size difference found there is a planted one.
* ``rsa_verdict`` — the coupling chapter's response-surface rule (:func:`cbec.stats.models.rsa_fit_pattern`, the
  book's bootstrap) on the pair the chapter probes, the largest observed coupling: the shares of *congruence*,
  *congruence with level effects* and *no fit pattern*. No world plants a congruence surface, so *congruence*
  is a false verdict everywhere (its recovery is tested on planted surfaces in ``tests/test_rank_inference.py``).
* ``c14_verdict`` — the article's claim C14 (order cycles about 60% shorter with a flexible supply chain)
  judged by the claims chapter's estimator and band, on order cycles drawn for each sample's latent supply
  chain twice: with the world's own effect (53.5% shorter, just outside the claim's band, so the claim is
  false) and with the effect that makes the claim exactly true (:data:`cbec.article.planted.C14_TRUE_BETA`).
  Mean estimate, the uncorrected thirds' mean, coverage of the planted value and the share of each verdict.
* ``invariance_verdict`` — the measurement chapter's invariance rule (Chen's 2007 stricter cut-offs, the
  acquiescence factor, partial scalar invariance by freeing intercepts;
  :func:`cbec.stats.invariance.invariance_table`) for each grouping: the share
  of samples reaching each level and, in the world that shifts an item in large firms, the share that frees it.
  Below scalar where nothing is planted is a false flag.

Pseudo-true values. The joint model is a second-order polynomial; where a world plants more than that (the
shipped world's size paths: a balance penalty and a focus gain, which are not polynomials), the model's
coefficients converge to the projection of latent performance on the latent polynomial, not to the planted
coupling. :func:`pseudo_true_couplings` computes that projection on the latent scores of 200,000 simulated
firms; the biases are given against both.

Each (scenario, n) cell has its own seed, so cells run in any order, here or on a Dask cluster, with the same
numbers (tested: shares identical, estimates to 1e-6 — the factor model's optimiser can take a different
floating-point path in another process).
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cbec.article.calibration_record import (
    C03_PAIR,
    NO_RECORD,
    RESULTS_NAME,
    c03_truth,
    load_calibration,
    rule_figures,
    targets_missed,
)
from cbec.article.claims import band_verdict, cycle_reductions, load_claims, supply_chain_construct
from cbec.article.planted import C14_TRUE_BETA, planted_cycle_reduction
from cbec.article.power import BLOCK_REPS, batch_joint_model, largest_by_iut, world_frame
from cbec.article.simulate import SCENARIOS, draw_latent_world, order_cycle_days, scenario_config
from cbec.io.instrument import Instrument, load_instrument
from cbec.io.validate import recode_reverse
from cbec.stats import measurement as ms
from cbec.stats import models
from cbec.stats.latent import latent_interaction_model
from cbec.study.chapters.base import AnalysisSettings, invariance_options, latent_options

# The record's readers live in cbec.article.calibration_record (light to import); named here too, as before.
__all__ = [
    "C03_PAIR",
    "NO_RECORD",
    "RESULTS_NAME",
    "c03_truth",
    "calibrate",
    "calibration_cell",
    "load_calibration",
    "pseudo_true_couplings",
    "rule_figures",
    "run_calibration",
    "targets_missed",
]


#: The book's sample size and two larger ones.
SAMPLE_SIZES = (600, 2000, 5000)
#: Firms on which the pseudo-true values are computed (their Monte Carlo error is below 0.003).
PSEUDO_TRUE_N = 200_000


def pseudo_true_couplings(scenario: str, n: int = PSEUDO_TRUE_N, seed: int = 7, inst: Instrument | None = None):
    """The second-order model's coupling coefficients on the latent scale: standardised latent performance
    regressed on the standardised factors, their 21 products and seven squares and the model's controls, in
    ``n`` simulated firms of ``scenario``. Returns a Series by pair (``MIxSC``)."""
    inst = inst or load_instrument()
    cfg = scenario_config(scenario, n=n, seed=seed, dirt=False)
    world = draw_latent_world(cfg, inst, np.random.default_rng(seed), reps=1)
    codes = inst.factor_codes
    eta = (world.eta[0] - world.eta[0].mean(axis=0)) / world.eta[0].std(axis=0)
    pairs = models.pair_list(codes)
    products = np.column_stack([eta[:, codes.index(a)] * eta[:, codes.index(b)] for a, b in pairs])
    controls = models.control_matrix(world_frame(world, 0, inst)).to_numpy(float)
    x = np.column_stack([eta, products, eta**2, controls])
    x = x - x.mean(axis=0)
    y = world.perf_std[0] - world.perf_std[0].mean()
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    return pd.Series(beta[len(codes) : len(codes) + len(pairs)], index=[f"{a}x{b}" for a, b in pairs])


def _samples(world, inst: Instrument) -> list[tuple[pd.DataFrame, models.AnalysisData]]:
    """Every sample of a batch as the chapters read it (reverse items recoded) and its prepared scores: made once,
    read by every rule that needs them."""
    out = []
    for r in range(world.eta.shape[0]):
        d = recode_reverse(world_frame(world, r, inst), inst)
        out.append((d, models.prepare(d, inst)))
    return out


def _latent_rows(world, samples, inst: Instrument, alpha: float) -> tuple[list[pd.DataFrame], list[tuple]]:
    """The latent joint model of every sample in a batch, one table each, and C03 on the same fit: the claims
    chapter's verdict (:func:`cbec.article.claims.coupling_rank_mi_sc`) and the z of each of its comparisons."""
    from cbec.stats.ranks import ordered_comparisons

    tables, c03 = [], []
    for r, (d, a) in enumerate(samples):
        fit = latent_interaction_model(
            d, ms.factor_blocks(inst), inst.performance_item_ids, a.controls, level=1 - alpha, **latent_options(inst)
        )
        t = fit["table"].set_index("term")
        tables.append(t.assign(perf_sd=float(world.perf_sd[r])))
        others = [p for p in t.index if p != C03_PAIR]
        test = ordered_comparisons(t["estimate"], fit["cov"], [C03_PAIR], others, alpha)
        c03.append((test["verdict"], test["z"]))
    return tables, c03


def _c03_ceiling(zs: list[pd.Series], alpha: float) -> dict:
    """The most any valid test of C03 could find: C03's null includes MI x SC equal to any one other pair, so
    no test of size alpha beats, on that pair's comparison alone, the one-sided z-test of it (the most powerful
    test of one normal mean); the ceiling is the smallest such power over the 20 pairs, and the pair."""
    from scipy.stats import norm

    power = (pd.DataFrame(zs) > norm.ppf(1 - alpha)).mean()  # columns "MIxSC > <pair>"
    return {"share_ceiling": float(power.min()), "ceiling_pair": str(power.idxmin()).split(" > ")[1]}


def size_paths_planted(cfg) -> bool:
    """Does the world make performance depend on the factor profile differently by size?"""
    return bool(cfg.delta_balance_large or cfg.delta_focus_sme)


def equal_groupings(cfg) -> list[str]:
    """The groupings in which the world plants no difference in coupling (see the module docstring)."""
    from cbec.article import groups

    return [g for g in groups.GROUPINGS if g != "size" or not size_paths_planted(cfg)]


def _group_differences_found(samples, alpha: float, equal: list[str]) -> list[tuple[bool, bool]]:
    """For each sample of a batch, with Holm across all 63 differences as the size chapter runs it: (is some
    difference significant in a grouping the world leaves equal, is some size difference significant).

    The size chapter's model (:func:`cbec.article.groups.group_coupling_difference`) fitted for the whole batch
    at once with :func:`cbec.stats.regression.fit_ols_batch` (the same HC3 estimator; tested equal sample by
    sample): one sample at a time, its 63 fits were a tenth of a calibration cell's time."""
    from cbec.article import groups

    names = [name for name, (col, _, _) in groups.GROUPINGS.items() if col in samples[0][0].columns]
    p_by_grouping = [_group_difference_p(samples, name) for name in names]  # each: samples x 21
    p = np.concatenate(p_by_grouping, axis=1)
    sig = models.holm(p) < alpha  # row-wise: Holm across the 63 differences of each sample
    found = []
    for r in range(len(samples)):
        by = dict(zip(names, np.split(sig[r], len(names)), strict=True))
        found.append((any(by[g].any() for g in equal if g in by), bool(by.get("size", np.zeros(1)).any())))
    return found


def _group_difference_p(samples, name: str) -> np.ndarray:
    """HC3 p-values of the 21 coupling differences by grouping ``name`` in every sample (samples x 21)."""
    from cbec.article import groups
    from cbec.stats.regression import fit_ols_batch

    designs, ys = [], []
    for d, a in samples:
        x = groups._joint_design(models.standardise(a.scores), groups.group_dummy(d, name), a.controls)
        designs.append(x)
        ys.append(a.y.loc[x.index].to_numpy(float))
    cols = list(designs[0].columns)
    if any(list(x.columns) != cols for x in designs):  # a sample without some firm type: one at a time
        return np.stack([groups.group_coupling_difference(a.scores, a.y, a.controls, groups.group_dummy(d, name))
                         ["p_value"].to_numpy() for d, a in samples])  # fmt: skip
    fit = fit_ols_batch(np.stack(ys), np.stack([x.to_numpy(float) for x in designs]), cols)
    terms = [f"{a}x{b}_x_{name}" for a, b in models.pair_list(samples[0][1].scores.columns)]
    return fit["pvalues"][terms].to_numpy()


def pseudo_true_group_gaps(scenario: str, n: int = PSEUDO_TRUE_N, seed: int = 7, inst: Instrument | None = None):
    """The largest absolute group difference in coupling per grouping that the size chapter's model converges
    to: the model fitted on the latent factors and latent performance of ``n`` simulated firms."""
    from cbec.article import groups

    inst = inst or load_instrument()
    cfg = scenario_config(scenario, n=n, seed=seed, dirt=False)
    world = draw_latent_world(cfg, inst, np.random.default_rng(seed), reps=1)
    d = world_frame(world, 0, inst)
    eta = pd.DataFrame(world.eta[0], columns=inst.factor_codes)
    y, controls = pd.Series(world.perf_std[0]), models.control_matrix(d)
    return {
        name: float(groups.group_coupling_difference(eta, y, controls, groups.group_dummy(d, name))["difference"]
                    .abs().max())
        for name in groups.GROUPINGS
    }  # fmt: skip


def calibration_cell(
    scenario: str,
    n: int,
    reps: int,
    seed: tuple[int, ...],
    alpha: float = 0.05,
    pseudo_true: dict | None = None,
    instrument: Instrument | None = None,
) -> list[dict]:
    """``reps`` samples of ``n`` firms from ``scenario`` (seeded by ``seed``), every rule applied to each:
    one row per rule and pair (see the module docstring). ``pseudo_true`` (pair -> the model's value, from
    :func:`pseudo_true_couplings`) adds the bias against it and the intervals' coverage of it."""
    inst = instrument or load_instrument()
    cfg = scenario_config(scenario, n=n, dirt=False)
    latent, holm_obs, iut, c03, c03_scores, group_found, rsa, invariance = [], [], [], [], [], [], [], []
    cycles = _c14_worlds(cfg)
    c14: dict[str, list] = {label: [] for label in cycles}
    equal = equal_groupings(cfg)
    planted = {k.replace("*", "x"): g for k, g in cfg.couplings.items()}
    strongest = max(planted, key=lambda k: planted[k]) if planted else None
    for block, start in enumerate(range(0, reps, BLOCK_REPS)):
        world = draw_latent_world(cfg, inst, np.random.default_rng([*seed, block]), reps=min(BLOCK_REPS, reps - start))
        res = batch_joint_model(world, inst)
        holm_obs.append(res["p_holm"] < alpha)
        c03_scores += _c03_verdicts(res, alpha)
        if strongest:
            iut.append(largest_by_iut(res, strongest, alpha))
        samples = _samples(world, inst)
        tables, judged = _latent_rows(world, samples, inst, alpha)
        latent += tables
        c03 += judged
        group_found += _group_differences_found(samples, alpha, equal)
        rsa += _rsa_verdicts(res, samples, inst, alpha)
        invariance += _invariance_verdicts(samples, inst)
        for label, judged in _c14_results(
            world, samples, inst, alpha, cycles, np.random.default_rng([*seed, block, 14])
        ).items():
            c14[label] += judged
    base = {"scenario": scenario, "n": n, "reps": reps}
    pt = pseudo_true or {}
    rows = _summarise_latent(latent, planted, alpha, base, pt) + _summarise_observed(pd.concat(holm_obs), planted, base)
    ceiling = _c03_ceiling([z for _, z in c03], alpha)
    for rule, said, extra in (("c03_verdict", [v for v, _ in c03], ceiling), ("c03_verdict_scores", c03_scores, {})):
        verdicts = pd.Series(said)
        rows.append(
            {**base, "rule": rule, "pair": C03_PAIR}
            | {f"share_{v}": float((verdicts == v).mean()) for v in ("matches", "differs", "inconclusive")}
            | extra
        )
    found = np.array(group_found, dtype=bool).reshape(-1, 2)
    rows.append(
        {**base, "rule": "group_false_difference", "pair": None, "share": float(found[:, 0].mean()),
         "groupings": ", ".join(equal)}
    )  # fmt: skip
    if size_paths_planted(cfg):
        rows.append({**base, "rule": "group_size_detected", "pair": None, "share": float(found[:, 1].mean())})
    rows.append(_summarise_rsa(rsa, strongest, base))
    rows += _summarise_invariance(invariance, cfg, base)
    rows += [_summarise_c14(c14[label], label, beta, base) for label, beta in cycles.items()]
    if strongest:
        rows.append({**base, "rule": "largest_iut", "pair": strongest, "share": float(np.concatenate(iut).mean())})
        rows.append({**base, **_established(latent, strongest)})
    return rows


def _c03_verdicts(res: dict, alpha: float) -> list[str]:
    """C03's intersection–union test in every sample of a batch on the mean-score joint model (for comparison
    with the claims chapter's test on the constructs, :func:`_latent_rows`)."""
    from cbec.stats.ranks import ordered_comparisons

    pairs = list(res["estimate"].columns)
    others = [p for p in pairs if p != C03_PAIR]
    return [
        ordered_comparisons(
            res["estimate"].iloc[r], pd.DataFrame(res["cov"][r], index=pairs, columns=pairs), [C03_PAIR], others, alpha
        )["verdict"]
        for r in range(len(res["estimate"]))
    ]


#: The book's bootstrap settings (its defaults), with which the bootstrap rules are calibrated.
BOOK = AnalysisSettings()
#: The response-surface verdicts, in the order of the record's columns.
RSA_VERDICTS = {"congruence": "congruence", "congruence with level effects": "level_effects", "no fit pattern": "none"}


def _rsa_verdicts(res: dict, samples, inst: Instrument, alpha: float) -> list[tuple[str, str]]:
    """The coupling chapter's response-surface verdict in every sample of a batch, on the pair the chapter probes
    (the largest observed coupling): (that pair, the verdict)."""
    names = {f"{a}x{b}": (a, b) for a, b in models.pair_list(inst.factor_codes)}
    mid = (inst.likert_points + 1) / 2
    out = []
    for r, (_, a) in enumerate(samples):
        top = str(res["estimate"].iloc[r].idxmax())
        fa, fb = names[top]
        _, v = models.rsa_fit_pattern(
            a.y, a.scores - mid, fa, fb, a.controls, n_boot=BOOK.n_boot, seed=BOOK.seed, level=1 - alpha
        )
        out.append((top, v["verdict"]))
    return out


def _summarise_rsa(verdicts: list[tuple[str, str]], strongest: str | None, base: dict) -> dict:
    """No world plants a congruence surface (every coupling is a product), so *congruence* is a false verdict
    everywhere; a product surface may show as congruence with level effects."""
    tops = pd.Series([t for t, _ in verdicts])
    said = pd.Series([v for _, v in verdicts])
    return (
        {**base, "rule": "rsa_verdict", "pair": None, "probed": str(tops.mode().iloc[0])}
        | {"share_probed_strongest": float((tops == strongest).mean()) if strongest else None}
        | {f"share_{key}": float((said == v).mean()) for v, key in RSA_VERDICTS.items()}
    )


def _invariance_verdicts(samples, inst: Instrument) -> list[dict[str, tuple[str, set[str]]]]:
    """The measurement chapter's invariance rule in every sample of a batch: per grouping, the level reached and
    the items whose intercepts were freed."""
    from cbec.article import groups

    out = []
    for d, _ in samples:
        table = groups.measurement_invariance(d, ms.factor_blocks(inst), **invariance_options(inst))
        reached = groups.invariance_reached(table)
        freed = {
            g: {i for i in ", ".join(t["free_intercepts"].fillna("")).split(", ") if i}
            for g, t in table.groupby("grouping", sort=False)
        }
        out.append({g: (level, freed.get(g, set())) for g, level in reached.items()})
    return out


#: The levels the invariance rule can reach, in the order of the record's columns.
INVARIANCE_LEVELS = {"scalar": "scalar", "partial scalar": "partial", "metric": "metric", "configural": "configural"}


def _summarise_invariance(verdicts: list[dict], cfg, base: dict) -> list[dict]:
    """Per grouping: the share of samples reaching each level, and where the world shifts items in one group
    (scalar non-invariance by size, :attr:`SimulationConfig.noninvariant_items`) the share that frees them all.
    A level below scalar where nothing is planted is a false flag."""
    planted = set(cfg.noninvariant_items)
    rows = []
    for grouping in verdicts[0]:
        levels = pd.Series([v[grouping][0] for v in verdicts])
        row = {**base, "rule": "invariance_verdict", "pair": None, "grouping": grouping}
        row |= {"planted_items": ", ".join(sorted(planted)) if grouping == "size" else ""}
        row |= {f"share_{key}": float((levels == lv).mean()) for lv, key in INVARIANCE_LEVELS.items()}
        row["share_none"] = float((levels == "none").mean())
        if grouping == "size" and planted:
            row["share_freed_planted"] = float(np.mean([planted <= v[grouping][1] for v in verdicts]))
        rows.append(row)
    return rows


def _c14_worlds(cfg) -> dict[str, float]:
    """The supply-chain effects on the order cycle under which C14 is judged: the world's own, and the one that
    makes the claim exactly true (cycles drawn after the world, so both read the same survey)."""
    return {"world": cfg.cycle_log_effect_sc, "claim_true": C14_TRUE_BETA}


def _c14_results(world, samples, inst: Instrument, alpha: float, cycles: dict[str, float], rng) -> dict[str, list]:
    """Claim C14's estimate and interval in every sample of a batch, by the claims chapter's estimator, on order
    cycles drawn for the sample's latent supply chain with each effect of ``cycles`` (label -> beta); the
    construct's score is estimated once per sample."""
    sc = inst.factor_codes.index("SC")
    ctx = {"alpha": alpha, "seed": BOOK.seed, "n_boot": BOOK.n_boot}
    out: dict[str, list] = {label: [] for label in cycles}
    for r, (d, a) in enumerate(samples):
        score, rel = supply_chain_construct(d, inst)
        drawn = {label: pd.Series(order_cycle_days(rng, world.eta[r][:, sc], beta), index=d.index)
                 for label, beta in cycles.items()}  # fmt: skip
        for label, result in cycle_reductions(drawn, score, rel, a.scores["SC"], ctx).items():
            out[label].append(result)
    return out


def _summarise_c14(results: list[dict], label: str, beta: float, base: dict) -> dict:
    band = load_claims().set_index("claim_id").loc["C14", ["band_low", "band_high"]].astype(float)
    planted = planted_cycle_reduction(beta)
    est = np.array([r["estimate"] for r in results])
    verdicts = pd.Series([band_verdict(r["ci_low"], r["ci_high"], *band) for r in results])
    return {
        **base,
        "rule": "c14_verdict",
        "pair": None,
        "cycle_world": label,
        "planted": planted,
        "claim_true": bool(band.iloc[0] <= planted <= band.iloc[1]),
        "mean": float(est.mean()),
        "mc_se": float(est.std(ddof=1) / np.sqrt(len(est))),
        "mean_observed_thirds": float(np.mean([r["estimate_observed_thirds"] for r in results])),
        "coverage": float(np.mean([r["ci_low"] <= planted <= r["ci_high"] for r in results])),
    } | {f"share_{v}": float((verdicts == v).mean()) for v in ("matches", "differs", "inconclusive")}


def _established(tables: list[pd.DataFrame], strongest: str) -> dict:
    right = wrong = 0
    for t in tables:
        top = t["estimate"].idxmax()
        if t.loc[top, "rank_low"] == 1 and t.loc[top, "rank_high"] == 1:
            right += top == strongest
            wrong += top != strongest
    n = len(tables)
    return {"rule": "latent_rank_verdict", "pair": strongest, "share": right / n, "share_other": wrong / n}


def _covered(tables: list[pd.DataFrame], pair: str, value) -> float:
    return float(np.mean([t.loc[pair, "ci_low"] <= value <= t.loc[pair, "ci_high"] for t in tables]))


def _summarise_latent(tables: list[pd.DataFrame], planted: dict, alpha: float, base: dict, pt: dict) -> list[dict]:
    rows = []
    sig = pd.DataFrame([t["p_holm"] < alpha for t in tables])
    for pair, g in planted.items():
        truth = np.array([g / t["perf_sd"].iloc[0] for t in tables])
        est = np.array([t.loc[pair, "estimate"] for t in tables])
        se = np.array([t.loc[pair, "std_error"] for t in tables])
        covered = [t.loc[pair, "ci_low"] <= v <= t.loc[pair, "ci_high"] for t, v in zip(tables, truth, strict=True)]
        row = {
            **base,
            "rule": "latent_2spa",
            "pair": pair,
            "planted": float(truth.mean()),
            "mean": float(est.mean()),
            "mc_se": float(est.std(ddof=1) / np.sqrt(len(est))),
            "coverage": float(np.mean(covered)),
            "sd_over_se": float(est.std(ddof=1) / se.mean()),
            "share": float(sig[pair].mean()),
        }
        if pair in pt:
            row["coverage_pseudo"] = _covered(tables, pair, pt[pair])
        rows.append(row)
    others = [c for c in sig.columns if c not in planted]
    row = {
        **base,
        "rule": "latent_any_unplanted",
        "pair": None,
        "share": float(sig[others].any(axis=1).mean()),
        "coverage": float(np.mean([_covered(tables, p, 0.0) for p in others])),
    }
    if pt:
        row["coverage_pseudo"] = float(np.mean([_covered(tables, p, pt[p]) for p in others]))
    return [*rows, row]


def _summarise_observed(sig: pd.DataFrame, planted: dict, base: dict) -> list[dict]:
    rows = [{**base, "rule": "observed_joint", "pair": p, "share": float(sig[p].mean())} for p in planted]
    others = [c for c in sig.columns if c not in planted]
    rows.append(
        {**base, "rule": "observed_any_unplanted", "pair": None, "share": float(sig[others].any(axis=1).mean())}
    )
    return rows


def calibrate(
    scenarios=tuple(SCENARIOS),
    sample_sizes=SAMPLE_SIZES,
    reps: int = 100,
    seed: int = 20261205,
    alpha: float = 0.05,
    client=None,
    instrument: Instrument | None = None,
    progress=None,
) -> dict:
    """Every rule in every scenario at every sample size (cells on ``client``, a Dask client, when given; the
    same numbers either way). ``progress(text)`` hears of every finished cell. Returns the JSON-ready record
    ``make calibrate`` writes."""
    inst = instrument or load_instrument()
    pseudo = {s: pseudo_true_couplings(s, inst=inst) for s in scenarios}
    gaps = {s: pseudo_true_group_gaps(s, inst=inst) for s in scenarios}
    cells = [
        (s, n, reps, (seed, i, j), alpha, pseudo[s].to_dict())
        for i, s in enumerate(scenarios)
        for j, n in enumerate(sample_sizes)
    ]
    parts = _run_cells(cells, inst, client, progress or (lambda _text: None))
    rows = [row for part in parts for row in part]
    for row in rows:
        if row.get("pair") and "mean" in row:
            pt = float(pseudo[row["scenario"]][row["pair"]])
            row["pseudo_true"] = pt
            row["bias_planted_pct"] = 100 * (row["mean"] - row["planted"]) / row["planted"]
            row["bias_pseudo_pct"] = 100 * (row["mean"] - pt) / pt
    return {
        "meta": {
            "date": dt.date.today().isoformat(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "reps": reps,
            "seed": seed,
            "alpha": alpha,
            "sample_sizes": list(sample_sizes),
            "scenarios": list(scenarios),
            "pseudo_true_n": PSEUDO_TRUE_N,
        },
        "pseudo_true": {s: {k: round(float(v), 5) for k, v in pseudo[s].items()} for s in scenarios},
        "pseudo_true_group_gaps": {s: {k: round(v, 5) for k, v in gaps[s].items()} for s in scenarios},
        "rows": rows,
    }


def _run_cells(cells: list[tuple], inst: Instrument, client, say) -> list[list[dict]]:
    """Each cell's rows, in the order of ``cells``, here or on the cluster; ``say`` hears of each as it ends."""
    t0, total = time.perf_counter(), len(cells)

    def done(k: int, cell) -> None:
        say(f"calibration: {k}/{total} cells ({cell[0]}, {cell[1]:,} firms) after {time.perf_counter() - t0:.0f} s")

    if client is None:
        from threadpoolctl import threadpool_limits

        parts = []
        # as a Dask worker runs: two BLAS threads on these small matrices only fight (measured 39 s -> 22 s)
        with threadpool_limits(1):
            for k, c in enumerate(cells, 1):
                parts.append(calibration_cell(*c, instrument=inst))  # type: ignore[misc]  # six positional fields
                done(k, c)
        return parts
    from distributed import as_completed

    # largest samples first: a 5,000-firm cell takes about three times a 600-firm one, and the last cell to
    # start should be a short one, or one worker idles while the other finishes it (each cell has its own seed,
    # so the order changes no number)
    order = sorted(range(total), key=lambda k: -cells[k][1])
    futures = client.map(lambda c: calibration_cell(*c, instrument=inst), [cells[k] for k in order], pure=False)  # type: ignore[misc]
    where = {f.key: k for k, f in zip(order, futures, strict=True)}
    for k, f in enumerate(as_completed(futures), 1):
        done(k, cells[where[f.key]])
    parts = client.gather(futures)
    return [parts[order.index(k)] for k in range(total)]


#: Memory each local Dask worker may use (a 5,000-firm cell holds about 0.3 GB of arrays at its peak).
WORKER_MEMORY = "2GiB"


def run_calibration(
    out: Path, scenarios, sample_sizes, reps: int, workers: int = 0, scheduler: str = "", progress=None
) -> float:
    """:func:`calibrate` on a Dask cluster when asked (``scheduler`` an address, or ``workers`` local
    processes, each bounded to :data:`WORKER_MEMORY`), written to ``out`` as JSON; returns the seconds it
    took. ``progress`` hears of every finished cell and of the cluster's dashboard."""
    from cbec.article.power import dask_client

    t0 = time.perf_counter()
    if workers and not scheduler:
        from distributed import LocalCluster

        local = {"threads_per_worker": 1, "host": "127.0.0.1", "dashboard_address": None}
        with LocalCluster(n_workers=workers, memory_limit=WORKER_MEMORY, **local) as c:
            with dask_client(c.scheduler_address) as client:
                record = calibrate(scenarios, sample_sizes, reps, client=client, progress=progress)
    else:
        with dask_client(scheduler) as client:
            if client is not None and progress and client.dashboard_link:
                progress(f"calibration: Dask dashboard at {client.dashboard_link}")
            record = calibrate(scenarios, sample_sizes, reps, client=client, progress=progress)
    seconds = time.perf_counter() - t0
    record["meta"]["seconds"] = round(seconds, 1)
    record["meta"]["workers"] = workers or (scheduler and "remote") or 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return seconds
