"""Numbers the report states in its text, checked against its own tables.

    narrative (body-size text of each page, column by column, tables left out)
    -> sentences -> claims found by pattern:
         change  "increased 54%, from 2,972 to 4,579"    the stated change, recomputed
         share   "... 21,887 defendants ... 81.1% ..."   a share of a total the tables print
         count   "a total of 37,105 suspects"            a number the tables print
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
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pandas as pd

from statlift.extractors.locate import text_columns
from statlift.extractors.pdfdoc import Document, PageText
from statlift.extractors.textlines import page_lines

NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
UP = ("increased", "increase", "grew", "rose", "up", "growth", "more than doubled")
DOWN = ("decreased", "decrease", "declined", "decline", "fell", "dropped", "down")
CHANGE = re.compile(
    rf"\b(?P<verb>{'|'.join(UP + DOWN)})\b(?:\s+by)?\s+(?:about\s+|nearly\s+|almost\s+)?"
    rf"(?P<pct>{NUMBER})%(?P<rest>[^.;]{{0,160}})", re.I)
FROM_TO = re.compile(rf"\bfrom\s+(?P<a>{NUMBER})(?P<a_pct>%)?(?:\s+\w+){{0,3}}?\s+to\s+"
                     rf"(?P<b>{NUMBER})(?P<b_pct>%)?", re.I)
COUNT_SHARE = re.compile(rf"(?P<n>{NUMBER})\s*\((?P<pct>{NUMBER})%\)")
SHARE = re.compile(rf"(?<![\d,.])(?P<pct>{NUMBER})%")
TOTAL = re.compile(r"\b(?:of\s+the|a\s+total\s+of|all)\s+(?P<n>\d{1,3}(?:,\d{3})+)\b", re.I)
COUNT = re.compile(r"(?<![\d.])(?P<n>\d{1,3}(?:,\d{3})+)(?![\d%])")
STOP = {"the", "of", "and", "or", "in", "to", "for", "a", "an", "by", "with", "from", "on",
        "all", "other", "total", "number", "percent", "were", "was", "had", "that", "as"}
VERDICTS = ("supported", "contradicted", "not resolvable")


@dataclass(frozen=True)
class CellRef:
    table_id: str
    row_path: str
    column_path: str
    raw_text: str


@dataclass
class Claim:
    page: int
    sentence: str
    kind: str  # change | share | count
    stated: str
    verdict: str
    computed: str = ""
    reason: str = ""
    cells: list[CellRef] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"page": self.page, "kind": self.kind, "stated": self.stated,
                "verdict": self.verdict, "computed": self.computed, "reason": self.reason,
                "sentence": self.sentence,
                "cells": [c.__dict__ for c in self.cells]}


# -------------------------------------------------------------------------- the narrative

def narrative(page: PageText, table_boxes: list[tuple[float, float, float, float]]
              ) -> list[str]:
    """The page's running text, one string per text column, tables and small print left out;
    words broken at a line end joined again."""
    lines = page_lines(page.words)
    out = []
    for x0, x1 in text_columns(page, lines) or [(0.0, page.width)]:
        parts: list[str] = []
        for line in lines:
            for run in line.runs:
                if run.x0 < x0 - 3 or run.x1 > x1 + 3 or abs(run.size - page.body_size) > 0.6:
                    continue
                cx, cy = (run.x0 + run.x1) / 2, (run.top + run.bottom) / 2
                if any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in table_boxes):
                    continue
                parts.append(run.text)
        text = ""
        for part in parts:
            if text.endswith("-") and part[:1].islower():
                text = text[:-1] + part
            else:
                text = f"{text} {part}" if text else part
        out.append(text.replace("\u2019", "'"))
    return out


def sentences(text: str) -> list[str]:
    """Split on a full stop, question mark or semicolon followed by a space and a capital,
    keeping decimals and abbreviations such as "U.S." together."""
    parts = re.split(r"(?<=[.?!])\s+(?=[A-Z(])(?<!U\.S\.\s)", text)
    return [p.strip() for p in parts if re.search(r"\d", p)]


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


class CellIndex:
    """The report's cells by printed value, to resolve a stated number."""

    def __init__(self, cells: pd.DataFrame):
        self.cells = cells[cells["value"].astype(str) != ""].copy()
        self.cells["number"] = [Decimal(str(v)) for v in self.cells["value"]]

    def find(self, stated: str, percent: bool | None = None) -> list[CellRef]:
        n = _number(stated)
        hits = self.cells[self.cells["number"] == n]
        if percent is not None:
            hits = hits[(hits["unit"] == "percent") == percent]
        return [CellRef(r.table_id, r.row_path, r.column_path, r.raw_text)
                for r in hits.itertuples(index=False)]

    def table(self, table_id: str) -> pd.DataFrame:
        return self.cells[self.cells["table_id"] == table_id]


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


def change_claims(sentence: str, page: int, index: CellIndex) -> list[Claim]:
    """"increased 54%, from 2,972 to 4,579": the change the two cells give, at the stated
    precision (a "from 2004 to 2013" year range in between is skipped)."""
    out = []
    for m in CHANGE.finditer(sentence):
        pct = m.group("pct")
        ends = next((f for f in FROM_TO.finditer(m.group("rest"))
                     if not (_is_year(f.group("a")) and _is_year(f.group("b")))), None)
        if ends is None:
            continue
        a, b = ends.group("a"), ends.group("b")
        stated = f"{m.group('verb')} {pct}% from {a} to {b}"
        claim = Claim(page, sentence, "change", stated, "not resolvable")
        if ends.group("a_pct") or ends.group("b_pct"):
            claim.reason = "a change between two percentages (points or percent: ambiguous)"
            out.append(claim)
            continue
        first, second = index.find(a, percent=False), index.find(b, percent=False)
        if not first or not second:
            missing = [x for x, hits in ((a, first), (b, second)) if not hits]
            claim.reason = f"{' and '.join(missing)} not printed in any table"
            out.append(claim)
            continue
        pairs = [(x, y) for x in first for y in second if x.table_id == y.table_id
                 and x.row_path == y.row_path] or [(first[0], second[0])]
        claim.cells = list(pairs[0])
        change = (_number(b) - _number(a)) / _number(a) * 100
        claim.computed = f"{change:.2f}%"
        direction_ok = (change >= 0) == (m.group("verb").lower() in UP)
        claim.verdict = "supported" if direction_ok and _rounds_to(abs(change), pct) \
            else "contradicted"
        claim.reason = ("the cells give a change of " + claim.computed +
                        ("" if claim.verdict == "supported" else f", not {pct}%"))
        out.append(claim)
    return out


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
        r = next(percent.itertuples(index=False))
        value = Decimal(r.number)
        claim.reason = f"{r.table_id} prints {r.raw_text} for {r.row_path}"
    elif len(counts) == 1:
        r = next(counts.itertuples(index=False))
        value = Decimal(r.number) / _number(total_text) * 100
        claim.reason = f"{r.raw_text} of {total_text} ({r.row_path}) is {value:.2f}%"
    else:
        claim.reason = f"no single percent or count of {named[0]} beside the total"
        return claim
    claim.cells = [CellRef(r.table_id, r.row_path, r.column_path, r.raw_text), total]
    claim.computed = f"{value:.2f}%"
    claim.verdict = "supported" if _rounds_to(value, pct) else "contradicted"
    return claim


def count_claims(sentence: str, page: int, index: CellIndex, taken: set[str]) -> list[Claim]:
    """A count with a thousands separator that no other claim of the sentence used."""
    out = []
    for m in COUNT.finditer(sentence):
        n = m.group("n")
        if n in taken:
            continue
        hits = index.find(n, percent=False)
        claim = Claim(page, sentence, "count", n, "supported" if hits else "not resolvable",
                      cells=hits[:1],
                      reason=(f"{hits[0].table_id} prints {hits[0].raw_text}" if hits else
                              f"{n} is not printed in any table"))
        out.append(claim)
    return out


def check_claims(doc: Document, cells: pd.DataFrame, table_boxes: dict[int, list[tuple]]
                 ) -> list[Claim]:
    """Every claim of the report's narrative, checked against its published cells.
    `table_boxes`: page number -> the boxes of the tables on it (left out of the text)."""
    index = CellIndex(cells)
    claims: list[Claim] = []
    for number in range(1, doc.page_count + 1):
        page = doc.page(number)
        for column in narrative(page, table_boxes.get(number, [])):
            for sentence in sentences(column):
                found = change_claims(sentence, number, index)
                found += share_claims(sentence, number, index)
                taken = {c.stated.split(" to ")[-1] for c in found} | {
                    x for c in found for x in re.findall(NUMBER, c.stated)}
                found += count_claims(sentence, number, index, taken)
                claims += found
    return claims


def claims_summary(claims: list[Claim]) -> dict[str, int]:
    return {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
