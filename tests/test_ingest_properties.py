"""Property-based: malformed tables either load with reconciling counts or stop with a clear error."""

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbec.article.simulate import SimulationConfig, simulate_survey
from cbec.io.ingest import SurveyInputError
from cbec.io.validate import validate_survey

BASE, _ = simulate_survey(SimulationConfig(n=60, seed=4, dirt=True))
BASE = BASE.astype(object)

cell_values = st.one_of(
    st.none(),
    st.just(""),
    st.integers(-5, 20),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=8),
    st.sampled_from(["非常同意", "agree", "maybe", "十", "1e3", "NaN", " 5 "]),
)
mutation = st.tuples(st.integers(0, len(BASE) - 1), st.sampled_from(list(BASE.columns)), cell_values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mutations=st.lists(mutation, max_size=12),
    dropped=st.lists(st.sampled_from(list(BASE.columns)), max_size=3, unique=True),
    extra_rows=st.integers(0, 3),
)
@pytest.mark.slow
def test_malformed_tables_never_crash_or_lose_rows(tmp_path_factory, mutations, dropped, extra_rows):
    df = BASE.copy()
    for row, col, value in mutations:
        df.at[row, col] = value
    df = pd.concat([df, df.head(extra_rows)], ignore_index=True).drop(columns=dropped)
    path = tmp_path_factory.mktemp("prop") / "survey.csv"
    df.to_csv(path, index=False)
    rows_in_file = len(pd.read_csv(path, dtype=str, keep_default_na=False))
    try:
        res = validate_survey(path)
    except SurveyInputError as exc:
        msg = str(exc)
        assert "survey.csv" in msg and "what to do" in msg
        return
    r = res.report
    assert r["rows_in"] == rows_in_file
    assert r["rows_in"] == r["rows_clean"] + r["rows_quarantined"]
    assert len(res.clean) + len(res.quarantine) == rows_in_file
    got = sorted(res.clean["_source_row"].astype(int).tolist() + res.quarantine["_source_row"].astype(int).tolist())
    assert got == list(range(2, rows_in_file + 2))


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary", "序号,所用时间\n".encode("gbk"), b"a;b;c\n1;2;3\n"])
def test_files_that_are_not_surveys(tmp_path, content):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(SurveyInputError):
        validate_survey(path)
