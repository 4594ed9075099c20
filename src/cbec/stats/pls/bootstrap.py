"""Case-resampling bootstrap of a PLS path model: every resample's moments at once, percentile and BCa
intervals, the construct-level sign change (see :func:`pls_bootstrap`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cbec.stats.moments import symmetric_from_upper
from cbec.stats.pls.estimate import (
    PLSResult,
    _correlation,
    _estimate,
    _rho_a,
    _Spec,
    _spec,
    _structural,
    _with_interactions,
    batch_size,
    pls_sem,
    total_effects,
)


@dataclass
class PLSBootstrap:
    """A bootstrapped PLS model: the interval table, the draws behind it and the full-sample fit (one return
    type whatever is asked for, as seminr's bootstrapped model object)."""

    table: pd.DataFrame
    draws: pd.DataFrame = field(repr=False)
    full: PLSResult = field(repr=False)


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
    bca: bool = True,
) -> PLSBootstrap:
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

    Returns
    -------
    PLSBootstrap
        ``table``: one row per path, ``source, target, effect, estimate, boot_se, ci_low, ci_high, bca_low,
        bca_high``; ``draws``: the resamples' estimates (n_boot x paths, columns ``"source -> target"``, for
        rank sets or joint tests); ``full``: the full-sample fit.
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
    names = [
        f"{a} -> {b}" if e == "direct" else f"{a} -> {b} ({e})"
        for a, b, e in zip(table["source"], table["target"], kinds, strict=True)
    ]
    return PLSBootstrap(table=table, draws=pd.DataFrame(boot, columns=names), full=full)


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
    ``C <- T' C T = C + E'C + C E + E'C E`` with ``T = I + E`` and ``E`` holding ``-m_x`` at (y, xy) and ``-m_y``
    at (x, xy). Scale is left alone (correlations ignore it). This is what seminr does by re-running the whole
    estimate on each resample. Only the product rows change, plus their mirror image: they are computed from
    gathered rows (contiguous in memory) and copied to the columns, which halves the time of updating rows and
    columns by scattered column indexing.
    """
    c, xi, yi = products[:, 0], products[:, 1], products[:, 2]
    if not np.array_equal(c, np.arange(c[0], c[0] + len(c))):  # _with_interactions appends them in a run
        raise ValueError("product indicators must occupy consecutive positions")
    mx, my = mean[:, xi], mean[:, yi]
    minus = mx[:, :, None] * cov[:, yi, :]  # -(E'C) on the product rows
    minus += my[:, :, None] * cov[:, xi, :]
    # the product block's own terms: -(C E) there is minus's transpose; E'C E from minus's columns
    block = mx[:, :, None] * minus[:, :, yi].transpose(0, 2, 1) + my[:, :, None] * minus[:, :, xi].transpose(0, 2, 1)
    block -= minus[:, :, c].transpose(0, 2, 1)
    rows = slice(int(c[0]), int(c[0]) + len(c))
    cov[:, rows, :] -= minus
    cov[:, rows, rows] += block
    cov[:, :, rows] = cov[:, rows, :].transpose(0, 2, 1)
    return cov


def _bootstrap_draws(x: np.ndarray, ctx: _DrawSpec, n_boot: int, seed: int, chunk: int, jackknife: bool = True):
    """Bootstrap draws (n_boot x estimates) and the jackknife values (n x estimates, or None) of the estimates."""
    from cbec.stats.regression import resample_weights

    n, p = x.shape
    # batches sized to the cache (BATCH_CELLS); the draws are the same whatever the batch, since the resample
    # indices come from one stream
    chunk = min(chunk, batch_size(p))
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
    # second moments first, made covariances in place (these arrays are the bulk)
    cov = symmetric_from_upper(cross_mean, p, iu)
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
