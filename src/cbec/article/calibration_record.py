"""The calibration record as the book reads it: load it, say which cells miss the methods chapter's targets,
and give each chapter the figures for its own rules. Kept apart from :mod:`cbec.article.calibrate`, which makes
the record, so that building the book does not import the simulator and the estimators (a warm run's time)."""

from __future__ import annotations

import json

import numpy as np

__all__ = ["C03_PAIR", "NO_RECORD", "RESULTS_NAME", "c03_truth", "load_calibration", "rule_figures", "targets_missed"]

#: What a chapter says where it would quote the record and none ships (one wording for every chapter).
NO_RECORD = "No calibration record ships with this installation (make calibrate writes it)."
#: Where ``make calibrate`` writes and the book reads (a package resource).
RESULTS_NAME = "calibration.json"
#: The pair of the article's claim C03 (claims register, estimator ``coupling_rank_mi_sc``).
C03_PAIR = "MIxSC"


def c03_truth(pseudo: dict) -> str:
    """Whether a world makes C03 true, by the model's values: MI × SC above every other pair by at least 0.01
    SD ("true"), some pair above it by that much ("false"), or neither (a tie, or nothing planted)."""
    rest = max(v for p, v in pseudo.items() if p != C03_PAIR)
    if pseudo[C03_PAIR] > rest + 0.01:
        return "true"
    return "false" if rest > pseudo[C03_PAIR] + 0.01 else "neither"


def load_calibration() -> dict | None:
    """The committed operating characteristics, or ``None`` when ``make calibrate`` has not written them."""
    from cbec.resources import resource

    try:
        return json.loads(resource(RESULTS_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _mc(p: float, reps: int) -> float:
    return 2 * float(np.sqrt(p * (1 - p) / reps))


def targets_missed(record: dict) -> list[str]:
    """The cells that miss the targets of the methods chapter by more than two Monte Carlo standard errors, as
    sentences: a construct-level estimate more than 10% off the model's value, intervals covering it in fewer
    than 90% of samples, unplanted pairs significant in more than alpha of samples, C03 and C14 given the wrong
    verdict in more than alpha of samples (a "matches" where it is not true, a "differs" where it is), a
    response surface called a congruence (no world plants one) in more than alpha of samples, a grouping found
    below scalar invariance where no world shifts an item in more than alpha of samples."""
    alpha, reps = record["meta"]["alpha"], record["meta"]["reps"]
    out = []
    for r in record["rows"]:
        where = f"{r['scenario'].replace('_', ' ')}, {r['n']:,} firms"
        if r["rule"] == "latent_2spa":
            pair = r["pair"].replace("x", " × ")
            if abs(r["mean"] - r["pseudo_true"]) > max(0.1 * abs(r["pseudo_true"]), 2 * r["mc_se"]):
                out.append(
                    f"{where}: the construct-level {pair} averages {r['mean']:.3f} against the model's value "
                    f"{r['pseudo_true']:.3f} ({r['bias_pseudo_pct']:+.0f}%; planted {r['planted']:.3f})."
                )
            if r["coverage_pseudo"] < 0.90 - _mc(0.90, reps):
                out.append(f"{where}: intervals for {pair} cover its value in {100 * r['coverage_pseudo']:.0f}%.")
        elif r["rule"] == "c03_verdict":
            truth = c03_truth(record["pseudo_true"][r["scenario"]])
            wrong = r["share_differs"] if truth == "true" else r["share_matches"]
            if wrong > alpha + _mc(alpha, reps):
                said = "differs" if truth == "true" else "matches"
                out.append(f"{where}: C03, {truth} in this world, is judged '{said}' in {100 * wrong:.0f}%.")
        elif r["rule"].endswith("any_unplanted") and r["share"] > alpha + _mc(alpha, reps):
            model = "constructs" if r["rule"].startswith("latent") else "scores"
            out.append(f"{where}: some unplanted pair is significant ({model}) in {100 * r['share']:.0f}%.")
        elif r["rule"] == "group_false_difference" and r["share"] > alpha + _mc(alpha, reps):
            out.append(
                f"{where}: some group difference in coupling is significant where none is planted "
                f"({r['groupings']}) in {100 * r['share']:.0f}%."
            )
        elif r["rule"] == "rsa_verdict" and r["share_congruence"] > alpha + _mc(alpha, reps):
            out.append(f"{where}: the response surface is called a congruence in {100 * r['share_congruence']:.0f}%.")
        elif r["rule"] == "c14_verdict":
            out += _c14_missed(r, where, alpha, reps)
        elif (
            r["rule"] == "invariance_verdict"
            and not r["planted_items"]
            and 1 - r["share_scalar"] > alpha + _mc(alpha, reps)
        ):
            out.append(
                f"{where}: the invariance rule finds {r['grouping'].replace('_', ' ')} below scalar invariance, "
                f"where nothing is planted, in {100 * (1 - r['share_scalar']):.0f}%."
            )
    return out


def _c14_missed(r: dict, where: str, alpha: float, reps: int) -> list[str]:
    """C14's cell against the targets: within 10% of the planted reduction, 90% coverage, and the wrong verdict
    (*differs* where the claim is true, *matches* where it is false) in at most alpha of samples."""
    cycles = "C14 (claim exactly true)" if r["claim_true"] else "C14 (claim false)"
    out = []
    if abs(r["mean"] - r["planted"]) > max(0.1 * r["planted"], 2 * r["mc_se"]):
        out.append(f"{where}: {cycles} averages {r['mean']:.1f}% against the planted {r['planted']:.1f}%.")
    if r["coverage"] < 0.90 - _mc(0.90, reps):
        out.append(f"{where}: intervals for {cycles} cover the planted value in {100 * r['coverage']:.0f}%.")
    wrong, said = (r["share_differs"], "differs") if r["claim_true"] else (r["share_matches"], "matches")
    if wrong > alpha + _mc(alpha, reps):
        out.append(f"{where}: {cycles} is judged '{said}' in {100 * wrong:.0f}%.")
    return out


def rule_figures(record: dict | None, scenario: str = "shipped", n: int | None = None) -> dict | None:
    """The figures a chapter quotes for its own rules, from one world at one size (the book's first size by
    default): detection and false-positive shares and the construct-level estimator's bias and coverage for
    the strongest planted pair. ``None`` without a record or that cell."""
    if not record:
        return None
    n = n or record["meta"]["sample_sizes"][0]
    rows = [r for r in record["rows"] if r["scenario"] == scenario and r["n"] == n]
    lat = sorted((r for r in rows if r["rule"] == "latent_2spa"), key=lambda r: -r["planted"])
    if not lat:
        return None
    top = lat[0]
    by_rule = {(r["rule"], r.get("pair")): r for r in rows}
    return {
        "n": n,
        "reps": record["meta"]["reps"],
        "pair": top["pair"],
        "planted": top["planted"],
        "latent_bias_pct": top["bias_pseudo_pct"],
        "latent_coverage": top["coverage_pseudo"],
        "observed_found": by_rule[("observed_joint", top["pair"])]["share"],
        "latent_found": top["share"],
        "iut_found": by_rule[("largest_iut", top["pair"])]["share"],
        "observed_false": by_rule[("observed_any_unplanted", None)]["share"],
        "latent_false": by_rule[("latent_any_unplanted", None)]["share"],
        "group_false": by_rule.get(("group_false_difference", None), {}).get("share"),
    }
