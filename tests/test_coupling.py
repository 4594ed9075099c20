"""Coupling-coordination formulas with hand-worked values."""

import numpy as np
import pandas as pd
import pytest

from cbec.stats import coupling

EXACT = 1e-12  # closed-form values: only floating-point error is allowed


def test_standard_coupling_two_systems_by_hand():
    # U = (0.4, 0.6): C = sqrt(0.24) / 0.5 = 0.979795897...; it depends only on the ratio.
    assert coupling.coupling_degree([0.4, 0.6])[0] == pytest.approx(np.sqrt(0.24) / 0.5, abs=EXACT)
    assert coupling.coupling_degree([0.04, 0.06])[0] == pytest.approx(
        coupling.coupling_degree([0.4, 0.6])[0], abs=EXACT
    )
    # The textbook form m * [prod U / (sum U)^m]^(1/m) gives the same number.
    assert coupling.coupling_degree([0.4, 0.6])[0] == pytest.approx(2 * (0.24 / 1.0**2) ** 0.5, abs=EXACT)


def test_standard_coupling_three_systems_by_hand():
    u = [0.2, 0.4, 0.8]
    geo, mean = (0.2 * 0.4 * 0.8) ** (1 / 3), (0.2 + 0.4 + 0.8) / 3
    assert coupling.coupling_degree(u)[0] == pytest.approx(geo / mean, abs=EXACT)


def test_revised_coupling_two_systems_by_hand():
    # Wang et al. (2021): sqrt((1 - |0.4 - 0.6|) * 0.4/0.6) = sqrt(0.8 * 2/3)
    assert coupling.coupling_degree_revised([0.4, 0.6])[0] == pytest.approx(np.sqrt(0.8 * 2 / 3), abs=EXACT)
    # Unlike the standard C it sees absolute distance: same ratio, different value.
    assert coupling.coupling_degree_revised([0.04, 0.06])[0] != pytest.approx(
        coupling.coupling_degree_revised([0.4, 0.6])[0]
    )


def test_revised_coupling_three_systems_by_hand():
    u = np.array([0.2, 0.4, 0.8])
    spread = (0.2 + 0.6 + 0.4) / (1 + 2)
    balance = ((0.2 / 0.8) * (0.4 / 0.8) * 1.0) ** (1 / 2)
    assert coupling.coupling_degree_revised(u)[0] == pytest.approx(np.sqrt((1 - spread) * balance), abs=EXACT)


def test_coordination_degree_and_weights():
    u = [0.4, 0.6]
    assert coupling.comprehensive_index(u)[0] == pytest.approx(0.5, abs=EXACT)
    assert coupling.comprehensive_index(u, weights=[3, 1])[0] == pytest.approx(0.45, abs=EXACT)
    assert coupling.coordination_degree(u)[0] == pytest.approx(np.sqrt(np.sqrt(0.24) / 0.5 * 0.5), abs=EXACT)


def test_edge_cases():
    assert coupling.coupling_degree([0.0, 0.5])[0] == 0.0
    assert coupling.coupling_degree([0.0, 0.0])[0] == 0.0
    assert coupling.coupling_degree_revised([0.7, 0.7])[0] == pytest.approx(1.0, abs=EXACT)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        coupling.coupling_degree([1.2, 0.5])


def test_ten_level_classification():
    labels = coupling.classify_d([0.05, 0.1, 0.55, 0.899, 1.0])
    assert labels.tolist() == [
        "extreme disorder",
        "serious disorder",
        "barely coordinated",
        "good coordination",
        "high-quality coordination",
    ]


def test_pair_indices_columns():
    idx = pd.DataFrame({"MI": [0.4, 0.9], "SC": [0.6, 0.1]})
    out = coupling.pair_indices(idx, "MI", "SC")
    assert list(out.columns) == ["C", "C_revised", "T", "D", "D_revised"]
    assert out["C"].iloc[0] == pytest.approx(np.sqrt(0.24) / 0.5, abs=EXACT)


@pytest.mark.slow
def test_holm_matches_statsmodels_exactly():
    from statsmodels.stats.multitest import multipletests

    from cbec.stats.models import holm

    rng = np.random.default_rng(3)
    for _ in range(50):
        p = rng.random(21) ** 3
        p[rng.integers(0, 21)] = p[0]  # ties
        assert np.array_equal(holm(p), multipletests(p, method="holm")[1])
