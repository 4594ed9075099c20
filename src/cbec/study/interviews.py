"""Interview transcripts: read, pseudonymise, segment, code against the codebook, summarise.

A transcript is a Markdown or text file with a YAML front-matter block and speaker turns (``Q:``/``A:``,
``问:``/``答:`` or ``采访者:``/``受访者:``, either colon). Files that cannot be used are skipped with a reason,
never dropped silently. Everything that leaves this module has been pseudonymised: the people and companies
named in the front matter, e-mail addresses, URLs, IP addresses and phone numbers are replaced by stable
placeholders before any text reaches a table or the book.

Coding is dictionary-based: a segment (one answer turn) gets a sub-dimension code when one of the codebook's
terms occurs in it. Chinese is segmented with jieba after adding the codebook's domain dictionary, so terms
such as 海外仓 or 小单快反 are matched as whole tokens; English terms match as whole words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cbec.io.user_yaml import load_user_yaml
from cbec.study import coder

#: In a transcripts folder, a hand-coded sample for the agreement check (see data/interviews/README.md).
GOLD_CODING = "coding_gold.csv"
#: A file of this name in a transcripts folder marks its transcripts as written for illustration.
ILLUSTRATIVE_MARK = "ILLUSTRATIVE"
#: English translations of quotes, by segment id, beside the transcripts.
TRANSLATIONS = "translations.csv"
REQUIRED_META = ("firm", "language")
#: Front-matter keys a transcript may give (the article's book compares size classes; a study need not).
OPTIONAL_META = ("size_class", "main_market")
SIZE_CLASSES = ("large", "sme")
INTERVIEWER = ("Q", "问", "采访者")
RESPONDENT = ("A", "答", "受访者")
_TURN = re.compile(r"^\s*(Q|A|问|答|采访者|受访者)\s*[:：]\s*(.*)$")
# Boundaries are ASCII-only on purpose: in Python's regexes CJK characters are word characters, so with \b or
# \w an address glued to Chinese text (电话138-..., 邮箱a@b.cn) would be missed or would swallow the Chinese.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+", re.IGNORECASE)
_IP = re.compile(r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9])")
_PHONE = re.compile(r"(?<![A-Za-z0-9+])\+?\d[\d \-()]{6,}\d(?![A-Za-z0-9])")
_HONORIFICS = ("总", "老板", "经理", "先生", "女士", "老师", "姐", "哥")


@dataclass
class Corpus:
    """Pseudonymised answer segments, the files read and the files skipped (with reasons)."""

    segments: pd.DataFrame
    files: pd.DataFrame
    skipped: pd.DataFrame
    placeholders: dict[str, str] = field(default_factory=dict, repr=False)


def _name_variants(name: str) -> list[str]:
    """Forms in which a person is mentioned: full name; for Chinese names surname + honorific and given
    name; for Latin names first and last name."""
    name = name.strip()
    out = [name]
    if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name):
        out += [name[0] + h for h in _HONORIFICS]
        if len(name) >= 3:
            out.append(name[1:])
    else:
        parts = name.split()
        out += [p for p in parts if len(p) >= 3]
    return out


class Pseudonymiser:
    """Replace identifying strings with placeholders that stay the same across the whole corpus."""

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self._counts = {"PERSON": 0, "COMPANY": 0}

    def _placeholder(self, kind: str, key: str) -> str:
        if key not in self.mapping:
            self._counts[kind] += 1
            self.mapping[key] = f"[{kind}-{self._counts[kind]}]"
        return self.mapping[key]

    def register(self, names: list[str], companies: list[str]) -> None:
        for c in companies:
            self._placeholder("COMPANY", f"company:{c.strip()}")
        for n in names:
            self._placeholder("PERSON", f"person:{n.strip()}")

    def apply(self, text: str, names: list[str], companies: list[str]) -> str:
        # Structured identifiers first, so that digits in them are not read as phone numbers.
        text = _EMAIL.sub("[EMAIL]", text)
        text = _URL.sub("[URL]", text)
        text = _IP.sub("[IP]", text)
        text = _PHONE.sub("[PHONE]", text)
        for c in sorted(companies, key=len, reverse=True):
            text = text.replace(c.strip(), self.mapping[f"company:{c.strip()}"])
        pairs = [(v, self.mapping[f"person:{n.strip()}"]) for n in names for v in _name_variants(n)]
        for variant, ph in sorted(pairs, key=lambda p: len(p[0]), reverse=True):
            if re.fullmatch(r"[A-Za-z .'-]+", variant):
                text = re.sub(rf"\b{re.escape(variant)}\b", ph, text)
            else:
                text = text.replace(variant, ph)
        return text


def _split_front_matter(text: str) -> tuple[dict | None, str, str]:
    """Return (metadata, body, problem)."""
    if not text.lstrip().startswith("---"):
        return None, text, "no front matter (the file must start with a '---' YAML block)"
    parts = text.lstrip().split("---", 2)
    if len(parts) < 3:
        return None, text, "front matter is not closed by a second '---' line"
    try:
        meta = load_user_yaml(parts[1]) or {}
    except yaml.YAMLError as exc:
        return None, text, f"front matter is not valid YAML ({exc.__class__.__name__})"
    if not isinstance(meta, dict):
        return None, text, "front matter is not a key: value block"
    return meta, parts[2], ""


#: A transcript larger than this is skipped with a reason (an hour's interview is about 50 KB).
MAX_TRANSCRIPT_BYTES = 5 * 2**20


def _turns(body: str) -> list[tuple[int, str, str]]:
    """(turn number, interviewer | respondent, text) of each turn; continuation lines join their turn."""
    out: list[tuple[int, str, str]] = []
    turn, speaker, buf = 0, None, []
    for line in [*body.splitlines(), None]:
        m = _TURN.match(line) if line is not None else None
        if (m or line is None) and speaker is not None and buf:
            out.append((turn, speaker, " ".join(buf).strip()))
        if m:
            turn += 1
            speaker = "interviewer" if m.group(1) in INTERVIEWER else "respondent"
            buf = [m.group(2)]
        elif line is not None and line.strip() and speaker is not None:
            buf.append(line.strip())
    return out


def read_transcripts(folder: str | Path) -> Corpus:
    """Read every ``*.md``/``*.txt`` transcript in ``folder`` (README files excepted).

    Returns
    -------
    Corpus
        ``segments``: one row per answer turn, pseudonymised (``file, firm, size_class, main_market, language,
        turn, speaker, text``); ``files``: one row per file read; ``skipped``: ``file, reason``.
    """
    folder = Path(folder)
    paths = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in (".md", ".txt") and not p.name.lower().startswith("readme")
    )
    pseudo = Pseudonymiser()
    good: list[tuple[Path, dict, str]] = []
    skipped = []
    root = folder.resolve()
    for p in paths:
        read = _read_transcript(p, root)
        if isinstance(read, str):
            skipped.append({"file": p.name, "reason": read})
            continue
        meta, body = read
        pseudo.register(*_identities(meta))
        good.append((p, meta, body))
    # every file's names are registered before any text is replaced, so a firm named in another file's
    # front matter is caught too
    rows, files = _corpus_rows(good, pseudo)
    seg = pd.DataFrame(
        rows, columns=["file", "firm", "size_class", "main_market", "language", "turn", "speaker", "text"]
    )
    seg.insert(0, "segment_id", [f"{f.split('.')[0]}#{t}" for f, t in zip(seg["file"], seg["turn"], strict=False)])
    return Corpus(
        segments=seg,
        files=pd.DataFrame(files),
        skipped=pd.DataFrame(skipped, columns=["file", "reason"]),
        placeholders=dict(pseudo.mapping),
    )


def _identities(meta: dict) -> tuple[list[str], list[str]]:
    """The people's and companies' names a transcript's front matter lists for pseudonymisation."""
    return [str(n) for n in meta.get("names") or []], [str(c) for c in meta.get("companies") or []]


def _read_transcript(p: Path, root: Path) -> tuple[dict, str] | str:
    """A transcript's front matter and body, or the reason it is skipped."""
    # Transcripts are untrusted files: a link out of the folder is not followed, a huge file not read, and
    # only regular files are opened (a FIFO would hang the run, a directory named *.md abort it).
    if not p.resolve().is_relative_to(root):
        return "a link to a file outside the transcripts folder"
    if not p.is_file():
        return "not a regular file"
    if p.stat().st_nlink > 1:
        return "a hard link (it may be a file outside the folder)"
    if p.stat().st_size > MAX_TRANSCRIPT_BYTES:
        return f"larger than {MAX_TRANSCRIPT_BYTES // 2**20} MiB"
    raw = p.read_bytes()
    if not raw.strip():
        return "empty file"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            return "cannot decode as UTF-8 or GB18030"
    meta, body, problem = _split_front_matter(text)
    if problem or meta is None:
        return problem or "no front matter"
    missing = [k for k in REQUIRED_META if not str(meta.get(k, "")).strip()]
    if missing:
        return f"front matter lacks {', '.join(missing)}"
    for k in OPTIONAL_META:
        meta[k] = str(meta.get(k) or "").strip()
    if meta["size_class"] and meta["size_class"] not in SIZE_CLASSES:
        return f"unknown size_class {meta['size_class']!r} (use large or sme)"
    if not any(_TURN.match(line) for line in body.splitlines()):
        return "no speaker turns (Q:/A:, 问:/答:, 采访者:/受访者:)"
    return meta, body


def _corpus_rows(good: list[tuple[Path, dict, str]], pseudo: Pseudonymiser) -> tuple[list[dict], list[dict]]:
    """One row per answer turn (pseudonymised) and one per file."""
    rows, files = [], []
    for p, meta, body in good:
        names, companies = _identities(meta)
        about = {k: str(meta[k]) for k in ("firm", "size_class", "main_market", "language")}
        turns = _turns(body)
        for turn, speaker, text in turns:
            rows.append(
                {"file": p.name, **about, "turn": turn, "speaker": speaker,
                 "text": pseudo.apply(text, names, companies)}
            )  # fmt: skip
        files.append(
            {"file": p.name, **about, "role": str(meta.get("role", "")), "date": str(meta.get("date", "")),
             "turns": turns[-1][0] if turns else 0}
        )  # fmt: skip
    return rows, files


# --- coding ---------------------------------------------------------------------------------------
# The coders themselves live in cbec.study.coder; this module turns their output into the tidy tables the
# chapter shows.

Codebook = coder.Codebook
load_codebook = coder.load_codebook
CODEBOOK_YAML = coder.CODEBOOK_YAML

_TIDY = ["segment_id", "file", "firm", "size_class", "speaker", "text", "factor", "subdimension", "matched_terms"]


def _shipped_factor_codes() -> tuple[str, ...]:
    return coder._shipped_factor_codes()


def code_segments(segments: pd.DataFrame, codebook: Codebook, speaker: str = "respondent") -> pd.DataFrame:
    """Keyword codes, tidy: one row per (segment, sub-dimension) match with the matched terms.

    Chinese terms match a jieba token (every Chinese codebook term is in the tokeniser's dictionary, so it is
    one token); English terms and Latin-script terms in Chinese lists (ERP, VAT) match as whole words,
    case-insensitive; ``regex`` entries are searched as given.
    """
    answers = segments[segments["speaker"] == speaker]
    kw = coder.KeywordCoder(codebook)
    docs = coder.docs_from_texts(answers["text"], coder.Tokeniser(codebook))
    rows = []
    for r, doc in zip(answers.itertuples(index=False), docs, strict=True):
        for sd, hits in kw.hits(doc).items():
            rows.append(
                {
                    "segment_id": r.segment_id,
                    "file": r.file,
                    "firm": r.firm,
                    "size_class": r.size_class,
                    "speaker": r.speaker,
                    "text": r.text,
                    "factor": codebook.factor_of(sd),
                    "subdimension": sd,
                    "matched_terms": "; ".join(hits),
                }
            )
    return pd.DataFrame(rows, columns=_TIDY)


def hybrid_codes(
    segments: pd.DataFrame, hybrid: coder.HybridCoder, speaker: str = "respondent"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The hybrid coder's codes, tidy like :func:`code_segments` (one row per segment and present factor; the
    matched terms, or the classifier's probability when no term of the factor occurs); per segment its
    ``primary`` factor ("" when uncoded); and the keyword codes alone (:func:`code_segments`), which the
    combined codes are built from and the agreement between the two coders needs."""
    answers = segments[segments["speaker"] == speaker].reset_index(drop=True)
    res = hybrid.code_texts(answers["text"])
    kw = code_segments(answers, hybrid.codebook, speaker)
    terms = kw.groupby(["segment_id", "factor"]).agg(
        subdimension=("subdimension", "; ".join), matched_terms=("matched_terms", "; ".join)
    )
    rows = []
    for i, r in enumerate(answers.itertuples(index=False)):
        for f in filter(None, res.at[i, "present"].split(";")):
            if (r.segment_id, f) in terms.index:
                sd, why = terms.loc[(r.segment_id, f)]
            else:
                sd, why = "", f"(classifier, p = {res.at[i, f'p_{f}']:.2f})"
            rows.append([r.segment_id, r.file, r.firm, r.size_class, r.speaker, r.text, f, sd, why])
    primary = pd.DataFrame({"segment_id": answers["segment_id"], "primary": res["primary"]})
    return pd.DataFrame(rows, columns=_TIDY), primary, kw


def presence_matrix(coded: pd.DataFrame, segment_ids, factors=None) -> pd.DataFrame:
    """0/1 matrix: segments x factors (a factor is present if any of its sub-dimensions is coded).

    ``factors`` defaults to the shipped codebook's factor codes."""
    factors = list(factors or _shipped_factor_codes())
    m = pd.DataFrame(0, index=pd.Index(list(segment_ids), name="segment_id"), columns=factors)
    for r in coded[["segment_id", "factor"]].drop_duplicates().itertuples(index=False):
        if r.segment_id in m.index:
            m.loc[r.segment_id, r.factor] = 1
    return m


def salience(coded: pd.DataFrame, segments: pd.DataFrame, by: str = "firm", factors=None) -> pd.DataFrame:
    """Share of a unit's answer segments that mention each factor (rows: firms or size groups; columns:
    ``factors``, by default the shipped codebook's)."""
    factors = list(factors or _shipped_factor_codes())
    answers = segments[segments["speaker"] == "respondent"]
    pres = presence_matrix(coded, answers["segment_id"], factors).join(answers.set_index("segment_id")[[by]])
    return pres.groupby(by)[factors].mean()


def cooccurrence(coded: pd.DataFrame, segments: pd.DataFrame, factors=None) -> pd.DataFrame:
    """Number of answer segments in which two factors are both coded (diagonal: segments per factor)."""
    answers = segments[segments["speaker"] == "respondent"]
    pres = presence_matrix(coded, answers["segment_id"], factors)
    return pres.T @ pres


def cooccurrence_pairs(co: pd.DataFrame) -> pd.DataFrame:
    """Every pair of a co-occurrence matrix with counts and the Jaccard index, most frequent first."""
    rows = []
    for a, b in combinations(co.index, 2):
        both = co.loc[a, b]
        either = co.loc[a, a] + co.loc[b, b] - both
        rows.append(
            {
                "factor_a": a,
                "factor_b": b,
                "segments_together": int(both),
                "jaccard": float(both / either) if either else 0.0,
            }
        )
    return pd.DataFrame(rows).sort_values(["segments_together", "jaccard"], ascending=False).reset_index(drop=True)


def exemplar_quotes(
    coded: pd.DataFrame, per_factor: int = 2, max_chars: int = 220, files: pd.DataFrame | None = None
) -> pd.DataFrame:
    """For each factor, the segments with the most distinct matched terms (ties: shorter first); then, for any
    firm not yet quoted, its own best segment, so that every firm is heard. With ``files`` (the corpus's file
    table) each quote carries the firm's size class and the respondent's role."""
    c = coded.copy()
    c["n_terms"] = c["matched_terms"].str.count(";") + 1
    c["length"] = c["text"].str.len()
    ranked = (
        c.groupby(["factor", "segment_id"], as_index=False)
        .agg(
            n_terms=("n_terms", "sum"),
            length=("length", "first"),
            firm=("firm", "first"),
            text=("text", "first"),
            file=("file", "first"),
        )
        .sort_values(["factor", "n_terms", "length"], ascending=[True, False, True])
    )
    best = ranked.groupby("factor").head(per_factor)
    missing = [f for f in ranked["firm"].unique() if f not in set(best["firm"])]
    extra = (
        ranked[ranked["firm"].isin(missing) & ~ranked["segment_id"].isin(best["segment_id"])]
        .sort_values(["n_terms", "length"], ascending=[False, True])
        .groupby("firm")
        .head(1)
    )
    best = pd.concat([best, extra], ignore_index=True)
    best["quote"] = [t if len(t) <= max_chars else t[:max_chars].rstrip() + "…" for t in best["text"]]
    if files is not None:
        meta = files.set_index("file")[["size_class", "role"]]
        best = best.join(meta, on="file")
    cols = ["factor", "firm", "segment_id", "quote"] + (["size_class", "role"] if files is not None else [])
    return best[cols].reset_index(drop=True)


def attach_translations(quotes: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """Add the English translation of each quote from ``translations.csv`` beside the transcripts (columns
    ``segment_id, en``: written by people, never machine-translated at build time); an English quote is its own
    translation, a Chinese one without a row gets none (and the chapter says so)."""
    path = Path(folder) / TRANSLATIONS
    table = (
        pd.read_csv(path, dtype=str, keep_default_na=False)
        if path.exists()
        else pd.DataFrame(columns=["segment_id", "en"])
    )
    en = dict(zip(table["segment_id"], table["en"], strict=True))
    latin = quotes["quote"].str.fullmatch(r"[\x00-\x7f\u2018-\u201d…–—\[\]]*")
    out = quotes.copy()
    out["translation"] = ["" if is_en else en.get(sid, "") for sid, is_en in zip(out["segment_id"], latin, strict=True)]
    return out


# --- agreement ------------------------------------------------------------------------------------


def read_coding(path: str | Path) -> pd.DataFrame:
    """A hand-coded file: columns ``segment_id`` and ``factors`` (codes separated by ';', empty = none)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"segment_id", "factors"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: coding file needs columns segment_id and factors (missing {sorted(missing)})")
    return df


def coding_to_matrix(coding: pd.DataFrame, factors=None) -> pd.DataFrame:
    """A hand-coded file as a 0/1 segments x factors matrix (``factors``: the shipped codebook's codes)."""
    factors = list(factors or _shipped_factor_codes())
    m = pd.DataFrame(0, index=pd.Index(coding["segment_id"], name="segment_id"), columns=factors)
    for sid, codes in zip(coding["segment_id"], coding["factors"], strict=False):
        for c in filter(None, (x.strip() for x in codes.split(";"))):
            if c not in m.columns:
                raise ValueError(f"segment {sid}: unknown factor code {c!r}")
            m.loc[sid, c] = 1
    return m


def _kappa(x: np.ndarray, y: np.ndarray) -> float:
    """scikit-learn's Cohen's kappa, with the cases it leaves undefined made explicit: no decision coded by
    either coder is NaN; both coders constant is 1 when they agree throughout and NaN otherwise."""
    from sklearn.metrics import cohen_kappa_score

    if len(x) == 0 or x.sum() + y.sum() == 0:
        return np.nan
    if len(set(x)) == 1 and len(set(y)) == 1:
        return 1.0 if (x == y).all() else np.nan
    return float(cohen_kappa_score(x, y, labels=[0, 1]))


def kappa_table(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Cohen's kappa between two 0/1 segment x factor matrices: per factor and pooled over all decisions.

    Uses scikit-learn's ``cohen_kappa_score``. Segments present in only one matrix are ignored; a factor
    that neither coder ever uses has undefined kappa (NaN).
    """
    common = a.index.intersection(b.index)
    a, b = a.loc[common], b.loc[common]
    rows = []
    for f in a.columns.intersection(b.columns):
        x, y = a[f].to_numpy(), b[f].to_numpy()
        rows.append(
            {"factor": f, "kappa": _kappa(x, y), "agreement": float((x == y).mean()), "n_a": int(x.sum()),
             "n_b": int(y.sum())}
        )  # fmt: skip
    xa, xb = a.to_numpy().ravel(), b.to_numpy().ravel()
    rows.append(
        {
            "factor": "pooled",
            "kappa": _kappa(xa, xb),
            "agreement": float((xa == xb).mean()),
            "n_a": int(xa.sum()),
            "n_b": int(xb.sum()),
        }
    )
    out = pd.DataFrame(rows)
    out.attrs["segments"] = len(common)
    return out


def joint_display(survey_effects: pd.DataFrame, interview_salience: pd.Series) -> pd.DataFrame:
    """Per factor: the survey's main effect and the interviews' salience side by side, with a stated reading.

    ``survey_effects`` has ``term, estimate, p_value`` (standardised main effects); salience is the share of
    answer segments mentioning the factor. Ranks are compared over the factors both sources cover: a factor in
    the top three (of seven; in proportion for fewer) of both is "agreement (both strong)", in the bottom three
    of both "agreement (both weak)", in the top of one and the bottom of the other "tension", otherwise
    "mixed".
    """
    # Only factors both sources cover (a user's questionnaire may keep fewer than the codebook's seven).
    factors = [f for f in survey_effects["term"] if f in interview_salience.index]
    s = survey_effects.set_index("term")[["estimate", "p_value"]].reindex(factors)
    df = pd.DataFrame(
        {
            "survey_effect": s["estimate"],
            "survey_p": s["p_value"],
            "interview_salience": interview_salience.reindex(factors),
        }
    )
    df["survey_rank"] = df["survey_effect"].rank(ascending=False, method="min").astype(int)
    df["interview_rank"] = df["interview_salience"].rank(ascending=False, method="min").astype(int)
    n = len(df)
    top = round(3 * n / 7)  # the top three and bottom three of seven, in proportion for fewer factors

    def reading(r):
        top_s, top_i = r.survey_rank <= top, r.interview_rank <= top
        low_s, low_i = r.survey_rank > n - top, r.interview_rank > n - top
        if top_s and top_i:
            return "agreement (both strong)"
        if low_s and low_i:
            return "agreement (both weak)"
        if (top_s and low_i) or (low_s and top_i):
            return "tension"
        return "mixed"

    df["reading"] = [reading(r) for r in df.itertuples()]
    return df.reset_index(names="factor")
