"""Chapter 2: do the seven scales measure what they claim?"""

from __future__ import annotations

import pandas as pd
from scipy.stats import norm

from cbec.article import groups
from cbec.io.safe_text import md_text
from cbec.io.validate import load_ground_truth
from cbec.stats import measurement as ms
from cbec.stats.method_variance import acquiescence_check
from cbec.study.chapters.base import ChapterResult, RunConfig, format_p, invariance_options, level_text, load_study


def measurement_chapter(cfg: RunConfig) -> ChapterResult:
    """Sampling adequacy, CFA fit (seven factors and second order), loadings, reliability, discriminant
    validity, method-variance checks, per-factor verdicts and the factor indices."""
    st = load_study(cfg)
    inst, clean = st.instrument, st.clean
    blocks = ms.factor_blocks(inst)
    cfa = ms.fit_cfa(clean, blocks)
    cfa2 = ms.fit_cfa(clean, blocks, second_order="CBEC")
    rel = ms.reliability_table(clean, cfa, inst.subdimension_items)
    htmt = ms.htmt(clean, blocks)
    adequacy = ms.sampling_adequacy(clean[inst.factor_item_ids])
    verdicts = ms.scale_verdicts(
        rel, ms.fornell_larcker_holds(cfa), htmt, {f.code: md_text(f.en) for f in inst.factors}
    )
    r = ChapterResult("measurement")
    # Saved here as measurement_invariance.csv; the size-paths chapter, whose comparisons it licenses,
    # shows it first.
    inv = groups.measurement_invariance(clean, blocks, **invariance_options(inst))
    r.table("invariance", inv[["grouping", *[c for c in inv.columns if c != "grouping"]]],
            "Measurement invariance by grouping (shown in the size-paths chapter)")  # fmt: skip
    r.table("adequacy", _adequacy_table(adequacy), "Sampling adequacy", save=False)
    r.table("fit", ms.fit_table({"seven_factor": cfa.fit, "second_order": cfa2.fit}), "Fit indices against cut-offs")
    r.table("reliability", rel, "Reliability by factor and sub-dimension")
    r.table("item_total", ms.item_total_table(clean, blocks), "Item-total statistics", save=True)
    r.table("loadings", cfa.loadings, "Standardised loadings of the seven-factor CFA")
    r.table("htmt", htmt, "HTMT ratios", index=True)
    r.table("fornell_larcker", ms.fornell_larcker(cfa),
            "Fornell–Larcker: square root of AVE on the diagonal, latent correlations off it", index=True)  # fmt: skip
    r.table("verdicts", verdicts.drop(columns="text"), "Verdict per factor")
    r.notes["verdicts"] = "\n\n".join(verdicts["text"])
    _scores_section(r, st, cfa, blocks)
    _loading_section(r, cfa, htmt, cfg)
    r.value(**_fit_values(cfa, rel, htmt, adequacy), **_method_values(clean, inst, cfa, blocks, cfg))
    nested = ms.compare_nested(cfa2, cfa)
    r.value(
        m_2nd_dchi2=nested["delta_chi2"],
        m_2nd_ddf=int(nested["delta_df"]),
        m_2nd_p=nested["p_value"],
        m_2nd_p_text=("< 0.001" if nested["p_value"] < 0.001 else f"{nested['p_value']:.3f}"),
        m_2nd_worse="fits significantly worse" if nested["p_value"] < cfg.alpha else "does not fit significantly worse",
        m_n_hold=int((verdicts["verdict"] == "holds").sum()),
        m_rule=cfg.normalisation,
    )
    return r


def _adequacy_table(adequacy: dict) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure": ["Kaiser–Meyer–Olkin", "Bartlett chi-square", "Bartlett df", "Bartlett p-value"],
            "value": [
                f"{adequacy['kmo']:.3f}",
                f"{adequacy['bartlett_chi2']:,.1f}",
                f"{int(adequacy['bartlett_df'])}",
                "< 0.001" if adequacy["bartlett_p"] < 0.001 else f"{adequacy['bartlett_p']:.3f}",
            ],
        }
    )


def _scores_section(r: ChapterResult, st, cfa, blocks: dict) -> None:
    """The factor indices (shown summarised) and the three kinds of score, saved per firm."""
    indices, clean = st.analysis.indices, st.clean
    r.table("indices_summary", indices.describe().T[["mean", "std", "min", "max"]], "Factor indices U in [0, 1]",
            index=True, save=False)  # fmt: skip
    ids = clean["respondent_id"]
    r.table("factor_indices", indices.assign(respondent_id=ids), "", save=True)
    r.table("factor_scores_cfa", ms.cfa_scores(cfa, clean).assign(respondent_id=ids), "", save=True)
    r.table("factor_scores_mean", ms.mean_scores(clean, blocks).assign(respondent_id=ids), "", save=True)


def _loading_section(r: ChapterResult, cfa, htmt: pd.DataFrame, cfg: RunConfig) -> None:
    """Loadings with intervals (against the planted values when the data are simulated) and the HTMT map."""
    rec = ms.compare_with_truth(
        cfa,
        load_ground_truth(cfg.ground_truth_path)["loadings_observed_implied"] if cfg.simulated else {},
        z=float(norm.ppf(1 - cfg.alpha / 2)),
    )
    if cfg.simulated:
        r.table("loading_recovery", rec, "Loadings against the planted values")
        r.notes["recovery"] = (
            f"Because the data are simulated, each interval can be checked against the loading "
            f"that was planted (crosses, on the seven-point scale). {rec['covered'].mean():.0%} "
            f"of the {len(rec)} intervals contain the planted value; about {level_text(cfg.alpha)} is expected."
        )
    r.figure("loadings", "loadings_plot", rec, level=level_text(cfg.alpha),
             alt=f"Standardised loading of each item with its {level_text(cfg.alpha)} interval.")  # fmt: skip
    r.figure("htmt", "matrix_heatmap", htmt, "HTMT ratios (red outline: above 0.85)", threshold=0.85,
             alt="Heatmap of heterotrait-monotrait ratios between the seven factors.")  # fmt: skip


def _fit_values(cfa, rel: pd.DataFrame, htmt: pd.DataFrame, adequacy: dict) -> dict:
    """The fit and reliability numbers the chapter's prose quotes."""
    f, fr = cfa.fit, rel[rel["level"] == "factor"]
    return dict(
        m_n=int(f["n"]), m_chi2=f["chi2"], m_df=int(f["df"]), m_cfi=f["cfi"], m_tli=f["tli"], m_rmsea=f["rmsea"],
        m_rmsea_lo=f["rmsea_ci_low"], m_rmsea_hi=f["rmsea_ci_high"], m_srmr=f["srmr"],
        m_alpha_min=fr["alpha"].min(), m_alpha_max=fr["alpha"].max(), m_cr_min=fr["cr"].min(),
        m_ave_min=fr["ave"].min(), m_ave_min_f=fr.loc[fr["ave"].idxmin(), "scale"],
        m_htmt_max=ms.htmt_flags(htmt)["htmt"].max(), m_kmo=adequacy["kmo"],
    )  # fmt: skip


def _method_values(clean: pd.DataFrame, inst, cfa, blocks: dict, cfg: RunConfig) -> dict:
    """Common-method checks: Harman's single factor, the one-factor CFA, the acquiescence check."""
    harman = ms.harman_single_factor(clean[inst.factor_item_ids])
    common = ms.common_factor_comparison(clean, cfa)
    acq = acquiescence_check(clean, blocks, inst.reverse_items, alpha=cfg.alpha)
    return dict(
        m_harman=harman["first_factor_share"],
        m_single_dchi2=common["delta_chi2"],
        m_single_ddf=int(common["delta_df"]),
        m_acq_share=acq["share"],
        m_acq_dchi2=acq["delta_chi2"],
        m_acq_p=format_p(acq["p_value"]),
        m_acq_verdict="flags" if acq["flagged"] else "does not flag",
    )
