"""One full run: simulate a small sample, export it as SPSS .sav, execute every chapter on that export,
build the book, inspect the HTML."""

import re

import pytest
import yaml

from cbec.instrument import REPO_ROOT
from cbec.pipeline import RunSettings, run
from cbec.instrument import load_instrument
from cbec.simulate import SimulationConfig, simulate_survey, write_simulation

from export_fixtures import write_stat_file
from interview_fixtures import SECRETS, write_fixture_transcripts


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_full_pipeline_builds_every_chapter(tmp_path):
    # The .sav sits beside ground_truth.json, so the chapters know the data are simulated.
    write_simulation(tmp_path / "data", n=220, seed=7)
    df, _ = simulate_survey(SimulationConfig(n=220, seed=7))
    survey = write_stat_file(df, load_instrument(), tmp_path / "data" / "survey.sav")
    interviews = write_fixture_transcripts(tmp_path / "interviews")
    paths = run(RunSettings(survey=survey, out=tmp_path / "out", interviews=interviews, n_boot=99, power_reps=10))
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

    # No identifying detail from the fixture transcripts reaches any built page.
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into {page.relative_to(html)}"
