"""The execution cache never serves a stale chapter: each part of a chapter's key, changed in turn, re-runs that
chapter and only it."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cbec.book import cache
from cbec.book.pipeline import RunSettings, run
from cbec.book.staging import NOTEBOOK_DIR, REPO_ROOT

CHAPTERS = ("01_data_quality", "05_claims", "06_cases")


def _run(tmp_path, survey, **kw):
    said: list[str] = []
    kw = {"n_boot": 99, **kw}
    settings = RunSettings(
        survey=survey,
        out=tmp_path / "out",
        notebooks=CHAPTERS,
        notebook_dir=tmp_path / "nbs",
        build=False,
        jobs=2,
        **kw,
    )
    run(settings, progress=said.append)
    return {ln.split(":")[0].strip(): ln.split(":")[1].strip() for ln in said if ln.startswith("  ")}


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_only_the_chapters_whose_inputs_changed_re_run(tmp_path, small_survey, monkeypatch):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for name in CHAPTERS:
        shutil.copy(NOTEBOOK_DIR / f"{name}.ipynb", nbs / f"{name}.ipynb")
    df, _ = small_survey
    survey = tmp_path / "survey.csv"
    df.to_csv(survey, index=False)

    first = _run(tmp_path, survey)
    assert all(v != "cached" for v in first.values()), first
    assert set(_run(tmp_path, survey).values()) == {"cached"}

    # a setting only the claims chapter reads
    again = _run(tmp_path, survey, n_boot=199)
    assert again["05_claims"] != "cached" and again["01_data_quality"] == again["06_cases"] == "cached", again

    # the data: every chapter that reads the survey, not the case chapter (coded from the article)
    df.drop(index=df.index[:5]).to_csv(survey, index=False)
    again = _run(tmp_path, survey, n_boot=199)
    assert again["01_data_quality"] != "cached" and again["05_claims"] != "cached" and again["06_cases"] == "cached"

    # a chapter's notebook
    text = (nbs / "06_cases.ipynb").read_text(encoding="utf-8")
    (nbs / "06_cases.ipynb").write_text(text.replace("## Profiles", "## Profiles of the two firms"), encoding="utf-8")
    again = _run(tmp_path, survey, n_boot=199)
    assert again == {"01_data_quality": "cached", "05_claims": "cached", "06_cases": again["06_cases"]}
    assert again["06_cases"] != "cached"

    # the installed cbec (a new estimator is a new result): everything
    monkeypatch.setattr(cache, "package_digest", lambda: "another version")
    assert "cached" not in _run(tmp_path, survey, n_boot=199).values()

    # --force: everything, and a cached run restores the result tables
    assert "cached" not in _run(tmp_path, survey, n_boot=199, force=True).values()
    results = tmp_path / "out" / "results"
    for f in results.glob("*.csv"):
        f.unlink()
    assert set(_run(tmp_path, survey, n_boot=199).values()) == {"cached"}
    assert not pd.read_csv(results / "claims_tested.csv").empty


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_workers_option_sends_the_power_study_to_dask_with_the_same_numbers(tmp_path, small_survey):
    df, _ = small_survey
    survey = tmp_path / "survey.csv"
    df.to_csv(survey, index=False)
    common = {"notebooks": ("03_coupling",), "build": False, "n_boot": 99, "power_reps": 10, "force": True}
    said: list[str] = []
    run(RunSettings(survey=survey, out=tmp_path / "local", **common))
    run(RunSettings(survey=survey, out=tmp_path / "dask", workers=2, **common), progress=said.append)
    assert any("local Dask cluster: 2 workers" in s for s in said)
    sent = json.loads((tmp_path / "dask" / "run_config.json").read_text(encoding="utf-8"))["dask_scheduler"]
    assert sent.startswith("tcp://127.0.0.1:")
    a = pd.read_csv(tmp_path / "local" / "results" / "coupling_power.csv")
    b = pd.read_csv(tmp_path / "dask" / "results" / "coupling_power.csv")
    pd.testing.assert_frame_equal(a, b)


def test_long_chapters_start_first(tmp_path):
    # longest-processing-time order: an earlier execution in this output's cache decides; without one, the
    # typical seconds on the shipped survey; chapters with neither keep reading order
    from cbec.book.pipeline import longest_first

    notebooks = ["00_simulated_data", "01_data_quality", "03_coupling", "08_pls", "06_cases"]
    assert longest_first(notebooks, tmp_path)[:2] == ["08_pls", "03_coupling"]
    assert longest_first(notebooks, tmp_path)[2:] == ["00_simulated_data", "01_data_quality", "06_cases"]
    slot = tmp_path / "06_cases" / "somekey"
    slot.mkdir(parents=True)
    (slot / "execution.json").write_text('{"seconds": 99.0}\n', encoding="utf-8")
    assert longest_first(notebooks, tmp_path)[0] == "06_cases"


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_each_chapter_declares_exactly_the_settings_it_reads(tmp_path, small_survey):
    """The cache key of a chapter holds the settings its function reads, recorded as it runs: a setting read but
    not declared would serve a stale page; one declared but not read would re-run it for nothing."""
    from cbec.io.instrument import load_instrument
    from cbec.io.study import load_study_spec
    from cbec.io.validate import validate_frame, validate_survey
    from cbec.study.chapters import CHAPTERS
    from cbec.study.chapters.base import RecordingConfig, RunConfig

    root = REPO_ROOT
    df, truth = small_survey
    validate_frame(df, load_instrument()).write(tmp_path / "a" / "processed")
    gt = tmp_path / "truth.json"
    gt.write_text(json.dumps(truth, default=str), encoding="utf-8")
    article = RunConfig(
        processed_dir=str(tmp_path / "a" / "processed"), results_dir=str(tmp_path / "a" / "results"),
        ground_truth_path=str(gt), origin="simulated", interviews_dir=str(root / "data" / "interviews"),
        gold_path=str(root / "data" / "interviews" / "coding_gold.csv"), n_boot=99, power_reps=10,
    )  # fmt: skip
    spec = load_study_spec(root / "examples" / "holzinger_swineford")
    validate_survey(spec.data, spec.instrument, thresholds=spec.thresholds).write(tmp_path / "s" / "processed")
    inst_file = tmp_path / "s" / "instrument.yaml"
    inst_file.write_text(json.dumps(spec.instrument.raw), encoding="utf-8")
    codebook = tmp_path / "s" / "codebook.yaml"  # the study's interviews, coded in its own constructs
    codebook.write_text(json.dumps({"factors": {"visual": {"subdimensions": {"v": {"zh": ["产品", "视觉"]}}},
                                                "textual": {"subdimensions": {"t": {"zh": ["内容", "文字"]}}}}}),
                        encoding="utf-8")  # fmt: skip
    study = RunConfig(
        processed_dir=str(tmp_path / "s" / "processed"), results_dir=str(tmp_path / "s" / "results"),
        instrument_path=str(inst_file), study_path=str(spec.path), book="study", n_boot=99,
        interviews_dir=str(root / "data" / "interviews"), codebook_path=str(codebook),
        gold_path=str(tmp_path / "s" / "gold.csv"), hypotheses_path=str(tmp_path / "s" / "hypotheses.csv"),
    )  # fmt: skip
    (tmp_path / "s" / "hypotheses.csv").write_text(
        "id,statement,term,direction\nH1,x,visual,positive\nH2,y,visualxtextual,negative\n", encoding="utf-8"
    )
    (tmp_path / "s" / "gold.csv").write_text("segment_id,factors\nf01_hunan_hardware#2,visual\n", encoding="utf-8")
    wrong = {}
    for name in CHAPTERS:
        rc = RecordingConfig(study if name.startswith("study_") else article)
        CHAPTERS[name](rc)
        read = rc.read - set(cache.UNKEYED_SETTINGS)
        if read != set(cache.CHAPTER_SETTINGS[name]):
            wrong[name] = {"read, not declared": sorted(read - set(cache.CHAPTER_SETTINGS[name])),
                           "declared, not read": sorted(set(cache.CHAPTER_SETTINGS[name]) - read)}  # fmt: skip
    assert wrong == {}, json.dumps(wrong, indent=1)


def test_a_changed_byte_in_a_cache_entry_makes_it_a_miss(tmp_path):
    """Every cached file is checked against the SHA-256 recorded when it was stored: a notebook or result
    table changed afterwards is not served (the chapter re-executes), and the run is told why."""
    store_dir, executed, results = tmp_path / "cache", tmp_path / "nb.ipynb", tmp_path / "results"
    results.mkdir()
    executed.write_text('{"cells": []}', encoding="utf-8")
    (results / "claims_tested.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    cache.store(store_dir, "05_claims", "k1", executed, results, seconds=3.0)
    assert cache.restore(store_dir, "05_claims", "k1", tmp_path / "out.ipynb", results) == 3.0
    slot = store_dir / "05_claims" / "k1"
    for target in (slot / "results" / "claims_tested.csv", slot / "notebook.ipynb"):
        original = target.read_bytes()
        target.write_bytes(original.replace(b"1", b"=", 1) if b"1" in original else original + b" ")
        said: list[str] = []
        assert cache.restore(store_dir, "05_claims", "k1", tmp_path / "out.ipynb", results, warn=said.append) is None
        assert said and "differs from the hash" in said[0]
        target.write_bytes(original)
    (slot / "results" / "extra.csv").write_text("x\n", encoding="utf-8")
    assert cache.restore(store_dir, "05_claims", "k1", tmp_path / "out.ipynb", results) is None


def test_cache_key_parts_are_framed(tmp_path):
    """Names and contents are hashed as named parts of one document: two interview folders whose names and
    contents would run together into the same bytes get different keys."""
    from cbec.study.chapters.base import RunConfig

    nb = tmp_path / "07_interviews.ipynb"
    nb.write_text("{}", encoding="utf-8")
    processed = tmp_path / "processed"
    processed.mkdir()
    for f in cache.PROCESSED_FILES:
        (processed / f).write_text("same", encoding="utf-8")
    keys = []
    for files in ({"a.md": "bc.md"}, {"a.mdb": "c.md"}):
        folder = tmp_path / f"f{len(keys)}"
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        keys.append(cache.chapter_key(nb, RunConfig(interviews_dir=str(folder), processed_dir=str(processed))))
    assert keys[0] != keys[1]


def test_a_changed_style_sheet_reaches_a_book_sphinx_does_not_rewrite(tmp_path):
    """Sphinx copies static files only when it writes a page; the build copies the book's own again."""
    from cbec.book.sphinx_html import refresh_static as _refresh_static

    static, built = tmp_path / "static", tmp_path / "html" / "_static"
    static.mkdir()
    built.mkdir(parents=True)
    (static / "cbec.css").write_text("a { color: red }", encoding="utf-8")
    (built / "cbec.css").write_text("a { color: blue }", encoding="utf-8")
    assert _refresh_static(static, built) == 1
    assert (built / "cbec.css").read_text(encoding="utf-8") == "a { color: red }"
    assert _refresh_static(static, built) == 0


def test_every_data_file_a_chapter_reads_is_in_the_package_digest():
    # the calibration record (quoted by the coupling and size chapters) and the coder's dictionary were left out
    # when the digest took only .py, .yaml and .csv files: a new record was served a stale chapter
    import cbec
    from cbec.book.cache import digested_files

    root = Path(cbec.__file__).parent
    covered = {p.relative_to(root).as_posix() for p in digested_files(root)}
    for name in ("resources/calibration.json", "resources/realtext_dictionary.txt", "resources/claims.csv",
                 "resources/instrument.yaml", "article/chapters/coupling.py"):  # fmt: skip
        assert name in covered, name
    assert not any(n.startswith("site/") or n.endswith(".pyc") for n in covered)


def test_figures_drawn_while_the_chapters_run_are_the_ones_the_build_copies(tmp_path, monkeypatch):
    """cbec run draws the figures that need nothing from the chapters (the front page's framework, the
    performance and calibration appendices' figures) while the chapters execute; staging the book must then
    find every one of them in the cache and draw nothing (a key that differed would draw again: the cold
    run's 2-3 s back on the book build)."""
    from cbec.book import figures, staging
    from cbec.study.chapters.base import RunConfig

    out, src = tmp_path / "out", tmp_path / "src"
    RunConfig().write(out / "run_config.json")
    staging.draw_source_figures(out)
    drawn = sorted(p.name.split("-", 1)[1] for p in (out / "cache" / "files").glob("*.png"))
    assert drawn == sorted(staging._source_figures("article", staging.load_instrument()))
    assert {"seven_factor_system.png", "calibration.png"} <= set(drawn)

    def must_not_draw(*_args, **_kw):
        raise AssertionError("the build drew a figure the run had drawn already")

    monkeypatch.setattr(figures, "save", must_not_draw)
    (src / "book" / "figures").mkdir(parents=True)
    staging._system_figure(out, src, staging.load_instrument())
    staging._performance_appendix(out, src / "book")
    staging._calibration_appendix(out, src / "book")
    assert sorted(p.name for p in (src / "book" / "figures").glob("*.png")) == drawn
