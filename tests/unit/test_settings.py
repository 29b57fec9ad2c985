"""One Settings object: the only reader of statlift's environment, made once by the command line
and passed down (issue 12)."""
from __future__ import annotations

import re
from pathlib import Path

from statlift.cli.main import build_parser
from statlift.settings import Settings, get_settings

REPO = Path(__file__).resolve().parents[2]
# Prefect's own PREFECT_* variables are set and read around the flows (flows/server.py starts
# Prefect's temporary server with them); nothing else reads the environment
PREFECT_ENV_MODULES = {"statlift/cli/main.py", "statlift/cli/serve.py", "statlift/flows/run.py",
                       "statlift/flows/server.py"}


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
