"""Numbers the report states in its text, checked against its own tables.

    narrative (body-size text of each page, column by column, tables left out)
    -> paragraphs -> sentences -> claims found by pattern:
         change     "increased 54%, from 2,972 to 4,579"  the stated change, recomputed
                    "a 422% increase ... from 98 to 512"
                    "grew less than 1% ... from 2,901 to 2,905"  a bound, checked as one
         direction  "has decreased ..., from 83.3% to 30.7%"  both printed, the way stated
         share      "... 21,887 defendants ... 81.1% ..."  a share of a total the tables print
         count      "a total of 37,105 suspects"          a number the tables print
                    "sentences of 23 years on average"   a number with its unit word
       (a bound such as "in excess of 300 months", or a range such as "14 to 17 years old",
       states no value and is not a claim)
    -> resolve each number to table cells (by value; a share by its total's table and row
       label words) -> verdict: supported / contradicted / not resolvable

A claim is *contradicted* only when its numbers resolve to table cells and the arithmetic the
sentence states does not hold at its printed precision (the text says 54% where the cells give
48%); a number that the tables do not print leaves the claim *not resolvable*, never
contradicted. Contradicted claims become audit findings of the class "source inconsistency":
the publication disagrees with itself, and nothing is changed.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pandas as pd

from statlift.extractors.locate import text_columns
from statlift.extractors.pdfdoc import Document, PageText
from statlift.extractors.textlines import lines_of
from statlift.frames import records
from statlift.validate.checks import register_text_check

NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
UP = ("increased", "increase", "increases", "grew", "rose", "rise", "up", "growth",
      "more than doubled")
DOWN = ("decreased", "decrease", "decreases", "declined", "decline", "fell", "dropped", "drop",
        "down", "reduction")
VERB = rf"\b(?P<verb>{'|'.join(UP + DOWN)})\b"
QUALIFIER = (r"(?:(?P<bound>less\s+than|more\s+than|fewer\s+than)\s+"
             r"|about\s+|nearly\s+|almost\s+)?")
REST = r"(?:[^.;]|\.(?=\d))"  # up to the end of the clause; a decimal point is no end
CHANGE = re.compile(
    rf"{VERB}(?:\s+by)?\s+{QUALIFIER}(?P<pct>{NUMBER})%(?=(?P<rest>{REST}{{0,160}}))", re.I)
# the noun form: "a 422% increase in the number of ... from 98 ... to 512"
NOUN_CHANGE = re.compile(rf"{QUALIFIER}(?P<pct>{NUMBER})%\s+{VERB}(?=(?P<rest>{REST}{{0,160}}))",
                         re.I)
# a direction without a stated change: "has decreased since FY 2005, from 83.3% to 30.7%"
DIRECTION = re.compile(rf"{VERB}(?=(?P<rest>[^.;%]{{0,60}}?\bfrom\s{REST}{{0,80}}))",
                       re.I)
# the change stated right after its "from A to B": "... to 66 months (up 94%)"
AFTER_CHANGE = re.compile(rf"\s*(?:\w+\s*)?\(\s*(?:up|down)\s+(?P<pct>{NUMBER})%", re.I)
FROM_TO = re.compile(rf"\bfrom\s+(?P<a>{NUMBER})(?P<a_pct>%)?(?:\s+[\w.]+){{0,5}}?\s+to\s+"
                     rf"(?P<b>{NUMBER})(?P<b_pct>%)?", re.I)
COUNT_SHARE = re.compile(rf"(?P<n>{NUMBER})\s*\((?P<pct>{NUMBER})%\)")
SHARE = re.compile(rf"(?<![\d,.])(?P<pct>{NUMBER})%")
TOTAL = re.compile(r"\b(?:of\s+the|a\s+total\s+of|all)\s+(?P<n>\d{1,3}(?:,\d{3})+)\b", re.I)
COUNT = re.compile(r"(?<![\d.])(?P<n>\d{1,3}(?:,\d{3})+)(?![\d%])")
UNIT_WORDS = {"years": "years", "year": "years", "months": "months", "month": "months",
              "days": "days", "day": "days"}
WITH_UNIT = re.compile(rf"(?<![\d.,-])(?P<n>{NUMBER})\s+(?P<unit>{'|'.join(UNIT_WORDS)})\b",
                       re.I)
# a bound states no value: "in excess of 300 months", "more than 2,000 suspects"
BOUND = re.compile(r"(?:in\s+excess\s+of|more\s+than|less\s+than|fewer\s+than|at\s+least|"
                   r"at\s+most|over|under|exceeding|up\s+to)\s+$", re.I)
STOP = {"the", "of", "and", "or", "in", "to", "for", "a", "an", "by", "with", "from", "on",
        "all", "other", "total", "number", "percent", "were", "was", "had", "that", "as"}
VERDICTS = ("supported", "contradicted", "not resolvable")


@dataclass(frozen=True)
class CellRef:
    table_id: str
    row_path: str
    column_path: str
    raw_text: str


Box = tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points (top-left origin)


@dataclass
class Claim:
    page: int
    sentence: str
    kind: str  # change | direction | share | count
    stated: str
    verdict: str
    computed: str = ""
    reason: str = ""
    cells: list[CellRef] = field(default_factory=list)
    number: str = ""  # the number the sentence states and the check compares ("54", "60")
    box: Box | None = None  # where the sentence is printed on its page
    id: str = ""  # C001, ... in reading order (set by check_claims)

    def to_json(self) -> dict:
        return {"id": self.id, "page": self.page, "kind": self.kind, "stated": self.stated,
                "verdict": self.verdict, "computed": self.computed, "reason": self.reason,
                "sentence": self.sentence,
                "box": None if self.box is None else [round(v, 1) for v in self.box],
                "cells": [dict(c.__dict__) for c in self.cells]}


# -------------------------------------------------------------------------- the narrative

@dataclass(frozen=True)
class Passage:
    """A paragraph of running text on one page and where each piece of it is printed:
    `spans` are (start, end, box) of the text's pieces (a run of a printed line each)."""

    page: int
    text: str
    spans: tuple[tuple[int, int, Box], ...] = ()

    def box(self, start: int, end: int) -> Box | None:
        """The box around the text between `start` and `end` (the lines it is printed on)."""
        boxes = [b for s, e, b in self.spans if s < end and e > start]
        if not boxes:
            return None
        return (min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes))

    def sentences(self) -> Iterator[tuple[str, Box | None]]:
        """The passage's sentences that hold a digit, each with its box."""
        for start, end in sentence_spans(self.text):
            sentence = self.text[start:end]
            if re.search(r"\d", sentence):
                yield sentence, self.box(start, end)


def narrative(page: PageText, table_boxes: list[Box]) -> list[Passage]:
    """The page's running text, paragraph by paragraph within each text column; tables, headings
    and small print left out; words broken at a line end joined again. A gap between two lines
    wider than half a line of body text ends a paragraph (so a running head never joins the
    first sentence)."""
    lines = lines_of(page)
    out: list[Passage] = []
    columns = sorted(text_columns(page, lines) or [(0.0, page.width)])
    for i, (x0, x1) in enumerate(columns):
        # a line may run a little past the column's usual right edge: up to the next column
        right = columns[i + 1][0] - 2 if i + 1 < len(columns) else max(x1 + 3, page.width)
        column_start = len(out)
        text, last_bottom = "", None
        spans: list[tuple[int, int, Box]] = []

        def flush() -> None:
            nonlocal text, spans
            if text:
                out.append(Passage(page.number, text.replace("\u2019", "'"), tuple(spans)))
            text, spans = "", []

        for line in lines:
            runs = [r for r in line.runs
                    if r.x0 >= x0 - 3 and r.x1 <= right and abs(r.size - page.body_size) <= 0.6
                    and not any(b[0] <= (r.x0 + r.x1) / 2 <= b[2]
                                and b[1] <= (r.top + r.bottom) / 2 <= b[3] for b in table_boxes)]
            if not runs:
                continue
            if last_bottom is not None and \
                    min(r.top for r in runs) - last_bottom > 0.5 * page.body_size:
                flush()
            last_bottom = max(r.bottom for r in runs)
            for run in runs:
                if text.endswith("-") and run.text[:1].islower():
                    text = text[:-1]
                elif text:
                    text += " "
                spans.append((len(text), len(text) + len(run.text),
                              (run.x0, run.top, run.x1, run.bottom)))
                text += run.text
        flush()
        if 0 < column_start < len(out) and not re.search(r"[.?!:]\)?$", out[column_start - 1].text):
            # the column before ends mid-sentence: the sentence runs on at this column's top
            out[column_start - 1:column_start + 1] = [_join(out[column_start - 1],
                                                            out[column_start])]
    return out


def _join(a: Passage, b: Passage) -> Passage:
    """Passage `a` continued by `b` (a sentence running on into the next column)."""
    if a.text.endswith("-") and b.text[:1].islower():
        text, offset = a.text[:-1] + b.text, len(a.text) - 1
    else:
        text, offset = f"{a.text} {b.text}", len(a.text) + 1
    return Passage(a.page, text, a.spans + tuple((s + offset, e + offset, box)
                                                 for s, e, box in b.spans))


SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z(])(?<!U\.S\.\s)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: split on a full stop, question mark or exclamation mark
    followed by a space and a capital, keeping decimals and abbreviations such as "U.S."
    together."""
    out, start = [], 0
    for m in SENTENCE_END.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return [(a, b) for a, b in out if text[a:b].strip()]


def sentences(text: str) -> list[str]:
    """The sentences of `text` that hold a digit (see sentence_spans)."""
    return [text[a:b].strip() for a, b in sentence_spans(text) if re.search(r"\d", text[a:b])]


# ---------------------------------------------------------------------------- the numbers

def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _rounds_to(value: Decimal, stated: str) -> bool:
    """`value` printed at `stated`'s precision gives `stated` (half-up or half-even)."""
    q = Decimal(1).scaleb(-_decimals(stated))
    target = _number(stated)
    return value.quantize(q, ROUND_HALF_UP) == target or \
        value.quantize(q, ROUND_HALF_EVEN) == target


def _ref(rec: dict) -> CellRef:
    return CellRef(str(rec["table_id"]), str(rec["row_path"]), str(rec["column_path"]),
                   str(rec["raw_text"]))


class CellIndex:
    """The report's cells by printed value, to resolve a stated number."""

    def __init__(self, cells: pd.DataFrame):
        self.cells = cells[cells["value"].astype(str) != ""].copy()
        self.cells["number"] = pd.Series([Decimal(str(v)) for v in self.cells["value"]],
                                         index=self.cells.index, dtype=object)
        # (number, is a percent, the cell) in the frame's order, for find(): a sentence asks
        # for a dozen numbers and a filter of the frame per number cost more than the audit's
        # arithmetic checks
        self._rows = [(n, u == "percent", _ref(r)) for n, u, r in
                      zip(self.cells["number"], self.cells["unit"],
                          records(self.cells))]
        self._units: dict[tuple[str, str, str], object] = {}
        for (_, _, ref), u in zip(self._rows, self.cells["unit"]):
            self._units.setdefault((ref.table_id, ref.row_path, ref.column_path), u)

    def find(self, stated: str, percent: bool | None = None,
             rounded: bool = False) -> list[CellRef]:
        """Cells printing `stated`; with `rounded`, also cells printed with more digits that
        round to it ("66 months" for a printed 66.1)."""
        n = _number(stated)
        return [ref for x, pct, ref in self._rows
                if (percent is None or pct == percent)
                and (x == n or (rounded and _rounds_to(x, stated)))]

    def table(self, table_id: str) -> pd.DataFrame:
        return self.cells[self.cells["table_id"] == table_id]

    def unit(self, ref: CellRef) -> str:
        """The unit of the first cell at `ref`'s place ("" if none)."""
        unit = self._units.get((ref.table_id, ref.row_path, ref.column_path), "")
        return str(unit)


def _words(text: str) -> set[str]:
    """Content words, cut to six letters (convicted / conviction, production / produced)."""
    return {w[:6] for w in re.findall(r"[a-z]+", text.lower()) if w not in STOP and len(w) > 2}


def _clauses(sentence: str, start: int, end: int) -> list[str]:
    """The text after a percent up to the next one, then the text before it back to the
    previous one: where the sentence names what the percent is a share of."""
    marks = [m.start() for m in SHARE.finditer(sentence)]
    after = min([m for m in marks if m > start] + [len(sentence)])
    before = max([m for m in marks if m < start] + [0])
    return [sentence[end:after], sentence[before:start]]


# ----------------------------------------------------------------------------- the claims

def _is_year(text: str) -> bool:
    return bool(re.fullmatch(r"(19|20)\d\d", text))


def _pair(index: CellIndex, a: str, b: str, percent: bool) -> tuple[CellRef, CellRef] | None:
    """The two cells a "from A to B" names: the printed A and B of one row; else, of one row,
    cells printed with more digits that round to them (the text rounds "320.7 mos." to 321);
    else A and B of one table; else the first of each. None if either is printed nowhere."""
    first, second = index.find(a, percent), index.find(b, percent)
    near_a, near_b = index.find(a, percent, rounded=True), index.find(b, percent, rounded=True)

    def row(x: CellRef, y: CellRef) -> bool:
        return (x.table_id, x.row_path) == (y.table_id, y.row_path)

    def table(x: CellRef, y: CellRef) -> bool:
        return x.table_id == y.table_id

    for xs, ys, same in ((first, second, row), (near_a, near_b, row), (first, second, table)):
        pairs = [(x, y) for x in xs for y in ys if same(x, y) and x != y]
        if pairs:
            return pairs[0]
    return (first[0], second[0]) if first and second else None


def _from_to(rest: str) -> re.Match | None:
    """The first "from A to B" of `rest` that is not a range of years."""
    return next((f for f in FROM_TO.finditer(rest)
                 if not (_is_year(f.group("a")) and _is_year(f.group("b")))), None)


def change_claims(sentence: str, page: int, index: CellIndex) -> list[Claim]:
    """"increased 54%, from 2,972 to 4,579" (or "a 54% increase ... from 2,972 to 4,579"): the
    change the two cells give, at the stated precision; "grew less than 1%" is checked as the
    bound it states. A "from 2004 to 2013" year range in between is skipped. A direction
    without a stated change ("decreased ..., from 83.3% to 30.7%") is a claim that both numbers
    are printed and go the stated way."""
    out = []
    spans: list[tuple[int, int]] = []
    used: set[int] = set()  # where each "from A to B" a claim has read starts
    found = sorted(list(CHANGE.finditer(sentence)) + list(NOUN_CHANGE.finditer(sentence)),
                   key=lambda m: m.start())
    for m in found:
        if any(m.start() < e and m.end() > s for s, e in spans):
            continue  # "a 54% increase" read once, as the noun or the verb form
        ends = _from_to(m.group("rest"))
        if ends is None or m.start("rest") + ends.start() in used:
            continue
        spans.append((m.start(), m.end()))
        used.add(m.start("rest") + ends.start())
        out.append(_change(sentence, page, index, m.group("verb"), m.group("pct"),
                           m.group("bound"), ends))
    for m in DIRECTION.finditer(sentence):
        ends = _from_to(m.group("rest"))
        if ends is None or m.start("rest") + ends.start() in used or \
                any(s <= m.start() < e for s, e in spans):
            continue
        used.add(m.start("rest") + ends.start())
        after = AFTER_CHANGE.match(m.group("rest")[ends.end():])
        if after:  # "increased, from 34 to 66 months (up 94%)": the change stated after
            out.append(_change(sentence, page, index, m.group("verb"), after.group("pct"),
                               None, ends))
        else:
            out.append(_direction(sentence, page, index, m.group("verb"), ends))
    return out


def _change(sentence: str, page: int, index: CellIndex, verb: str, pct: str,
            bound: str | None, ends: re.Match) -> Claim:
    bound = re.sub(r"\s+", " ", (bound or "").lower())
    a, b = ends.group("a"), ends.group("b")
    said = f"{bound} {pct}%" if bound else f"{pct}%"
    claim = Claim(page, sentence, "change", f"{verb} {said} from {a} to {b}",
                  "not resolvable", number=pct)
    if ends.group("a_pct") or ends.group("b_pct"):
        claim.reason = "a change between two percentages (points or percent: ambiguous)"
        return claim
    pair = _pair(index, a, b, percent=False)
    if pair is None:
        missing = [x for x in (a, b) if not index.find(x, False, rounded=True)]
        claim.reason = f"{' and '.join(missing)} not printed in any table"
        return claim
    claim.cells = list(pair)
    up = verb.lower() in UP

    def holds(change: Decimal) -> bool:
        if (change >= 0) != up:
            return False
        if bound.startswith(("less", "fewer")):
            return abs(change) < _number(pct)
        if bound.startswith("more"):
            return abs(change) > _number(pct)
        return _rounds_to(abs(change), pct)

    cells_change = (_cell_number(index, pair[1]) - _cell_number(index, pair[0])) \
        / _cell_number(index, pair[0]) * 100
    text_change = (_number(b) - _number(a)) / _number(a) * 100
    claim.computed = f"{cells_change:.2f}%"
    if holds(cells_change):
        claim.verdict, claim.reason = "supported", f"the cells give a change of {claim.computed}"
    elif holds(text_change):  # the text divided its own rounded numbers
        claim.verdict = "supported"
        claim.reason = (f"the cells give {claim.computed}; the numbers as the sentence rounds "
                        f"them give {text_change:.2f}%")
    else:
        claim.verdict = "contradicted"
        claim.reason = f"the cells give a change of {claim.computed}, not {said}"
    return claim


def _direction(sentence: str, page: int, index: CellIndex, verb: str, ends: re.Match) -> Claim:
    a, b = ends.group("a"), ends.group("b")
    pct = bool(ends.group("a_pct") or ends.group("b_pct"))
    unit = "%" if pct else ""
    claim = Claim(page, sentence, "direction", f"{verb} from {a}{unit} to {b}{unit}",
                  "not resolvable", number=b)
    pair = _pair(index, a, b, percent=pct)
    if pair is None:
        missing = [x + unit for x in (a, b) if not index.find(x, pct, rounded=True)]
        claim.reason = f"{' and '.join(missing)} not printed in any table"
        return claim
    claim.cells = list(pair)
    up = _number(b) >= _number(a)
    claim.computed = f"{_number(b) - _number(a):+}{unit}"
    claim.verdict = "supported" if up == (verb.lower() in UP) else "contradicted"
    claim.reason = (f"the tables print {claim.cells[0].raw_text} and {claim.cells[1].raw_text}"
                    + ("" if claim.verdict == "supported" else f": not a {verb.lower()}"))
    return claim


def _cell_number(index: CellIndex, ref: CellRef) -> Decimal:
    c = index.cells
    hit = c[(c["table_id"] == ref.table_id) & (c["row_path"] == ref.row_path)
            & (c["column_path"] == ref.column_path)]
    return Decimal(hit["number"].iloc[0])


def share_claims(sentence: str, page: int, index: CellIndex) -> list[Claim]:
    """Shares of a total the tables print ("Of the 36,080 suspects ..., 21,569 (60%) were
    prosecuted"): N / total recomputed when the sentence gives the count, else the percent cell
    of the one row of the total's table that the sentence names in full."""
    out = []
    for t in TOTAL.finditer(sentence):
        totals = index.find(t.group("n"), percent=False)
        if not totals:
            continue
        total = totals[0]
        with_count = list(COUNT_SHARE.finditer(sentence))
        for m in with_count:
            n, pct = m.group("n"), m.group("pct")
            claim = Claim(page, sentence, "share", f"{n} ({pct}%) of {t.group('n')}",
                          "not resolvable")
            parts = [c for c in index.find(n, percent=False) if c.table_id == total.table_id]
            if not parts:
                claim.reason = f"{n} is not printed in the table of {t.group('n')}"
                out.append(claim)
                continue
            share = _number(n) / _number(t.group("n")) * 100
            claim.cells, claim.computed = [parts[0], total], f"{share:.2f}%"
            claim.verdict = "supported" if _rounds_to(share, pct) else "contradicted"
            claim.reason = f"{n} of {t.group('n')} is {claim.computed}"
            out.append(claim)
        attached = {m.start("pct") for m in with_count}
        for m in SHARE.finditer(sentence):
            if m.start("pct") in attached:
                continue
            out.append(_labelled_share(sentence, page, index, m, total, t.group("n")))
    return out


def _labelled_share(sentence: str, page: int, index: CellIndex, m: re.Match, total: CellRef,
                    total_text: str) -> Claim:
    """A percent without its count: the one row of the total's table that the clause around it
    names; its percent cell in the total's column group, else its count over the total."""
    pct = m.group("pct")
    claim = Claim(page, sentence, "share", f"{pct}% of {total_text}", "not resolvable")
    table = index.table(total.table_id)
    group = total.column_path.rsplit(" | ", 1)[0] if " | " in total.column_path else ""
    rows = [r for r in dict.fromkeys(table["row_path"]) if r != total.row_path]
    named: list[str] = []
    for clause in _clauses(sentence, m.start("pct"), m.end()):
        said = _words(clause)
        named = [r for r in rows if (label := _words(r.split(" > ")[-1])) and label <= said]
        if named:  # "declined for prosecution" names that row, not also "prosecuted"
            most = max(len(_words(r.split(" > ")[-1])) for r in named)
            named = [r for r in named if len(_words(r.split(" > ")[-1])) == most]
            break
    if len(named) != 1:
        claim.reason = ("no row of the total's table is named beside it" if not named else
                        "several rows of the table are named beside it")
        return claim
    row = table[table["row_path"] == named[0]]
    percent = row[(row["unit"] == "percent") & row["column_path"].str.startswith(group)]
    counts = row[row["column_path"] == total.column_path]
    if len(percent) == 1:
        ref = _ref(records(percent)[0])
        value = _cell_number(index, ref)
        claim.reason = f"{ref.table_id} prints {ref.raw_text} for {ref.row_path}"
    elif len(counts) == 1:
        ref = _ref(records(counts)[0])
        value = _cell_number(index, ref) / _number(total_text) * 100
        claim.reason = f"{ref.raw_text} of {total_text} ({ref.row_path}) is {value:.2f}%"
    else:
        claim.reason = f"no single percent or count of {named[0]} beside the total"
        return claim
    claim.cells = [ref, total]
    claim.computed = f"{value:.2f}%"
    claim.verdict = "supported" if _rounds_to(value, pct) else "contradicted"
    return claim


RANGE_END = re.compile(r"\d\s*(?:to|-|\u2013)\s*$")


def _is_bound(sentence: str, start: int) -> bool:
    """The number at `start` is a bound ("in excess of 300 months") or the end of a range
    ("14 to 17 years old"): no value is stated."""
    before = sentence[max(0, start - 20):start]
    return bool(BOUND.search(before) or RANGE_END.search(before))


def count_claims(sentence: str, page: int, index: CellIndex, taken: set[str]) -> list[Claim]:
    """A count with a thousands separator ("37,105"), or a number with its unit word ("23
    years"), that no other claim of the sentence used; a bound ("in excess of 300 months")
    states no value and is left out."""
    out = []
    found: list[tuple[int, str, str | None]] = [(m.start(), m.group("n"), None)
                                                 for m in COUNT.finditer(sentence)]
    found += [(m.start(), m.group("n"), UNIT_WORDS[m.group("unit").lower()])
              for m in WITH_UNIT.finditer(sentence)]
    seen: set[str] = set()
    for start, n, unit in sorted(found, key=lambda f: f[0]):
        if n in taken or n in seen or _is_bound(sentence, start) or \
                (unit is None and _is_year(n)):
            continue
        seen.add(n)
        hits = index.find(n, percent=False)
        if unit is not None:
            hits = [h for h in hits if index.unit(h) == unit]
        stated = n if unit is None else f"{n} {unit}"
        claim = Claim(page, sentence, "count", stated, "supported" if hits else "not resolvable",
                      cells=hits[:1], number=n,
                      reason=(f"{hits[0].table_id} prints {hits[0].raw_text}" if hits else
                              f"{stated} is not printed in any table"))
        out.append(claim)
    return out


def sentence_claims(sentence: str, page: int, index: CellIndex) -> list[Claim]:
    """Every claim of one sentence: changes, shares, then counts no other claim used."""
    found = change_claims(sentence, page, index)
    found += share_claims(sentence, page, index)
    taken = {c.stated.split(" to ")[-1] for c in found} | {
        x for c in found for x in re.findall(NUMBER, c.stated)}
    return found + count_claims(sentence, page, index, taken)


def passage_claims(passages: list[Passage], cells: pd.DataFrame) -> list[Claim]:
    """Every claim of the passages (in reading order), checked against `cells`; numbered
    C001, ...; each with the box of its sentence."""
    index = CellIndex(cells)
    claims: list[Claim] = []
    for passage in passages:
        for sentence, box in passage.sentences():
            for claim in sentence_claims(sentence.strip(), passage.page, index):
                claim.box = box
                claims.append(claim)
    for n, claim in enumerate(claims, 1):
        claim.id = f"C{n:03d}"
    return claims


@register_text_check("narrative_claims")
def narrative_claims(passages: list[Passage], cells: pd.DataFrame) -> list[Claim]:
    """Numbers the report states in its running text (changes, shares, counts) checked
    against its cells at the stated precision."""
    return passage_claims(passages, cells)


def report_narrative(doc: Document, table_boxes: dict[int, list[Box]]) -> list[Passage]:
    """The running text of every page of `doc`. `table_boxes`: page number -> the boxes of the
    tables printed on it (left out of the text)."""
    return [p for number in range(1, doc.page_count + 1)
            for p in narrative(doc.page(number), table_boxes.get(number, []))]


def check_claims(doc: Document, cells: pd.DataFrame, table_boxes: dict[int, list[Box]]
                 ) -> list[Claim]:
    """Every claim of the report's narrative, checked against its published cells.
    `table_boxes`: page number -> the boxes of the tables on it (left out of the text)."""
    return passage_claims(report_narrative(doc, table_boxes), cells)


def claims_summary(claims: list[Claim]) -> dict[str, int]:
    return {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
