"""An installed cbec (a wheel, not this source tree) finds its data, validates a survey and builds the whole book."""

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path, small_survey):
    # Build from a copy: setuptools writes build/ into the tree it builds, and the checkout stays untouched.
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(dist),
            str(tree),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("cbec-*.whl"))
    env = tmp_path / "env"
    venv.create(env, with_pip=False)
    py = env / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Offline: the dependencies come from the project's environment by path; cbec itself only from the wheel.
    Path(site, "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", "--target", site, str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    probe = (
        "import cbec, pathlib; inst = cbec.load_instrument(); "
        "print(pathlib.Path(cbec.__file__).resolve()); print(len(inst.factor_item_ids)); "
        # the interview coder's data ship too: the real-text set and the dictionary it was cut with
        "from cbec.study import coder; from cbec.resources import resource; "
        "print(len(coder.realtext_set()), resource('realtext_dictionary.txt').stat().st_size > 0)"
    )
    out = subprocess.run([str(py), "-c", probe], cwd=work, capture_output=True, text=True, check=True).stdout.split()
    assert Path(out[0]).is_relative_to(env.resolve()), f"imported the source tree, not the wheel: {out[0]}"
    assert out[1] == "42" and out[2] == "141" and out[3] == "True"
    df, _ = small_survey
    csv = work / "survey.csv"
    df.to_csv(csv, index=False)
    res = subprocess.run(
        [str(py), "-m", "cbec", "validate", str(csv), "--out", str(work / "processed")],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert (work / "processed" / "report.json").exists() and "clean" in res.stdout
    # The whole book from the wheel: notebooks, pages, tables of contents and configuration are package data.
    res = subprocess.run(
        [
            str(py),
            "-m",
            "cbec",
            "run",
            "--survey",
            str(csv),
            "--out",
            str(work / "book"),
            "--n-boot",
            "99",
            "--power-reps",
            "10",
        ],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    index = (work / "book" / "html" / "book" / "index.html").read_text(encoding="utf-8")
    assert "What this run found" in index
    assert (work / "book" / "html" / "notebooks" / "08_pls.html").exists()
    prov = (work / "book" / "html" / "book" / "provenance.html").read_text(encoding="utf-8")
    assert "the installed package cbec" in prov  # the installed package, not this checkout, built it
