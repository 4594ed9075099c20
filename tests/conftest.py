from __future__ import annotations

import pytest

from cbec.article.simulate import SimulationConfig, simulate_survey
from cbec.io.instrument import load_instrument
from cbec.io.validate import validate_frame


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


@pytest.fixture(scope="session")
def shipped_sample(inst):
    """The shipped world's 600-firm sample (dirt included), its truth and its validated clean rows.

    Built once per test session: every test that needs the book's own sample shares it."""
    df, truth = simulate_survey(SimulationConfig(n=600, seed=2026), inst)
    return df, truth, validate_frame(df, inst).clean
