"""processed/statlift.duckdb: typed per-table tables with comments, tidy cells, reports,
tables and findings; written atomically; and the README query example (DuckDB and pandas)."""
import importlib.util
from pathlib import Path

import duckdb
import pytest

from statlift.outputs.demo import write_demo_tree
from statlift.outputs.duckdb import FINDING_FIELDS, build_duckdb

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def processed(tmp_path) -> Path:
    return write_demo_tree(tmp_path) / "processed"


@pytest.fixture()
def db(processed):
    path = build_duckdb(processed)
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def test_one_table_per_extracted_table_plus_shared_tables(db):
    names = {r[0] for r in db.execute("SHOW TABLES").fetchall()}
    assert names == {"bjs_ncj250746__table_01", "bjs_ncj250746__table_02",
                     "ussc_cp_production_2021__sexual_contact",
                     "ussc_cp_production_2021__sentences",
                     "cells", "reports", "tables", "findings"}


def test_wide_table_is_typed_and_commented(db):
    types = dict(db.execute("SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = 'bjs_ncj250746__table_01'").fetchall())
    assert types["row_path"] == "VARCHAR"
    assert types["2013 | Number"] == "BIGINT" and types["2013 | Percent"] == "DOUBLE"
    (comment,), = db.execute("SELECT comment FROM duckdb_tables() "
                             "WHERE table_name = 'bjs_ncj250746__table_01'").fetchall()
    assert comment.startswith("Suspects referred to U.S. attorneys") and "page 3" in comment
    (col,), = db.execute("SELECT comment FROM duckdb_columns() WHERE table_name = "
                         "'ussc_cp_production_2021__sentences' AND column_name = "
                         "'Average sentence | Months'").fetchall()
    assert "unit: months" in col and "header path: Average sentence | Months" in col


def test_cells_value_is_double_next_to_the_printed_text(db):
    row = db.execute("SELECT value, value_text, raw_text, unit, page FROM cells WHERE "
                     "report_id = 'ussc-cp-production-2021' AND table_id = 'sentences' AND "
                     "row_path = 'All production offenders' AND column_path = "
                     "'Average sentence | Months'").fetchone()
    assert row == (275.2, "275.2", "275.2 mos.", "months", 2)
    missing = db.execute("SELECT value, missing_code, missing_meaning FROM cells "
                         "WHERE missing_code <> ''").fetchall()
    assert missing == [(None, "--", "Less than 0.05%")]
    assert db.execute("SELECT count(*) FROM cells").fetchone()[0] == 39 + 19


def test_reports_tables_and_findings(db):
    reports = db.execute("SELECT report_id, processed, authors FROM reports "
                         "ORDER BY report_id").fetchall()
    assert reports[0] == ("bjs-ncj250746", True, "William Adams; Abigail Flynn")
    tables = db.execute("SELECT table_id, db_table, page, row_count FROM tables "
                        "WHERE report_id = 'bjs-ncj250746' ORDER BY table_id").fetchall()
    assert tables[0] == ("table-01", "bjs_ncj250746__table_01", 3, 4)
    finding = db.execute("SELECT finding_id, table_id, class, acknowledged, printed, "
                         "cell_count FROM findings").fetchall()
    assert finding == [("F001", "table-01", "source inconsistency", True, 8.1, 1)]


def test_findings_empty_with_columns_when_never_audited(tmp_path):
    processed = write_demo_tree(tmp_path, with_audit=False) / "processed"
    with duckdb.connect(str(build_duckdb(processed)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM findings").fetchone() == (0,)
        cols = [r[0] for r in con.execute("DESCRIBE findings").fetchall()]
    assert cols == [f.name for f in FINDING_FIELDS]


def test_rebuild_replaces_the_file_and_leaves_no_temp(processed):
    build_duckdb(processed)
    (processed / "statlift.duckdb").write_bytes(b"not a database")
    path = build_duckdb(processed)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tables").fetchone() == (4,)
    assert sorted(p.name for p in processed.iterdir() if p.is_file()) == ["statlift.duckdb"]


def test_failed_build_keeps_the_previous_database(processed, monkeypatch):
    build_duckdb(processed)
    before = (processed / "statlift.duckdb").read_bytes()
    import statlift.outputs.duckdb as mod

    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(mod, "cells_frame", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        build_duckdb(processed)
    assert (processed / "statlift.duckdb").read_bytes() == before
    assert sorted(p.name for p in processed.iterdir() if p.is_file()) == ["statlift.duckdb"]


def _example():
    spec = importlib.util.spec_from_file_location(
        "query_example", REPO / "docs" / "examples" / "query_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_example_duckdb_and_pandas_agree(processed, capsys):
    example = _example()
    build_duckdb(processed)
    by_sql = example.answer_with_duckdb(processed / "statlift.duckdb")
    by_pandas = example.answer_with_pandas(processed)
    assert by_sql == by_pandas
    assert by_sql == {"count": 1031, "total": 4579, "sum_of_offenses": 4579,
                      "percent_printed": 22.5, "percent_computed": 22.516,
                      "sums_to_total": True, "percent_matches": True, "open_findings": 0,
                      "page": 3}
    assert example.main(["query_example.py", str(processed)]) == 0
    assert capsys.readouterr().out.count("1,031 suspects") == 2


def test_readme_example_catches_a_number_that_does_not_add_up(processed):
    example = _example()
    path = processed / "bjs-ncj250746" / "table-01.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",1031,", ",1301,"),
                    encoding="utf-8")
    build_duckdb(processed)
    for answer in (example.answer_with_duckdb(processed / "statlift.duckdb"),
                   example.answer_with_pandas(processed)):
        assert (answer["count"], answer["sums_to_total"], answer["percent_matches"]) == \
            (1301, False, False)


def test_file_connection_gives_each_thread_its_own_file_and_detaches_it(tmp_path):
    """file_connection (each report's part, outputs/incremental.prepare_report): threads writing
    at once each get their own file and rows; every file is detached afterwards, also when the
    caller fails inside (another DuckDB then opens it: an attached file is locked)."""
    from concurrent.futures import ThreadPoolExecutor

    from statlift.outputs import duckdb as db

    def write(i: int) -> None:
        with db.file_connection(tmp_path / f"{i}.duckdb") as con:
            con.execute("BEGIN TRANSACTION")
            con.execute(f"CREATE TABLE t AS SELECT {i} AS i FROM range(1000)")
            con.execute("COMMIT")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(8)))
    with pytest.raises(ValueError, match="the caller failed"):
        with db.file_connection(tmp_path / "failed.duckdb") as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("CREATE TABLE t AS SELECT 1 AS i")
            raise ValueError("the caller failed")
    attached = db._MEMORY[0].execute("SELECT database_name FROM duckdb_databases() "
                                     "WHERE NOT internal").fetchall()
    assert attached == [("memory",)]
    for i in range(8):
        con = duckdb.connect(str(tmp_path / f"{i}.duckdb"), read_only=True)
        assert con.execute("SELECT min(i), max(i), count(*) FROM t").fetchall() == [(i, i, 1000)]
        con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{i}.duckdb" for i in range(8)] + ["failed.duckdb"])  # no WAL left beside them
    duckdb.connect(str(tmp_path / "failed.duckdb")).close()
