"""Speed and memory of the pipeline, against the targets of issues 15 and 28, written to benchmarks/results/latest.json.

Run with `make bench` (about five minutes on two cores). Every figure is measured here, in one run, beside the
alternative it is compared with; the machine, versions and date are recorded with them. A figure above its
target is reported with ``met: false``, never hidden; the book's performance appendix shows the table.

- steps: best of three wall times and the peak Python heap (tracemalloc) of the heavy steps on 600 firms;
- bootstrap: 21 pair models x 2,000 resamples, batched against a statsmodels refit loop on the same draws;
- power study: the 1,600 simulated surveys of the coupling chapter, batched against one survey at a time;
- scale: read + validate + factor scores + all 21-pair models for 10^3 ... 10^6 simulated firms, each size in
  its own process (wall time, peak resident memory), and the growth exponent of time in n;
- cbec run: cold (empty output folder) and warm (nothing changed) on the shipped survey;
- Dask: the power grid on a two-worker LocalCluster against the same grid in one process;
- PLS-SEM: one estimate and 5,000 bootstrap resamples, beside seminr's Python port when it is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from cbec.article import power
from cbec.article.simulate import SimulationConfig, simulate_survey
from cbec.io.instrument import load_instrument
from cbec.io.validate import validate_frame
from cbec.stats import measurement as ms
from cbec.stats import models

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "results" / "latest.json"
REPEAT = 3
#: Draws of the statsmodels refit loop actually timed (its time grows linearly in the draws).
LOOP_DRAWS = 100
#: Surveys of the one-at-a-time power loop actually timed, scaled to the grid's 1,600.
LOOP_SURVEYS = 24
SCALE_SIZES = (1_000, 10_000, 100_000, 1_000_000)
#: The performance issue's target for the whole calibration study (every world x size x 500 samples) in one process.
CALIBRATION_TARGET_S = 600
STEP_TARGETS_S = {
    "validate_10000_rows": 10.0,
    "cfa_seven_factors_600": 5.0,
    "coupling_21_pairs_999_boot_600": 60.0,
}


def measure(fn) -> tuple[float, float]:
    """Best wall time of REPEAT plain runs, then one run under tracemalloc for the peak heap (tracing slows
    Python-heavy code several-fold, so it never overlaps the timed runs)."""
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


def steps(inst, clean) -> dict:
    big, _ = simulate_survey(SimulationConfig(n=10_000, seed=1), inst)
    a = models.prepare(clean, inst)
    fns = {
        "validate_10000_rows": lambda: validate_frame(big, inst),
        "cfa_seven_factors_600": lambda: ms.fit_cfa(clean, ms.factor_blocks(inst)),
        "coupling_21_pairs_999_boot_600": lambda: models.fit_all_pairs(a.indices, a.scores, a.y, a.controls),
    }
    out = {}
    for name, fn in fns.items():
        secs, peak = measure(fn)
        out[name] = {"seconds": round(secs, 3), "peak_python_heap_mb": round(peak / 2**20, 1)}
        print(f"{name}: {secs:.2f} s, peak heap {peak / 2**20:.1f} MB", flush=True)
    return out


def bootstrap_comparison(inst, clean) -> dict:
    """The 21 pair interaction models, 2,000 case-resampling draws each: batched normal equations
    (``bootstrap_ols_many``) against a statsmodels refit loop on the same draws. The loop is timed on
    LOOP_DRAWS draws per pair and scaled to 2,000; the two agree to rounding on the draws both made."""
    import statsmodels.api as sm

    from cbec.stats.regression import bootstrap_ols_many, resample_weights

    a = models.prepare(clean, inst)
    z = models.standardise(a.scores)
    designs = {f"{p}x{q}": models.interaction_model(a.y, z, p, q, a.controls)[1] for p, q in models.pair_list(z)}
    n = len(a.y)
    idx = np.random.default_rng(1).integers(0, n, size=(2000, n))
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        batched = bootstrap_ols_many(a.y, designs, resample_weights(idx, n))
        best = min(best, time.perf_counter() - t0)
    ya = a.y.to_numpy(float)
    t0 = time.perf_counter()
    loop = {}
    for name, x in designs.items():
        xa = sm.add_constant(x, has_constant="add").to_numpy(float)
        loop[name] = np.array([sm.OLS(ya[i], xa[i]).fit().params for i in idx[:LOOP_DRAWS]])
    t_loop = (time.perf_counter() - t0) * 2000 / LOOP_DRAWS
    worst = max(float(np.abs(batched[k].to_numpy()[:LOOP_DRAWS] - loop[k]).max()) for k in designs)
    print(f"bootstrap 21 x 2000: batched {best:.3f} s, statsmodels loop {t_loop:.1f} s", flush=True)
    return {
        "batched_seconds": round(best, 3),
        "statsmodels_loop_seconds_scaled": round(t_loop, 1),
        "bootstrap_speedup_vs_statsmodels": round(t_loop / best, 1),
        "max_abs_difference": worst,
    }


def power_comparison(inst) -> dict:
    """The coupling chapter's power grid (4 sizes x 4 strengths x 100 surveys), batched, against fitting
    one simulated survey at a time as the chapter did before (timed on LOOP_SURVEYS, scaled to 1,600)."""
    from cbec.io.validate import recode_reverse

    t0 = time.perf_counter()
    power.power_curve(instrument=inst)
    batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    for r in range(LOOP_SURVEYS):
        n = (200, 400, 600, 1000)[r % 4]
        df, _ = simulate_survey(SimulationConfig(n=n, seed=r, dirt=False, couplings={"MI*SC": 0.2}), inst)
        a = models.prepare(recode_reverse(df, inst), inst)
        models.joint_interaction_model(a.scores, a.y, a.controls)
    loop = (time.perf_counter() - t0) * 1600 / LOOP_SURVEYS
    print(f"power study 1600 surveys: batched {batched:.1f} s, one at a time {loop:.0f} s", flush=True)
    return {"batched_seconds": round(batched, 2), "one_at_a_time_seconds_scaled": round(loop, 1)}


def pls_comparison(inst, clean) -> dict:
    """PLS-SEM of the seven factors and performance on 600 firms: one estimate, and 5,000 bootstrap resamples
    batched; beside them seminr's Python port (GPL-3, installed for the tests) on the same model, when present."""
    from cbec.stats.pls import pls_bootstrap, pls_sem

    blocks = {**ms.factor_blocks(inst), "PERF": inst.performance_item_ids}
    paths = {"PERF": list(ms.factor_blocks(inst))}
    one, _ = measure(lambda: pls_sem(clean, blocks, paths))
    t0 = time.perf_counter()
    pls_bootstrap(clean, blocks, paths, n_boot=5000)
    boot = time.perf_counter() - t0
    out = {"estimate_seconds": round(one, 4), "bootstrap_5000_seconds": round(boot, 2)}
    out.update(pi_bootstrap_comparison(clean, blocks, list(ms.factor_blocks(inst))))
    try:
        import seminr as sp
    except ImportError:
        out["seminr_py"] = "not installed"
        return out
    mm = sp.constructs(*(sp.composite(c, items) for c, items in blocks.items()))
    sm = sp.relationships(sp.paths(list(ms.factor_blocks(inst)), "PERF"))
    data = clean[[i for ids in blocks.values() for i in ids]].astype(float)
    t0 = time.perf_counter()
    model = sp.estimate_pls(data, mm, sm)
    t_est = time.perf_counter() - t0
    t0 = time.perf_counter()
    sp.bootstrap_model(model, nboot=500, seed=1)
    t_boot = (time.perf_counter() - t0) * 10
    out.update(
        seminr_py_version=metadata.version("seminr"),
        seminr_py_estimate_seconds=round(t_est, 4),
        seminr_py_bootstrap_5000_seconds_scaled=round(t_boot, 1),
        bootstrap_speedup_vs_seminr_py=round(t_boot / boot, 1),
    )
    print(f"PLS: estimate {one:.4f} s, 5000 resamples {boot:.2f} s; seminr-py {t_est:.3f} s, ~{t_boot:.0f} s")
    return out


def pi_bootstrap_comparison(clean, blocks, factors, n_boot: int = 999, n_loop: int = 40) -> dict:
    """One pair's product-indicator model (the seven factors and the first pair): the batched bootstrap,
    which forms each resample's products anew from its moments, against refitting every resample's data as
    seminr does (the draws are equal to 1e-8, tests/test_pls.py); the loop is timed on ``n_loop`` resamples."""
    from cbec.stats.pls import pls_bootstrap, pls_sem

    pair = (factors[0], factors[1])
    paths = {"PERF": [*factors, f"{pair[0]}*{pair[1]}"]}
    t0 = time.perf_counter()
    pls_bootstrap(clean, blocks, paths, n_boot=n_boot, interactions=(pair,), bca=False)
    batched = time.perf_counter() - t0
    idx = np.random.default_rng(1).integers(0, len(clean), size=(n_loop, len(clean)))
    t0 = time.perf_counter()
    for rows in idx:
        pls_sem(clean.iloc[rows], blocks, paths, interactions=(pair,), interaction_method="product_indicator")
    loop = (time.perf_counter() - t0) * n_boot / n_loop
    print(f"PLS product indicators, {n_boot} resamples: batched {batched:.2f} s, refit loop ~{loop:.0f} s")
    return {
        "pi_pair": f"{pair[0]}*{pair[1]}",
        "pi_indicators": sum(len(v) for v in blocks.values()) + len(blocks[pair[0]]) * len(blocks[pair[1]]),
        "pi_bootstrap_999_seconds": round(batched, 2),
        "pi_refit_loop_999_seconds_scaled": round(loop, 1),
        "pi_bootstrap_speedup_vs_refit": round(loop / batched, 1),
    }


def scale_curve() -> dict:
    child = str(Path(__file__).parent / "scale_child.py")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SCALE_SIZES:
            path = str(Path(tmp) / f"survey_{n}.parquet")
            subprocess.run([sys.executable, child, "simulate", str(n), path], check=True, env=env)
            out = subprocess.run(
                [sys.executable, child, "pipeline", path], check=True, env=env, capture_output=True, text=True
            )
            rows.append({"n": n, **json.loads(out.stdout.strip().splitlines()[-1])})
            print(f"scale n={n}: {rows[-1]['seconds']} s, peak {rows[-1]['peak_rss_mb']} MB", flush=True)
    upper = [r for r in rows if r["n"] >= 10_000]  # below that, start-up costs dominate
    slope = float(np.polyfit(np.log([r["n"] for r in upper]), np.log([r["seconds"] for r in upper]), 1)[0])
    return {"rows": rows, "growth_exponent": round(slope, 3), "exponent_fitted_on": [r["n"] for r in upper]}


def run_timings() -> dict:
    """``cbec run`` on the shipped survey: cold in an empty folder, then warm with nothing changed."""
    cmd = [
        str(Path(sys.executable).parent / "cbec"),
        "run",
        "--survey",
        str(ROOT / "data/simulated/survey_simulated.csv"),
        "--ground-truth",
        str(ROOT / "data/simulated/ground_truth.json"),
        "--interviews",
        str(ROOT / "data/interviews"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        times, chapters = [], {}
        for k in range(2):
            t0 = time.perf_counter()
            done = subprocess.run([*cmd, "--out", tmp], check=True, capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if k == 0:  # the run reports "  <chapter>: <seconds> s" on stderr for each chapter it executes
                chapters = {m[0]: float(m[1]) for m in re.findall(r"^\s+(\d\d_\w+): ([\d.]+) s$", done.stderr, re.M)}
        profile = chapter_profile(Path(tmp) / "run_config.json", chapters)
    print(f"cbec run: cold {times[0]:.1f} s, warm {times[1]:.1f} s", flush=True)
    return {
        "cold_seconds": round(times[0], 1),
        "warm_seconds": round(times[1], 1),
        "chapter_seconds": chapters,
        "chapter_profile": profile,
    }


def chapter_profile(run_config: Path, chapters: dict, top: int = 6) -> dict:
    """The heaviest chapters' functions by cumulative time (cProfile, in this process, on the cold run's
    settings): where a chapter's seconds go, so that optimising starts from a measurement."""
    import cProfile
    import pstats

    from cbec.study.chapters import CHAPTERS, chapter_name
    from cbec.study.chapters.base import RunConfig

    cfg = RunConfig.load(run_config)
    out = {}
    for nb in sorted(chapters, key=chapters.get, reverse=True)[:4]:
        prof = cProfile.Profile()
        prof.runcall(CHAPTERS[chapter_name(nb)], cfg)
        stats = pstats.Stats(prof).sort_stats("cumulative").stats
        own = [
            (f"{Path(f).stem}.{fn}", round(v[3], 2))
            for (f, _, fn), v in stats.items()
            if "/cbec/" in f and not fn.startswith("<")
        ]
        out[nb] = sorted(own, key=lambda x: -x[1])[1 : top + 1]  # the chapter function itself comes first
    return out


def calibration_scaling() -> dict:
    """The calibration study on a slice (two worlds, 600 and 2,000 firms, 20 samples each): one process against
    a local Dask cluster of two workers, the same numbers; the efficiency says what more workers would give.
    With it, where a sample's time goes, rule by rule (:func:`calibration_rule_profile`)."""
    from distributed import Client, LocalCluster
    from threadpoolctl import threadpool_limits

    from cbec.article.calibrate import calibrate

    grid = {"scenarios": ("shipped", "realistic"), "sample_sizes": (600, 2000), "reps": 20}
    t0 = time.perf_counter()
    with threadpool_limits(1):  # as a worker runs: one BLAS thread (two on two cores only fight)
        one = calibrate(**grid)
    t_one = time.perf_counter() - t0
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        with Client(cluster) as client:
            t0 = time.perf_counter()
            two = calibrate(**grid, client=client)
            t_two = time.perf_counter() - t0
    a, b = pd.DataFrame(one["rows"]), pd.DataFrame(two["rows"])
    shares_same = bool(a["share"].equals(b["share"]))
    num = a.select_dtypes("number").columns
    largest = float(np.nanmax(np.abs(a[num].to_numpy(float) - b[num].to_numpy(float))))
    samples = 2 * 2 * grid["reps"]
    print(f"calibration slice: {t_one:.1f} s in one process, {t_two:.1f} s on 2 workers", flush=True)
    full = calibration_full_study()
    return {
        "samples": samples,
        "one_process_seconds": round(t_one, 1),
        "two_workers_seconds": round(t_two, 1),
        "efficiency_two_workers": round(t_one / (2 * t_two), 2),
        "seconds_per_sample_one_process": round(t_one / samples, 3),
        "shares_identical": shares_same,
        "largest_difference": largest,
        "full_study_500_one_process_seconds_estimated": full["estimate_seconds"],
        "full_study": full,
        "seconds_per_sample_by_rule": calibration_rule_profile(),
    }


def calibration_full_study(reps: tuple[int, int] = (2, 6), target_reps: int = 500) -> dict:
    """The full study's time in one process, timed cell by cell rather than scaled from one slice: every world at
    every sample size run with ``reps[0]`` and ``reps[1]`` samples (one BLAS thread, fresh seeds), the difference
    giving each cell's seconds per sample and the rest its fixed cost; the pseudo-true values (once per world)
    added. A world's invariance fits or bootstraps cost what its data make them cost, so each cell is timed."""
    from threadpoolctl import threadpool_limits

    from cbec.article import calibrate as cal
    from cbec.article.simulate import SCENARIOS

    inst = load_instrument()
    cells, pseudo = [], 0.0
    with threadpool_limits(1):
        for i, scenario in enumerate(SCENARIOS):
            t0 = time.perf_counter()
            cal.pseudo_true_couplings(scenario, inst=inst)
            cal.pseudo_true_group_gaps(scenario, inst=inst)
            pseudo += time.perf_counter() - t0
            for j, n in enumerate(cal.SAMPLE_SIZES):
                took = []
                for r in reps:
                    t0 = time.perf_counter()
                    cal.calibration_cell(scenario, n, r, (97, i, j, r), instrument=inst)
                    took.append(time.perf_counter() - t0)
                per = max((took[1] - took[0]) / (reps[1] - reps[0]), 0.0)
                fixed = max(took[0] - reps[0] * per, 0.0)
                cells.append({"scenario": scenario, "n": n, "seconds_per_sample": round(per, 3),
                              "fixed_seconds": round(fixed, 2)})  # fmt: skip
    total = pseudo + sum(c["fixed_seconds"] + target_reps * c["seconds_per_sample"] for c in cells)
    by_size = {
        str(n): round(float(np.mean([c["seconds_per_sample"] for c in cells if c["n"] == n])), 3)
        for n in sorted({c["n"] for c in cells})
    }
    print(f"calibration, full study estimated at {total:.0f} s in one process; per sample by size {by_size}")
    return {
        "reps_timed": list(reps),
        "target_reps": target_reps,
        "target_seconds": CALIBRATION_TARGET_S,
        "cells": cells,
        "seconds_per_sample_by_size": by_size,
        "pseudo_true_seconds": round(pseudo, 1),
        "estimate_seconds": round(total),
    }


def calibration_rule_profile(reps: int = 4) -> dict:
    """Seconds per simulated survey of each step of a calibration cell (one BLAS thread, as a worker runs), in
    the realistic world at each of the study's sample sizes: which rules the full study's time goes to."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        from cbec.article.calibrate import SAMPLE_SIZES

        out = {str(n): _rule_seconds(n, reps) for n in SAMPLE_SIZES}
    print(f"calibration, seconds per sample by rule: {out}", flush=True)
    return out


def _rule_seconds(n: int, reps: int) -> dict:
    from cbec.article import calibrate as cal
    from cbec.article.power import batch_joint_model
    from cbec.article.simulate import draw_latent_world, scenario_config
    from cbec.io.instrument import load_instrument

    inst = load_instrument()
    cfg = scenario_config("realistic", n=n, dirt=False)
    world = draw_latent_world(cfg, inst, np.random.default_rng(5), reps=reps)
    times = {}
    t0 = time.perf_counter()
    res = batch_joint_model(world, inst)
    times["observed joint model (C03, IUT)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    samples = cal._samples(world, inst)
    times["prepare samples"] = time.perf_counter() - t0
    rules = {
        "latent 2S-PA model": lambda: cal._latent_rows(world, samples, inst, 0.05),
        "group differences": lambda: cal._group_differences_found(samples, 0.05, cal.equal_groupings(cfg)),
        "response surface": lambda: cal._rsa_verdicts(res, samples, inst, 0.05),
        "measurement invariance": lambda: cal._invariance_verdicts(samples, inst),
        "C14 (two cycle worlds)": lambda: cal._c14_results(
            world, samples, inst, 0.05, cal._c14_worlds(cfg), np.random.default_rng(14)
        ),
    }
    for name, rule in rules.items():
        t0 = time.perf_counter()
        rule()
        times[name] = time.perf_counter() - t0
    return {k: round(v / reps, 3) for k, v in times.items()}


def dask_comparison(inst) -> dict:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    local = power.power_curve(instrument=inst)
    t_local = time.perf_counter() - t0
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        with Client(cluster) as client:
            t_up = time.perf_counter() - t0
            remote = power.power_curve(instrument=inst, client=client)
    t_dask = time.perf_counter() - t0
    print(f"Dask LocalCluster(2): {t_dask:.1f} s (start-up {t_up:.1f} s) vs {t_local:.1f} s in one process")
    return {
        "local_seconds": round(t_local, 2),
        "local_cluster_2_workers_seconds": round(t_dask, 2),
        "cluster_start_seconds": round(t_up, 2),
        "identical": bool(local.equals(remote)),
    }


def fresh_clone_book() -> dict:
    """A newcomer's first command: ``make book`` in a fresh clone of the committed repository (its own virtual
    environment, an empty uv cache, the run and the build), wall time and the set-up's own line. The Debian
    packages are the machine's (installed once; the Makefile checks for them)."""
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        env = {**os.environ, "UV_CACHE_DIR": str(Path(tmp) / "uv-cache"), "PIP_NO_CACHE_DIR": "1"}
        t0 = time.perf_counter()
        done = subprocess.run(["make", "book"], cwd=clone, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
    setup = re.search(r"set-up: .* in (\d+) s", done.stdout)
    print(f"fresh clone, make book: {seconds:.1f} s (exit {done.returncode})", flush=True)
    return {
        "seconds": round(seconds, 1),
        "setup_seconds": int(setup.group(1)) if setup else None,
        "exit_code": done.returncode,
        "tail": done.stdout.splitlines()[-3:] if done.returncode == 0 else done.stderr.splitlines()[-5:],
    }


def targets(r: dict) -> list[dict]:
    """Each target of issue 15 beside its measured figure."""
    big = next((x for x in r.get("scale", {}).get("rows", []) if x["n"] == 1_000_000), None)
    rows = [
        ("cold cbec run, shipped survey", "s", "<=", 30, r.get("cbec_run", {}).get("cold_seconds")),
        ("warm re-run, nothing changed", "s", "<=", 3, r.get("cbec_run", {}).get("warm_seconds")),
        ("make book on a fresh clone, set-up included", "s", "<=", 90, r.get("fresh_clone", {}).get("seconds")),
        ("bootstrap 21 pairs x 2,000, speed-up", "x", ">=", 50, r["bootstrap"]["bootstrap_speedup_vs_statsmodels"]),
        ("power study, 1,600 surveys", "s", "<=", 10, r["power_study"]["batched_seconds"]),
        ("PLS-SEM estimate, 7 factors, 600 firms", "s", "<=", 0.1, r["pls"]["estimate_seconds"]),
        ("PLS-SEM 5,000 bootstrap resamples", "s", "<=", 10, r["pls"]["bootstrap_5000_seconds"]),
        ("10^6 firms: validate, score, 21 pair models", "s", "<=", 20, big and big["seconds"]),
        ("10^6 firms: peak memory", "GB", "<=", 2, big and round(big["peak_rss_mb"] / 1024, 2)),
        (
            "calibration, 6 worlds x 3 sizes x 500 samples, one process (estimated cell by cell)",
            "s",
            "<=",
            CALIBRATION_TARGET_S,
            r.get("calibration") and r["calibration"].get("full_study_500_one_process_seconds_estimated"),
        ),
    ]
    out = []
    for name, unit, op, target, got in rows:
        met = None if got is None else (got <= target if op == "<=" else got >= target)
        out.append({"target": name, "unit": unit, "rule": f"{op} {target}", "measured": got, "met": met})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the scale curve, cbec run and Dask")
    args = parser.parse_args()
    inst = load_instrument()
    df, _ = simulate_survey(SimulationConfig(n=600, seed=2026), inst)
    clean = validate_frame(df, inst).clean
    results: dict = {"steps": steps(inst, clean)}
    for name, target in STEP_TARGETS_S.items():
        results["steps"][name].update(target_seconds=target, met=results["steps"][name]["seconds"] <= target)
    results["bootstrap"] = bootstrap_comparison(inst, clean)
    results["power_study"] = power_comparison(inst)
    results["pls"] = pls_comparison(inst, clean)
    if not args.quick:
        results["scale"] = scale_curve()
        results["cbec_run"] = run_timings()
        results["dask"] = dask_comparison(inst)
        results["calibration"] = calibration_scaling()
        results["fresh_clone"] = fresh_clone_book()
    results["targets"] = targets(results)
    versions = {p: metadata.version(p) for p in ("numpy", "pandas", "statsmodels", "scipy", "dask")}
    OUT.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "processor": platform.machine(),
                    "platform": platform.platform(),
                    "cores": os.cpu_count(),
                    "date": time.strftime("%Y-%m-%d"),
                    **versions,
                },
                "results": results,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
