"""Size paths, the claims register and the case profiles."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cbec.article import cases, groups
from cbec.article.claims import (
    ESTIMATORS,
    ClaimsError,
    claims_context,
    coupling_rank_mi_sc,
    estimate_claims,
    load_claims,
)
from cbec.article.simulate import SimulationConfig, simulate_survey
from cbec.io.validate import recode_reverse, validate_frame
from cbec.stats import models

SEVEN = ["MI", "SC", "MK", "TP", "RC", "CX", "TO"]


def _prepared(inst, **cfg):
    df, _ = simulate_survey(SimulationConfig(dirt=False, **cfg), inst)
    df = recode_reverse(df, inst)
    a = models.prepare(df, inst)
    return df, a.scores, a.indices, a.y, a.controls


def _size_difference_detected(inst, seed, delta):
    df, _, U, y, X = _prepared(inst, n=600, seed=seed, delta_balance_large=delta, delta_focus_sme=delta)
    t = groups.balance_focus_by_size(groups.balance_focus(U), y, groups.group_dummy(df, "size"), X)
    r = t.set_index(["measure", "term"]).loc[("spread", "difference_sme_minus_large")]
    return r["p_value"] < 0.05


@pytest.mark.slow
def test_real_size_difference_is_detected(inst):
    # Shipped size paths (0.5 per unit): measured detection 90% over 40 seeds when written. With a true
    # rate of 0.9, fewer than 30 of 40 happens with probability < 1%.
    hits = sum(_size_difference_detected(inst, 3000 + s, 0.5) for s in range(40))
    assert hits >= 30


@pytest.mark.slow
def test_absent_size_difference_is_found_at_the_nominal_rate(inst):
    # No size paths: a two-sided 5% test. Over 100 seeds more than 10 rejections has probability < 2.5%.
    rejections = sum(_size_difference_detected(inst, 4000 + s, 0.0) for s in range(100))
    assert rejections <= 10


def test_balance_focus_by_hand():
    U = pd.DataFrame([[0.5] * 7, [0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1]], columns=list("ABCDEFG"))
    p = groups.balance_focus(U)
    assert p.loc[0, "spread"] == 0 and p.loc[0, "focus"] == 0
    assert p.loc[1, "focus"] == pytest.approx(0.8)
    assert p.loc[1, "level"] == pytest.approx((1.8 + 0.5) / 7)


def test_stage_fit_by_hand():
    cols = ["MI", "SC", "MK", "TP", "RC", "CX", "TO"]
    U = pd.DataFrame([[0.8, 0.2, 0.2, 0.2, 0.8, 0.2, 0.2], [0.8, 0.2, 0.2, 0.2, 0.8, 0.2, 0.2]], columns=cols)
    fit = groups.stage_fit(U, pd.Series(["start", "mature"]))
    assert fit[0] == pytest.approx(0.8 - 0.2)  # start: MI and RC advised, and they lead
    assert fit[1] == pytest.approx(0.2 - (0.8 + 0.2 + 0.2 + 0.8) / 4)  # mature: TP, CX, TO advised, they lag


def test_group_difference_is_focal_minus_reference(inst):
    df, scores, _, y, X = _prepared(inst, n=400, seed=5)
    t = groups.group_coupling_difference(scores, y, X, groups.group_dummy(df, "business_model"), n_boot=50)
    assert len(t) == 21
    # The difference is the group-by-product coefficient of one pooled model: refitting that model by hand with
    # statsmodels on the same design (the full second-order model, squares and their group differences in) gives
    # the same number (a dropped interaction, a dropped square or a swapped group would not).
    import statsmodels.formula.api as smf

    z = models.standardise(scores)
    g = groups.group_dummy(df, "business_model")
    d = z.assign(prod=z["MI"] * z["SC"], g=g, y=y)
    for a, b in models.pair_list(scores.columns):
        if (a, b) != ("MI", "SC"):
            d[f"{a}x{b}"] = z[a] * z[b]
    others = " + ".join(f"{a}x{b} + {a}x{b}:g" for a, b in models.pair_list(scores.columns) if (a, b) != ("MI", "SC"))
    mains = " + ".join(f"{f} + {f}:g + I({f}**2) + I({f}**2):g" for f in scores.columns)
    ctrl = X.drop(columns=[c for c in X.columns if c.startswith("business_model")])
    d = pd.concat([d, ctrl], axis=1)
    formula = f"y ~ {mains} + prod + prod:g + {others} + g + " + " + ".join(f"Q('{c}')" for c in ctrl.columns)
    by_hand = smf.ols(formula, data=d).fit(cov_type="HC3")
    row = t[(t["factor_a"] == "MI") & (t["factor_b"] == "SC")].iloc[0]
    assert row["difference"] == pytest.approx(by_hand.params["prod:g"], abs=1e-10)
    assert row["std_error"] == pytest.approx(by_hand.bse["prod:g"], rel=1e-8)
    assert (t["p_holm"] >= t["p_value"]).all()
    assert (t["boot_ci_low"] < t["boot_ci_high"]).all()


def test_claims_register_loads_with_sections_and_estimators():
    # (ids, sections and kinds are enforced by load_claims itself: see test_malformed_register_is_rejected)
    reg = load_claims()
    testable = reg[reg["testable"] == "yes"]
    assert set(testable["estimator"]) == set(ESTIMATORS), "every estimator serves a claim, every claim has one"
    assert len(reg) >= 90


def test_every_testable_claim_maps_to_an_estimate_and_a_stated_verdict(inst, small_survey):
    df, _ = small_survey
    clean = validate_frame(df, inst).clean
    reg = load_claims()
    out = estimate_claims(clean, inst, reg, n_boot=99)
    tested = out[out["part_of"].notna() | ~out["claim_id"].isin(reg.loc[reg["testable"] == "no", "claim_id"])]
    assert list(tested["claim_id"]) == list(reg.loc[reg["testable"] == "yes", "claim_id"])
    assert np.isfinite(tested[["estimate", "ci_low", "ci_high"]].to_numpy(float)).all()
    assert (tested["ci_low"] <= tested["estimate"]).all() and (tested["estimate"] <= tested["ci_high"]).all()
    assert set(out["verdict"]) <= {"matches", "differs", "inconclusive"} and out["verdict"].notna().all()
    # the compound claim is judged from its parts and appears once
    compound = out.set_index("claim_id").loc["C78"]
    parts = out[out["part_of"] == "C78"]["verdict"]
    expected = "matches" if (parts == "matches").all() else "differs" if (parts == "differs").any() else "inconclusive"
    assert compound["verdict"] == expected


def test_band_rule_rewards_precision_not_vagueness():
    from cbec.article.claims import band_verdict

    # a precise 2.2x [2.04, 2.38] matches "doubles"; a vaguer interval around the same estimate does not
    assert band_verdict(2.04, 2.38, 1.5, 2.5) == "matches"
    assert band_verdict(1.0, 3.4, 1.5, 2.5) == "inconclusive"
    assert band_verdict(2.6, 3.1, 1.5, 2.5) == "differs"
    assert band_verdict(1.5, 2.5, 1.5, 2.5) == "matches"  # the band's edges belong to it


def test_planted_claims_are_recovered(inst, shipped_sample):
    # The simulation plants -0.5 pp margin per inventory day and a 15 pp niche premium; with the factor
    # levels held fixed the intervals must cover them.
    clean = shipped_sample[2]
    out = estimate_claims(clean, inst, load_claims(), n_boot=99).set_index("claim_id")
    assert out.loc["C25", "ci_low"] <= 0.5 <= out.loc["C25", "ci_high"]
    assert out.loc["C13", "ci_low"] <= 15 <= out.loc["C13", "ci_high"]


def test_malformed_register_is_rejected(tmp_path):
    reg = load_claims()
    bad = reg.copy()
    bad.loc[0, "estimator"] = "no_such_estimator"
    bad.loc[0, "testable"] = "yes"
    path = tmp_path / "claims.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ClaimsError, match="unknown estimator"):
        load_claims(path)
    bad = reg.copy()
    bad.loc[3, "section"] = " "
    bad.to_csv(path, index=False)
    with pytest.raises(ClaimsError, match="no source section"):
        load_claims(path)


def test_cases_cite_only_their_own_claims_and_scores_follow_the_rubric():
    reg = load_claims()
    data = cases.load_cases(claims=reg)
    sc = cases.factor_scores(data)
    assert len(sc) == 14 and sorted(set(sc["factor"])) == sorted(SEVEN)
    assert [cases.rubric_score(p, o) for p, o in [(2, 1), (1, 1), (3, 0), (1, 0), (0, 0)]] == [7, 6, 6, 5, 4]
    # The coded cases as the article supports them (issue 18: 鸿博铭创's compliance practices make RC 7;
    # CARTMAN's positioning has one quantified practice, hence 6): a coding change must show up here.
    piv = sc.pivot(index="factor", columns="firm_id", values="score")
    assert piv["hongbo"].to_dict() == dict.fromkeys(SEVEN, 7)
    assert piv["cartman"].to_dict() == {**dict.fromkeys(SEVEN, 7), "MI": 6}


def test_cases_reject_a_claim_about_another_firm(tmp_path):
    import yaml

    raw = yaml.safe_load(cases.CASES_YAML.read_text(encoding="utf-8"))
    raw["firms"][0]["factors"]["MI"]["claims"] = ["C12"]  # a 鸿博铭创 fact cited for CARTMAN
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(cases.CasesError, match="claims about other firms"):
        cases.load_cases(path, claims=load_claims())


def _ctx(inst, **cfg):
    from cbec.article import claims as cl

    df, _ = simulate_survey(SimulationConfig(**{"n": 600, "dirt": False, **cfg}), inst)
    return cl, cl.claims_context(recode_reverse(df, inst), inst, n_boot=99, seed=1)


@pytest.mark.slow
def test_stage_claim_rarely_matches_when_no_stage_effect_exists(inst):
    """No stage effect is planted in the simulator. With the three direction claims tested together (Holm),
    the stage claim is "matches" in at most 5 of 100 seeds (measured when written: 4 of 100; before the factors
    and their products were held fixed in the stage model: 10)."""
    matched = 0
    for s in range(100):
        cl, ctx = _ctx(inst, seed=3000 + s)
        rows = pd.DataFrame([cl.spread_slope_large(ctx), cl.focus_slope_sme(ctx), cl.stage_fit(ctx)])
        matched += cl._direction_verdicts(rows, 0.05).iloc[2] == "matches"
    assert matched <= 5, matched


@pytest.mark.slow
def test_margin_claim_matches_when_planted_at_the_article_value(inst):
    """The simulator plants -0.5 pp of margin per inventory day (the article's half point): the claim
    'matches' its band [0.25, 0.75] in at least 80 of 100 seeds."""
    reg = load_claims().set_index("claim_id").loc["C25"]
    hits = 0
    for s in range(100):
        cl, ctx = _ctx(inst, seed=4000 + s)
        r = cl.margin_per_inventory_day(ctx)
        hits += cl.band_verdict(r["ci_low"], r["ci_high"], reg["band_low"], reg["band_high"]) == "matches"
    assert hits >= 80, hits


def test_tiers_match_when_the_core_clearly_leads(inst):
    """Main effects planted 0.5 on the core pair and 0 on the foundations, 1 200 firms: every core-over-foundation
    comparison holds (intersection-union test), so the claim matches; planted the other way round, it differs."""
    main = {"MI": 0.5, "SC": 0.5, "MK": 0.2, "CX": 0.2, "TP": 0.0, "RC": 0.0, "TO": 0.0}
    cl, ctx = _ctx(inst, seed=77, n=1200, couplings={}, main_effects=main)
    res = cl.factor_tiers(ctx)
    assert res["iut_verdict"] == "matches", res["ranks"]
    flipped = {"MI": 0.0, "SC": 0.0, "MK": 0.2, "CX": 0.2, "TP": 0.5, "RC": 0.5, "TO": 0.5}
    cl, ctx = _ctx(inst, seed=78, n=1200, couplings={}, main_effects=flipped)
    assert cl.factor_tiers(ctx)["iut_verdict"] == "differs"


@pytest.mark.slow
def test_tiers_compare_constructs_not_reliabilities(inst):
    """Every factor has the same main effect, but the foundation factors' items load only .50-.60: their mean
    scores are less reliable, so their slopes shrink. Fresh seeds, 25 samples of 5,000 firms. Measured when
    written: on mean scores the tiers claim 'matches' in 10/10 samples of 20,000 firms (a tie called a
    ranking); on the constructs the seven main effects average 0.189-0.193 and the claim never matches."""
    import numpy as np

    from cbec.article import claims as cl
    from cbec.article.power import world_frame
    from cbec.article.simulate import draw_latent_world

    cfg = SimulationConfig(
        n=5000, dirt=False, couplings={}, main_effects=dict.fromkeys(inst.factor_codes, 0.3),
        loading_by_factor={f: [0.5, 0.6] for f in cl.FACTOR_TIERS["foundation"]},
        delta_balance_large=0.0, delta_focus_sme=0.0,
    )  # fmt: skip
    world = draw_latent_world(cfg, inst, np.random.default_rng(24601), reps=25)
    said = [
        cl.factor_tiers(cl.claims_context(recode_reverse(world_frame(world, r, inst), inst), inst, n_boot=0, seed=r))
        for r in range(25)
    ]
    verdicts = pd.Series([s["iut_verdict"] for s in said]).value_counts(normalize=True)
    assert verdicts.get("matches", 0) <= 0.10, verdicts
    assert abs(np.mean([s["estimate"] for s in said])) < 0.02  # core minus foundation: no gap on the constructs


#: Facts of the article's lines (no sentence): line, hash, whether it holds a digit and a figure with a unit, and
#: its figures. Made from the article by scripts/build_article_digest.py; tests read nothing outside the repo.
ARTICLE_DIGEST = Path(__file__).resolve().parent / "fixtures" / "article_line_digest.csv"


def test_register_holds_every_numeric_statement_of_the_article():
    """The list kept beside the register names every article line that holds a digit: a statement (with the
    register rows recording it), a heading, a caption or the date. Each row's figure is on its line; every
    statement line is recorded; headings hold no figure; conflicting rows point at each other."""
    from cbec.resources import resource

    digest = pd.read_csv(ARTICLE_DIGEST, dtype=str, keep_default_na=False).set_index("line")
    listed = pd.read_csv(resource("claims_article_lines.csv"), dtype=str, keep_default_na=False).set_index("line")
    with_digits = set(digest.index[digest["has_digit"] == "True"])
    assert with_digits == set(listed.index), sorted(with_digits ^ set(listed.index), key=int)
    reg = load_claims().set_index("claim_id")
    recorded: dict[str, set] = {}
    for line, row in listed.iterrows():
        ids = row["claims"].split()
        if row["kind"] != "statement":
            assert not ids and digest.loc[line, "unit_figure"] == "False", line
            continue
        assert ids, f"statement line {line} records no claim"
        for cid in ids:
            assert cid in reg.index, (line, cid)
            recorded.setdefault(cid, set()).add(line)
    for cid, r in reg.iterrows():
        assert r["source_line"] in digest.index, f"{cid}: line {r['source_line']} is not in the article digest"
        figures = digest.loc[r["source_line"], "figures"]
        if r["source_line"] not in listed.index:  # no digit on the line: no figure (C03), or one in words (翻倍)
            assert pd.isna(r["value"]) or (r["article_figure"] and r["article_figure"] in figures.split()), cid
            continue
        assert r["source_line"] in recorded.get(cid, set()), f"{cid}: its line {r['source_line']} does not list it"
        if pd.notna(r["value"]):
            if r["article_figure"]:
                forms = [r["article_figure"]]
            elif pd.notna(r["value_low"]) and pd.notna(r["value_high"]):  # a range: both ends on the line
                forms = [f"{r['value_low']:g}", f"{r['value_high']:g}"]
            else:
                forms = [f"{abs(r['value']):g}"]
            assert all(f in figures for f in forms), (cid, r["source_line"], forms)
    pairs = reg[reg["conflicts_with"] != ""]["conflicts_with"]
    for a, b in pairs.items():
        assert pairs.get(b) == a, f"{a} and {b} must name each other"


def _iut_verdicts(inst, scenario: str, n: int, reps: int, seed: int) -> pd.Series:
    """C03's verdict by the claims register's own estimator (:func:`cbec.article.claims.coupling_rank_mi_sc`)
    in ``reps`` simulated surveys of ``n`` firms: the shares of each verdict."""
    from cbec.article.power import world_frame
    from cbec.article.simulate import draw_latent_world, scenario_config

    world = draw_latent_world(scenario_config(scenario, n=n, dirt=False), inst, np.random.default_rng(seed), reps=reps)
    out = []
    for r in range(reps):
        ctx = claims_context(recode_reverse(world_frame(world, r, inst), inst), inst, n_boot=0, seed=r)
        out.append(coupling_rank_mi_sc(ctx)["iut_verdict"])
    return pd.Series(out).value_counts(normalize=True)


@pytest.mark.slow
def test_strongest_coupling_claim_has_power_both_ways_and_reads_the_constructs(inst):
    """C03 is a pre-specified question about constructs, judged by the intersection-union test on the
    construct-level joint model. Fresh seeds. Planted true (the shipped world: MI × SC 0.20, MK × CX 0.06) it
    matches in at least half of the samples of 2,000 firms; planted false (hidden_coupling: MI × SC 0, TP × RC
    0.20) it differs in at least half and matches in almost none; where MI × SC ties with TP × RC but TP and RC
    are measured less reliably (unequal_reliability), it must not take the better-measured pair for the stronger
    one. Measured when written (these seeds): true at 2,000 firms matches 0.85 (60 samples); false at 2,000
    differs 0.98 and matches 0; the tie at 5,000 firms matches 0/25 on the constructs where the same test on
    mean scores matched 23/25. Short of the target at 600 firms: true matches about 0.2 there (0.12-0.25 on
    other seeds, on scores or constructs) — MI × SC must beat all 20 other pairs one-sidedly, with standard
    errors of about 0.045; the calibration appendix states the figure."""
    true_2000 = _iut_verdicts(inst, "shipped", 2000, 60, 24101)
    true_600 = _iut_verdicts(inst, "shipped", 600, 60, 24103)
    false_2000 = _iut_verdicts(inst, "hidden_coupling", 2000, 60, 24102)
    tie_5000 = _iut_verdicts(inst, "unequal_reliability", 5000, 25, 24104)
    assert true_2000.get("matches", 0) >= 0.5, true_2000
    assert true_600.get("differs", 0) <= 0.05, true_600  # underpowered, but never the wrong way
    assert false_2000.get("differs", 0) >= 0.5 and false_2000.get("matches", 0) <= 0.05, false_2000
    assert tie_5000.get("matches", 0) <= 0.10, tie_5000


@pytest.mark.slow
def test_cycle_claim_is_judged_on_the_construct(inst):
    """C14 planted exactly true (60% shorter cycles for the construct's top third: beta = -0.42, see
    cbec.article.planted.planted_cycle_reduction). Fresh seeds, 20 samples at each size. Thirds of a two-item
    score converge to about 51%, so the uncorrected rule said 'differs' or 'inconclusive'; the corrected
    estimator must say 'differs' in at most 10% at 600 firms and 'matches' in at least half at 2,000 (measured
    on other seeds when the alpha correction was written: 0/30 differs at 600; 16/30 matches at 2,000)."""
    from cbec.article.planted import C14_TRUE_BETA, planted_cycle_reduction

    assert planted_cycle_reduction(C14_TRUE_BETA) == pytest.approx(60.2, abs=0.1)
    reg = load_claims().set_index("claim_id").loc["C14"]
    verdicts = {600: [], 2000: []}
    for n, base in ((600, 24401), (2000, 24501)):
        for s in range(20):
            cl, ctx = _ctx(inst, seed=base + s, n=n, cycle_log_effect_sc=C14_TRUE_BETA)
            ctx["n_boot"] = 199
            r = cl.flexible_cycle_reduction(ctx)
            verdicts[n].append(cl.band_verdict(r["ci_low"], r["ci_high"], reg["band_low"], reg["band_high"]))
            assert r["estimate_observed_thirds"] < r["estimate"]  # the correction works against attenuation
    assert verdicts[600].count("differs") <= 2, verdicts[600]
    assert verdicts[2000].count("matches") >= 10, verdicts[2000]


@pytest.mark.parametrize("scenario", ["null_method", "realistic"])
def test_cycle_claim_holds_under_acquiescence_and_skew(inst, scenario):
    """The C14 estimator in the worlds where Cronbach's alpha misleads: strong acquiescence (alpha counts it as
    true variance; the alpha-corrected thirds of the two flexible-production items averaged 42% against a
    planted 60.2%) and skewed, item-specific categories with mild acquiescence (55.6%). With the latent first
    stage's score and reliability the mean of 3 samples of 2,000 firms must be within 2.5 points (measured when
    written on other seeds: 60.6 and 60.7)."""
    from cbec.article import claims as cl
    from cbec.article.planted import C14_TRUE_BETA, planted_cycle_reduction
    from cbec.article.simulate import scenario_config

    est = []
    for s in range(3):
        cfg = scenario_config(scenario, n=2000, seed=24601 + s, dirt=False, cycle_log_effect_sc=C14_TRUE_BETA)
        df, _ = simulate_survey(cfg, inst)
        ctx = cl.claims_context(recode_reverse(df, inst), inst, n_boot=99, seed=1)
        est.append(cl.flexible_cycle_reduction(ctx)["estimate"])
    assert np.mean(est) == pytest.approx(planted_cycle_reduction(C14_TRUE_BETA), abs=2.5), est


@pytest.mark.parametrize(("n", "ties"), [(7, True), (37, True), (600, True), (600, False), (2000, False)], ids=str)
def test_resampled_thirds_equal_the_resamples_formed(n, ties):
    """C14's bootstrap reads each resample from its draw counts over the firms sorted by score; every draw must
    equal the thirds of the resample formed and sorted (np.quantile), ties in the score included (a mean of
    three answers has many): the cut points in numpy's floating-point steps, a tied firm on the cut in its
    third."""
    from cbec.article import claims as cl

    rng = np.random.default_rng(n)
    score = rng.normal(size=n)
    if ties:
        score = np.round(score * 3) / 3  # means of three 1-5 answers tie often
    cycle = np.exp(2.5 + 0.3 * rng.normal(size=n) - 0.2 * score)
    idx = np.random.default_rng(5).integers(0, n, (999, n))
    formed = cl._corrected_tercile_reduction(score[idx], cycle[idx], 0.8)
    drawn = cl._resampled_tercile_reductions(score, cycle, 0.8, np.random.default_rng(5), 999)
    np.testing.assert_allclose(drawn, formed, rtol=0, atol=1e-9)


def test_cycles_of_the_same_firms_share_one_bootstrap_and_get_each_its_own_answer():
    # the calibration judges C14 on two order cycles of every sample: one bootstrap for both must give each
    # exactly what its own bootstrap gives, and cycles missing for different firms are bootstrapped apart
    from cbec.article import claims as cl

    rng = np.random.default_rng(11)
    idx = pd.RangeIndex(400)
    score = pd.Series(np.round(rng.normal(size=400) * 3) / 3, index=idx)
    observed = score + pd.Series(rng.normal(scale=0.5, size=400), index=idx)
    cycles = {b: pd.Series(np.exp(2.5 + 0.3 * rng.normal(size=400) + b * score), index=idx) for b in (-0.2, -0.5)}
    ctx = {"alpha": 0.05, "seed": 3, "n_boot": 499}
    together = cl.cycle_reductions(cycles, score, 0.8, observed, ctx)
    for b, cycle in cycles.items():
        assert together[b] == cl.cycle_reduction(cycle, score, 0.8, observed, ctx)
    assert together[-0.2]["estimate"] != together[-0.5]["estimate"]
    gappy = {**cycles, -0.5: cycles[-0.5].where(idx % 7 != 0)}
    apart = cl.cycle_reductions(gappy, score, 0.8, observed, ctx)
    assert apart[-0.2] == together[-0.2]
    assert apart[-0.5] == cl.cycle_reduction(gappy[-0.5], score, 0.8, observed, ctx) != together[-0.5]
