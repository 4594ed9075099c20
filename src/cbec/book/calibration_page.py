"""The calibration appendix: the book's verdict rules on every simulated world, from the committed record
that ``make calibrate`` writes (:mod:`cbec.article.calibrate`). Building the book does not re-measure."""

from __future__ import annotations

import pandas as pd

from cbec.article.calibration_record import c03_truth, targets_missed

__all__ = ["calibration_page"]

#: The scenarios in words (what each world is for; the simulated-data chapter has the details).
SCENARIO_WORDS = {
    "shipped": "the article's hypotheses in clean measurement (the book's data)",
    "realistic": "the same hypotheses measured as real surveys are: skewed, item-specific thresholds, "
    "acquiescence, weaker reverse-worded items",
    "hidden_coupling": "the coupling sits on two weak factors while two strong ones have none",
    "null_method": "nothing couples; strong acquiescence reaches every answer",
    "unequal_reliability": "two equal couplings, one pair measured well and one poorly",
    "noninvariant_item": "one item reads higher in large firms at the same factor level",
}


def _world(name: str) -> str:
    """A scenario's name in the tables ("hidden coupling"); its code (`hidden_coupling`) is in the list above them."""
    return name.replace("_", " ")


def _pct(x: float) -> str:
    return "—" if pd.isna(x) else f"{100 * x:.0f}%"


def _signed(x: float) -> str:
    if pd.isna(x):
        return "—"
    return "0%" if round(x) == 0 else f"{x:+.0f}%".replace("-", "−")


def _timing(meta: dict) -> str:
    if "seconds" not in meta:
        return ""
    return f" ({meta['seconds']:.0f} s on {meta['workers']} worker process(es))"


def _latent_table(rows: pd.DataFrame) -> list[str]:
    lat = rows[rows["rule"] == "latent_2spa"]
    out = [
        "| world | firms | pair | planted | model's value | mean estimate | bias vs planted | bias vs model's "
        "value | covers planted | covers model's value | SD / SE | significant |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in lat.itertuples():
        out.append(
            f"| {_world(r.scenario)} | {r.n:,} | {r.pair.replace('x', ' × ')} | {r.planted:.3f} | "
            f"{r.pseudo_true:.3f} | "
            f"{r.mean:.3f} | {_signed(r.bias_planted_pct)} | {_signed(r.bias_pseudo_pct)} | {_pct(r.coverage)} | "
            f"{_pct(r.coverage_pseudo)} | {r.sd_over_se:.2f} | {_pct(r.share)} |"
        )
    return out


def _detection_table(rows: pd.DataFrame) -> list[str]:
    key = ["scenario", "n", "pair"]
    wide = rows[rows["rule"].isin(["observed_joint", "latent_2spa", "largest_iut", "latent_rank_verdict"])]
    wide = wide.pivot_table(index=key, columns="rule", values="share", aggfunc="first").reset_index()
    out = [
        "| world | firms | pair | significant, scores | significant, constructs | above every other pair "
        "(pre-specified) | established as largest (exploratory) |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in wide.itertuples():
        out.append(
            f"| {_world(r.scenario)} | {r.n:,} | {r.pair.replace('x', ' × ')} | {_pct(r.observed_joint)} | "
            f"{_pct(r.latent_2spa)} | {_pct(getattr(r, 'largest_iut', float('nan')))} | "
            f"{_pct(getattr(r, 'latent_rank_verdict', float('nan')))} |"
        )
    return out


def _c03_table(rows: pd.DataFrame, pseudo: dict) -> list[str]:
    c03 = rows[rows["rule"] == "c03_verdict"]
    if c03.empty:
        return []
    key = ["scenario", "n"]
    scores = rows[rows["rule"] == "c03_verdict_scores"].set_index(key)["share_matches"]
    out = [
        "## The article's claim C03 in every world",
        "",
        "C03 — market positioning × supply chain is the strongest coupling — judged as the claims chapter judges "
        "it (the intersection–union test on the construct-level joint model), in worlds where it is true, false, "
        "or neither (by the model's values: MI × SC above, or below, some pair by at least 0.01 SD; else a tie or "
        "nothing planted). *Ceiling* is the most any test of the same size could say 'matches': the claim's null "
        "includes MI × SC equal to any single other pair, and on that pair alone nothing beats the one-sided "
        "z-test, so the ceiling is that test's power for the hardest pair. The last column is the same test on mean "
        "scores: where the pairs' reliabilities differ, it takes the better-measured pair for the stronger one.",
        "",
        "| world | firms | C03 in this world | matches | differs | inconclusive | ceiling | matches on mean scores |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in c03.itertuples():
        out.append(
            f"| {_world(r.scenario)} | {r.n:,} | {c03_truth(pseudo[r.scenario])} | {_pct(r.share_matches)} | "
            f"{_pct(r.share_differs)} | {_pct(r.share_inconclusive)} | "
            f"{_pct(getattr(r, 'share_ceiling', float('nan')))} | "
            f"{_pct(scores.get((r.scenario, r.n), float('nan')))} |"
        )
    return [*out, ""]


def _false_positive_table(rows: pd.DataFrame, pseudo: dict) -> list[str]:
    obs = rows[rows["rule"] == "observed_any_unplanted"].set_index(["scenario", "n"])
    lat = rows[rows["rule"] == "latent_any_unplanted"].set_index(["scenario", "n"])
    out = [
        "| world | firms | largest model's value of an unplanted pair | some unplanted pair significant, "
        "scores | same, constructs | intervals covering zero | intervals covering the model's value |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (scen, n), r in lat.iterrows():
        planted = set(rows[(rows["scenario"] == scen) & rows["rule"].eq("latent_2spa")]["pair"])
        biggest = max((abs(v) for p, v in pseudo[scen].items() if p not in planted), default=0.0)
        out.append(
            f"| {_world(scen)} | {n:,} | {biggest:.3f} | {_pct(obs.loc[(scen, n), 'share'])} | {_pct(r['share'])} | "
            f"{_pct(r['coverage'])} | {_pct(r['coverage_pseudo'])} |"
        )
    return out


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def _group_section(record: dict, rows: pd.DataFrame, alpha: float) -> list[str]:
    """The size chapter's rule for group differences in coupling: false positives where a world plants no
    difference, detection of the size differences that the size paths imply."""
    g = rows[rows["rule"].isin(["group_false_difference", "group_size_detected"])]
    if g.empty:
        return []
    gaps = record.get("pseudo_true_group_gaps", {})
    out = [
        "## Group differences in coupling",
        "",
        "The size chapter tests whether each pair's coupling differs between groups of firms (size, business "
        "model, main market; 63 differences from the full second-order model interacted with the group, Holm's "
        "adjustment across all of them). No world makes a coupling differ by business model or market. The "
        "size paths of most worlds — a balance penalty for large firms, a focus gain for SMEs — are not "
        "polynomials, and the model expresses part of them as couplings that differ by size: the column *largest "
        "size gap* gives the largest such difference the model converges to on the latent scale "
        f"({record['meta']['pseudo_true_n']:,} simulated firms). So the false-positive rate (nominally at most "
        f"{alpha:.0%}) is counted over the groupings each world leaves equal, and in worlds with size paths a "
        "significant size difference is a found one. *Their largest gap* is the same measure for the groupings "
        "left equal: what is left there is the latent fit's own noise (standard errors near 0.004) and what a "
        "grouping correlated with size picks up from the size paths.",
        "",
        "| world | firms | groupings left equal | their largest gap | some difference significant there | largest "
        "size gap | some size difference found |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    found = g[g["rule"] == "group_size_detected"].set_index(["scenario", "n"])["share"]
    for r in g[g["rule"] == "group_false_difference"].itertuples():
        w = gaps.get(r.scenario, {})
        left = max((w[k] for k in r.groupings.split(", ") if k in w), default=None)
        size_gap = w.get("size") if "size" not in r.groupings else None
        det = found.get((r.scenario, r.n))
        out.append(
            f"| {_world(r.scenario)} | {r.n:,} | {r.groupings.replace('_', ' ')} | {_num(left)} | {_pct(r.share)} | "
            f"{_num(size_gap)} | {'—' if det is None else _pct(det)} |"
        )
    return [*out, ""]


def _rsa_section(rows: pd.DataFrame, alpha: float) -> list[str]:
    """The coupling chapter's response-surface verdict: a false 'congruence' in worlds that plant none."""
    rsa = rows[rows["rule"] == "rsa_verdict"]
    if rsa.empty:
        return []
    out = [
        "## The response-surface verdict",
        "",
        "The coupling chapter draws the response surface of the pair with the largest coupling and calls it a "
        "congruence (fit) pattern only when equivalence tests show the ridge on the line of congruence and the "
        "level of the two factors not mattering along it. No world plants a congruence surface — every planted "
        f"coupling is a product — so *congruence* is a false verdict in all of them (nominally at most {alpha:.0%}"
        "); a product surface may read as congruence with level effects. Recovery of a planted congruence surface "
        "is tested apart (`test_rsa_fit_pattern_tells_congruence_from_a_product_surface`).",
        "",
        "| world | firms | pair probed (most often) | probed pair is the strongest planted | congruence | congruence "
        "with level effects | no fit pattern |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in rsa.itertuples():
        out.append(
            f"| {_world(r.scenario)} | {r.n:,} | {r.probed.replace('x', ' × ')} | {_pct(r.share_probed_strongest)} | "
            f"{_pct(r.share_congruence)} | {_pct(r.share_level_effects)} | {_pct(r.share_none)} |"
        )
    return [*out, ""]


def _c14_section(rows: pd.DataFrame) -> list[str]:
    """The article's claim C14 under the world's own order cycles and under cycles that make it exactly true."""
    c14 = rows[rows["rule"] == "c14_verdict"]
    if c14.empty:
        return []
    world = c14[c14["cycle_world"] == "world"]["planted"]
    true = c14[c14["cycle_world"] == "claim_true"]["planted"]
    out = [
        "## The article's claim C14 in every world",
        "",
        "C14 — a flexible supply chain shortens the order cycle by about 60% — judged as the claims chapter "
        "judges it: thirds of the supply-chain factor's score from the latent models' first stage, the contrast "
        "corrected for that score's reliability, "
        "a bootstrap interval against the claim's band. Order cycles are drawn twice for every simulated survey: "
        f"as the worlds plant them ({world.iloc[0]:.1f}% shorter for the construct's top third, just outside the "
        f"band, so the claim is false) and so that the claim is exactly true ({true.iloc[0]:.1f}%). A wrong "
        "verdict is *matches* where the claim is false and *differs* where it is true.",
        "",
        "| world | firms | order cycles | planted | claim | mean estimate | mean-score thirds, uncorrected "
        "| covers planted | matches | differs | inconclusive |",
        "|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in c14.itertuples():
        cycles = "claim exactly true" if r.cycle_world == "claim_true" else "as the world plants"
        out.append(
            f"| {_world(r.scenario)} | {r.n:,} | {cycles} | {r.planted:.1f}% | {'true' if r.claim_true else 'false'} "
            f"| {r.mean:.1f}% | {r.mean_observed_thirds:.1f}% | {_pct(r.coverage)} | {_pct(r.share_matches)} | "
            f"{_pct(r.share_differs)} | {_pct(r.share_inconclusive)} |"
        )
    return [*out, ""]


def _invariance_section(rows: pd.DataFrame, alpha: float) -> list[str]:
    """The measurement chapter's invariance rule: the size grouping (where one world shifts an item) and the
    groupings no world touches."""
    inv = rows[rows["rule"] == "invariance_verdict"]
    if inv.empty:
        return []
    out = [
        "## Measurement invariance",
        "",
        "The size chapter compares groups only as far as the questionnaire measures alike in them: configural, "
        "metric and scalar fits with the acquiescence factor, judged by Chen's stricter cut-offs at every group size, "
        "intercepts freed one at a time when scalar invariance "
        "fails. One world shifts one supply-chain item upwards in large firms at the same factor level; the "
        "others shift none, so there any level below scalar is a false flag (the target: at most "
        f"{alpha:.0%} of samples). *Below scalar* counts partial scalar, metric, configural and none.",
        "",
        "| world | firms | item shifted by size | size: scalar | size: partial scalar | size: below scalar | "
        "planted item freed | business model, market: below scalar (the larger) |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for (scen, n), cell in inv.groupby(["scenario", "n"], sort=False):
        size = cell[cell["grouping"] == "size"].iloc[0]
        others = cell[cell["grouping"] != "size"]
        freed = size.get("share_freed_planted")
        out.append(
            f"| {_world(scen)} | {n:,} | {size['planted_items'] or '—'} | {_pct(size['share_scalar'])} | "
            f"{_pct(size['share_partial'])} | {_pct(1 - size['share_scalar'])} | "
            f"{'—' if pd.isna(freed) else _pct(freed)} | {_pct((1 - others['share_scalar']).max())} |"
        )
    return [*out, ""]


def _unplanted_values(rows: pd.DataFrame, pseudo: dict) -> dict[str, list[float]]:
    planted = rows[rows["rule"] == "latent_2spa"].groupby("scenario")["pair"].agg(set).to_dict()
    return {s: [v for p, v in vals.items() if p not in planted.get(s, ())] for s, vals in pseudo.items()}


def _typical_unplanted(rows: pd.DataFrame, pseudo: dict) -> float:
    """The median model's value of the unplanted pairs in the worlds where they are not all near zero."""
    vals = [v for vs in _unplanted_values(rows, pseudo).values() if max(map(abs, vs)) >= 0.005 for v in vs]
    return float(pd.Series(vals).median()) if vals else 0.0


def _false_positive_reading(rows: pd.DataFrame, pseudo: dict) -> list[str]:
    """Which worlds hold the family-wise rate and why the others drift: said from the numbers."""
    fp = rows[rows["rule"].str.endswith("any_unplanted")]
    small = {s for s, vs in _unplanted_values(rows, pseudo).items() if max(map(abs, vs)) < 0.005}
    clean, drift = fp[fp["scenario"].isin(small)], fp[~fp["scenario"].isin(small)]
    out = []
    if len(clean):
        out.append(
            f"In the worlds where no unplanted pair has a model's value above 0.005 ({', '.join(sorted(small))}), "
            f"some unplanted pair is significant in {100 * clean['share'].min():.0f}–{100 * clean['share'].max():.0f}% "
            "of samples at every size."
        )
    if len(drift):
        big = drift[drift["n"] == drift["n"].max()]
        out.append(
            "Where the size paths give every pair a small model's value "
            f"(about {_typical_unplanted(rows, pseudo):+.3f}), the share grows with the "
            f"number of firms, to {100 * big['share'].min():.0f}–{100 * big['share'].max():.0f}% at "
            f"{int(big['n'].max()):,}: the tests then detect a real term of the second-order approximation that "
            "nobody planted as a coupling — which is why the book reads a significant pair as an association in "
            "this model, not as a planted or causal coupling, and why the intervals still cover the model's "
            "values."
        )
    return out


def _missed_list(record: dict) -> list[str]:
    missed = targets_missed(record)
    if not missed:
        return ["Every cell meets the targets."]
    return [f"- {m}" for m in missed]


def _introduction(record: dict, rows: pd.DataFrame) -> list[str]:
    """How the study was run, the worlds, the two truths and the targets."""
    m = record["meta"]
    sizes = ", ".join(f"{n:,}" for n in m["sample_sizes"])
    return [
        "Every coupling verdict of the book follows a rule fixed before the data are seen. Whether a rule "
        "keeps its promise depends on the world the answers come from, so each rule was run on "
        f"{m['reps']} simulated surveys in each of {len(m['scenarios'])} worlds, at {sizes} firms — the first is "
        "the book's own size — at the book's significance level of "
        f"{100 * m['alpha']:g}% and with seeds no test uses (seed {m['seed']}). The figures come from "
        f"`make calibrate` on {m['date']}{_timing(m)}; building the book only quotes them.",
        "",
        "The worlds:",
        "",
        *[f"- **{_world(s)}** (`{s}`) — {SCENARIO_WORDS.get(s, s)}." for s in m["scenarios"]],
        "",
        "**Two truths.** The planted coupling is the coefficient written into the simulator. The book's joint "
        "model is a second-order polynomial; where a world plants more than that — the size paths, a balance "
        "penalty and a focus gain that are not polynomials — its coefficients converge to the best "
        "second-order approximation of latent performance, not to the planted value. That *model's value* was "
        f"computed from the latent scores of {m['pseudo_true_n']:,} simulated firms per world; in the worlds "
        f"with size paths it puts about {_typical_unplanted(rows, record['pseudo_true']):+.3f} on every pair, "
        "planted or not. Bias is given against both.",
        "",
        "**Targets** (set in the methods chapter before this study): a construct-level estimate within 10% of "
        "the coupling it estimates, intervals that cover it in at least 90% of samples, and unplanted pairs "
        f"significant somewhere in at most {100 * m['alpha']:g}% of samples (the family-wise rate Holm's "
        "procedure promises). With "
        f"{m['reps']} samples a share has a Monte Carlo standard error of up to "
        f"{50 / m['reps'] ** 0.5:.1f} percentage points.",
        "",
    ]


def calibration_page(record: dict | None) -> str:
    """The appendix in MyST Markdown (the figure ``figures/calibration.png`` is drawn beside it)."""
    lines = ["(appendix-calibration)=", "# Appendix E. Operating characteristics", ""]
    if not record:
        return "\n".join([*lines, "No calibration results yet: run `make calibrate` and rebuild the book.", ""])
    rows = pd.DataFrame(record["rows"])
    lines += [
        *_introduction(record, rows),
        "```{figure} figures/calibration.png",
        ":name: fig-calibration",
        ":alt: Two panels against firms on a log scale: the share of samples whose interval covers the model's "
        "value of the strongest planted coupling, by world, and the share with some unplanted pair significant, "
        "for the construct-level and score-level models.",
        "",
        "Coverage of the model's value of the strongest planted coupling (a) and family-wise false positives (b) "
        "against firms.",
        "```",
        "",
        "## Construct-level couplings (2S-PA)",
        "",
        *_latent_table(rows),
        "",
        "## Finding the planted coupling",
        "",
        "Share of samples in which each rule finds the planted pair: significant after Holm's adjustment on the "
        "scores and on the constructs; established above every other pair by the intersection–union test used "
        "for a pre-specified pair; and established as the largest by the simultaneous rank set used for the "
        "exploratory question.",
        "",
        *_detection_table(rows),
        "",
        *_c03_table(rows, record["pseudo_true"]),
        "## Pairs with nothing planted",
        "",
        *_false_positive_table(rows, record["pseudo_true"]),
        "",
        " ".join(_false_positive_reading(rows, record["pseudo_true"])),
        "",
        *_group_section(record, rows, record["meta"]["alpha"]),
        *_rsa_section(rows, record["meta"]["alpha"]),
        *_c14_section(rows),
        *_invariance_section(rows, record["meta"]["alpha"]),
        "## Where the targets are missed",
        "",
        *_missed_list(record),
        "",
    ]
    return "\n".join(lines)
