"""Chapter 8: the same model in PLS-SEM, beside regression on mean scores and the construct-level estimates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec.stats import measurement as ms
from cbec.stats import models
from cbec.stats.latent import latent_interaction_model, latent_main_effects, normal_scores
from cbec.stats.pls import htmt_bootstrap, micom, pls_bootstrap, pls_mga, pls_predict, pls_sem, structural_quality
from cbec.stats.ranks import rank_confidence_sets
from cbec.stats.regression import fit_ols
from cbec.study.chapters.base import ChapterResult, RunConfig, latent_options, load_study

#: PLSpredict's fold assignments; each firm's predictions are averaged over them (seminr's ``reps``)
PREDICT_REPS = 5


def pls_chapter(cfg: RunConfig) -> ChapterResult:
    """Main effects by regression, PLS and PLSc; the size groups by MICOM, MGA and a regression with size
    interactions; the 21 couplings by regression on mean scores, by the PLS two-stage approach, by the
    construct-level (2S-PA) model and by PLS product indicators, each with its rank confidence sets."""
    st = load_study(cfg)
    a, inst, clean = st.analysis, st.instrument, st.clean
    r = ChapterResult("pls")
    factors = list(ms.factor_blocks(inst))
    blocks = {**ms.factor_blocks(inst), "PERF": inst.performance_item_ids}
    structure = {"PERF": factors}
    pls = pls_sem(clean, blocks, structure)
    plsc = pls_sem(clean, blocks, structure, consistent=True)
    boot = pls_bootstrap(clean, blocks, structure, n_boot=max(cfg.n_boot, 999), seed=cfg.seed, level=1 - cfg.alpha)
    boot = boot.table.set_index("source")
    z = models.standardise(a.scores)
    reg = fit_ols(a.y, z)
    main = pd.DataFrame(
        {
            "factor": factors,
            "regression_mean_scores": [float(reg.params[f]) for f in factors],
            "pls": [float(pls.paths.loc[f, "PERF"]) for f in factors],
            "pls_bca_low": [float(boot.loc[f, "bca_low"]) for f in factors],
            "pls_bca_high": [float(boot.loc[f, "bca_high"]) for f in factors],
            "plsc": [float(plsc.paths.loc[f, "PERF"]) for f in factors],
            "rho_a": [float(plsc.rho_a[f]) for f in factors],
        }
    )
    quality = structural_quality(clean, blocks, structure).set_index("source")
    main["f2"] = [float(quality.loc[f, "f2"]) for f in factors]
    main["vif"] = [float(quality.loc[f, "vif"]) for f in factors]
    r.table(
        "main_effects", main, "Main effects on performance: regression on mean scores, PLS (bootstrap BCa) and PLSc"
    )
    r.value(
        pls_r2=float(pls.r2.loc["Rsq", "PERF"]),
        plsc_r2=float(plsc.r2.loc["Rsq", "PERF"]),
        reg_r2=float(reg.rsquared),
        pls_n_boot=int(max(cfg.n_boot, 999)),
    )
    hb = htmt_bootstrap(clean, blocks, n_boot=max(cfg.n_boot, 999), seed=cfg.seed, level=1 - cfg.alpha)
    r.table("htmt", hb, "HTMT of every pair of constructs with percentile bootstrap intervals")
    pred = pls_predict(clean, blocks, structure, folds=10, seed=cfg.seed, reps=PREDICT_REPS)
    r.table("predict", pred, "PLSpredict: out-of-sample errors of PLS and of the linear benchmark, Q² against the mean")
    r.value(
        pls_htmt_max_high=float(hb["ci_high"].max()),
        pls_predict_beats=int((pred["rmse_pls"] < pred["rmse_lm"]).sum()),
        pls_predict_items=len(pred),
        pls_predict_reps=PREDICT_REPS,
    )
    _size_groups(r, st, blocks, structure, cfg)
    couplings = _couplings(pls, a, st, cfg, factors)
    couplings = _product_indicator_section(r, couplings, _product_indicator_couplings(clean, blocks, factors, cfg), cfg)
    r.table("headline_pair", _headline_pair(clean, blocks, factors, couplings), "The article's pair in PLS, three ways")
    top = {m: couplings.sort_values(m, ascending=False).iloc[0] for m in ("regression", "pls_two_stage", "latent_2spa")}
    r.value(
        **{f"pls_top_{m}": f"{t['factor_a']} × {t['factor_b']}" for m, t in top.items()},
        pls_same_top="the same pair"
        if len({f"{t['factor_a']}{t['factor_b']}" for t in top.values()}) == 1
        else "different pairs",
    )
    return r


def _product_indicator_section(r: ChapterResult, couplings: pd.DataFrame, pi: pd.DataFrame, cfg: RunConfig):
    """The product-indicator column of the couplings table, its own table, the estimator figure and the numbers
    the text quotes; returns the couplings with the new columns."""
    terms = [f"{p}x{q}" for p, q in zip(couplings["factor_a"], couplings["factor_b"], strict=True)]
    couplings = couplings.assign(
        pls_product_indicator=pi.loc[terms, "estimate"].to_numpy(), pi_rank_set=pi.loc[terms, "rank_set"].to_numpy()
    )
    r.table("couplings", couplings, "The 21 couplings under four estimators, with rank sets", save=True)
    r.table("product_indicators", pi.reset_index(), "Product-indicator couplings: one PLS model per pair, bootstrap")
    r.figure(
        "estimators",
        "estimator_comparison",
        couplings,
        alt="The 21 factor pairs, each with four markers: its coupling by regression on mean scores, by the PLS "
        "two-stage approach, on the constructs (2S-PA) and by PLS product indicators; regression and two-stage PLS "
        "nearly coincide, 2S-PA spreads wider, and the product-indicator estimates of most pairs sit far from zero.",
    )
    top = pi.sort_values("estimate", ascending=False).iloc[0]
    first, rest = terms[0], couplings.iloc[1:]  # regression's first pair (couplings come sorted by it); the others
    r.value(
        pls_pi_top=f"{top['factor_a']} × {top['factor_b']}",
        pls_pi_top_rank_set=str(top["rank_set"]),
        pls_pi_wide=int((pi["rank_high"] - pi["rank_low"] >= len(pi) // 2).sum()),
        pls_pi_rest_abs=float(rest["pls_product_indicator"].abs().median()),
        pls_reg_rest_abs=float(rest["regression"].abs().median()),
        pls_pi_se_ratio=float(pi["boot_se"].drop(index=first).median() / pi.loc[first, "boot_se"]),
        pls_pi_n_boot=_pi_boot(cfg),
    )
    return couplings


def _pi_boot(cfg: RunConfig) -> int:
    """Resamples for each product-indicator model: the run's ``n_boot``, like every other bootstrap of the book
    (it was half of it while kernels started per chapter; warm kernels made the room, #28)."""
    return cfg.n_boot


def _product_indicator_couplings(clean: pd.DataFrame, blocks, factors: list[str], cfg: RunConfig) -> pd.DataFrame:
    """Each pair's coupling by product indicators (seminr's ``product_indicator``, mode A), one PLS model per pair
    (the seven factors and that one interaction), with bootstrap SE and percentile interval, and rank sets from
    the joint bootstrap covariance: every model is resampled with the same firms (same seed, same sample), so
    the 21 columns of draws are joint draws.

    Why one model per pair: a model with all 21 interactions has every pair's item products (about 800
    indicators with six items a factor), out of reach of a resampled correlation matrix; a single interaction
    per model is also how PLS users run it. Resamples: the run's ``n_boot`` (999 by default); with six items a
    factor each model has 82 indicators and costs about a second per thousand resamples."""
    rows, draws = {}, {}
    for p, q in models.pair_list(factors):
        name = f"{p}*{q}"
        fit = pls_bootstrap(clean, blocks, {"PERF": [*factors, name]}, n_boot=_pi_boot(cfg), seed=cfg.seed,
                            level=1 - cfg.alpha, interactions=((p, q),), bca=False)  # fmt: skip
        table, d = fit.table, fit.draws
        rows[f"{p}x{q}"] = table.set_index("source").loc[name, ["estimate", "boot_se", "ci_low", "ci_high"]]
        draws[f"{p}x{q}"] = d[f"{name} -> PERF"].to_numpy()
    out = pd.DataFrame(rows).T.astype(float)
    cov = pd.DataFrame(draws).cov()
    sets = rank_confidence_sets(out["estimate"], cov.to_numpy(), coverage=1 - cfg.alpha, seed=cfg.seed)
    out["rank_low"], out["rank_high"] = sets["rank_low"].astype(int), sets["rank_high"].astype(int)
    out["rank_set"] = [f"{lo}–{hi}" for lo, hi in zip(out["rank_low"], out["rank_high"], strict=True)]
    pairs = dict(zip((f"{p}x{q}" for p, q in models.pair_list(factors)), models.pair_list(factors), strict=True))
    out.insert(0, "factor_b", [pairs[t][1] for t in out.index])
    out.insert(0, "factor_a", [pairs[t][0] for t in out.index])
    out.index.name = "term"
    return out.sort_values("estimate", ascending=False)


def _headline_pair(clean: pd.DataFrame, blocks, factors: list[str], couplings: pd.DataFrame) -> pd.DataFrame:
    """MI x SC as seminr would estimate it: product indicators, and two stages inside the PLS model (both per
    unit of the raw product, seminr's convention), beside the joint two-stage regression of this chapter."""
    a, b = ("MI", "SC") if {"MI", "SC"} <= set(factors) else (factors[0], factors[1])
    name = f"{a}*{b}"
    paths = {"PERF": [*factors, name]}
    rows = []
    for method in ("product_indicator", "two_stage"):
        res = pls_sem(clean, blocks, paths, interactions=((a, b),), interaction_method=method)
        rows.append({"method": method.replace("_", " "), "estimate": float(res.paths.loc[name, "PERF"])})
    joint = couplings[(couplings["factor_a"] == a) & (couplings["factor_b"] == b)]["pls_two_stage"].iloc[0]
    rows.append({"method": "two stage, all 21 products in one regression", "estimate": float(joint)})
    return pd.DataFrame(rows).assign(pair=f"{a} × {b}")[["pair", "method", "estimate"]]


def _size_groups(r: ChapterResult, st, blocks, structure, cfg: RunConfig) -> None:
    """Large firms and SMEs the PLS way: MICOM first, then permutation multi-group analysis of the paths."""
    clean = st.clean
    if "size_class" not in clean.columns or clean["size_class"].nunique() != 2:
        r.table("micom", pd.DataFrame(columns=["construct"]), "No size groups in this survey", save=False)
        r.table("mga", pd.DataFrame(columns=["source"]), "No size groups in this survey", save=False)
        r.value(
            pls_micom_sentence="The survey does not hold two size groups, so MICOM and MGA are not run",
            pls_size_sentence="Without two size groups there is nothing to compare",
        )
        return
    m = micom(clean, blocks, structure, clean["size_class"], n_perm=1000, seed=cfg.seed, alpha=cfg.alpha)
    r.table("micom", m, "MICOM by size: compositional invariance, equal composite means and variances")
    g = pls_mga(clean, blocks, structure, clean["size_class"], n_perm=1000, seed=cfg.seed)
    g["p_holm"] = models.holm(g["p_value"])
    g = g.merge(_size_regression(st.analysis, clean["size_class"], list(g["source"])), on="source")
    g = g.merge(_size_latent(st, clean["size_class"], cfg), on="source")
    r.table(
        "mga",
        g,
        "The paths of large firms and SMEs: PLS permutation multi-group analysis, the regression on mean scores "
        "with a size interaction, and the construct-level (2S-PA) model in each group (Holm across paths in each)",
    )
    comp = m[~m["compositional"]]["construct"].tolist()
    n_mga, n_reg = int((g["p_holm"] < cfg.alpha).sum()), int((g["reg_p_holm"] < cfg.alpha).sum())
    n_lat = int((g["lat_p_holm"] < cfg.alpha).sum())
    signs = np.sign(g[["difference", "reg_difference", "lat_difference"]])
    same = int(signs.nunique(axis=1).eq(1).sum())
    r.value(
        pls_micom_sentence=(
            "Compositional invariance holds for every construct, so the paths of the two groups may be compared"
            if not comp
            else f"Compositional invariance fails for {', '.join(comp)}: their paths are not compared across groups"
        )
        + f"; the number of path differences significant after Holm's adjustment is {n_mga} of {len(g)}",
        pls_size_sentence=(
            f"The three methods agree on the direction of {same} of the {len(g)} differences; the number "
            f"significant after Holm is {n_reg} by regression, {n_lat} on the constructs and {n_mga} by MGA"
        ),
    )


def _size_regression(a, size: pd.Series, factors: list[str]) -> pd.DataFrame:
    """The size comparison of the main effects by regression on mean scores: performance on the standardised
    factor scores, a size dummy and each factor times the dummy (HC3), so each difference is one coefficient;
    the groups' own slopes are the reference slope and that slope plus the difference."""
    known = size.loc[a.scores.index].notna()  # firms without a size class are left out, as pls_mga leaves them
    z = models.standardise(a.scores.loc[known, factors])
    levels = sorted(size.dropna().astype(str).unique())
    focal = (size.loc[z.index].astype(str) == levels[0]).astype(float)  # the first level, as pls_mga orders them
    x = pd.concat([z, focal.rename("G"), z.mul(focal, axis=0).add_suffix("xG")], axis=1)
    res = fit_ols(a.y.loc[z.index], x)
    out = pd.DataFrame(
        {
            "source": factors,
            f"reg_{levels[0]}": [float(res.params[f] + res.params[f"{f}xG"]) for f in factors],
            f"reg_{levels[1]}": [float(res.params[f]) for f in factors],
            "reg_difference": [float(res.params[f"{f}xG"]) for f in factors],
            "reg_p_value": [float(res.pvalues[f"{f}xG"]) for f in factors],
        }
    )
    out["reg_p_holm"] = models.holm(out["reg_p_value"])
    return out


def _size_latent(st, size: pd.Series, cfg: RunConfig) -> pd.DataFrame:
    """The size comparison of the main effects on the constructs: the 2S-PA main-effects model (as MGA compares
    the main-effects model) fitted in each group, each group's measurement model its own and its factors
    standardised within it, as PLS's group models are; differences tested as independent-sample z-tests."""
    from scipy import stats

    levels = sorted(size.dropna().astype(str).unique())
    inst = st.instrument
    items = [i for b in ms.factor_blocks(inst).values() for i in b] + list(inst.performance_item_ids)
    # Rating-scale answers become normal scores once, on the whole sample, so both groups share one set of
    # thresholds and a difference between groups is not a difference in how their categories are filled.
    data = st.clean if inst.continuous else st.clean.assign(**normal_scores(st.clean[items]))
    fits = []
    for level in levels:
        rows = data[size.loc[data.index].astype(str) == level]
        fits.append(
            latent_main_effects(rows, ms.factor_blocks(inst), inst.performance_item_ids, models.control_matrix(rows),
                                reversed_items=latent_options(inst)["reversed_items"])
        )  # fmt: skip
    diff = fits[0]["estimate"] - fits[1]["estimate"]
    se = np.sqrt(fits[0]["std_error"] ** 2 + fits[1]["std_error"] ** 2)
    out = pd.DataFrame(
        {
            "source": fits[0].index,
            f"lat_{levels[0]}": fits[0]["estimate"],
            f"lat_{levels[1]}": fits[1]["estimate"],
            "lat_difference": diff,
            "lat_p_value": 2 * stats.norm.sf(np.abs(diff / se)),
        }
    ).reset_index(drop=True)
    out["lat_p_holm"] = models.holm(out["lat_p_value"])
    return out


def _joint_rank_sets(scores: pd.DataFrame, y: pd.Series, controls: pd.DataFrame, cfg: RunConfig) -> pd.DataFrame:
    """The joint model of all 21 products (HC3) and the simultaneous rank sets of their coefficients, by term."""
    res = fit_ols(y, models.joint_design(scores, controls.loc[scores.index]))
    names = [f"{p}x{q}" for p, q in models.pair_list(scores.columns)]
    est = res.params[names]
    sets = rank_confidence_sets(est, res.cov_params().loc[names, names], coverage=1 - cfg.alpha, seed=cfg.seed)
    return pd.DataFrame({"estimate": est, "rank_low": sets["rank_low"], "rank_high": sets["rank_high"]})


def _couplings(pls, a, st, cfg: RunConfig, factors: list[str]) -> pd.DataFrame:
    """The 21 couplings by regression on mean scores, by the two-stage approach of PLS users (Henseler & Chin
    2010, seminr's ``two_stage``: the stage-one PLS construct scores, standardised, and their products in one
    regression of the performance score) and on the constructs (2S-PA), each with its rank sets."""
    obs_t = _joint_rank_sets(a.scores, a.y, a.controls, cfg)
    scores = pls.scores.loc[a.y.index]
    perf = (scores["PERF"] - scores["PERF"].mean()) / scores["PERF"].std(ddof=1)
    two = _joint_rank_sets(scores[factors], perf, a.controls, cfg)
    lat = latent_interaction_model(
        st.clean,
        ms.factor_blocks(st.instrument),
        st.instrument.performance_item_ids,
        a.controls,
        level=1 - cfg.alpha,
        seed=cfg.seed,
        **latent_options(st.instrument),
    )["table"].set_index("term")
    rows = []
    for p, q in models.pair_list(factors):
        t = f"{p}x{q}"
        rows.append(
            {
                "factor_a": p,
                "factor_b": q,
                "regression": obs_t.loc[t, "estimate"],
                "regression_rank_set": f"{int(obs_t.loc[t, 'rank_low'])}–{int(obs_t.loc[t, 'rank_high'])}",
                "pls_two_stage": two.loc[t, "estimate"],
                "pls_rank_set": f"{int(two.loc[t, 'rank_low'])}–{int(two.loc[t, 'rank_high'])}",
                "latent_2spa": lat.loc[t, "estimate"],
                "latent_rank_set": f"{int(lat.loc[t, 'rank_low'])}–{int(lat.loc[t, 'rank_high'])}",
            }
        )
    out = pd.DataFrame(rows)
    return out.sort_values("regression", ascending=False).reset_index(drop=True)
