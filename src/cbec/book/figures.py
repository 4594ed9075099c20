"""Figures for the book. Each function takes tidy results and returns a matplotlib Figure.

Chinese labels (firm names, the questionnaire's wording) need a CJK font: ``make`` installs Debian's
``fonts-noto-cjk`` and this module registers it with matplotlib as a fallback behind DejaVu Sans, so Latin
text keeps its usual face. Without the package, figures still draw (Chinese glyphs then show as boxes);
no font is ever fetched at build time.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.text import Text

from cbec.io.instrument import Instrument
from cbec.io.safe_text import visible_controls

#: Where Debian's fonts-noto-cjk puts the font (the Makefile installs it).
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
)


def _use_cjk_font() -> str | None:
    """Register the CJK faces (regular and bold, so bold labels find one) as a fallback behind DejaVu Sans."""
    from matplotlib import font_manager

    present = [p for p in CJK_FONT_FILES if Path(p).exists()]
    for path in present:
        font_manager.fontManager.addfont(path)
    if not present:
        return None
    name = font_manager.FontProperties(fname=present[0]).get_name()
    plt.rcParams["font.family"] = ["DejaVu Sans", name]
    return name


CJK_FONT = _use_cjk_font()


def factor_colours(codes) -> dict:
    """One colour per factor, in the instrument's order (the shipped seven keep their usual colours)."""
    return dict(zip(codes, sns.color_palette("colorblind", max(len(codes), 7)), strict=False))


FACTOR_COLOURS = factor_colours(("MI", "SC", "MK", "TP", "RC", "CX", "TO"))


def literal(text: object) -> str:
    """Text from data as matplotlib must be given it to show it literally: a ``$`` would start mathtext (a
    file name ``$x^$.md`` aborted a figure), so it is escaped; invisible characters are shown as marks.

    >>> literal("$x^$.md")
    '\\\\$x^\\\\$.md'
    >>> literal("a\\u202eb")
    'a[U+202E]b'
    """
    return visible_controls(str(text)).replace("$", r"\$")


#: The book's narrowest reading: a 390-px phone screen, whose text column is 358 px wide; every figure is scaled
#: to it, and no text may come out smaller than MIN_TEXT_PX there (measured in the browser test's screenshots).
PHONE_COLUMN_PX = 358
MIN_TEXT_PX = 7.0


def smallest_text_px(fig: plt.Figure, column_px: int = PHONE_COLUMN_PX) -> float:
    """The height in screen pixels of the figure's smallest text when the figure is shown ``column_px`` wide:
    font size in points × (column width / figure width in points), whatever the dpi."""
    fig.canvas.draw()  # tick labels exist only once drawn
    sizes = [float(t.get_fontsize()) for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes) * column_px / (72 * fig.get_figwidth()) if sizes else float("inf")


def legible(fig: plt.Figure, min_px: float = MIN_TEXT_PX, column_px: int = PHONE_COLUMN_PX) -> plt.Figure:
    """Raise every text of ``fig`` (titles, labels, tick labels, legends, annotations) to the size that shows
    ``min_px`` high on a phone, then lay the figure out again. One rule for every figure, so no figure function
    has to know the width it will be read at."""
    floor = min_px * 72 * fig.get_figwidth() / column_px
    fig.canvas.draw()
    for ax in fig.axes:  # through the tick parameters too, so ticks made at a later draw get the size
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            sizes = [float(t.get_fontsize()) for t in axis.get_ticklabels(which="both")]
            if sizes and min(sizes) < floor:
                ax.tick_params(axis=name, which="both", labelsize=floor)  # type: ignore[arg-type]
    for t in fig.findobj(Text):
        if float(t.get_fontsize()) < floor:
            t.set_fontsize(floor)
    if fig.get_layout_engine() is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tight_layout warns when an axes cannot shrink; it still helps
            fig.tight_layout()
    return fig


def save(fig: plt.Figure, path: str | Path, dpi: int = 150) -> Path:
    """Write a figure the book includes as a file (legible on a phone, like every figure of the chapters)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    legible(fig).savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def save_svg(fig: plt.Figure, path: str | Path) -> Path:
    """The vector version of a figure the book shows, for print and slides at any size. Text is drawn as paths
    (a reader's machine may lack the CJK font) and the file is reproducible: no date, fixed element ids."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with plt.rc_context({"svg.hashsalt": "cbec", "svg.fonttype": "path"}):
        fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    return path


def seven_factor_system(inst: Instrument, highlight: tuple[str, str] = ("MI", "SC")) -> plt.Figure:
    """The seven factors on a ring, every pair linked; the article's headline pair drawn bold."""
    codes = inst.factor_codes
    angles = np.pi / 2 - 2 * np.pi * np.arange(len(codes)) / len(codes)
    pos = {c: (np.cos(a), np.sin(a)) for c, a in zip(codes, angles, strict=False)}
    fig, ax = plt.subplots(figsize=(8.5, 8))
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            strong = {a, b} == set(highlight)
            (x0, y0), (x1, y1) = pos[a], pos[b]
            ax.plot(
                [x0, x1],
                [y0, y1],
                color="black" if strong else "0.82",
                lw=5 if strong else 0.8,
                zorder=1.5 if strong else 1,
            )
    for c in codes:
        x, y = pos[c]
        f = inst.factor(c)
        ax.scatter([x], [y], s=2300, color=factor_colours(codes)[c], zorder=2, edgecolor="white", linewidth=2)
        ax.text(x, y, c, ha="center", va="center", fontsize=13, weight="bold", color="white", zorder=3)
        # Labels sit outside the ring, aligned away from it so they never overlap a node.
        lx, ly = 1.38 * x, 1.38 * y
        ha = "left" if x > 0.3 else ("right" if x < -0.3 else "center")
        va = "bottom" if y > 0.9 else ("top" if y < -0.6 else "center")
        subs = "\n".join(sd.en for sd in f.subdimensions)
        ax.text(lx, ly, f"{f.en}\n{subs}", ha=ha, va=va, fontsize=8.5, linespacing=1.3)
    ax.text(0, 0, "21 pairwise\ncouplings", ha="center", va="center", fontsize=10, color="0.35")
    ax.set_xlim(-2.5, 2.5)
    ax.set_ylim(-2.0, 2.0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        f"The {len(codes)} success factors of the questionnaire (bold: the pair the article singles out)", fontsize=10
    )
    return fig


def intake_flow(report: dict) -> plt.Figure:
    """Rows received -> quarantined by reason -> analysed, as a horizontal bar chart."""
    reasons = report["by_reason"]
    labels = ["received", *[f"flag: {k}" for k in reasons], "quarantined (rows)", "analysed"]
    values = [report["rows_in"], *reasons.values(), report["rows_quarantined"], report["rows_clean"]]
    colours = ["0.4", *["#d55e00"] * len(reasons), "#b03a00", "#009e73"]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(labels) + 1))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=colours)
    for yi, v in zip(y, values, strict=False):
        ax.text(v, yi, f" {v}", va="center", fontsize=9)
    ax.set_yticks(y, labels)
    ax.set_xlabel("rows (a quarantined row may carry several flags)")
    ax.set_title("From rows received to rows analysed")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def item_missingness(missing_share: pd.Series) -> plt.Figure:
    """Share of missing answers per item among analysed rows (before imputation): one bar per item, items down
    the page grouped by factor (so the labels stay legible on a phone), coloured by factor with a legend."""

    def block(item: str) -> str:  # the item id's letters: MI11 -> MI, PERF2 -> PERF, a study's A3 -> A
        m = re.match(r"[^\W\d_]*", str(item))
        return (m.group(0) if m else "") or str(item)

    s = missing_share.sort_index(key=lambda idx: [(block(i), i) for i in idx])
    fig, ax = plt.subplots(figsize=(6, 0.17 * len(s) + 1.4))
    y = np.arange(len(s))[::-1]
    colours = [FACTOR_COLOURS.get(block(i), "0.5") for i in s.index]
    ax.barh(y, 100 * s.to_numpy(), color=colours, height=0.75)
    ax.set_yticks(y, s.index, fontsize=8.5)
    ax.set_ylim(-0.6, len(s) - 0.4)
    ax.set_xlabel("missing (%)")
    groups = list(dict.fromkeys(block(i) for i in s.index))
    handles = [plt.Rectangle((0, 0), 1, 1, color=FACTOR_COLOURS.get(g, "0.5")) for g in groups]
    ax.legend(handles, groups, loc="lower right", fontsize=8.5, frameon=True, title="factor", title_fontsize=8.5)
    ax.set_title("Item non-response among analysed rows\n(filled within factor before scoring)", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def loadings_plot(loadings: pd.DataFrame, level: str = "95%") -> plt.Figure:
    """Standardised loadings with their intervals (at ``level``) per item; planted values as crosses when known.

    ``loadings`` has ``factor, item, std_loading, ci_low, ci_high`` and optionally ``truth``.
    """
    d = loadings.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.5, 0.19 * len(d) + 1.2))
    y = np.arange(len(d))[::-1]
    colours = [FACTOR_COLOURS.get(f, "0.4") for f in d["factor"]]
    ax.hlines(y, d["ci_low"], d["ci_high"], color=colours, lw=2)
    ax.scatter(d["std_loading"], y, color=colours, s=18, zorder=3, label=f"estimate ({level} CI)")
    if "truth" in d and d["truth"].notna().any():
        ax.scatter(d["truth"], y, marker="x", color="black", s=18, zorder=4, label="planted (simulation)")
    ax.set_yticks(y, d["item"], fontsize=9)
    ax.axvline(0.7, color="0.6", ls=":", lw=1)
    ax.set_xlabel("standardised loading")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("CFA loadings of the seven-factor model")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def matrix_heatmap(
    matrix: pd.DataFrame,
    title: str,
    threshold: float | None = None,
    fmt: str = ".2f",
    cmap: str = "rocket_r",
    center: float | None = None,
) -> plt.Figure:
    """A labelled heatmap of a square matrix (HTMT, correlations, pair effects); cells above
    ``threshold`` are outlined."""
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    # labels can come from data (transcript file names, firm names): shown as text, never as mathtext
    matrix = matrix.rename(index=literal, columns=literal)
    mask = np.eye(len(matrix), dtype=bool) if matrix.shape[0] == matrix.shape[1] else None
    sns.heatmap(
        matrix.astype(float),
        annot=True,
        fmt=fmt,
        cmap=cmap,
        mask=mask,
        center=center,
        square=True,
        cbar_kws={"shrink": 0.8},
        ax=ax,
    )
    if threshold is not None:
        for i in range(matrix.shape[0]):
            for j in range(matrix.shape[1]):
                if i != j and float(matrix.iat[i, j]) > threshold:
                    ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, edgecolor="red", lw=2))
    ax.set_title(title)
    return fig


def pair_estimate_heatmap(table: pd.DataFrame, factors: list[str], title: str) -> plt.Figure:
    """The 21 pair estimates of one model as a lower-triangle heatmap, large numbers and a colour bar, so it
    stays readable on a phone."""
    mat = pd.DataFrame(np.nan, index=factors, columns=factors)
    for r in table.itertuples():
        mat.loc[r.factor_b, r.factor_a] = r.estimate
    fig, ax = plt.subplots(figsize=(6.2, 5.2))
    lim = float(np.nanmax(np.abs(mat.to_numpy()))) or 1.0
    sns.heatmap(
        mat.iloc[1:, :-1],
        annot=True,
        fmt=".2f",
        cmap="vlag",
        center=0,
        vmin=-lim,
        vmax=lim,
        ax=ax,
        annot_kws={"fontsize": 11},
        cbar_kws={"label": "coefficient (SD of performance per SD²)"},
        linewidths=0.5,
        linecolor="white",
    )
    ax.set_title(title, fontsize=11)
    ax.tick_params(labelsize=11)
    return fig


def rank_sets_plot(ranks: pd.DataFrame, coverage: float = 0.95) -> plt.Figure:
    """Every pair's estimate rank with its simultaneous rank confidence set (as csranks plots them)."""
    g = ranks.sort_values(["rank", "estimate"], ascending=[True, False]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(g) + 1.3))
    y = np.arange(len(g))[::-1]
    top = g["rank_high"] == 1
    ax.hlines(y, g["rank_low"] - 0.3, g["rank_high"] + 0.3, color=np.where(top, "#0072b2", "0.6"), lw=5, alpha=0.6)
    ax.scatter(g["rank"], y, color="black", zorder=3, s=18)
    ax.set_yticks(y, [f"{a} × {b}" for a, b in zip(g["factor_a"], g["factor_b"], strict=False)], fontsize=9)
    ax.set_xlim(0.3, len(g) + 0.7)
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))  # ranks are whole numbers (no 2.5)
    ax.set_xlabel(f"rank (1 = strongest); bars: {coverage:.0%} simultaneous rank confidence sets")
    ax.set_title(f"How sure is the ranking of the {len(g)} couplings?")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def ranked_forest(table: pd.DataFrame, level: float = 0.95) -> plt.Figure:
    """Pairs ranked by estimate with the same 95% Wald intervals the text quotes."""
    g = table.sort_values("estimate", ascending=False).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.5, 0.28 * len(g) + 1.2))
    y = np.arange(len(g))[::-1]
    sig = g["p_holm"] < (1 - level)
    ax.hlines(y, g["ci_low"], g["ci_high"], color=np.where(sig, "#0072b2", "0.6"), lw=2)
    ax.scatter(g["estimate"], y, color=np.where(sig, "#0072b2", "0.6"), zorder=3, s=16)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [f"{a} × {b}" for a, b in zip(g["factor_a"], g["factor_b"], strict=False)], fontsize=8)
    ax.set_xlabel(f"estimate with {level:.0%} interval; blue: significant after Holm's adjustment")
    ax.set_title("Pair couplings in the joint model")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def simple_slopes_plot(slopes: pd.DataFrame, a: str, b: str) -> plt.Figure:
    """Predicted performance against factor a at low/mean/high b (standardised units)."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    xs = np.linspace(-2, 2, 50)
    for r in slopes.itertuples():
        ax.plot(xs, r.slope * xs, label=f"{b} at {r.moderator_level_sd:+.0f} SD (slope {r.slope:.2f})")
    ax.set_xlabel(f"{a} (standardised)")
    ax.set_ylabel("performance (standardised, relative)")
    ax.legend(fontsize=8)
    ax.set_title(f"Simple slopes of {a} by level of {b}")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def response_surface(surface: pd.DataFrame, a: str, b: str) -> plt.Figure:
    """Contour map of a fitted response surface with the lines of congruence (a = b) and
    incongruence (a = -b); axes in scale points from the midpoint."""
    ga = np.sort(surface[a].unique())
    gb = np.sort(surface[b].unique())
    z = surface.pivot_table(index=a, columns=b, values="predicted").loc[ga, gb].to_numpy()
    fig, ax = plt.subplots(figsize=(5.5, 4.6))
    cs = ax.contourf(gb, ga, z, levels=14, cmap="viridis")
    fig.colorbar(cs, ax=ax, label="predicted performance (SD units)")
    lim = float(max(abs(ga).max(), abs(gb).max()))
    ax.plot([-lim, lim], [-lim, lim], color="white", lw=1.5, label="congruence (a = b)")
    ax.plot([-lim, lim], [lim, -lim], color="white", lw=1.5, ls="--", label="incongruence (a = -b)")
    ax.set_xlabel(f"{b} (points from scale midpoint)")
    ax.set_ylabel(f"{a} (points from scale midpoint)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"Response surface of performance on {a} and {b}")
    return fig


def power_curves(curve: pd.DataFrame, target: float = 0.8) -> plt.Figure:
    """Simulated power against firms surveyed, one colour per effect size: solid, the planted pair
    Holm-significant; dashed, the book's verdict for a pre-specified pair (larger than every other pair)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for g, d in curve.groupby("gamma"):
        line = ax.errorbar(
            d["n"], d["power_holm"], yerr=1.96 * d["mc_se"], marker="o", capsize=3, label=f"coupling {g:.2f} SD"
        )
        if "power_verdict" in d:
            ax.plot(d["n"], d["power_verdict"], ls="--", marker=".", color=line[0].get_color(), lw=1)
    ax.plot([], [], ls="--", color="0.3", label="verdict: above every other pair")
    ax.axhline(target, color="0.5", ls=":", lw=1)
    ax.set_xlabel("firms surveyed (after screening)")
    ax.set_ylabel("probability (Holm-significant / verdict)")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("How many firms are needed to detect a coupling?")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def predicted_by_group(pred: pd.DataFrame, measure: str, label: str) -> plt.Figure:
    """Predicted performance against a profile measure, one line per size group, with its pointwise interval
    band when ``pred`` has ``ci_low``/``ci_high``."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for g, d in pred.groupby("group"):
        (line,) = ax.plot(d[measure], d["predicted"], lw=2, label="SMEs" if g == "sme" else "large firms")
        if {"ci_low", "ci_high"} <= set(d.columns):
            ax.fill_between(d[measure], d["ci_low"], d["ci_high"], color=line.get_color(), alpha=0.18, lw=0)
    ax.set_xlabel(f"{label} (standardised)")
    ax.set_ylabel("predicted performance (SD units)")
    ax.legend()
    ax.set_title(f"Performance and {label}, by firm size", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def group_difference_forest(table: pd.DataFrame, title: str, alpha: float = 0.05) -> plt.Figure:
    """Difference in coupling (focal minus reference group) for every pair, with intervals at level 1 − alpha;
    orange where Holm-significant at ``alpha``."""
    g = table.sort_values("difference").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6, 0.28 * len(g) + 1.2))
    y = np.arange(len(g))
    sig = g["p_holm"] < alpha
    ax.hlines(y, g["ci_low"], g["ci_high"], color=np.where(sig, "#d55e00", "0.6"), lw=2)
    ax.scatter(g["difference"], y, color=np.where(sig, "#d55e00", "0.6"), s=14, zorder=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [f"{a} × {b}" for a, b in zip(g["factor_a"], g["factor_b"], strict=False)], fontsize=8)
    ax.set_xlabel(f"difference in coupling ({1 - alpha:.0%} CI); orange: Holm-significant")
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def case_comparison(scores: pd.DataFrame) -> plt.Figure:
    """Rubric scores of the case firms on the seven factors (coded from the article), side by side."""
    piv = scores.pivot(index="factor", columns="firm_id", values="score")
    piv = piv.reindex([c for c in FACTOR_COLOURS if c in piv.index] + [c for c in piv.index if c not in FACTOR_COLOURS])
    labels = {fid: name for fid, name in zip(scores["firm_id"], scores["firm"], strict=False)}
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(piv))
    w = 0.38
    for k, col in enumerate(piv.columns):
        name = labels[col].split(" (")[-1].rstrip(")") if "(" in labels[col] else labels[col]
        ax.bar(x + (k - 0.5) * w, piv[col], width=w, label=name)
    ax.set_xticks(x, piv.index)
    ax.set_ylim(1, 7.4)
    ax.set_ylabel("rubric score (1–7)")
    # Above the axes: the bars reach the top of the scale, so a legend inside covered them.
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(piv.columns), frameon=False)
    ax.set_title("The two case firms (coded from the article)", pad=28)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def cooccurrence_network(
    co: pd.DataFrame, title: str = "Factors mentioned together in interview answers"
) -> plt.Figure:
    """Factors as nodes (size: segments mentioning them), edges weighted by joint mentions."""
    import networkx as nx

    g = nx.Graph()
    codes = list(co.index)
    for c in codes:
        g.add_node(c, weight=float(co.loc[c, c]))
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            if co.loc[a, b] > 0:
                g.add_edge(a, b, weight=float(co.loc[a, b]))
    angles = np.pi / 2 - 2 * np.pi * np.arange(len(codes)) / len(codes)
    pos = {c: (np.cos(t), np.sin(t)) for c, t in zip(codes, angles, strict=False)}
    fig, ax = plt.subplots(figsize=(6, 6))
    wmax = max([d["weight"] for *_, d in g.edges(data=True)] or [1.0])
    for a, b, d in g.edges(data=True):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.plot([x0, x1], [y0, y1], color="0.3", lw=0.5 + 6 * d["weight"] / wmax, alpha=0.7, zorder=1)
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"{int(d['weight'])}", fontsize=7, color="0.2", ha="center")
    nmax = max(co.to_numpy().diagonal().max(), 1)
    for c in codes:
        ax.scatter(
            *pos[c],
            s=400 + 2600 * co.loc[c, c] / nmax,
            color=FACTOR_COLOURS.get(c, "0.5"),
            zorder=2,
            edgecolor="white",
            linewidth=2,
        )
        ax.text(*pos[c], c, ha="center", va="center", color="white", weight="bold", zorder=3)
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return fig


def scale_curve(rows: pd.DataFrame, exponent: float) -> plt.Figure:
    """Wall time and peak memory of read + validate + score + 21 pair models against firms, log–log."""
    fig, ax = plt.subplots(1, 2, figsize=(8.5, 3.4))
    ax[0].loglog(rows["n"], rows["seconds"], "o-", color="#1f5f8b")
    ax[0].set(xlabel="firms", ylabel="seconds", title=f"Time (growth exponent {exponent:.2f})")
    ax[1].loglog(rows["n"], rows["peak_rss_mb"] / 1024, "o-", color="#b5651d")
    ax[1].axhline(4, color="grey", lw=0.8, ls="--")
    ax[1].set(xlabel="firms", ylabel="GB", title="Peak memory (target 4 GB dashed)")
    for a in ax:
        a.grid(True, which="both", lw=0.3)
        # Plain numbers at 1, 2, 5 × 10^k on the log axes (0.5, 1, 2), not 6×10⁻¹.
        a.yaxis.set_major_locator(mticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        a.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
        a.yaxis.set_minor_formatter(mticker.NullFormatter())
    fig.tight_layout()
    return fig


def estimator_comparison(couplings: pd.DataFrame) -> plt.Figure:
    """The 21 couplings under each estimator, one row per pair (largest by regression first)."""
    t = couplings.iloc[::-1]
    labels = [f"{a} × {b}" for a, b in zip(t["factor_a"], t["factor_b"], strict=True)]
    fig, ax = plt.subplots(figsize=(6.5, 6.2))
    y = np.arange(len(t))
    for col, marker, colour, name in (
        ("regression", "o", "#1f5f8b", "regression (mean scores)"),
        ("pls_two_stage", "s", "#b5651d", "PLS two-stage"),
        ("latent_2spa", "D", "#2e7d32", "constructs (2S-PA)"),
        ("pls_product_indicator", "^", "#7b1fa2", "PLS product indicators"),
    ):
        if col in t:
            ax.scatter(t[col], y, marker=marker, color=colour, label=name, s=22, zorder=3)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, labels)
    ax.set_xlabel("coupling (per SD of both factors)")
    # where it covers fewest markers: the emptiest corner depends on the survey
    ax.legend(loc="best", fontsize=8, frameon=True)
    ax.grid(axis="x", lw=0.3)
    fig.tight_layout()
    return fig


def calibration_panels(rows: pd.DataFrame, alpha: float) -> plt.Figure:
    """The calibration study in two panels against firms: (a) how often the construct-level interval covers
    the value the model estimates for the strongest planted coupling, (b) how often some unplanted pair is
    Holm-significant, for both models. One colour per world, one legend for both panels."""
    fig, ax = plt.subplots(1, 2, figsize=(8.5, 4.0), sharex=True)
    lat = rows[rows["rule"] == "latent_2spa"]
    first = lat.sort_values("planted", ascending=False).drop_duplicates(["scenario", "n"])
    worlds = list(dict.fromkeys(rows["scenario"]))
    palette = dict(zip(worlds, sns.color_palette("colorblind", len(worlds)), strict=True))
    for scen, g in first.groupby("scenario", sort=False):
        ax[0].plot(g["n"], g["coverage_pseudo"], "o-", color=palette[scen])
    ax[0].axhline(1 - alpha, color="grey", lw=0.8, ls="--")
    ax[0].axhline(0.90, color="grey", lw=0.8, ls=":")
    ax[0].set(ylim=(0.5, 1.01), ylabel="share of samples")
    ax[0].set_title("(a) interval covers the model's value\n(strongest planted pair)", fontsize=10)
    for rule, style in (("latent_any_unplanted", "o-"), ("observed_any_unplanted", "s--")):
        for scen, g in rows[rows["rule"] == rule].groupby("scenario", sort=False):
            ax[1].plot(g["n"], g["share"], style, color=palette[scen], ms=4)
    ax[1].axhline(alpha, color="grey", lw=0.8, ls="--")
    ax[1].set(ylim=(0, None))
    ax[1].set_title("(b) some unplanted pair significant\n(solid: constructs, dashed: scores)", fontsize=10)
    sizes = sorted(rows["n"].unique())
    for a in ax:
        a.set_xscale("log")
        a.set_xticks(sizes, [f"{n:,}" for n in sizes])
        a.minorticks_off()
        a.set_xlabel("firms")
        a.grid(True, lw=0.3)
    handles = [plt.Line2D([], [], color=palette[w], marker="o", label=literal(w)) for w in worlds]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(worlds), 6), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
