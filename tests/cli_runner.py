"""Run the statlift CLI as a separate process with its own Prefect home (for flow tests)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_cli(args: list[str], tmp_path: Path, extra_env: dict | None = None):
    env = dict(os.environ)
    (tmp_path / "prefect").mkdir(parents=True, exist_ok=True)
    env.pop("PREFECT_API_URL", None)  # never the developer's server: Prefect's temporary one
    env.update({"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_LOGGING_LEVEL": "INFO"})
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "statlift.cli.main", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
