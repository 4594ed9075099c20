"""One full run: simulate a small sample, export it as SPSS .sav, execute every chapter on that export,
build the book, inspect the HTML."""

import json
import re

import pandas as pd
import pytest
import yaml
from export_fixtures import write_stat_file
from hostile import PAYLOADS
from interview_fixtures import SECRETS, write_fixture_transcripts
from test_hostile_input import assert_inert

from cbec.book.pipeline import REPO_ROOT, RunSettings, run
from cbec.io.instrument import load_instrument
from cbec.io.validate import validate_frame
from cbec.study.simulate import SimulationConfig, simulate_survey, write_simulation


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_full_pipeline_builds_every_chapter(tmp_path):
    # The .sav sits beside ground_truth.json, so the chapters know the data are simulated.
    write_simulation(tmp_path / "data", n=220, seed=7)
    df, _ = simulate_survey(SimulationConfig(n=220, seed=7))
    hostile_ids = _plant_hostile_ids(df)
    survey = write_stat_file(df, load_instrument(), tmp_path / "data" / "survey.sav")
    interviews = write_fixture_transcripts(tmp_path / "interviews")
    _write_hostile_transcript(interviews)
    paths = run(
        RunSettings(
            survey=survey,
            out=tmp_path / "out",
            interviews=interviews,
            ground_truth=tmp_path / "data" / "ground_truth.json",
            n_boot=99,
            power_reps=10,
        )
    )
    assert '"format": "spss"' in (paths["processed"] / "report.json").read_text(encoding="utf-8")
    html = paths["html"]
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for p in toc["parts"] for c in p["chapters"]]
    assert (html / "index.html").exists()
    index = (html / f"{toc['root']}.html").read_text(encoding="utf-8")
    for f in files:
        page = html / f"{f}.html"
        assert page.exists(), f
        assert f.split("/")[-1] in index or f == toc["root"], f"index does not link {f}"
        text = page.read_text(encoding="utf-8")
        assert "{glue" not in text, f"unresolved glue on {f}"
        if f.startswith("notebooks/"):
            assert "<table" in text, f"no table on {f}"
            # Survey chapters say the data are simulated; the case chapter says it is coded from the article.
            notice = "Coded from the article" if f.endswith("06_cases") else "Simulated data"
            assert notice in text, f"no '{notice}' notice on {f}"
    # Chapters that draw figures must show them (the simulated-data and claims chapters are tables only).
    for f in files:
        if f.startswith("notebooks/") and not f.endswith(("00_simulated_data", "05_claims")):
            assert re.search(r"<img[^>]+_images/", (html / f"{f}.html").read_text(encoding="utf-8")), f
    assert list(paths["results"].glob("*.csv")), "no result tables written"

    # Data never becomes code: no payload runs on any page; each is shown as text where its field is shown.
    for page in html.rglob("*.html"):
        assert_inert(page.read_text(encoding="utf-8"))
    quality = assert_inert((html / "notebooks" / "01_data_quality.html").read_text(encoding="utf-8"))
    for rid in hostile_ids:
        assert rid in quality, f"quarantined id {rid!r} not shown as text"
    interviews_page = assert_inert((html / "notebooks" / "07_interviews.html").read_text(encoding="utf-8"))
    assert HOSTILE_FIRM in interviews_page
    # Downloads open safely in a spreadsheet: no text cell starts with a formula character.
    for csv in [*paths["results"].glob("*.csv"), paths["processed"] / "quarantine.csv"]:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for col in table.columns:
            cells = table[col]
            text = cells[~cells.str.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")]
            assert not text.str.match(r"^[=+\-@\t\r]").any(), (csv.name, col, text[text.str.match(r"^[=+\-@]")].head())

    # No identifying detail from the fixture transcripts reaches any built page.
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into {page.relative_to(html)}"


HOSTILE_FIRM = "深湾电子" + PAYLOADS[1]


def _plant_hostile_ids(df):
    """Give three rows that the screens quarantine (not as duplicates) ids that are payloads."""
    raw = df.astype("string")
    raw.insert(0, "_source_row", range(2, len(raw) + 2))
    q = validate_frame(raw, load_instrument()).quarantine
    q = q[~q["reasons"].str.contains("duplicate")]
    ids = [f"R-{p}" for p in PAYLOADS[:3]]
    for rid, new in zip(q["respondent_id"].head(3), ids, strict=False):
        df.loc[df["respondent_id"] == rid, "respondent_id"] = new
    return ids


def _write_hostile_transcript(folder):
    answers = "\n".join(f"问：你们的供应链和市场定位怎么配合？\n答：我们做细分赛道，海外仓备货。{p}" for p in PAYLOADS)
    (folder / "hostile.md").write_text(
        f"---\nfirm: {json.dumps(HOSTILE_FIRM, ensure_ascii=False)}\nrole: 总经理\nsize_class: sme\n"
        f"main_market: eu_na\nlanguage: zh\n---\n{answers}\n",
        encoding="utf-8",
    )
