"""The interview codebook file: factors (one per construct, with the construct's code), their sub-dimensions'
Chinese and English terms (and optional regexes), optional example sentences per factor, and a domain
dictionary for the Chinese word segmenter. Read here, used by :mod:`cbec.study.coder`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cbec.io.user_yaml import load_user_yaml
from cbec.resources import resource

__all__ = ["CODEBOOK_YAML", "Codebook", "CodebookError", "load_codebook"]

CODEBOOK_YAML = resource("codebook.yaml")


class CodebookError(ValueError):
    """A codebook file that cannot be used, with the file and the key at fault."""


@dataclass
class Codebook:
    """Factors, their sub-dimensions' terms (``zh``, ``en``, ``regex``) and optional example sentences."""

    terms: dict[str, dict[str, list[str]]]  # sub-dimension -> {"zh": [...], "en": [...], "regex": [...]}
    factor_names: dict[str, str]
    domain_dictionary: list[str]
    examples: dict[str, list[str]] = field(default_factory=dict)  # factor -> example sentences
    subdimension_factor: dict[str, str] = field(default_factory=dict)
    path: str = ""

    @property
    def factor_codes(self) -> list[str]:
        return list(self.factor_names)

    def factor_of(self, subdimension: str) -> str:
        return self.subdimension_factor.get(subdimension, subdimension[:2])

    @property
    def shipped(self) -> bool:
        return Path(self.path).resolve() == Path(CODEBOOK_YAML).resolve()


def load_codebook(path: str | Path = CODEBOOK_YAML) -> Codebook:
    """Read a codebook file (format: the shipped ``codebook.yaml``; ``cbec codebook FILE`` writes a copy)."""
    path = Path(path)
    try:
        raw = load_user_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CodebookError(f"{path}: cannot read the codebook ({exc.strerror})") from None
    except Exception as exc:  # noqa: BLE001 — any YAML problem becomes one readable line
        raise CodebookError(f"{path}: not a valid YAML file ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("factors"), dict) or not raw["factors"]:
        raise CodebookError(f"{path}: a codebook needs a 'factors' mapping (code: {{name, subdimensions}})")
    terms, names, sub_of, examples = {}, {}, {}, {}
    for code, f in raw["factors"].items():
        code = str(code)
        if not isinstance(f, dict) or not isinstance(f.get("subdimensions"), dict) or not f["subdimensions"]:
            raise CodebookError(f"{path}: factors.{code} needs 'subdimensions' (code: {{zh: [...], en: [...]}})")
        names[code] = str(f.get("name", code))
        examples[code] = [str(x) for x in f.get("examples") or []]
        for sd, t in f["subdimensions"].items():
            if not isinstance(t, dict):
                raise CodebookError(f"{path}: factors.{code}.subdimensions.{sd} must map zh/en/regex to lists")
            terms[str(sd)] = {k: [str(x) for x in t.get(k) or []] for k in ("zh", "en", "regex")}
            sub_of[str(sd)] = code
            if not any(terms[str(sd)].values()):
                raise CodebookError(f"{path}: factors.{code}.subdimensions.{sd} has no terms")
    return Codebook(
        terms=terms,
        factor_names=names,
        domain_dictionary=[str(w) for w in raw.get("domain_dictionary") or []],
        examples=examples,
        subdimension_factor=sub_of,
        path=str(path),
    )
