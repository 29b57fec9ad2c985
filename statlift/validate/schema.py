"""A pandera schema per report, built from its spec (one source of truth, never hand-copied).

The schema validates the report's tidy cells, each table's by its own spec: exact row and column
paths, units, ranges by unit (percent 0-100 unless the table prints changes, counts
non-negative integers, months/years/days positive), no duplicate (table, row, column) keys. Run
lazily: every failure kept, reported once per failing cell and check (`validate_report`).

One validation per report, not one per table (issue 15): pandera's cost is mostly per check
call, not per row (BJS's 10 tables: 10 validations took 90-210 ms, most of it that overhead).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from statlift.frames import records
from statlift.schemas.specs import UNITS, ReportSpec

KEY = ["table_id", "row_path", "column_path"]
NUMBER = r"^(-?\d+(\.\d+)?)?$"


@dataclass(frozen=True)
class _Rule:
    """What a failure of one check says: the column it is about and the failing value."""

    column: str
    failure: Callable[[pd.Series], str]


RULES: dict[str, _Rule] = {  # check name -> its failure record, in the order they are listed
    "row_path_in_spec": _Rule("row_path", lambda row: row["row_path"]),
    "column_path_in_spec": _Rule("column_path", lambda row: row["column_path"]),
    "value_is_number_or_empty": _Rule("value", lambda row: row["value"]),
    "known_unit": _Rule("unit", lambda row: row["unit"]),
    "value_in_unit_range": _Rule("value", lambda row: f"{row['value']} ({row['unit']})"),
    "key_is_unique": _Rule("row_path, column_path", lambda row: "duplicate of an earlier cell"),
}


def _in_spec(frame: pd.DataFrame, column: str, allowed: set[tuple[str, str]],
             any_path: set[str]) -> pd.Series:
    """Each cell's path listed by its table's spec (a table that lists none takes any)."""
    pairs = pd.MultiIndex.from_arrays([frame["table_id"], frame[column]])
    return pd.Series(pairs.isin(allowed), index=frame.index) | frame["table_id"].isin(any_path)


def _range_ok(frame: pd.DataFrame, over_100: set[str]) -> pd.Series:
    value = pd.to_numeric(frame["value"].replace("", None), errors="coerce")
    unit = frame["unit"]
    present = value.notna()
    ok = pd.Series(True, index=frame.index)
    pct = unit.eq("percent") & present
    ok &= ~pct | ((value >= 0) & ((value <= 100) | frame["table_id"].isin(over_100)))
    cnt = unit.eq("count") & present
    ok &= ~cnt | ((value >= 0) & (value == value.round()))
    dur = unit.isin(["months", "years", "days"]) & present
    ok &= ~dur | (value > 0)
    return ok


def report_schema(spec: ReportSpec) -> pa.DataFrameSchema:
    """The report's cells' schema: each table's paths and ranges from its own spec."""
    tables = spec.tables
    rows = {(t.table_id, r) for t in tables for r in t.rows}
    cols = {(t.table_id, c) for t in tables for c in t.columns}
    any_row = {t.table_id for t in tables if not t.rows}
    any_col = {t.table_id for t in tables if not t.columns}
    over_100 = {t.table_id for t in tables if t.kind == "callouts"}  # "422%": a change
    units = set(UNITS)
    return pa.DataFrameSchema(
        {
            "table_id": pa.Column(str),
            "row_path": pa.Column(str),
            "column_path": pa.Column(str),
            "value": pa.Column(str, pa.Check(lambda s: s.str.fullmatch(NUMBER),
                                             name="value_is_number_or_empty")),
            "unit": pa.Column(str, pa.Check(lambda s: s.isin(units), name="known_unit")),
        },
        checks=[
            pa.Check(lambda f: _in_spec(f, "row_path", rows, any_row), name="row_path_in_spec"),
            pa.Check(lambda f: _in_spec(f, "column_path", cols, any_col),
                     name="column_path_in_spec"),
            pa.Check(lambda f: _range_ok(f, over_100), name="value_in_unit_range"),
            pa.Check(lambda f: ~f.duplicated(KEY, keep="first"), name="key_is_unique"),
        ],
        name=spec.report_id,
        strict=False,
        coerce=False,
    )


def validate_report(spec: ReportSpec, cells: pd.DataFrame) -> list[dict]:
    """Every failure of the report's schema, one record per failing cell and check, in the
    spec's table order, then the cells' order, then RULES' order (empty list: valid). Cells
    of tables the spec does not list are not the spec's to judge: left out."""
    order = {t.table_id: i for i, t in enumerate(spec.tables)}
    frame = cells[cells["table_id"].isin(order)].astype(
        {"table_id": str, "value": str, "unit": str, "row_path": str, "column_path": str}
    ).reset_index(drop=True)
    try:
        report_schema(spec).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _records(frame, exc.failure_cases, order)
    return []


def _records(frame: pd.DataFrame, cases: pd.DataFrame, order: dict[str, int]) -> list[dict]:
    """pandera's failure cases (a frame-wide check lists a failing row once per column) as one
    record per failing cell and check."""
    seen: dict[tuple, tuple[tuple, dict]] = {}  # key -> (where it sorts, its record)
    checks = list(RULES)
    for case in records(cases):
        check, idx = str(case.get("check")), case.get("index")
        at = None if idx is None or pd.isna(idx) else int(idx)
        key = (check, at) if at is not None else (check, None, str(case.get("failure_case")))
        if key in seen:
            continue
        row = frame.iloc[at] if at is not None else None
        rule = RULES.get(check)
        where = (-1 if row is None else order[row["table_id"]], -1 if at is None else at,
                 checks.index(check) if rule else len(checks))
        seen[key] = (where, {
            "table_id": None if row is None else row["table_id"], "check": check,
            "column": rule.column if rule else case.get("column"),
            "failure": rule.failure(row) if rule and row is not None
            else str(case.get("failure_case")),
            "row_path": None if row is None else row["row_path"],
            "column_path": None if row is None else row["column_path"],
        })
    return [record for _, record in sorted(seen.values(), key=lambda item: item[0])]
