"""Run the statlift CLI as a separate process with its own Prefect home (for flow tests)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cli_env(tmp_path: Path, extra_env: dict | None = None) -> dict:
    """The CLI's environment for a test: its own Prefect home under tmp_path."""
    env = dict(os.environ)
    (tmp_path / "prefect").mkdir(parents=True, exist_ok=True)
    env.pop("PREFECT_API_URL", None)  # never the developer's server: Prefect's temporary one
    env.update({"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_LOGGING_LEVEL": "INFO"})
    env.update(extra_env or {})
    return env


def cli_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "statlift.cli.main", *args]


def run_cli(args: list[str], tmp_path: Path, extra_env: dict | None = None):
    return subprocess.run(cli_command(args), cwd=REPO, env=cli_env(tmp_path, extra_env),
                          capture_output=True, text=True, timeout=600)
