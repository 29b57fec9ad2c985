"""Registered cross-checks: named, declared per table in the spec YAML, validated when it loads.

A check turns a report's cells into *equations* (a total and its parts, a percent and its count
and base, two cells that must agree). An equation knows its cells, whether it holds within the
tolerance the printed precision allows, and which value of any one of its cells would make it
hold -- which is what the audit needs to name the most likely wrong cell.

Tolerances follow the printed precision: a sum of n values each rounded to d decimals may be off
by n * 0.5 * 10**-d (plus the total's own rounding); a percent computed from counts must round,
half-up or half-even, to the printed digits. Counts are exact.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Key = tuple[str, str, str]  # (table_id, row_path, column_path)
NO_CELL: Key = ("", "", "")  # the default of an equation's named cells (always given)


@dataclass(frozen=True)
class Num:
    value: float
    decimals: int


Values = dict[Key, Num]


def half(decimals: int) -> float:
    return 0.5 * 10 ** (-decimals)


def round_to(x: float, decimals: int, mode: str) -> Decimal:
    q = Decimal(1).scaleb(-decimals)
    return Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP if mode == "up" else ROUND_HALF_EVEN)


# ---------------------------------------------------------------- equations
@dataclass
class Equation:
    check_id: str
    check: str
    table_id: str
    cells: list[Key]
    description: str

    def holds(self, v: Values) -> bool:
        raise NotImplementedError

    def expected(self, v: Values) -> float | None:
        """What the first cell (the one the equation is about) should be."""
        raise NotImplementedError

    def tolerance(self, v: Values) -> float:
        return 0.0

    def solve(self, cell: Key, v: Values) -> float | None:
        """A value for `cell` that makes the equation hold, others unchanged."""
        raise NotImplementedError

    def candidates(self, cell: Key, v: Values, limit: int = 400) -> list[float]:
        """Every value at the cell's printed precision that makes the equation hold (the solved
        value widened by the tolerance), so the most typo-like one can be chosen."""
        centre = self.solve(cell, v)
        if centre is None:
            return []
        step = 10 ** (-v[cell].decimals)
        span = self.tolerance(v) if cell != self.cells[0] or isinstance(self, SumEquation) \
            else 0.0
        n = min(int(span / step + 1e-9), limit)
        out = []
        for k in range(-n, n + 1):
            x = round(centre + k * step, v[cell].decimals)
            trial = dict(v)
            trial[cell] = Num(x, v[cell].decimals)
            if self.holds(trial):
                out.append(x)
        return out or [round(centre, v[cell].decimals)]


@dataclass
class SumEquation(Equation):
    """total == sum(parts), within the rounding of the printed digits."""

    total: Key = NO_CELL
    parts: list[Key] = field(default_factory=list)

    def tolerance(self, v: Values) -> float:
        tol = sum(half(v[p].decimals) for p in self.parts if v[p].decimals > 0)
        if v[self.total].decimals > 0:
            tol += half(v[self.total].decimals)
        return round(tol, 10)

    def expected(self, v: Values) -> float:
        return sum(v[p].value for p in self.parts)

    def holds(self, v: Values) -> bool:
        return abs(self.expected(v) - v[self.total].value) <= self.tolerance(v) + 1e-9

    def solve(self, cell: Key, v: Values) -> float | None:
        if cell == self.total:
            return self.expected(v)
        if cell in self.parts:
            return v[cell].value + (v[self.total].value - self.expected(v))
        return None


@dataclass
class PercentEquation(Equation):
    """percent == count / base * 100, rounded (half-up or half-even) to the printed digits."""

    percent: Key = NO_CELL
    count: Key = NO_CELL
    base: Key = NO_CELL

    def expected(self, v: Values) -> float | None:
        base = v[self.base].value
        return None if base == 0 else v[self.count].value / base * 100

    def tolerance(self, v: Values) -> float:
        return half(v[self.percent].decimals)

    def holds(self, v: Values) -> bool:
        exp = self.expected(v)
        if exp is None:
            return v[self.percent].value == 0
        d = v[self.percent].decimals
        printed = Decimal(repr(v[self.percent].value)).quantize(Decimal(1).scaleb(-d))
        return printed in (round_to(exp, d, "up"), round_to(exp, d, "even"))

    def candidates(self, cell: Key, v: Values, limit: int = 400) -> list[float]:
        if cell == self.percent:
            return super().candidates(cell, v, limit)
        pct, d = v[self.percent].value, v[self.percent].decimals
        lo, hi = (pct - half(d)) / 100, (pct + half(d)) / 100
        if cell == self.count:
            base = v[self.base].value
            rng = range(int(lo * base), int(hi * base) + 2)
        else:
            count = v[self.count].value
            if lo <= 0:
                return []
            rng = range(int(count / hi), int(count / lo) + 2) if hi > 0 else range(0)
        out = []
        for x in list(rng)[:limit]:
            trial = dict(v)
            trial[cell] = Num(float(x), 0)
            if self.holds(trial):
                out.append(float(x))
        return out

    def solve(self, cell: Key, v: Values) -> float | None:
        d = v[self.percent].decimals
        if cell == self.percent:
            exp = self.expected(v)
            return None if exp is None else float(round_to(exp, d, "up"))
        pct = v[self.percent].value
        if cell == self.count:
            return round(pct / 100 * v[self.base].value)
        if cell == self.base and pct:
            return round(v[self.count].value / pct * 100)
        return None


@dataclass
class EqualEquation(Equation):
    """Two printed cells for the same quantity must agree (within their rounding)."""

    a: Key = NO_CELL
    b: Key = NO_CELL

    def tolerance(self, v: Values) -> float:
        da, db = v[self.a].decimals, v[self.b].decimals
        return 0.0 if da == db else half(min(da, db))

    def expected(self, v: Values) -> float:
        return v[self.b].value

    def holds(self, v: Values) -> bool:
        return abs(v[self.a].value - v[self.b].value) <= self.tolerance(v) + 1e-9

    def solve(self, cell: Key, v: Values) -> float | None:
        if cell == self.a:
            return v[self.b].value
        if cell == self.b:
            return v[self.a].value
        return None


# ---------------------------------------------------------------- the registry
class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class CheckType:
    name: str
    args: type[_Args]
    build: Callable[..., list[Equation]]
    doc: str


CHECKS: dict[str, CheckType] = {}


def register_check(name: str, args: type[_Args]):
    def deco(fn: Callable[..., list[Equation]]):
        CHECKS[name] = CheckType(name, args, fn, (fn.__doc__ or "").strip())
        return fn
    return deco


def validate_check_spec(chk, table, report) -> None:
    """Called by statlift.schemas.specs at load: unknown names and bad arguments fail here."""
    if chk.check not in CHECKS:
        raise KeyError(f"unknown check; registered checks: {', '.join(sorted(CHECKS))}")
    CHECKS[chk.check].args.model_validate(chk.args)


class Grid:
    """Read access to a report's cells for the check builders: match rows/columns by pattern."""

    def __init__(self, values: Values, order: dict[str, tuple[list[str], list[str]]]):
        self.values = values
        self.order = order  # table_id -> (rows, columns) in printed order

    def rows(self, table: str, pattern: str | list[str] = "*") -> list[str]:
        rows = self.order.get(table, ([], []))[0]
        return _match(rows, pattern)

    def columns(self, table: str, pattern: str | list[str] = "*") -> list[str]:
        return _match(self.order.get(table, ([], []))[1], pattern)

    def has(self, key: Key) -> bool:
        return key in self.values


def _match(names: list[str], pattern: str | list[str]) -> list[str]:
    if isinstance(pattern, list):
        return [n for n in names if n in pattern]
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def children(rows: list[str], parent: str) -> list[str]:
    depth = parent.count(" > ") + 1
    return [r for r in rows if r.startswith(parent + " > ") and r.count(" > ") == depth]


@dataclass
class TextCheck:
    """A check over the report's running text rather than a table: it runs on every report,
    takes the narrative (paragraphs with where they are printed) and the report's cells, and
    returns claims, each supported / contradicted / not resolvable (statlift.validate.claims)."""

    name: str
    run: Callable[..., list[Any]]
    doc: str


TEXT_CHECKS: dict[str, TextCheck] = {}


def register_text_check(name: str):
    def deco(fn: Callable[..., list[Any]]):
        TEXT_CHECKS[name] = TextCheck(name, fn, (fn.__doc__ or "").strip())
        return fn
    return deco


class CellRefArgs(_Args):
    table: str | None = None  # default: the table the check is declared on
    row: str
    column: str


class SumsArgs(_Args):
    axis: Literal["rows", "columns", "children"] = "rows"
    total: str | None = None  # total row (axis rows) or total column (axis columns)
    parts: str | list[str] = "*"  # rows / columns that add up to it (default: all others)
    columns: str | list[str] = "*"  # axis rows/children: which columns to check
    rows: str | list[str] = "*"  # axis columns: which rows to check
    total_cells: dict[str, CellRefArgs] | None = None  # axis rows: column -> total elsewhere


@register_check("sums_to_total", SumsArgs)
def sums_to_total(check_id: str, table: str, args: SumsArgs, g: Grid, **_: Any) -> list[Equation]:
    """Parts add up to their total: rows to a total row, columns to a total column, or (axis
    children) the rows indented under a parent row to that parent."""
    eqs: list[Equation] = []
    all_rows = g.rows(table)
    if args.axis == "columns":
        cols = [c for c in g.columns(table, args.parts) if c != args.total]
        for r in g.rows(table, args.rows):
            _add_sum(eqs, check_id, table, (table, r, args.total), [(table, r, c) for c in cols],
                     g, f"{r}: {' + '.join(cols)} = {args.total}")
        return eqs
    for c in g.columns(table, args.columns):
        if args.axis == "children":
            for parent in g.rows(table, args.parts if args.total is None else [args.total]):
                kids = children(all_rows, parent)
                if kids:
                    _add_sum(eqs, check_id, table, (table, parent, c),
                             [(table, k, c) for k in kids], g,
                             f"{c}: rows under {parent!r} add up to it")
        else:
            parts = [r for r in g.rows(table, args.parts) if r != args.total]
            if args.parts == "*":  # default: the other top-level rows (children are in parents)
                parts = [r for r in parts if " > " not in r]
            total: Key = (table, args.total or "", c)
            if args.total_cells is not None:
                if c not in args.total_cells:
                    continue
                ref = args.total_cells[c]
                total = (ref.table or table, ref.row, ref.column)
            _add_sum(eqs, check_id, table, total, [(table, r, c) for r in parts],
                     g, f"{c}: {len(parts)} rows add up to {total[1]!r}"
                        + (f" of {total[0]}" if total[0] != table else ""))
    return eqs


def _add_sum(eqs, check_id, table, total, parts, g: Grid, desc) -> None:
    parts = [p for p in parts if g.has(p)]
    if g.has(total) and parts:
        eqs.append(SumEquation(check_id, "sums_to_total", table, [total] + parts, desc,
                               total=total, parts=parts))


class PercentArgs(_Args):
    count: str  # column pattern of counts, "*" replaced by the group ("* | Number")
    percent: str  # column pattern of percents ("* | Percent")
    base_row: str | None = None  # the row whose count is 100 %
    base_cells: dict[str, CellRefArgs] | None = None  # group -> the base count elsewhere
    rows: str | list[str] = "*"


@register_check("percent_matches_count", PercentArgs)
def percent_matches_count(check_id: str, table: str, args: PercentArgs, g: Grid,
                          **_: Any) -> list[Equation]:
    """Each percent equals its count divided by the base row's count, times 100, at the printed
    precision (half-up and half-even rounding both accepted)."""
    eqs: list[Equation] = []
    pre, _star, post = args.percent.partition("*")
    for pcol in g.columns(table, args.percent):
        group = pcol[len(pre): len(pcol) - len(post) if post else None]
        ccol = args.count.replace("*", group)
        base: Key = (table, args.base_row or "", ccol)
        if args.base_cells is not None:
            if group not in args.base_cells:
                continue
            ref = args.base_cells[group]
            base = (ref.table or table, ref.row, ref.column)
        for r in g.rows(table, args.rows):
            keys = [(table, r, pcol), (table, r, ccol), base]
            if all(g.has(k) for k in keys):
                eqs.append(PercentEquation(check_id, "percent_matches_count", table, keys,
                                           f"{r} | {pcol} = {ccol} / {base[1]} x 100",
                                           percent=keys[0], count=keys[1], base=keys[2]))
    return eqs


class Percent100Args(_Args):
    rows: str | list[str]  # the rows of one distribution (or a pattern with a group: "Sex > *")
    columns: str | list[str] = "*"


@register_check("percents_sum_to_100", Percent100Args)
def percents_sum_to_100(check_id: str, table: str, args: Percent100Args, g: Grid,
                        **_: Any) -> list[Equation]:
    """The shares of one distribution add up to 100 within their rounding."""
    eqs: list[Equation] = []
    rows = g.rows(table, args.rows)
    hundred = (table, "__100__", "__100__")
    g.values[hundred] = Num(100.0, 0)
    for c in g.columns(table, args.columns):
        parts = [(table, r, c) for r in rows if g.has((table, r, c))]
        if parts:
            eqs.append(SumEquation(check_id, "percents_sum_to_100", table, parts + [hundred],
                                   f"{c}: {len(parts)} shares add up to 100",
                                   total=hundred, parts=parts))
    return eqs


class MatchArgs(_Args):
    cell: CellRefArgs
    other: CellRefArgs
    note: str | None = None


@register_check("matches_other_table", MatchArgs)
def matches_other_table(check_id: str, table: str, args: MatchArgs, g: Grid,
                        **_: Any) -> list[Equation]:
    """The same quantity printed in two places agrees."""
    a = (args.cell.table or table, args.cell.row, args.cell.column)
    b = (args.other.table or table, args.other.row, args.other.column)
    if not (g.has(a) and g.has(b)):
        return []
    return [EqualEquation(check_id, "matches_other_table", table, [a, b],
                          f"{a[0]} {a[1]} | {a[2]} = {b[0]} {b[1]} | {b[2]}", a=a, b=b)]
