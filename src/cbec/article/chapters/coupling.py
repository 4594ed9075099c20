"""Chapter 3: which couplings go with performance, and how sure is the ranking?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec.article import power
from cbec.io.validate import load_ground_truth
from cbec.stats import coupling as cpl
from cbec.stats import measurement as ms
from cbec.stats import models
from cbec.study.chapters.base import ChapterResult, RunConfig, format_p, latent_options, level_text, load_study

RANK_COLUMNS = ["factor_a", "factor_b", "estimate", "rank", "p_first", "rank_low", "rank_high"]


def coupling_chapter(cfg: RunConfig) -> ChapterResult:
    """Rank inference in the joint model first; then the three readings of coupling for all pairs, the
    increment over main effects, the top pair probed, the response-surface fit pattern, power and the
    normalisation check."""
    st = load_study(cfg)
    a, inst = st.analysis, st.instrument
    r = ChapterResult("coupling")
    ranks = models.joint_rank_inference(
        a.scores, a.y, a.controls, n_boot=cfg.n_boot, seed=cfg.seed, coverage=1 - cfg.alpha
    )
    _rank_section(r, ranks)
    _latent_section(r, ranks, st, cfg)
    _objective_outcomes_section(r, st, cfg)
    _method_variance_section(r, ranks, st, cfg)
    pairs = models.fit_all_pairs(
        a.indices,
        a.scores,
        a.y,
        a.controls,
        n_boot=cfg.n_boot,
        seed=cfg.seed,
        points=inst.likert_points,
        level=1 - cfg.alpha,
    )
    _methods_section(r, pairs, a, inst, cfg)
    _probe_section(r, ranks, a, inst, cfg)
    # The simulator encodes the article's seven factors, so power is simulated for the shipped questionnaire's
    # design whatever instrument the run uses (the chapter says so).
    with power.dask_client(cfg.dask_scheduler) as client:
        curve = power.power_curve(reps=cfg.power_reps, alpha=cfg.alpha, seed=cfg.seed, client=client)
    _power_section(r, curve, len(st.clean), cfg)
    pa, pb = _headline_pair(a.scores)
    k = a.scores.shape[1]
    r.value(c_pairs=k * (k - 1) // 2, c_level=level_text(cfg.alpha), c_head=f"{pa} × {pb}")
    r.table(
        "normalisation_sensitivity",
        models.normalisation_sensitivity(a.scores, a.y, a.controls, ms.NORMALISATION_RULES, inst.likert_points, pa, pb),
        f"Where {pa} × {pb} lands under each normalisation rule (D models conditional on the pair's main effects)",
    )
    if cfg.simulated:
        truth = load_ground_truth(cfg.ground_truth_path)
        planted = ", ".join(f"{k.replace('*', ' × ')} (γ = {v:.2f})" for k, v in truth["couplings"].items())
        r.notes["truth"] = (
            f"**Against the truth.** The simulation planted these couplings on the latent factors: "
            f"{planted}; every other pair has none. Observed-score estimates are smaller than the "
            "planted values because measurement error attenuates products of scores."
        )
    return r


def _headline_pair(scores: pd.DataFrame) -> tuple[str, str]:
    """The article's pair (MI × SC) when the instrument has both factors, else the instrument's first pair."""
    codes = list(scores.columns)
    return ("MI", "SC") if {"MI", "SC"} <= set(codes) else (codes[0], codes[1])


def _rank_section(r: ChapterResult, ri: models.RankInference) -> None:
    t = ri.table.sort_values(["rank", "estimate"], ascending=[True, False])
    r.table(
        "rank_inference",
        t[
            RANK_COLUMNS
            + [
                "std_error",
                "ci_low",
                "ci_high",
                "p_value",
                "p_holm",
                "boot_rank_low",
                "boot_rank_median",
                "boot_rank_high",
                "delta_r2",
                "cohen_f2",
            ]
        ],
        f"The {len(t)} couplings of the joint model ranked, with simultaneous rank confidence sets",
        columns=RANK_COLUMNS + ["p_holm", "delta_r2", "cohen_f2"],
    )
    v = ri.verdict
    top = t.iloc[0]
    r.value(
        c_verdict=v["text"],
        c_top=v["top_pair"],
        c_established="is" if v["established"] else "is not",
        c_top_est=top["estimate"],
        c_top_lo=top["ci_low"],
        c_top_hi=top["ci_high"],
        c_top_p_first=top["p_first"],
        c_top_rank_low=int(top["rank_low"]),
        c_top_rank_high=int(top["rank_high"]),
        c_runner=v["runner_up"].replace("x", " × ", 1),
        c_gap=v["gap"],
        c_gap_lo=v["gap_ci_low"],
        c_gap_hi=v["gap_ci_high"],
        c_coverage=ri.coverage,
        c_top_f2=top["cohen_f2"],
        c_top_dr2=top["delta_r2"],
    )
    r.figure(
        "rank_sets",
        "rank_sets_plot",
        t,
        ri.coverage,
        alt=f"Each of the {len(t)} factor pairs with its estimated rank (dot) and its simultaneous "
        f"{ri.coverage:.0%} rank "
        "confidence set (bar); a bar reaching from rank 1 to a lower rank means the ranking is uncertain.",
    )
    r.figure(
        "forest",
        "ranked_forest",
        t,
        ri.coverage,
        alt=f"The {len(t)} coupling coefficients of the joint model with {ri.coverage:.0%} intervals, largest first.",
    )


def _latent_section(r: ChapterResult, ri: models.RankInference, st, cfg: RunConfig) -> None:
    """The joint model for the constructs (2S-PA) beside the observed-score joint model."""
    from cbec.stats.latent import latent_interaction_model

    a, inst = st.analysis, st.instrument
    lat = latent_interaction_model(
        st.clean,
        ms.factor_blocks(inst),
        inst.performance_item_ids,
        a.controls,
        level=1 - cfg.alpha,
        seed=cfg.seed,
        **latent_options(inst),
    )
    t = lat["table"]
    columns = ["factor_a", "factor_b", "method", "estimate", "std_error", "ci_low", "ci_high", "p_value", "p_holm",
               "rank", "rank_low", "rank_high"]  # fmt: skip
    r.table("latent", t[columns], "Couplings of the constructs (2S-PA, corrected for measurement error)", save=True)
    obs = ri.table.set_index(["factor_a", "factor_b"])
    side = t.set_index(["factor_a", "factor_b"])
    both = _observed_beside_latent(obs, side)
    r.table(
        "observed_vs_latent",
        both,
        f"The {len(both)} couplings on observed scores and on the constructs, ranked by the latent estimate",
        save=False,
    )
    verdict = models.rank_verdict(t)
    rel = lat["reliability"].drop("PERF")
    top = t.sort_values("estimate", ascending=False).iloc[0]
    shrink = (obs["estimate"].abs().sum() / side["estimate"].abs().sum()) if side["estimate"].abs().sum() else 1.0
    r.value(
        c_latent_verdict=verdict["text"],
        c_latent_top=verdict["top_pair"],
        c_latent_top_est=top["estimate"],
        c_latent_top_lo=top["ci_low"],
        c_latent_top_hi=top["ci_high"],
        c_latent_same_top="the same pair" if verdict["top_pair"] == ri.verdict["top_pair"] else "a different pair",
        c_rel_min=float(rel.min()),
        c_rel_max=float(rel.max()),
        c_shrink=float(shrink),
    )
    _calibration_quotes(r)


def _observed_beside_latent(obs: pd.DataFrame, side: pd.DataFrame) -> pd.DataFrame:
    """Each pair's observed-score and construct-level estimate, rank and rank set, by the latent rank."""

    def rank_set(t: pd.DataFrame) -> list[str]:
        return [f"{lo}–{hi}" for lo, hi in zip(t["rank_low"], t["rank_high"], strict=True)]

    return (
        pd.DataFrame(
            {
                "observed": obs["estimate"],
                "observed_rank": obs["rank"],
                "observed_rank_set": rank_set(obs),
                "latent": side["estimate"],
                "latent_ci_low": side["ci_low"],
                "latent_ci_high": side["ci_high"],
                "latent_rank": side["rank"],
                "latent_rank_set": rank_set(side),
            }
        )
        .reset_index()
        .sort_values("latent_rank")
    )


def _off(pct: float) -> str:
    return "within 1% of" if abs(pct) < 1 else f"{abs(pct):.0f}% {'below' if pct < 0 else 'above'}"


def _calibration_quotes(r: ChapterResult) -> None:
    """What the calibration appendix measured for this chapter's rules at the book's sample size in the
    book's world (the committed record of ``make calibrate``; nothing is re-measured here)."""
    from cbec.article.calibrate import NO_RECORD, load_calibration, rule_figures

    f = rule_figures(load_calibration(), "shipped")
    if f is None:
        r.value(c_cal_sentence=NO_RECORD)
        return
    pair = f["pair"].replace("x", " × ")
    r.value(
        c_cal_sentence=(
            f"In the calibration study ({f['reps']} simulated surveys of {f['n']:,} firms from the book's world; "
            f"appendix E) the joint model on scores found the planted {pair} coupling of {f['planted']:.2f} SD "
            f"in {100 * f['observed_found']:.0f}% of samples, the construct-level model in "
            f"{100 * f['latent_found']:.0f}%, and the pre-specified test put it above every other pair in "
            f"{100 * f['iut_found']:.0f}%; some pair with nothing planted was significant in "
            f"{100 * f['observed_false']:.0f}% (scores) and {100 * f['latent_false']:.0f}% (constructs) of "
            f"samples. The construct-level estimate was {_off(f['latent_bias_pct'])} the value it estimates, and "
            f"its intervals covered that value in {100 * f['latent_coverage']:.0f}% of samples."
        )
    )


def rsa_bounds_text() -> str:
    """The congruence rule's equivalence bounds in words, from :data:`cbec.stats.models.RSA_EQUIVALENCE`."""
    b = models.RSA_EQUIVALENCE
    level = f"±{b['a1'][1]:g}" if b["a1"] == b["a2"] else f"±{b['a1'][1]:g} and ±{b['a2'][1]:g}"
    return (  # plain text: glued text is not parsed as Markdown
        f"p₁₀ within ±{b['p10'][1]:g} scale points of 0, p₁₁ between {b['p11'][0]:.2g} and {b['p11'][1]:.2g}, "
        f"the ridge's shift −a₃ / (2a₄) within ±{b['shift'][1]:g} scale points, a₁ and a₂ within {level} SD of "
        "the outcome per scale point"
    )


def rsa_calibration_sentence() -> str:
    """How often the response-surface rule said *congruence* in the calibration study, where no world plants
    one (the committed record; nothing is re-measured here)."""
    from cbec.article.calibrate import NO_RECORD, load_calibration

    rec = load_calibration()
    if not rec:
        return NO_RECORD
    n = rec["meta"]["sample_sizes"][0]
    rows = [r for r in rec["rows"] if r["rule"] == "rsa_verdict" and r["n"] == n]
    if not rows:
        return ""
    lo, hi = (f(r["share_congruence"] for r in rows) for f in (min, max))
    return (
        f"No simulated world plants a congruence surface; in the calibration study (appendix E, "
        f"{rec['meta']['reps']} surveys of {n:,} firms in each of {len(rows)} worlds) this rule called the probed "
        f"pair a congruence in {_share_range(lo, hi)} of samples, against a nominal {rec['meta']['alpha']:.0%} at most."
    )


def _share_range(lo: float, hi: float) -> str:
    return f"{100 * lo:.0f}%" if round(100 * lo) == round(100 * hi) else f"{100 * lo:.0f}–{100 * hi:.0f}%"


#: Outcomes the survey measures in numbers, besides the perceived-performance scale.
OBJECTIVE_OUTCOMES = {"revenue_growth_pct": "revenue growth", "net_margin_pct": "net margin"}


def _objective_outcomes_section(r: ChapterResult, st, cfg: RunConfig) -> None:
    """The joint model again with each objective outcome in place of perceived performance: a coupling
    *survives* a change of outcome when its interval excludes zero with the same sign under that outcome."""
    a, clean = st.analysis, st.clean
    outcomes = {"perceived performance": a.y}
    for col, label in OBJECTIVE_OUTCOMES.items():
        if col in clean.columns and clean[col].notna().sum() >= 30:
            v = clean[col].astype(float)
            outcomes[label] = (v - v.mean()) / v.std(ddof=1)
    rows = []
    for label, y in outcomes.items():
        keep = y.notna()
        t = models.joint_interaction_model(a.scores[keep], y[keep], a.controls[keep], level=1 - cfg.alpha)
        rows.append(t.assign(outcome=label, n=int(keep.sum())))
    long = pd.concat(rows, ignore_index=True)[
        ["outcome", "n", "factor_a", "factor_b", "estimate", "ci_low", "ci_high", "p_value", "p_holm", "rank"]
    ]
    r.table("objective_outcomes", long, "The joint coupling model with each outcome (standardised)", save=True)
    base = long[long["outcome"] == "perceived performance"].set_index(["factor_a", "factor_b"])
    wide = []
    for (fa, fb), row in base.sort_values("rank").head(6).iterrows():
        entry = {"factor_a": fa, "factor_b": fb, "perceived performance": row["estimate"]}
        for label in outcomes:
            if label == "perceived performance":
                continue
            o = long[(long["outcome"] == label) & (long["factor_a"] == fa) & (long["factor_b"] == fb)].iloc[0]
            entry[label] = o["estimate"]
            entry[f"{label} survives"] = bool(
                np.sign(o["estimate"]) == np.sign(row["estimate"]) and (o["ci_low"] > 0 or o["ci_high"] < 0)
            )
        wide.append(entry)
    r.table(
        "objective_outcomes_top",
        pd.DataFrame(wide),
        "The six largest couplings of perceived performance under the objective outcomes",
        save=False,
    )
    n_obj = len(outcomes) - 1
    r.value(c_n_objective=n_obj)


def _method_variance_section(r: ChapterResult, ri: models.RankInference, st, cfg: RunConfig) -> None:
    """The marker item: Lindell–Whitney-adjusted correlations and the joint model with the marker partialled out."""
    from cbec.stats.method_variance import lindell_whitney, marker_partialled_joint_model

    a, clean, inst = st.analysis, st.clean, st.instrument
    marker = inst.marker_id
    if not marker or marker not in clean.columns or clean[marker].notna().sum() < 30:
        r.value(c_marker_sentence="This questionnaire has no marker item, so the marker checks are not run.")
        r.table("marker_correlations", pd.DataFrame(columns=["factor"]), "No marker item", save=False)
        r.table("marker_corrected_top", pd.DataFrame(columns=["factor_a"]), "No marker item", save=False)
        return
    lw, r_m = lindell_whitney(a.scores, a.y, clean[marker])
    r.table(
        "marker_correlations", lw, "Each factor's correlation with performance, before and after the marker adjustment"
    )
    part = marker_partialled_joint_model(a.scores, a.y, a.controls, clean[marker], level=1 - cfg.alpha)
    plain = ri.table.set_index(["factor_a", "factor_b"])
    part = part.set_index(["factor_a", "factor_b"])
    both = pd.DataFrame(
        {
            "estimate": plain["estimate"],
            "estimate_marker_partialled": part["estimate"],
            "ci_low": part["ci_low"],
            "ci_high": part["ci_high"],
            "p_holm": part["p_holm"],
            "rank": part["rank"],
        }
    ).reset_index()
    r.table(
        "marker_corrected", both, "The joint model's couplings with the marker partialled out of scores and outcome"
    )
    r.table(
        "marker_corrected_top",
        both.sort_values("estimate", ascending=False).head(6),
        "The six largest couplings with and without the marker partialled out",
        save=False,
    )
    r.value(
        c_marker_sentence=(
            f"The marker's smallest positive correlation with the factors and performance is {r_m:.3f}; "
            f"after the adjustment the factors' correlations with performance change by at most "
            f"{(lw['r_unadjusted'] - lw['r_adjusted']).abs().max():.3f}, and partialling the marker out "
            f"moves the couplings of the joint model by at most "
            f"{(both['estimate'] - both['estimate_marker_partialled']).abs().max():.3f}."
        )
    )


def _methods_section(r: ChapterResult, pairs: pd.DataFrame, a, inst, cfg: RunConfig) -> None:
    r.table(
        "pairs",
        pairs.drop(columns=[c for c in pairs.columns if c == "contrast"]),
        "Every pair under every method (download for the full table)",
        save=True,
        columns=["method", "rank", "factor_a", "factor_b", "estimate", "ci_low", "ci_high", "p_holm"],
    )
    joint = pairs[pairs["method"] == "interaction_joint"]
    r.figure(
        "heatmap",
        "pair_estimate_heatmap",
        joint,
        inst.factor_codes,
        "Coupling coefficients in the joint model (rows: second factor)",
        alt=f"Lower-triangle heatmap of the {len(joint)} coupling coefficients; red cells are positive, blue negative.",
    )

    pa, pb = _headline_pair(a.scores)

    def row(method):
        g = pairs[(pairs["method"] == method) & (pairs["factor_a"] == pa) & (pairs["factor_b"] == pb)]
        return g.iloc[0]

    for m, key in [("interaction", "i"), ("coordination_D", "d"), ("coordination_D_revised", "dr"), ("rsa_a4", "r")]:
        x = row(m)
        r.value(**{f"c_{key}_est": x["estimate"], f"c_{key}_rank": int(x["rank"]), f"c_{key}_p": format_p(x["p_holm"])})
    n_i = int((pairs[pairs["method"] == "interaction"]["p_holm"] < cfg.alpha).sum())
    n_j = int((joint["p_holm"] < cfg.alpha).sum())
    r.value(
        c_n_holm_i=n_i,
        c_n_holm_j=n_j,
        c_alpha=cfg.alpha,
        c_nboot=cfg.n_boot,
        c_vif=pairs.loc[pairs["method"] == "interaction", "vif_max"].max(),
    )
    _d_section(r, a, cfg)
    _increment_section(r, a)


def _d_section(r: ChapterResult, a, cfg: RunConfig) -> None:
    """The revised D of each pair with and without the pair's two main effects."""
    side = models.coordination_unconditional(a.indices, a.scores, a.y, a.controls)
    r.table(
        "d_conditional_vs_unconditional",
        side,
        "Revised D of each pair without and with the pair's two main effects",
        columns=["factor_a", "factor_b", "estimate_unconditional", "p_holm_unconditional", "rank_unconditional",
                 "estimate_conditional", "p_holm_conditional", "rank_conditional"],
    )  # fmt: skip
    r.value(
        c_d_sig_uncond=int((side["p_holm_unconditional"] < cfg.alpha).sum()),
        c_d_sig_cond=int((side["p_holm_conditional"] < cfg.alpha).sum()),
    )


def _increment_section(r: ChapterResult, a) -> None:
    """The main-effects baseline and what each addition to it explains, quoted by step name."""
    inc = models.baseline_and_increment(a.scores, a.y, a.controls, cpl.system_indices(a.indices)["D"])
    r.table("baseline", inc["baseline"], "Main effects of the seven factors (standardised, HC3)")
    cmp = inc["comparison"]
    r.table("increment", cmp, "What each addition to the main-effects model explains",
            columns=[c for c in cmp.columns if c != "step"])  # fmt: skip
    c = cmp.set_index("step")
    r.value(
        c_r2_base=c.loc["main_effects", "r2"],
        **{
            f"c_{key}": fmt(c.loc[step, col])
            for step, short in (("level_sq", "level"), ("system_D", "d"), ("squares", "sq"), ("products", "all"))
            for key, col, fmt in ((f"dr2_{short}", "delta_r2", float), (f"p_{short}", "p_value", format_p))
        },
    )


def _probe_section(r: ChapterResult, ri: models.RankInference, a, inst, cfg: RunConfig) -> None:
    top = ri.table.sort_values("estimate", ascending=False).iloc[0]
    ta, tb = top["factor_a"], top["factor_b"]
    slopes = models.simple_slopes(a.scores, a.y, a.controls, ta, tb, level=1 - cfg.alpha)
    r.table("simple_slopes", slopes, f"Slope of {ta} at three levels of {tb} (joint model)")
    r.figure(
        "slopes",
        "simple_slopes_plot",
        slopes,
        ta,
        tb,
        alt=f"Three lines: predicted performance against {ta} when {tb} is low, average or high.",
    )
    jn = models.johnson_neyman(a.scores, a.y, a.controls, ta, tb, level=1 - cfg.alpha)
    centred = a.scores - (inst.likert_points + 1) / 2
    rsa, verdict = models.rsa_fit_pattern(
        a.y, centred, ta, tb, a.controls, n_boot=cfg.n_boot, seed=cfg.seed, level=1 - cfg.alpha
    )
    r.table("rsa_fit_pattern", rsa, f"Response-surface parameters of {ta} and {tb} with bootstrap intervals")
    r.figure(
        "surface",
        "response_surface",
        models.rsa_surface(a.y, centred, ta, tb, a.controls),
        ta,
        tb,
        alt=f"Contour map of predicted performance over {ta} and {tb}, with the lines of congruence and incongruence.",
    )
    p = rsa.set_index("parameter")["estimate"]
    r.value(
        c_ta=ta,
        c_tb=tb,
        c_jn=jn["text"],
        c_rsa_verdict=verdict["verdict"],
        c_rsa_bounds=rsa_bounds_text(),
        c_rsa_cal=rsa_calibration_sentence(),
        c_rsa_a1=p["a1"],
        c_rsa_a2=p["a2"],
        c_rsa_a3=p["a3"],
        c_rsa_a4=p["a4"],
        c_rsa_p11=p["p11"],
        c_rsa_p10=p["p10"],
    )


def _power_section(r: ChapterResult, curve: pd.DataFrame, n_clean: int, cfg: RunConfig) -> None:
    r.table("power", curve, "Simulated power of the joint model (mc_se: Monte Carlo standard error)")
    r.figure(
        "power",
        "power_curves",
        curve,
        alt="Power against sample size, one line per planted coupling strength; a dotted line at 80%.",
    )
    p600 = curve[curve["n"] == 600].set_index("gamma")["power_holm"]
    v600 = curve[curve["n"] == 600].set_index("gamma")["power_verdict"]
    need = power.firms_needed(curve, 0.15)
    r.value(
        c_power_reps=cfg.power_reps,
        c_pow_600_15=p600.get(0.15, float("nan")),
        c_pow_600_20=p600.get(0.20, float("nan")),
        c_verdict_600_20=v600.get(0.20, float("nan")),
        c_n_clean=n_clean,
        c_need_15=(
            f"more than {int(curve['n'].max())} firms (the largest size simulated)"
            if need != need
            else f"about {int(need)} firms"
        ),
    )
