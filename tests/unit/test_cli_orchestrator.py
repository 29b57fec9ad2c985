"""When Prefect's API does not answer, `statlift run` says so in one line (exit 3) and writes
nothing; statlift's Prefect defaults never override what the user set."""
from __future__ import annotations

import os
import socket

from statlift.cli.main import PREFECT_DEFAULTS, orchestrator_error, prefect_defaults
from statlift.errors import EXIT_IO
from tests.cli_runner import run_cli


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_prefect_api_is_one_clear_error_and_writes_nothing(tmp_path):
    out = tmp_path / "processed"
    out.mkdir()
    (out / "keep.txt").write_text("published before")
    url = f"http://127.0.0.1:{_closed_port()}/api"
    res = run_cli(["run", "--out", str(out)], tmp_path, {"PREFECT_API_URL": url})
    assert res.returncode == EXIT_IO, res.stderr[-2000:]
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    line = res.stderr.strip().splitlines()[-1]
    assert line.startswith(f"statlift: Prefect API {url}/: expected Prefect's API to answer,"
                           " found no server answering there;"), line
    assert line.endswith("[orchestrator-unavailable]"), line
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_ephemeral_server_timeout_names_the_setting_to_raise(monkeypatch):
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "45")
    err = orchestrator_error(RuntimeError(
        "Timed out while attempting to connect to ephemeral Prefect API server."))
    assert err is not None and err.code == "orchestrator-unavailable" and err.exit_code == EXIT_IO
    assert "no answer within 45 s" in str(err)
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in str(err)


def test_other_runtime_errors_are_not_disguised():
    assert orchestrator_error(RuntimeError("boom in an extractor")) is None


def test_prefect_defaults_keep_what_the_user_set(monkeypatch):
    for key in PREFECT_DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "true")
    prefect_defaults()

    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "true"
    assert os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "120"


def test_empty_api_url_means_the_temporary_server_and_home_is_created(monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_API_URL", "")
    home = tmp_path / "not" / "yet" / "there"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    prefect_defaults()
    assert "PREFECT_API_URL" not in os.environ  # an empty URL breaks Prefect's event client
    assert home.is_dir()
