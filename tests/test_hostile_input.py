"""Data never becomes code: every escape path, the spreadsheet-safe CSV, and files as untrusted input.

The end-to-end half (payloads through a whole run into the built HTML) is in test_end_to_end.py, which
already builds the book once; the helpers for reading a page are here.
"""

import zipfile
from html.parser import HTMLParser

import pandas as pd
import pytest
from hostile import MARKER, PAYLOADS
from markdown_it import MarkdownIt

from cbec.book.safe_display import md_text, neutralise_formula, quotes_html, render_styler, to_csv_for_people
from cbec.io import ingest
from cbec.io.ingest import SurveyInputError, read_survey
from cbec.study.interviews import read_transcripts


class PageAudit(HTMLParser):
    """Collects what a page would run (script bodies, event handlers, javascript: URLs) and its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.active: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            if name.lower().startswith("on") or value.strip().lower().startswith("javascript:"):
                self.active.append(f"<{tag} {name}={value!r}>")
            if tag in ("img", "a", "iframe", "object", "embed") and MARKER in value:
                self.active.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.active.append(data)
        else:
            self.text.append(data)


def audit(html: str) -> PageAudit:
    a = PageAudit()
    a.feed(html)
    return a


def assert_inert(html: str) -> str:
    """No payload runs; return the page's visible text."""
    a = audit(html)
    live = [x for x in a.active if MARKER in x or "alert(" in x]
    assert not live, live
    return "".join(a.text)


def test_tables_escape_cells_labels_and_captions():
    df = pd.DataFrame({"firm": PAYLOADS, "score": range(len(PAYLOADS))}, index=pd.Index(PAYLOADS, name="<b>idx</b>"))
    df.columns = ["<i>firm</i>", "score"]
    html = render_styler(df.style.format(precision=2).set_caption(PAYLOADS[1]))
    text = assert_inert(html)
    for p in PAYLOADS[:3]:
        assert p in text  # shown, as the characters typed
    assert "<i>firm</i>" in text


@pytest.mark.parametrize("ch", ["\u202e", "\u061c", "\u0085", "\u2028", "\u2029", "\u200b", "\ufeff", "\U000e0041",
                                "\u00ad", "\x1b"])  # fmt: skip
def test_invisible_characters_are_shown_on_every_path(ch):
    """Format and control characters and the line/paragraph separators become visible marks in styled tables
    (cells, index, columns), prose, quotes and figure labels."""
    from cbec.book.figures import literal
    from cbec.book.safe_display import quotes_html

    mark = f"[U+{ord(ch):04X}]"
    bad = f"firm{ch}x"
    df = pd.DataFrame({bad: [bad], "n": [1]}, index=pd.Index([bad]))
    for out in (render_styler(df.style), md_text(bad), quotes_html(pd.DataFrame({"quote": [bad], "firm": [bad]})),
                literal(bad)):  # fmt: skip
        assert ch not in out and mark in out.replace("\\", ""), (ch, out[:300])  # md_text escapes [ and +


def test_prose_from_data_is_shown_not_interpreted():
    md = MarkdownIt("commonmark", {"html": True})
    for p in PAYLOADS:
        html = md.render(md_text(p))
        text = assert_inert(html)
        assert "<a " not in html and "<img" not in html and "<script" not in html
        shown = text.strip()
        assert shown == p.replace("\n", " ").replace("\u202e", "[U+202E]"), (p, shown)


def test_quotes_are_html_of_escaped_text():
    quotes = pd.DataFrame({"quote": PAYLOADS, "factor": "MI", "firm": PAYLOADS[1]})
    text = assert_inert(quotes_html(quotes))
    assert PAYLOADS[0] in text and PAYLOADS[1] in text


@pytest.mark.parametrize(
    "cell,expected",
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("\r=x", "'\r'=x"),  # a spreadsheet may start a row at the CR: the line after it is neutralised too
        ("ok\n=1+1", "ok\n'=1+1"),
        ("-5.2", "-5.2"),
        ("+3", "+3"),
        ("1e-3", "1e-3"),
        ("plain", "plain"),
        (-5.2, -5.2),
        (None, None),
    ],
)
def test_formula_cells_are_neutralised_numbers_are_not(cell, expected):
    assert neutralise_formula(cell) == expected


def test_csv_for_people_starts_no_text_cell_with_a_formula(tmp_path):
    df = pd.DataFrame({"text": PAYLOADS + ["-1"], "n": [-1.5] * (len(PAYLOADS) + 1)})
    path = to_csv_for_people(df, tmp_path / "t.csv")
    back = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert not back["text"].str.match(r"^[=+\-@\t\r]").iloc[:-1].any()
    assert back["text"].iloc[-1] == "-1" and (back["n"] == "-1.5").all()


def _xlsx_with_formula(path, inst):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["respondent_id", "MI11", "employees"])
    ws.append(["R1", "=1+6", '=WEBSERVICE("http://cbec-xss")'])
    wb.save(path)
    return path


def test_xlsx_formulas_are_never_evaluated(tmp_path, inst):
    df, _ = read_survey(_xlsx_with_formula(tmp_path / "f.xlsx", inst), inst)
    # openpyxl writes no cached value; a reader that evaluated the formula would give 7
    assert df.loc[0, "MI11"] != "7" and pd.isna(df.loc[0, "MI11"])


def test_zip_bomb_workbook_stops_clearly(tmp_path, inst):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 2**20))
    with pytest.raises(SurveyInputError, match="would expand to .* the limits are"):
        read_survey(path, inst, fmt="tidy")


def test_oversized_file_stops_clearly(tmp_path, inst, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("respondent_id,MI11\n" + "R,1\n" * 1000, encoding="utf-8")
    monkeypatch.setattr(ingest, "MAX_SURVEY_BYTES", 1000)
    with pytest.raises(SurveyInputError, match="the limit is"):
        read_survey(path, inst)


@pytest.mark.parametrize("suffix", [".parquet", ".sav", ".dta"])
def test_a_small_container_that_unpacks_huge_stops_before_it_is_read(tmp_path, inst, monkeypatch, suffix):
    """Compressed formats are checked by their cell count (from the metadata) before the table is built: 20,000
    identical rows compress to a few KB; with the cap at 100,000 cells, 20,000 x 10 stops with the count."""
    import pyreadstat

    df = pd.DataFrame({f"c{k}": [1.0] * 20_000 for k in range(10)})
    path = tmp_path / f"bomb{suffix}"
    {".parquet": lambda: df.to_parquet(path), ".sav": lambda: pyreadstat.write_sav(df, str(path), compress=True),
     ".dta": lambda: pyreadstat.write_dta(df, str(path))}[suffix]()  # fmt: skip
    monkeypatch.setattr(ingest, "MAX_SURVEY_CELLS", 100_000)
    fmt = {".parquet": "tidy", ".sav": "spss", ".dta": "stata"}[suffix]
    with pytest.raises(SurveyInputError, match=r"20,000 rows x 10 columns = 200,000 cells .* the limit is 100,000"):
        read_survey(path, inst, fmt=fmt)
    monkeypatch.setattr(ingest, "MAX_SURVEY_CELLS", 200_000)  # at the cap: read (and then judged as a survey)
    with pytest.raises(SurveyInputError) as err:
        read_survey(path, inst, fmt=fmt)
    assert "cells" not in str(err.value)


def test_transcript_links_out_of_the_folder_are_not_followed(tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text(
        "---\nfirm: S\nsize_class: sme\nmain_market: sea\nlanguage: en\n---\nQ: a\nA: cbec-secret\n", encoding="utf-8"
    )
    folder = tmp_path / "iv"
    folder.mkdir()
    (folder / "link.md").symlink_to(secret)
    corpus = read_transcripts(folder)
    assert "cbec-secret" not in corpus.segments.to_string()
    assert "outside the transcripts folder" in corpus.skipped.to_string()


def test_workbooks_for_people_hold_no_formula(tmp_path):
    from openpyxl import load_workbook

    from cbec.io.safe_text import to_xlsx_for_people

    frame = pd.DataFrame({"label": ['=HYPERLINK("http://x","y")', "plain", "+1 call"], "n": [1, 2.5, None]})
    path = to_xlsx_for_people({"questionnaire": frame}, tmp_path / "q.xlsx")
    ws = load_workbook(path)["questionnaire"]
    cells = [c for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert ws["A2"].value == '=HYPERLINK("http://x","y")' and ws["B3"].value == 2.5 and ws["B4"].value is None


def test_only_regular_files_of_the_transcripts_folder_are_read(tmp_path):
    """A FIFO named like a transcript would hang the run, a directory named *.md abort it, a hard link could
    be a file from anywhere on the machine: each is skipped with its reason, the good files are read."""
    import os

    from interview_fixtures import write_fixture_transcripts

    folder = write_fixture_transcripts(tmp_path / "iv")
    os.mkfifo(folder / "pipe.md")
    (folder / "adir.md").mkdir()
    outside = tmp_path / "secret.md"
    outside.write_text((folder / "good_zh.md").read_text(encoding="utf-8"), encoding="utf-8")
    os.link(outside, folder / "hard.md")
    corpus = read_transcripts(folder)
    reasons = corpus.skipped.set_index("file")["reason"]
    assert reasons["pipe.md"] == reasons["adir.md"] == "not a regular file"
    assert "hard link" in reasons["hard.md"]
    assert "good_zh.md" in set(corpus.files["file"])


def test_metadata_in_an_input_file_never_becomes_a_setting(tmp_path, small_survey, inst):
    """pandas restores a parquet file's attrs; the validator reads the loader's conventions from attrs, so a file
    could declare its own missing codes. The loader clears them: the injected code changes nothing."""
    from cbec.io.validate import validate_survey

    df = small_survey[0].copy(deep=True)  # the fixture is shared: these attrs must not reach other tests
    path = tmp_path / "survey.parquet"
    df.attrs["missing_codes"] = {"1": "injected by the file", "2": "injected by the file"}
    df.to_parquet(path, index=False)
    assert pd.read_parquet(path).attrs.get("missing_codes")  # the file does carry them
    report = validate_survey(path, inst).report
    assert "injected by the file" not in report["missing_answers"]["by_reason"]
