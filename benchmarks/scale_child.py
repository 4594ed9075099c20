"""One step of the scale benchmark, run in its own process so that its peak memory is its own.

python benchmarks/scale_child.py simulate N PATH   # write N simulated firms (with dirt) to PATH (parquet)
python benchmarks/scale_child.py pipeline PATH     # validate, score and fit all 21 pair models; print JSON
"""

from __future__ import annotations

import json
import resource
import sys
import time

from cbec.article.simulate import SimulationConfig, simulate_survey
from cbec.io.instrument import load_instrument
from cbec.io.validate import validate_survey
from cbec.stats import models


def simulate(n: int, path: str) -> None:
    df, _ = simulate_survey(SimulationConfig(n=n, seed=1), load_instrument())
    df.to_parquet(path, index=False)


def pipeline(path: str) -> dict:
    """What a re-run does with a survey file before the chapters: read and validate it, score the factors,
    fit the joint model of all 21 couplings and the 21 pair models (HC3)."""
    inst = load_instrument()
    t0 = time.perf_counter()
    res = validate_survey(path, instrument=inst)
    t1 = time.perf_counter()
    a = models.prepare(res.clean, inst)
    models.joint_interaction_model(a.scores, a.y, a.controls)
    z = models.standardise(a.scores)
    for x, y in models.pair_list(a.scores.columns):
        models.interaction_model(a.y, z, x, y, a.controls)
    t2 = time.perf_counter()
    return {
        "rows_in": res.report["rows_in"],
        "rows_clean": res.report["rows_clean"],
        "seconds": round(t2 - t0, 3),
        "validate_seconds": round(t1 - t0, 3),
        "models_seconds": round(t2 - t1, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    if sys.argv[1] == "simulate":
        simulate(int(sys.argv[2]), sys.argv[3])
    else:
        print(json.dumps(pipeline(sys.argv[2])))
