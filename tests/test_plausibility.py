"""Estimates that cannot be right are flagged, never printed as plain results (cbec.stats.plausibility and the
study chapters that use it)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from cbec.stats.plausibility import bounds_flags, cfa_problems, flag_column


def _cfa(variances=(0.4, 0.5), loadings=(0.7, 0.8), corr=0.3, chi2=12.0):
    """A fitted-CFA stand-in with the fields cfa_problems reads: two factors F, G with one item each."""
    est = pd.DataFrame(
        {
            "lhs": ["F", "G", "x1", "x2"],
            "op": ["=~", "=~", "~~", "~~"],
            "rhs": ["x1", "x2", "x1", "x2"],
            "estimate": [1.0, 1.0, *variances],
            "std_loading": [*loadings, np.nan, np.nan],
        }
    )
    lc = pd.DataFrame([[1.0, corr], [corr, 1.0]], index=["F", "G"], columns=["F", "G"])
    return SimpleNamespace(estimates=est, latent_corr=lc, fit=pd.Series({"chi2": chi2}))


def test_a_proper_cfa_has_no_problems():
    assert cfa_problems(_cfa()) == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"variances": (-0.05, 0.5)}, "negative variance (Heywood case) for x1"),
        ({"loadings": (1.02, 0.8)}, "standardised loading beyond ±1 for x1"),
        ({"loadings": (np.nan, 0.8)}, "standardised loadings undefined"),
        ({"corr": 1.01}, "latent correlation matrix not positive definite"),
        ({"corr": np.nan}, "latent correlations undefined"),
        ({"chi2": np.nan}, "the fit did not converge"),
    ],
)
def test_each_improper_solution_is_named(change, said):
    problems = cfa_problems(_cfa(**change))
    assert any(p.startswith(said) for p in problems), problems


def test_bounds_flags_mark_only_values_outside_and_keep_earlier_flags():
    t = pd.DataFrame({"r2": [0.2, 1.049, -0.01, np.nan, 1.0], "flag": ["", "", "", "", "old"]})
    out = flag_column(t, "r2", 0, 1, "R²")["flag"].tolist()
    assert out == ["", "R² 1.049 outside [0, 1]: improper solution", "R² -0.010 outside [0, 1]: improper solution",
                   "", "old"]  # fmt: skip
    assert bounds_flags(pd.Series([1.0 + 1e-12]), 0, 1, "R²").iloc[0] == ""  # rounding is no improper solution


def _improper_pls_data(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Construct A measured by two nearly unrelated items (ρA about .25) that both track the outcome: consistent
    PLS divides by that reliability and lands outside the bounds (R² 1.046, path 1.02 with this seed)."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    y = 0.9 * x + 0.3 * rng.normal(size=n)
    cols = {"a1": x + 2.5 * rng.normal(size=n), "a2": x + 2.5 * rng.normal(size=n)}
    cols |= {f"b{k}": z + 0.5 * rng.normal(size=n) for k in (1, 2, 3)}
    cols |= {f"y{k}": y + 0.4 * rng.normal(size=n) for k in (1, 2, 3)}
    return pd.DataFrame(cols)


def test_study_pls_chapter_flags_an_improper_plsc_solution(tmp_path, monkeypatch):
    from cbec.io.study import load_study_spec
    from cbec.study.chapters import study_pls
    from cbec.study.chapters.base import RunConfig

    data = _improper_pls_data()
    folder = tmp_path / "study"
    folder.mkdir()
    data.to_csv(folder / "data.csv", index=False)
    spec = {
        "name": "improper",
        "origin": "real",
        "data": "data.csv",
        "scale": {"type": "continuous"},
        "constructs": [
            {"code": "A", "en": "Alpha", "items": ["a1", "a2"]},
            {"code": "B", "en": "Beta", "items": ["b1", "b2", "b3"]},
        ],
        "outcome": {"code": "Y", "en": "Yield", "items": ["y1", "y2", "y3"]},
        "screens": "off",
    }
    (folder / "study.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    inst = load_study_spec(folder).instrument
    monkeypatch.setattr(study_pls, "load_study", lambda cfg: SimpleNamespace(instrument=inst, clean=data))
    res = study_pls.study_pls_chapter(RunConfig(results_dir=str(tmp_path / "results"), n_boot=99, book="study"))
    r2 = res.tables["r2"].frame.set_index("estimator")
    assert r2.loc["PLSc (factorial)", "r2"] > 1 and "outside [0, 1]" in r2.loc["PLSc (factorial)", "flag"]
    assert r2.loc["PLS (path weighting)", "flag"] == ""
    assert "Improper estimates, not interpreted" in res.notes["flags"] and "PLSc path" in res.notes["flags"]
