"""Each table of a report is cached in Prefect's result store on its build key (flows/run.py
table_outcomes, publish/uptodate.py table_cache_key), read inside the report's task run rather
than as a task run of its own: a second run reads no table again, a changed table spec re-reads
that table only, PREFECT_TASKS_REFRESH_CACHE reads them all, and an unreadable entry is read
again, never fatal."""
from __future__ import annotations

import logging
import re
from types import SimpleNamespace

import pytest
from prefect.settings import PREFECT_TASKS_REFRESH_CACHE, temporary_settings

from statlift.flows import run as flows_run
from statlift.model import TableOutcome
from statlift.schemas.specs import load_catalog, spec_for
from statlift.settings import DEFAULT_HOME, SCHEMAS_DIR

REPORT = "ussc-cp-production-2021"


class MemoryStore:
    """The part of Prefect's ResultStore table_outcomes uses, in memory."""

    shared: dict = {}

    def __init__(self) -> None:
        self.records = MemoryStore.shared

    def exists(self, key: str) -> bool:
        return key in self.records

    def read(self, key: str):
        value = self.records[key]
        if isinstance(value, Exception):
            raise value
        return SimpleNamespace(result=value)

    def write(self, obj, key: str) -> None:
        self.records[key] = obj

    def model_copy(self, update: dict | None = None) -> MemoryStore:
        return self


@pytest.fixture()
def setup(monkeypatch):
    MemoryStore.shared = {}
    monkeypatch.setattr(flows_run, "get_result_store", MemoryStore)
    report = spec_for(REPORT, load_catalog(SCHEMAS_DIR / "catalog.yaml"))
    pdf = next((DEFAULT_HOME / "raw" / REPORT).glob("*.pdf"))
    read: list[str] = []
    real = flows_run._extract

    def counting(doc, report, spec):
        read.append(spec.table_id)
        return real(doc, report, spec)

    monkeypatch.setattr(flows_run, "_extract", counting)
    yield report, str(pdf), pdf.stem, read
    flows_run.release_document(REPORT, str(pdf), pdf.stem)


def _run(report, pdf, sha, caplog) -> list[TableOutcome]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="statlift-test"):
        return flows_run.table_outcomes(logging.getLogger("statlift-test"), report, pdf, sha)


def test_a_second_run_reads_no_table_again(setup, caplog):
    report, pdf, sha, read = setup
    first = _run(report, pdf, sha, caplog)
    ids = [t.table_id for t in report.tables]
    assert read == ids and len(MemoryStore.shared) == len(ids)
    assert "(cached)" not in caplog.text
    second = _run(report, pdf, sha, caplog)
    assert read == ids  # nothing read again
    assert caplog.text.count("(cached)") == len(ids)
    assert second == first


def test_prefects_own_result_store_gives_the_tables_back(setup, caplog, tmp_path, monkeypatch):
    """Prefect's ResultStore (pickles in a local folder, as a run's default) round-trips every
    table."""
    from prefect.filesystems import LocalFileSystem
    from prefect.results import ResultStore

    report, pdf, sha, read = setup
    storage = LocalFileSystem(basepath=str(tmp_path / "storage"))
    monkeypatch.setattr(flows_run, "get_result_store",
                        lambda: ResultStore(result_storage=storage))
    first = _run(report, pdf, sha, caplog)
    second = _run(report, pdf, sha, caplog)
    assert len(read) == len(report.tables) and caplog.text.count("(cached)") == len(read)
    assert second == first and second[1] is not first[1]
    assert len(list((tmp_path / "storage").iterdir())) == len(report.tables)


def test_the_tables_are_not_kept_in_the_flow_runs_memory(setup, caplog, tmp_path, monkeypatch):
    """A task run's result store shares the flow run's in-memory cache of what it writes (up to
    1,000 records): every table's frames stayed in the process that read them for the rest of
    the run (the command line's, with the threads runner). They go to storage only."""
    from prefect.filesystems import LocalFileSystem
    from prefect.results import ResultStore

    report, pdf, sha, read = setup
    flow_store = ResultStore(result_storage=LocalFileSystem(basepath=str(tmp_path / "storage")))
    monkeypatch.setattr(flows_run, "get_result_store", lambda: flow_store)
    first = _run(report, pdf, sha, caplog)
    assert len(flow_store.cache) == 0
    assert len(list((tmp_path / "storage").iterdir())) == len(report.tables)
    assert _run(report, pdf, sha, caplog) == first  # read back from storage
    assert caplog.text.count("(cached)") == len(report.tables) and len(flow_store.cache) == 0


def test_long_report_and_table_ids_are_cached_too(setup, caplog, tmp_path, monkeypatch):
    """The key is a file name in Prefect's local result store: with the build key written out
    in full, ids of more than 45 characters together went over the 255-byte limit and the
    table was never cached ("File name too long", a warning at every run)."""
    from prefect.filesystems import LocalFileSystem
    from prefect.results import ResultStore

    report, pdf, sha, read = setup
    long_id = "bjs-federal-prosecution-of-child-sexual-exploitation-offenders-2021-revised"
    tables = [t.model_copy(update={"table_id": f"{t.table_id}-by-offense-type-and-fiscal-year"})
              for t in report.tables]
    long = report.model_copy(update={"report_id": long_id, "tables": tables})
    storage = LocalFileSystem(basepath=str(tmp_path / "storage"))
    monkeypatch.setattr(flows_run, "get_result_store",
                        lambda: ResultStore(result_storage=storage))
    try:
        first = _run(long, pdf, sha, caplog)
        assert "not stored" not in caplog.text
        second = _run(long, pdf, sha, caplog)
    finally:
        flows_run.release_document(long_id, pdf, sha)
    assert len(read) == len(tables) and caplog.text.count("(cached)") == len(tables)
    assert second == first
    names = [p.name for p in (tmp_path / "storage").iterdir()]
    assert len(names) == len(tables)
    assert all(len(n) <= 200 and re.fullmatch(r"[A-Za-z0-9._-]+", n) for n in names), names


def test_a_changed_table_spec_reads_that_table_only(setup, caplog):
    report, pdf, sha, read = setup
    _run(report, pdf, sha, caplog)
    read.clear()
    changed = report.tables[1].model_copy(update={"description": "its spec changed"})
    edited = report.model_copy(update={"tables": [report.tables[0], changed,
                                                  *report.tables[2:]]})
    _run(edited, pdf, sha, caplog)
    assert read == [changed.table_id]


def test_refresh_cache_reads_every_table(setup, caplog):
    report, pdf, sha, read = setup
    _run(report, pdf, sha, caplog)
    with temporary_settings({PREFECT_TASKS_REFRESH_CACHE: True}):
        _run(report, pdf, sha, caplog)
    assert read == [t.table_id for t in report.tables] * 2


def test_an_unreadable_entry_is_read_again(setup, caplog):
    report, pdf, sha, read = setup
    _run(report, pdf, sha, caplog)
    key = next(iter(MemoryStore.shared))
    MemoryStore.shared[key] = ValueError("truncated pickle")
    read.clear()
    _run(report, pdf, sha, caplog)
    assert len(read) == 1 and "unreadable (ValueError: truncated pickle); read again" in \
        caplog.text


def test_a_store_that_cannot_write_loses_nothing(setup, caplog, monkeypatch):
    report, pdf, sha, read = setup
    monkeypatch.setattr(MemoryStore, "write", lambda self, obj, key: (_ for _ in ()).throw(
        OSError("No space left on device")))
    got = _run(report, pdf, sha, caplog)
    assert [o.table_id for o in got] == [t.table_id for t in report.tables]
    assert "not stored in Prefect's result store (OSError: No space left on device)" in \
        caplog.text
