from __future__ import annotations

import pytest

from cbec.io.instrument import load_instrument
from cbec.study.simulate import SimulationConfig, simulate_survey


@pytest.fixture(scope="session")
def inst():
    return load_instrument()


@pytest.fixture(scope="session")
def small_survey(inst):
    """A simulated survey of 300 firms with dirt, and its truth."""
    return simulate_survey(SimulationConfig(n=300, seed=11), inst)


@pytest.fixture()
def tidy_csv(tmp_path, small_survey):
    df, _ = small_survey
    path = tmp_path / "survey.csv"
    df.to_csv(path, index=False)
    return path
