"""Chapter 1: what the screens did to the survey."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cbec.io.validate import load_ground_truth, load_validation, reason_table, screen_recovery
from cbec.study.chapters.base import ChapterResult, RunConfig


def data_quality_chapter(cfg: RunConfig) -> ChapterResult:
    """Rows in, clean and quarantined; each screen's rule and count; missing answers and repairs; recovery of
    planted problems when the data are simulated; the first quarantined rows."""
    v = load_validation(cfg.processed_dir)
    rep = v.report
    r = ChapterResult("data_quality")
    r.table("reasons", reason_table(rep), "Quality screens: rows flagged and the rule")
    if cfg.simulated:
        r.table(
            "recovery",
            screen_recovery(v.quarantine, load_ground_truth(cfg.ground_truth_path)),
            "Planted problems caught by the screens",
        )
    missing = pd.Series(rep["item_missing_share"])
    r.figure("intake", "intake_flow", rep, alt="Bar chart: rows read, rows kept and rows quarantined by reason.")
    r.figure(
        "missing",
        "item_missingness",
        missing[[c for c in missing.index if c[:2] != "AT"]],
        alt="Share of missing answers per item among the rows kept.",
    )
    cols = [
        c
        for c in ["_source_row", "respondent_id", "reasons", "reason_details", "duration_s"]
        if c in v.quarantine.columns
    ]
    r.table("quarantine_first", v.quarantine[cols].head(12), "Quarantined rows (first 12)", save=False)
    repairs = pd.DataFrame(
        rep.get("cells_repaired") or [], columns=["row", "column", "original", "parsed", "approximate", "note"]
    )
    r.table(
        "repairs",
        repairs,
        "Numbers read from typed answers (every repair; the original is kept)",
        columns=["row", "column", "original", "parsed", "approximate"],
    )
    by_reason = (rep.get("missing_answers") or {}).get("by_reason", {})
    r.value(
        dq_in=rep["rows_in"],
        dq_clean=rep["rows_clean"],
        dq_quar=rep["rows_quarantined"],
        dq_quar_share=rep["rows_quarantined"] / rep["rows_in"],
        dq_multi=rep["rows_with_several_reasons"],
        dq_imputed=rep["cells_imputed"],
        dq_format=rep.get("format", "tidy"),
        dq_source=Path(rep["source"]).name,
        dq_repairs=len(repairs),
        dq_missing_marked=int(sum(by_reason.values())),
    )
    return r
