"""The planted values of the article's ratio claims on the construct's scale, in closed form from the
simulator's outcome formulas (:func:`cbec.article.simulate.order_cycle_days` and the repurchase rate): what the
findings page shows as "planted" and what the calibration of claim C14 measures its verdicts against. Light to
import (the standard library's normal distribution), so building the pages loads neither the simulator nor scipy."""

from __future__ import annotations

__all__ = ["C14_TRUE_BETA", "planted_cycle_reduction", "ratio_of_thirds"]

#: The supply-chain effect on the log order cycle that makes claim C14 exactly true (60% shorter cycles for the
#: construct's top third; the shipped world's -0.35 gives 53.5%, just outside the claim's band of 55-65%).
C14_TRUE_BETA = -0.42


def ratio_of_thirds(beta: float) -> float:
    """Mean outcome of the top third of a latent factor over its bottom third when the outcome is
    ``exp(beta * eta + noise)`` with standard normal ``eta`` and independent noise: with ``h`` the 2/3 quantile,
    ``E[exp(beta eta); eta > h] / E[exp(beta eta); eta < -h] = (1 - Phi(h - beta)) / Phi(-h - beta)`` (the
    noise cancels). The planted truth of the article's ratio claims on the construct's scale.

    >>> round(ratio_of_thirds(0.35), 2), round(ratio_of_thirds(0.0), 2)
    (2.15, 1.0)
    """
    from statistics import NormalDist  # not scipy.stats: its import was a second of the book build's staging

    norm = NormalDist()
    h = norm.inv_cdf(2 / 3)
    return norm.cdf(beta - h) / norm.cdf(-h - beta)


def planted_cycle_reduction(beta: float) -> float:
    """% shorter mean order cycle of the top third of the latent supply-chain factor against the bottom third
    (:func:`ratio_of_thirds` with a negative ``beta``). The shipped world's beta = -0.35 gives 53.5%.

    >>> round(planted_cycle_reduction(-0.35), 1), round(planted_cycle_reduction(-0.42), 1)
    (53.5, 60.2)
    """
    return 100 * (1 - ratio_of_thirds(beta))
