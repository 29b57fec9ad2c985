"""The same flow on a real distributed engine: a LocalCluster with 2 workers gives byte-identical
outputs to the default runner."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli

pytestmark = pytest.mark.slow
REPORT = "ussc-cp-production-2021"


def _outputs(folder: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(folder.glob("*.csv")):
        out[p.name] = p.read_bytes()
    doc = json.loads((folder / "tables.json").read_text())
    doc.pop("extracted_at")
    out["tables.json"] = json.dumps(doc, sort_keys=True).encode()
    audit = json.loads((folder / "audit.json").read_text())
    out["audit.json"] = json.dumps(audit, sort_keys=True).encode()
    return out


def test_dask_cluster_gives_identical_outputs(tmp_path):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    try:
        a = run_cli(["run", "--report", REPORT, "--out", str(tmp_path / "default")], tmp_path)
        assert a.returncode == 0, a.stderr[-2000:]
        # same Prefect home (its database is made once), cache refreshed: every task re-runs
        b = run_cli(["run", "--report", REPORT, "--out", str(tmp_path / "dask"), "--runner",
                     "dask", "--address", cluster.scheduler_address], tmp_path,
                    {"PREFECT_TASKS_REFRESH_CACHE": "true"})
        assert b.returncode == 0, b.stderr[-2000:]
        assert "(cached)" not in b.stderr
    finally:
        cluster.close()
    assert _outputs(tmp_path / "default" / REPORT) == _outputs(tmp_path / "dask" / REPORT)
