"""statlift verify, the pure parts: reading a transcription, matching labels, comparing values."""
from __future__ import annotations

from decimal import Decimal

import pytest

from statlift.errors import StatliftError
from statlift.validate.verify import (
    LabelMatcher,
    Printed,
    compare_value,
    mismatch_kind,
    normalize,
    read_transcription,
)

KNOWN = ["table-01", "table-02"]


def _cell(value: str, raw: str, decimals: int = 0, unit: str = "count") -> Printed:
    return Printed("r", "c", value, raw, decimals, unit, False, 2, "1,2,3,4")


@pytest.mark.parametrize("typed,verdict,kind", [
    ("37,105", "match", ""), ("37105", "match", ""), ("37 105", "match", ""),
    ("37,105*", "match", ""), ("37,105a", "match", ""),
    ("37,150", "mismatch", "transposed digits"), ("3,705", "mismatch", "dropped digit"),
    ("371,055", "mismatch", "extra digit"), ("-37,105", "mismatch", "sign"),
    ("3,710.5", "mismatch", "decimal shift"), ("37,106", "mismatch", "other"),
    ("", "missing-in-transcription", ""), ("abc", "mismatch", "not a number"),
    ("--", "mismatch", "missing symbol"),
])
def test_counts_compare_as_numbers(typed, verdict, kind):
    assert compare_value(typed, _cell("37105", "37,105")) == (verdict, kind)


@pytest.mark.parametrize("typed,verdict,kind", [
    ("9.7%", "match", ""), ("9.7", "match", ""), ("9.70", "match", ""),
    ("0.097", "mismatch", "scale"), ("10", "mismatch", "rounding"), ("7.9", "mismatch",
                                                                    "transposed digits"),
])
def test_percents_compare_at_the_printed_precision(typed, verdict, kind):
    assert compare_value(typed, _cell("9.7", "9.7%", 1, "percent")) == (verdict, kind)


def test_missing_symbols_and_blank_cells():
    missing = Printed("r", "c", "", "--", None, "count", True, 2, "")
    assert compare_value("--", missing) == ("match", "")
    assert compare_value("", missing) == ("match", "")
    assert compare_value("0", missing) == ("mismatch", "missing symbol")
    assert compare_value("12", None) == ("not-in-table", "")
    assert compare_value("", None) == ("match", "")


def test_mismatch_kind_rounding_to_fewer_decimals():
    assert mismatch_kind(Decimal("72"), Decimal("72.1"), 1, "percent") == "rounding"


def test_labels_match_tolerantly_and_in_order():
    printed = ["All offenses", "Sex > Male", "Sex > Female", "Race > Male", "Other"]
    m = LabelMatcher(printed, " > ", {"Females": "Sex > Female"}, totals=["All offenses"])
    assert normalize("  SEX > male* ") == "sex male"
    assert m.match("Total") == "All offenses"
    assert m.match("sex  >  MALE") == "Sex > Male"
    assert m.match("Females") == "Sex > Female"       # --map
    assert m.match("Male") == "Race > Male"           # parent left off: the next in print order
    assert m.match("Other.") == "Other"
    assert m.match("Nothing like it") is None


def test_wide_and_tidy_csv(tmp_path):
    wide = tmp_path / "table-02.csv"
    wide.write_text(",A | Number,A | Percent\nRow one,\"1,234\",5.0%\n", encoding="utf-8")
    values = read_transcription(wide, KNOWN)
    assert [(v.table_id, v.row, v.column, v.text) for v in values] == [
        ("table-02", "Row one", "A | Number", "1,234"), ("table-02", "Row one", "A | Percent",
                                                         "5.0%")]
    assert values[0].where.endswith("table-02.csv:2")
    tidy = tmp_path / "mine.csv"
    tidy.write_text("table_id,row_path,column_path,value\ntable-01,R,C,12\n", encoding="utf-8")
    assert [(v.table_id, v.text) for v in read_transcription(tidy, KNOWN)] == [("table-01", "12")]


def test_a_wide_file_needs_its_table(tmp_path):
    wide = tmp_path / "mine.csv"
    wide.write_text(",A\nRow,1\n", encoding="utf-8")
    with pytest.raises(StatliftError) as exc:
        read_transcription(wide, KNOWN)
    assert exc.value.code == "unknown-table" and "pass --table ID" in str(exc.value)
    assert read_transcription(wide, KNOWN, table="table-01")[0].table_id == "table-01"


@pytest.mark.parametrize("content,code", [
    (b"", "empty-file"),
    (b"\n\n", "empty-file"),
    (b"This is a letter, not a table.\nRegards\n", "not-a-table"),
    (b"%PDF-1.4 binary", "not-a-table"),
])
def test_unusable_input_is_a_clear_error(tmp_path, content, code):
    path = tmp_path / "table-01.csv"
    path.write_bytes(content)
    with pytest.raises(StatliftError) as exc:
        read_transcription(path, KNOWN)
    assert exc.value.code == code and str(path) in str(exc.value)


def test_missing_path_and_unknown_table(tmp_path):
    with pytest.raises(StatliftError,
                       match=r"found no such file; check the path \[file-not-found\]"):
        read_transcription(tmp_path / "nope.csv", KNOWN)
    (tmp_path / "t.csv").write_text(",A\nR,1\n", encoding="utf-8")
    with pytest.raises(StatliftError, match=r"found 'table-99'.*\[unknown-table\]"):
        read_transcription(tmp_path / "t.csv", KNOWN, table="table-99")
