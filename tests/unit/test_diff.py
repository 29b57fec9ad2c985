"""Cell diffs over tidy cells: a renamed label is one relabel per cell, not 2 x N adds/removes."""
from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from statlift.errors import StatliftError
from statlift.publish.diff import (
    CHANGE_COLUMNS,
    change_summary,
    diff_table_text,
    diff_tables,
    write_changes,
)

ROWS = ["Sex > Male", "Sex > Female", "Convicted > Trial"]
COLS = ["2004–2013 | Number", "2004–2013 | Percent"]
VALUES = [["37105", "9.7"], ["1210", "0.3"], ["512", "1.4"]]


def cells(rows=ROWS, cols=COLS, values=VALUES, table="table-02",
          report="bjs-ncj250746", codes=None, units=None, notes=None) -> pd.DataFrame:
    """Tidy cells (the contract's key columns, as read from cells.csv: all strings). `units` /
    `notes`: {(row, col): unit / footnote markers} where they differ from count / none."""
    out = []
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            out.append({"report_id": report, "table_id": table, "row_path": row,
                        "column_path": col, "value": values[i][j],
                        "unit": (units or {}).get((i, j), "count"),
                        "missing_code": (codes or {}).get((i, j), ""),
                        "footnotes": (notes or {}).get((i, j), ""),
                        "row_index": str(i), "column_index": str(j)})
    return pd.DataFrame(out)


def kinds(diff: pd.DataFrame) -> dict[str, int]:
    return diff["kind"].value_counts().to_dict()


def test_identical_cells_give_an_empty_diff():
    diff = diff_tables(cells(), cells())
    assert list(diff.columns) == CHANGE_COLUMNS and diff.empty


def test_renamed_row_is_one_relabel_per_cell_pair():
    renamed = ["Sex > Men", "Sex > Female", "Convicted > Trial"]
    diff = diff_tables(cells(), cells(rows=renamed))
    assert kinds(diff) == {"relabelled": 2}
    assert diff[["row_path", "column_path", "old", "new"]].values.tolist() == [
        ["Sex > Men", COLS[0], "Sex > Male", "Sex > Men"],
        ["Sex > Men", COLS[1], "Sex > Male", "Sex > Men"]]


def test_renamed_column_is_one_relabel_per_cell_pair():
    renamed = ["2004–2013 | Number", "2004–2013 | Percent of all"]
    diff = diff_tables(cells(), cells(cols=renamed))
    assert kinds(diff) == {"relabelled": 3}
    assert set(zip(diff["old"], diff["new"])) == {(COLS[1], renamed[1])}
    assert list(diff["row_path"]) == ROWS and set(diff["column_path"]) == {renamed[1]}


def test_renamed_row_and_column_together_are_relabels_only():
    diff = diff_tables(cells(), cells(rows=["Sex > Men", *ROWS[1:]],
                                      cols=[COLS[0], "2004–2013 | Share"]))
    assert set(diff["kind"]) == {"relabelled"} and len(diff) == 4


def test_renamed_row_after_an_inserted_row_is_still_a_relabel():
    rows = ["Sex > Unknown", "Sex > Men", "Sex > Female", "Convicted > Trial"]
    diff = diff_tables(cells(), cells(rows=rows, values=[["3", "0.0"], *VALUES]))
    assert kinds(diff) == {"added": 2, "relabelled": 2}
    assert set(diff.loc[diff["kind"] == "added", "row_path"]) == {"Sex > Unknown"}


def test_changed_numbers_are_changed():
    values = [["37105", "9.7"], ["1211", "0.3"], ["512", "1.5"]]
    diff = diff_tables(cells(), cells(values=values))
    assert diff.values.tolist() == [
        ["table-02", "Sex > Female", COLS[0], "1210", "1211", "changed"],
        ["table-02", "Convicted > Trial", COLS[1], "1.4", "1.5", "changed"]]


def test_renamed_row_with_a_changed_number_is_removed_and_added():
    diff = diff_tables(cells(), cells(rows=["Sex > Men", *ROWS[1:]],
                                      values=[["37106", "9.7"], *VALUES[1:]]))
    assert kinds(diff) == {"removed": 2, "added": 2}


def test_added_and_removed_rows():
    more = diff_tables(cells(), cells(rows=[*ROWS, "Convicted > Plea"],
                                      values=[*VALUES, ["9000", "80.1"]]))
    assert kinds(more) == {"added": 2} and set(more["new"]) == {"9000", "80.1"}
    fewer = diff_tables(cells(), cells(rows=ROWS[:2], values=VALUES[:2]))
    assert kinds(fewer) == {"removed": 2}
    assert set(fewer["row_path"]) == {"Convicted > Trial"} and set(fewer["new"]) == {""}


def test_rows_with_weak_numbers_pair_only_at_the_same_position():
    values = [["0", "0"], *VALUES[1:]]
    same_place = diff_tables(cells(values=values),
                             cells(rows=["Sex > Other", *ROWS[1:]], values=values))
    assert kinds(same_place) == {"relabelled": 2}
    moved_rows = [ROWS[1], ROWS[2], "Sex > Other"]
    elsewhere = diff_tables(cells(values=values),
                            cells(rows=moved_rows, values=[VALUES[1], VALUES[2], ["0", "0"]]))
    assert kinds(elsewhere) == {"removed": 2, "added": 2}


def test_identical_renamed_rows_pair_by_position():
    values = [["5", "1.0"], ["5", "1.0"], VALUES[2]]
    diff = diff_tables(cells(values=values), cells(rows=["A", "B", ROWS[2]], values=values))
    pairs = set(zip(diff["old"], diff["new"]))
    assert pairs == {("Sex > Male", "A"), ("Sex > Female", "B")}


def test_missing_code_change_is_a_change():
    diff = diff_tables(cells(values=[["", "9.7"], *VALUES[1:]], codes={(0, 0): "--"}),
                       cells(values=[["", "9.7"], *VALUES[1:]], codes={(0, 0): "~"}))
    assert diff[["old", "new", "kind"]].values.tolist() == [["--", "~", "changed"]]


def test_whole_tables_added_and_removed():
    old = pd.concat([cells(), cells(table="table-03")])
    new = pd.concat([cells(), cells(table="table-04")])
    diff = diff_tables(old, new)
    assert kinds(diff) == {"removed": 6, "added": 6}
    assert set(diff.loc[diff["kind"] == "removed", "table_id"]) == {"table-03"}


def test_cells_of_another_report_are_refused():
    with pytest.raises(StatliftError) as info:
        diff_tables(cells(), cells(report="ussc-cp-production-2021"))
    assert info.value.code == "wrong-report" and "ussc-cp-production-2021" in str(info.value)


def test_write_changes_lists_relabels_once_and_puts_the_newest_entry_first(tmp_path):
    relabel = diff_tables(cells(), cells(rows=["Sex > Men", *ROWS[1:]]))
    changed = diff_tables(cells(), cells(values=[VALUES[0], ["1211", "0.3"], VALUES[2]]))
    first = write_changes(relabel, tmp_path, "a" * 64, "b" * 64,
                          datetime(2026, 1, 5, 6, 0, tzinfo=UTC))
    second = write_changes(changed, tmp_path, "b" * 64, "c" * 64,
                           datetime(2026, 2, 5, 6, 0, tzinfo=UTC))
    assert first["relabelled"] == 2 and second == {"changed": 1, "added": 0, "removed": 0,
                                                    "relabelled": 0, "unit": 0, "footnotes": 0,
                                                     "text": 0}
    md = (tmp_path / "CHANGES.md").read_text(encoding="utf-8")
    assert md.startswith("# Changes\n\n## 2026-02-05 06:00 UTC")
    assert md.index("2026-02-05") < md.index("2026-01-05") and md.count("# Changes") == 1
    assert f"`{'a' * 64}`" in md and f"`{'c' * 64}`" in md
    assert "- cells: 0 changed, 0 added, 0 removed, 2 relabelled" in md
    assert md.count("Sex > Male -> Sex > Men") == 1  # once per label, not once per cell
    assert "| table-02 | Sex > Female | 2004–2013 \\| Number | 1210 | 1211 | changed |" in md
    csv = pd.read_csv(tmp_path / "changes.csv", dtype=str, keep_default_na=False)
    assert list(csv.columns) == [*CHANGE_COLUMNS, "old_sha256", "new_sha256", "changed_at"]
    assert csv[CHANGE_COLUMNS].values.tolist() == changed.values.tolist()
    assert set(csv["new_sha256"]) == {"c" * 64}


# ---- unit and footnotes: a change of what a cell is, not only of what it reads --------------

PERCENT = {(i, 1): "percent" for i in range(len(ROWS))}


def test_unit_change_alone_is_listed_with_its_kind():
    """A unit rule changed in the spec: the readings are the same, the units are not (it was
    "0 cells changed" and no changes.csv)."""
    diff = diff_tables(cells(), cells(units=PERCENT))
    assert kinds(diff) == {"unit": 3}
    assert diff[["row_path", "column_path", "old", "new"]].values.tolist() == [
        [row, COLS[1], "count", "percent"] for row in ROWS]
    assert change_summary(diff) == (3, "3 cells changed (3 units), 0 labels renamed")


def test_footnote_change_alone_is_listed_with_its_kind():
    diff = diff_tables(cells(notes={(0, 0): "a"}), cells(notes={(0, 0): "a;b", (2, 1): "*"}))
    assert diff[["row_path", "column_path", "old", "new", "kind"]].values.tolist() == [
        [ROWS[0], COLS[0], "a", "a;b", "footnotes"], [ROWS[2], COLS[1], "", "*", "footnotes"]]
    assert change_summary(diff) == (2, "2 cells changed (2 footnotes), 0 labels renamed")


def test_value_and_unit_of_one_cell_are_two_lines_and_one_cell():
    values = [VALUES[0], ["1211", "0.3"], VALUES[2]]
    diff = diff_tables(cells(), cells(values=values, units={(1, 0): "percent"}))
    assert diff[["row_path", "old", "new", "kind"]].values.tolist() == [
        [ROWS[1], "1210", "1211", "changed"], [ROWS[1], "count", "percent", "unit"]]
    assert change_summary(diff) == (1, "1 cell changed (1 value, 1 unit), 0 labels renamed")


def test_relabelled_row_with_another_unit_is_a_relabel_and_a_unit_change():
    renamed = ["Sex > Men", *ROWS[1:]]
    diff = diff_tables(cells(), cells(rows=renamed, units={(0, 1): "percent"}))
    assert kinds(diff) == {"relabelled": 2, "unit": 1}
    unit = diff[diff["kind"] == "unit"].iloc[0]
    assert (unit["row_path"], unit["column_path"], unit["old"], unit["new"]) == (
        "Sex > Men", COLS[1], "count", "percent")
    assert change_summary(diff) == (1, "1 cell changed (1 unit), 1 label renamed")


def test_cells_without_unit_or_footnote_columns_still_diff():
    old, new = cells().drop(columns=["unit", "footnotes"]), cells().drop(columns=["unit"])
    assert diff_tables(old, new).empty


def test_write_changes_counts_and_lists_unit_and_footnote_changes(tmp_path):
    diff = diff_tables(cells(), cells(units=PERCENT, notes={(0, 0): "*"}))
    counts = write_changes(diff, tmp_path, "a" * 64, "b" * 64, "2026-03-01 00:00 UTC")
    assert counts["unit"] == 3 and counts["footnotes"] == 1
    md = (tmp_path / "CHANGES.md").read_text(encoding="utf-8")
    assert ("- cells: 0 changed, 0 added, 0 removed, 0 relabelled, 3 with another unit, "
            "1 with other footnotes") in md
    assert "| table-02 | Sex > Male | 2004–2013 \\| Percent | count | percent | unit |" in md
    assert "| table-02 | Sex > Male | 2004–2013 \\| Number |  | * | footnotes |" in md
    csv = pd.read_csv(tmp_path / "changes.csv", dtype=str, keep_default_na=False)
    assert sorted(csv["kind"]) == ["footnotes", "unit", "unit", "unit"]


def test_value_only_changes_keep_the_count_line_as_before(tmp_path):
    changed = diff_tables(cells(), cells(values=[VALUES[0], ["1211", "0.3"], VALUES[2]]))
    write_changes(changed, tmp_path, "a" * 64, "b" * 64, "2026-03-01 00:00 UTC")
    md = (tmp_path / "CHANGES.md").read_text(encoding="utf-8")
    assert "- cells: 1 changed, 0 added, 0 removed, 0 relabelled\n" in md


@pytest.mark.parametrize("new, kind", [(cells(units=PERCENT), "unit"),
                                       (cells(notes={(1, 1): "b"}), "footnotes")])
def test_a_republished_report_writes_changes_for_a_unit_or_footnote_change(tmp_path, new, kind):
    """publish/report.py's step: the change log of a run whose cells differ only in units or
    footnotes (before: "updated: 0 cells changed" and no changes.csv / CHANGES.md)."""
    from statlift.publish.report import _write_changes

    old = cells().assign(source_sha256="a" * 64)
    staging, published = tmp_path / "staging", tmp_path / "published"
    staging.mkdir()
    published.mkdir()
    n, words = _write_changes(staging, old, new.assign(source_sha256="b" * 64), published,
                              "b" * 64)
    assert n >= 1 and words.startswith(f"{n} cell") and f"({n} {kind[:4]}" in words
    csv = pd.read_csv(staging / "changes.csv", dtype=str, keep_default_na=False)
    assert set(csv["kind"]) == {kind} and len(csv) == n
    assert f"| {kind} |" in (staging / "CHANGES.md").read_text(encoding="utf-8")


# ---- the tables' text outside their cells (tables.json) ------------------------------------

def doc(**tables) -> dict:
    """A tables.json with the given tables' text fields over a plain table-02."""
    base = {"caption": "TABLE 2", "title": "Suspects by sex", "stub_header": "Characteristic",
            "notes": ["Note: Detail may not sum to total."], "footnotes": {"a": "Less than 0.5%."},
            "source": "Source: EOUSA, LIONS."}
    return {"report_id": "bjs-ncj250746",
            "tables": {t: {**base, **fields} for t, fields in (tables or {"table-02": {}}).items()}}


def test_a_reworded_note_footnote_and_source_are_text_lines_named_by_item():
    new = doc(**{"table-02": {"notes": ["Note: Details may not sum to totals.", "Revised."],
                              "footnotes": {"b": "Estimate."}, "source": "Source: EOUSA."}})
    diff = diff_table_text(doc(), new)
    assert list(diff.columns) == CHANGE_COLUMNS and set(diff["kind"]) == {"text"}
    assert [tuple(r) for r in diff[["table_id", "row_path", "column_path", "old", "new"]]
            .itertuples(index=False)] == [
        ("table-02", "", "source", "Source: EOUSA, LIONS.", "Source: EOUSA."),
        ("table-02", "", "note 1", "Note: Detail may not sum to total.",
         "Note: Details may not sum to totals."),
        ("table-02", "", "note 2", "", "Revised."),
        ("table-02", "", "footnote a", "Less than 0.5%.", ""),
        ("table-02", "", "footnote b", "", "Estimate.")]


def test_the_same_text_rewrapped_or_a_table_on_one_side_only_is_no_text_change():
    rewrapped = doc(**{"table-02": {"title": "Suspects  by\nsex"}, "table-09": {}})
    assert diff_table_text(doc(), rewrapped).empty  # table-09's cells show it as added
    assert diff_table_text(None, doc()).empty  # nothing published to compare with
    footnote_pairs = doc(**{"table-02": {"footnotes": [["a", "Less than 0.5%."]]}})
    assert diff_table_text(doc(), footnote_pairs).empty


def test_write_changes_and_the_summary_name_a_text_change_apart_from_the_cells(tmp_path):
    texts = diff_table_text(doc(), doc(**{"table-02": {"title": "Suspects by sex, revised"}}))
    changed = diff_tables(cells(), cells(values=[VALUES[0], ["1211", "0.3"], VALUES[2]]))
    diff = pd.concat([changed, texts], ignore_index=True)
    counts = write_changes(diff, tmp_path, "a" * 64, "b" * 64, "2026-03-01 00:00 UTC")
    assert counts["text"] == 1 and counts["changed"] == 1
    md = (tmp_path / "CHANGES.md").read_text(encoding="utf-8")
    assert "- cells: 1 changed, 0 added, 0 removed, 0 relabelled\n- tables' text: 1 changed\n" in md
    assert ("- table-02, title: Suspects by sex -> Suspects by sex, revised\n") in md
    assert "| table-02 | Sex > Female | 2004–2013 \\| Number | 1210 | 1211 | changed |" in md
    assert "| text |" not in md  # not in the cells' table
    csv = pd.read_csv(tmp_path / "changes.csv", dtype=str, keep_default_na=False)
    assert sorted(csv["kind"]) == ["changed", "text"]
    assert change_summary(diff) == (1, "1 cell changed (1 value), 0 labels renamed, 1 text of "
                                       "tables changed (table-02 title)")


def test_a_republished_report_whose_only_change_is_a_note_says_so(tmp_path):
    """publish/report.py's step: the cells are the same, a note was reworded (before: "updated:
    0 cells changed" and no change log)."""
    import json

    from statlift.publish.report import _write_changes

    staging, published = tmp_path / "staging", tmp_path / "published"
    staging.mkdir()
    published.mkdir()
    (published / "tables.json").write_text(json.dumps(doc()), encoding="utf-8")
    new = doc(**{"table-02": {"notes": ["Note: Counts revised in March."]}})
    n, words = _write_changes(staging, cells().assign(source_sha256="a" * 64),
                              cells().assign(source_sha256="b" * 64), published, "b" * 64, new)
    assert (n, words) == (0, "0 cells changed, 0 labels renamed, 1 text of tables changed "
                             "(table-02 note 1)")
    csv = pd.read_csv(staging / "changes.csv", dtype=str, keep_default_na=False)
    assert csv[["table_id", "column_path", "old", "new", "kind"]].values.tolist() == [
        ["table-02", "note 1", "Note: Detail may not sum to total.",
         "Note: Counts revised in March.", "text"]]
    md = (staging / "CHANGES.md").read_text(encoding="utf-8")
    assert ("- table-02, note 1: Note: Detail may not sum to total. -> Note: Counts revised in "
            "March.") in md


@pytest.mark.parametrize("published_json", [None, "{not json"])
def test_a_missing_or_unreadable_published_tables_json_still_diffs_the_cells(tmp_path,
                                                                              published_json):
    from statlift.publish.report import _write_changes

    staging, published = tmp_path / "staging", tmp_path / "published"
    staging.mkdir()
    published.mkdir()
    if published_json is not None:
        (published / "tables.json").write_text(published_json, encoding="utf-8")
    new = cells(values=[VALUES[0], ["1211", "0.3"], VALUES[2]]).assign(source_sha256="b" * 64)
    n, words = _write_changes(staging, cells().assign(source_sha256="a" * 64), new, published,
                              "b" * 64, doc())
    assert (n, words) == (1, "1 cell changed (1 value), 0 labels renamed")
    csv = pd.read_csv(staging / "changes.csv", dtype=str, keep_default_na=False)
    assert list(csv["kind"]) == ["changed"]
    if published_json is not None:  # left as it was
        assert (published / "tables.json").read_text(encoding="utf-8") == published_json
