"""Run one chapter inside its notebook: the single call a chapter notebook makes, and its display helpers.

``run_chapter(name, run_config)`` installs the escaping table renderer, runs the chapter function of
:mod:`cbec.study.chapters`, writes its tables under the run's results folder (spreadsheet-safe CSV, names by
one rule), glues its values for the prose, and returns a :class:`ShownChapter` whose methods the notebook's
display cells call: ``ch.show("pairs")``, ``ch.fig("heatmap")``, ``ch.note("truth")``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from cbec.book.pages import data_notice, glue
from cbec.io.safe_text import to_csv_for_people
from cbec.study.chapters import CHAPTERS
from cbec.study.chapters.base import ChapterResult, RunConfig, Table, format_p

__all__ = ["run_chapter", "ShownChapter", "styled", "format_p"]

#: Column labels readers see (the CSV keeps the machine names).
LABELS = {
    "factor_a": "factor A",
    "factor_b": "factor B",
    "estimate": "estimate",
    "std_error": "SE",
    "ci_low": "{level} CI low",
    "ci_high": "{level} CI high",
    "p_value": "p",
    "p_holm": "p (Holm)",
    "p_bh": "p (BH)",
    "rank_low": "rank set from",
    "rank_high": "rank set to",
    "p_first": "P(rank 1)",
    "boot_rank_low": "bootstrap rank 2.5%",
    "boot_rank_high": "bootstrap rank 97.5%",
    "boot_rank_median": "bootstrap rank median",
    "delta_r2": "ΔR²",
    "cohen_f2": "Cohen's f²",
    "boot_ci_low": "bootstrap CI low",
    "boot_ci_high": "bootstrap CI high",
    "band_low": "band low",
    "band_high": "band high",
    "verdict_alt": "verdict (other reading)",
    "article_value": "article",
    "r2": "R²",
    "delta_chi2": "Δχ²",
    "chi2": "χ²",
    "delta_df": "Δdf",
    "p_delta": "p (Δχ²)",
    "cfi": "CFI",
    "rmsea": "RMSEA",
    "delta_cfi": "ΔCFI",
    "delta_rmsea": "ΔRMSEA",
    "holds": "holds (Chen 2007)",
    "free_intercepts": "intercepts freed",
    "metric_invariance": "loadings equal (metric)",
    "observed": "observed scores",
    "observed_rank": "rank (observed)",
    "observed_rank_set": "rank set (observed)",
    "latent": "constructs (2S-PA)",
    "latent_ci_low": "{level} CI low (constructs)",
    "latent_ci_high": "{level} CI high (constructs)",
    "latent_rank": "rank (constructs)",
    "latent_rank_set": "rank set (constructs)",
    "r_marker": "r with marker",
    "r_unadjusted": "r with performance",
    "r_adjusted": "r adjusted (Lindell–Whitney)",
    "estimate_marker_partialled": "estimate, marker partialled out",
    "outcome": "outcome",
    "regression_mean_scores": "regression (mean scores)",
    "pls": "PLS",
    "pls_bca_low": "PLS BCa low",
    "pls_bca_high": "PLS BCa high",
    "plsc": "PLSc",
    "rho_a": "ρ_A",
    "regression": "regression (mean scores)",
    "regression_rank_set": "rank set (regression)",
    "pls_two_stage": "PLS two-stage",
    "pls_rank_set": "rank set (PLS)",
    "latent_2spa": "constructs (2S-PA)",
    "c_quantile": "permutation 5% quantile of c",
    "compositional": "compositional invariance",
    "mean_diff": "mean difference",
    "mean_low": "permutation low",
    "mean_high": "permutation high",
    "log_var_diff": "log variance ratio",
    "var_low": "permutation low (var)",
    "var_high": "permutation high (var)",
    "equal_mean": "equal means",
    "equal_var": "equal variances",
    "level": "invariance",
    "difference": "difference",
    "f2": "f²",
    "vif": "VIF",
    "construct_a": "construct A",
    "construct_b": "construct B",
    "htmt": "HTMT",
    "rmse_pls": "RMSE (PLS)",
    "mae_pls": "MAE (PLS)",
    "rmse_lm": "RMSE (linear model)",
    "mae_lm": "MAE (linear model)",
    "q2_predict": "Q²_predict",
}


#: Columns of result tables that hold codes (a method, a model term, a statistic, a reason, a grouping, a level of
#: a questionnaire field), shown with the reader's label from VALUE_LABELS or the questionnaire's level labels.
CODE_COLUMNS = {
    "method",
    "rule",
    "term",
    "measure",
    "index",
    "grouping",
    "kind",
    "reason",
    "reasons",
    "planted_problem",
    "problem",
    "scenario",
    "size_class",
    "main_market",
    "business_model",
    "stage",
}

#: Reader labels of the codes in CODE_COLUMNS: one table for the whole book (the column labels are in LABELS).
VALUE_LABELS = {
    # coupling measures and model terms
    "interaction_joint": "product term (joint model)",
    "interaction_pair": "product term (pair model)",
    "coordination_D": "coordination degree D",
    "coordination_D_revised": "coordination degree D, revised",
    "coupling_C": "coupling degree C",
    "rsa_a4": "response surface a4",
    "latent_2spa": "constructs (2S-PA)",
    "scale": "the answer scale's range",
    "minmax": "min–max of the sample",
    "minmax_0.01_0.99": "min–max of the 1st–99th percentiles",
    # fit statistics
    "chi2_df": "χ²/df",
    "cfi": "CFI",
    "tli": "TLI",
    "rmsea": "RMSEA",
    "srmr": "SRMR",
    # size paths
    "spread": "spread of the seven factors",
    "focus": "focus on the top two",
    "system_D": "seven-factor D",
    "slope_large": "slope, large firms",
    "slope_sme": "slope, SMEs",
    "difference_sme_minus_large": "difference, SMEs − large firms",
    "stage_fit": "stage fit",
    # groupings and their levels
    "size": "firm size",
    "business_model": "business model",
    "market": "main market",
    "large": "large firms",
    "sme": "SMEs",
    # claims register
    "effect_claim": "effect claim",
    "firm_fact": "firm fact",
    "market_statistic": "market statistic",
    # validation reasons and planted problems
    "attention_fail": "failed the attention check",
    "duplicate_answers": "same answers as another row",
    "duplicate_id": "repeated respondent id",
    "heavy_missing": "many answers missing",
    "too_many_missing": "too many answers missing",
    "missing_required": "a required answer missing",
    "unknown_option": "an answer not among the options",
    "speeder": "answered implausibly fast",
    "straightliner": "same answer throughout",
}


def _code_labels(values: pd.Series, levels: dict[str, str]) -> pd.Series:
    """Codes as readers' words: the questionnaire's level labels first, then the book's label table, else the
    code with spaces for underscores; anything that is not a code (a sentence, a number) is left as it is."""

    def one(v):
        if not isinstance(v, str) or " " in v:
            return v
        return levels.get(v) or VALUE_LABELS.get(v) or LABELS.get(v) or (v.replace("_", " ") if "_" in v else v)

    # A row can carry several codes ("speeder;attention_fail"): each is labelled.
    return values.map(lambda v: "; ".join(one(x) for x in v.split(";")) if isinstance(v, str) and ";" in v else one(v))


#: Columns that hold p-values (not probabilities such as p_first, the share of draws ranked first).
P_COLUMNS = {
    "p",
    "p_value",
    "p_holm",
    "p_bh",
    "p_unconditional",
    "p_conditional",
    "p_holm_unconditional",
    "p_holm_conditional",
    "p_holm_within_grouping",
    "a3_p",
    "survey_p",
    "p_delta",
}


def _cell_format(col: str, s: pd.Series):
    if col in P_COLUMNS:
        return format_p
    if pd.api.types.is_bool_dtype(s):
        return lambda v: "✓" if v else "✗"
    sep = "" if "year" in col.lower() else ","  # 2018, not 2,018
    if pd.api.types.is_integer_dtype(s):
        return lambda v: "—" if pd.isna(v) else f"{int(v):{sep}d}"
    if pd.api.types.is_float_dtype(s):
        return _float_format(s.dropna(), sep)
    return lambda v: "—" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v


def _float_format(values: pd.Series, sep: str = ","):
    """One number of decimals per column, the fewest (up to three) that show every value as it is: whole
    numbers as integers (years, counts, the article's 55%), a column of halves with one decimal, estimates with
    three; a value that rounds to zero is written without a minus sign."""
    finite = values[np.isfinite(values)]
    if len(finite) and (finite % 1 == 0).all():
        return lambda v: "—" if pd.isna(v) else f"{int(v):{sep}d}" if np.isfinite(v) else str(v)
    digits = next((d for d in (1, 2) if np.allclose(finite, finite.round(d), rtol=0, atol=1e-9)), 3)

    def fmt(v):
        if pd.isna(v):
            return "—"
        text = f"{v:{sep}.{digits}f}"
        return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text

    return fmt


def styled(table: Table, level: str = "95%", levels: dict[str, str] | None = None) -> Styler:
    """A table for readers: labels for columns, codes and levels, one number style, p-values as in the prose,
    "—" for missing, numbers right-aligned. Text from data is escaped by the renderer
    :func:`cbec.book.safe_display.install` registers. ``level`` is the run's interval level, named in the
    interval columns' labels; ``levels`` maps the questionnaire's level codes to their labels (``eu_na`` ->
    "Europe / North America")."""
    frame = _numbers_as_numbers(table.frame if table.columns is None else table.frame[table.columns])  # a copy
    for c in frame.columns:
        if str(c) in CODE_COLUMNS and not pd.api.types.is_numeric_dtype(frame[c]):
            frame[c] = _code_labels(frame[c], levels or {})
    if table.index and not pd.api.types.is_numeric_dtype(frame.index):  # row labels: codes, field names as words
        frame.index = pd.Index(_code_labels(frame.index.to_series(), levels or {}), name=frame.index.name)
    formats = {c: _cell_format(str(c), frame[c]) for c in frame.columns}
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    prose = [c for c in frame.columns if c not in numeric and frame[c].astype(str).str.len().max() > PROSE_CHARS]
    # Labels by renaming (the escaping renderer re-formats the header, so a header formatter would be lost).
    label = {c: LABELS.get(str(c), str(c).replace("_", " ")).format(level=level) for c in frame.columns}
    frame = frame.rename(columns=label)
    frame = frame.rename_axis(
        index=[LABELS.get(str(n), str(n).replace("_", " ")) if n else n for n in frame.index.names]
    )
    st = frame.style.format({label[c]: f for c, f in formats.items()})
    if numeric:
        st = st.set_properties(
            subset=[label[c] for c in numeric], **{"text-align": "right", "font-variant-numeric": "tabular-nums"}
        )
    if prose:  # sentences get a readable width instead of one word per line beside wide number columns
        st = st.set_properties(subset=[label[c] for c in prose], **{"min-width": "14em"})
    if not table.index:
        st = st.hide(axis="index")
    return st.set_caption(table.caption)


#: A text column whose longest cell is longer than this holds sentences (statements, reasons, quotes).
PROSE_CHARS = 40


def _numbers_as_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of Python numbers and gaps (an object column a chapter filled row by row, e.g. a p-value present
    for some claims only) as floats, so they get the number style, not the text style.

    >>> _numbers_as_numbers(pd.DataFrame({"p": [None, 0.0907904753, 0.007]}))["p"].dtype
    dtype('float64')
    """
    out = frame.copy()
    for c in out.columns:
        s = out[c]
        if s.dtype == object:
            vals = s.dropna()
            if len(vals) and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in vals):
                out[c] = pd.to_numeric(s, errors="coerce").astype(float)
    return out


#: Result tables longer than this are folded on the page (ShownChapter.show).
LONG_TABLE_ROWS = 30


class ShownChapter:
    """A chapter's results as the notebook's display cells use them."""

    def __init__(self, result: ChapterResult, cfg: RunConfig):
        self.result, self.cfg = result, cfg

    def show(self, name: str):
        """A result table for readers; one longer than LONG_TABLE_ROWS is folded under its caption (a click
        opens it; the PDF prints it open), so a page's argument is not lost below a hundred rows."""
        from cbec.study.chapters.base import level_text

        table = self.result.tables[name]
        st = styled(table, level_text(self.cfg.alpha), self.level_labels)
        if len(table.frame) <= LONG_TABLE_ROWS:
            return st
        from IPython.display import HTML

        from cbec.book.safe_display import html_text, render_styler

        summary = f"{html_text(table.caption)} — {len(table.frame):,} rows (click to show)"
        return HTML(f'<details class="cbec-long"><summary>{summary}</summary>{render_styler(st)}</details>')

    @cached_property
    def level_labels(self) -> dict[str, str]:
        """The questionnaire's level codes and their English labels (a run's own questionnaire, if it has one)."""
        from cbec.io.instrument import load_instrument

        inst = load_instrument(self.cfg.instrument_path or None)
        return {str(lv["value"]): str(lv.get("en") or lv["value"]) for f in inst.fields for lv in f.levels}

    def fig(self, name: str):
        """Draw a recorded figure (closed at once, so it is shown here and nowhere else); its vector version
        goes beside the result tables, for the downloads."""
        import matplotlib.pyplot as plt

        from cbec.book import figures

        if self.result.absent and name not in self.result.figures:
            return None
        spec = self.result.figures[name]
        f = figures.legible(getattr(figures, spec.draw)(*spec.args, **spec.kwargs))
        figures.save_svg(f, Path(self.cfg.results_dir) / self.result.file_name(name, ".svg"))
        plt.close(f)
        return f

    def note(self, name: str):
        from IPython.display import Markdown

        # An absent note is an HTML comment: display(None) prints "None", and a blank Markdown makes MyST-NB
        # fall back to the text repr "<IPython.core.display.Markdown object>".
        return Markdown(self.result.notes.get(name) or "<!-- no note -->")

    def quotes(self, name: str = "quotes"):
        """Quotes from data as HTML block quotes of escaped text."""
        from IPython.display import HTML

        from cbec.book.safe_display import quotes_html

        return HTML(quotes_html(self.result.tables[name].frame))

    def notice(self):
        """The data banner (simulated, real, or the article's own coding), shown before the page's first result."""
        from IPython.display import Markdown

        return Markdown(data_notice(self.cfg.origin, self.cfg.book))

    def made(self):
        """Which function made this page's tables and figures: the page's last cell, so that on a phone the
        reader meets the results before the machinery."""
        from IPython.display import Markdown

        name = self.result.chapter
        return Markdown(
            f"**How this page was made.** *Every table and figure on this page is made by the chapter function "
            f"`cbec.study.chapters.{name}_chapter`, called once by this page's notebook (download it from the "
            f"top bar: it runs wherever `cbec` is installed — `pip install .` in the book's source tree — with "
            f"`run_config` set to a run's `run_config.json`); its tables are also in the run's "
            f"`results/{name}_*.csv`.*"
        )

    def __getitem__(self, name: str):
        return self.result.values[name]


def run_chapter(name: str, run_config: str | Path | RunConfig) -> ShownChapter:
    """Run chapter ``name`` with the run's configuration; save its tables; glue its values."""
    if _in_kernel():
        from cbec.book.safe_display import install

        install()
    cfg = run_config if isinstance(run_config, RunConfig) else RunConfig.load(run_config)
    result = CHAPTERS[name](cfg)
    out = Path(cfg.results_dir)
    out.mkdir(parents=True, exist_ok=True)
    for key, t in result.tables.items():
        if t.save:
            to_csv_for_people(t.frame, out / result.file_name(key), index=t.index)
    if _in_kernel():  # glue speaks to the notebook; from the Python API there is nothing to glue into
        for key, value in result.values.items():
            glue(key, value)
    return ShownChapter(result, cfg)


def _in_kernel() -> bool:
    from IPython import get_ipython

    return get_ipython() is not None
