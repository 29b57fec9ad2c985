"""read_ahead (flows/run.py): what the command line reads while Prefect's temporary server boots.
Tables first, then the reports' other pages (the audit's running text), then each report staged
(written and audited into a staging folder, not published); it stops as soon as the server
answers, and the report task takes the outcomes read ahead and the report staged from them
instead of doing that work again."""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from statlift.flows import run as flows_run
from statlift.publish import staging
from statlift.schemas.specs import load_catalog, spec_for
from statlift.settings import DEFAULT_HOME, SCHEMAS_DIR

REPORT = "bjs-ncj250746"  # tables on some pages only


@pytest.fixture(autouse=True)
def no_stored_tables(tmp_path, monkeypatch):
    """Prefect's local result store of these tests: empty (the developer's or CI's Prefect home
    may hold the shipped reports' tables from a `statlift run`, which read_ahead skips)."""
    monkeypatch.setattr(flows_run, "_local_results", lambda: tmp_path / "no-results")


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


# --- read ahead in a process pool's workers (read_ahead_in_pool): a file per report, which the
# report's task takes in whichever worker runs it

CATALOG = str(SCHEMAS_DIR / "catalog.yaml")


def _worker_reads(job, out, folder) -> tuple[int, str | None]:
    """read_ahead_report as a pool's worker runs it (here, in this process), then this process
    left as another worker would be: nothing of it in memory."""
    report, pdf, sha = job
    got = flows_run.read_ahead_report(REPORT, pdf, sha, str(out), CATALOG, str(folder))
    assert not flows_run._READ_AHEAD and flows_run.staged_count() == 0
    return got


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    path = tmp_path / "out" / "ahead"  # in the output folder, beside the staging folders
    path.mkdir(parents=True)
    monkeypatch.setattr(flows_run.pools, "READ_AHEAD_FOLDER", path)
    return path


def test_a_report_read_by_one_worker_is_taken_by_its_task_in_another(
        job, tmp_path, folder, monkeypatch, caplog):
    """The worker writes every table's outcome and the report staged from them into the
    report's file; the task takes them (no table read again, the staged report committed, not
    audited again) and the file is gone."""
    from test_table_cache import MemoryStore

    report, pdf, sha = job
    out = tmp_path / "out"
    read, staging = _worker_reads(job, out, folder)
    assert read == len(report.tables) and staging is not None
    assert sorted(p.name for p in folder.iterdir()) == [f"{REPORT}.owns", f"{REPORT}.pickle"]
    # (no `.reading` marker left; `.owns`: the staging folder the run removes if no task takes it)
    flows_run.take_ahead(REPORT, sha, str(out))
    assert list(folder.iterdir()) == []
    monkeypatch.setattr(flows_run, "_extract", lambda *a: pytest.fail("read twice"))
    monkeypatch.setattr(MemoryStore, "shared", {})
    monkeypatch.setattr(flows_run, "get_result_store", MemoryStore)
    monkeypatch.setattr(flows_run, "stage_outcomes", lambda *a: pytest.fail("audited twice"))
    with caplog.at_level(logging.INFO):
        outcomes = flows_run.table_outcomes(logging.getLogger("t"), report, pdf, sha)
    assert caplog.text.count("(read ahead)") == len(report.tables)
    staged = flows_run.take_staged(REPORT, sha, str(out), outcomes)
    assert staged is not None and str(staged.staging) == staging
    result = flows_run.commit_staged(out, staged)
    assert result.status == "published" and (out / REPORT / "tables.json").exists()


def test_a_file_read_ahead_of_another_pdf_is_not_taken(job, tmp_path, folder):
    report, pdf, sha = job
    out = tmp_path / "out"
    _worker_reads(job, out, folder)
    flows_run.take_ahead(REPORT, "0" * 64, str(out))
    assert not flows_run._READ_AHEAD and flows_run.staged_count() == 0
    assert list(folder.iterdir()) == [] and _staging_folders(out) == []


def test_the_task_waits_for_the_worker_still_reading_its_report(job, tmp_path, folder):
    import threading

    report, pdf, sha = job
    out = tmp_path / "out"
    (folder / f"{REPORT}.reading").touch()  # another worker has begun the report
    worker = threading.Thread(target=lambda: (time.sleep(0.3), flows_run.read_ahead_report(
        REPORT, pdf, sha, str(out), CATALOG, str(folder))))
    worker.start()
    flows_run.take_ahead(REPORT, sha, str(out))
    worker.join()
    assert len(flows_run._READ_AHEAD) == len(report.tables) and flows_run.staged_count() == 1


def test_reports_read_ahead_that_no_task_took_leave_no_folder(job, tmp_path, folder):
    out = tmp_path / "out"
    _worker_reads(job, out, folder)
    assert len(_staging_folders(out)) == 1
    staging.discard_scratch(folder)
    assert _staging_folders(out) == [] and not folder.exists()


def test_tables_in_the_result_store_are_not_read_ahead(job, tmp_path, monkeypatch):
    """Prefect's result store holds a table (an earlier run of the same PDF and spec): its task
    reads it from there, so it is not read ahead, and the report is not staged ahead (the
    task's outcome of that table is not the one read ahead)."""
    report, pdf, sha = job
    results = tmp_path / "results"
    results.mkdir()
    monkeypatch.setattr(flows_run, "_local_results", lambda: results)
    first = report.tables[0]
    (results / flows_run.table_cache_key(sha, first.table_id, flows_run.table_fingerprint(
        report, first), REPORT)).write_text("a record")
    assert flows_run.read_ahead([job], stop=lambda: False, out_dir=str(tmp_path)) == \
        len(report.tables) - 1
    assert first.table_id not in {k[1] for k in flows_run._READ_AHEAD}
    assert flows_run.staged_count() == 0 and _staging_folders(tmp_path) == []


def test_the_workers_take_a_report_each_then_stop_when_the_server_answers(tmp_path,
                                                                          monkeypatch):
    """Each worker begins a report even when the server answers at once; no other report is
    begun after that; the flow submits the reports still being read last; what they read is in
    their files once they finish."""
    import types
    from concurrent.futures import ThreadPoolExecutor, wait

    pdfs = {r: next((DEFAULT_HOME / "raw" / r).glob("*.pdf"))
            for r in ("bjs-ncj250746", "ussc-cp-production-2021")}
    jobs = [(r, str(p), p.stem) for r, p in pdfs.items()] + [("third", "x.pdf", "0" * 64)]
    out = tmp_path / "out"
    folder = out / "ahead"
    folder.mkdir(parents=True)
    gate = threading.Event()
    real = flows_run.read_ahead_report
    monkeypatch.setattr(flows_run, "read_ahead_report", lambda *a: (gate.wait(10), real(*a))[1])
    with ThreadPoolExecutor(2) as executor:  # the pool's two workers, as threads
        pool = types.SimpleNamespace(read_ahead=folder, _executor=executor, _max_workers=2)
        got = flows_run.read_ahead_in_pool(pool, jobs, str(out), CATALOG, stop=lambda: True)
        assert got == (0, 0, 2)  # nothing finished yet; two reports begun, "third" not
        assert sorted(flows_run._AHEAD_RUNNING) == sorted(pdfs)
        order = flows_run.ahead_order([(r, Path(p)) for r, p, _ in jobs])
        assert [r for r, _ in order] == ["third", *pdfs]
        gate.set()
        wait(list(flows_run._AHEAD_RUNNING.values()))
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{r}.{what}" for r in pdfs for what in ("pickle", "owns"))
    assert len(_staging_folders(out)) == 2
    assert flows_run.ahead_order([(r, p) for r, p in pdfs.items()]) == list(pdfs.items())
    flows_run._AHEAD_RUNNING.clear()
    staging.discard_scratch(folder)
    assert _staging_folders(out) == []


def test_an_unreadable_file_read_ahead_is_left_for_the_task_to_read(job, tmp_path, folder):
    """A truncated or corrupt file (a disk filling up): the task takes nothing from it, removes
    it and reads the report itself."""
    report, pdf, sha = job
    (folder / f"{REPORT}.pickle").write_bytes(b"\x80\x04 not a pickle")
    flows_run.take_ahead(REPORT, sha, str(tmp_path / "out"))
    assert not flows_run._READ_AHEAD and flows_run.staged_count() == 0
    assert list(folder.iterdir()) == []


def test_a_killed_runs_read_ahead_folder_is_swept_by_the_next_run(tmp_path):
    """The read-ahead folder is named as a staging folder of the command line: when the run is
    killed outright, the next run's sweep removes it (publish/staging.py)."""
    import subprocess

    ended = subprocess.Popen(["true"])
    ended.wait()
    made = staging.scratch_name(tmp_path, "read-ahead")
    made.mkdir()
    assert staging.STAGING.match(made.name)["pid"] == str(os.getpid())
    theirs = tmp_path / made.name.replace(f"-{os.getpid()}-", f"-{ended.pid}-")
    made.rename(theirs)
    (theirs / f"{REPORT}.pickle").write_bytes(b"left")
    assert staging.sweep(tmp_path) == [theirs] and not theirs.exists()
