"""Notebooks are committed without outputs (the executed copies are build products): exit 1 naming every
notebook that has an output or an execution count. Used by pre-commit and by tests/test_structure.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def dirty_cells(path: Path) -> list[int]:
    """Indices of the code cells of ``path`` that carry outputs or an execution count."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]


def main(paths: list[str]) -> int:
    bad = {p: dirty_cells(Path(p)) for p in paths}
    bad = {p: cells for p, cells in bad.items() if cells}
    for p, cells in bad.items():
        print(f"{p}: cells {cells} have outputs; clear them (jupyter nbconvert --clear-output --inplace {p})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
