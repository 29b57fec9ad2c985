"""A pandera schema per table, built from its spec (one source of truth, never hand-copied).

The schema validates the table's tidy cells: exact row and column paths, units, ranges by unit
(percent 0-100 unless the spec says the figure is a change, counts non-negative integers,
months/years/days positive), no duplicate (row, column) keys. Run lazily: every failure case kept.
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera import extensions

from statlift.schemas.specs import UNITS, TableSpec


def _range_ok(frame: pd.DataFrame, allow_over_100: bool) -> pd.Series:
    value = pd.to_numeric(frame["value"].replace("", None), errors="coerce")
    unit = frame["unit"]
    present = value.notna()
    ok = pd.Series(True, index=frame.index)
    pct = unit.eq("percent") & present
    ok &= ~pct | ((value >= 0) & ((value <= 100) | allow_over_100))
    cnt = unit.eq("count") & present
    ok &= ~cnt | ((value >= 0) & (value == value.round()))
    dur = unit.isin(["months", "years", "days"]) & present
    ok &= ~dur | (value > 0)
    return ok


@extensions.register_check_method(statistics=["allow_over_100"])
def unit_range(frame: pd.DataFrame, *, allow_over_100: bool) -> pd.Series:
    """Registered pandera check: each value within its unit's range."""
    return _range_ok(frame, allow_over_100)


def table_schema(spec: TableSpec) -> pa.DataFrameSchema:
    rows, cols = list(spec.rows), list(spec.columns)
    allow_over_100 = spec.kind == "callouts"  # callouts print changes such as "422%"
    return pa.DataFrameSchema(
        {
            "table_id": pa.Column(str, pa.Check.eq(spec.table_id)),
            "row_path": pa.Column(str, pa.Check.isin(rows, name="row_path_in_spec")
                                  if rows else None),
            "column_path": pa.Column(str, pa.Check.isin(cols, name="column_path_in_spec")
                                     if cols else None),
            "value": pa.Column(str, pa.Check.str_matches(r"^(-?\d+(\.\d+)?)?$",
                                                         name="value_is_number_or_empty")),
            "unit": pa.Column(str, pa.Check.isin(list(UNITS), name="known_unit")),
        },
        checks=[pa.Check.unit_range(allow_over_100=allow_over_100)],
        unique=["row_path", "column_path"],
        name=f"{spec.table_id}",
        strict=False,
        coerce=False,
    )


def validate_table(spec: TableSpec, cells: pd.DataFrame) -> list[dict]:
    """Every failure case of the table's schema, as plain records (empty list: valid)."""
    frame = cells[cells["table_id"] == spec.table_id].astype(
        {"value": str, "unit": str, "row_path": str, "column_path": str}).reset_index(drop=True)
    try:
        table_schema(spec).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        out = []
        for rec in cases.to_dict("records"):
            idx = rec.get("index")
            row = frame.iloc[int(idx)] if idx is not None and not pd.isna(idx) else None
            out.append({"table_id": spec.table_id, "check": str(rec.get("check")),
                        "column": rec.get("column"), "failure": str(rec.get("failure_case")),
                        "row_path": None if row is None else row["row_path"],
                        "column_path": None if row is None else row["column_path"]})
        return out
    return []
