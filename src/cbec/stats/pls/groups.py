"""Two groups in one PLS model: measurement invariance of composites (MICOM) and the permutation multi-group
analysis of the paths."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec.stats.moments import symmetric_from_upper
from cbec.stats.pls.estimate import _estimate, _group_moments, _spec, _structural, batch_size, pls_sem


def _fit_groups(x, member, iu, spec, scheme):
    """PLS weights (items standardised within the group), item SDs and construct correlations per group row."""
    mean, cross, sd = _group_moments(x, member, iu)
    b, p = mean.shape
    cov = symmetric_from_upper(cross, p, iu)
    cov -= np.einsum("bi,bj->bij", mean, mean)
    s = cov / np.einsum("bi,bj->bij", sd, sd)
    w, _, _ = _estimate(s, spec, scheme)
    r = np.matmul(w.transpose(0, 2, 1), np.matmul(s, w))
    return w, sd, r


def _permutations(g1: np.ndarray, n_perm: int, seed: int) -> np.ndarray:
    """``n_perm`` random reassignments of the group labels (n_perm x firms), the same for MICOM and the MGA."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(g1) for _ in range(n_perm)])


def _chunks(perms: np.ndarray, p: int) -> list[np.ndarray]:
    """Permutations in chunks whose two groups' p x p correlation matrices fit a core's cache (see
    :data:`~cbec.stats.pls.estimate.BATCH_CELLS`): each chunk's groups are estimated together."""
    size = batch_size(p, matrices_each=2)
    return [perms[i : i + size] for i in range(0, len(perms), size)]


def _two_groups(data: pd.DataFrame, blocks, paths, modes, group: pd.Series, what: str):
    """The model spec, the rows used, their items, the two group labels and a 0/1 indicator of the first."""
    spec = _spec(blocks, paths, modes)
    keep = data[spec.items].notna().all(axis=1) & group.notna()
    x = data.loc[keep, spec.items].astype(float).to_numpy()
    labels = pd.Series(group[keep]).astype(str).to_numpy()
    levels = sorted(set(labels))
    if len(levels) != 2:
        raise ValueError(f"{what} compares two groups; {group.name or 'the grouping'} has {len(levels)}")
    return spec, keep, x, levels, (labels == levels[0]).astype(float)


def micom(
    data: pd.DataFrame,
    blocks: dict[str, list[str]],
    paths: dict[str, list[str]],
    group: pd.Series,
    modes: dict[str, str] | None = None,
    n_perm: int = 1000,
    seed: int = 2026,
    alpha: float = 0.05,
    scheme: str = "path",
) -> pd.DataFrame:
    """Measurement invariance of composites (MICOM, Henseler, Ringle & Sarstedt 2016), steps 2 and 3, for two groups.

    Step 1 (configural invariance: same indicators, same treatment, same algorithm) holds by construction.
    Step 2, compositional invariance: each group's weights (on its raw items) form scores on the pooled data;
    their correlation ``c`` per construct is compared with the ``alpha`` quantile of ``c`` over ``n_perm``
    random reassignments of the group labels (the PLS model re-estimated in both pseudo-groups each time):
    invariance holds when ``c`` is not below it. Step 3, equal composite means and variances: scores from the
    pooled estimation; the difference of the groups' means (pooled SD units) and of their log variances must
    lie inside the permutation distribution's central ``1 - alpha`` range. The procedure follows cSEM's
    ``testMICOM`` (FloSchuberth/cSEM, ``R/postestimate_test_MICOM.R``). ``modes`` as in
    :func:`~cbec.stats.pls.pls_sem`: a formative (mode B) block gets regression weights in every group and
    permutation.

    Returns
    -------
    DataFrame, one row per construct: ``c, c_quantile, compositional, mean_diff, mean_low, mean_high,
    equal_mean, log_var_diff, var_low, var_high, equal_var, level`` (``full``, ``partial`` or ``none``).
    """
    spec, keep, x, levels, g1 = _two_groups(data, blocks, paths, modes, group, "MICOM")
    iu = np.triu_indices(x.shape[1])
    xc = x - x.mean(axis=0)

    def c_stat(member: np.ndarray) -> np.ndarray:  # member: b x n for group 1; group 2 is the rest
        both = np.concatenate([member, 1 - member])
        w, sd, _ = _fit_groups(x, both, iu, spec, scheme)
        b = member.shape[0]
        raw1, raw2 = w[:b] / sd[:b, :, None], w[b:] / sd[b:, :, None]
        s_pool = np.cov(xc, rowvar=False)
        num = np.einsum("bpk,pq,bqk->bk", raw1, s_pool, raw2)
        d1 = np.einsum("bpk,pq,bqk->bk", raw1, s_pool, raw1)
        d2 = np.einsum("bpk,pq,bqk->bk", raw2, s_pool, raw2)
        return num / np.sqrt(d1 * d2)

    c = c_stat(g1[None])[0]
    perms = _permutations(g1, n_perm, seed)
    c_perm = np.concatenate([c_stat(chunk) for chunk in _chunks(perms, x.shape[1])])
    c_q = np.quantile(c_perm, alpha, axis=0)
    pooled = pls_sem(data.loc[keep], blocks, paths, modes, scheme=scheme)
    scores = pooled.scores.to_numpy()
    n1 = g1.sum()

    def mv(member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m1 = member @ scores / n1
        m2 = (1 - member) @ scores / (len(member[0]) - n1)
        v1 = member @ scores**2 / n1 - m1**2
        v2 = (1 - member) @ scores**2 / (len(member[0]) - n1) - m2**2
        return m1 - m2, np.log(v1) - np.log(v2)

    md, vd = mv(g1[None])
    md_p, vd_p = mv(perms)
    lo, hi = alpha / 2, 1 - alpha / 2
    out = pd.DataFrame(
        {
            "construct": spec.constructs,
            "c": c,
            "c_quantile": c_q,
            "compositional": c >= c_q,
            "mean_diff": md[0],
            "mean_low": np.quantile(md_p, lo, axis=0),
            "mean_high": np.quantile(md_p, hi, axis=0),
            "log_var_diff": vd[0],
            "var_low": np.quantile(vd_p, lo, axis=0),
            "var_high": np.quantile(vd_p, hi, axis=0),
        }
    )
    out["equal_mean"] = out["mean_diff"].between(out["mean_low"], out["mean_high"])
    out["equal_var"] = out["log_var_diff"].between(out["var_low"], out["var_high"])
    out["level"] = np.where(
        out["compositional"] & out["equal_mean"] & out["equal_var"],
        "full",
        np.where(out["compositional"], "partial", "none"),
    )
    out.attrs["groups"] = levels
    return out


def pls_mga(
    data: pd.DataFrame,
    blocks: dict[str, list[str]],
    paths: dict[str, list[str]],
    group: pd.Series,
    modes: dict[str, str] | None = None,
    n_perm: int = 1000,
    seed: int = 2026,
    scheme: str = "path",
) -> pd.DataFrame:
    """Permutation multi-group analysis of the paths (Chin & Dibbern 2010): each path's difference between
    the two groups against its distribution over ``n_perm`` random reassignments of the labels; the p-value
    is the share of permutations with an absolute difference at least as large. ``modes`` as in
    :func:`~cbec.stats.pls.pls_sem`.

    Returns
    -------
    DataFrame, one row per path: ``source, target, group_1, group_2, difference, p_value``.
    """
    spec, _, x, levels, g1 = _two_groups(data, blocks, paths, modes, group, "multi-group analysis")
    iu = np.triu_indices(x.shape[1])
    pairs = [(i, j) for i in range(len(spec.constructs)) for j in range(len(spec.constructs)) if spec.paths[i, j]]

    def diffs(member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        both = np.concatenate([member, 1 - member])
        _, _, r = _fit_groups(x, both, iu, spec, scheme)
        pth, _, _ = _structural(r, spec, x.shape[0])
        est = np.stack([pth[:, i, j] for i, j in pairs], axis=1)
        b = member.shape[0]
        return est[:b], est[b:]

    e1, e2 = diffs(g1[None])
    d_perm = np.concatenate(
        [np.subtract(*diffs(chunk)) for chunk in _chunks(_permutations(g1, n_perm, seed), x.shape[1])]
    )
    d = (e1 - e2)[0]
    p = (np.abs(d_perm) >= np.abs(d)).mean(axis=0)
    return pd.DataFrame(
        {
            "source": [spec.constructs[i] for i, _ in pairs],
            "target": [spec.constructs[j] for _, j in pairs],
            f"group_{levels[0]}": e1[0],
            f"group_{levels[1]}": e2[0],
            "difference": d,
            "p_value": p,
        }
    )
