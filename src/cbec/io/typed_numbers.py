"""Numbers as people type them into a fill-in box: ``8人``, ``1,439``, ``１０``, ``约46天``, ``38319万``.

Why by hand: no maintained library parses Chinese survey fill-ins with a per-field unit (``price-parser``
and ``babel`` read money or locale numbers, neither knows 人/年/天 or 万 relative to a field's own unit).
The rules are few and each is stated in :func:`parse_typed_number`; anything outside them is refused,
never guessed.

Each field of the instrument may name a ``unit`` (see ``UNITS``). A field's unit says which suffixes a
respondent may type and what a magnitude word (万, 亿, 千) means in the field's own scale: for
``cny_million`` "38319万" is 38 319 × 10⁴ CNY = 383.19 million, never 38 319 million.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["UNITS", "PLAIN_NUMBER", "ParsedNumber", "parse_typed_number"]

#: unit name -> (suffixes a respondent may type, size of one unit of the field in base units, whether
#: magnitude words are allowed). Base units: persons, years, days, percent points, seconds, CNY.
UNITS: dict[str, tuple[tuple[str, ...], float, bool]] = {
    "persons": (("人", "名", "个人", "位"), 1.0, True),
    "years": (("年", "years", "year", "yrs"), 1.0, False),
    "days": (("天", "日", "days", "day"), 1.0, False),
    "percent": (("%", "％", "percent", "个百分点"), 1.0, False),
    "seconds": (("秒", "s"), 1.0, False),
    "cny_million": (("元", "人民币", "rmb", "cny"), 1e6, True),
}
_MAGNITUDE = {"千": 1e3, "万": 1e4, "百万": 1e6, "千万": 1e7, "亿": 1e8, "k": 1e3, "m": 1e6}
_APPROX_PREFIX = ("大约", "大概", "约", "近", "~", "≈", "about", "approx.", "approx", "ca.")
_APPROX_SUFFIX = ("左右", "上下", "多")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
#: ASCII decimals, which :func:`parse_typed_number` returns as ``float(text)``, unrepaired (tested); callers
#: with many cells read these directly and send only the rest through the parser.
PLAIN_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(frozen=True)
class ParsedNumber:
    """The value in the field's unit; ``repaired`` when the text was not a plain number;
    ``approximate`` when the respondent marked it so (约, 左右 ...); ``note`` says what was done."""

    value: float
    repaired: bool
    approximate: bool
    note: str = ""


def _strip_any(text: str, words: tuple[str, ...], *, prefix: bool) -> tuple[str, bool]:
    for w in sorted(words, key=len, reverse=True):
        if prefix and text.lower().startswith(w):
            return text[len(w) :].strip(), True
        if not prefix and text.lower().endswith(w):
            return text[: len(text) - len(w)].strip(), True
    return text, False


def parse_typed_number(text: object, unit: str | None = None) -> ParsedNumber | None:
    """Read one fill-in answer as a number in the field's unit, or ``None`` when it cannot be read safely.

    Rules, applied in this order:

    1. Unicode NFKC folding: full-width digits and signs (``１０``, ``％``, ``，``) become ASCII.
    2. An approximation word (约, 大约, 大概, 近, ~, ≈ before; 左右, 上下, 多 after) is removed and the value
       flagged ``approximate``.
    3. The field's unit suffix (人 for persons, 年, 天, %, 秒, 元) is removed; a suffix of another unit
       (``5天`` in a years field) makes the cell unreadable.
    4. A magnitude word (千, 万, 百万, 千万, 亿) is applied only where the unit allows it and converted to the
       field's own scale (``38319万`` in ``cny_million`` is 383.19).
    5. Thousands separators are accepted only in the strict form ``1,439`` / ``12,345.6``; ``1,4`` is
       unreadable (it may be a decimal comma).
    6. Ranges (``5-10``, ``5~10``), several numbers, words and anything else are unreadable.

    Parameters
    ----------
    text : object
        The cell as found in the export.
    unit : str, optional
        A key of :data:`UNITS`; ``None`` allows no suffix and no magnitude word.

    Returns
    -------
    ParsedNumber or None

    Examples
    --------
    >>> parse_typed_number("8人", "persons").value
    8.0
    >>> parse_typed_number("38319万", "cny_million").value
    383.19
    >>> p = parse_typed_number("约46天", "days"); (p.value, p.approximate)
    (46.0, True)
    >>> parse_typed_number("5-10", "days") is None
    True
    """
    if text is None:
        return None
    raw = str(text).strip()
    if not raw:
        return None
    s = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    if _PLAIN.match(s):
        return ParsedNumber(
            float(s), repaired=s != raw, approximate=False, note="full-width digits" if s != raw else ""
        )
    notes: list[str] = []
    s, approx_pre = _strip_any(s, _APPROX_PREFIX, prefix=True)
    suffixes, unit_size, magnitudes_ok = UNITS.get(unit, ((), 1.0, False)) if unit else ((), 1.0, False)
    s, had_unit = _strip_any(s, suffixes, prefix=False)
    s, approx_post = _strip_any(s, _APPROX_SUFFIX, prefix=False)
    if not had_unit:
        s, had_unit = _strip_any(s, suffixes, prefix=False)
    factor = 1.0
    magnitude = False
    if magnitudes_ok:
        for word in sorted(_MAGNITUDE, key=len, reverse=True):
            if s.lower().endswith(word) and len(s) > len(word):
                factor = _MAGNITUDE[word] / unit_size
                s = s[: len(s) - len(word)]
                notes.append(f"{word} = {_MAGNITUDE[word]:g} {'CNY' if unit == 'cny_million' else 'units'}")
                magnitude = True
                break
    if had_unit and not magnitude and unit_size != 1.0:
        factor = 1.0 / unit_size  # "5000000元" in a field counted in millions
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
        notes.append("thousands separator")
    if not _PLAIN.match(s):
        return None
    value = float(s) * factor
    if had_unit:
        notes.append("unit removed")
    approximate = approx_pre or approx_post
    if approximate:
        notes.append("approximate")
    return ParsedNumber(round(value, 10), repaired=True, approximate=approximate, note="; ".join(notes))
