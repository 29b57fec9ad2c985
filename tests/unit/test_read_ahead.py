"""read_ahead (flows/run.py): what the command line reads while Prefect's temporary server boots.
Tables first, then the reports' other pages (the audit's running text); it stops as soon as the
server answers, and a table task takes the outcome read ahead instead of reading it again."""
from __future__ import annotations

import logging

import pytest

from statlift.flows import run as flows_run
from statlift.schemas.specs import load_catalog, spec_for
from statlift.settings import DEFAULT_HOME, SCHEMAS_DIR

REPORT = "bjs-ncj250746"  # tables on some pages only


@pytest.fixture()
def job():
    report = spec_for(REPORT, load_catalog(SCHEMAS_DIR / "catalog.yaml"))
    pdf = next((DEFAULT_HOME / "raw" / REPORT).glob("*.pdf"))
    sha = pdf.stem
    yield report, str(pdf), sha
    flows_run._READ_AHEAD.clear()
    flows_run.release_document(REPORT, str(pdf), sha)


def test_reads_every_table_then_every_page_while_the_server_boots(job):
    report, pdf, sha = job
    assert flows_run.read_ahead([job], stop=lambda: False) == len(report.tables)
    doc = flows_run.shared_document(REPORT, pdf, sha)
    assert sorted(doc._pages) == list(range(1, doc.page_count + 1))
    keys = {k[1] for k in flows_run._READ_AHEAD}
    assert keys == {t.table_id for t in report.tables}


def test_stops_when_the_server_answers(job):
    report, pdf, sha = job
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2

    assert flows_run.read_ahead([job], stop=stop) == 2
    assert len(flows_run._READ_AHEAD) == 2


def test_the_report_task_takes_the_outcomes_read_ahead(job, monkeypatch):
    from test_table_cache import MemoryStore

    report, pdf, sha = job
    flows_run.read_ahead([job], stop=lambda: False)
    ahead = dict(flows_run._READ_AHEAD)
    monkeypatch.setattr(flows_run, "_extract", lambda *a: pytest.fail("read twice"))
    monkeypatch.setattr(flows_run, "get_result_store", MemoryStore)
    got = flows_run.table_outcomes(logging.getLogger("t"), report, pdf, sha)
    assert [o.table_id for o in got] == [t.table_id for t in report.tables]
    assert all(any(o is a for a in ahead.values()) for o in got)
    assert not flows_run._READ_AHEAD  # taken, not kept
