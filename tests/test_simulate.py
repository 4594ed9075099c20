import json

import numpy as np
import pytest

from cbec.article.simulate import (
    CATEGORY_SHARES,
    SimulationConfig,
    _cut,
    implied_observed_loading,
    simulate_survey,
    write_simulation,
)


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = write_simulation(tmp_path / "a", n=120, seed=5)
    b = write_simulation(tmp_path / "b", n=120, seed=5)
    for pa, pb in zip(a, b, strict=False):
        assert pa.read_bytes() == pb.read_bytes()
    c = write_simulation(tmp_path / "c", n=120, seed=6)
    assert c[0].read_bytes() != a[0].read_bytes()


def test_ground_truth_states_every_parameter(tmp_path):
    _, truth_path = write_simulation(tmp_path, n=100, seed=1)
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    assert set(truth["config"]) == set(SimulationConfig.__dataclass_fields__)
    assert len(truth["loadings_latent"]) == 42
    assert truth["strongest_coupling"] == "MI*SC"
    assert "simulated" in truth["description"]


def test_implied_loading_matches_monte_carlo():
    # Tolerance: with 400k draws the Monte Carlo SE of a correlation near 0.7 is about 0.001.
    rng = np.random.default_rng(0)
    n, lam = 400_000, 0.75
    eta = rng.standard_normal(n)
    y = _cut(lam * eta + np.sqrt(1 - lam**2) * rng.standard_normal(n), CATEGORY_SHARES)
    assert np.corrcoef(y, eta)[0, 1] == pytest.approx(implied_observed_loading(lam), abs=0.004)


def test_dirt_counts_and_contract(inst):
    df, truth = simulate_survey(SimulationConfig(n=400, seed=3), inst)
    assert list(df.columns) == [c for c in inst.columns]
    assert len(df) == 400 + len(truth["dirty_rows"]["duplicates"])
    assert len(truth["dirty_rows"]["speeder"]) == 8
    assert df[inst.factor_item_ids].isna().to_numpy().any()


def test_no_dirt_option(inst):
    df, truth = simulate_survey(SimulationConfig(n=100, seed=3, dirt=False), inst)
    assert len(df) == 100 and not df[inst.likert_ids].isna().to_numpy().any()
    assert truth["dirty_rows"] == {}


def test_unknown_coupling_rejected(inst):
    with pytest.raises(ValueError, match="two different factor codes"):
        simulate_survey(SimulationConfig(n=60, couplings={"MI*XX": 0.1}), inst)
