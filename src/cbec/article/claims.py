"""The article's quantitative statements as a register, and a test for each one the survey can check.

``data/article/claims.csv`` holds one row per number in the article (paraphrased, never quoted), with the
section it comes from and its kind: a market statistic, a fact about a named firm, or an effect claim about
firms in general. Effect claims that the questionnaire can measure name an estimator here; each estimator
returns our estimate with a 95% interval and a verdict by a stated rule.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cbec.article import groups
from cbec.article.calibration_record import C03_PAIR  # one name for the pair, shared with the record
from cbec.io.instrument import Instrument
from cbec.resources import resource
from cbec.stats import models
from cbec.stats.hypotheses import band_verdict  # the claims register's rule, shared with a study's hypotheses
from cbec.stats.regression import fit_ols

CLAIMS_CSV = resource("claims.csv")
KINDS = ("market_statistic", "firm_fact", "effect_claim")
COLUMNS = (
    "claim_id",
    "section",
    "kind",
    "about",
    "measure",
    "value",
    "value_low",
    "value_high",
    "unit",
    "statement",
    "testable",
    "estimator",
    "band_low",
    "band_high",
    "band_alt_low",
    "band_alt_high",
    "band_reason",
    "part_of",
    "source_line",
    "article_figure",
    "conflicts_with",
)
#: The verdicts of the tested-claims table, and nothing else.
VERDICTS = ("matches", "differs", "inconclusive")
_NUMERIC = ("value", "value_low", "value_high", "band_low", "band_high", "band_alt_low", "band_alt_high")


class ClaimsError(ValueError):
    """The claims register is malformed."""


class NotTestable(Exception):
    """The run's questionnaire lacks what an estimator needs (a field, a factor, a sub-dimension)."""


def _need(ctx: dict, fields=(), factors=(), subdimensions=()) -> None:
    lacks = [f"the {f} question" for f in fields if f not in ctx["data"].columns]
    lacks += [f"the factor {f}" for f in factors if f not in ctx["scores"].columns]
    lacks += [f"the sub-dimension {s}" for s in subdimensions if s not in ctx["instrument"].subdimension_items]
    if lacks:
        raise NotTestable("this questionnaire lacks " + ", ".join(lacks))


def load_claims(path: str | Path = CLAIMS_CSV) -> pd.DataFrame:
    """Read and check the register: columns, unique ids, a section and a known kind on every row, and an
    existing estimator on every testable row."""
    path = Path(path)
    df = pd.read_csv(
        path,
        dtype={
            c: str
            for c in ("claim_id", "section", "estimator", "part_of", "source_line", "article_figure", "conflicts_with")
        },
        keep_default_na=False,
        na_values={c: [""] for c in _NUMERIC},
    )
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ClaimsError(f"{path}: missing columns {missing}")
    if df["claim_id"].duplicated().any():
        raise ClaimsError(f"{path}: duplicate claim ids {sorted(df.loc[df['claim_id'].duplicated(), 'claim_id'])}")
    for i, r in df.iterrows():
        where = f"{path}, row {i + 2} ({r['claim_id']})"
        if not str(r["section"]).strip():
            raise ClaimsError(f"{where}: no source section")
        if r["kind"] not in KINDS:
            raise ClaimsError(f"{where}: kind {r['kind']!r} is not one of {KINDS}")
        if r["testable"] not in ("yes", "no"):
            raise ClaimsError(f"{where}: testable must be yes or no")
        if r["testable"] == "yes" and r["estimator"] not in ESTIMATORS:
            raise ClaimsError(f"{where}: unknown estimator {r['estimator']!r}")
        if (
            r["testable"] == "yes"
            and pd.notna(r["value"])
            and (pd.isna(r["band_low"]) or pd.isna(r["band_high"]) or not str(r["band_reason"]).strip())
        ):
            raise ClaimsError(f"{where}: a tested numeric claim needs band_low, band_high and band_reason")
        if r["conflicts_with"] and r["conflicts_with"] not in set(df["claim_id"]):
            raise ClaimsError(f"{where}: conflicts_with names unknown claim {r['conflicts_with']!r}")
        if r["conflicts_with"] and r["conflicts_with"] not in set(df["claim_id"]):
            raise ClaimsError(f"{where}: conflicts_with names unknown claim {r['conflicts_with']!r}")
        if not str(r["source_line"]).strip().isdigit():
            raise ClaimsError(f"{where}: every statement names its line in the article (source_line)")
        if r["part_of"] and r["part_of"] not in set(df["claim_id"]):
            raise ClaimsError(f"{where}: part_of names unknown claim {r['part_of']!r}")
    return df


# --- estimators ------------------------------------------------------------------------------------


def _ols_coef(y: pd.Series, x: pd.DataFrame, term: str) -> tuple[float, float]:
    """Coefficient and HC3 standard error of ``term`` (by name), on the rows where every variable is present."""
    ok = y.notna() & x.notna().all(axis=1)
    res = fit_ols(y[ok], x[ok])
    return float(res.params[term]), float(res.bse[term])


def _wald(est: float, se: float) -> dict:
    return {"estimate": est, "ci_low": est - 1.959964 * se, "ci_high": est + 1.959964 * se}


def _tercile_groups(score: pd.Series) -> tuple[pd.Series, pd.Series]:
    lo, hi = score.quantile([1 / 3, 2 / 3])
    return score >= hi, score <= lo


def _boot_ratio(
    values: pd.Series,
    top: pd.Series,
    bottom: pd.Series,
    n_boot: int,
    seed: int,
    transform: Callable[[float], float],
    alpha: float = 0.05,
) -> dict:
    """Ratio of group means (top / bottom), transformed, with a percentile bootstrap interval (level 1 - alpha)
    that resamples firms within each group."""
    a, b = values[top].dropna().to_numpy(float), values[bottom].dropna().to_numpy(float)
    rng = np.random.default_rng(seed)
    draws = [transform(rng.choice(a, len(a)).mean() / rng.choice(b, len(b)).mean()) for _ in range(n_boot)]
    return {
        "estimate": transform(a.mean() / b.mean()),
        "ci_low": float(np.percentile(draws, 100 * alpha / 2)),
        "ci_high": float(np.percentile(draws, 100 - 100 * alpha / 2)),
    }


def _adjusters(ctx: dict) -> pd.DataFrame:
    """Controls plus the seven standardised factor levels: firms with a stronger supply chain also carry less
    stock, position better and perform better, so a slope without the factor levels is confounded (measured
    on the simulation: 0.70 pp per day against 0.5 planted)."""
    return pd.concat([models.standardise(ctx["scores"]), ctx["controls"]], axis=1)


def margin_per_inventory_day(ctx: dict) -> dict:
    """Net margin (pp) gained per day less of inventory turnover: minus the OLS slope of net margin on
    inventory days, holding the factor levels and the survey controls fixed (HC3)."""
    _need(ctx, fields=("inventory_days", "net_margin_pct"))
    d = ctx["data"]
    x = pd.concat([d["inventory_days"].astype(float), _adjusters(ctx)], axis=1)
    est, se = _ols_coef(d["net_margin_pct"].astype(float), x, "inventory_days")
    return _wald(-est, se)


def niche_margin_gap(ctx: dict) -> dict:
    """Net-margin difference (pp) of niche-focused over broad-range firms, holding the factor levels and the
    survey controls fixed (HC3)."""
    _need(ctx, fields=("category_strategy", "net_margin_pct"))
    d = ctx["data"]
    niche = (d["category_strategy"] == "niche").astype(float).rename("niche")
    x = pd.concat([niche, _adjusters(ctx)], axis=1)
    est, se = _ols_coef(d["net_margin_pct"].astype(float), x, "niche")
    return _wald(est, se)


def flexible_cycle_reduction(ctx: dict) -> dict:
    """Order cycle of the firms in the top third of the supply-chain construct relative to the bottom third, as
    % shorter, with a bootstrap interval at the run's level.

    Thirds cut on an error-laden score misplace firms, which shrinks the contrast towards zero. Under bivariate
    normality of the construct and the log cycle, the contrast between the thirds of a score is the construct's
    contrast times the square root of the score's reliability, so the log ratio is divided by that root. The
    score and its reliability come from the latent models' first stage (:func:`cbec.stats.latent.latent_scores`:
    Bartlett scores of the factor model with rating-scale answers as normal scores and the acquiescence factor),
    not from Cronbach's alpha of a mean score, because alpha counts acquiescence as true variance and does not
    see skewed answer categories. Measured when written (4 samples of 3,000 firms a world, planted 60.2%): this
    estimator averaged 60.5%, 60.7% and 60.6% in the shipped, realistic and strong-acquiescence worlds; the
    alpha-corrected thirds of the two flexible-production items, the estimator before, 58.7%, 55.6% and 42.0%.
    The bootstrap resamples firms with the first stage held fixed: near 55% shorter and a reliability near .85,
    an error of .01 in the reliability moves the estimate by about 0.2 points, against a bootstrap SD of about 2
    at 600 firms; the calibration appendix measures the interval's coverage in every world."""
    _need(ctx, fields=("order_cycle_days",), factors=("SC",))
    d = ctx["data"]
    score, rel = supply_chain_construct(d, ctx["instrument"])
    return cycle_reduction(d["order_cycle_days"], score, rel, ctx["scores"]["SC"], ctx)


def supply_chain_construct(data: pd.DataFrame, inst: Instrument) -> tuple[pd.Series, float]:
    """The supply-chain factor's score from the latent models' first stage and its reliability, for the firms
    that answered every factor item (see :func:`flexible_cycle_reduction`)."""
    from cbec.stats.latent import latent_scores
    from cbec.stats.measurement import factor_blocks
    from cbec.study.chapters.base import latent_options

    blocks = factor_blocks(inst)
    items = [i for ids in blocks.values() for i in ids]
    stage = latent_scores(data.loc[data[items].notna().all(axis=1)], blocks, **latent_options(inst))
    return stage["scores"]["SC"], float(stage["reliability"]["SC"])


def cycle_reduction(cycle: pd.Series, score: pd.Series, reliability: float, observed: pd.Series, ctx: dict) -> dict:
    """C14's estimate and bootstrap interval (``ctx``: alpha, seed, n_boot) from the construct's ``score`` and
    ``reliability``, with the uncorrected thirds of the ``observed`` mean score beside it; firms with a cycle
    and a score."""
    return cycle_reductions({"": cycle}, score, reliability, observed, ctx)[""]


def cycle_reductions(
    cycles: dict[str, pd.Series], score: pd.Series, reliability: float, observed: pd.Series, ctx: dict
) -> dict[str, dict]:
    """:func:`cycle_reduction` of several order cycles of the same firms (label -> cycle), with one bootstrap:
    the resamples, and so every resample's thirds of the score, are the same for every cycle (the same seed);
    only the cycle sums differ. Cycles missing for different firms are bootstrapped apart."""
    masks = {label: c.astype(float).reindex(score.index).notna().to_numpy() for label, c in cycles.items()}
    if len({m.tobytes() for m in masks.values()}) > 1:
        return {
            label: cycle_reductions({label: c}, score, reliability, observed, ctx)[label] for label, c in cycles.items()
        }
    keep = next(iter(masks.values()))
    x = score.to_numpy()[keep]
    c = np.stack([cy.astype(float).reindex(score.index).to_numpy()[keep] for cy in cycles.values()])
    draws = _resampled_tercile_reductions(x, c, reliability, np.random.default_rng(ctx["seed"]), ctx["n_boot"])
    tail = 100 * ctx["alpha"] / 2
    seen = observed.reindex(score.index).to_numpy()[keep]
    return {
        label: {
            "estimate": float(_corrected_tercile_reduction(x, c[k], reliability)),
            "ci_low": float(np.percentile(draws[k], tail)),
            "ci_high": float(np.percentile(draws[k], 100 - tail)),
            "estimate_observed_thirds": float(_corrected_tercile_reduction(seen, c[k], 1.0)),
            "reliability": reliability,
        }
        for k, label in enumerate(cycles)
    }


def _corrected_tercile_reduction(score: np.ndarray, cycle: np.ndarray, reliability: float) -> np.ndarray:
    """% shorter mean cycle of the score's top third against its bottom third, the log ratio divided by the
    square root of the score's ``reliability`` (1: uncorrected). Rows of 2-D arrays are samples (bootstrap
    resamples at once)."""
    lo, hi = np.quantile(score, [1 / 3, 2 / 3], axis=-1, keepdims=True)
    top, bottom = score >= hi, score <= lo
    ratio = (cycle * top).sum(-1) / top.sum(-1) / ((cycle * bottom).sum(-1) / bottom.sum(-1))
    return 100 * (1 - np.exp(np.log(ratio) / np.sqrt(reliability)))


def _resampled_tercile_reductions(score: np.ndarray, cycle: np.ndarray, reliability: float, rng, n_boot: int):
    """:func:`_corrected_tercile_reduction` of ``n_boot`` resamples of the firms, ``score[idx[r]]`` and
    ``cycle[idx[r]]`` with ``idx = rng.integers(0, n, (n_boot, n))``, without forming the resamples. ``cycle``
    may hold several cycles of the same firms (rows), which share the resamples: the result then has a row each.

    Why by hand: sorting each resample for its thirds' cut points (``np.quantile``) was most of a calibration
    sample's time at 5,000 firms. With the firms sorted by score once, a resample is its draw counts ``w``: its
    ``j``-th smallest score is that of the first firm whose cumulative count exceeds ``j``, the cut points follow
    by numpy's linear interpolation, and the thirds' counts and cycle sums are differences of the cumulative sums
    of ``w`` and ``w * cycle``. Equal to the direct computation resample by resample (tested)."""
    from cbec.stats.regression import BLOCK_CELLS

    n = len(score)
    order = np.argsort(score, kind="stable")
    xs, cs = score[order], cycle[..., order]
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n)
    out = []
    for part in np.array_split(np.arange(n_boot), max(1, n_boot * n // BLOCK_CELLS)):  # 2 MB: no page faults
        b = len(part)
        block = rng.integers(0, n, (b, n))  # the same draws as all rows at once
        counts = np.bincount((rank[block] + n * np.arange(b)[:, None]).ravel(), minlength=b * n).reshape(b, n)
        cum_w = np.cumsum(counts, axis=1)
        cum_c = np.cumsum(counts * cs[..., None, :], axis=-1)  # (cycles,) resamples x firms
        lower, upper = (_resample_quantile(xs, cum_w, q) for q in (1 / 3, 2 / 3))
        rows = np.arange(b)
        below = np.searchsorted(xs, lower, side="right")  # firms scoring at most the lower cut: positions < below
        above = np.searchsorted(xs, upper, side="left")  # firms scoring at least the upper cut: positions >= above
        top = (cum_c[..., -1] - _prefix(cum_c, rows, above)) / (n - _prefix(cum_w, rows, above))
        bottom = _prefix(cum_c, rows, below) / _prefix(cum_w, rows, below)
        out.append(100 * (1 - np.exp(np.log(top / bottom) / np.sqrt(reliability))))
    return np.concatenate(out, axis=-1)


def _prefix(cum: np.ndarray, rows: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Sum of each row's first ``stop`` entries from its cumulative sums (rows: the last axis but one)."""
    return np.where(stop > 0, cum[..., rows, np.maximum(stop - 1, 0)], 0)


def _resample_quantile(sorted_values: np.ndarray, cum_counts: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` quantile of each resample (rows of ``cum_counts``, cumulative draw counts over ``sorted_values``),
    in the floating-point steps of ``np.quantile``'s default linear method."""
    n = int(cum_counts[0, -1])
    virtual = (n - 1) * q
    j = int(np.floor(virtual))
    ks = [min(j, n - 1), min(j + 1, n - 1)]
    # the k-th smallest (0-based) drawn value: the first firm whose cumulative count exceeds k
    at = np.array([np.searchsorted(row, ks, side="right") for row in cum_counts])
    a, b = sorted_values[at[:, 0]], sorted_values[at[:, 1]]
    gamma = virtual - j
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def experience_repurchase_ratio(ctx: dict) -> dict:
    """Repurchase rate of the best third of firms on customer experience over the worst third (times)."""
    _need(ctx, fields=("repurchase_pct",), factors=("CX",))
    d = ctx["data"]
    top, bottom = _tercile_groups(ctx["scores"]["CX"])
    return _boot_ratio(
        d["repurchase_pct"].astype(float), top, bottom, ctx["n_boot"], ctx["seed"], lambda r: r, ctx["alpha"]
    )


def _latent_joint(ctx: dict) -> dict:
    """The construct-level joint model (2S-PA, the full second-order model) of the claims' data, fitted once
    and shared by the claims that compare constructs (C03, the factor tiers)."""
    if "latent_joint" not in ctx:
        from cbec.stats.latent import latent_interaction_model
        from cbec.stats.measurement import factor_blocks
        from cbec.study.chapters.base import latent_options

        inst = ctx["instrument"]
        ctx["latent_joint"] = latent_interaction_model(
            ctx["data"],
            factor_blocks(inst),
            inst.performance_item_ids,
            ctx["controls"],
            level=1 - ctx["alpha"],
            seed=ctx["seed"],
            **latent_options(inst),
        )
    return ctx["latent_joint"]


def coupling_rank_mi_sc(ctx: dict) -> dict:
    """MI x SC's coupling of the constructs (2S-PA, :func:`cbec.stats.latent.latent_interaction_model`: the
    full second-order model corrected for measurement error), with its rank among the pairs, its simultaneous
    rank confidence set (Mogstad et al. 2024, descriptive here) and the intersection–union test of the
    pre-specified claim that it exceeds every other pair (:func:`cbec.stats.ranks.ordered_comparisons`), which
    decides the verdict.

    The claim is about constructs, so it is judged on them: a product of two mean scores is attenuated by both
    scores' unreliability, and comparing such products across pairs ranks the reliable pairs first. Measured
    (``unequal_reliability`` world, MI x SC and TP x RC planted equal, TP and RC measured less reliably; 25
    samples of 5,000 firms): on mean scores the claim 'matches' in 92% of samples, on the constructs in none;
    where reliabilities are equal the two agree (shipped world: 19% / 21% at 600 firms, 87% / 85% at 2,000)."""
    from cbec.stats.ranks import ordered_comparisons

    _need(ctx, factors=("MI", "SC"))
    lat = _latent_joint(ctx)
    t = lat["table"].set_index("term")
    r = t.loc[C03_PAIR]
    iut = ordered_comparisons(
        t["estimate"], lat["cov"], [C03_PAIR], [n for n in t.index if n != C03_PAIR], ctx["alpha"]
    )
    return {
        **_wald(float(r["estimate"]), float(r["std_error"])),
        "rank": int(r["rank"]),
        "rank_low": int(r["rank_low"]),
        "rank_high": int(r["rank_high"]),
        "iut_verdict": iut["verdict"],
        "p_iut": iut["p_iut"],
        "p_reverse": iut["p_reverse"],
    }


#: The article's ranking of the factors (its conclusions): the core engine, the growth levers, the foundations.
FACTOR_TIERS = {"core": ("MI", "SC"), "growth": ("CX", "MK"), "foundation": ("TP", "RC", "TO")}


def factor_tiers(ctx: dict) -> dict:
    """Main effects of the seven constructs in the construct-level joint model (2S-PA: all 21 products, the
    squares and the controls held fixed), ranked with simultaneous rank confidence sets; the estimate is the
    mean core main effect minus the mean foundation main effect. On constructs for the reason given in
    :func:`coupling_rank_mi_sc`: a mean score's slope shrinks with its reliability, so comparing slopes across
    factors would favour the better-measured ones."""
    _need(ctx, factors=tuple(f for fs in FACTOR_TIERS.values() for f in fs))
    from cbec.stats.ranks import ordered_comparisons, rank_confidence_sets

    lat = _latent_joint(ctx)
    est, cov = lat["main"], lat["main_cov"]
    sets = rank_confidence_sets(est, cov, n_draws=2000, seed=ctx["seed"])
    core, found = FACTOR_TIERS["core"], FACTOR_TIERS["foundation"]
    weights = pd.Series(0.0, index=est.index)
    weights[list(core)] = 1 / len(core)
    weights[list(found)] = -1 / len(found)
    iut = ordered_comparisons(est, cov, list(core), list(found), ctx["alpha"])
    return {
        **_wald(float(weights @ est), float(np.sqrt(weights @ cov @ weights))),
        "iut_verdict": iut["verdict"],
        "p_iut": iut["p_iut"],
        "p_reverse": iut["p_reverse"],
        "ranks": "; ".join(
            f"{k} {int(r['rank'])} [{int(r['rank_low'])}–{int(r['rank_high'])}]" for k, r in sets.iterrows()
        ),
    }


def _size_slope(ctx: dict, measure: str, term: str, sign: int) -> dict:
    t = groups.balance_focus_by_size(ctx["profile"], ctx["y"], ctx["sme"], ctx["controls"]).set_index(
        ["measure", "term"]
    )
    r = t.loc[(measure, term)]
    z = float(r["estimate"]) / float(r["std_error"])
    return {
        "estimate": r["estimate"],
        "ci_low": r["ci_low"],
        "ci_high": r["ci_high"],
        "p_predicted": float(stats.norm.sf(sign * z)),
        "p_opposite": float(stats.norm.cdf(sign * z)),
    }


def spread_slope_large(ctx: dict) -> dict:
    """Large firms: slope of performance on factor spread (level and level² held fixed); the article's
    'balance' reading predicts a negative slope."""
    return _size_slope(ctx, "spread", "slope_large", -1)


def focus_slope_sme(ctx: dict) -> dict:
    """SMEs: slope of performance on focus, the lead of the top two factors (level and level² held fixed);
    the article's 'focus' reading predicts a positive slope."""
    return _size_slope(ctx, "focus", "slope_sme", +1)


def stage_fit(ctx: dict) -> dict:
    """Performance per SD of stage fit (advised factors' lead over the others), profile and controls fixed."""
    missing = groups.stage_test_missing(ctx["data"], ctx["indices"])
    if missing:
        raise NotTestable(f"this questionnaire lacks {missing}")
    fit = groups.stage_fit(ctx["indices"], ctx["data"]["stage"])
    t = groups.stage_fit_model(
        fit, ctx["profile"], ctx["y"], ctx["controls"], sme=ctx["sme"], scores=ctx["scores"]
    ).iloc[0]
    z = float(t["estimate"]) / float(t["std_error"])
    return {
        "estimate": t["estimate"],
        "ci_low": t["ci_low"],
        "ci_high": t["ci_high"],
        "p_predicted": float(stats.norm.sf(z)),
        "p_opposite": float(stats.norm.cdf(z)),
    }


ESTIMATORS: dict[str, Callable[[dict], dict]] = {
    f.__name__: f
    for f in (
        margin_per_inventory_day,
        niche_margin_gap,
        flexible_cycle_reduction,
        experience_repurchase_ratio,
        coupling_rank_mi_sc,
        spread_slope_large,
        focus_slope_sme,
        stage_fit,
        factor_tiers,
    )
}


def _direction_verdicts(out: pd.DataFrame, alpha: float) -> pd.Series:
    """Direction-only claims: one-sided tests in the predicted direction, Holm across all of them."""
    d = out["p_predicted"].notna()
    verdict = pd.Series(pd.NA, index=out.index, dtype="object")
    if d.any():
        p_for = models.holm(out.loc[d, "p_predicted"])
        p_against = models.holm(out.loc[d, "p_opposite"])
        verdict[d] = np.where(p_for < alpha, "matches", np.where(p_against < alpha, "differs", "inconclusive"))
        out.loc[d, "p_holm"] = p_for
    return verdict


def _article_value(r: pd.Series) -> str:
    if pd.notna(r["value_low"]) and pd.notna(r["value_high"]):
        return f"{r['value_low']:g}–{r['value_high']:g}"
    if pd.notna(r["value"]):
        return f"{r['value']:g}"
    return {"coupling_rank_mi_sc": "strongest pair", "factor_tiers": "core > growth > foundation"}.get(
        r["estimator"], "direction"
    )


def claims_context(
    data: pd.DataFrame, inst: Instrument, n_boot: int = 999, seed: int = 2026, alpha: float = 0.05
) -> dict:
    """What every estimator reads: the data, the instrument, the model inputs, the profile measures, the SME
    indicator and the bootstrap settings (clean data: reverse items recoded)."""
    a = models.prepare(data, inst)
    return {
        "data": data,
        "instrument": inst,
        "scores": a.scores,
        "indices": a.indices,
        "y": a.y,
        "controls": a.controls,
        "profile": groups.balance_focus(a.indices),
        "sme": groups.group_dummy(data, "size"),
        "n_boot": n_boot,
        "seed": seed,
        "alpha": alpha,
    }


def estimate_claims(
    data: pd.DataFrame, inst: Instrument, claims: pd.DataFrame, alpha: float = 0.05, n_boot: int = 999, seed: int = 2026
) -> pd.DataFrame:
    """Run the estimator of every testable claim on clean survey data and apply the stated verdict rules.

    Rules (the methods chapter states them before any result): a numeric claim *matches* when our 95%
    interval lies inside its tolerance band (register columns ``band_low``/``band_high``, reason in
    ``band_reason``), *differs* when it lies outside, else *inconclusive*; a claim with a second reading of
    its wording is judged under both (``verdict_alt``); direction-only claims use one-sided tests with Holm
    across all of them; the pre-specified orderings (the strongest coupling, the factor tiers) use the
    intersection–union test of :func:`cbec.stats.ranks.ordered_comparisons`; a compound claim
    (``part_of``) holds only when every part holds.

    Returns one row per testable claim and one per compound claim: ``claim_id, section, statement,
    article_value, unit, estimate, ci_low, ci_high, band_low, band_high, verdict`` and, where they apply,
    ``verdict_alt, p_holm, rank, rank_low, rank_high, part_of``.
    """
    ctx = claims_context(data, inst, n_boot, seed, alpha)
    rows, untested = [], []
    for _, r in claims[claims["testable"] == "yes"].iterrows():
        try:
            res = ESTIMATORS[r["estimator"]](ctx)
        except NotTestable as exc:
            untested.append({"claim_id": r["claim_id"], "statement": r["statement"], "reason": str(exc)})
            continue
        row = {
            "claim_id": r["claim_id"],
            "section": r["section"],
            "statement": r["statement"],
            "article_value": _article_value(r),
            "unit": r["unit"],
            "band_low": r["band_low"],
            "band_high": r["band_high"],
            "part_of": r["part_of"] or pd.NA,
            **res,
        }
        if pd.notna(r["band_low"]):
            row["verdict"] = band_verdict(res["ci_low"], res["ci_high"], r["band_low"], r["band_high"])
        if pd.notna(r["band_alt_low"]):
            row["verdict_alt"] = band_verdict(res["ci_low"], res["ci_high"], r["band_alt_low"], r["band_alt_high"])
        if r["estimator"] in ("coupling_rank_mi_sc", "factor_tiers"):
            # pre-specified orderings: the intersection-union test decides (matches: every comparison holds at
            # alpha; differs: a Holm-significant reversal; else inconclusive)
            row["verdict"] = res.pop("iut_verdict")
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("p_predicted", "p_opposite", "p_holm", "verdict", "verdict_alt"):
        if col not in out.columns:
            out[col] = pd.NA
    direction = _direction_verdicts(out, alpha)
    out["verdict"] = out["verdict"].where(out["verdict"].notna(), direction)
    out = pd.concat([out, _compound_rows(out, claims)], ignore_index=True)
    out = out.drop(columns=["p_predicted", "p_opposite"])
    out.attrs["not_testable"] = pd.DataFrame(untested, columns=["claim_id", "statement", "reason"])
    return out


def _compound_rows(tested: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for cid, parts in tested.dropna(subset=["part_of"]).groupby("part_of"):
        r = claims.set_index("claim_id").loc[cid]
        v = (
            "matches"
            if (parts["verdict"] == "matches").all()
            else "differs"
            if (parts["verdict"] == "differs").any()
            else "inconclusive"
        )
        rows.append(
            {
                "claim_id": cid,
                "section": r["section"],
                "statement": r["statement"],
                "article_value": "all parts: " + ", ".join(parts["claim_id"]),
                "unit": r["unit"],
                "verdict": v,
            }
        )
    return pd.DataFrame(rows)
