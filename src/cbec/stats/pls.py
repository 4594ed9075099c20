"""PLS path modelling (PLS-SEM) as SmartPLS and seminr estimate it, and its consistent version (PLSc).

Most survey studies of success factors in Chinese management journals report PLS-SEM; this module gives the
book the same outputs by name: outer weights and loadings, construct scores, path coefficients, R² and
adjusted R², rho_A, and bootstrap intervals.

The algorithm (Wold's PLS path modelling in Lohmöller's formulation, as seminr's ``simplePLS`` runs it) works
on the indicators' correlation matrix ``S`` alone, which lets every bootstrap resample run at once:

1. weights ``w_j`` of each construct's block start at 1 and are scaled so that the construct score
   ``Y_j = X w_j`` has unit variance (``w_j' S_jj w_j = 1``);
2. inner weights ``E`` from the construct correlations ``R = W' S W``: *path weighting* gives an
   antecedent the regression coefficient of its consequent on all antecedents and a consequent its
   correlation; *factorial* gives every neighbour its correlation; *centroid* its sign;
3. outer update from the inner proxies ``Z = Y E``: mode A (reflective) ``w_j = cov(X_j, Z_j) = (S W E)_j``,
   mode B (formative) ``w_j = S_jj^-1 cov(X_j, Z_j)``; rescale as in 1;
4. stop when the summed absolute change of the weights is below ``1e-7`` (seminr's ``stopCriterion = 7``);
5. loadings ``= S W`` within blocks, paths by least squares on ``R``, ``R² = 1 - 1 / (R_sub^-1)_jj``.

Consistent PLS (Dijkstra & Henseler 2015) corrects mode-A constructs for measurement error with
``rho_A = (w'w)^2 w'(S - diag S)w / w'(ww' - diag ww')w``, dividing construct correlations by
``sqrt(rho_A_i rho_A_j)`` before the paths are solved, and setting loadings to ``w sqrt(rho_A) / (w'w)``.
The formulas follow seminr's implementation (``R/feature_consistent.R``, ``R/compute_metrics.R``) and are
checked against its published fixtures on the ECSI mobile-phone data (``tests/test_pls.py``).

Why by hand: no maintained Python library does PLS-SEM with bootstrap in the project's licence (seminr's
Python port is GPL-3 and is used by the tests only, to read the reference data).

References: Lohmöller, J.-B. (1989). *Latent Variable Path Modeling with Partial Least Squares*. Physica.
Dijkstra, T. K., & Henseler, J. (2015). Consistent partial least squares path modeling. *MIS Quarterly*
39(2), 297–316.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "PLSResult",
    "pls_sem",
    "pls_bootstrap",
    "micom",
    "pls_mga",
    "structural_quality",
    "total_effects",
    "htmt_bootstrap",
    "pls_predict",
]

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


def pls_bootstrap(
    data: pd.DataFrame,
    blocks: dict[str, list[str]],
    paths: dict[str, list[str]],
    n_boot: int = 5000,
    seed: int = 2026,
    modes: dict[str, str] | None = None,
    scheme: str = "path",
    consistent: bool = False,
    level: float = 0.95,
    chunk: int = 1000,
    effects: bool = False,
    interactions: tuple[tuple[str, str], ...] = (),
    interaction_method: str = "product_indicator",
    sign_change: str = "construct",
    return_draws: bool = False,
    bca: bool = True,
):
    """Case-resampling bootstrap of every path: estimate, bootstrap SE, percentile and BCa intervals.

    With ``effects=True`` the total and indirect effects of every pair of constructs joined by a route of two
    or more paths are added (column ``effect``: ``direct``, ``total`` or ``indirect``), from each resample's
    path matrix as in :func:`total_effects`.

    Each resample's correlation matrix comes from the resampling weights (draws x firms) times the firms'
    cross-products, and the PLS iterations run on all resamples together, ``chunk`` at a time.
    BCa follows Efron (1987): bias correction ``z0 = Phi^-1(share of draws below the estimate)`` and
    acceleration from the jackknife, ``a = sum(d^3) / (6 (sum d^2)^1.5)`` with ``d`` the jackknife
    deviations from their mean.

    Parameters
    ----------
    interactions, interaction_method
        As in :func:`pls_sem`. Product indicators are formed anew in every resample from its own centred
        items (from the resample's moments, see :func:`_reformed_products`), so the draws equal re-estimating
        each resample as seminr does (tested to 1e-8). A two-stage interaction's single indicator, the product
        of the stage-one scores, is formed once from the full sample and resampled with the firms (seminr
        re-runs stage one in each resample). Each resample's interaction path is rescaled to the raw product
        with that resample's SDs and loadings, as :func:`pls_sem` does for the full sample.
    sign_change : {"construct", "none"}
        A PLS construct is defined only up to its sign, and a weak construct (a product-indicator interaction,
        above all) can come out reversed in a resample, which turns its paths round and makes the bootstrap
        spread meaningless. ``"construct"`` is the construct-level sign change of Tenenhaus, Esposito Vinzi,
        Chatelin & Lauro (2005, CSDA 48, 159–205) as semPLS's ``bootsempls`` implements it: a resample's
        construct is reversed (its weights negated before the paths are computed) when
        ``|sum(l_full - l_b)| > |sum(l_full + l_b)|`` for its loadings ``l``, i.e. when the sums of its loadings
        in the resample and in the full sample differ in sign. A block of positively correlated items does not
        come out reversed (the iterations start from unit weights), so for such models the draws are those of
        ``"none"``, seminr's and SmartPLS's default (tested on mobi).
    bca : bool
        Compute BCa intervals (they need a jackknife: one more estimate per firm); ``False`` leaves
        ``bca_low``/``bca_high`` out.
    return_draws : bool
        Also return the draws (n_boot x paths, columns ``"source -> target"``; for rank sets or joint tests).

    Returns
    -------
    DataFrame with one row per path: ``source, target, effect, estimate, boot_se, ci_low, ci_high, bca_low,
    bca_high``; with ``return_draws`` a pair ``(table, draws)``.
    """
    if sign_change not in ("construct", "none"):
        raise ValueError("sign_change must be 'construct' or 'none'")
    main_blocks = blocks
    if interactions:
        data, blocks = _with_interactions(data, blocks, paths, modes, scheme, interactions, interaction_method)
    spec = _spec(blocks, paths, modes)
    d = data[spec.items].dropna()
    full = pls_sem(d, blocks, paths, modes, scheme, consistent)
    x = d.astype(float).to_numpy()
    products = None
    if interactions and interaction_method == "product_indicator":
        x, products = _product_map(data, x, spec, main_blocks, interactions)
    k = len(spec.constructs)
    pairs = [(i, j) for i in range(k) for j in range(k) if spec.paths[i, j]]
    # pairs joined by a route of two or more paths: A^2 (I + A)^k > 0
    routes = np.linalg.matrix_power(spec.paths, 2) @ np.linalg.matrix_power(np.eye(k) + spec.paths, k)
    mediated = [(i, j) for i in range(k) for j in range(k) if i != j and routes[i, j] > 0] if effects else []
    # the sign rule compares PLS loadings (S w) in both samples; PLSc keeps PLS's weights, so S w serves both
    ref = None
    if sign_change == "construct":
        ref = np.where(spec.mask, _correlation(d, spec.items)[1] @ full.weights.to_numpy(), 0.0).sum(axis=0)
    ctx = _DrawSpec(spec, scheme, consistent, len(d), pairs, mediated, ref, products)
    boot, jack = _bootstrap_draws(x, ctx, n_boot, seed, chunk, jackknife=bca)
    total = total_effects(full.paths).to_numpy()
    est = np.array(
        [full.paths.iloc[i, j] for i, j in pairs]
        + [total[i, j] for i, j in mediated]
        + [total[i, j] - full.paths.iloc[i, j] for i, j in mediated]
    )
    labels = pairs + mediated + mediated
    kinds = ["direct"] * len(pairs) + ["total"] * len(mediated) + ["indirect"] * len(mediated)
    table = _interval_table(est, boot, jack, level).assign(
        source=[spec.constructs[i] for i, _ in labels], target=[spec.constructs[j] for _, j in labels], effect=kinds
    )
    table = table[
        ["source", "target", "effect", *[c for c in table.columns if c not in ("source", "target", "effect")]]
    ]
    if not return_draws:
        return table
    names = [
        f"{a} -> {b}" if e == "direct" else f"{a} -> {b} ({e})"
        for a, b, e in zip(table["source"], table["target"], kinds, strict=True)
    ]
    return table, pd.DataFrame(boot, columns=names)


@dataclass
class _DrawSpec:
    """What every resample's estimate needs besides its moments."""

    spec: _Spec
    scheme: str
    consistent: bool
    n: int
    pairs: list
    mediated: list
    ref_loading_sums: np.ndarray | None  # full-sample loading sums per construct, for the sign change
    products: np.ndarray | None = None  # rows (product column, item x, item y), positions in spec.items


def _product_map(data, x, spec: _Spec, main_blocks, interactions):
    """The items of ``x`` standardised as :func:`_with_interactions` standardised them, and the position of
    every product indicator and its two items, so each resample can form its products anew (see
    :func:`_reformed_products`)."""
    pos = {it: i for i, it in enumerate(spec.items)}
    x = x.copy()
    rows = []
    for iv, mod in interactions:
        for a in main_blocks[iv]:
            for b in main_blocks[mod]:
                rows.append((pos[f"{a}*{b}"], pos[a], pos[b]))
    for item in {it for _, *pair in rows for it in pair}:
        col = data[spec.items[item]].astype(float)
        x[:, item] = (x[:, item] - col.mean()) / col.std(ddof=1)
    return x, np.array(rows, dtype=int)


def _reformed_products(mean: np.ndarray, cov: np.ndarray, products: np.ndarray) -> np.ndarray:
    """The covariance matrices (changed in place) with every product indicator formed again from the resample's
    own centred items.

    The product of the resample-centred items, ``(x - m_x)(y - m_y) = xy - m_x y - m_y x + const``, is a linear
    combination of columns already in the model (``x``, ``y`` standardised on the full sample and their fixed
    product ``xy``), so its covariances follow from the resample's covariance matrix without the data:
    ``C <- T' C T`` with ``T`` the identity plus ``-m_x`` at (y, xy) and ``-m_y`` at (x, xy). Scale is left
    alone (correlations ignore it). This is what seminr does by re-running the whole estimate on each resample.
    """
    c, xi, yi = products[:, 0], products[:, 1], products[:, 2]
    mx, my = mean[:, xi], mean[:, yi]
    cov[:, :, c] -= mx[:, None, :] * cov[:, :, yi] + my[:, None, :] * cov[:, :, xi]
    # T'(C T): the row step reads the matrix the column step has just updated
    cov[:, c, :] -= mx[:, :, None] * cov[:, yi, :] + my[:, :, None] * cov[:, xi, :]
    return cov


def _bootstrap_draws(x: np.ndarray, ctx: _DrawSpec, n_boot: int, seed: int, chunk: int, jackknife: bool = True):
    """Bootstrap draws (n_boot x estimates) and the jackknife values (n x estimates, or None) of the estimates."""
    from cbec.stats.regression import resample_weights

    n, p = x.shape
    chunk = max(1, min(chunk, int(4e7 // (p * p))))  # keep a chunk's correlation matrices near 300 MB
    iu = np.triu_indices(p)
    cross = x[:, iu[0]] * x[:, iu[1]]
    rng = np.random.default_rng(seed)
    draws = []
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        wts = resample_weights(idx, n) / n
        draws.append(_paths_from_moments(wts @ x, wts @ cross, iu, ctx))
    if not jackknife:
        return np.concatenate(draws), None
    total, total_cross = x.sum(axis=0), cross.sum(axis=0)
    jack = [
        _paths_from_moments(
            (total[None] - x[i : i + chunk]) / (n - 1), (total_cross[None] - cross[i : i + chunk]) / (n - 1), iu, ctx
        )
        for i in range(0, n, chunk)
    ]
    return np.concatenate(draws), np.concatenate(jack)


def _interval_table(est: np.ndarray, boot: np.ndarray, jack: np.ndarray | None, level: float) -> pd.DataFrame:
    """Estimate, bootstrap SE, percentile and BCa (Efron 1987) intervals of each column of ``boot`` (BCa only
    with jackknife values)."""
    from scipy import stats

    tail = (1 - level) / 2
    table = pd.DataFrame(
        {
            "estimate": est,
            "boot_se": boot.std(axis=0, ddof=1),
            "ci_low": np.quantile(boot, tail, axis=0),
            "ci_high": np.quantile(boot, 1 - tail, axis=0),
        }
    )
    if jack is None:
        return table
    z0 = stats.norm.ppf(np.clip((boot < est).mean(axis=0), 1e-12, 1 - 1e-12))
    dev = jack.mean(axis=0) - jack
    acc = (dev**3).sum(axis=0) / (6 * ((dev**2).sum(axis=0)) ** 1.5)
    bounds = []
    for q in (tail, 1 - tail):
        zq = stats.norm.ppf(q)
        adj = stats.norm.cdf(z0 + (z0 + zq) / (1 - acc * (z0 + zq)))
        bounds.append([np.quantile(boot[:, m], adj[m]) for m in range(boot.shape[1])])
    return table.assign(bca_low=bounds[0], bca_high=bounds[1])


def _paths_from_moments(mean, cross_mean, iu, ctx: _DrawSpec) -> np.ndarray:
    """Path estimates for a batch of resamples from their first and second moments."""
    spec = ctx.spec
    b, p = mean.shape
    cov = np.empty((b, p, p))  # second moments first, made covariances in place (these arrays are the bulk)
    cov[:, iu[0], iu[1]] = cross_mean
    cov[:, iu[1], iu[0]] = cross_mean
    cov -= mean[:, :, None] * mean[:, None, :]
    if ctx.products is not None:
        cov = _reformed_products(mean, cov, ctx.products)
    sd = np.sqrt(np.einsum("bii->bi", cov))
    s = cov / sd[:, :, None]
    s /= sd[:, None, :]
    w, _, _ = _estimate(s, spec, ctx.scheme)
    sw = np.matmul(s, w)
    if ctx.ref_loading_sums is not None:  # Tenenhaus et al.'s construct-level sign change
        sums = np.where(spec.mask, sw, 0.0).sum(axis=1)
        flip = np.where(sums * ctx.ref_loading_sums < 0, -1.0, 1.0)
        w, sw = w * flip[:, None, :], sw * flip[:, None, :]
    r = np.matmul(w.transpose(0, 2, 1), sw)
    if ctx.consistent:
        rho = _rho_a(w, s, spec)
        adj = np.sqrt(np.einsum("bi,bj->bij", rho, rho))
        adj[:, np.arange(adj.shape[1]), np.arange(adj.shape[1])] = 1.0
        r = r / adj
    pth, _, _ = _structural(r, spec, ctx.n)
    for j, c in enumerate(spec.constructs):
        if "*" in c:  # the raw-product scaling of pls_sem, with this resample's SDs and loadings
            idx = spec.blocks[c]
            consistent_block = ctx.consistent and spec.modes[c] == "A" and len(idx) > 1
            lam = np.abs(w[:, idx, j] if consistent_block else sw[:, idx, j])
            scale = (_product_sd(sd, ctx, idx) * lam).sum(axis=1) / lam.sum(axis=1)
            pth[:, j, :] /= scale[:, None]
    out = [pth[:, i, j] for i, j in ctx.pairs]
    if ctx.mediated:
        eye = np.eye(pth.shape[1])
        total = np.linalg.inv(eye - pth) - eye
        out += [total[:, i, j] for i, j in ctx.mediated] + [total[:, i, j] - pth[:, i, j] for i, j in ctx.mediated]
    return np.stack(out, axis=1)


def _product_sd(sd: np.ndarray, ctx: _DrawSpec, idx: list[int]) -> np.ndarray:
    """Sample SDs (n - 1) of an interaction's indicators in each resample; a re-formed product's items are
    standardised in the resample first, as :func:`_with_interactions` does in the full sample."""
    out = sd[:, idx] * np.sqrt(ctx.n / (ctx.n - 1))
    if ctx.products is not None:
        where = {int(c): k for k, c in enumerate(ctx.products[:, 0])}
        for m, col in enumerate(idx):
            if col in where:
                _, xi, yi = ctx.products[where[col]]
                out[:, m] = sd[:, col] * np.sqrt((ctx.n - 1) / ctx.n) / (sd[:, xi] * sd[:, yi])
    return out


# --- groups: MICOM and permutation multi-group analysis ----------------------------------------------


def _group_moments(x: np.ndarray, member: np.ndarray, iu) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means, upper-triangle cross-product means and SDs of the rows flagged by each 0/1 row of ``member``."""
    n_g = member.sum(axis=1, keepdims=True)
    mean = member @ x / n_g
    cross = member @ (x[:, iu[0]] * x[:, iu[1]]) / n_g
    var = member @ (x * x) / n_g - mean**2
    return mean, cross, np.sqrt(var)


def _fit_groups(x, member, iu, spec, scheme):
    """PLS weights (items standardised within the group), item SDs and construct correlations per group row."""
    mean, cross, sd = _group_moments(x, member, iu)
    b, p = mean.shape
    second = np.empty((b, p, p))
    second[:, iu[0], iu[1]] = cross
    second[:, iu[1], iu[0]] = cross
    cov = second - np.einsum("bi,bj->bij", mean, mean)
    s = cov / np.einsum("bi,bj->bij", sd, sd)
    w, _, _ = _estimate(s, spec, scheme)
    r = np.matmul(w.transpose(0, 2, 1), np.matmul(s, w))
    return w, sd, r


def _two_groups(data: pd.DataFrame, blocks, paths, group: pd.Series, what: str):
    """The model spec, the rows used, their items, the two group labels and a 0/1 indicator of the first."""
    spec = _spec(blocks, paths, None)
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
    ``testMICOM`` (FloSchuberth/cSEM, ``R/postestimate_test_MICOM.R``).

    Returns
    -------
    DataFrame, one row per construct: ``c, c_quantile, compositional, mean_diff, mean_low, mean_high,
    equal_mean, log_var_diff, var_low, var_high, equal_var, level`` (``full``, ``partial`` or ``none``).
    """
    spec, keep, x, levels, g1 = _two_groups(data, blocks, paths, group, "MICOM")
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
    rng = np.random.default_rng(seed)
    perms = np.stack([rng.permutation(g1) for _ in range(n_perm)])
    c_perm = np.concatenate([c_stat(perms[i : i + 250]) for i in range(0, n_perm, 250)])
    c_q = np.quantile(c_perm, alpha, axis=0)
    pooled = pls_sem(data.loc[keep], blocks, paths, scheme=scheme)
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
    n_perm: int = 1000,
    seed: int = 2026,
    scheme: str = "path",
) -> pd.DataFrame:
    """Permutation multi-group analysis of the paths (Chin & Dibbern 2010): each path's difference between
    the two groups against its distribution over ``n_perm`` random reassignments of the labels; the p-value
    is the share of permutations with an absolute difference at least as large.

    Returns
    -------
    DataFrame, one row per path: ``source, target, group_1, group_2, difference, p_value``.
    """
    spec, _, x, levels, g1 = _two_groups(data, blocks, paths, group, "multi-group analysis")
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
    rng = np.random.default_rng(seed)
    perms = np.stack([rng.permutation(g1) for _ in range(n_perm)])
    d_perm = np.concatenate([np.subtract(*diffs(perms[i : i + 250])) for i in range(0, n_perm, 250)])
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


# --- structural-model quality: f², VIF, total effects, HTMT intervals, PLSpredict ----------------------


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


def total_effects(path_matrix: pd.DataFrame) -> pd.DataFrame:
    """Total effects ``(I - B)^-1 - I`` of a recursive path matrix ``B`` (``B[i, j]``: path from i to j);
    indirect effects are the total minus ``B``."""
    b = path_matrix.to_numpy()
    total = np.linalg.inv(np.eye(len(b)) - b) - np.eye(len(b))
    return pd.DataFrame(total, index=path_matrix.index, columns=path_matrix.columns)


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
    second = np.empty((len(member), x.shape[1], x.shape[1]))
    second[:, iu[0], iu[1]] = cross
    second[:, iu[1], iu[0]] = cross
    r = np.abs((second - np.einsum("bi,bj->bij", mean, mean)) / np.einsum("bi,bj->bij", sd, sd))

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


def pls_predict(
    data: pd.DataFrame,
    blocks: dict[str, list[str]],
    paths: dict[str, list[str]],
    folds: int = 10,
    seed: int = 2026,
    scheme: str = "path",
    reps: int = 1,
) -> pd.DataFrame:
    """PLSpredict (Shmueli et al. 2019) with the direct-antecedent technique, against the linear-model benchmark.

    In each of ``folds`` folds the model is estimated on the training firms; the holdout firms' items are
    standardised with the training means and SDs, their antecedent scores formed with the training weights,
    the endogenous scores predicted with the training paths, and the endogenous items as scores times
    loadings, returned to the items' scale. The benchmark regresses each endogenous item on all items of the
    exogenous constructs in the training firms. As seminr's ``predict_pls`` does, including ``reps``: the
    cross-validation is repeated with ``reps`` random fold assignments and each firm's predictions averaged
    over them before the errors are computed, so that one lucky split does not decide the comparison.

    Returns
    -------
    DataFrame, one row per endogenous item: ``rmse_pls, mae_pls, rmse_lm, mae_lm, q2_predict`` (Q² against
    the training mean).
    """
    spec = _spec(blocks, paths, None)
    d = data[spec.items].dropna().astype(float).reset_index(drop=True)
    endo = [c for j, c in enumerate(spec.constructs) if spec.paths[:, j].any()]
    endo_items = [i for c in endo for i in blocks[c]]
    rng = np.random.default_rng(seed)
    sums: list | None = None
    for _ in range(reps):
        preds = _cv_predictions(d, blocks, paths, spec, endo, rng.permutation(len(d)), folds, scheme)
        sums = preds if sums is None else [a + b for a, b in zip(sums, preds, strict=True)]
    assert sums is not None  # reps >= 1
    pred_pls, pred_lm, pred_mean = (x / reps for x in sums)
    actual = d[endo_items]
    e_pls, e_lm, e_mean = actual - pred_pls, actual - pred_lm, actual - pred_mean
    return pd.DataFrame(
        {
            "item": endo_items,
            "rmse_pls": np.sqrt((e_pls**2).mean()).to_numpy(),
            "mae_pls": e_pls.abs().mean().to_numpy(),
            "rmse_lm": np.sqrt((e_lm**2).mean()).to_numpy(),
            "mae_lm": e_lm.abs().mean().to_numpy(),
            "q2_predict": (1 - (e_pls**2).sum() / (e_mean**2).sum()).to_numpy(),
        }
    )


def _cv_predictions(d: pd.DataFrame, blocks, paths, spec: _Spec, endo: list[str], order, folds: int, scheme: str):
    """Out-of-fold predictions of the endogenous items by PLS, the linear benchmark and the training mean."""
    exo_items = [i for c in spec.constructs if c not in endo for i in blocks[c]]
    endo_items = [i for c in endo for i in blocks[c]]
    x = d[spec.items].to_numpy()
    col = {it: n for n, it in enumerate(spec.items)}
    endo_pos = np.array([col[i] for i in endo_items], dtype=int)
    exo_pos = np.array([col[i] for i in exo_items], dtype=int)
    pred_pls, pred_lm, pred_mean = (np.empty((len(d), len(endo_items))) for _ in range(3))
    for f in range(folds):
        test = np.sort(order[f::folds])
        train = np.setdiff1d(np.arange(len(d)), test)
        fit = pls_sem(d.iloc[train], blocks, paths, scheme=scheme)
        mu, sd = x[train].mean(axis=0), x[train].std(axis=0, ddof=1)
        scores = pd.DataFrame(((x[test] - mu) / sd) @ fit.weights.to_numpy(), columns=spec.constructs)
        for c in endo:
            scores[c] = scores[paths[c]].to_numpy() @ fit.paths.loc[paths[c], c].to_numpy()
        for m, it in enumerate(endo_items):
            c = next(c for c in endo if it in blocks[c])
            pred_pls[test, m] = scores[c].to_numpy() * fit.loadings.loc[it, c] * sd[col[it]] + mu[col[it]]
        xt = np.column_stack([np.ones(len(train)), x[np.ix_(train, exo_pos)]])
        beta = np.linalg.lstsq(xt, x[np.ix_(train, endo_pos)], rcond=None)[0]
        pred_lm[test] = np.column_stack([np.ones(len(test)), x[np.ix_(test, exo_pos)]]) @ beta
        pred_mean[test] = mu[endo_pos]
    return tuple(pd.DataFrame(a, index=d.index, columns=endo_items) for a in (pred_pls, pred_lm, pred_mean))
