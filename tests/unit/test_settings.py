"""One Settings object: the only reader of statlift's environment, made once by the command line
and passed down (issue 12)."""
from __future__ import annotations

import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

from statlift.cli.main import build_parser
from statlift.settings import Settings, cgroup_cpu_limit, get_settings, usable_cpus

REPO = Path(__file__).resolve().parents[2]
# Prefect's own PREFECT_* variables are set and read around the flows (flows/server.py starts
# Prefect's temporary server with them); nothing else reads the environment
PREFECT_ENV_MODULES = {"statlift/cli/main.py", "statlift/cli/serve.py", "statlift/cli/server.py",
                       "statlift/flows/run.py", "statlift/flows/server.py"}


def test_only_settings_reads_statlifts_environment():
    readers = {}
    for path in sorted((REPO / "statlift").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        lines = [line for line in path.read_text(encoding="utf-8").splitlines()
                 if re.search(r"os\.environ|getenv", line)]
        if lines and rel != "statlift/settings.py":
            readers[rel] = lines
    assert set(readers) <= PREFECT_ENV_MODULES, readers
    assert not [line for lines in readers.values() for line in lines if "STATLIFT" in line]


def test_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STATLIFT_HOME", str(tmp_path))
    monkeypatch.setenv("STATLIFT_PROCESSED", "")  # empty counts as unset
    monkeypatch.setenv("STATLIFT_RAW", str(tmp_path / "elsewhere"))
    s = get_settings()
    assert (s.processed_dir, s.raw_dir) == (tmp_path / "processed", tmp_path / "elsewhere")


def test_the_command_line_passes_one_settings_down(tmp_path):
    settings = Settings(home=tmp_path, runner="threads", cron="0 1 * * *",
                        catalog=tmp_path / "catalog.yaml")
    parser = build_parser(settings)
    run = parser.parse_args(["run"])
    assert run.settings is settings and run.out == str(tmp_path / "processed")
    assert run.runner == "threads"
    for argv in (["audit"], ["fetch"], ["serve"]):
        args = parser.parse_args(argv)
        assert args.settings is settings and args.out == str(tmp_path / "processed")
    assert parser.parse_args(["fetch"]).raw is None  # cmd_fetch: settings.raw_dir
    assert parser.parse_args(["fetch", "--raw", "r"]).raw == "r"


# whether a 1 MiB block allocated after an 8 MiB one was freed gets its own mapping (glibc's
# mallinfo2: hblkhd is the bytes in mapped blocks): by default glibc raised its threshold to
# 8 MiB at that free, and the 1 MiB comes from the heap
_PROBE = """
import ctypes, sys
class MI(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MI
if sys.argv[1] == "tuned":
    from statlift.settings import tune_process
    tune_process()
big = bytearray(8 << 20)
del big
before = libc.mallinfo2().hblkhd
block = bytearray(1 << 20)
print(libc.mallinfo2().hblkhd - before >= 1 << 20)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_statlifts_processes_give_big_blocks_back_to_the_system():
    """The program and its workers (settings.tune_process) keep glibc from raising its mmap
    threshold, so a worker's heap stays flat report after report; a default process does not
    (the probe can tell the two apart)."""
    found = {}
    for mode in ("default", "tuned"):
        done = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True,
                              text=True, check=True)
        found[mode] = done.stdout.strip()
    assert found == {"default": "False", "tuned": "True"}


def _cgroup(tmp_path: Path, lines: list[str], files: dict[str, str]) -> tuple[Path, Path]:
    """A /proc/self/cgroup with `lines` and a cgroup file system holding `files` (path: text)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("\n".join(lines) + "\n")
    root = tmp_path / "cgroup"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return proc, root


def test_usable_cpus_is_no_more_than_the_containers_cpu_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(64)), raising=False)
    # cgroup v2, a pod limited to 1.5 CPUs on a 64-core node: 2 workers, not 64
    proc, root = _cgroup(tmp_path / "v2", ["0::/kubepods/pod1/c1"],
                         {"kubepods/pod1/c1/cpu.max": "150000 100000\n",
                          "kubepods/pod1/cpu.max": "max 100000\n"})
    assert cgroup_cpu_limit(proc, root) == 1.5
    assert usable_cpus(proc, root) == 2
    # the lowest limit on the cgroup's path counts (a parent's), and the root's (a container
    # whose cgroup namespace shows its own cgroup as "/")
    proc, root = _cgroup(tmp_path / "parent", ["0::/a/b"],
                         {"a/b/cpu.max": "800000 100000\n", "a/cpu.max": "300000 100000\n"})
    assert usable_cpus(proc, root) == 3
    proc, root = _cgroup(tmp_path / "ns", ["0::/"], {"cpu.max": "400000 100000\n"})
    assert usable_cpus(proc, root) == 4
    # cgroup v1: the cpu controller's quota and period
    proc, root = _cgroup(tmp_path / "v1", ["4:memory:/x", "2:cpu,cpuacct:/docker/abc"],
                         {"cpu,cpuacct/cpu.cfs_quota_us": "200000\n",
                          "cpu,cpuacct/cpu.cfs_period_us": "100000\n"})
    assert usable_cpus(proc, root) == 2
    # no limit ("max", -1), no cgroup file system, nothing readable: the affinity
    for lines, files in ((["0::/"], {"cpu.max": "max 100000\n"}),
                         (["2:cpu,cpuacct:/"], {"cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
                                                "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}),
                         (["0::/"], {"cpu.max": "garbled\n"})):
        proc, root = _cgroup(tmp_path / f"none{len(files)}{lines[0][0]}", lines, files)
        assert cgroup_cpu_limit(proc, root) is None
        assert usable_cpus(proc, root) == 64
    assert usable_cpus(tmp_path / "missing", tmp_path / "missing") == 64


def test_usable_cpus_counts_the_cpus_this_process_may_run_on(monkeypatch, tmp_path):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {3}, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert usable_cpus(tmp_path / "missing") == 1  # `taskset -c 3 statlift run`: one worker
    monkeypatch.delattr("os.sched_getaffinity", raising=False)  # macOS, Windows
    assert usable_cpus(tmp_path / "missing") == 64
