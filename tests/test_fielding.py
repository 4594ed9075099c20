"""The 问卷星 import text parses, by 问卷星's own rules, into the questions the book reads back.

The parser below ports the rules of 问卷星's text-to-survey parser as published in its SDK
(wjxcom/wjx-ai-kit, ``wjx-api-sdk/src/modules/survey/text-to-survey.ts``, commit 040e8af7): a numbered line
``N. title[label]`` opens a question; a blank line ends it (matrix questions continue across blank lines);
``=== 分页 ===`` is a page break; matrix bodies list rows after ``行：`` and columns after ``列：`` as
``- text``; option lines lose a one-letter prefix such as ``A.``.
"""

import re

import pytest

from cbec.io.fielding import wjx_import_text
from cbec.io.ingest import _wjx_columns

Q_LINE = re.compile(r"^(\d+)\.\s*(.+?)\s*(\[([^\]]+)\])(\s*（选填）)?\s*$")
OPTION_PREFIX = re.compile(r"^[A-Za-z][.．、)）]\s*|^[A-Za-z]\s+(?=\S)")


def parse(text: str) -> tuple[str, list[dict]]:
    lines = text.split("\n")
    title, questions, i = lines[0].strip(), [], 1
    while i < len(lines):
        m = Q_LINE.match(lines[i].strip())
        if not m:
            i += 1
            continue
        q = {"n": int(m.group(1)), "title": m.group(2).strip(), "type": m.group(4), "body": []}
        i += 1
        while i < len(lines):
            line = lines[i].strip()
            if line == "=== 分页 ===" or Q_LINE.match(line):
                break
            if not line:
                if q["type"].startswith("矩阵"):
                    i += 1
                    continue
                break
            q["body"].append(line)
            i += 1
        if q["type"].startswith("矩阵"):
            part, q["rows"], q["columns"] = None, [], []
            for line in q["body"]:
                if line in ("行：", "列："):
                    part = "rows" if line == "行：" else "columns"
                elif line.startswith("- ") and part:
                    q[part].append(line[2:].strip())
        else:
            q["options"] = [OPTION_PREFIX.sub("", b) for b in q["body"]]
        questions.append(q)
    return title, questions


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_import_text_parses_into_the_instrument(inst, lang):
    title, qs = parse(wjx_import_text(inst, lang))
    assert title == inst.raw["title"][lang]
    assert [q["n"] for q in qs] == list(range(1, len(qs) + 1))
    matrices = [q for q in qs if q["type"] == "矩阵量表题"]
    labels = [lab[lang] for lab in inst.raw["likert"]["labels"]]
    assert all(q["columns"] == labels for q in matrices)
    rows = [r for q in matrices for r in q["rows"]]
    items = [getattr(inst.items[i], lang) for i in inst.factor_item_ids + inst.performance_item_ids]
    extra = {inst.raw["attention_check"][lang], inst.raw["marker"][lang]}
    assert [r for r in rows if r not in extra] == items
    assert rows.count(inst.raw["marker"][lang]) == 1
    assert rows.count(inst.raw["attention_check"][lang]) == 1
    for f in inst.fields:
        if f.kind == "category" and not f.derived:  # size class is derived, not asked
            q = next(q for q in qs if q["title"] == getattr(f, lang))
            assert q["type"] == "单选题" and q["options"] == [lv[lang] for lv in f.levels]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_download_of_the_fielded_text_maps_to_every_column(inst, lang):
    # the headers 问卷星 writes for these questions: N、title for a question, N(row) for a matrix row
    _, qs = parse(wjx_import_text(inst, lang))
    headers = []
    for q in qs:
        if q["type"] == "矩阵量表题":
            headers += [f"{q['n']}({row})" for row in q["rows"]]
        else:
            headers.append(f"{q['n']}、{q['title']}")
    mapped = set(_wjx_columns(headers, inst).values())
    wanted = set(inst.likert_ids) | {f.id for f in inst.fields if not f.derived} - {"respondent_id", "duration_s"}
    channels = {o["field"] for ms in inst.multi_selects for o in ms["options"]}
    assert wanted - channels <= mapped
    # a multi-select question is one column, split into its option fields after mapping
    assert all(f"_multi:{ms['id']}" in mapped for ms in inst.multi_selects)


def test_brackets_in_a_wording_are_refused(inst, tmp_path):
    import yaml

    raw = yaml.safe_load(inst.path.read_text(encoding="utf-8"))
    raw["factors"][0]["subdimensions"][0]["items"][0]["zh"] = "我们[经常]分析需求。"
    path = tmp_path / "bracket.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    from cbec.io.instrument import load_instrument

    with pytest.raises(ValueError, match="brackets"):
        wjx_import_text(load_instrument(path))

    # The book is built all the same: the import text is left out and the downloads page says why (#25: a
    # bracket in a label used to fail the build after every chapter had run).
    from cbec.book.generated import downloads_page
    from cbec.io.fielding import wjx_import_problem

    problem = wjx_import_problem(load_instrument(path))
    assert "我们[经常]分析需求" in problem and wjx_import_problem(inst) is None
    page = downloads_page({}, article=False, wjx_problem=problem)
    assert "No 问卷星 import text is offered" in page and r"\[经常\]" in page  # shown as text, not markup
