"""Every supported export of the same answers gives the same clean data."""

import pandas as pd
import pytest
from export_fixtures import wjx_download, write_qualtrics_csv, write_stat_file, write_wjx_csv, write_wjx_xlsx

from cbec.article.simulate import SimulationConfig, simulate_survey
from cbec.io.ingest import detect_format, read_survey
from cbec.io.validate import validate_survey

#: Columns that legitimately differ between exports: the file row, and the id (问卷星 numbers rows).
EXPORT_SPECIFIC = ["_source_row", "respondent_id"]


@pytest.fixture(scope="module")
def answers(inst):
    df, _ = simulate_survey(SimulationConfig(n=120, seed=21, dirt=False), inst)
    df = df.copy()
    # A few realistic gaps and one speeder, so missing values and screens travel through every format.
    df.loc[3, "MI11"] = pd.NA
    df.loc[5, "PERF2"] = pd.NA
    df.loc[7, "duration_s"] = 30
    # The channel question is required when fielded: every firm names at least one channel.
    channels = ["ch_marketplace", "ch_independent_site", "ch_social", "ch_b2b"]
    df.loc[df[channels].sum(axis=1) == 0, "ch_marketplace"] = 1
    return df


@pytest.fixture(scope="module")
def reference(answers, inst, tmp_path_factory):
    path = tmp_path_factory.mktemp("tidy") / "tidy.csv"
    answers.to_csv(path, index=False)
    return validate_survey(path, inst)


def _same(result, reference):
    a = result.clean.drop(columns=EXPORT_SPECIFIC)
    b = reference.clean.drop(columns=EXPORT_SPECIFIC)
    pd.testing.assert_frame_equal(a[b.columns], b, check_dtype=False)
    assert result.report["rows_quarantined"] == reference.report["rows_quarantined"]
    assert result.report["by_reason"] == reference.report["by_reason"]


@pytest.mark.parametrize(
    "writer,name,fmt",
    [
        (lambda d, i, p: write_wjx_csv(d, i, p, "gbk"), "wjx_gbk.csv", "wjx"),
        (lambda d, i, p: write_wjx_csv(d, i, p, "utf-8-sig"), "wjx_bom.csv", "wjx"),
        (write_wjx_xlsx, "wjx.xlsx", "wjx"),
        (write_qualtrics_csv, "qualtrics.csv", "qualtrics"),
        (write_stat_file, "survey.sav", "spss"),
        (write_stat_file, "survey.dta", "stata"),
    ],
)
def test_every_format_gives_identical_clean_data(answers, inst, reference, tmp_path, writer, name, fmt):
    path = writer(answers, inst, tmp_path / name)
    assert detect_format(path) == fmt
    result = validate_survey(path, inst)
    assert result.report["format"] == fmt
    _same(result, reference)


def test_wjx_source_rows_and_speeder_row(answers, inst, tmp_path):
    path = write_wjx_csv(answers, inst, tmp_path / "w.csv")
    q = validate_survey(path, inst).quarantine
    assert q.loc[q["reasons"] == "speeder", "_source_row"].astype(int).tolist() == [9]  # header is row 1


def test_wjx_numbered_matrix_rows_by_position(answers, inst, tmp_path):
    from export_fixtures import wjx_table

    t = wjx_table(answers, inst)
    renamed, k = {}, 0
    for c in t.columns:
        if "(" in c:
            k += 1
            renamed[c] = f"{c.split('(')[0]}({k})"
    path = tmp_path / "numbered.xlsx"
    t.rename(columns=renamed).to_excel(path, index=False)
    raw, fmt = read_survey(path, inst)
    assert fmt == "wjx" and list(raw.columns[-len(inst.likert_ids) :]) == inst.likert_ids


def test_mapping_file_for_a_foreign_questionnaire(answers, inst, tmp_path, reference):
    foreign = answers.rename(columns={"MI11": "q_demand_1", "SC11": "flex_a", "employees": "staff"})
    path = tmp_path / "foreign.csv"
    foreign.to_csv(path, index=False)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  q_demand_1: MI11\n  flex_a: SC11\n  staff: employees\n", encoding="utf-8")
    _same(validate_survey(path, inst, mapping=mapping), reference)


def test_mapping_naming_absent_column_is_a_clear_error(answers, inst, tmp_path):
    from cbec.io.ingest import SurveyInputError

    path = tmp_path / "s.csv"
    answers.to_csv(path, index=False)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  nope: MI11\n", encoding="utf-8")
    with pytest.raises(SurveyInputError, match="mapping names columns the file does not have"):
        validate_survey(path, inst, mapping=mapping)


@pytest.mark.parametrize(
    "mode,suffix,encoding",
    [("text", ".xlsx", None), ("text", ".csv", "gbk"), ("number", ".xlsx", None), ("number", ".csv", "utf-8-sig")],
)
def test_wjx_downloads_as_they_are_give_the_tidy_clean_data(answers, reference, inst, tmp_path, mode, suffix, encoding):
    table = wjx_download(answers, inst, mode)
    path = tmp_path / f"wjx_{mode}{suffix}"
    if suffix == ".xlsx":
        table.to_excel(path, index=False, engine="openpyxl")
    else:
        table.to_csv(path, index=False, encoding=encoding)
    assert detect_format(path) == "wjx"
    res = validate_survey(path, inst)
    _same(res, reference)
    rep = res.report
    # every typed number that needed reading is listed with row, column, original and value
    repaired = {r["column"] for r in rep["cells_repaired"]}
    assert {"employees", "years_cbec", "inventory_days"} <= repaired
    wan = [r for r in rep["cells_repaired"] if r["original"].endswith("万")]
    assert wan and all(abs(r["parsed"] * 1e6 - float(r["original"][:-1]) * 1e4) < 1e-3 for r in wan)
    assert any(r["approximate"] for r in rep["cells_repaired"]) or mode == "number"
    reasons = rep["missing_answers"]["by_reason"]
    if mode == "number":
        assert {"skipped_by_logic", "not_shown"} <= set(reasons)
        assert set(rep["option_numbers_mapped"]) >= {"business_model", "main_market", "stage"}
    else:
        assert {"skipped_by_logic", "left_empty"} <= set(reasons)
        other = answers["main_market"] == "other_emerging"
        assert (
            res.clean["main_market__text"].eq("俄罗斯").sum() == int(other.sum()) or res.report["rows_quarantined"] > 0
        )
    for ch in ("ch_marketplace", "ch_independent_site", "ch_social", "ch_b2b"):
        assert res.clean[ch].notna().all()
