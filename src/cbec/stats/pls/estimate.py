"""PLS path model estimation: the iterations on the correlation matrix, PLSc's correction, the fitted model
object every other PLS module reuses (see :mod:`cbec.stats.pls`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SCHEMES = ("path", "factorial", "centroid")


@dataclass
class _Spec:
    constructs: list[str]
    items: list[str]
    blocks: dict[str, list[int]]  # construct -> item positions
    mask: np.ndarray  # p x k: item belongs to construct
    paths: np.ndarray  # k x k: paths[i, j] = 1 when i -> j
    modes: dict[str, str]


def _spec(blocks: dict[str, list[str]], paths: dict[str, list[str]], modes: dict[str, str] | None) -> _Spec:
    constructs = list(blocks)
    items = [i for ids in blocks.values() for i in ids]
    pos = {it: n for n, it in enumerate(items)}
    mask = np.zeros((len(items), len(constructs)), dtype=bool)
    for j, ids in enumerate(blocks.values()):
        mask[[pos[i] for i in ids], j] = True
    p = np.zeros((len(constructs), len(constructs)))
    for target, sources in paths.items():
        for s in sources:
            p[constructs.index(s), constructs.index(target)] = 1.0
    modes = {c: (modes or {}).get(c, "A") for c in constructs}
    return _Spec(constructs, items, {c: [pos[i] for i in ids] for c, ids in blocks.items()}, mask, p, modes)


def _scale(w: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rescale every construct's weights (batch x p x k) so its score has unit variance; also return ``s w``
    rescaled alike, which the next iteration needs (one product with ``s`` per iteration, not two)."""
    sw = np.matmul(s, w)
    root = np.sqrt((w * sw).sum(axis=1))[:, None, :]
    return w / root, sw / root


def _inner(r: np.ndarray, spec: _Spec, scheme: str) -> np.ndarray:
    adj = spec.paths + spec.paths.T
    if scheme == "factorial":
        return r * adj
    if scheme == "centroid":
        return np.sign(r) * adj
    e = r * spec.paths.T  # a consequent's weight: its correlation
    for j in np.flatnonzero(spec.paths.sum(axis=0)):
        pred = np.flatnonzero(spec.paths[:, j])
        e[:, pred, j] = np.linalg.solve(r[:, pred][:, :, pred], r[:, pred, j][..., None])[..., 0]
    return e


def _estimate(s: np.ndarray, spec: _Spec, scheme: str, max_iter: int = 300, tol: float = 1e-7) -> tuple:
    """The PLS weights for a batch of correlation matrices ``s`` (batch x p x p)."""
    b, p, k = s.shape[0], len(spec.items), len(spec.constructs)
    w, sw = _scale(np.broadcast_to(spec.mask, (b, p, k)).astype(float), s)
    iterations = np.zeros(b, dtype=int)
    done = np.zeros(b, dtype=bool)
    for it in range(max_iter + 1):
        r = np.matmul(w.transpose(0, 2, 1), sw)
        e = _inner(r, spec, scheme)
        cov_xz = np.matmul(sw, e)
        new = np.where(spec.mask, cov_xz, 0.0)
        for j, c in enumerate(spec.constructs):
            if spec.modes[c] == "B":
                idx = spec.blocks[c]
                sub = s[:, idx][:, :, idx]
                new[:, idx, j] = np.linalg.solve(sub, cov_xz[:, idx, j][..., None])[..., 0]
        new, s_new = _scale(new, s)
        diff = np.abs(new - w).sum(axis=(1, 2))
        w = np.where(done[:, None, None], w, new)
        sw = np.where(done[:, None, None], sw, s_new)
        iterations = np.where(done, iterations, it)
        done |= diff < tol
        if done.all():
            break
    return w, iterations, done


def _structural(r: np.ndarray, spec: _Spec, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paths (batch x k x k), R² and adjusted R² (batch x k, NaN for exogenous constructs)."""
    b, k = r.shape[0], r.shape[1]
    paths = np.zeros((b, k, k))
    r2 = np.full((b, k), np.nan)
    adj = np.full((b, k), np.nan)
    for j in np.flatnonzero(spec.paths.sum(axis=0)):
        pred = np.flatnonzero(spec.paths[:, j])
        beta = np.linalg.solve(r[:, pred][:, :, pred], r[:, pred, j][..., None])[..., 0]
        paths[:, pred, j] = beta
        r2[:, j] = np.einsum("bi,bi->b", beta, r[:, pred, j])
        adj[:, j] = 1 - (1 - r2[:, j]) * (n - 1) / (n - len(pred) - 1)
    return paths, r2, adj


def _rho_a(w: np.ndarray, s: np.ndarray, spec: _Spec) -> np.ndarray:
    """Dijkstra–Henseler rho_A of each mode-A construct with two or more items (1 otherwise), per batch."""
    b, k = w.shape[0], len(spec.constructs)
    rho = np.ones((b, k))
    for j, c in enumerate(spec.constructs):
        idx = spec.blocks[c]
        if spec.modes[c] != "A" or len(idx) < 2:
            continue
        wj = w[:, idx, j]
        sj = s[:, idx][:, :, idx] * (1 - np.eye(len(idx)))
        aa = np.einsum("bi,bj->bij", wj, wj) * (1 - np.eye(len(idx)))
        ww = np.einsum("bi,bi->b", wj, wj)
        rho[:, j] = ww**2 * np.einsum("bi,bij,bj->b", wj, sj, wj) / np.einsum("bi,bij,bj->b", wj, aa, wj)
    return rho


@dataclass
class PLSResult:
    """A fitted PLS path model; every quantity is keyed by construct and item names."""

    weights: pd.DataFrame
    loadings: pd.DataFrame
    paths: pd.DataFrame
    r2: pd.DataFrame  # rows "Rsq", "AdjRsq"; columns: endogenous constructs
    rho_a: pd.Series
    scores: pd.DataFrame = field(repr=False)
    construct_corr: pd.DataFrame = field(repr=False)
    iterations: int = 0
    consistent: bool = False
    scheme: str = "path"


def _correlation(data: pd.DataFrame, items: list[str]) -> tuple[np.ndarray, np.ndarray]:
    x = data[items].astype(float).to_numpy()
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    return z, np.corrcoef(x, rowvar=False)


def pls_sem(
    data: pd.DataFrame,
    blocks: dict[str, list[str]],
    paths: dict[str, list[str]],
    modes: dict[str, str] | None = None,
    scheme: str = "path",
    consistent: bool = False,
    interactions: tuple[tuple[str, str], ...] = (),
    interaction_method: str = "two_stage",
    missing: str = "listwise",
) -> PLSResult:
    """Estimate a PLS path model (or, with ``consistent=True``, PLSc for the mode-A constructs).

    Parameters
    ----------
    data : DataFrame
        Indicators (complete rows are used).
    blocks : dict
        Construct -> its indicators.
    paths : dict
        Endogenous construct -> its antecedents.
    modes : dict, optional
        Construct -> ``"A"`` (reflective, correlation weights; the default) or ``"B"`` (formative, regression
        weights).
    scheme : {"path", "factorial", "centroid"}
        Inner weighting scheme (seminr's default is path weighting).
    consistent : bool
        Apply Dijkstra & Henseler's correction to paths, R² and loadings of mode-A constructs.
    interactions : tuple of (iv, moderator)
        Latent interactions, each a construct named ``"iv*moderator"`` that ``paths`` may use.
    missing : {"listwise", "mean"}
        Rows with a missing indicator are left out, or each missing value is replaced by its indicator's mean
        (seminr's ``mean_replacement``).
    interaction_method : {"two_stage", "product_indicator"}
        As seminr builds them: ``two_stage`` (Henseler & Chin 2010) multiplies the construct scores of a first
        PLS run without the interactions into a single indicator; ``product_indicator`` uses every product of
        the two blocks' standardised items as indicators (mode A). As in seminr, an interaction's path is per
        unit of its raw product (its score is rescaled by the loading-weighted SD of its product items).

    Returns
    -------
    PLSResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=(500, 2)); f[:, 1] += 0.6 * f[:, 0]
    >>> items = {f"a{i}": f[:, 0] + rng.normal(scale=0.6, size=500) for i in range(3)}
    >>> items |= {f"b{i}": f[:, 1] + rng.normal(scale=0.6, size=500) for i in range(3)}
    >>> res = pls_sem(pd.DataFrame(items), {"A": ["a0", "a1", "a2"], "B": ["b0", "b1", "b2"]}, {"B": ["A"]})
    >>> round(float(res.paths.loc["A", "B"]), 2), round(float(res.r2.loc["Rsq", "B"]), 2)
    (0.47, 0.22)
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}")
    if missing not in ("listwise", "mean"):
        raise ValueError("missing must be 'listwise' or 'mean'")
    if missing == "mean":
        items_all = [i for ids in blocks.values() for i in ids]
        data = data.copy()
        data[items_all] = data[items_all].astype(float).fillna(data[items_all].astype(float).mean())
    if interactions:
        data, blocks = _with_interactions(data, blocks, paths, modes, scheme, interactions, interaction_method)
    spec = _spec(blocks, paths, modes)
    d = data[spec.items].dropna()
    z, s = _correlation(d, spec.items)
    w, iterations, done = _estimate(s[None], spec, scheme)
    w = w[0]
    k = spec.constructs
    r = w.T @ s @ w
    rho = _rho_a(w[None], s[None], spec)[0]
    loadings = np.where(spec.mask, s @ w, 0.0)
    if consistent:
        adj = np.sqrt(np.outer(rho, rho))
        np.fill_diagonal(adj, 1.0)
        r = r / adj
        for j, c in enumerate(k):
            if spec.modes[c] == "A" and len(spec.blocks[c]) > 1:
                wj = w[spec.blocks[c], j]
                loadings[spec.blocks[c], j] = wj * np.sqrt(rho[j]) / (wj @ wj)
    pth, r2, adj_r2 = _structural(r[None], spec, len(d))
    for j, c in enumerate(k):
        if "*" in c:  # seminr's rescaling of an interaction's score: its path is per unit of the raw product
            idx = spec.blocks[c]
            lam = np.abs(loadings[idx, j])
            pth[0, j, :] /= float((d[[spec.items[i] for i in idx]].std(ddof=1).to_numpy() * lam).sum() / lam.sum())
    endo = [c for j, c in enumerate(k) if spec.paths[:, j].any()]
    r2_frame = pd.DataFrame(
        [r2[0, [k.index(c) for c in endo]], adj_r2[0, [k.index(c) for c in endo]]],
        index=["Rsq", "AdjRsq"],
        columns=endo,
    )
    return PLSResult(
        weights=pd.DataFrame(w, index=spec.items, columns=k),
        loadings=pd.DataFrame(loadings, index=spec.items, columns=k),
        paths=pd.DataFrame(pth[0], index=k, columns=k),
        r2=r2_frame,
        rho_a=pd.Series(rho, index=k),
        scores=pd.DataFrame(z @ w, index=d.index, columns=k),
        construct_corr=pd.DataFrame(r, index=k, columns=k),
        iterations=int(iterations[0]),
        consistent=consistent,
        scheme=scheme,
    )


def _with_interactions(data, blocks, paths, modes, scheme, interactions, method):
    """The data and blocks with each interaction's indicators added (see :func:`pls_sem`)."""
    if method not in ("two_stage", "product_indicator"):
        raise ValueError("interaction_method must be 'two_stage' or 'product_indicator'")
    data, blocks = data.copy(), dict(blocks)
    if method == "two_stage":
        main = {t: [x for x in src if "*" not in x] for t, src in paths.items()}
        first = pls_sem(data, blocks, main, modes, scheme)
        for iv, mod in interactions:
            name = f"{iv}*{mod}"
            data.loc[first.scores.index, f"{name}_intxn"] = first.scores[iv] * first.scores[mod]
            blocks[name] = [f"{name}_intxn"]
        return data, blocks
    for iv, mod in interactions:
        name = f"{iv}*{mod}"
        a = data[blocks[iv]].astype(float)
        b = data[blocks[mod]].astype(float)
        a, b = (a - a.mean()) / a.std(ddof=1), (b - b.mean()) / b.std(ddof=1)
        products = {f"{x}*{y}": a[x] * b[y] for x in a.columns for y in b.columns}
        data = pd.concat([data, pd.DataFrame(products, index=data.index)], axis=1)
        blocks[name] = list(products)
    return data, blocks


#: Cells of the correlation matrices estimated together in one batch (resamples, permutations): about 2 MB, the
#: size of a core's L2 cache, since the PLS iterations pass over them a dozen times and from the cache that is
#: faster than from memory (this machine, 2 MB of L2 a core: 82 items x 999 resamples 0.35 s in batches of
#: 32-64 against 0.44 s in batches of 297 (16 MB); 46 items x 5,000 resamples 0.51 s in batches of 80 against
#: 0.61 s in batches of 300; MICOM + MGA, 1,000 permutations, 0.58 s in batches of 50 against 0.71 s of 250).
#: The regression bootstraps' blocks of weights (:data:`cbec.stats.regression.BLOCK_CELLS`) are the same 2 MB for
#: another reason (memory reused instead of fresh pages), and are tuned apart.
BATCH_CELLS = 250_000


def batch_size(p: int, matrices_each: int = 1) -> int:
    """How many resamples (or permutations, each with ``matrices_each`` p x p matrices) make one batch."""
    return max(1, BATCH_CELLS // (p * p * matrices_each))


def _group_moments(x: np.ndarray, member: np.ndarray, iu) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means, upper-triangle cross-product means and SDs of the rows flagged by each 0/1 row of ``member``."""
    n_g = member.sum(axis=1, keepdims=True)
    mean = member @ x / n_g
    cross = member @ (x[:, iu[0]] * x[:, iu[1]]) / n_g
    var = member @ (x * x) / n_g - mean**2
    return mean, cross, np.sqrt(var)


def total_effects(path_matrix: pd.DataFrame) -> pd.DataFrame:
    """Total effects ``(I - B)^-1 - I`` of a recursive path matrix ``B`` (``B[i, j]``: path from i to j);
    indirect effects are the total minus ``B``."""
    b = path_matrix.to_numpy()
    total = np.linalg.inv(np.eye(len(b)) - b) - np.eye(len(b))
    return pd.DataFrame(total, index=path_matrix.index, columns=path_matrix.columns)
