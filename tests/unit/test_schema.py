"""The report's pandera schema: each bad cell is reported once per check it fails, naming the
table, the check, the column and the value; good cells, and cells of tables the spec does not
list, pass."""
import pandas as pd
import pytest

from statlift.schemas.specs import ReportSpec
from statlift.validate.schema import validate_report

SPEC = ReportSpec.model_validate({
    "report_id": "r", "spec_version": 1,
    "tables": [
        {"table_id": "t1", "caption": "Table 1", "rows": ["A", "B"], "columns": ["N", "P"]},
        {"table_id": "t2", "caption": "Highlights", "kind": "callouts"},  # lists no paths
    ],
})


def cell(table="t1", row="A", col="N", value="5", unit="count"):
    return {"table_id": table, "row_path": row, "column_path": col, "value": value,
            "unit": unit}


def good():
    return [cell(), cell(col="P", value="12.5", unit="percent"), cell(row="B", value=""),
            cell(row="B", col="P", value="0", unit="percent"),
            cell("t2", "anything", "goes", "422", "percent"),  # a callout's change
            cell("t2", "x", "y", "3", "months")]


def failures(cells):
    return [(f["table_id"], f["check"], f["column"], f["failure"], f["row_path"],
             f["column_path"]) for f in validate_report(SPEC, pd.DataFrame(cells))]


def test_good_cells_pass_and_other_tables_are_not_judged():
    assert failures(good()) == []
    assert failures(good() + [cell("elsewhere", "?", "?", "x", "bogus")]) == []


@pytest.mark.parametrize("change, expected", [
    ({"value": "12a"}, ("value_is_number_or_empty", "value", "12a")),
    ({"value": "1,234"}, ("value_is_number_or_empty", "value", "1,234")),
    ({"unit": "bogus"}, ("known_unit", "unit", "bogus")),
    ({"row": "C"}, ("row_path_in_spec", "row_path", "C")),
    ({"col": "Q"}, ("column_path_in_spec", "column_path", "Q")),
    ({"value": "-3"}, ("value_in_unit_range", "value", "-3 (count)")),
    ({"value": "2.5"}, ("value_in_unit_range", "value", "2.5 (count)")),
    ({"value": "100.1", "unit": "percent"}, ("value_in_unit_range", "value", "100.1 (percent)")),
    ({"value": "0", "unit": "years"}, ("value_in_unit_range", "value", "0 (years)")),
])
def test_each_bad_cell_is_reported_once_for_the_check_it_fails(change, expected):
    bad = cell(**change)
    row, col = bad["row_path"], bad["column_path"]
    cells = [bad] + good()[1:]
    assert failures(cells) == [("t1",) + expected + (row, col)]


def test_a_duplicate_key_is_reported_once_at_the_second_cell():
    cells = good() + [cell(value="6")]
    assert failures(cells) == [("t1", "key_is_unique", "row_path, column_path",
                                "duplicate of an earlier cell", "A", "N")]


def test_percent_over_100_only_in_callouts_and_failures_in_spec_order():
    cells = [cell("t2", "x", "z", "-1", "percent")] + good() + [cell(value="1.5")]
    got = failures(cells)
    # t1's failure first (the spec's table order), then t2's; a negative percent fails anywhere
    assert [(f[0], f[1], f[3]) for f in got] == [
        ("t1", "value_in_unit_range", "1.5 (count)"),
        ("t1", "key_is_unique", "duplicate of an earlier cell"),
        ("t2", "value_in_unit_range", "-1 (percent)"),
    ]
