"""Warm kernels (#28): a chapter executed on a reused kernel sees nothing of the notebook before it and gives
the results a fresh kernel gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from cbec.book import kernels
from cbec.book.pipeline import PipelineError, RunSettings, execute_notebook, run

REPO = Path(__file__).resolve().parents[1]


def _nb(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('run_config: str = ""  # the run settings')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path


#: Leaves behind everything a chapter could: names, a figure, a matplotlib setting, a warning filter, another
#: working directory, and study data changed in place in the cache the chapters share.
POLLUTE = """
import os, warnings
import matplotlib.pyplot as plt
from cbec.study.chapters.base import RunConfig, load_study
leak = 1
plt.figure()
plt.rcParams["figure.dpi"] = 17
os.chdir("/")
if run_config:
    st = load_study(RunConfig.load(run_config))
    for item in st.instrument.factor_item_ids[::2]:
        st.clean[item] = 1  # the cached frame itself, changed
    st.analysis.scores.iloc[:, :] = 1.0
warnings.simplefilter("error")
"""

LOOK = """
import json, os, warnings
import matplotlib.pyplot as plt
seen = {"names": sorted(n for n in ("leak", "st", "POLLUTED") if n in globals()), "figures": plt.get_fignums(),
        "dpi": plt.rcParams["figure.dpi"], "error_filter": any(f[0] == "error" for f in warnings.filters),
        "cwd": os.getcwd()}
print(json.dumps(seen))
"""


def _seen(executed: Path) -> dict:
    nb = nbformat.read(executed, as_version=4)
    return json.loads(nb.cells[-1].outputs[0]["text"])


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_reused_kernel_sees_none_of_the_previous_notebook(tmp_path):
    pollute = _nb(tmp_path / "pollute.ipynb", POLLUTE)
    look = _nb(tmp_path / "look.ipynb", LOOK)
    fresh, reused = tmp_path / "fresh.ipynb", tmp_path / "reused.ipynb"
    kernels.execute_all([("look", look, fresh, {})], 1, tmp_path)
    order: list[str] = []
    jobs = [("pollute", pollute, tmp_path / "p.ipynb", {}), ("look", look, reused, {})]
    kernels.execute_all(jobs, 1, tmp_path, done=lambda name, _s: order.append(name))
    assert order == ["pollute", "look"]  # one kernel, one after the other
    assert _seen(fresh)["names"] == [] and _seen(fresh)["figures"] == []
    assert _seen(reused) == _seen(fresh)
    counts = [c.execution_count for c in nbformat.read(reused, as_version=4).cells if c.cell_type == "code"]
    assert counts == [1, 2]  # numbered as on a fresh kernel


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_chapter_on_reused_kernel_gives_the_fresh_kernels_results(tmp_path, tidy_csv):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    shutil.copy(REPO / "src" / "cbec" / "site" / "notebooks" / "05_claims.ipynb", nbdir)
    _nb(nbdir / "00_pollute.ipynb", POLLUTE)
    out = tmp_path / "out"
    settings = RunSettings(survey=tidy_csv, out=out, notebooks=("05_claims",), notebook_dir=nbdir, build=False)
    paths = run(settings)
    fresh = {p.name: pd.read_csv(p) for p in sorted(paths["results"].glob("claims*.csv"))}
    assert fresh
    cfg = {"run_config": str(out / "run_config.json")}
    jobs = [
        ("pollute", nbdir / "00_pollute.ipynb", tmp_path / "p.ipynb", cfg),
        ("claims", nbdir / "05_claims.ipynb", tmp_path / "claims.ipynb", cfg),
    ]
    kernels.execute_all(jobs, 1, paths["notebooks"])
    for name, frame in fresh.items():
        pd.testing.assert_frame_equal(pd.read_csv(paths["results"] / name), frame, rtol=1e-9)


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_cold_run_starts_kernels_before_validating_and_always_shuts_them_down(tmp_path, tidy_csv, monkeypatch):
    from dataclasses import replace

    from cbec.book import pipeline

    events: list[str] = []

    class Recording(kernels.StartedPool):
        def __init__(self, *args, **kwargs):
            events.append("kernels")
            super().__init__(*args, **kwargs)

        def close(self):
            super().close()
            events.append("closed")

    validate = pipeline.validate_survey
    monkeypatch.setattr(kernels, "StartedPool", Recording)
    monkeypatch.setattr(pipeline, "validate_survey", lambda *a, **k: (events.append("validate"), validate(*a, **k))[1])
    settings = RunSettings(survey=tidy_csv, out=tmp_path / "out", notebooks=("05_claims",), build=False)
    run(settings)
    assert events == ["kernels", "validate", "closed"]
    assert (tmp_path / "out" / "notebooks" / "05_claims.ipynb").exists()
    events.clear()
    run(settings)  # served from the cache: no kernel is started at all
    assert events == ["validate"]
    few = tmp_path / "few.csv"
    few.write_text("".join(tidy_csv.read_text(encoding="utf-8").splitlines(keepends=True)[:11]), encoding="utf-8")
    events.clear()
    with pytest.raises(PipelineError, match="rows passed validation"):
        run(replace(settings, survey=few, out=tmp_path / "few"))
    assert events == ["kernels", "validate", "closed"]  # a run that stops early leaves no kernel behind


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_interrupted_pool_stops_its_notebooks_and_kernels(tmp_path, caplog):
    # Ctrl-C while a chapter runs: the notebook is cancelled and the kernels shut down at once, not after it.
    # A real signal (as Ctrl-C sends) wakes the main thread from its wait; SIGALRM stands in for SIGINT.
    import signal
    import time

    def ctrl_c(*_):
        raise KeyboardInterrupt

    sleep = _nb(tmp_path / "sleep.ipynb", "import time; time.sleep(60)")
    pool = kernels.StartedPool(1, tmp_path)
    t0 = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, ctrl_c)
    try:
        with pytest.raises(KeyboardInterrupt), pool:
            signal.alarm(5)
            pool.execute_all([("sleep", sleep, tmp_path / "s.ipynb", {})])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.perf_counter() - t0 < 30
    assert not any(k.km.has_kernel for k in pool.pool.kernels)
    import gc

    gc.collect()  # a task left pending or with an unread error is reported when it is collected
    assert not [r.getMessage() for r in caplog.records if r.name == "asyncio"]


DRAW = """
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1, 2], [0, 1, 0], color="tab:blue")
ax.set_title("a figure")
plt.close(fig)
fig
"""


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_figures_leave_every_reused_kernel_as_palette_pngs(tmp_path):
    # the quantising is done in the chapters' kernels (not in the serial book build), on every notebook a
    # kernel runs, not only the first
    import base64
    import io

    from PIL import Image

    draw = _nb(tmp_path / "draw.ipynb", DRAW)
    jobs = [(f"d{k}", draw, tmp_path / f"d{k}.ipynb", {}) for k in range(2)]
    kernels.execute_all(jobs, 1, tmp_path)
    for k in range(2):
        out = nbformat.read(tmp_path / f"d{k}.ipynb", as_version=4).cells[-1].outputs
        png = base64.b64decode(next(o for o in out if "image/png" in o.get("data", {}))["data"]["image/png"])
        with Image.open(io.BytesIO(png)) as im:
            assert im.mode == "P" and im.size[0] > 200


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_failure_stops_the_pool_and_names_notebook_and_cell(tmp_path):
    # cells: parameters, injected parameters (papermill's), x = 1, the failing one
    bad = _nb(tmp_path / "bad.ipynb", "x = 1", "raise KeyError('planted')")
    slow = _nb(tmp_path / "slow.ipynb", "import time; time.sleep(30)")
    jobs = [("bad", bad, tmp_path / "b.ipynb", {"run_config": "x"}), ("slow", slow, tmp_path / "s.ipynb", {})]
    with pytest.raises(kernels.NotebookFailed, match=r"bad\.ipynb failed in cell 4 \(execution count 4\): KeyError"):
        kernels.execute_all(jobs, 2, tmp_path)
    assert "planted" in (tmp_path / "b.ipynb").read_text(encoding="utf-8")  # the copy keeps the traceback


def test_unknown_parameter_is_refused_before_any_kernel_starts(tmp_path):
    with pytest.raises(PipelineError, match=r"unknown parameter\(s\) \['nope'\]"):
        execute_notebook(_nb(tmp_path / "a.ipynb", "1"), tmp_path / "o.ipynb", {"nope": 1}, cwd=tmp_path)
