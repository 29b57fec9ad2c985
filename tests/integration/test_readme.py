"""Every code block of the README runs as written (issue 14: the DuckDB snippet failed with a
ParserException and the one-liner nested double quotes in double quotes).

A throwaway STATLIFT_HOME stands in for the clone: `.venv` links to the real one, `raw/` and the
catalog are copies, `processed/` is published once by `statlift run`, and the files the README
names as examples (`new.pdf`, `new-report.pdf`, `table-01.csv`, `agencies.xlsx`) are made there.
Each shell line runs with that folder as the current directory and must exit with the code the
README says it has (0 unless listed in EXIT); the few that cannot run here are in SKIP, each
with why. Python blocks run in a fresh interpreter there; SQL blocks run against
processed/statlift.duckdb.
"""
from __future__ import annotations

import csv
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
GOLDEN = REPO / "tests" / "golden"

SKIP = {
    "make run": "what a new user runs first; CI itself runs the set-up of `make test`",
    "make test": "this test is part of it",
    ".venv/bin/prefect server start &": "a long-running server",
    "export PREFECT_API_URL=http://127.0.0.1:4200/api": "points at that server",
    '.venv/bin/statlift serve --cron "0 6 * * 1"': "serves forever, needs the server",
    ".venv/bin/statlift fetch": "downloads from the publishers (no internet here)",
    ".venv/bin/statlift run --fetch --strict": "downloads from the publishers",
}
EXIT = {
    # the example transcription carries typed errors: verify reports them with exit 1
    ".venv/bin/statlift verify bjs-ncj250746 table-01.csv": 1,
}


def blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2))
            for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)]


def shell_lines(block: str) -> list[str]:
    out = []
    for line in block.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("readme-home")
    (home / ".venv").symlink_to(REPO / ".venv")
    shutil.copytree(REPO / "raw", home / "raw")
    (home / "prefect").mkdir()
    schemas = home / "statlift" / "schemas"  # `statlift add` appends to the catalog in use
    schemas.mkdir(parents=True)
    shutil.copy(REPO / "statlift" / "schemas" / "catalog.yaml", schemas / "catalog.yaml")
    shutil.copytree(REPO / "statlift" / "schemas" / "tables", schemas / "tables")
    shipped = next((REPO / "raw" / "bjs-ncj250746").glob("*.pdf"))
    shutil.copy(shipped, home / "new.pdf")
    shutil.copy(shipped, home / "new-report.pdf")
    with open(GOLDEN / "bjs-ncj250746" / "table-01.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[2][1] = "3,640"  # three typed errors
    rows[3][2] = "72.2"
    rows[4][5] = "1,013"
    with open(home / "table-01.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    book = openpyxl.Workbook()
    with open(GOLDEN / "bjs-ncj250746" / "table-02.csv", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            book.active.append(row)
    book.save(home / "agencies.xlsx")
    done = _sh(".venv/bin/statlift run", home)
    assert done.returncode == 0, done.stderr[-3000:]
    return home


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATLIFT_", "PREFECT_API"))}
    env.update({"STATLIFT_HOME": str(home), "PREFECT_HOME": str(home / "prefect"),
                "STATLIFT_CATALOG": str(home / "statlift" / "schemas" / "catalog.yaml")})
    return env


def _sh(line: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(shlex.split(line), cwd=home, env=_env(home), capture_output=True,
                          text=True, timeout=600)


def test_the_readme_has_the_blocks_this_test_runs():
    kinds = [k for k, _ in blocks(README.read_text(encoding="utf-8"))]
    assert {"sh", "sql", "python"} <= set(kinds)
    assert all(k in ("sh", "sql", "python", "") for k in kinds), kinds
    lines = [ln for k, b in blocks(README.read_text(encoding="utf-8")) if k == "sh"
             for ln in shell_lines(b)]
    assert not [s for s in SKIP if s not in lines], "SKIP names a line the README no longer has"


@pytest.mark.slow
def test_every_readme_block_runs_as_written(home):
    failures = []
    for kind, block in blocks(README.read_text(encoding="utf-8")):
        if kind == "sh":
            for line in shell_lines(block):
                if line in SKIP:
                    continue
                done = _sh(line, home)
                want = EXIT.get(line, 0)
                if done.returncode != want or "Traceback" in done.stderr:
                    failures.append(f"$ {line}\nexit {done.returncode} (want {want})\n"
                                    f"{done.stdout[-800:]}{done.stderr[-1500:]}")
        elif kind == "python":
            done = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c", block],
                                  cwd=home, env=_env(home), capture_output=True, text=True,
                                  timeout=300)
            if done.returncode != 0:
                failures.append(f"python block:\n{block}\n{done.stderr[-1500:]}")
        elif kind == "sql":
            con = duckdb.connect(str(home / "processed" / "statlift.duckdb"), read_only=True)
            try:
                if not con.sql(block).fetchall():
                    failures.append(f"sql block returned no rows:\n{block}")
            except duckdb.Error as exc:
                failures.append(f"sql block:\n{block}\n{exc}")
            finally:
                con.close()
    assert failures == [], "\n\n".join(failures)
