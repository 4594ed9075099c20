"""Study book, measurement: do the study's scales measure what they claim? Every number and name on the page
comes from the study file and this run."""

from __future__ import annotations

import pandas as pd

from cbec.stats import measurement as ms
from cbec.stats.plausibility import cfa_problems, flag_column
from cbec.study.chapters.base import ChapterResult, RunConfig, construct_labels, load_study


def study_measurement_chapter(cfg: RunConfig) -> ChapterResult:
    """Reliability of every multi-item scale, a confirmatory factor model of all of them (constructs and
    outcome), its fit, loadings and discriminant validity, with improper solutions flagged; single-item
    constructs are named and left out of what needs several items."""
    st = load_study(cfg)
    inst, clean = st.instrument, st.clean
    labels = construct_labels(inst)
    blocks = {**ms.factor_blocks(inst), inst.outcome_code: inst.performance_item_ids}
    multi = {c: ids for c, ids in blocks.items() if len(ids) >= 2}
    single = [c for c, ids in blocks.items() if len(ids) < 2]
    r = ChapterResult("study_measurement")
    r.notes["single"] = (
        f"{_names(single, labels)} {'is' if len(single) == 1 else 'are'} measured by a single item: no "
        "reliability or loading can be estimated for "
        f"{'it' if len(single) == 1 else 'them'}, so {'it is' if len(single) == 1 else 'they are'} left out of "
        "the factor model and the reliability table, and enter the later chapters as observed scores."
        if single
        else ""
    )
    r.value(ms_n=len(clean), ms_k=len(blocks), ms_k_multi=len(multi), ms_items=sum(len(v) for v in blocks.values()))
    if not multi:
        r.notes["cfa"] = "No construct has two or more items, so no measurement model can be estimated."
        return r
    if not _identified(multi):
        r.notes["cfa"] = (
            "A confirmatory factor model needs at least three items for a construct on its own, or two "
            "constructs of two or more items; this study has neither, so only the reliability of each scale is "
            "reported."
        )
        r.table("reliability", _alphas(clean, multi, labels), "Reliability of each multi-item scale (Cronbach's α)")
        return r
    cfa = ms.fit_cfa(clean, multi)
    _cfa_tables(r, cfa, clean, multi, labels, cfg)
    return r


def _identified(multi: dict[str, list[str]]) -> bool:
    """A CFA is identified here when one construct has three items or more, or there are two constructs."""
    return len(multi) >= 2 or any(len(v) >= 3 for v in multi.values())


def _alphas(clean: pd.DataFrame, blocks: dict[str, list[str]], labels: dict[str, str]) -> pd.DataFrame:
    rows = []
    for code, ids in blocks.items():
        a = ms.cronbach_alpha(clean[ids])
        rows.append({"scale": labels[code], "items": len(ids), "alpha": a["alpha"], "ci_low": a["ci_low"]})
    return pd.DataFrame(rows)


def _cfa_tables(r: ChapterResult, cfa, clean, multi, labels, cfg: RunConfig) -> None:
    problems = cfa_problems(cfa)
    rel = ms.reliability_table(clean, cfa).drop(columns="level")
    rel["scale"] = rel["scale"].map(labels)
    load = cfa.loadings.assign(factor=lambda d: d["factor"].map(labels))
    load = flag_column(load, "std_loading", -1, 1, "standardised loading")
    r.table("fit", ms.fit_table({"measurement_model": cfa.fit}), "Fit of the measurement model against cut-offs")
    r.table("reliability", rel, "Reliability of each multi-item scale")
    r.table("loadings", load, "Standardised loadings of the measurement model")
    if len(multi) >= 2:
        htmt = ms.htmt(clean, multi).rename(index=labels, columns=labels)
        r.table("htmt", htmt, "HTMT ratios between the scales (above 0.85: not clearly distinct)", index=True)
        r.value(ms_htmt_max=float(ms.htmt_flags(htmt)["htmt"].max()))
    f = cfa.fit
    r.value(
        ms_chi2=float(f["chi2"]),
        ms_df=int(f["df"]),
        ms_cfi=float(f["cfi"]),
        ms_rmsea=float(f["rmsea"]),
        ms_srmr=float(f["srmr"]),
        ms_alpha_min=float(rel["alpha"].min()),
        ms_alpha_max=float(rel["alpha"].max()),
    )
    r.notes["cfa"] = (
        f"The measurement model holds {len(multi)} scale(s) ({_names(list(multi), labels)}) with "
        f"{sum(len(v) for v in multi.values())} items. On {int(f['n'])} rows it gives χ² = {f['chi2']:.3f} on "
        f"{int(f['df'])} degrees of freedom, CFI = {f['cfi']:.3f}, RMSEA = {f['rmsea']:.3f} and SRMR = "
        f"{f['srmr']:.3f}; Cronbach's α runs from {rel['alpha'].min():.2f} to {rel['alpha'].max():.2f}."
    )
    r.notes["problems"] = (
        "**Improper solution: these estimates cannot be right and are not interpreted.** "
        + "; ".join(problems)
        + ". The flagged rows of the loadings table show where."
        if problems
        else ""
    )


def _names(codes: list[str], labels: dict[str, str]) -> str:
    names = [labels.get(c, c) for c in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
