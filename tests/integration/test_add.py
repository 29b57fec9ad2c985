"""`statlift add`: a new report in one command (issue 14), walked on a renamed copy of a shipped
PDF, and every bad input refused before anything is written."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from cli_runner import run_cli

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "statlift" / "schemas"


@pytest.fixture()
def home(tmp_path) -> Path:
    """A catalog, raw store and output folder of our own (the shipped ones stay untouched)."""
    shutil.copy(SCHEMAS / "catalog.yaml", tmp_path / "catalog.yaml")
    shutil.copytree(SCHEMAS / "tables", tmp_path / "tables")
    shutil.copytree(REPO / "raw", tmp_path / "raw")
    shipped = next((REPO / "raw" / "ussc-cp-production-2021").glob("*.pdf"))
    shutil.copy(shipped, tmp_path / "production-overview.pdf")
    return tmp_path


def _env(home: Path) -> dict[str, str]:
    return {"STATLIFT_CATALOG": str(home / "catalog.yaml"), "STATLIFT_RAW": str(home / "raw")}


@pytest.mark.slow
def test_add_a_report_in_one_command(home):
    done = run_cli(["add", str(home / "production-overview.pdf"), "--id", "ussc-copy",
                    "--url", "https://example.org/overview.pdf", "--title", "A copy",
                    "--out", str(home / "processed")], home, _env(home))
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    out = done.stdout
    assert "ussc-copy: starter spec" in out and "review in the spec:" in out
    assert "units guessed:" in out and "review in the catalog entry: publisher, license" in out
    assert "ussc-copy: published:" in out
    catalog = yaml.safe_load((home / "catalog.yaml").read_text(encoding="utf-8"))
    entry = catalog["reports"][-1]
    assert entry["report_id"] == "ussc-copy" and entry["title"] == "A copy"
    assert entry["pdf_url"] == "https://example.org/overview.pdf" and not entry["urls_verified"]
    assert (home / "tables" / "ussc-copy.yaml").is_file()
    assert (home / "processed" / "ussc-copy" / "tables.json").is_file()
    # the publication's own inconsistency (2.2% for 11 of 512) comes back as YAML to paste
    assert "check_id: " in out  # the findings come back as acknowledgement YAML
    assert "reason: 'TODO (edit)" in out or "reason: TODO (edit)" in out
    again = run_cli(["run", "--report", "ussc-copy", "--out", str(home / "processed")], home,
                    _env(home))
    assert again.returncode == 0 and "ussc-copy: unchanged" in again.stdout


@pytest.mark.parametrize("args,code", [
    (["missing.pdf", "--id", "new-one"], "[file-not-found]"),
    (["catalog.yaml", "--id", "new-one"], "[not-a-pdf]"),
    (["production-overview.pdf", "--id", "ussc-cp-production-2021"], "[report-exists]"),
    (["production-overview.pdf", "--id", "Bad Id"], "[bad-report-id]"),
])
def test_bad_input_writes_nothing(home, args, code):
    before = (home / "catalog.yaml").read_bytes()
    raw_before = sorted(p.relative_to(home) for p in (home / "raw").rglob("*"))
    path = args[0] if args[0].startswith("missing") else str(home / args[0])
    done = run_cli(["add", path, *args[1:], "--no-run"], home, _env(home))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("statlift add: ") and code in done.stderr
    assert "Traceback" not in done.stderr
    assert (home / "catalog.yaml").read_bytes() == before
    assert sorted(p.relative_to(home) for p in (home / "raw").rglob("*")) == raw_before
    assert sorted(p.name for p in (home / "tables").iterdir()) == [
        "bjs-ncj250746.yaml", "ussc-cp-production-2021.yaml"]
