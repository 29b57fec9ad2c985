"""Run a report's declared cross-checks over its cells; findings name the most likely wrong cell.

    cells (tidy frame) -> values -> equations (statlift.validate.checks) -> results -> findings
Every equation run is kept (passed too). A failed equation becomes a finding with its cells,
expected vs printed value, tolerance, a class (source inconsistency vs extraction suspect) and
the one cell whose correction makes the most failing equations hold while breaking none.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from statlift.frames import records
from statlift.model import UNCONFIRMED, UNREADABLE
from statlift.schemas.specs import ReportSpec
from statlift.validate.checks import CHECKS, Equation, Grid, Key, Num, Values

log = logging.getLogger(__name__)
SYNTHETIC = "__100__"


def values_from_cells(cells: pd.DataFrame) -> tuple[Values, dict]:
    values: Values = {}
    order: dict[str, tuple[list[str], list[str]]] = {}
    for rec in records(cells):
        table_id, row, col = str(rec["table_id"]), str(rec["row_path"]), str(rec["column_path"])
        rows, cols = order.setdefault(table_id, ([], []))
        if row not in rows:
            rows.append(row)
        if col not in cols:
            cols.append(col)
        value, dec = rec["value"], rec.get("decimals")
        if value not in ("", None) and not pd.isna(value):
            values[(table_id, row, col)] = Num(
                float(value), int(dec) if dec not in ("", None) and not pd.isna(dec) else 0)
    return values, order


def build_equations(spec: ReportSpec, values: Values, order: dict) -> list[Equation]:
    grid = Grid(values, order)
    eqs: list[Equation] = []
    for table in spec.tables:
        for n, chk in enumerate(table.checks, 1):
            ctype = CHECKS[chk.check]
            check_id = chk.id or f"{table.table_id}/{chk.check}#{n}"
            args = ctype.args.model_validate(chk.args)
            eqs += ctype.build(check_id, table.table_id, args, grid)
    return eqs


@dataclass
class Candidate:
    """Another cell that explains a failed check exactly as well as the culprit."""

    cell: Key
    printed: float
    suggested: float


@dataclass
class Culprit:
    cell: Key
    printed: float
    suggested: float
    fixes: int
    breaks: int
    unique: bool
    tied: list[Candidate] = field(default_factory=list)  # equally good cells (unique is False)


@dataclass
class FailedCheck:
    """A failed equation with what the audit found about it (audit.json's record of it is
    statlift.model.Finding)."""

    equation: Equation
    expected: float | None
    printed: float
    tolerance: float
    cls: str  # "source inconsistency" | "extraction suspect"
    severity: str
    culprit: Culprit | None
    acknowledged: str | None = None
    cells_meta: list[dict] = field(default_factory=list)


def _with(values: Values, cell: Key, new: float) -> Values:
    out = dict(values)
    out[cell] = Num(float(new), values[cell].decimals)
    return out


def _by_cell(eqs: list[Equation]) -> dict[Key, list[Equation]]:
    index: dict[Key, list[Equation]] = {}
    for eq in eqs:
        for c in eq.cells:
            index.setdefault(c, []).append(eq)
    return index


def typo_distance(a: str, b: str) -> int:
    """Edits between two printed numbers (substitution, insertion, deletion, adjacent swap):
    transcription errors are usually one edit away from the true value."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _printed(num: Num) -> str:
    return f"{num.value:.{num.decimals}f}"


def find_culprit(eq: Equation, values: Values, status: dict[int, bool],
                 index: dict[Key, list[Equation]]) -> Culprit | None:
    """The cell of `eq` whose correction makes the most failing equations hold while breaking
    none; ties go to the correction closest to a typo of the printed number, then to the cell
    the fewest holding checks vouch for. Cells still tied after that explain the check equally
    well: the first (in the check's order) is returned with the others as `tied`, and the audit
    names them all, picking none."""
    scored = []
    for cell in eq.cells:
        if cell[1] == SYNTHETIC:
            continue
        related = index.get(cell, [])
        support = sum(1 for e in related if status[id(e)])
        best = None
        for new in eq.candidates(cell, values):
            trial = _with(values, cell, new)
            fixes = sum(1 for e in related if not status[id(e)] and e.holds(trial))
            breaks = sum(1 for e in related if status[id(e)] and not e.holds(trial))
            dist = typo_distance(_printed(values[cell]), _printed(trial[cell]))
            key = (breaks > 0, -fixes, dist, support)
            if best is None or key < best[0]:
                best = (key, new, fixes, breaks)
        if best is not None:
            scored.append((best[0], cell, best[1], best[2], best[3]))
    if not scored:
        return None
    scored.sort(key=lambda s: s[0])  # stable: tied cells stay in the check's order
    key, cell, new, fixes, breaks = scored[0]
    tied = [Candidate(c, values[c].value, n) for k, c, n, _, _ in scored[1:] if k == key]
    return Culprit(cell, values[cell].value, new, fixes, breaks, not tied, tied)


def classify(eq: Equation, cell_meta: dict[Key, dict]) -> str:
    """Both engines and the text layer read the same printed values -> the publication's own
    inconsistency; otherwise our reading is suspect."""
    return classify_cells(eq.cells, cell_meta)


def classify_cells(cells: list[Key], cell_meta: dict[Key, dict]) -> str:
    """"extraction suspect" if a reader did not confirm one of `cells`, else "source
    inconsistency" (the printed numbers themselves disagree)."""
    for c in cells:
        meta = cell_meta.get(c)
        if meta is None:
            continue
        flags = str(meta.get("flags") or "")
        engines = str(meta.get("engines") or "").split(";")
        if UNCONFIRMED in flags or UNREADABLE in flags or len(engines) < 2:
            return "extraction suspect"
    return "source inconsistency"


def acknowledged_reason(spec: ReportSpec, eq: Equation, culprit: Culprit | None) -> str | None:
    return acknowledgement(spec, eq.table_id, eq.check_id, eq.cells)


def acknowledgement(spec: ReportSpec, table_id: str, check_id: str, cells: list[Key]
                    ) -> str | None:
    """The reason the table's spec gives for accepting a failed check (by check id and/or one
    of its cells), or None."""
    table = next((t for t in spec.tables if t.table_id == table_id), None)
    for ack in (table.acknowledged if table else []):
        if ack.get("check_id") and ack["check_id"] != check_id:
            continue
        cell = ack.get("cell")
        if cell and not any(c[1] == cell.get("row") and c[2] == cell.get("column")
                            for c in cells):
            continue
        return ack.get("reason", "acknowledged in the spec")
    return None


def cell_records(cells: pd.DataFrame) -> dict[tuple, dict]:
    """Each cell's record (cells.csv's fields) by (table_id, row_path, column_path)."""
    return {(r["table_id"], r["row_path"], r["column_path"]): r for r in records(cells)}


def audit_cells(spec: ReportSpec, cells: pd.DataFrame) -> tuple[list[dict], list[FailedCheck]]:
    """Run every check; return (all equation results, findings)."""
    values, order = values_from_cells(cells)
    eqs = build_equations(spec, values, order)
    status = {id(e): e.holds(values) for e in eqs}
    index = _by_cell(eqs)
    meta = cell_records(cells)
    results, findings = [], []
    for eq in eqs:
        ok = status[id(eq)]
        printed = values[eq.cells[0]].value
        results.append({"check_id": eq.check_id, "check": eq.check, "table_id": eq.table_id,
                        "description": eq.description, "passed": ok,
                        "expected": eq.expected(values), "printed": printed,
                        "tolerance": eq.tolerance(values),
                        "cells": [list(c) for c in eq.cells if c[1] != SYNTHETIC]})
        if ok:
            continue
        culprit = find_culprit(eq, values, status, index)
        cls = classify(eq, meta)
        ack = acknowledged_reason(spec, eq, culprit)
        severity = "info" if ack else ("warning" if cls == "source inconsistency" else "error")
        findings.append(FailedCheck(eq, eq.expected(values), printed, eq.tolerance(values), cls,
                                severity, culprit, ack,
                                [meta[c] for c in eq.cells if c in meta]))
    return results, findings
