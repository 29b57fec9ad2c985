"""read_ahead (flows/run.py): what the command line reads while Prefect's temporary server boots.
Tables first, then the reports' other pages (the audit's running text), then each report staged
(written and audited into a staging folder, not published); it stops as soon as the server
answers, and the report task takes the outcomes read ahead and the report staged from them
instead of doing that work again."""
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
    flows_run.discard_staged()
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
    monkeypatch.setattr(MemoryStore, "shared", {})
    monkeypatch.setattr(flows_run, "get_result_store", MemoryStore)
    got = flows_run.table_outcomes(logging.getLogger("t"), report, pdf, sha)
    assert [o.table_id for o in got] == [t.table_id for t in report.tables]
    assert all(any(o is a for a in ahead.values()) for o in got)
    assert not flows_run._READ_AHEAD  # taken, not kept
    assert list(MemoryStore.shared.values()) == got  # and stored for the next run


# --- reports staged (written and audited, not published) while the server boots

def _staging_folders(out) -> list:
    return sorted(p.name for p in out.glob(".*staging*")) if out.exists() else []


def test_stages_each_report_and_its_task_commits_what_a_plain_publish_makes(
        job, tmp_path, monkeypatch):
    """read_ahead with an output folder writes and audits the report into a staging folder and
    publishes nothing; the task takes it for the same outcomes and publishes exactly the files
    publish_outcomes makes from them."""
    from outputs_digest import digest_tree
    from test_table_cache import MemoryStore

    from statlift.extractors.pdfdoc import lent
    from statlift.publish.report import commit_staged, publish_outcomes

    report, pdf, sha = job
    ahead, plain = tmp_path / "ahead", tmp_path / "plain"
    flows_run.read_ahead([job], stop=lambda: False, out_dir=str(ahead))
    assert flows_run.staged_count() == 1
    assert len(_staging_folders(ahead)) == 1 and not (ahead / REPORT).exists()
    monkeypatch.setattr(MemoryStore, "shared", {})  # nothing cached: every table read ahead
    monkeypatch.setattr(flows_run, "get_result_store", MemoryStore)
    outcomes = flows_run.table_outcomes(logging.getLogger("t"), report, pdf, sha)
    staged = flows_run.take_staged(REPORT, sha, str(ahead), outcomes)
    assert staged is not None and flows_run.staged_count() == 0
    result = commit_staged(ahead, staged)
    assert result.status == "published" and _staging_folders(ahead) == []
    with lent(flows_run.shared_document(REPORT, pdf, sha)):
        again = publish_outcomes(plain, REPORT, sha, pdf, outcomes)
    assert (result.message.replace(str(ahead), "<out>"), result.audit) == \
        (again.message.replace(str(plain), "<out>"), again.audit)
    assert digest_tree(ahead) == digest_tree(plain)


def test_a_report_staged_from_other_outcomes_is_discarded(job, tmp_path):
    """The task read a table elsewhere (Prefect's result store): the staged report is removed
    and the task stages anew from its own outcomes."""
    import copy

    report, pdf, sha = job
    flows_run.read_ahead([job], stop=lambda: False, out_dir=str(tmp_path))
    outcomes = [copy.copy(o) for o in flows_run._READ_AHEAD.values()]
    assert flows_run.take_staged(REPORT, sha, str(tmp_path), outcomes) is None
    assert _staging_folders(tmp_path) == [] and flows_run.staged_count() == 0


def test_staged_reports_no_task_took_leave_no_folder(job, tmp_path):
    flows_run.read_ahead([job], stop=lambda: False, out_dir=str(tmp_path))
    assert len(_staging_folders(tmp_path)) == 1
    flows_run.discard_staged()
    assert _staging_folders(tmp_path) == [] and flows_run.staged_count() == 0


def test_nothing_is_staged_once_the_server_answers(job, tmp_path):
    report, pdf, sha = job
    doc = flows_run.shared_document(REPORT, pdf, sha)
    calls = len(report.tables) + doc.page_count  # a stop() per table, per page, per report
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > calls

    flows_run.read_ahead([job], stop=stop, out_dir=str(tmp_path))
    assert len(flows_run._READ_AHEAD) == len(report.tables)
    assert flows_run.staged_count() == 0 and _staging_folders(tmp_path) == []


def test_tables_read_ahead_come_before_the_result_store(job, tmp_path, monkeypatch):
    """A new output folder, Prefect's result store already holding every table (an earlier
    run): the task takes the very outcomes the report was staged from, so the staged report is
    committed, not discarded and audited again."""
    import copy

    from test_table_cache import MemoryStore

    report, pdf, sha = job
    flows_run.read_ahead([job], stop=lambda: False, out_dir=str(tmp_path))
    ahead = dict(flows_run._READ_AHEAD)
    stored = {flows_run.table_cache_key(sha, k[1], k[3], REPORT): copy.copy(o)
              for k, o in ahead.items()}
    monkeypatch.setattr(MemoryStore, "shared", stored)
    monkeypatch.setattr(flows_run, "get_result_store", MemoryStore)
    outcomes = flows_run.table_outcomes(logging.getLogger("t"), report, pdf, sha)
    assert all(any(o is a for a in ahead.values()) for o in outcomes)
    assert flows_run.take_staged(REPORT, sha, str(tmp_path), outcomes) is not None
