"""DuckDB, the site and the data dictionary built incrementally (outputs/incremental.py, issue 15)
are the files a full build writes: after a first build, one report changed (a number, a table
removed, an audit added), one report removed, nothing changed, an edited database or page. The
full build is the code before the incremental one (build_duckdb, build_site,
write_data_dictionary over every report) run on a copy of the same folder.

statlift.duckdb is compared by content, not bytes: two full builds of one folder already differ
in their bytes (DuckDB's file header). Compared: every table's comment, its columns (name, type,
comment) and its rows in storage order (SELECT * without ORDER BY)."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from statlift.extractors.pdfdoc import Document
from statlift.extractors.table import extract_table
from statlift.model import TableOutcome
from statlift.outputs import incremental, metadata
from statlift.outputs.demo import demo_audit, demo_tables, write_demo_report, write_demo_tree
from statlift.outputs.finish import build_downstream
from statlift.outputs.incremental import build_downstream_incremental
from statlift.outputs.processed import TYPED_WIDE, _read_text_csv, typed_wide
from statlift.publish.report import Staged, commit_staged, stage_outcomes
from statlift.schemas.specs import load_catalog, spec_for
from statlift.settings import DEFAULT_HOME

BJS, USSC = "bjs-ncj250746", "ussc-cp-production-2021"


def duckdb_content(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for name, comment in con.execute("SELECT table_name, comment FROM duckdb_tables() "
                                         "ORDER BY table_name").fetchall():
            cols = con.execute("SELECT column_name, data_type, comment FROM duckdb_columns() "
                               "WHERE table_name = ? ORDER BY column_index", [name]).fetchall()
            rows = con.execute(f'SELECT * FROM "{name}"').fetchall()
            out[name] = (comment, cols, rows)
        return out
    finally:
        con.close()


def outputs(processed: Path) -> dict:
    out: dict = {p.relative_to(processed).as_posix(): p.read_bytes()
                 for p in sorted((processed / "site").rglob("*")) if p.is_file()}
    out["data-dictionary.md"] = (processed / "data-dictionary.md").read_bytes()
    out["statlift.duckdb"] = duckdb_content(processed / "statlift.duckdb")
    return out


def differences(a: Path, b: Path) -> list[str]:
    """The output files of two folders that differ (a DuckDB table by name)."""
    oa, ob = outputs(a), outputs(b)
    diff = sorted(k for k in set(oa) | set(ob) if oa.get(k) != ob.get(k))
    if "statlift.duckdb" in diff:
        da, db = oa["statlift.duckdb"], ob["statlift.duckdb"]
        diff += [f"statlift.duckdb:{t}" for t in sorted(set(da) | set(db))
                 if da.get(t) != db.get(t)]
    return diff


def incremental_vs_full(processed: Path, tmp_path: Path) -> tuple[incremental.Built,
                                                                   list[str]]:
    """The incremental build of `processed`, and how it differs from a full build of a copy of
    `processed` as it was before (its earlier outputs included)."""
    ref = tmp_path / f"full-{len(list(tmp_path.glob('full-*')))}"
    shutil.copytree(processed, ref)
    built = build_downstream_incremental(processed, load_catalog())
    build_downstream(ref, incremental=False)
    return built, differences(processed, ref)


def change_ussc(processed: Path) -> None:
    """A new edition of the USSC report: one number changed, a table dropped, an audit added."""
    tables = demo_tables()[USSC]
    first = tables[0]
    rows = [(first.rows[0][0], ["513", "100.0%"])] + first.rows[1:]
    shutil.rmtree(processed / USSC)
    write_demo_report(processed / USSC, USSC, [dataclasses.replace(first, rows=rows)])
    audit = demo_audit()
    audit["summary"]["report_id"] = USSC
    audit["summary"]["tables"] = {"sexual-contact": {"checks": 2, "passed": 1, "findings": 1}}
    audit["findings"][0].update(table_id="sexual-contact", check_id="sexual-contact/sum#1",
                                acknowledged=False, message="printed 513, expected 512")
    (processed / USSC / "audit.json").write_text(json.dumps(audit, indent=2) + "\n",
                                                 encoding="utf-8")


def change_bjs(processed: Path) -> None:
    """A new edition of the BJS report (the first in report order): one number changed."""
    tables = demo_tables()[BJS]
    first = tables[0]
    rows = [(first.rows[0][0], ["37,106"] + first.rows[0][1][1:])] + first.rows[1:]
    write_demo_report(processed / BJS, BJS, [dataclasses.replace(first, rows=rows)] + tables[1:])


@pytest.fixture()
def processed(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the build records
    return write_demo_tree(tmp_path / "demo") / "processed"


def test_first_build_is_the_full_build(processed, tmp_path):
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == []
    assert built.full_duckdb and sorted(built.duckdb_rebuilt) == [BJS, USSC]


def test_one_changed_report_is_the_only_one_rebuilt_and_the_files_are_a_full_builds(
        processed, tmp_path):
    incremental_vs_full(processed, tmp_path)
    change_ussc(processed)
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == []
    assert not built.full_duckdb
    assert (built.duckdb_rebuilt, built.site_rebuilt, built.dictionary_rebuilt) == (
        [USSC], [USSC], [USSC])
    names = set(duckdb_content(processed / "statlift.duckdb"))
    assert "ussc_cp_production_2021__sentences" not in names  # the dropped table is gone


def test_the_changed_report_before_an_unchanged_one_keeps_the_row_order(processed, tmp_path):
    """BJS (first in report order) changed, USSC not: BJS's new rows go before USSC's copied
    ones in cells, tables and findings, as in a full build."""
    incremental_vs_full(processed, tmp_path)
    change_bjs(processed)
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == []
    assert built.duckdb_rebuilt == [BJS] and not built.full_duckdb


def test_nothing_changed_rebuilds_nothing(processed, tmp_path):
    incremental_vs_full(processed, tmp_path)
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == []
    assert (built.duckdb_rebuilt, built.site_rebuilt, built.dictionary_rebuilt) == ([], [], [])


def test_a_removed_report_leaves_no_part_behind(processed, tmp_path):
    incremental_vs_full(processed, tmp_path)
    shutil.rmtree(processed / BJS)
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == []
    assert not built.full_duckdb and built.duckdb_rebuilt == []
    assert not any(n.startswith("bjs") for n in duckdb_content(processed / "statlift.duckdb"))


def test_a_stale_part_is_caught_by_the_comparison(processed, tmp_path, monkeypatch):
    """The comparison can fail: with a key blind to the files, the changed report's old parts are
    reused, and the incremental build differs from the full one in every output."""
    incremental_vs_full(processed, tmp_path)
    monkeypatch.setattr(incremental, "report_key", lambda d, entry, spec: d.name)
    incremental_vs_full(processed, tmp_path)  # records made with the blind key
    change_ussc(processed)
    built, diff = incremental_vs_full(processed, tmp_path)
    assert built.duckdb_rebuilt == []
    assert "statlift.duckdb" in diff and "site/index.html" in diff
    assert f"site/{USSC}/sexual-contact.html" in diff


def test_an_edited_database_or_page_is_built_again(processed, tmp_path):
    incremental_vs_full(processed, tmp_path)
    con = duckdb.connect(str(processed / "statlift.duckdb"))
    con.execute("DELETE FROM cells WHERE report_id = ?", [BJS])
    con.close()
    page = processed / "site" / BJS / "table-01.html"
    page.write_text("edited", encoding="utf-8")
    built, diff = incremental_vs_full(processed, tmp_path)
    assert built.full_duckdb and built.site_rebuilt == [BJS]
    assert page.read_text(encoding="utf-8") != "edited"
    assert differences(processed, tmp_path / "full-0") == []  # the first full build


def test_an_unreadable_record_means_a_full_build(processed, tmp_path):
    incremental_vs_full(processed, tmp_path)
    incremental.state_path(processed).write_bytes(b"not a pickle")
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == [] and built.full_duckdb


def test_a_record_that_does_not_match_the_database_means_a_full_build(processed, tmp_path):
    """The rows copied for the unchanged reports are counted against the record: a mismatch
    (here: a record that says BJS had one cell more) rebuilds the database in full."""
    incremental_vs_full(processed, tmp_path)
    path = incremental.state_path(processed)
    state = incremental.load_state(path, processed)
    record = state.reports[BJS].db
    assert record is not None
    record["rows"]["cells"] += 1
    incremental.save_state(path, state)
    change_ussc(processed)
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == [] and built.full_duckdb
    assert sorted(built.duckdb_rebuilt) == [BJS, USSC]


def test_parts_prepared_by_the_workers_are_copied_in(processed, tmp_path):
    """Cold: each report's parts made where it was published (prepare_report), the build after
    the last report only copies them in; then one report changed and prepared again."""
    for rid in (BJS, USSC):
        assert incremental.prepare_report(processed, rid)
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == []
    assert built.prepared == [BJS, USSC]
    assert (built.duckdb_rebuilt, built.site_rebuilt, built.dictionary_rebuilt) == ([], [], [])
    folder = incremental.prepared_dir(processed)
    assert not list(folder.glob("*.duckdb")) and not list(folder.glob("*.pickle"))  # used
    change_ussc(processed)
    incremental.prepare_report(processed, USSC)
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == [] and built.prepared == [USSC] and not built.full_duckdb


def test_the_build_reads_each_prepared_reports_rows_only_when_it_copies_it_in(
        processed, tmp_path, monkeypatch):
    """The build after the last report holds one report's rows of the shared tables at a time,
    not all N (the command line's memory): each report's rows file is read as the build reaches
    that report, after the previous report was copied in. A rows file that cannot be read then
    makes that one report's part from its published files: the same database."""
    for rid in (BJS, USSC):
        assert incremental.prepare_report(processed, rid)
    events: list[tuple[str, str]] = []
    load_rows, copy_part = incremental.load_rows, incremental._copy_part

    def logged_load(path):
        events.append(("rows", Path(path).name.split(".")[0]))
        return load_rows(path)

    def logged_copy(con, into, part, record, rows, pending):
        events.append(("copy", part.stem))
        return copy_part(con, into, part, record, rows, pending)

    monkeypatch.setattr(incremental, "load_rows", logged_load)
    monkeypatch.setattr(incremental, "_copy_part", logged_copy)
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == [] and built.prepared == [BJS, USSC]
    assert events == [("rows", BJS), ("copy", BJS), ("rows", USSC), ("copy", USSC)]

    def unreadable(path):
        if USSC in Path(path).name:
            raise EOFError("Ran out of input")
        return load_rows(path)

    change_ussc(processed)
    for rid in (BJS, USSC):
        incremental.prepare_report(processed, rid)
    monkeypatch.setattr(incremental, "load_rows", unreadable)
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == [] and built.duckdb_rebuilt == [USSC]


def file_format(path: Path) -> tuple[str, int]:
    """(storage version, block size) of the DuckDB file `path`."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{path}' AS f (READ_ONLY)")
        tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'f'"
                           ).fetchone()
        blocks = con.execute("SELECT block_size FROM pragma_database_size() "
                             "WHERE database_name = 'f'").fetchone()
        assert tags is not None and blocks is not None
        return tags[0].get("storage_version"), blocks[0]
    finally:
        con.close()


def test_every_duckdb_file_is_written_for_duckdb_1_2_and_later_in_small_blocks(processed,
                                                                               tmp_path):
    """DuckDB 2.x writes its newest format unless told, which DuckDB 1.x cannot open, in 256 KiB
    blocks, one per small table (outputs/duckdb.FILE_CONFIG): each report's part, the database
    built from parts, from nothing (a full build) and updated for one changed report."""
    expected = ("v1.2.0+", 16384)
    assert incremental.prepare_report(processed, BJS)
    assert file_format(incremental.prepared_dir(processed) / f"{BJS}.duckdb") == expected
    built, _ = incremental_vs_full(processed, tmp_path)
    assert built.prepared == [BJS] and built.duckdb_rebuilt == [USSC]
    assert file_format(processed / "statlift.duckdb") == expected
    assert file_format(tmp_path / "full-0" / "statlift.duckdb") == expected  # build_duckdb
    change_ussc(processed)
    built, _ = incremental_vs_full(processed, tmp_path)
    assert built.duckdb_rebuilt == [USSC] and not built.full_duckdb
    assert file_format(processed / "statlift.duckdb") == expected


def test_parts_prepared_before_a_later_change_are_not_used(processed, tmp_path):
    incremental_vs_full(processed, tmp_path)
    incremental.prepare_report(processed, USSC)  # prepared for the old edition...
    change_ussc(processed)  # ...which a later run replaced
    built, diff = incremental_vs_full(processed, tmp_path)
    assert diff == []
    assert built.prepared == [] and built.duckdb_rebuilt == [USSC]


def test_the_published_content_is_what_the_files_give_and_prepares_the_same_parts(
        tmp_path, monkeypatch):
    """The report task hands prepare_report the content it has just published (Staged.text)
    instead of letting it parse the files again (issue 15): for a real extraction (USSC's
    shipped PDF), every frame it seeds equals what read_text_csv parses from the published
    file (values, dtypes, columns, index), its tables' metadata equals what the folder gives,
    and the parts prepared both ways are the same (record, shared rows, DuckDB part)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    report = spec_for(USSC)
    pdf = str(DEFAULT_HOME / load_catalog().get(USSC).embedded)
    with Document.open(pdf) as doc:
        outcomes = [TableOutcome(t.table_id, extract_table(doc, report, t)) for t in report.tables]
    sha = hashlib.sha256(Path(pdf).read_bytes()).hexdigest()
    out = tmp_path / "processed"
    staged = stage_outcomes(out, USSC, sha, pdf, outcomes)
    assert isinstance(staged, Staged) and staged.text is not None
    assert commit_staged(out, staged).status == "published"
    folder = out / USSC
    text = staged.text
    pd.testing.assert_frame_equal(text.cells, _read_text_csv(folder / "cells.csv"))
    assert set(text.wides) == {t.table_id for t in report.tables}
    for table_id, wide in text.wides.items():
        pd.testing.assert_frame_equal(wide, _read_text_csv(folder / f"{table_id}.csv"))
    assert metadata.table_metas(text, USSC) == metadata.report_table_metas(folder)
    # the wide tables as the Parquet files typed them: what typed_wide makes from the files
    typed = {k: v for k, v in text.derived.items() if k[0] == TYPED_WIDE}
    assert len(typed) == len(report.tables)
    for (_, table_id, kinds), frame in typed.items():
        pd.testing.assert_frame_equal(frame, typed_wide(folder, table_id, dict(kinds)))

    def prepared(published) -> tuple:
        assert incremental.prepare_report(out, USSC, published=published)
        pfolder = incremental.prepared_dir(out)
        prep = pickle.loads((pfolder / f"{USSC}.pickle").read_bytes())
        site = {p.relative_to(out).as_posix(): p.read_bytes()
                for p in sorted((out / "site").rglob("*")) if p.is_file()}
        rows = incremental.load_rows(pfolder / f"{USSC}{incremental.ROWS_SUFFIX}")
        return (prep.record, {k: [f.to_dict("split") for f in v] for k, v in rows.items()},
                duckdb_content(pfolder / f"{USSC}.duckdb"), site)

    assert prepared(text) == prepared(None)
