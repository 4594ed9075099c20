"""Build survey exports of each supported format from one tidy table, the way each tool writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cbec.io.instrument import Instrument


def _labels(inst: Instrument, lang: str) -> dict[int, str]:
    return {int(lab["value"]): lab[lang] for lab in inst.raw["likert"]["labels"]}


def _level_label(inst: Instrument, field_id: str, value, lang: str):
    if pd.isna(value):
        return None
    for lv in inst.field(field_id).levels:
        if str(lv["value"]) == str(value):
            return lv[lang]
    return value


def _wjx_metadata(df: pd.DataFrame) -> pd.DataFrame:
    """The metadata columns 问卷星 puts before the answers."""
    return pd.DataFrame(
        {
            "序号": range(1, len(df) + 1),
            "提交答卷时间": "2026/11/20 10:00:00",
            "所用时间": [f"{int(v)}秒" for v in df["duration_s"]],
            "来源": "手机提交",
            "来源详情": "直接访问",
            "来自IP": [f"10.0.{i // 250}.{i % 250}(上海-上海)" for i in range(len(df))],
        }
    )


def wjx_table(df: pd.DataFrame, inst: Instrument, lang: str = "zh") -> pd.DataFrame:
    """问卷星 layout: metadata columns, ``N、question`` for profile fields, ``N(row text)`` for matrix rows,
    answers as option labels, durations as ``"523秒"``."""
    labels = _labels(inst, lang)
    out = _wjx_metadata(df)
    q = 1
    for f in inst.fields:
        if f.derived or f.id in ("respondent_id", "duration_s") or f.id not in df.columns:
            continue
        text = getattr(f, lang)
        col = df[f.id].map(lambda v, fid=f.id: _level_label(inst, fid, v, lang)) if f.kind == "category" else df[f.id]
        out[f"{q}、{text}"] = col.to_numpy()
        q += 1
    for code in [*inst.factor_codes, "PERF"]:
        ids = inst.factor_items[code] if code != "PERF" else inst.performance_item_ids
        for i in ids:
            out[f"{q}({getattr(inst.items[i], lang)})"] = (
                df[i].map(lambda v: labels.get(int(v)) if pd.notna(v) else None).to_numpy()
            )
        q += 1
    att = inst.raw["attention_check"]
    out[f"{q}({att[lang]})"] = (
        df[inst.attention_id].map(lambda v: labels.get(int(v)) if pd.notna(v) else None).to_numpy()
    )
    if inst.marker_id and inst.marker_id in df.columns:
        out[f"{q}({inst.raw['marker'][lang]})"] = (
            df[inst.marker_id].map(lambda v: labels.get(int(v)) if pd.notna(v) else None).to_numpy()
        )
    return out


def write_wjx_csv(df, inst, path: Path, encoding: str = "gbk") -> Path:
    wjx_table(df, inst).to_csv(path, index=False, encoding=encoding)
    return path


def write_wjx_xlsx(df, inst, path: Path) -> Path:
    wjx_table(df, inst).to_excel(path, index=False, engine="openpyxl")
    return path


def write_qualtrics_csv(df, inst, path: Path) -> Path:
    """Qualtrics layout: default export tags (Q1, Q5_1 ...), question text row, ImportId row,
    answers as scores for the matrix rows and choice text for the profile."""
    tags, texts, imports, cols = [], [], [], []
    meta = {
        "ResponseId": df["respondent_id"],
        "Duration (in seconds)": df["duration_s"],
        "IPAddress": [f"10.1.0.{i % 250}" for i in range(len(df))],
    }
    for k, v in meta.items():
        (
            tags.append(k),
            texts.append(k),
            imports.append(json.dumps({"ImportId": k})),
            cols.append(pd.Series(v).to_numpy()),
        )
    q = 1
    for f in inst.fields:
        if f.derived or f.id in ("respondent_id", "duration_s") or f.id not in df.columns:
            continue
        tag = f"Q{q}"
        col = df[f.id].map(lambda v, fid=f.id: _level_label(inst, fid, v, "en")) if f.kind == "category" else df[f.id]
        (
            tags.append(tag),
            texts.append(f.en),
            imports.append(json.dumps({"ImportId": f"QID{q}"})),
            cols.append(col.to_numpy()),
        )
        q += 1
    for code in [*inst.factor_codes, "PERF"]:
        ids = inst.factor_items[code] if code != "PERF" else inst.performance_item_ids
        for j, i in enumerate(ids, start=1):
            tags.append(f"Q{q}_{j}")
            texts.append(f"How far do you agree? - {inst.items[i].en}")
            imports.append(json.dumps({"ImportId": f"QID{q}_{j}"}))
            cols.append(df[i].to_numpy())
        q += 1
    att = inst.raw["attention_check"]
    tags.append(f"Q{q}"), texts.append(att["en"]), imports.append(json.dumps({"ImportId": f"QID{q}"}))
    cols.append(df[inst.attention_id].to_numpy())
    if inst.marker_id and inst.marker_id in df.columns:
        q += 1
        (
            tags.append(f"Q{q}"),
            texts.append(inst.raw["marker"]["en"]),
            imports.append(json.dumps({"ImportId": f"QID{q}"})),
        )
        cols.append(df[inst.marker_id].to_numpy())
    body = pd.DataFrame(dict(zip(tags, cols, strict=False)))
    head = pd.DataFrame([texts, imports], columns=tags)
    pd.concat([head, body.astype(object)], ignore_index=True).to_csv(path, index=False)
    return path


def write_stat_file(df, inst, path: Path) -> Path:
    """SPSS .sav or Stata .dta: our ids as variable names, category fields as numeric codes with value
    labels, Likert items as scores with their (Chinese) value labels."""
    import pyreadstat

    out = df.copy()
    value_labels: dict[str, dict] = {}
    for f in inst.fields:
        if f.kind == "category" and f.id in out.columns:
            codes = {str(lv["value"]): k for k, lv in enumerate(f.levels, start=1)}
            out[f.id] = out[f.id].map(lambda v, c=codes: c.get(str(v)) if pd.notna(v) else None).astype("float")
            value_labels[f.id] = {k: lv["en"] for k, lv in enumerate(f.levels, start=1)}
    for i in inst.likert_ids:
        out[i] = out[i].astype("float")
        value_labels[i] = {float(k): v for k, v in _labels(inst, "zh").items()}
    if path.suffix == ".sav":
        pyreadstat.write_sav(out, str(path), variable_value_labels=value_labels)
    else:
        pyreadstat.write_dta(out, str(path), variable_value_labels=value_labels)
    return path


# -- 问卷星 downloads as a researcher gets them -----------------------------------------------------
# No 问卷星 help page describing its download files is in the stored corpora (searched: docs, pages,
# code); the quirks below are those recorded in issue 11 from real downloads of a questionnaire built
# from instrument.yaml: (跳过)/(空) and -3/-2 for missing answers, 〖…〗 fill-ins, ┋ multi-selects or 0/1
# option columns, 第N题(row) headers in 按选项序号 downloads, N：/N: headers, numbers as typed.

_TYPED_UNITS = {"persons": "人", "years": "年", "days": "天", "percent": "%"}


def _typed(value, unit: str | None, k: int):
    """A number as a respondent might type it (rotating over the forms people use)."""
    if pd.isna(value):
        return "(空)"
    v = float(value)
    if unit == "cny_million":
        return f"{round(v * 100, 6):g}万" if k % 2 else f"{v:g}"
    if unit == "seconds":
        return f"{int(v)}秒"
    text = f"{int(v):,}" if v.is_integer() and abs(v) >= 1000 else f"{v:g}"
    form = k % 4
    if form == 1 and unit in _TYPED_UNITS:
        return text + _TYPED_UNITS[unit]
    if form == 2:
        return text.translate(str.maketrans("0123456789.-", "０１２３４５６７８９．－"))
    if form == 3 and unit in ("days", "years"):
        return "约" + text + _TYPED_UNITS[unit]
    return text


def wjx_download(df: pd.DataFrame, inst: Instrument, mode: str = "text") -> pd.DataFrame:
    """A 问卷星 download of ``df``: ``mode="text"`` (按选项文本) or ``"number"`` (按选项序号)."""
    labels = _labels(inst, "zh")
    number = mode == "number"
    out = _wjx_metadata(df)
    channel_fields = [o["field"] for o in inst.multi_selects[0]["options"]]
    q = 1
    for f in inst.fields:
        if f.derived or f.id in ("respondent_id", "duration_s") or f.id not in df.columns:
            continue
        if f.id in channel_fields:
            continue
        sep = "：" if q % 3 == 0 else ("、" if q % 3 == 1 else ":")
        head = f"{q}{sep}{f.zh}"
        if f.kind == "category":
            codes = {str(lv["value"]): k for k, lv in enumerate(f.levels, start=1)}

            def cell(v, f=f, codes=codes):
                if pd.isna(v):
                    return "-3" if number else "(跳过)"
                if number:
                    return str(codes[str(v)])
                lab = _level_label(inst, f.id, v, "zh")
                if v == "other_emerging":  # the option carries a fill-in box
                    return lab.split("（")[0] + "〖俄罗斯〗"
                return lab

            out[head] = df[f.id].map(cell).to_numpy()
        else:
            out[head] = [_typed(v, f.unit, k) for k, v in enumerate(df[f.id])]
        q += 1
        if f.id == "main_market":  # the multi-select follows the market question
            ms = inst.multi_selects[0]
            if number:
                for o in ms["options"]:  # an option the data do not have (其他) was chosen by nobody
                    chosen = df[o["field"]] if o["field"] in df.columns else pd.Series(0, index=df.index)
                    out[f"第{q}题({o['zh']})"] = chosen.astype(int).astype(str).to_numpy()
            else:
                out[f"{q}、{ms['zh']}"] = [
                    "┋".join(o["zh"] for o in ms["options"] if int(row.get(o["field"], 0)) == 1) or "(空)"
                    for _, row in df.iterrows()
                ]
            q += 1
    for code in [*inst.factor_codes, "PERF"]:
        ids = inst.factor_items[code] if code != "PERF" else inst.performance_item_ids
        for j, i in enumerate(ids):
            head = f"第{q}题({inst.items[i].zh})" if number else f"{q}({inst.items[i].zh})"
            skipped = ("-3", "-2")[j % 2] if number else ("(跳过)", "(空)")[j % 2]
            out[head] = (
                df[i]
                .map(lambda v, s=skipped: s if pd.isna(v) else (str(int(v)) if number else labels[int(v)]))
                .to_numpy()
            )
        q += 1
    att = inst.raw["attention_check"]
    head = f"第{q}题({att['zh']})" if number else f"{q}({att['zh']})"
    out[head] = (
        df[inst.attention_id]
        .map(lambda v: "-3" if pd.isna(v) else (str(int(v)) if number else labels[int(v)]))
        .to_numpy()
    )
    if inst.marker_id and inst.marker_id in df.columns:
        mk = inst.raw["marker"]["zh"]
        out[f"第{q}题({mk})" if number else f"{q}({mk})"] = (
            df[inst.marker_id]
            .map(lambda v: "(跳过)" if pd.isna(v) else (str(int(v)) if number else labels[int(v)]))
            .to_numpy()
        )
    return out
