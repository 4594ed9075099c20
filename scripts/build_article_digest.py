"""Digest of the source article's lines for the claims-register test (a developer's step, not the run's).

The test that every numeric statement of the article is in the claims register used to read the article from
beside the checkout; tests read nothing outside the repository, and the article's sentences are not ours to
commit. So this script writes, for every article line that holds a digit or is the source line of a register
row, the facts the test needs and no sentence: the line number, a SHA-256 of the line, whether it holds a figure
with a unit, and its figures (numbers with their units, ranges and ratios, and the words 翻倍/一倍/两倍).

Usage::

    python scripts/build_article_digest.py ../shared/reference/000_22eb896d3a3b65ff.txt
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

import pandas as pd

from cbec.resources import resource

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "article_line_digest.csv"
UNIT_FIGURE = re.compile(r"\d+(\.\d+)?\s*(%|万|亿|倍|天|小时|分钟|个百分点)")
FIGURE = re.compile(
    r"\d+(?:\.\d+)?(?:\s*[-–:~]\s*\d+(?:\.\d+)?)?\s*(?:%|万|亿|倍|天|小时|分钟|个百分点)?|翻倍|一倍|两倍"
)


def digest(article: Path) -> pd.DataFrame:
    text = [re.sub(r"<[^>]+>", "", ln) for ln in article.read_text(encoding="utf-8").splitlines()]
    register = pd.read_csv(resource("claims.csv"), dtype=str, keep_default_na=False)
    wanted = {int(x) for x in register["source_line"]} | {
        i for i, ln in enumerate(text, start=1) if re.search(r"\d", ln)
    }
    rows = []
    for i in sorted(wanted):
        ln = text[i - 1]
        rows.append(
            {
                "line": i,
                "sha256": hashlib.sha256(ln.encode()).hexdigest(),
                "has_digit": bool(re.search(r"\d", ln)),
                "unit_figure": bool(UNIT_FIGURE.search(ln)),
                "figures": " ".join(m.group(0).replace(" ", "") for m in FIGURE.finditer(ln)),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("article", type=Path)
    df = digest(ap.parse_args().article)
    df.to_csv(OUT, index=False)
    print(f"{len(df)} lines written to {OUT}")


if __name__ == "__main__":
    main()
