"""Speed and memory of the pipeline's heavy steps, written to benchmarks/results/latest.json.

Run with `make bench`. Each step is timed with time.perf_counter (best of `REPEAT` runs) and its peak Python
heap measured with tracemalloc; numbers depend on the machine, which is recorded beside them. The targets in
TARGETS_S are the budget a researcher's laptop should meet; a result above target is reported, not failed.
"""

from __future__ import annotations

import json
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np

from cbec.io.instrument import load_instrument
from cbec.io.validate import validate_frame
from cbec.stats import measurement as ms
from cbec.stats import models, regression
from cbec.study import power
from cbec.study.simulate import SimulationConfig, simulate_survey

REPEAT = 3
TARGETS_S = {  # seconds
    "validate_10000_rows": 10.0,
    "cfa_seven_factors_600": 5.0,
    "coupling_21_pairs_999_boot_600": 60.0,
    "power_one_cell_600_100_reps": 1.0,
    "bootstrap_21_pairs_2000_draws_batched": 10.0,
}
#: Draws of the statsmodels refit loop timed for the ratio (its time grows linearly in the draws).
LOOP_DRAWS = 100


def bootstrap_comparison(scores, y, X) -> dict:
    """The 21 pair interaction models, 2,000 case-resampling draws each: batched normal equations
    (cbec.stats.regression.bootstrap_ols) against a statsmodels refit loop on the same draws; the loop is timed
    on LOOP_DRAWS draws per pair and scaled to 2,000 (linear in the draws)."""
    import statsmodels.api as sm

    from cbec.stats.regression import bootstrap_ols, resample_weights

    z = models.standardise(scores)
    designs = [models.interaction_model(y, z, a, b, X)[1] for a, b in models.pair_list(scores.columns)]
    n = len(y)
    idx = np.random.default_rng(1).integers(0, n, size=(2000, n))
    t0 = time.perf_counter()
    w = resample_weights(idx, n)  # one set of resampled firms for every pair
    batched = [bootstrap_ols(y, x, 2000, weights=w) for x in designs]
    t_batched = time.perf_counter() - t0
    ya = y.to_numpy(float)
    t0 = time.perf_counter()
    loop = []
    for x in designs:
        xa = sm.add_constant(x, has_constant="add").to_numpy(float)
        loop.append([sm.OLS(ya[i], xa[i]).fit().params for i in idx[:LOOP_DRAWS]])
    t_loop = (time.perf_counter() - t0) * 2000 / LOOP_DRAWS
    worst = max(
        float(np.abs(b.to_numpy()[:LOOP_DRAWS] - np.array(lp)).max()) for b, lp in zip(batched, loop, strict=True)
    )
    return {
        "batched_seconds": round(t_batched, 3),
        "statsmodels_loop_seconds_scaled": round(t_loop, 1),
        "bootstrap_speedup_vs_statsmodels": round(t_loop / t_batched, 1),
        "max_abs_difference": worst,
        "target_speedup": 50,
        "within_target": t_loop / t_batched >= 50,
    }


def measure(fn):
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


def main() -> None:
    inst = load_instrument()
    big, _ = simulate_survey(SimulationConfig(n=10_000, seed=1), inst)
    df, _ = simulate_survey(SimulationConfig(n=600, seed=2026), inst)
    clean = validate_frame(df, inst).clean
    scores = ms.mean_scores(clean, ms.factor_blocks(inst))
    U = ms.normalise(scores, "scale")
    y = models.performance_score(clean, inst.performance_item_ids)
    X = models.control_matrix(clean)
    steps = {
        "validate_10000_rows": lambda: validate_frame(big, inst),
        "cfa_seven_factors_600": lambda: ms.fit_cfa(clean, ms.factor_blocks(inst)),
        "coupling_21_pairs_999_boot_600": lambda: models.fit_all_pairs(U, scores, y, X, n_boot=999),
        "power_one_cell_600_100_reps": lambda: power.power_cell(600, 0.2, 100, "MI*SC", 0.05, (7, 0, 0), None, inst),
        "bootstrap_21_pairs_2000_draws_batched": lambda: [
            regression.bootstrap_ols(y, models.interaction_model(y, models.standardise(scores), a, b, X)[1], 2000)
            for a, b in models.pair_list(scores.columns)
        ],
    }
    results = {}
    for name, fn in steps.items():
        secs, peak = measure(fn)
        results[name] = {
            f"seconds_best_of_{REPEAT}": round(secs, 3),
            "peak_python_heap_mb": round(peak / 2**20, 1),
            "target_seconds": TARGETS_S[name],
            "within_target": secs <= TARGETS_S[name],
        }
        print(f"{name}: {secs:.2f} s (target {TARGETS_S[name]} s), peak heap {peak / 2**20:.1f} MB")
    results["bootstrap_vs_statsmodels"] = boot = bootstrap_comparison(scores, y, X)
    print(
        f"bootstrap, 21 pairs x 2000 draws: {boot['batched_seconds']} s batched, "
        f"{boot['statsmodels_loop_seconds_scaled']} s statsmodels loop: x{boot['bootstrap_speedup_vs_statsmodels']}"
    )
    out = Path(__file__).parent / "results" / "latest.json"
    out.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "processor": platform.machine(),
                    "cores": __import__("os").cpu_count(),
                    "numpy": np.__version__,
                    "date": time.strftime("%Y-%m-%d"),
                },
                "results": results,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
