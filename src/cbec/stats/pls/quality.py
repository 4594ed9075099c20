"""Structural-model quality of a PLS model: f² and VIF of every path, HTMT with bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec.stats.moments import symmetric_from_upper
from cbec.stats.pls.estimate import _group_moments, pls_sem


def structural_quality(
    data: pd.DataFrame,
    blocks: dict[str, list[str]],
    paths: dict[str, list[str]],
    modes: dict[str, str] | None = None,
    scheme: str = "path",
) -> pd.DataFrame:
    """Every path with its f² and the VIF of its antecedent.

    ``f² = (R²_with - R²_without) / (1 - R²_with)``, the model re-estimated without the path, as seminr's
    ``fSquared`` computes it; ``VIF_i = (R_pp^-1)_ii`` over the antecedents' construct correlations.
    """
    full = pls_sem(data, blocks, paths, modes, scheme)
    rows = []
    for target, sources in paths.items():
        r_pp = full.construct_corr.loc[sources, sources].to_numpy()
        vif = np.diag(np.linalg.inv(r_pp)) if len(sources) > 1 else np.ones(1)
        r2 = float(full.r2.loc["Rsq", target])
        for k, src in enumerate(sources):
            rest = {t: [x for x in s if not (t == target and x == src)] for t, s in paths.items()}
            rest = {t: s for t, s in rest.items() if s}
            if target in rest:
                # as seminr, only constructs left in the structural model are estimated
                used = {c for t, srcs in rest.items() for c in (t, *srcs)}
                sub = {c: items for c, items in blocks.items() if c in used}
                without = float(pls_sem(data, sub, rest, modes, scheme).r2.loc["Rsq", target])
            else:
                without = 0.0
            rows.append(
                {
                    "source": src,
                    "target": target,
                    "path": float(full.paths.loc[src, target]),
                    "f2": (r2 - without) / (1 - r2),
                    "vif": float(vif[k]),
                }
            )
    return pd.DataFrame(rows)


def htmt_bootstrap(
    data: pd.DataFrame, blocks: dict[str, list[str]], n_boot: int = 2000, seed: int = 2026, level: float = 0.95
) -> pd.DataFrame:
    """HTMT of every pair of blocks (absolute correlations, as :func:`cbec.stats.measurement.htmt`) with its
    bootstrap SD and percentile interval, all resamples' correlation matrices formed at once."""
    from cbec.stats.regression import resample_weights

    names = list(blocks)
    items = [i for ids in blocks.values() for i in ids]
    pos = {it: k for k, it in enumerate(items)}
    x = data[items].dropna().astype(float).to_numpy()
    n = len(x)
    iu = np.triu_indices(x.shape[1])
    rng = np.random.default_rng(seed)
    member = np.vstack([np.ones(n)[None], resample_weights(rng.integers(0, n, size=(n_boot, n)), n)])
    mean, cross, sd = _group_moments(x, member, iu)
    r = symmetric_from_upper(cross, x.shape[1], iu)
    r -= np.einsum("bi,bj->bij", mean, mean)
    r = np.abs(r / np.einsum("bi,bj->bij", sd, sd))

    def mono(ids: list[int]) -> np.ndarray:
        sub = r[:, ids][:, :, ids]
        k = len(ids)
        return (sub.sum(axis=(1, 2)) - k) / (k * (k - 1))

    rows = []
    tail = (1 - level) / 2
    for a_i, a in enumerate(names):
        for b in names[a_i + 1 :]:
            ia, ib = [pos[i] for i in blocks[a]], [pos[i] for i in blocks[b]]
            het = r[:, ia][:, :, ib].mean(axis=(1, 2))
            h = het / np.sqrt(mono(ia) * mono(ib))
            rows.append(
                {"construct_a": a, "construct_b": b, "htmt": h[0], "boot_se": h[1:].std(ddof=1),
                 "ci_low": np.quantile(h[1:], tail), "ci_high": np.quantile(h[1:], 1 - tail)}
            )  # fmt: skip
    return pd.DataFrame(rows)
