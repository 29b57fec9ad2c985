"""One run at a time per output folder (publish/runlock.py): a second run, from the command line
or from Prefect, writes nothing, exits 5 and names the process that holds the folder; the lock
dies with its process, however it ends."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from statlift.errors import EXIT_BUSY, StatliftError
from statlift.flows.run import run_catalog
from statlift.publish import staging
from statlift.publish.runlock import output_lock

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="runs are locked on POSIX only")

REPO = Path(__file__).resolve().parents[2]
HOLD = ("import sys; from pathlib import Path; from statlift.publish.runlock import output_lock\n"
        "with output_lock(Path(sys.argv[1])):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.read()\n")


@pytest.fixture
def holder(tmp_path):
    """Start a process that holds the lock on a folder until its stdin closes."""
    procs = []

    def start(folder: Path) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], cwd=REPO,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _can_lock(folder: Path) -> bool:
    try:
        with output_lock(folder):
            return True
    except StatliftError as exc:
        assert exc.code == "run-in-progress"
        return False


def test_a_second_process_is_refused_with_the_holder_named(tmp_path, holder):
    out = tmp_path / "processed"
    proc = holder(out)
    with pytest.raises(StatliftError) as info:
        with output_lock(out):
            pytest.fail("the lock was taken twice")
    exc = info.value
    assert exc.code == "run-in-progress" and exc.exit_code == EXIT_BUSY == 5
    message = str(exc)
    assert message.startswith(f"{out}: expected no other run writing the output folder")
    if Path("/proc/locks").exists():  # Linux names the holder
        assert f"process {proc.pid}" in message and "output_lock" in message
        assert " since 20" in message
    assert "this run wrote nothing" in message and message.endswith("[run-in-progress]")
    proc.stdin.close()  # the holder ends: the folder is free again
    proc.wait(10)
    assert _can_lock(out)


def test_the_lock_is_reentrant_in_one_process_and_released_at_the_end(tmp_path, holder):
    out = tmp_path / "new" / "processed"  # created when missing
    with output_lock(out):
        with output_lock(out):  # the command line holds it, then its flow takes it again
            assert out.is_dir()
        # still held by the outer block: another process is refused
        other = subprocess.run([sys.executable, "-c", HOLD, str(out)], cwd=REPO,
                               input="", capture_output=True, text=True, timeout=60)
        assert other.returncode == 1 and "[run-in-progress]" in other.stderr
    proc = holder(out)  # released at the end of the outer block
    assert proc.poll() is None


def test_a_killed_holder_leaves_no_lock(tmp_path, holder):
    out = tmp_path / "processed"
    proc = holder(out)
    assert not _can_lock(out)
    os.kill(proc.pid, signal.SIGKILL)  # the run cannot react: the kernel drops its lock
    proc.wait(10)
    assert _can_lock(out)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(folder.rglob("*"))}


def test_statlift_run_beside_another_run_writes_nothing_and_exits_5(tmp_path, holder,
                                                                     statlift_main):
    out = tmp_path / "processed"
    (out / "bjs-ncj250746").mkdir(parents=True)
    (out / "bjs-ncj250746" / "tables.json").write_text("{}")
    # a staging folder of a dead run: the next run that gets the folder removes it, not this one
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead = out / f".bjs-ncj250746.staging-{staging.host()}-{ended.stdout.strip()}-0123456789ab"
    dead.mkdir()
    before = _tree(out)
    holder(out)
    code, stdout, stderr = statlift_main("run", "--out", out)
    assert code == 5
    assert stderr.strip().splitlines() == [
        line for line in stderr.strip().splitlines() if line.startswith("statlift: ")]
    assert f"statlift: {out}: expected no other run writing the output folder" in stderr
    assert "[run-in-progress]" in stderr and stdout == ""
    assert _tree(out) == before
    assert staging.sweep(out) == [dead]  # the run that gets the folder removes it


def test_the_flow_run_takes_the_lock_itself(tmp_path, holder):
    """A run Prefect starts without the command line (`statlift serve`) is refused too, before
    it reads anything (the flow's own function, called as Prefect calls it)."""
    out = tmp_path / "processed"
    holder(out)
    with pytest.raises(StatliftError, match=r"\[run-in-progress\]"):
        run_catalog.fn(report_ids=["bjs-ncj250746"], out_dir=str(out))
    assert list(out.iterdir()) == []


def test_every_error_code_and_exit_code_is_documented():
    """docs/exit-codes.md lists every code of statlift/errors.py with its exit code."""
    from statlift.errors import KINDS

    doc = (REPO / "docs" / "exit-codes.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line.split("|")[2].strip()
            for line in doc.splitlines() if line.startswith("| `")}
    missing = {code: kind.exit_code for code, kind in KINDS.items()
               if not any(code in name.replace("`", "").split(", ") and exit == str(kind.exit_code)
                          for name, exit in rows.items())}
    assert missing == {}
    exits = {line.split("|")[1].strip() for line in doc.splitlines() if line.startswith("| ")}
    assert {str(k.exit_code) for k in KINDS.values()} <= exits


def test_audit_republish_is_refused_too_and_a_missing_folder_is_not_made(tmp_path, holder,
                                                                         statlift_main):
    out = tmp_path / "processed"
    holder(out)
    # `audit --republish` publishes: refused (not "not-published", which it says unlocked)
    code, _, err = statlift_main("audit", "--out", out, "--republish")
    assert code == 5 and "[run-in-progress]" in err and list(out.iterdir()) == []
    code, _, err = statlift_main("audit", "--out", out)  # only reads: not locked
    assert code == 2 and "[not-published]" in err
    missing = tmp_path / "nothing-here"
    with output_lock(missing, create=False):
        assert not missing.exists()
