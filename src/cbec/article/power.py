"""Power of the coupling test, by simulation: how many firms must a researcher survey?

For each sample size and planted coupling strength, simulate surveys from the generating model of
:mod:`cbec.article.simulate` (without dirt), fit the joint interaction model of :mod:`cbec.stats.models`,
and count how often the planted pair is (a) Holm-significant and (b) ranked first among the 21 pairs.
The answer depends on the whole measurement chain (seven-point items, six items per factor,
correlated factors), which is why it is simulated rather than taken from a textbook formula.

All replications of a grid cell are drawn and fitted together: the generator works on a leading
``reps`` axis and :func:`cbec.stats.regression.fit_ols_batch` solves every sample's HC3 regression in
one pass. A test checks the batch sample by sample against the one-survey path
(:func:`cbec.stats.models.joint_interaction_model` on the survey frame). Each cell has its own seed
(``[seed, i, j]``), so cells can run in any order, in other processes or on a Dask cluster, and give the
same numbers.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd

from cbec.article.simulate import LatentWorld, SimulationConfig, draw_latent_world
from cbec.io.instrument import Instrument, load_instrument
from cbec.stats import models
from cbec.stats.regression import fit_ols_batch

# Replications drawn and fitted together. Each block has its own seed, so a cell's numbers do not depend
# on how its blocks are scheduled; 25 samples of 1,000 firms hold about 40 MB of arrays.
BLOCK_REPS = 25


def world_frame(world: LatentWorld, r: int, inst: Instrument) -> pd.DataFrame:
    """Sample ``r`` of a batch as the survey columns the models read (raw answers, as a file would hold)."""
    p = world.profile
    df = pd.DataFrame(
        {
            "size_class": np.where(p["large"][r], "large", "sme"),
            "business_model": np.where(p["factory"][r], "factory", "operations"),
            "main_market": p["market"][r],
            "years_cbec": p["years"][r].astype(np.int64),
            "stage": p["stage"][r],
        }
    )
    for item_id, y in world.items.items():
        df[item_id] = y[r]
    return df


def _batch_design(
    world: LatentWorld, inst: Instrument, squares: bool = True
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The joint model's outcome and design for every sample: the arrays :func:`models.prepare` and
    :func:`models.joint_design` build from one survey frame (tested equal)."""
    codes = inst.factor_codes

    def recoded(item_id: str) -> np.ndarray:  # as cbec.io.validate.recode_reverse does to a frame
        y = world.items[item_id]
        return (inst.likert_points + 1 - y) if inst.items[item_id].reverse else y

    scores = np.stack([np.mean([recoded(i) for i in inst.factor_items[c]], axis=0) for c in codes], axis=-1)
    z = (scores - scores.mean(axis=1, keepdims=True)) / scores.std(axis=1, ddof=1, keepdims=True)
    pairs = models.pair_list(codes)
    products = np.stack([z[..., codes.index(a)] * z[..., codes.index(b)] for a, b in pairs], axis=-1)
    p = world.profile
    controls = np.stack(
        [
            ~p["large"],
            ~p["factory"],
            p["market"] == "other_emerging",
            p["market"] == "sea",
            p["years"],
            p["stage"] == "mature",
            p["stage"] == "start",
        ],
        axis=-1,
    ).astype(float)
    perf = np.mean([world.items[i] for i in inst.performance_item_ids], axis=0).astype(float)
    y = (perf - perf.mean(axis=1, keepdims=True)) / perf.std(axis=1, ddof=1, keepdims=True)
    names = [
        *codes,
        *(f"{a}x{b}" for a, b in pairs),
        *(f"{c}_sq" for c in codes if squares),
        *(f"control_{j}" for j in range(controls.shape[-1])),
    ]
    x = np.concatenate([z, products, *([z**2] if squares else []), controls], axis=-1)
    degenerate = (controls.std(axis=1) == 0).any(axis=1)
    if degenerate.any():  # a control without variation in some sample: only tiny samples; say so, do not guess
        raise ValueError(
            f"{int(degenerate.sum())} simulated samples of {x.shape[1]} firms lack a firm type the controls "
            "need; use larger samples in the power grid"
        )
    return y, x, names


def batch_joint_model(world: LatentWorld, inst: Instrument, squares: bool = True) -> dict[str, pd.DataFrame]:
    """The joint interaction model of every sample in a batch (the full second-order model; ``squares=False``:
    products only): estimates, HC3 p-values, Holm p-values and the rank of each pair (rank 1 = largest
    estimate, ties sharing the better rank), one row per sample."""
    y, x, names = _batch_design(world, inst, squares)
    fit = fit_ols_batch(y, x, names)
    pairs = [f"{a}x{b}" for a, b in models.pair_list(inst.factor_codes)]
    est = fit["params"][pairs]
    p = fit["pvalues"][pairs]
    e = est.to_numpy()
    rank = 1 + (e[:, None, :] > e[:, :, None]).sum(axis=2)
    cols = list(fit["params"].columns)
    where = [cols.index(q) for q in pairs]
    return {
        "cov": fit["cov"][:, where][:, :, where],  # samples x pairs x pairs, in the order of ``pairs``
        "estimate": est,
        "std_error": fit["bse"][pairs],
        "p_value": p,
        "p_holm": pd.DataFrame(models.holm(p.to_numpy()), columns=pairs),
        "rank": pd.DataFrame(rank, columns=pairs),
    }


def power_cell(
    n: int,
    gamma: float,
    reps: int,
    pair: str,
    alpha: float,
    seed: tuple[int, ...],
    config: dict | None = None,
    instrument: Instrument | None = None,
) -> dict:
    """One grid cell: ``reps`` surveys of ``n`` firms with ``gamma`` planted on ``pair`` (seeded by ``seed``)."""
    inst = instrument or load_instrument()
    cfg = SimulationConfig(**{**(config or {}), "n": n, "dirt": False, "couplings": {pair: gamma} if gamma else {}})
    name = pair.replace("*", "x")
    sig, first, iut = [], [], []
    for block, start in enumerate(range(0, reps, BLOCK_REPS)):
        rng = np.random.default_rng([*seed, block])
        res = batch_joint_model(draw_latent_world(cfg, inst, rng, reps=min(BLOCK_REPS, reps - start)), inst)
        sig.append(res["p_holm"][name].to_numpy() < alpha)
        first.append(res["rank"][name].to_numpy() == 1)
        iut.append(largest_by_iut(res, name, alpha))
    sig_all, first_all, iut_all = np.concatenate(sig), np.concatenate(first), np.concatenate(iut)
    p = float(sig_all.mean())
    return {
        "n": n,
        "gamma": gamma,
        "reps": reps,
        "power_holm": p,
        "power_verdict": float(iut_all.mean()),
        "rank1_share": float(first_all.mean()),
        "mc_se": float(np.sqrt(p * (1 - p) / reps)),
    }


def largest_by_iut(res: dict, name: str, alpha: float) -> np.ndarray:
    """For every sample of a batch: does the pre-specified pair ``name`` exceed every other pair by the
    intersection–union test the book's verdict uses (:func:`cbec.stats.ranks.ordered_comparisons`: each
    one-sided z above the 1 - alpha quantile)? Vectorised over samples; tested equal to the per-sample test."""
    from scipy.stats import norm

    return iut_z_min(res, name) > norm.ppf(1 - alpha)


def iut_z_min(res: dict, name: str) -> np.ndarray:
    """Per sample, the smallest one-sided z of "``name`` exceeds pair j" over every other pair j."""
    pairs = list(res["estimate"].columns)
    t = pairs.index(name)
    others = [j for j in range(len(pairs)) if j != t]
    est, cov = res["estimate"].to_numpy(), res["cov"]
    diff = est[:, [t]] - est[:, others]
    var = cov[:, t, t][:, None] + cov[:, others, others] - 2 * cov[:, t, others]
    return (diff / np.sqrt(var)).min(axis=1)


def power_curve(
    sample_sizes=(200, 400, 600, 1000),
    gammas=(0.10, 0.15, 0.20, 0.25),
    reps: int = 100,
    pair: str = "MI*SC",
    alpha: float = 0.05,
    seed: int = 2026,
    instrument: Instrument | None = None,
    config: dict | None = None,
    client=None,
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
    config : dict, optional
        Other :class:`~cbec.article.simulate.SimulationConfig` fields (a scenario's settings, say).
    client : dask.distributed.Client, optional
        Send the grid cells to a Dask cluster; the numbers are the same as without it.

    Returns
    -------
    DataFrame with ``n, gamma, reps, power_holm, rank1_share, mc_se`` (one row per grid cell).
    """
    inst = instrument or load_instrument()
    cells = [
        (n, g, reps, pair, alpha, (seed, i, j), config)
        for i, n in enumerate(sample_sizes)
        for j, g in enumerate(gammas)
    ]
    if client is None:
        rows = [power_cell(*c, instrument=inst) for c in cells]
    else:
        # mypy cannot see that each cell fills the six positional parameters only
        futures = client.map(lambda c: power_cell(*c, instrument=inst), cells, pure=False)  # type: ignore[misc]
        rows = client.gather(futures)
    return pd.DataFrame(rows)


@contextmanager
def dask_client(address: str = ""):
    """A ``dask.distributed`` client connected to ``address``, or ``None`` when no address is given
    (the studies then run in this process). Results are the same either way (tested)."""
    if not address:
        yield None
        return
    from distributed import Client

    with Client(address) as client:
        yield client


def firms_needed(curve: pd.DataFrame, gamma: float, target: float = 0.8) -> float:
    """Smallest simulated n whose power reaches ``target`` at ``gamma`` (NaN if none does)."""
    g = curve[np.isclose(curve["gamma"], gamma) & (curve["power_holm"] >= target)]
    return float(g["n"].min()) if len(g) else float("nan")
