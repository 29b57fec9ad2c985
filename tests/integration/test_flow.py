"""The Prefect wiring, once: `statlift run` as a process on the embedded reports, then again.

Everything else is tested on plain functions; this is the one place that pays Prefect's
start-up (about 10 s per process).
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import run_cli

from statlift.flows.run import UP_TO_DATE
from statlift.publish import staging

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_run_publishes_everything_then_reruns_unchanged(tmp_path):
    out = tmp_path / "processed"
    first = run_cli(["run", "--out", str(out)], tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    # a clean run logs no error and no traceback (Prefect's event client included)
    assert "Traceback" not in first.stderr and "ERROR" not in first.stderr, first.stderr[-3000:]
    # one INFO line per table: id, page, engines, shape, agreement
    assert "bjs-ncj250746 table-07 p7 words+pdfplumber+camelot-stream 4x11 agreement" in \
        first.stderr
    for rid, n in (("bjs-ncj250746", 10), ("ussc-cp-production-2021", 4)):
        folder = out / rid
        tables = json.loads((folder / "tables.json").read_text())
        assert len(tables["tables"]) == n and not tables["failed"]
        assert len(list(folder.glob("*.csv"))) >= n + 1
        cells = pd.read_csv(folder / "cells.csv", dtype=str, keep_default_na=False)
        assert list(cells.columns[:13]) == [
            "report_id", "table_id", "row_path", "column_path", "value", "unit", "raw_text",
            "missing_code", "footnotes", "page", "bbox", "engines", "source_sha256"]
        assert pd.read_parquet(folder / "cells.parquet").shape[0] == len(cells)
        audit = json.loads((folder / "audit.json").read_text())
        assert audit["summary"]["unacknowledged"] == 0
        assert (folder / "audit.html").stat().st_size > 10_000
        assert len(list((folder / "versions").iterdir())) == 1
    before = _tree(out)
    # a killed run's staging folder (its process has ended): removed by the next run, in a line
    ended = subprocess.Popen(["true"])
    ended.wait()
    left = out / f".bjs-ncj250746.staging-{staging.host()}-{ended.pid}-0123456789ab"
    left.mkdir()
    (left / "cells.csv").write_text("half written")
    second = run_cli(["run", "--out", str(out)], tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    for rid in ("bjs-ncj250746", "ussc-cp-production-2021"):
        assert f"{rid}: unchanged: {UP_TO_DATE}" in second.stdout
    assert not left.exists()
    assert f"statlift: removed {left}: a staging folder of a run that ended before it " \
        "finished" in second.stderr, second.stderr[-2000:]
    assert _tree(out) == before  # nothing rewritten
    # same source and spec as published: no task ran at all, not even a cache lookup, and
    # Prefect was not started (the command line answers from build.json)
    assert "prefect.task_runs" not in second.stderr, second.stderr[-2000:]
    assert "temporary API server" not in second.stderr, second.stderr[-2000:]
    # into another folder, a report per worker process: the 14 tables come from Prefect's
    # result store (sha256, spec, version), and the workers share the flow's one temporary API
    # server
    third = run_cli(["run", "--out", str(tmp_path / "elsewhere"), "--runner", "processes",
                     "--workers", "2"], tmp_path)
    assert third.returncode == 0, third.stderr[-3000:]
    assert len(re.findall(r"agreement \d+% \(cached\)", third.stderr)) == 14, \
        third.stderr[-2000:]
    assert "bjs-ncj250746 table-07 p7 words+pdfplumber+camelot-stream 4x11 agreement 100% " \
        "(cached)" in third.stderr
    assert third.stderr.count("starting Prefect's temporary API server") == 1, \
        third.stderr[-2000:]
    assert "statlift: read 0 of 14 tables (14 of them in Prefect's result store: taken from " \
        "there) while Prefect's server started" in third.stderr, third.stderr[-2000:]
    assert "Traceback" not in third.stderr and "ERROR" not in third.stderr, third.stderr[-3000:]
    assert (tmp_path / "elsewhere" / "bjs-ncj250746" / "table-07.csv").read_bytes() == \
        (out / "bjs-ncj250746" / "table-07.csv").read_bytes()
    # and with every table read again (Prefect's cache refreshed): the workers read a report
    # each while the server boots (flows/run.py read_ahead_in_pool), each report's task takes
    # what was read in whichever worker runs it; the same data, no read-ahead or staging
    # folder left
    fourth_out = tmp_path / "refreshed"
    fourth = run_cli(["run", "--out", str(fourth_out), "--runner", "processes", "--workers",
                      "2"], tmp_path, {"PREFECT_TASKS_REFRESH_CACHE": "true"})
    assert fourth.returncode == 0, fourth.stderr[-3000:]
    assert len(re.findall(r"agreement \d+% \(read ahead\)", fourth.stderr)) == 14, \
        fourth.stderr[-3000:]
    assert re.search(r"statlift: read \d+ of 14 tables.* while Prefect's server started",
                     fourth.stderr), fourth.stderr[-3000:]
    assert "Traceback" not in fourth.stderr and "ERROR" not in fourth.stderr, \
        fourth.stderr[-3000:]
    assert sorted(p.name for p in fourth_out.iterdir() if p.name.startswith(".")) == []
    for rid in ("bjs-ncj250746", "ussc-cp-production-2021"):
        for name in ("cells.csv", "tables.csv", "audit.json"):
            assert (fourth_out / rid / name).read_text().replace(str(fourth_out), "<out>") == \
                (out / rid / name).read_text().replace(str(out), "<out>"), (rid, name)


def test_unknown_report_is_a_clear_error(tmp_path):
    res = run_cli(["run", "--report", "no-such-report", "--out", str(tmp_path / "p")], tmp_path)
    assert res.returncode == 2
    assert "unknown report 'no-such-report'" in res.stderr
    assert "bjs-ncj250746" in res.stderr  # lists the valid ids
    assert "Traceback" not in res.stderr


def test_a_failed_report_fails_the_flow_run_and_says_why_once(tmp_path):
    """Issue 14: a run whose report failed ends its Prefect flow run Failed (not Completed), with
    no traceback, and each table's reason is printed once (the log names table and code)."""
    ussc = next((REPO / "raw" / "ussc-cp-production-2021").glob("*.pdf"))
    out = tmp_path / "processed"
    res = run_cli(["run", "--source", f"bjs-ncj250746={ussc}", "--out", str(out)], tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr[-3000:]
    assert "Traceback" not in res.stderr + res.stdout, res.stderr[-3000:]
    assert "Finished in state Failed('1 of 1 report(s) not published as a whole: " \
           "bjs-ncj250746 (failed)')" in res.stderr, res.stderr[-3000:]
    line = res.stdout.strip()
    assert line.startswith("bjs-ncj250746: failed: all 10 table(s) failed: "), line
    for n in range(1, 11):  # each table's reason once in all that was printed
        reason = f"table table-{n:02d}: expected a caption 'TABLE {n}' titled"
        assert (res.stdout + res.stderr).count(reason) == 1, reason
    assert "bjs-ncj250746 table-01 FAILED [caption-not-found]" in res.stderr
    assert not (out / "bjs-ncj250746").exists()
