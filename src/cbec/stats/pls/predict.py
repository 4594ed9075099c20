"""PLSpredict: out-of-sample prediction of the endogenous indicators against a linear-model benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec.stats.pls.estimate import _Spec, _spec, pls_sem


def pls_predict(
    data: pd.DataFrame,
    blocks: dict[str, list[str]],
    paths: dict[str, list[str]],
    modes: dict[str, str] | None = None,
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
    ``modes`` as in :func:`~cbec.stats.pls.pls_sem` (each training fit uses them).

    Returns
    -------
    DataFrame, one row per endogenous item: ``rmse_pls, mae_pls, rmse_lm, mae_lm, q2_predict`` (Q² against
    the training mean).
    """
    spec = _spec(blocks, paths, modes)
    d = data[spec.items].dropna().astype(float).reset_index(drop=True)
    endo = [c for j, c in enumerate(spec.constructs) if spec.paths[:, j].any()]
    endo_items = [i for c in endo for i in blocks[c]]
    rng = np.random.default_rng(seed)
    sums: list | None = None
    for _ in range(reps):
        preds = _cv_predictions(d, blocks, paths, modes, spec, endo, rng.permutation(len(d)), folds, scheme)
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


def _cv_predictions(
    d: pd.DataFrame, blocks, paths, modes, spec: _Spec, endo: list[str], order, folds: int, scheme: str
):
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
        fit = pls_sem(d.iloc[train], blocks, paths, modes, scheme=scheme)
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
