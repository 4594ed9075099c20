"""A researcher's own questionnaire: validated with clear errors, and carried through every chapter."""

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cbec.article.simulate import SimulationConfig, simulate_survey
from cbec.book.cli import app
from cbec.book.pipeline import RunSettings, run
from cbec.io.instrument import InstrumentError, load_instrument
from cbec.resources import resource

FIVE = Path(__file__).parent / "fixtures" / "instrument_five_factors.yaml"
TO_FIVE_POINTS = {1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 6: 4, 7: 5}


def five_factor_survey(path: Path, n: int = 300, seed: int = 5) -> Path:
    """Answers to the five-factor, 5-point variant: a simulated survey of the shipped questionnaire with two
    factors, a sub-dimension and two profile questions removed and the answers folded onto five points."""
    inst = load_instrument(FIVE)
    df, _ = simulate_survey(SimulationConfig(n=n, seed=seed))
    out = df[[c for c in df.columns if c in inst.columns]].copy()
    for c in inst.likert_ids:
        out[c] = out[c].map(TO_FIVE_POINTS)
    out.to_csv(path, index=False)
    return path


def _write(tmp_path, raw) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _shipped() -> dict:
    return yaml.safe_load(resource("instrument.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda r: "factors: [unclosed", "not valid YAML"),
        (lambda r: {k: v for k, v in r.items() if k != "likert"}, "lacks the answer scale"),
        (
            lambda r: r | {"fields": [*r["fields"], {"id": "x y", "kind": "number", "en": "a", "zh": "b"}]},
            "letters, digits",
        ),
        (
            lambda r: (
                r | {"fields": [*r["fields"], {"id": "z", "kind": "number", "unit": "furlongs", "en": "a", "zh": "b"}]}
            ),
            "known units",
        ),
    ],
)
def test_a_malformed_instrument_stops_with_a_clear_message(tmp_path, mutate, message):
    with pytest.raises(InstrumentError, match=message):
        load_instrument(_write(tmp_path, mutate(_shipped())))


def test_cli_writes_a_copy_to_edit_and_validates_with_it(tmp_path):
    runner = CliRunner()
    mine = tmp_path / "mine.yaml"
    assert runner.invoke(app, ["instrument", str(mine)]).exit_code == 0
    assert load_instrument(mine).factor_codes == load_instrument().factor_codes
    survey = five_factor_survey(tmp_path / "five.csv", n=120)
    res = runner.invoke(app, ["validate", str(survey), "--out", str(tmp_path / "p"), "--instrument", str(FIVE)])
    assert res.exit_code == 0, res.output
    bad = runner.invoke(
        app, ["validate", str(survey), "--out", str(tmp_path / "q"), "--instrument", str(tmp_path / "nope.yaml")]
    )
    assert bad.exit_code == 2 and "cannot read the instrument file" in bad.output


@pytest.mark.slow
@pytest.mark.xdist_group("kernel")
def test_five_factor_five_point_variant_builds_the_whole_book(tmp_path):
    from interview_fixtures import write_fixture_transcripts

    survey = five_factor_survey(tmp_path / "five.csv")
    paths = run(
        RunSettings(
            survey=survey,
            out=tmp_path / "out",
            instrument=FIVE,
            n_boot=99,
            power_reps=10,
            interviews=write_fixture_transcripts(tmp_path / "iv"),
        )
    )
    html = paths["html"]
    questionnaire = (html / "book" / "appendix_questionnaire.html").read_text(encoding="utf-8")
    assert "5-point scale" in questionnaire and "TO11" not in questionnaire
    coupling = (html / "notebooks" / "03_coupling.html").read_text(encoding="utf-8")
    assert "TO" not in {c for c in ("MI", "SC", "MK", "TP", "CX", "RC", "TO") if f"{c} × " in coupling}
    size = (html / "notebooks" / "04_size_paths.html").read_text(encoding="utf-8")
    assert "cannot be tested with this questionnaire" in size
    claims = (html / "notebooks" / "05_claims.html").read_text(encoding="utf-8")
    assert "cannot test" in claims and "lacks the category_strategy question" in claims
    assert len(list(paths["results"].glob("coupling_*.csv"))) >= 8


def test_a_file_without_the_questionnaires_items_names_that_questionnaires_ids(tmp_path):
    # the message quotes the instrument in use (here the mobi study's), not the article's MI11 … TO32
    from cbec.io.ingest import SurveyInputError, read_survey
    from cbec.io.study import load_study_spec

    mobi = load_study_spec(Path(__file__).parents[1] / "examples" / "mobi").instrument
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SurveyInputError, match="no column matches") as err:
        read_survey(path, mobi)
    assert "(IMAG1 … PERV2)" in str(err.value) and "MI11" not in str(err.value)
