"""Reading one printed cell: numbers, percent signs, unit words, footnote marks, missing symbols.

Pure functions on strings; no PDF here. `parse_cell("37,105")` -> value "37105", decimals 0.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

#: Symbols statistical publishers print instead of a number, with their usual meaning. A spec can
#: override or extend these per report (`missing_codes:` in the table spec YAML).
DEFAULT_MISSING_CODES: dict[str, str] = {
    "--": "Less than 0.05% (rounds to zero)",
    "---": "Not applicable",
    "~": "Not applicable",
    "/": "Not reported",
    ":": "Not calculated (too few cases)",
    "!": "Interpret with caution",
    "*": "Suppressed",
    "—": "Not available",
    "–": "Not available",
    "N/A": "Not applicable",
    "NA": "Not available",
    "n/a": "Not applicable",
    "(X)": "Not applicable",
    "x": "Suppressed",
}

#: Printed unit words after a number, mapped to the unit they state.
UNIT_WORDS: dict[str, str] = {
    "mos.": "months", "mos": "months", "months": "months", "month": "months", "mo.": "months",
    "yrs.": "years", "yrs": "years", "years": "years", "year": "years", "yr.": "years",
    "days": "days", "day": "days",
}

_NUMBER = re.compile(
    r"""^(?P<sign>[-−]?)(?P<cur>(?:\$\s?)?)
        (?P<int>\d{1,3}(?:,\d{3})+|\d+)
        (?P<frac>\.\d+)?
        (?P<pct>\s?%)?$""",
    re.VERBOSE,
)
_FOOTNOTE_TAIL = re.compile(r"^(?P<body>.*?[^\s*†‡§])(?P<marks>[*†‡§]+)$")
_FOOTNOTE_HEAD = re.compile(r"^(?P<marks>[*†‡§]+)(?P<body>\S.*)$")


@dataclass(frozen=True)
class CellReading:
    """What one printed cell says, before any cross-checking."""

    raw_text: str
    value: str | None = None  # the printed number without separators or %, e.g. "9.7"
    decimals: int | None = None
    unit: str | None = None  # unit printed in the cell itself ("%" -> percent, "mos." -> months)
    missing_code: str | None = None
    missing_meaning: str | None = None
    footnotes: tuple[str, ...] = field(default_factory=tuple)
    ok: bool = True  # False: text present but not a number nor a known symbol

    @property
    def is_value(self) -> bool:
        return self.value is not None


def normalize_text(text: str) -> str:
    """NFKC, unify dashes and minus, collapse white space."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2212", "-").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


def split_footnote_marks(text: str) -> tuple[str, tuple[str, ...]]:
    """'Total*' -> ('Total', ('*',)). Only symbol marks; superscript letters are found by
    geometry."""
    m = _FOOTNOTE_TAIL.match(text)
    if m:
        return m.group("body").rstrip(), tuple(m.group("marks"))
    return text, ()


def parse_number(text: str) -> tuple[str, int, bool] | None:
    """'37,105' -> ('37105', 0, False); '31.4%' -> ('31.4', 1, True); 'abc' -> None."""
    m = _NUMBER.match(text.strip())
    if not m:
        return None
    digits = m.group("int").replace(",", "")
    frac = m.group("frac") or ""
    sign = "-" if m.group("sign") else ""
    return sign + digits + frac, max(len(frac) - 1, 0), bool(m.group("pct"))


def parse_cell(text: str, missing_codes: dict[str, str] | None = None,
               footnotes: tuple[str, ...] = ()) -> CellReading:
    """Read a printed cell: number (+% or unit word) or a missing symbol, with footnote marks.

    `footnotes` are marks already split off by geometry (superscripts).
    """
    codes = DEFAULT_MISSING_CODES if missing_codes is None else missing_codes
    raw = normalize_text(text)
    if not raw:
        return CellReading(raw_text="", footnotes=footnotes)
    body, marks = split_footnote_marks(raw)
    if raw in codes:  # "*" alone is a symbol, not a mark
        body, marks = raw, ()
    marks = tuple(footnotes) + marks
    if body in codes:
        return CellReading(raw_text=raw, missing_code=body, missing_meaning=codes[body],
                           footnotes=marks)
    unit = None
    parts = body.rsplit(" ", 1)
    if len(parts) == 2 and parts[1].lower() in UNIT_WORDS:
        body, unit = parts[0], UNIT_WORDS[parts[1].lower()]
    parsed = parse_number(body)
    if parsed is None:
        return CellReading(raw_text=raw, footnotes=marks, ok=False)
    value, decimals, pct = parsed
    if pct:
        unit = "percent"
    return CellReading(raw_text=raw, value=value, decimals=decimals, unit=unit, footnotes=marks)


def is_value_text(text: str, missing_codes: dict[str, str] | None = None) -> bool:
    """True for text that reads as a table value (a number, number+unit, or a missing symbol)."""
    reading = parse_cell(text, missing_codes)
    return reading.ok and (reading.value is not None or reading.missing_code is not None)


def join_wrapped(parts: list[str]) -> str:
    """Join label pieces printed on several lines: a space, none after a trailing '/' or '-'."""
    out = ""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if not out or out.endswith("/") or (out.endswith("-") and not out.endswith(" -")):
            out += part
        else:
            out += " " + part
    return out


def strip_spanner_dash(text: str) -> str:
    """'Child pornography—' -> 'Child pornography' (a spanning header's trailing em dash)."""
    return re.sub(r"\s*[—]+\s*$", "", text).strip()
