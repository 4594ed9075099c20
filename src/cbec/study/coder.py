"""The interview coder: a transparent keyword codebook and a learned classifier, combined.

A document (an answer turn, a paragraph) is read as a bag of tokens: Chinese segmented by jieba with the
codebook's words added to its dictionary, Latin-script words lower-cased. Two coders read the bag:

* :class:`KeywordCoder` — a factor is coded when one of its codebook terms is among the tokens (a Latin phrase
  such as *supply chain* is matched as a phrase in the text when the text is at hand). Every code can be
  traced to the word that triggered it.
* :class:`LearnedCoder` — a multinomial logistic regression (scikit-learn) over TF-IDF weights of the tokens and
  of the characters and character pairs inside Chinese tokens, trained on the codebook's own terms and
  examples and, for the shipped codebook, on labelled paragraphs of real text (:func:`realtext_set`). The
  character features let it generalise from 退货 to 退货率 and from 物流 to 物流商, which the keyword list cannot.

:class:`HybridCoder` joins them, by rules fixed on the development sources of the real-text set before the
held-out sources were scored (``resources/README_realtext.md``):

* **present** — a factor is present in a document when a codebook term of it occurs, or when the classifier
  gives it a probability of at least ``present_at`` (0.35);
* **primary** — the factor with the largest score ``p_f + keyword_weight * share_f``, where ``p_f`` is the
  classifier's probability and ``share_f`` the factor's share of the document's keyword hits: the classifier
  decides, the words it can point to tip close calls. Measured on the development sources with the codebook as
  shipped (weights 0, .25, .5, 1: accuracy .945, .955, .964, .964), so the weight is 0.5;
* **uncoded** — only when no codebook term occurs and no factor reaches ``coded_at`` (0.25), i.e. when nothing
  in the codebook's scope is there; a document with no word the classifier has seen gets no probability at all.

scikit-learn is already a dependency (factor_analyzer requires it); nothing is downloaded at run time.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cbec.io.codebook import CODEBOOK_YAML, Codebook, CodebookError, load_codebook
from cbec.resources import resource

__all__ = [
    "CODEBOOK_YAML",
    "Codebook",
    "CodebookError",
    "HybridCoder",
    "KeywordCoder",
    "LearnedCoder",
    "Tokeniser",
    "evaluate_by_source",
    "fit_coder",
    "load_codebook",
    "realtext_set",
]

#: Names of the real-text set's files among the package's resources (see resources/README_realtext.md).
REALTEXT_CSV = "realtext_paragraphs.csv"
REALTEXT_DICTIONARY = "realtext_dictionary.txt"
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff]", re.IGNORECASE)
_NOISE = re.compile(r"[0-9.,%]+|[a-z]", re.IGNORECASE)


# --- tokens -----------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _jieba_tokenizer(words: tuple[str, ...]):
    # A tokenizer of its own per dictionary: jieba's module-level one is shared by the whole process, and a
    # study's codebook must not change how another codebook's documents are cut.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        import jieba
    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    for w in words:
        tk.add_word(w, freq=200000)
    return tk


class Tokeniser:
    """Cuts text into the tokens both coders read; every Chinese codebook term is one token."""

    def __init__(self, codebook: Codebook) -> None:
        cjk_terms = [t for sd in codebook.terms.values() for t in sd["zh"] if _CJK.search(t)]
        self.dictionary = tuple(sorted(set(codebook.domain_dictionary) | set(cjk_terms)))

    def tokens(self, text: str) -> list[str]:
        tk = _jieba_tokenizer(self.dictionary)
        return [t for t in (w.strip().lower() for w in tk.lcut(str(text))) if t and _WORDLIKE.search(t)]


@dataclass
class Doc:
    """A document as the coders read it: its tokens, and its text when the text is at hand."""

    tokens: list[str]
    text: str | None = None

    @property
    def token_set(self) -> frozenset[str]:
        return frozenset(self.tokens)


def docs_from_texts(texts: Iterable[str], tokeniser: Tokeniser) -> list[Doc]:
    return [Doc(tokeniser.tokens(t), str(t)) for t in texts]


# --- keyword coder ----------------------------------------------------------------------------------------


def _latin_word(term: str) -> re.Pattern:
    """A Latin-script term as a whole word. Boundaries are ASCII letters and digits only: Python's ``\\b``
    counts CJK characters as word characters, so ``\\bERP\\b`` would miss the ERP in 一个ERP系统."""
    return re.compile(rf"(?<![a-z0-9-]){re.escape(term)}(?![a-z0-9-])")


@dataclass
class KeywordCoder:
    """Codes a document with every sub-dimension one of whose terms occurs in it."""

    codebook: Codebook

    def hits(self, doc: Doc) -> dict[str, list[str]]:
        """Sub-dimension -> the terms found (in codebook order, each once)."""
        toks, low = doc.token_set, doc.text.lower() if doc.text is not None else None
        out: dict[str, list[str]] = {}
        for sd, t in self.codebook.terms.items():
            found = [term for term in (*t["zh"], *t["en"]) if self._matches(term.lower(), toks, low)]
            if low is not None:
                found += [rx for rx in t["regex"] if re.search(rx, doc.text or "")]
            if found:
                out[sd] = list(dict.fromkeys(found))
        return out

    @staticmethod
    def _matches(term: str, toks: frozenset[str], low: str | None) -> bool:
        if _CJK.search(term):
            return term in toks
        if low is not None:
            return bool(_latin_word(term).search(low))
        # Without the text (a bag of tokens), a Latin phrase counts when all its words are there.
        return all(w in toks for w in term.split())

    def factor_hits(self, docs: Sequence[Doc]) -> pd.DataFrame:
        """Documents x factors: the number of distinct terms of each factor found."""
        m = np.zeros((len(docs), len(self.codebook.factor_codes)), dtype=int)
        col = {f: j for j, f in enumerate(self.codebook.factor_codes)}
        for i, d in enumerate(docs):
            for sd, terms in self.hits(d).items():
                m[i, col[self.codebook.factor_of(sd)]] += len(terms)
        return pd.DataFrame(m, columns=self.codebook.factor_codes)


# --- learned coder ----------------------------------------------------------------------------------------


def _features(tokens: Sequence[str]) -> list[str]:
    """Tokens, and the characters and character pairs inside Chinese tokens of two or more characters. Numbers
    and single Latin letters are left out, as are scikit-learn's English stop words: they carry no topic (a
    percentage, the s of *that's*, the *me* of *me-too*)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    out = [t for t in tokens if not _NOISE.fullmatch(t) and t not in ENGLISH_STOP_WORDS]
    for t in tokens:
        if len(t) >= 2 and _CJK.search(t):
            out += [f"c:{ch}" for ch in t] + [f"b:{t[i : i + 2]}" for i in range(len(t) - 1)]
    return out


@dataclass
class LearnedCoder:
    """Multinomial logistic regression on TF-IDF features of a document's tokens (scikit-learn).

    Solved by Newton-CG to a tolerance of 1e-6: the same L2-penalised model nearer its optimum in less time —
    probabilities within 2e-6 of a fit run to 1e-12 on the 445 training documents (1e-4 on the codebook's 304),
    where L-BFGS at scikit-learn's default tolerance stopped up to 0.006 (0.002) away and took about twice as
    long. The interview chapter fits 23 coders; the codes of the 141 real-text paragraphs are the same."""

    C: float = 4.0
    model: Any = None  # a fitted sklearn LogisticRegression
    vectorizer: Any = None  # a fitted sklearn TfidfVectorizer

    def fit(self, docs: Sequence[Doc], labels: Sequence[str], weights: Sequence[float] | None = None) -> LearnedCoder:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vectorizer = TfidfVectorizer(analyzer=_features, sublinear_tf=True, min_df=1)
        x = self.vectorizer.fit_transform([d.tokens for d in docs])
        self.model = LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced", solver="newton-cg", tol=1e-6)
        self.model.fit(x, list(labels), sample_weight=None if weights is None else np.asarray(weights, float))
        return self

    def proba(self, docs: Sequence[Doc]) -> pd.DataFrame:
        """Class probabilities; rows of documents with no word the coder has seen are NaN (a softmax of the
        intercepts alone would look like a preference where there is no evidence)."""
        x = self.vectorizer.transform([d.tokens for d in docs])
        p = pd.DataFrame(self.model.predict_proba(x), columns=list(self.model.classes_))
        p[np.asarray(x.getnnz(axis=1)) == 0] = np.nan
        return p


# --- training data ----------------------------------------------------------------------------------------


def realtext_set(path: str | Path | None = None) -> pd.DataFrame:
    """The committed real-text set: one row per labelled paragraph (``id, source, location, label, n_chars,
    sha256, tokens, publisher, split``); ``tokens`` is the sorted bag, space-separated. See its README."""
    df = pd.read_csv(path or resource(REALTEXT_CSV), dtype=str, keep_default_na=False)
    df["n_chars"] = df["n_chars"].astype(int)
    return df


def realtext_docs(df: pd.DataFrame) -> list[Doc]:
    return [Doc(t.split()) for t in df["tokens"]]


def codebook_training(codebook: Codebook, tokeniser: Tokeniser) -> tuple[list[Doc], list[str]]:
    """The codebook as training documents: every term alone, every sub-dimension's terms together, and the
    factor's example sentences."""
    docs, labels = [], []
    for sd, t in codebook.terms.items():
        f = codebook.factor_of(sd)
        words = [*t["zh"], *t["en"]]
        for w in words:
            docs.append(Doc(tokeniser.tokens(w)))
            labels.append(f)
        docs.append(Doc([tok for w in words for tok in tokeniser.tokens(w)]))
        labels.append(f)
    for f, sentences in codebook.examples.items():
        for s in sentences:
            docs.append(Doc(tokeniser.tokens(s), s))
            labels.append(f)
    return docs, labels


# --- the combined coder -----------------------------------------------------------------------------------


@dataclass
class HybridCoder:
    """Keyword codes and classifier probabilities, joined by the rules in the module docstring."""

    codebook: Codebook
    learned: LearnedCoder
    present_at: float = 0.35
    coded_at: float = 0.25
    keyword_weight: float = 0.5
    trained_on: str = ""

    @property
    def tokeniser(self) -> Tokeniser:
        return Tokeniser(self.codebook)

    def code(self, docs: Sequence[Doc]) -> pd.DataFrame:
        """Per document: ``primary`` (a factor code, or "" when uncoded), ``present`` (codes joined by ';'),
        and per factor its probability ``p_<F>`` and keyword hits ``k_<F>``."""
        factors = self.codebook.factor_codes
        if not len(docs):
            return pd.DataFrame(columns=["primary", "present"])
        kw = KeywordCoder(self.codebook).factor_hits(docs)[factors]
        p = self.learned.proba(docs).reindex(columns=factors, fill_value=0.0).fillna(0.0)
        share = kw.div(kw.sum(axis=1).replace(0, 1), axis=0)
        score = p + self.keyword_weight * share
        coded = (kw.sum(axis=1) > 0) | (p.max(axis=1) >= self.coded_at)
        primary = score.idxmax(axis=1).where(coded, "")
        present_m = (kw > 0) | (p >= self.present_at)
        present_m = present_m & coded.to_numpy()[:, None]
        for i, f in enumerate(primary):
            if f:
                present_m.iloc[i, factors.index(f)] = True
        out = pd.DataFrame(
            {"primary": primary, "present": [";".join(f for f in factors if r[f]) for _, r in present_m.iterrows()]}
        )
        return pd.concat([out, p.add_prefix("p_"), kw.add_prefix("k_")], axis=1)

    def code_texts(self, texts: Iterable[str]) -> pd.DataFrame:
        return self.code(docs_from_texts(texts, self.tokeniser))


def fit_coder(
    codebook: Codebook | None = None, realtext: pd.DataFrame | None = None, exclude_sources: Iterable[str] = ()
) -> HybridCoder:
    """Train the hybrid coder on the codebook and — when the codebook's factors are the real-text set's labels
    — on the real-text paragraphs outside ``exclude_sources``."""
    codebook = codebook or load_codebook()
    tok = Tokeniser(codebook)
    docs, labels = codebook_training(codebook, tok)
    used = []
    if realtext is None and set(codebook.factor_codes) == set(_shipped_factor_codes()):
        realtext = realtext_set()
    if realtext is not None and set(realtext["label"]) <= set(codebook.factor_codes):
        rt = realtext[~realtext["source"].isin(set(exclude_sources))]
        docs += realtext_docs(rt)
        labels += list(rt["label"])
        used = sorted(rt["source"].unique())
    learned = LearnedCoder().fit(docs, labels)
    trained = "codebook terms and examples" + (f" and {len(used)} real-text sources" if used else "")
    return HybridCoder(codebook, learned, trained_on=trained)


@lru_cache(maxsize=1)
def _shipped_factor_codes() -> tuple[str, ...]:
    return tuple(load_codebook().factor_codes)


def evaluate_by_source(realtext: pd.DataFrame | None = None, codebook: Codebook | None = None) -> pd.DataFrame:
    """Leave-one-source-out: for each source, train on the others (and the codebook) and code its paragraphs.

    Returns one row per paragraph with ``label``, the hybrid coder's ``primary`` and ``present``, the keyword
    coder's primary (the factor with most distinct terms; "" when none) and the learned coder's alone.
    """
    realtext = realtext_set() if realtext is None else realtext
    codebook = codebook or load_codebook()
    parts = []
    for src, held in realtext.groupby("source", sort=False):
        coder = fit_coder(codebook, realtext, exclude_sources=[src])
        docs = realtext_docs(held)
        res = coder.code(docs)
        kw = res[[f"k_{f}" for f in codebook.factor_codes]]
        pr = res[[f"p_{f}" for f in codebook.factor_codes]]
        parts.append(
            pd.DataFrame(
                {
                    "id": held["id"].to_numpy(),
                    "source": src,
                    "split": held["split"].to_numpy(),
                    "label": held["label"].to_numpy(),
                    "primary": res["primary"].to_numpy(),
                    "present": res["present"].to_numpy(),
                    "keyword_primary": np.where(kw.sum(axis=1) > 0, kw.idxmax(axis=1).str[2:], ""),
                    "learned_primary": pr.idxmax(axis=1).str[2:].to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def accuracy_table(ev: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Primary-factor accuracy, share uncoded and recall (label among the present codes), for the hybrid coder
    and each part alone; overall or by ``by`` (``split``, ``source`` or ``label``)."""

    def summary(g: pd.DataFrame) -> pd.Series:
        recall = [lab in p.split(";") for lab, p in zip(g["label"], g["present"], strict=True)]
        return pd.Series(
            {
                "paragraphs": len(g),
                "hybrid_accuracy": float((g["primary"] == g["label"]).mean()),
                "hybrid_uncoded": float((g["primary"] == "").mean()),
                "hybrid_recall": float(np.mean(recall)),
                "keyword_accuracy": float((g["keyword_primary"] == g["label"]).mean()),
                "keyword_uncoded": float((g["keyword_primary"] == "").mean()),
                "learned_accuracy": float((g["learned_primary"] == g["label"]).mean()),
            }
        )

    if by is None:
        out = summary(ev).to_frame("all").T
    else:
        out = pd.DataFrame({key: summary(g) for key, g in ev.groupby(by, sort=True)}).T.rename_axis(by)
    return out.astype({"paragraphs": int})
