"""`statlift audit` re-checks what is published without writing; `--republish` writes a fresh audit
and publishes it through the atomic path (publish/store.py: staged copy, swap, a new version).
Also: a published report carries the build key its up-to-date check compares (build.json)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_runner import run_cli

from statlift.cli.audit import audit_published
from statlift.fingerprint import STATLIFT_VERSION, code_fingerprint
from statlift.publish.uptodate import BUILD_FILE
from statlift.schemas.specs import spec_for, spec_sha256

pytestmark = pytest.mark.slow
REPORT = "ussc-cp-production-2021"


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("audit")
    out = work / "processed"
    done = run_cli(["run", "--out", str(out), "--report", REPORT], work)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_published_report_records_its_build_key(published):
    folder = published / REPORT
    key = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
    tables = json.loads((folder / "tables.json").read_text(encoding="utf-8"))
    assert key == {"source_sha256": tables["source_sha256"],
                   "spec_sha256": spec_sha256(spec_for(REPORT)),
                   "code_fingerprint": code_fingerprint.__wrapped__(),  # the files as they are now
                   "statlift_version": STATLIFT_VERSION}
    assert "code_fingerprint" not in tables  # tables.json stays as it was


def test_audit_is_read_only_and_finds_what_publish_found(published, tmp_path):
    before = _tree(published)
    done = run_cli(["audit", "--out", str(published), "--report", REPORT], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith(f"{REPORT}: ") and " checks, " in done.stdout
    assert _tree(published) == before  # nothing written, not even the audit files
    assert not [p for p in published.iterdir() if p.name.startswith(".")]
    # the checks re-run in memory agree with the audit written at publish
    summary, findings = audit_published(published, REPORT)
    audit = json.loads((published / REPORT / "audit.json").read_text(encoding="utf-8"))
    assert summary == audit["summary"]
    assert findings == audit["findings"]


def test_republish_goes_through_the_atomic_publish(published, tmp_path):
    folder = published / REPORT
    versions = json.loads((folder / "versions.json").read_text(encoding="utf-8"))
    before = _tree(folder)
    done = run_cli(["audit", "--out", str(published), "--report", REPORT, "--republish"],
                   tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    after = json.loads((folder / "versions.json").read_text(encoding="utf-8"))
    assert len(after["versions"]) == len(versions["versions"]) + 1
    assert after["history"][-1]["action"] == "publish"
    assert after["current"] == after["versions"][-1]["version"] != versions["current"]
    new = _tree(folder)
    # the data are carried over as they were; the audit is written anew (same checks, same data)
    for name in ("tables.json", "cells.csv", "datapackage.json", BUILD_FILE):
        assert new[name] == before[name], name
    assert (folder / "audit.json").is_file() and (folder / "audit.html").is_file()
    # the new version is a complete copy of the published folder
    current = folder / "versions" / after["current"]
    assert {k: v for k, v in new.items() if not k.startswith("versions")} == _tree(current)
    assert not [p for p in published.iterdir() if p.name.startswith(".")]  # no staging left


def test_the_claims_of_the_text_are_in_the_audit(published, tmp_path):
    """The USSC overview states three numbers its key figures print (a 422% increase from 98 to
    512, a decrease from 83.3% to 30.7%, 23 years on average): each a supported claim with its
    sentence, page and box; the read-only audit prints the counts."""
    audit = json.loads((published / REPORT / "audit.json").read_text(encoding="utf-8"))
    assert audit["summary"]["claims"] == {"supported": 3, "contradicted": 0, "not resolvable": 0}
    stated = [(c["kind"], c["stated"], c["verdict"]) for c in audit["claims"]]
    assert stated == [("change", "increase 422% from 98 to 512", "supported"),
                      ("direction", "decreased from 83.3% to 30.7%", "supported"),
                      ("count", "23 years", "supported")]
    assert all(c["page"] == 1 and c["box"] and c["sentence"] for c in audit["claims"])
    assert "offenders in FY 2005 to 512 offenders" in audit["claims"][0]["sentence"]
    html = (published / REPORT / "audit.html").read_text(encoding="utf-8")
    assert html.count('<li id="C00') == 3 and "3 supported, 0 contradicted" in html
    done = run_cli(["audit", "--out", str(published), "--report", REPORT], tmp_path)
    assert "claims of the text: 3 supported, 0 contradicted, 0 not resolvable" in done.stdout
