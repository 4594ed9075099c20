"""Study book, PLS-SEM: the study's constructs predicting its outcome as composites (PLS, path weighting, as
seminr and SmartPLS estimate it) and as common factors (consistent PLS), with bootstrap intervals and every
improper estimate flagged."""

from __future__ import annotations

import pandas as pd

from cbec.stats import measurement as ms
from cbec.stats.plausibility import flag_column
from cbec.stats.pls import pls_bootstrap, pls_sem
from cbec.study.chapters.base import ChapterResult, RunConfig, construct_labels, level_text, load_study


def study_pls_chapter(cfg: RunConfig) -> ChapterResult:
    """Paths from every construct to the outcome under PLS (mode A, path weighting) with BCa bootstrap
    intervals, and under PLSc; R² of the outcome for both, flagged when it lies outside [0, 1] and paths
    flagged beyond ±1."""
    st = load_study(cfg)
    inst, clean = st.instrument, st.clean
    labels = construct_labels(inst)
    blocks = {**ms.factor_blocks(inst), inst.outcome_code: inst.performance_item_ids}
    paths = {inst.outcome_code: list(ms.factor_blocks(inst))}
    r = ChapterResult("study_pls")
    pls = pls_sem(clean, blocks, paths, scheme="path")
    boot = pls_bootstrap(clean, blocks, paths, n_boot=cfg.n_boot, seed=cfg.seed, level=1 - cfg.alpha).table
    plsc = pls_sem(clean, blocks, paths, scheme="factorial", consistent=True)
    out = inst.outcome_code
    t = boot.assign(
        construct=boot["source"].map(labels),
        plsc_estimate=[float(plsc.paths.loc[s, out]) for s in boot["source"]],
    )
    t = flag_column(t, "estimate", -1, 1, "path")
    t = flag_column(t, "plsc_estimate", -1, 1, "PLSc path")
    cols = ["construct", "estimate", "boot_se", "bca_low", "bca_high", "plsc_estimate", "flag"]
    r.table("paths", t[cols + ["source", "target"]], f"Paths to {inst.outcome_en}: PLS and PLSc", columns=cols)
    r2 = pd.DataFrame(
        {
            "estimator": ["PLS (path weighting)", "PLSc (factorial)"],
            "r2": [float(pls.r2.loc["Rsq", out]), float(plsc.r2.loc["Rsq", out])],
            "adjusted_r2": [float(pls.r2.loc["AdjRsq", out]), float(plsc.r2.loc["AdjRsq", out])],
        }
    )
    r2 = flag_column(r2, "r2", 0, 1, "R²")
    r.table("r2", r2, f"Variance of {inst.outcome_en} explained")
    rho = pls.rho_a.rename(index=labels).rename_axis("construct").rename("rho_a").reset_index()
    r.table("rho_a", rho, "Reliability of each composite (Dijkstra–Henseler ρA)")
    bad = [f for f in [*t["flag"], *r2["flag"]] if f]
    top = t.sort_values("estimate", key=abs, ascending=False).iloc[0]
    r.value(pls_r2=float(r2["r2"].iloc[0]), pls_r2_c=float(r2["r2"].iloc[1]), pls_n_flags=len(bad))
    r.notes["summary"] = (
        f"Under PLS the {len(t)} construct(s) explain R² = {r2['r2'].iloc[0]:.3f} of {inst.outcome_en}; the largest "
        f"path is from {top['construct']} ({top['estimate']:.3f}, {level_text(cfg.alpha)} BCa interval "
        f"{top['bca_low']:.3f} to {top['bca_high']:.3f}, {cfg.n_boot} bootstrap resamples). Under PLSc, which "
        f"treats the constructs as common factors, R² = {r2['r2'].iloc[1]:.3f}."
    )
    r.notes["flags"] = (
        "**Improper estimates, not interpreted:** " + "; ".join(bad) + ". A consistent-PLS solution outside these "
        "bounds means the disattenuation divided by a reliability too low for these data."
        if bad
        else ""
    )
    return r
