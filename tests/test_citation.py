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


def test_the_repository_address_is_one_setting_that_reaches_every_place(tmp_path, monkeypatch):
    """`repository.url` in _config.yml is the address; CITATION.cff agrees; when set, the book's Sphinx
    configuration shows a source link on every page and names it in Appendix C, and How to cite carries it."""
    from cbec.book import staging
    from cbec.study.chapters.base import RunConfig

    conf = yaml.safe_load((ROOT / "src" / "cbec" / "site" / "_config.yml").read_text(encoding="utf-8"))
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert (cff.get("repository-code") or "") == staging.repository_url(conf)

    cfg = RunConfig.__new__(RunConfig)
    object.__setattr__(cfg, "book", "article")
    staging._write_config(cfg, tmp_path / "none.yml", None)
    written = yaml.safe_load((tmp_path / "none.yml").read_text(encoding="utf-8"))
    if not staging.repository_url(conf):  # no address known: no dead source link, the source tree named
        assert "repository" not in written and written["html"]["use_repository_button"] is False
        assert written["parse"]["myst_substitutions"]["repository"] == "this book's source tree"

    url = "https://example.org/cbec-book"
    monkeypatch.setattr(staging, "repository_url", lambda conf=None: url)
    staging._write_config(cfg, tmp_path / "set.yml", None)
    written = yaml.safe_load((tmp_path / "set.yml").read_text(encoding="utf-8"))
    assert written["html"]["use_repository_button"] is True and written["repository"]["url"] == url
    assert url in written["parse"]["myst_substitutions"]["repository"]
    bare = {k: v for k, v in cff.items() if k != "repository-code"}
    (tmp_path / "CITATION.cff").write_text(yaml.safe_dump(bare), encoding="utf-8")
    assert citation(tmp_path)["repository-code"] == url
