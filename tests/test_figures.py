"""Figures for reading: every figure the book shows is legible on a phone, legends stay off the data, log axes
read as plain numbers, estimates carry their uncertainty."""

import tempfile

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from cbec.article.groups import predicted_by_size
from cbec.book import figures
from cbec.book.chapter import ShownChapter
from cbec.study.chapters.base import ChapterResult, RunConfig

ITEMS = [f"{f}{k}{j}" for f in ("MI", "SC", "MK", "TP", "RC", "CX", "TO") for k in (1, 2, 3) for j in (1, 2)]


def _shown(draw: str, *args, **kwargs):
    r = ChapterResult("x")
    r.figure("f", draw, *args, **kwargs)
    return ShownChapter(r, RunConfig(results_dir=tempfile.mkdtemp(prefix="cbec-fig-"))).fig("f")


@pytest.mark.parametrize(
    "draw, args",
    [
        (
            "item_missingness",
            (pd.Series(np.linspace(0, 0.03, len(ITEMS) + 4), index=ITEMS + ["PERF1", "PERF2", "A1", "MV1"]),),
        ),
        (
            "scale_curve",
            (
                pd.DataFrame(
                    {"n": [1e3, 1e4, 1e5, 1e6], "seconds": [0.4, 0.6, 2.2, 23], "peak_rss_mb": [280, 310, 640, 3100]}
                ),
                0.79,
            ),
        ),
    ],
)
def test_every_text_of_a_shown_figure_is_legible_at_390_px(draw, args):
    before = getattr(figures, draw)(*args)
    after = _shown(draw, *args)
    assert figures.smallest_text_px(after) >= figures.MIN_TEXT_PX - 1e-9
    assert figures.smallest_text_px(before) <= figures.smallest_text_px(after)


def test_legible_raises_small_text_to_the_phone_floor_and_keeps_larger_text():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 3))
    ax.set_xticks(range(3), ["a", "b", "c"], fontsize=5)
    ax.set_title("big", fontsize=30)
    assert figures.smallest_text_px(fig) < figures.MIN_TEXT_PX
    figures.legible(fig)
    assert figures.smallest_text_px(fig) == pytest.approx(figures.MIN_TEXT_PX)
    assert ax.title.get_fontsize() == 30
    plt.close(fig)


def test_missingness_legend_names_each_block_of_items_by_its_letters():
    fig = figures.item_missingness(pd.Series(0.01, index=["PERF1", "MI11", "A1", "MI12"]))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["A", "MI", "PERF"]


def test_log_axes_read_as_plain_numbers():
    fig = figures.scale_curve(
        pd.DataFrame({"n": [1e3, 1e4, 1e5, 1e6], "seconds": [0.4, 0.6, 2.2, 23], "peak_rss_mb": [280, 310, 640, 3100]}),
        0.79,
    )
    fig.canvas.draw()
    ticks = [t.get_text() for a in fig.axes for t in a.get_yticklabels() if t.get_text()]
    assert "0.5" in ticks and "2" in ticks and not any("10^" in t or "times" in t for t in ticks)


def test_the_case_legend_sits_above_the_bars():
    scores = pd.DataFrame(
        {"factor": ["MI", "SC"] * 2, "firm_id": ["a", "a", "b", "b"], "firm": ["A", "A", "B", "B"], "score": [7] * 4}
    )
    fig = figures.case_comparison(scores)
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1


def test_size_paths_carry_pointwise_intervals_that_widen_away_from_the_data():
    rng = np.random.default_rng(3)
    n = 400
    profile = pd.DataFrame({"spread": rng.normal(size=n), "level": rng.normal(size=n)})
    sme = pd.Series(rng.integers(0, 2, n).astype(float))
    y = pd.Series(0.3 * profile["spread"] * sme + rng.normal(size=n))
    pred = predicted_by_size(profile, y, sme, "spread", level=0.9)
    assert (pred["ci_low"] < pred["predicted"]).all() and (pred["predicted"] < pred["ci_high"]).all()
    large = pred[pred["group"] == "large"].set_index("spread")
    width = large["ci_high"] - large["ci_low"]
    assert width.iloc[0] > width.loc[0.0] < width.iloc[-1]
    wider = predicted_by_size(profile, y, sme, "spread", level=0.99)
    assert ((wider["ci_high"] - wider["ci_low"]) > (pred["ci_high"] - pred["ci_low"])).all()
    fig = figures.predicted_by_group(pred, "spread", "spread")
    assert len(fig.axes[0].collections) == 2  # one band per group


def test_a_shown_figure_leaves_its_vector_version_beside_the_tables(tmp_path):
    # the high-resolution version of every figure: an SVG named like the chapter's tables, byte-identical when
    # drawn again (no date, fixed ids), so a re-run changes no download
    r = ChapterResult("x")
    r.figure("f", "item_missingness", pd.Series([0.0, 0.01, 0.02], index=["MI11", "MI12", "SC11"]))
    shown = ShownChapter(r, RunConfig(results_dir=str(tmp_path)))
    shown.fig("f")
    first = (tmp_path / "x_f.svg").read_bytes()
    shown.fig("f")
    assert (tmp_path / "x_f.svg").read_bytes() == first
    assert b"<svg" in first[:400] and b"<dc:date>" not in first and b"<text" not in first  # text drawn as paths


def test_palette_png_is_smaller_and_true_to_the_figure_and_leaves_transparency_alone():
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    from cbec.book.png import palette

    fig = figures.predicted_by_group(
        pd.DataFrame({"group": ["large"] * 3 + ["sme"] * 3, "spread": [0.0, 1, 2] * 2, "predicted": [0, 1, 2, 1, 1, 1],
                      "ci_low": [-1, 0, 1, 0, 0, 0], "ci_high": [1, 2, 3, 2, 2, 2]}), "spread", "spread")  # fmt: skip
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    rgba = buf.getvalue()
    small = palette(rgba)
    assert len(small) < 0.6 * len(rgba)
    with Image.open(io.BytesIO(rgba)) as a, Image.open(io.BytesIO(small)) as b:
        assert b.mode == "P"
        before, after = np.asarray(a.convert("RGB"), dtype=int), np.asarray(b.convert("RGB"), dtype=int)
    assert np.abs(before - after).max() <= 16
    white = (before == 255).all(axis=2)
    assert white.mean() > 0.3 and (after[white] == 255).all()  # the background stays white
    assert palette(small) is small  # a palette already
    see_through = io.BytesIO()
    Image.new("RGBA", (40, 40), (255, 0, 0, 100)).save(see_through, "PNG")
    assert palette(see_through.getvalue()) == see_through.getvalue()  # transparency: left as it is
