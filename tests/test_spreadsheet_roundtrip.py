"""What a spreadsheet does with the downloads: every CSV and workbook the book publishes is opened by LibreOffice
Calc (headless, converted to flat OpenDocument XML) and must come out without a single formula cell.

A check on our own reading of the files (``test_end_to_end``) cannot see what a spreadsheet makes of a line
break inside a cell or of a text cell openpyxl would store as a formula; this one asks the spreadsheet. The
harness is checked too: the same payloads written naively do become formulas. Debian's libreoffice-calc-nogui
is installed by ``make`` (as root, as CI runs); without it these tests skip with that reason."""

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from hostile import PAYLOADS

from cbec.io.safe_text import to_csv_for_people, to_xlsx_for_people

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice is not installed (make installs libreoffice-calc-nogui as root)"
)

#: Cells that start a formula directly or on a later line of the cell.
FORMULAS = [
    *PAYLOADS,
    "=1+1",
    "ok\n=2+2",
    "ok\r=3+3",
    "ok\r\n@SUM(1;2)",
    "-4+4",
    '+HYPERLINK("http://cbec-xss-12")',
]


def formula_cells(files: list[Path], out: Path) -> dict[str, list[str]]:
    """The formulas LibreOffice Calc finds in each file, opened as a person would open it (CSV as UTF-8,
    comma-separated, double-quoted; workbooks as they are), all in one LibreOffice start."""
    copies = out / "in"  # one name per file: downloads of the same name live in different folders
    copies.mkdir(parents=True, exist_ok=True)
    named = {}
    for i, f in enumerate(files):
        named[f"{i:03d}_{f.name}"] = f
        shutil.copyfile(f, copies / f"{i:03d}_{f.name}")
    found = {}
    for kind in ("csv", "xlsx"):
        group = [str(copies / n) for n in named if n.endswith(f".{kind}")]
        if not group:
            continue
        infilter = ["--infilter=CSV:44,34,76,1"] if kind == "csv" else []
        profile = f"-env:UserInstallation=file://{out / 'profile'}"  # never touch a user's own profile
        subprocess.run(
            [SOFFICE, profile, "--headless", *infilter, "--convert-to", "fods", "--outdir", str(out / kind), *group],
            check=True,
            capture_output=True,
            timeout=300,
        )
        for f in group:
            xml = (out / kind / (Path(f).stem + ".fods")).read_text(encoding="utf-8")
            cells = [m.split('"')[1] for m in xml.split("table:formula=")[1:]]
            # a workbook's boolean cell is written as the constant formula TRUE() or FALSE(): a value, not code
            found[str(named[Path(f).name])] = [c for c in cells if c not in ("of:=TRUE()", "of:=FALSE()")]
    return found


def test_the_harness_sees_formulas_in_naive_files(tmp_path):
    naive = pd.DataFrame({"text": FORMULAS})
    naive.to_csv(tmp_path / "naive.csv", index=False)
    found = formula_cells([tmp_path / "naive.csv"], tmp_path / "lo")[str(tmp_path / "naive.csv")]
    # =1+1 and a HYPERLINK at the least (whether "ok\r=3+3" becomes a formula depends on how the Python
    # version's csv module quotes a bare CR: it does on 3.11, not on 3.13; -4+4 stays text in Calc)
    assert "of:=1+1" in found and any("HYPERLINK" in c for c in found), found


def test_safe_writers_give_a_spreadsheet_no_formula(tmp_path):
    frame = pd.DataFrame({"text": FORMULAS, "n": range(len(FORMULAS))})
    csv = to_csv_for_people(frame, tmp_path / "safe.csv")
    xlsx = to_xlsx_for_people({"sheet": frame}, tmp_path / "safe.xlsx")
    found = formula_cells([csv, xlsx], tmp_path / "lo")
    assert found == {str(csv): [], str(xlsx): []}
