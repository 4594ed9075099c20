"""Power of the coupling test, by simulation: how many firms must a researcher survey?

For each sample size and planted coupling strength, simulate surveys from the generating model of
:mod:`cbec.simulate` (without dirt), fit the joint interaction model of :mod:`cbec.models`, and
count how often the planted pair is (a) Holm-significant and (b) ranked first among the 21 pairs.
The answer depends on the whole measurement chain (seven-point items, six items per factor,
correlated factors), which is why it is simulated rather than taken from a textbook formula.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec.io.instrument import Instrument, load_instrument
from cbec.io.validate import recode_reverse
from cbec.stats import models
from cbec.study.simulate import SimulationConfig, simulate_survey


def _one_rep(inst: Instrument, n: int, gamma: float, pair: str, seed: int, alpha: float) -> tuple[bool, bool]:
    cfg = SimulationConfig(n=n, seed=seed, dirt=False, couplings={pair: gamma} if gamma else {})
    df, _ = simulate_survey(cfg, inst)
    a = models.prepare(recode_reverse(df, inst), inst)
    t = models.joint_interaction_model(a.scores, a.y, a.controls)
    a, b = pair.split("*")
    row = t[(t["factor_a"] == a) & (t["factor_b"] == b)].iloc[0]
    return bool(row["p_holm"] < alpha), bool(row["rank"] == 1)


def power_curve(
    sample_sizes=(200, 400, 600, 1000),
    gammas=(0.10, 0.15, 0.20, 0.25),
    reps: int = 100,
    pair: str = "MI*SC",
    alpha: float = 0.05,
    seed: int = 2026,
    instrument: Instrument | None = None,
) -> pd.DataFrame:
    """Simulated power of the joint interaction model to find one planted coupling.

    Parameters
    ----------
    sample_sizes, gammas : sequences
        Grid of firms surveyed and planted coupling strengths (per SD of both factors, on latent
        performance).
    reps : int
        Simulated surveys per grid cell; the Monte Carlo SE of a power p is sqrt(p(1-p)/reps).
    pair : str
        The planted pair, ``"A*B"``.

    Returns
    -------
    DataFrame with ``n, gamma, reps, power_holm, rank1_share, mc_se`` (one row per grid cell).
    """
    inst = instrument or load_instrument()
    rows = []
    for i, n in enumerate(sample_sizes):
        for j, g in enumerate(gammas):
            hits = np.array(
                [_one_rep(inst, n, g, pair, seed + 100_000 * i + 1_000 * j + r, alpha) for r in range(reps)]
            )
            p = hits[:, 0].mean()
            rows.append(
                {
                    "n": n,
                    "gamma": g,
                    "reps": reps,
                    "power_holm": p,
                    "rank1_share": hits[:, 1].mean(),
                    "mc_se": float(np.sqrt(p * (1 - p) / reps)),
                }
            )
    return pd.DataFrame(rows)


def firms_needed(curve: pd.DataFrame, gamma: float, target: float = 0.8) -> float:
    """Smallest simulated n whose power reaches ``target`` at ``gamma`` (NaN if none does)."""
    g = curve[np.isclose(curve["gamma"], gamma) & (curve["power_holm"] >= target)]
    return float(g["n"].min()) if len(g) else float("nan")
