"""Moment matrices of many samples at once, as the batched bootstraps and permutation tests form them (regression
:func:`~cbec.stats.regression.bootstrap_ols`, the PLS bootstrap, MICOM/MGA and HTMT): each sample's cross-products
are computed for one triangle only, then made whole here."""

from __future__ import annotations

import numpy as np

__all__ = ["symmetric_from_upper"]


def symmetric_from_upper(upper: np.ndarray, p: int, iu: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The full symmetric p x p matrices (batch x p x p) of a batch of upper triangles ``upper`` (batch x
    ``len(iu[0])``, in the order of ``iu = np.triu_indices(p)``).

    One gather, twice as fast as scattering the triangle and then its mirror image (measured on the PLS
    bootstrap's 82 x 82 matrices).

    >>> iu = np.triu_indices(2)
    >>> symmetric_from_upper(np.array([[1.0, 2.0, 3.0]]), 2, iu)[0].tolist()
    [[1.0, 2.0], [2.0, 3.0]]
    """
    pos = np.empty((p, p), dtype=np.intp)
    pos[iu] = pos[iu[1], iu[0]] = np.arange(len(iu[0]))
    return np.take(upper, pos.ravel(), axis=1).reshape(-1, p, p)
