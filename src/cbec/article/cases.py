"""The article's two case firms as structured profiles, scored on the seven factors by a stated rubric.

Scores are *coded from the article*, not measured: each is computed from the number of practices the
article attributes to the firm for a factor and the number of quantified outcomes (claims register rows
about that firm) it cites. Keeping the rule in code, not hand-typed numbers, means a reader can check every
score against ``data/article/cases.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from cbec.io.instrument import load_instrument
from cbec.resources import resource

CASES_YAML = resource("cases.yaml")


class CasesError(ValueError):
    """The case file is malformed or cites claims that do not support it."""


def rubric_score(n_practices: int, n_outcomes: int) -> int:
    """The rubric of ``cases.yaml``: 7 = two or more practices with a quantified outcome; 6 = one practice
    with an outcome, or two or more without; 5 = one practice; 4 = mentioned only in general terms."""
    if n_practices >= 2 and n_outcomes >= 1:
        return 7
    if (n_practices == 1 and n_outcomes >= 1) or n_practices >= 2:
        return 6
    if n_practices == 1:
        return 5
    return 4


def load_cases(path: str | Path = CASES_YAML, claims: pd.DataFrame | None = None) -> dict:
    """Read the case file; check every firm codes all seven factors and cites only claims about itself."""
    path = Path(path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for firm in raw["firms"]:
        missing = [f for f in load_instrument().factor_codes if f not in firm["factors"]]
        if missing:
            raise CasesError(f"{path}: firm {firm['id']} does not code factors {missing}")
        if claims is not None:
            about = claims.set_index("claim_id")["about"]
            cited = [c for f in firm["factors"].values() for c in f.get("claims", [])] + firm.get("facts", [])
            unknown = [c for c in cited if c not in about.index]
            if unknown:
                raise CasesError(f"{path}: firm {firm['id']} cites unknown claims {unknown}")
            foreign = [c for c in cited if about[c] != firm["about"]]
            if foreign:
                raise CasesError(f"{path}: firm {firm['id']} cites claims about other firms: {foreign}")
    return raw


def factor_scores(cases: dict) -> pd.DataFrame:
    """One row per firm and factor: practices, outcomes cited, rubric score."""
    rows = []
    for firm in cases["firms"]:
        for code in firm["factors"]:
            f = firm["factors"][code]
            n_p, n_o = len(f.get("practices", [])), len(f.get("claims", []))
            rows.append(
                {
                    "firm": firm["name"],
                    "firm_id": firm["id"],
                    "factor": code,
                    "practices": n_p,
                    "quantified_outcomes": n_o,
                    "score": rubric_score(n_p, n_o),
                    "practice_list": "; ".join(f.get("practices", [])),
                    "claims": ", ".join(f.get("claims", [])),
                }
            )
    return pd.DataFrame(rows)


def facts_table(cases: dict, claims: pd.DataFrame) -> pd.DataFrame:
    """The headline facts of each firm, joined from the claims register."""
    c = claims.set_index("claim_id")
    rows = []
    for firm in cases["firms"]:
        for cid in firm.get("facts", []):
            r = c.loc[cid]
            rows.append(
                {"firm": firm["name"], "claim_id": cid, "measure": r["measure"], "value": r["value"], "unit": r["unit"]}
            )
    return pd.DataFrame(rows)


def profile_table(cases: dict) -> pd.DataFrame:
    """Firm profiles side by side (rows: attributes, columns: firms)."""
    return pd.DataFrame({f["name"]: {"path": f["path"], **f["profile"]} for f in cases["firms"]})
