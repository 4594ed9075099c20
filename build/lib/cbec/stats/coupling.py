"""Coupling-coordination indices of two or more subsystems with indices U in [0, 1].

No maintained Python package implements these formulas (they come from the Chinese regional-science
literature), so they are written here, each with a hand-worked unit test.

Standard model, for ``m`` subsystems::

    C = [ prod U_i / (mean U)^m ]^(1/m)        (coupling degree; equals m [prod U_i / (sum U_i)^m]^(1/m))
    T = sum alpha_i U_i                         (comprehensive development index, weights sum to 1)
    D = sqrt(C * T)                             (coupling coordination degree)

Known weakness of the standard C: for two subsystems it depends only on the ratio ``U1/U2``
(``C = 2 sqrt(r)/(1+r)``), and it stays close to 1 for any ratio seen in practice (r = 0.5 still
gives 0.94), so it barely discriminates. Wang et al. (2021) revise it so that absolute distance
also counts::

    C' = sqrt( [1 - sum_{i>j} |U_i - U_j| / sum_{k=1}^{m-1} k] * [prod (U_i / max U)]^(1/(m-1)) )

which for two subsystems is ``sqrt((1 - |U1 - U2|) * min/max)``.

References
----------
Wang Shujia, Kong Wei, Ren Liang, Zhi Dandan, Dai Bingtao (2021). 国内耦合协调度模型的误区及修正.
自然资源学报 36(3), 793–810.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Ten-level classification of D in common use (upper bounds exclusive, last inclusive).
D_LEVELS = (
    (0.1, "extreme disorder", "极度失调"),
    (0.2, "serious disorder", "严重失调"),
    (0.3, "moderate disorder", "中度失调"),
    (0.4, "mild disorder", "轻度失调"),
    (0.5, "on the verge of disorder", "濒临失调"),
    (0.6, "barely coordinated", "勉强协调"),
    (0.7, "primary coordination", "初级协调"),
    (0.8, "intermediate coordination", "中级协调"),
    (0.9, "good coordination", "良好协调"),
    (1.0 + 1e-12, "high-quality coordination", "优质协调"),
)


def _as_matrix(u) -> np.ndarray:
    x = np.asarray(u, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if np.nanmin(x) < 0 or np.nanmax(x) > 1:
        raise ValueError("coupling indices must lie in [0, 1]; normalise the factor scores first")
    return x


def coupling_degree(u) -> np.ndarray:
    """Standard coupling degree C for each row of ``u`` (rows: units, columns: subsystems).

    ``C = [prod U_i / (mean U)^m]^(1/m)``: the geometric over the arithmetic mean of the indices.

    Examples
    --------
    Two subsystems at 0.2 and 0.8 (ratio 1/4) give ``2 sqrt(r) / (1 + r) = 0.8``:

    >>> coupling_degree([[0.5, 0.5], [0.2, 0.8]]).round(3)
    array([1. , 0.8])
    """
    x = _as_matrix(u)
    m = x.shape[1]
    mean = x.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.exp(np.log(x).sum(axis=1) / m) / mean  # geometric mean / arithmetic mean
    return np.where(mean > 0, np.nan_to_num(c, nan=0.0), 0.0)


def coupling_degree_revised(u) -> np.ndarray:
    """Revised coupling degree of Wang et al. (2021) for each row of ``u`` (formula in the module docstring).

    Examples
    --------
    For two subsystems ``sqrt((1 - |U1 - U2|) * min/max)``: ``sqrt(0.4 * 0.25)`` for 0.2 and 0.8.

    >>> coupling_degree_revised([[0.5, 0.5], [0.2, 0.8]]).round(3)
    array([1.   , 0.316])
    """
    x = _as_matrix(u)
    m = x.shape[1]
    if m < 2:
        raise ValueError("coupling needs at least two subsystems")
    i, j = np.triu_indices(m, k=1)
    spread = np.abs(x[:, i] - x[:, j]).sum(axis=1) / (m * (m - 1) / 2)
    mx = x.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mx > 0, x / mx, 0.0)
        balance = np.exp(np.log(ratio).sum(axis=1) / (m - 1))
    balance = np.nan_to_num(balance, nan=0.0)
    return np.sqrt(np.clip(1 - spread, 0, None) * balance)


def comprehensive_index(u, weights=None) -> np.ndarray:
    """T = sum alpha_i U_i; equal weights unless given (weights are rescaled to sum to 1)."""
    x = _as_matrix(u)
    w = np.full(x.shape[1], 1 / x.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    return x @ w


def coordination_degree(u, weights=None, revised: bool = False) -> np.ndarray:
    """Coupling coordination degree ``D = sqrt(C T)`` with the standard or the revised C.

    D grows with the level T as much as with the balance C: as a regressor it must be used with the levels
    held fixed (see :func:`cbec.stats.models.fit_all_pairs`).

    Examples
    --------
    >>> coordination_degree([[0.5, 0.5], [0.2, 0.8]], revised=True).round(3)
    array([0.707, 0.398])
    """
    c = coupling_degree_revised(u) if revised else coupling_degree(u)
    return np.sqrt(c * comprehensive_index(u, weights))


def classify_d(d) -> pd.Series:
    """The ten-level label of each D (English; Chinese via :data:`D_LEVELS`)."""
    d = np.asarray(d, dtype=float)
    bounds = np.array([b for b, _, _ in D_LEVELS])
    idx = np.searchsorted(bounds, d, side="right")
    labels = np.array([en for _, en, _ in D_LEVELS])
    return pd.Series(labels[np.clip(idx, 0, len(labels) - 1)])


def _indices_frame(u: np.ndarray, index) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "C": coupling_degree(u),
            "C_revised": coupling_degree_revised(u),
            "T": comprehensive_index(u),
            "D": coordination_degree(u),
            "D_revised": coordination_degree(u, revised=True),
        },
        index=index,
    )


def pair_indices(indices: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """C, revised C, T and D (standard and revised) of one factor pair for every firm."""
    return _indices_frame(indices[[a, b]].to_numpy(dtype=float), indices.index)


def system_indices(indices: pd.DataFrame) -> pd.DataFrame:
    """C, T and D of all factors together (the seven-factor system) for every firm."""
    return _indices_frame(indices.to_numpy(dtype=float), indices.index)
