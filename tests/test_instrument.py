import pandas as pd
import pytest
import yaml

from cbec.io.instrument import InstrumentError, load_instrument


def test_every_factor_has_three_subdimensions_of_at_least_two_items(inst):
    assert [f.code for f in inst.factors] == ["MI", "SC", "MK", "TP", "RC", "CX", "TO"]
    for f in inst.factors:
        assert len(f.subdimensions) == 3
        for sd in f.subdimensions:
            assert len(sd.items) >= 2
            assert all(it.id == f"{f.code}{sd.index}{j}" for j, it in enumerate(sd.items, start=1))
    assert len(inst.factor_item_ids) >= 42


def test_ids_unique_and_both_languages_present(inst):
    cols = inst.columns
    assert len(cols) == len(set(cols))
    for it in inst.items.values():
        assert it.en.strip() and it.zh.strip()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in it.zh), it.id
    for f in inst.fields:
        assert f.en.strip() and f.zh.strip()


def test_contract_columns_present(inst):
    needed = {
        "respondent_id",
        "duration_s",
        "employees",
        "size_class",
        "business_model",
        "main_market",
        "years_cbec",
        "stage",
        "revenue_growth_pct",
        "net_margin_pct",
        "inventory_days",
        "repurchase_pct",
        "ATT1",
        "PERF1",
    }
    assert needed <= set(inst.columns)


def test_reverse_items_marked(inst):
    assert set(inst.reverse_items) == {"MI32", "SC32", "MK32", "RC32", "CX32", "TO32"}


def test_size_rule(inst):
    emp = pd.Series([299, 300, 300, 5000, None])
    band = pd.Series(["ge200m", "ge200m", "20m_100m", None, "ge200m"])
    assert inst.derive_size_class(emp, band).tolist() == ["sme", "large", "sme", "large", pd.NA]


def test_labels_map_chinese_and_english(inst):
    m = inst.likert_label_map
    assert m["非常同意"] == 7 and m["strongly disagree"] == 1 and m["一般"] == 4 and m["比较同意"] == 5


def test_malformed_instrument_rejected(tmp_path, inst):
    """A dropped sub-dimension is allowed (a researcher's own version); a factor with none, or a sub-dimension
    with one item, is not."""
    raw = yaml.safe_load(inst.path.read_text(encoding="utf-8"))
    raw["factors"][0]["subdimensions"] = raw["factors"][0]["subdimensions"][:2]
    ok = tmp_path / "two.yaml"
    ok.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert len(load_instrument(ok).factor_items["MI"]) == 4
    raw["factors"][0]["subdimensions"] = []
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InstrumentError, match="lists no items"):
        load_instrument(bad)
    raw = yaml.safe_load(inst.path.read_text(encoding="utf-8"))
    raw["factors"][1]["subdimensions"][0]["items"] = raw["factors"][1]["subdimensions"][0]["items"][:1]
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InstrumentError, match="at least two items"):
        load_instrument(bad)


def test_data_dictionary_covers_every_column(inst):
    dd = inst.data_dictionary()
    assert list(dd["column"]) == [f.id for f in inst.fields] + list(inst.items) + [inst.attention_id, "MV1"]
    assert list(dd["column"]) == inst.columns


def test_the_marker_is_optional(tmp_path, inst):
    raw = yaml.safe_load(inst.path.read_text(encoding="utf-8"))
    del raw["marker"]
    path = tmp_path / "no_marker.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    plain = load_instrument(path)
    assert plain.marker_id is None and "MV1" not in plain.likert_ids and inst.marker_id == "MV1"
