"""CITATION.cff: valid Citation File Format 1.2.0 (schema committed as a cited fixture, see fixtures/README.md),
the package's own version, and the one source of the book's "How to cite"."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from cbec import __version__
from cbec.book.generated import _bibtex, citation

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "cff_schema_1.2.0.json").read_text(encoding="utf-8"))


def _validate(doc: dict) -> None:
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.FormatChecker())


def test_citation_file_is_valid_and_carries_the_package_version():
    doc = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    _validate(doc)
    assert doc["version"] == __version__  # one version: a release bumps cbec.__version__ and this together
    with pytest.raises(jsonschema.ValidationError):  # the schema does reject what is not CFF
        _validate({**doc, "homepage": "x"})
    with pytest.raises(jsonschema.ValidationError):
        _validate({**doc, "date-released": "4 January 2026"})


def test_how_to_cite_is_written_from_the_citation_file(tmp_path):
    doc = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    doc |= {"version": "9.9.9", "repository-code": "https://example.org/cbec-book"}
    (tmp_path / "CITATION.cff").write_text(yaml.safe_dump(doc), encoding="utf-8")
    prov = {"citation": citation(tmp_path), "code": "0123456789abcdef", "results_utc": "2026-12-05", "book": "article"}
    entry = "\n".join(_bibtex(prov))
    assert "version = {9.9.9}" in entry and "url     = {https://example.org/cbec-book}" in entry
    assert doc["title"] in entry and "Built from 0123456789ab" in entry
    hostile = {**prov, "book": "study", "title": "x```}{y"}
    assert "```" not in "\n".join(_bibtex(hostile)).replace("```bibtex", "")
