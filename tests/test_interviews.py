"""Interview pipeline: reading, skipping, pseudonymisation, coding, agreement."""

import numpy as np
import pandas as pd
import pytest
from interview_fixtures import SECRETS, write_fixture_transcripts

from cbec.book.staging import SHIPPED_INTERVIEWS
from cbec.study import interviews as iv

#: The shipped codebook's factors, in its order.
SEVEN = ["MI", "SC", "MK", "TP", "RC", "CX", "TO"]

#: Floor for the automatic coder against the gold sample: "substantial" agreement (Landis & Koch 1977) pooled,
#: and at least "moderate-to-substantial" per factor. Measured when written: pooled 0.895, lowest factor 0.68.
KAPPA_FLOOR_POOLED = 0.75
KAPPA_FLOOR_FACTOR = 0.60


@pytest.fixture(scope="module")
def fixture_corpus(tmp_path_factory):
    return iv.read_transcripts(write_fixture_transcripts(tmp_path_factory.mktemp("iv")))


def test_bad_files_are_skipped_with_reasons(fixture_corpus):
    skipped = fixture_corpus.skipped.set_index("file")["reason"]
    assert set(skipped.index) == {"no_front_matter.md", "bad_size.md", "empty.txt", "binary.md"}
    assert "front matter" in skipped["no_front_matter.md"]
    assert "size_class" in skipped["bad_size.md"]
    assert "empty" in skipped["empty.txt"]
    assert "decode" in skipped["binary.md"] or "front matter" in skipped["binary.md"]
    assert set(fixture_corpus.files["file"]) == {"good_zh.md", "good_en.txt", "gbk_zh.md"}


def test_all_turn_styles_and_encodings_are_read(fixture_corpus):
    seg = fixture_corpus.segments
    assert (seg.groupby("file")["speaker"].apply(set) == {"interviewer", "respondent"}).all()
    assert "预测模型" in " ".join(seg.loc[seg["file"] == "gbk_zh.md", "text"])


def test_identifying_details_never_leave_the_reader(fixture_corpus):
    text = " ".join(fixture_corpus.segments["text"])
    for secret in SECRETS:
        assert secret not in text, secret
    assert "[EMAIL]" in text and "[PHONE]" in text and "[URL]" in text and "[IP]" in text


def test_placeholders_are_stable(fixture_corpus):
    seg = fixture_corpus.segments
    en = " ".join(seg.loc[seg["file"] == "good_en.txt", "text"])
    # "Oliver", "Oliver Grant" and "Mr Grant" are one person with one placeholder.
    persons = {p for p in pd.Series(en).str.findall(r"\[PERSON-\d+\]").iloc[0]}
    assert len(persons) == 1


def test_domain_terms_are_not_split_and_latin_terms_match_inside_chinese(fixture_corpus):
    coded = iv.code_segments(fixture_corpus.segments, iv.load_codebook())
    zh = coded[coded["file"] == "good_zh.md"]
    assert {"SC1", "SC2", "MI2"} <= set(zh["subdimension"])
    assert "小单快反" in " ".join(zh["matched_terms"]) and "海外仓" in " ".join(zh["matched_terms"])
    assert {"RC1", "RC3"} <= set(zh["subdimension"])
    en = coded[coded["file"] == "good_en.txt"]
    assert {"TP1", "TP2", "SC1", "CX3", "TO2", "TO3"} <= set(en["subdimension"])
    # Several codes on one segment.
    assert en.groupby("segment_id")["factor"].nunique().max() >= 3


def test_interviewer_turns_are_not_coded(fixture_corpus):
    coded = iv.code_segments(fixture_corpus.segments, iv.load_codebook())
    assert (coded["speaker"] == "respondent").all()


def test_automatic_coding_agrees_with_the_gold_sample():
    corpus = iv.read_transcripts(SHIPPED_INTERVIEWS)
    coded = iv.code_segments(corpus.segments, iv.load_codebook())
    gold = iv.coding_to_matrix(iv.read_coding(SHIPPED_INTERVIEWS / iv.GOLD_CODING))
    assert set(gold.index) == set(corpus.segments.loc[corpus.segments["speaker"] == "respondent", "segment_id"])
    k = iv.kappa_table(iv.presence_matrix(coded, gold.index), gold).set_index("factor")["kappa"]
    assert k["pooled"] >= KAPPA_FLOOR_POOLED
    assert (k.drop("pooled") >= KAPPA_FLOOR_FACTOR).all(), k


def test_kappa_by_hand():
    # Two coders, ten segments, factor MI: both 1 on 3, both 0 on 5, disagree on 2.
    a = pd.DataFrame(0, index=[f"s{i}" for i in range(10)], columns=SEVEN)
    b = a.copy()
    a.loc[["s0", "s1", "s2", "s3"], "MI"] = 1
    b.loc[["s0", "s1", "s2", "s4"], "MI"] = 1
    # po = 0.8, pe = 0.4*0.4 + 0.6*0.6 = 0.52, kappa = 0.28/0.48
    k = iv.kappa_table(a, b).set_index("factor")
    assert k.loc["MI", "kappa"] == pytest.approx(0.28 / 0.48)
    assert np.isnan(k.loc["SC", "kappa"])


def test_coding_file_with_unknown_code_is_rejected(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("segment_id,factors\nx#1,MI;XX\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown factor code 'XX'"):
        iv.coding_to_matrix(iv.read_coding(p))


def test_joint_display_readings():
    eff = pd.DataFrame({"term": SEVEN, "estimate": [0.7, 0.6, 0.5, 0.1, 0.05, 0.2, 0.0], "p_value": [0.01] * 7})
    sal = pd.Series([0.5, 0.4, 0.01, 0.3, 0.02, 0.2, 0.03], index=SEVEN)
    j = iv.joint_display(eff, sal).set_index("factor")["reading"]
    assert j["MI"] == "agreement (both strong)" and j["SC"] == "agreement (both strong)"
    assert j["MK"] == "tension" and j["TP"] == "tension"
    assert j["TO"] == "agreement (both weak)"
