import json
import shutil
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from cbec.book.cli import app
from cbec.book.pipeline import PipelineError, RunSettings, execute_notebook, run

runner = CliRunner()


def test_validate_writes_three_files(tidy_csv, tmp_path):
    out = tmp_path / "v"
    res = runner.invoke(app, ["validate", str(tidy_csv), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["rows_in"] == rep["rows_clean"] + rep["rows_quarantined"]
    assert (out / "clean.parquet").exists() and (out / "quarantine.csv").exists()


def test_threshold_options_reach_the_screens(tidy_csv, tmp_path):
    loose, strict = tmp_path / "loose", tmp_path / "strict"
    assert runner.invoke(app, ["validate", str(tidy_csv), "--out", str(loose)]).exit_code == 0
    res = runner.invoke(app, ["validate", str(tidy_csv), "--out", str(strict), "--speeder-fraction", "0.7"])
    assert res.exit_code == 0, res.output
    a = json.loads((loose / "report.json").read_text(encoding="utf-8"))
    b = json.loads((strict / "report.json").read_text(encoding="utf-8"))
    assert b["thresholds"]["speeder_fraction"] == 0.7
    assert b["by_reason"]["speeder"] > a["by_reason"]["speeder"]


def test_bad_file_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"x,y\n\xff\xfe\x00garbage\n")
    res = runner.invoke(app, ["validate", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "Traceback" not in res.output and "bad.csv" in res.output


def test_simulate_command(tmp_path):
    res = runner.invoke(app, ["simulate", "--n", "80", "--seed", "3", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "survey_simulated.csv").exists() and (tmp_path / "ground_truth.json").exists()


def test_simulate_scenario_option(tmp_path):
    res = runner.invoke(app, ["simulate", "--n", "80", "--scenario", "hidden_coupling", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    truth = json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["scenario"] == "hidden_coupling" and truth["couplings"] == {"TP*RC": 0.2}
    bad = runner.invoke(app, ["simulate", "--scenario", "utopia", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "null_method" in bad.output


def test_questionnaire_command_writes_wjx_text(tmp_path):
    res = runner.invoke(app, ["questionnaire", str(tmp_path / "q.txt"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "q.txt").read_text(encoding="utf-8")
    assert text.startswith("Success factors of cross-border e-commerce firms") and "[矩阵量表题]" in text
    assert runner.invoke(app, ["questionnaire", str(tmp_path / "x.txt"), "--lang", "fr"]).exit_code == 2


def _notebook(tmp_path, body, param="x: int = 1  # a parameter"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(param)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_failing_notebook_is_named_with_cell_and_error(tmp_path):
    src = _notebook(tmp_path, "raise ValueError('planted failure')")
    with pytest.raises(PipelineError) as ei:
        execute_notebook(src, tmp_path / "out.ipynb", {"x": 2}, cwd=tmp_path)
    msg = str(ei.value)
    assert "broken.ipynb" in msg and "cell 3" in msg and "ValueError: planted failure" in msg


def test_unknown_parameter_is_an_error(tmp_path):
    src = _notebook(tmp_path, "print(x)")
    with pytest.raises(PipelineError, match=r"unknown parameter\(s\) \['y'\]"):
        execute_notebook(src, tmp_path / "out.ipynb", {"y": 2}, cwd=tmp_path)


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_run_stops_on_failing_notebook_and_builds_no_book(tmp_path, tidy_csv):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    shutil.copy(_notebook(tmp_path, "1/0", 'run_config: str = ""  # the run settings'), nbdir / "broken.ipynb")
    settings = RunSettings(survey=tidy_csv, out=tmp_path / "out", notebooks=("broken",), notebook_dir=nbdir)
    with pytest.raises(PipelineError, match="ZeroDivisionError"):
        run(settings)
    assert not (tmp_path / "out" / "html").exists()


def test_analysis_settings_are_declared_once():
    """The run's analysis options come from one dataclass: each field is a `cbec run` option with its default and
    help, the pipeline's settings and the chapters' configuration inherit the same fields, and both are frozen."""
    import dataclasses

    import typer.main

    from cbec.book.cli import app
    from cbec.book.pipeline import RunSettings
    from cbec.study.chapters.base import AnalysisSettings, RunConfig

    command = typer.main.get_command(app).commands["run"]
    options = {p.name: p for p in command.params if p.param_type_name == "option"}
    for f in dataclasses.fields(AnalysisSettings):
        assert options[f.name].default == f.default and options[f.name].help == f.metadata["help"]
    names = {f.name for f in dataclasses.fields(AnalysisSettings)}
    assert names <= {f.name for f in dataclasses.fields(RunConfig)}
    assert names <= {f.name for f in dataclasses.fields(RunSettings)}
    settings = RunSettings(survey=Path("x.csv"), out=Path("o"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.alpha = 0.01
