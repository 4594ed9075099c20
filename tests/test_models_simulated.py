"""Coupling models on simulated data: recovery of a planted pair, calibration under no coupling."""

import numpy as np
import pandas as pd
import pytest

from cbec import measurement as ms
from cbec import models
from cbec.simulate import SimulationConfig, simulate_survey


def _analyse(inst, **cfg):
    df, _ = simulate_survey(SimulationConfig(dirt=False, **cfg), inst)
    for c in inst.reverse_items:
        df[c] = inst.likert_points + 1 - df[c]
    scores = ms.mean_scores(df, ms.factor_blocks(inst))
    y = models.performance_score(df, inst.performance_item_ids)
    return models.joint_interaction_model(scores, y, models.control_matrix(df))


# Main effects strongest on MI and SC, so the coupled pair is never the pair of the largest main effects.
MAIN = {"MI": 0.25, "SC": 0.25, "MK": 0.10, "CX": 0.10, "TP": 0.05, "RC": 0.05, "TO": 0.05}


@pytest.mark.parametrize("pair", ["TP*RC", "MK*TO"])
def test_planted_pair_ranks_first(inst, pair):
    # Measured: at gamma = 0.25, n = 600 the planted pair ranks first in 18-20 of 20 seeds; at the
    # shipped gamma = 0.15 in about 87% of seeds. The 95% target is not reached yet (issue 5).
    seeds = range(20)
    hits = 0
    for s in seeds:
        # Size paths off: they are nonlinear in the factors too and would be a second planted signal.
        t = _analyse(inst, n=600, seed=100 + s, couplings={pair: 0.25}, main_effects=MAIN,
                     delta_balance_large=0.0, delta_focus_sme=0.0)
        top = t.sort_values("rank").iloc[0]
        hits += f"{top['factor_a']}*{top['factor_b']}" == pair
    # Regression guard at the measured level: 16 of 20 (a rank chosen at random would hit 1 in 21).
    assert hits >= 16


def test_no_coupling_keeps_familywise_error(inst):
    reps = 60
    any_sig = 0
    for s in range(reps):
        t = _analyse(inst, n=600, seed=500 + s, couplings={}, main_effects=MAIN,
                     delta_balance_large=0.0, delta_focus_sme=0.0)
        any_sig += bool((t["p_holm"] < 0.05).any())
    # Nominal 5%; with 60 seeds the binomial 99% upper bound for a true 5% rate is 9 of 60.
    assert any_sig <= 9


def test_normalisation_sensitivity_covers_every_rule(inst):
    df, _ = simulate_survey(SimulationConfig(n=300, seed=9, dirt=False), inst)
    for c in inst.reverse_items:
        df[c] = inst.likert_points + 1 - df[c]
    scores = ms.mean_scores(df, ms.factor_blocks(inst))
    out = models.normalisation_sensitivity(scores, models.performance_score(df, inst.performance_item_ids),
                                           models.control_matrix(df), ms.NORMALISATION_RULES)
    assert set(out["rule"]) == set(ms.NORMALISATION_RULES) and len(out) == 2 * len(ms.NORMALISATION_RULES)
    assert out["MIxSC_rank"].between(1, 21).all()
    # The scale rule is affine in the scores, min-max is affine per factor: D changes, so estimates differ.
    assert out.groupby("method")["MIxSC_estimate"].nunique().min() > 1
