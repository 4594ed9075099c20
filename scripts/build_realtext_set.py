"""Build the real-text evaluation set of the interview coder from its sources (a developer's step, not the run's).

The coder is measured on paragraphs that no one on the project wrote: the factor and case sections of the
source article (Li 2026) and public web pages on cross-border e-commerce practice. Neither text may be copied
into this repository (the article's sentences are not ours to republish; the pages are third-party material),
so what is committed is, per paragraph, its source, location, label, length, a SHA-256 of the original text
and the *sorted bag* of its tokens — the words the coder reads, in an order from which the sentences cannot be
put back together. The coder, keyword and learned parts alike, reads a document as a bag of tokens, so it is
measured on exactly what it would see in the original.

Inputs (neither kept in the repository):

* ``--article``: the article as text (``shared/reference/000_22eb896d3a3b65ff.txt`` beside this checkout).
* ``--web``: a YAML file of web paragraphs: ``sources: [{id, publisher, split, items: [{url, heading, label,
  text}]}]`` — each paragraph labelled by the factor its innermost heading names (rule in the output's README).

Tokens are made with the shipped codebook's dictionary; the list of dictionary words used is written beside
the set, and a test fails when the codebook gains a Chinese term the set was not tokenised with (then run this
script again with the sources).

Usage::

    python scripts/build_realtext_set.py --article ../shared/reference/000_22eb896d3a3b65ff.txt --web web.yaml
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

import pandas as pd
import yaml

from cbec.resources import resource
from cbec.study import coder

#: Article section numbers, in the article's order of the seven factors.
SECTIONS = dict(zip("一二三四五六七", ("MI", "SC", "MK", "TP", "RC", "CX", "TO"), strict=True))
#: Names of the factors in the article's two case tables.
CASE_ROWS = {
    "市场定位": "MI",
    "供应链": "SC",
    "营销体系": "MK",
    "技术支持": "TP",
    "合规保障": "RC",
    "客户体验": "CX",
    "团队建设": "TO",
}
MIN_CHARS = 40
ARTICLE_URL = "https://www.acem.sjtu.edu.cn/ (Li 2026, 交大行研院; see references.bib: li2026)"


def _clean(line: str) -> str:
    return re.sub(r"<[^>]+>", "", line).strip()


def article_paragraphs(path: Path) -> list[dict]:
    """Paragraphs of the seven factor sections (>= 40 characters, sub-headings excluded) and the rows of the two
    case tables, each labelled by the section or the table row it sits in."""
    lines = [_clean(x) for x in path.read_text(encoding="utf-8").splitlines()]
    out, label, n = [], None, 0
    for i, ln in enumerate(lines, start=1):
        m = re.match(r"^（?\(?([一二三四五六七])[)）]", ln)
        if m:
            label, n = SECTIONS[m.group(1)], 0
            continue
        if ln.startswith("案例分析"):
            label = None
        if label and len(ln) >= MIN_CHARS and not re.match(r"^\d\s", ln):
            n += 1
            out.append(
                {"source": "li2026", "location": f"line {i}", "heading": f"section {label}", "label": label, "text": ln}
            )
    # The case tables: after the header cell 落地措施, rows of number / factor name / measures (blank lines between).
    cells = [(i, ln) for i, ln in enumerate(lines, start=1) if ln]
    table = 0
    for c, (_, ln) in enumerate(cells):
        if ln != "落地措施":
            continue
        table += 1
        j = c + 1
        while j + 2 < len(cells) and re.fullmatch(r"[1-7]", cells[j][1]):
            number, name, k = cells[j][1], cells[j + 1][1], j + 2
            if cells[k][1] == "管理":  # 供应链 / 管理 broken over two cells
                k += 1
            line, text = cells[k]
            out.append(
                {
                    "source": "li2026",
                    "location": f"case table {table}, row {number} (line {line})",
                    "heading": f"case table {table}",
                    "label": CASE_ROWS[name],
                    "text": text,
                }
            )
            j = k + 1
    return out


def web_paragraphs(path: Path) -> tuple[list[dict], list[dict]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    paras, sources = [], []
    for s in raw["sources"]:
        sources.append({"source": s["id"], "publisher": s["publisher"], "split": s["split"]})
        for it in s["items"]:
            paras.append(
                {
                    "source": s["id"],
                    "location": f"{it['url']} §{it['heading']}",
                    "heading": it["heading"],
                    "label": it["label"],
                    "text": it["text"],
                }
            )
    return paras, sources


def build(article: Path, web: Path, out: Path) -> pd.DataFrame:
    book = coder.load_codebook()
    tok = coder.Tokeniser(book)
    paras, sources = web_paragraphs(web)
    paras = article_paragraphs(article) + paras
    sources = [{"source": "li2026", "publisher": "Li Haigang, SJTU Antai (2026)", "split": "development"}, *sources]
    rows = []
    for k, p in enumerate(paras, start=1):
        rows.append(
            {
                "id": f"p{k:03d}",
                "source": p["source"],
                "location": p["location"],
                "label": p["label"],
                "n_chars": len(p["text"]),
                "sha256": hashlib.sha256(p["text"].encode()).hexdigest(),
                "tokens": " ".join(sorted(tok.tokens(p["text"]))),
            }
        )
    df = pd.DataFrame(rows).merge(pd.DataFrame(sources), on="source", how="left")
    df.to_csv(out / "realtext_paragraphs.csv", index=False)
    (out / "realtext_dictionary.txt").write_text("\n".join(sorted(tok.dictionary)) + "\n", encoding="utf-8")
    return df


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--article", type=Path, required=True)
    ap.add_argument("--web", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=resource("codebook.yaml").parent)
    a = ap.parse_args()
    df = build(a.article, a.web, a.out)
    print(df.groupby(["source", "label"]).size().unstack(fill_value=0))
    print(f"{len(df)} paragraphs written to {a.out}")


if __name__ == "__main__":
    main()
