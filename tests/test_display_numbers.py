"""Numbers in reader tables (cbec.book.chapter._cell_format): one style per column, no false precision."""

import numpy as np
import pandas as pd
import pytest

from cbec.book.chapter import _cell_format


@pytest.mark.parametrize(
    "col,values,shown",
    [
        ("value", [55.0, 65.0, 6.0, 2.5], ["55.0", "65.0", "6.0", "2.5"]),  # the article's figures, not 55.000
        ("years_cbec", [2018.0, 2019.0, np.nan], ["2018", "2019", "—"]),  # years: integers without a separator
        ("n", [1200.0, 35.0], ["1,200", "35"]),
        ("estimate", [0.2315, -0.0001, 1.0], ["0.232", "0.000", "1.000"]),  # no "-0.000"
        ("share", [1.0, 0.83, 0.5], ["1.00", "0.83", "0.50"]),
        ("p_holm", [0.0628803, 0.0004], ["0.063", "< 0.001"]),
    ],
)
def test_each_column_gets_one_style(col, values, shown):
    fmt = _cell_format(col, pd.Series(values, dtype=float))
    assert [fmt(v) for v in values] == shown


def test_codes_in_code_columns_read_as_words_and_sentences_stay_as_written():
    from cbec.book.chapter import styled
    from cbec.study.chapters.base import Table

    frame = pd.DataFrame(
        {
            "method": ["coordination_D_revised", "brand_new_method"],
            "main_market": ["eu_na", "sea"],
            "statement": ["keep_this as written", "x_y"],
        }
    )
    html = styled(Table(frame, "t"), levels={"eu_na": "Europe / North America"}).to_html()
    assert "coordination degree D, revised" in html and "brand new method" in html
    assert "Europe / North America" in html and ">sea<" in html
    assert "keep_this as written" in html and "x_y" in html  # not a code column
    fit = pd.DataFrame({"seven_factor": [1.05]}, index=pd.Index(["chi2_df"], name="index"))
    assert "χ²/df" in styled(Table(fit, "fit", index=True)).to_html()


def test_the_performance_appendix_shows_where_calibration_time_goes():
    """The calibration study's shortfall is explained by its profile: each step's seconds per sample, the
    heaviest (at the largest size) first, with the total (a record without the profile shows no table)."""
    import copy
    import json
    from pathlib import Path

    from cbec.book.generated import performance_page

    bench = json.loads((Path(__file__).parents[1] / "benchmarks/results/latest.json").read_text())
    bench = copy.deepcopy(bench)
    bench["results"]["calibration"]["seconds_per_sample_by_rule"] = {
        "600": {"latent 2S-PA model": 0.2, "measurement invariance": 0.9},
        "2000": {"latent 2S-PA model": 0.3, "measurement invariance": 1.1},
    }
    page = performance_page(bench)
    rows = [line for line in page.splitlines() if line.startswith("| measurement invariance") or
            line.startswith("| latent 2S-PA") or line.startswith("| **all**")]  # fmt: skip
    assert rows == ["| measurement invariance | 0.90 | 1.10 |", "| latent 2S-PA model | 0.20 | 0.30 |",
                    "| **all** | 1.10 | 1.40 |"]  # fmt: skip
    del bench["results"]["calibration"]["seconds_per_sample_by_rule"]
    assert "Where a simulated survey's time goes" not in performance_page(bench)


def test_the_performance_appendix_states_the_calibration_shortfall():
    """A missed calibration target is explained on the page: what the target allows a survey against what the
    rules cost (from the bench's cell-by-cell timing), and the factor; a met target needs no such paragraph."""
    import copy
    import json
    from pathlib import Path

    from cbec.book.generated import performance_page

    bench = json.loads((Path(__file__).parents[1] / "benchmarks/results/latest.json").read_text())
    bench = copy.deepcopy(bench)
    cal = bench["results"]["calibration"]
    cal["full_study_500_one_process_seconds_estimated"] = 3000
    cal["full_study"] = {"reps_timed": [2, 6], "seconds_per_sample_by_size": {"600": 0.25, "5000": 0.45},
                         "target_seconds": 600, "target_reps": 500, "cells": [{}] * 18}  # fmt: skip
    page = performance_page(bench)
    assert "allows 0.067 s a simulated survey" in page and "costs 0.25–0.45 s" in page
    assert "by a factor of about 5." in page
    cal["full_study_500_one_process_seconds_estimated"] = 550
    assert "allows 0.067 s" not in performance_page(bench)
