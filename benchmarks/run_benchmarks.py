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
from cbec.stats import models
from cbec.study import power
from cbec.study.simulate import SimulationConfig, simulate_survey

REPEAT = 3
TARGETS_S = {  # seconds
    "validate_10000_rows": 10.0,
    "cfa_seven_factors_600": 5.0,
    "coupling_21_pairs_999_boot_600": 60.0,
    "power_one_replication_600": 0.5,
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
        "power_one_replication_600": lambda: power._one_rep(inst, 600, 0.2, "MI*SC", 7, 0.05),
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
    out = Path(__file__).parent / "results" / "latest.json"
    out.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "processor": platform.machine(),
                    "numpy": np.__version__,
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
