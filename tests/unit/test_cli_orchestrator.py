"""When Prefect's API does not answer, `statlift run` says so in one line (exit 3) and writes
nothing; statlift's Prefect defaults never override what the user set."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from statlift.cli.main import PREFECT_DEFAULTS, orchestrator_error, prefect_defaults
from statlift.errors import EXIT_BUSY, EXIT_INPUT, EXIT_IO
from statlift.settings import BATCH_GC_THRESHOLDS
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


# --- inputs checked before the orchestrator starts (issue 14), answered in well under a second
# of statlift's own work (issue 15; the subprocess's Python start-up is the rest)

def _no_orchestrator(res) -> None:
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "temporary API server" not in res.stderr and "prefect" not in res.stderr.lower(), \
        res.stderr[-2000:]


def test_missing_source_file_is_rejected_before_the_orchestrator(tmp_path):
    out = tmp_path / "processed"
    missing = tmp_path / "missing.pdf"
    res = run_cli(["run", "--report", "bjs-ncj250746", "--source",
                   f"bjs-ncj250746={missing}", "--out", str(out)], tmp_path)
    assert res.returncode == EXIT_INPUT, res.stderr[-2000:]
    assert res.stderr.strip() == (f"statlift: {missing}: expected a PDF file, found no such file;"
                                  " check the path given for bjs-ncj250746 [file-not-found]")
    _no_orchestrator(res)
    assert not out.exists()


def test_source_that_is_not_a_pdf_is_rejected_without_report(tmp_path):
    """`--source` without `--report` names the report it is for: only it runs, so a bad file is
    exit 2 (unusable input), not 4 (partial, as when the other reports ran)."""
    bogus = tmp_path / "table.pdf"
    bogus.write_text("report_id,value\n")
    res = run_cli(["run", "--source", f"ussc-cp-production-2021={bogus}", "--out",
                   str(tmp_path / "processed")], tmp_path)
    assert res.returncode == EXIT_INPUT, res.stderr[-2000:]
    assert f"statlift: {bogus}: expected a PDF file" in res.stderr
    assert res.stderr.strip().endswith("[not-a-pdf]") and res.stderr.count("\n") == 1
    _no_orchestrator(res)


def test_unknown_report_of_a_source_is_rejected_before_the_orchestrator(tmp_path):
    res = run_cli(["run", "--source", f"no-such-report={tmp_path / 'x.pdf'}"], tmp_path)
    assert res.returncode == EXIT_INPUT
    assert "unknown report 'no-such-report'" in res.stderr and "bjs-ncj250746" in res.stderr
    _no_orchestrator(res)


def test_malformed_source_is_a_usage_error(tmp_path):
    res = run_cli(["run", "--source", "bjs-ncj250746"], tmp_path)
    assert res.returncode == EXIT_INPUT and "--source wants ID=PATH" in res.stderr
    _no_orchestrator(res)


def test_run_imports_neither_pandas_nor_prefect_before_it_needs_them(tmp_path):
    """The command line's start-up: parsing, the catalog and the checks need no pandas, no
    Prefect and no PDF engine (subcommand modules load only when their subcommand runs)."""
    code = ("import sys\nfrom statlift.cli.main import main\n"
            "code = main(['run', '--report', 'no-such-report'])\n"
            "heavy = [m for m in ('pandas', 'prefect', 'pdfplumber', 'camelot', 'pandera')"
            " if m in sys.modules]\nprint(code, heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr[-2000:]


# --- what a run prints and the state its flow ends in (issue 14)

def test_result_line_says_the_status_once_and_failures_once():
    from statlift.flows.run import result_line
    from statlift.model import ReportResult

    updated = ReportResult("r", "updated", "updated: 0 cells changed, 0 labels renamed; "
                                           "10 tables published to /p/r")
    assert result_line(updated, full=True) == ("r: updated: 0 cells changed, 0 labels renamed; "
                                               "10 tables published to /p/r")
    why = "r p4: expected TABLE 3, found nothing [caption-not-found]"
    failed = ReportResult("r", "failed", f"all 1 table(s) failed: {why}; nothing was published",
                          0, {"table-03": {"code": "caption-not-found", "message": why}})
    # the log names the table and code (its own FAILED line came first); the summary says why
    assert result_line(failed) == ("r: failed: all 1 table(s) failed: table-03 "
                                   "[caption-not-found]; nothing was published")
    assert result_line(failed, full=True).count(why) == 1


def test_flow_state_is_failed_when_a_report_failed():
    from statlift.flows.run import final_state
    from statlift.model import ReportResult

    ok = ReportResult("a", "published", "10 tables")
    assert final_state([ok, ReportResult("b", "unchanged", "same")]).is_completed()
    state = final_state([ok, ReportResult("b", "failed", "x.pdf: no such file")])
    assert state.is_failed() and state.message == ("1 of 2 report(s) not published as a whole: "
                                                   "b (failed)")
    assert [r.report_id for r in state.result(raise_on_failure=False)] == ["a", "b"]
    assert final_state([ReportResult("c", "partial", "1 table failed")]).is_failed()


# --- Prefect's temporary server (flows/server.py)

def test_a_configured_prefect_api_is_used_and_no_server_started(tmp_path):
    from statlift.flows.server import configured_api_url, first_run

    env = {"PREFECT_HOME": str(tmp_path)}
    assert configured_api_url(env) is None
    assert first_run(env) == tmp_path / "prefect.db"  # the one-time setup is announced
    (tmp_path / "prefect.db").write_bytes(b"")
    assert first_run(env) is None
    (tmp_path / "profiles.toml").write_text(
        'active = "local"\n[profiles.local]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n')
    assert configured_api_url(env) == "http://127.0.0.1:4200/api"  # `prefect config set`
    assert configured_api_url({**env, "PREFECT_API_URL": "http://h:1/api"}) == "http://h:1/api"
    assert configured_api_url({**env, "PREFECT_PROFILE": "ephemeral"}) is None


def test_temporary_servers_clients_build_their_tls_context_from_one_certificate():
    """Prefect builds a TLS context for every API client, even for the temporary server's plain
    http URL; from certifi's bundle that is 40 ms of CPU, twice per task run in a worker process.
    The run's clients get a file of one certificate instead, unless the user named one."""
    import ssl

    from prefect.client.orchestration import get_client
    from prefect.settings import (
        PREFECT_API_SSL_CERT_FILE,
        PREFECT_API_URL,
        temporary_settings,
    )

    from statlift.flows.server import LOOPBACK_CA, client_environment

    url = "http://127.0.0.1:9/api"
    env = client_environment(url, {})
    assert env == {"PREFECT_API_URL": url, "PREFECT_API_SSL_CERT_FILE": str(LOOPBACK_CA),
                   "PREFECT_UI_URL": ""}
    assert ssl.create_default_context(cafile=env["PREFECT_API_SSL_CERT_FILE"]
                                      ).cert_store_stats()["x509_ca"] == 1
    # the user's own certificate file is theirs to keep
    assert client_environment(url, {"PREFECT_API_SSL_CERT_FILE": "/etc/ca.pem",
                                    "PREFECT_UI_URL": "http://ui"}) == {"PREFECT_API_URL": url}
    with temporary_settings({PREFECT_API_URL: url, PREFECT_API_SSL_CERT_FILE: str(LOOPBACK_CA)}):
        with get_client(sync_client=True) as client:  # Prefect accepts the file
            assert str(client.api_url).startswith(url)


def _heartbeat():
    from prefect.settings import get_current_settings

    return get_current_settings().flows.heartbeat_frequency


def test_temporary_server_skips_block_registration_unless_the_user_set_it():
    from statlift.flows.server import SERVER_ENV, server_environment

    env = server_environment({"PATH": "/bin"})
    assert env["PREFECT_SERVER_REGISTER_BLOCKS_ON_START"] == "false"
    assert env["PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION"] == "false"
    assert env["PATH"] == "/bin" and SERVER_ENV.items() <= env.items()
    mine = server_environment({"PREFECT_API_BLOCKS_REGISTER_ON_START": "true"})  # another name
    assert "PREFECT_SERVER_REGISTER_BLOCKS_ON_START" not in mine
    assert mine["PREFECT_API_BLOCKS_REGISTER_ON_START"] == "true"


def test_server_poll_is_cheap_until_the_server_listens_then_answers_once_ready():
    """read_ahead asks between every page: refused connections and checks within
    POLL_INTERVAL cost no HTTP request, every HTTP check shares one client, and the answer is
    True once /api/health answers 200 (then for good)."""
    import http.server
    import subprocess
    import sys
    import threading
    import time

    from statlift.flows import server as srv

    requests: list[str] = []
    gate = threading.Event()

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            requests.append(self.path)
            self.send_response(200 if self.path == "/api/health" else 404)
            self.end_headers()

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(f"POST {self.path} {body.decode()}")
            if gate.is_set() or gate.wait(10):  # the test lets the warm-up finish
                self.send_response(200)
                self.end_headers()

        def log_message(self, *args):
            pass

    ts = srv.TemporaryServer()
    ts.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert ts.poll() is False  # nothing listens on the port yet: no HTTP request made
        assert ts._client is None and requests == []
        httpd = http.server.HTTPServer(("127.0.0.1", ts.port), Health)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            ts._polled = time.monotonic()  # as if it had just checked
            assert ts.poll() is False  # within POLL_INTERVAL of the last check: not asked
            assert requests == []
            time.sleep(ts.POLL_INTERVAL * 1.5)
            assert ts.poll() is True and requests[0] == "/api/health"
            assert ts.warmup is not None
            # the API's first requests, made while the caller goes on: the caller reads on
            # (read_ahead stops at settled()) until they are answered
            time.sleep(0.5)
            assert ts.settled() is False
            gate.set()
            ts.warmup.join(5)
            assert ts.settled() is True
            assert requests == ["/api/health", "/api/admin/version",
                                'POST /api/flow_runs/filter {"limit":1}',
                                'POST /api/task_runs/filter {"limit":1}']
            assert ts.poll() is True and len(requests) == 4  # ready for good: never asks again
            assert ts._client is None  # handed to the warm-up, which closed it
        finally:
            httpd.shutdown()
            httpd.server_close()
    finally:
        ts.stop()
    assert ts.process is None


def test_no_flow_heartbeat_with_the_temporary_server_unless_asked(monkeypatch):
    """The heartbeat's thread held every run's end up to 1 s; a temporary server ends with the
    run, so nothing reads it. A configured server keeps it, as does a frequency the user set."""
    from statlift.cli.main import HEARTBEAT_VARS, flow_settings

    for var in HEARTBEAT_VARS:
        monkeypatch.delenv(var, raising=False)
    default = _heartbeat()
    assert default is not None
    with flow_settings(temporary=True):
        assert _heartbeat() is None
    assert _heartbeat() == default
    with flow_settings(temporary=False):
        assert _heartbeat() == default
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
    with flow_settings(temporary=True):
        assert _heartbeat() == default  # the process's settings, read at import: untouched


def test_the_program_exits_with_mains_code_and_its_objects_frozen(tmp_path):
    """`statlift` (entry) runs with statlift's collector thresholds, returns main()'s exit
    code, runs the exit handlers, and leaves the collector nothing to search at shutdown
    (gc.freeze: 0.4 s of every run's end)."""
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 10_000,"
            " gc.get_threshold()))\n"
            "sys.argv = ['statlift', 'run', '--source', 'no-such-report=x.pdf']\n"
            "from statlift.cli.main import entry\nentry()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=tmp_path)
    assert done.returncode == EXIT_INPUT, done.stderr[-2000:]
    assert done.stdout.strip() == f"frozen True {BATCH_GC_THRESHOLDS}", \
        done.stdout + done.stderr[-2000:]
    assert "unknown report 'no-such-report'" in done.stderr


def _thresholds_after_worker_setup(_: int) -> tuple:
    import gc

    from statlift.flows.run import worker_setup

    worker_setup()
    return gc.get_threshold(), gc.get_freeze_count() > 0  # its modules frozen out of the way


def test_worker_processes_use_statlifts_collector_thresholds_and_callers_keep_theirs():
    import gc
    import multiprocessing

    from statlift.flows.run import worker_setup

    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    worker_setup()  # the caller's process (threads runner, tests): untouched
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.map(_thresholds_after_worker_setup, [0]) == [(BATCH_GC_THRESHOLDS, True)]


def test_stop_asks_the_server_to_end_without_waiting_and_keeps_only_a_log_with_content(
        tmp_path, capsys):
    """stop() sends SIGTERM and returns (the run's end no longer waits for the server's
    graceful shutdown); an empty log is removed, one the server wrote to stays for the user
    and is named on stderr."""
    import signal
    import time

    from statlift.flows import server as srv

    for content, kept in ((b"", False), (b"ERROR: something the user should see\n", True)):
        ts = srv.TemporaryServer()
        ts.log = tmp_path / f"server-{kept}.log"
        ts.log.write_bytes(content)
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        ts.process = process
        time.sleep(0.05)
        ts.stop()
        assert ts.process is None
        assert process.wait(timeout=10) == -signal.SIGTERM
        assert (tmp_path / f"server-{kept}.log").exists() is kept
        said = capsys.readouterr().err
        assert (f"logged errors: {tmp_path / f'server-{kept}.log'}" in said) is kept, said


def test_a_server_that_exits_before_answering_is_one_clear_error_naming_its_log(tmp_path):
    """Prefect's server cannot open its database: the run says the server exited, quotes its
    log's last lines and where the log is, exits 3 and writes nothing."""
    out = tmp_path / "processed"
    out.mkdir()
    (out / "keep.txt").write_text("published before")
    bad_db = f"sqlite+aiosqlite:///{tmp_path}/no/such/folder/prefect.db"
    res = run_cli(["run", "--out", str(out)], tmp_path,
                  {"PREFECT_SERVER_DATABASE_CONNECTION_URL": bad_db})
    assert res.returncode == EXIT_IO, res.stderr[-3000:]
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    line = res.stderr.strip().splitlines()[-1]
    assert line.startswith("statlift: Prefect's temporary API server: expected"), line
    assert "its process exited with code" in line and "before answering; its log " in line, line
    log = line.split("its log ", 1)[1].split(" ends: ", 1)[0]
    assert os.path.exists(log) and "sqlite" in open(log).read().lower(), line
    os.unlink(log)
    assert line.endswith("[orchestrator-unavailable]"), line
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("runner, wait", [("threads", 1.0), ("processes", 2.5)])
def test_sigterm_before_the_flow_stops_the_server_and_leaves_nothing_behind(tmp_path, runner,
                                                                            wait):
    """A scheduler's timeout or `kill` while the PDFs are read ahead (by the command line, or by
    the pool's workers: they start ~2 s in): exit 143 with no traceback, Prefect's temporary
    server stopped (it was left running), no worker left, no staging or read-ahead folder, the
    published folder as it was."""
    import re
    import signal
    import time

    import psutil

    from tests.cli_runner import REPO, cli_command, cli_env

    out = tmp_path / "processed"
    out.mkdir()
    (out / "keep.txt").write_text("published before")
    args = ["run", "--out", str(out), "--runner", runner, "--workers", "2"]
    proc = subprocess.Popen(cli_command(args), cwd=REPO,
                            env=cli_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    port = None
    for line in proc.stdout:  # the server has started and the PDFs are being read
        found = re.search(r"127\.0\.0\.1:(\d+)/api", line)
        if found:
            port = int(found.group(1))
            break
    assert port is not None, "no server line"
    time.sleep(wait)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=120)[0]
    assert proc.returncode == 128 + signal.SIGTERM, rest[-3000:]
    assert "Traceback" not in rest, rest[-3000:]
    _assert_port_closes(port)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"], rest[-3000:]
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], alive


def _assert_port_closes(port: int, seconds: float = 30) -> None:
    """Nothing listens on 127.0.0.1:`port` within `seconds` (uvicorn's graceful shutdown)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return
        time.sleep(0.2)
    raise AssertionError(f"Prefect's API server still listens on port {port}")


# --- `statlift server` (cli/server.py): a server kept for the runs of one Prefect home

def test_a_recorded_server_is_used_only_while_its_process_lives_and_answers(tmp_path):
    from statlift.flows.server import recorded_server, remove_record, server_record, write_record
    from tests.httpserver import Reply, serve

    env = {"PREFECT_HOME": str(tmp_path)}
    assert recorded_server(env) is None  # no record: the run starts its temporary server
    with serve() as up, serve() as down:
        up.routes["/api/health"] = [Reply(200)]
        down.routes["/api/health"] = [Reply(500)]
        up_url, down_url = up.url("/api"), down.url("/api")
        record = write_record(up_url, env)  # this process is the recorded `statlift server`
        assert record == server_record(env) == tmp_path / "statlift-server.json"
        assert recorded_server(env) == up_url
        write_record(down_url, env)  # alive but not answering as Prefect does: not used, kept
        assert recorded_server(env) is None and record.exists()
        # the recording process has ended (killed outright): its record goes
        ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                               capture_output=True, text=True, check=True)
        record.write_text(json.dumps({"api_url": up_url, "pid": int(ended.stdout)}))
        assert recorded_server(env) is None and not record.exists()
        for bad in ("{", "[]", '{"api_url": 1, "pid": "x"}'):  # unreadable: not used
            record.write_text(bad)
            assert recorded_server(env) is None
        # a process removes only its own record
        record.write_text(json.dumps({"api_url": up_url, "pid": os.getpid() + 1}))
        remove_record(env)
        assert record.exists()
        write_record(up_url, env)
        remove_record(env)
        assert not record.exists()
        # asked only while the recording process lived: once each
        assert up.hits("/api/health") == 1 and down.hits("/api/health") == 1


def test_statlift_server_is_found_by_runs_and_leaves_nothing_when_stopped(tmp_path):
    """`statlift server` boots Prefect's API server once and records it in the Prefect home; a
    run there uses it (no server of its own), a second `statlift server` is refused, and SIGTERM
    stops the server and removes the record."""
    import signal
    import time

    from tests.cli_runner import REPO, cli_command, cli_env

    env = cli_env(tmp_path)
    record = Path(env["PREFECT_HOME"]) / "statlift-server.json"
    proc = subprocess.Popen(cli_command(["server"]), cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while not record.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert record.exists(), proc.communicate(timeout=30)[0][-3000:]
        url = json.loads(record.read_text())["api_url"]
        again = run_cli(["server"], tmp_path)
        assert again.returncode == EXIT_BUSY and url in again.stderr
        out = tmp_path / "processed"
        run = run_cli(["run", "--out", str(out), "--report", "ussc-cp-production-2021"],
                      tmp_path)
        assert run.returncode == 0, run.stderr[-3000:]
        assert f"using Prefect's API server on {url}" in run.stderr
        assert "temporary API server" not in run.stderr
        # the server has no UI: no "View at <its address>/runs/..." link that leads nowhere
        assert "Beginning flow run" in run.stderr + run.stdout
        assert "View at" not in run.stderr + run.stdout
        assert (out / "ussc-cp-production-2021" / "tables.json").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 128 + signal.SIGTERM, rest[-3000:]
    assert "Traceback" not in rest and not record.exists()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    _assert_port_closes(port)


def test_sigterm_while_logging_holds_its_lock_is_raised_once_the_lock_is_released(monkeypatch):
    """A SIGTERM that comes while this thread holds `logging`'s module lock does not raise
    there (the lock would stay held, and the next thread to log waits for ever: a run stopped
    during its flow's start hung); it is sent again and raised once the lock is released."""
    import signal
    import threading
    import time

    import statlift.cli.main as cli

    monkeypatch.setattr(cli, "_TERMINATED", [])
    previous = signal.signal(signal.SIGTERM, cli._terminated)
    try:
        logging_lock = __import__("logging")._lock
        with logging_lock:
            assert cli._logging_lock_held()
            os.kill(os.getpid(), signal.SIGTERM)  # handled at once, in this thread
            time.sleep(0.01)
            # not raised in here; another thread can still log once this one releases the lock
        assert not cli._logging_lock_held()
        other = threading.Thread(target=lambda: __import__("logging").getLogger("t").info("x"))
        try:
            with pytest.raises(SystemExit) as stopped:
                time.sleep(5)  # the signal sent again
        finally:
            other.start()
            other.join(5)
        assert stopped.value.code == 128 + signal.SIGTERM and not other.is_alive()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_sigterm_inside_a_library_that_wraps_its_exit_still_ends_the_program_143(monkeypatch):
    """SIGTERM while Prefect is imported: the handler's SystemExit was raised inside
    pydantic-core's serializer, which turned it into an exception of its own; the program
    printed a traceback and exited 1. It exits 143 without one; the same exception with no
    signal is a bug and propagates."""
    import signal

    import pytest
    from pydantic import BaseModel, model_serializer

    import statlift.cli.main as cli

    class Settings(BaseModel):  # as Prefect's settings, dumped while Prefect is imported
        @model_serializer(mode="wrap")
        def _ser_model(self, handler):
            if not cli._TERMINATED:
                cli._terminated(signal.SIGTERM, None)  # the signal arrives here
            return handler(self)

    monkeypatch.setattr(cli, "prefect_defaults", lambda: None)
    monkeypatch.setattr(cli, "_TERMINATED", [])
    monkeypatch.setattr(cli, "cmd_run", lambda args: Settings().model_dump())
    assert cli.main(["run"]) == 128 + signal.SIGTERM
    monkeypatch.setattr(cli, "_TERMINATED", [])

    def bug(args):
        raise ValueError("a bug")

    monkeypatch.setattr(cli, "cmd_run", bug)
    with pytest.raises(ValueError):
        cli.main(["run"])


def test_statlift_server_refuses_when_an_api_is_configured_and_says_why_it_could_not_start(
        tmp_path):
    """A configured Prefect API: `statlift server` says runs use it, exits 2, starts nothing and
    records nothing. A server that exits before answering (its database cannot be opened): the
    one-line error a run gives, naming statlift server's server (exit 3, its log named), and no
    record left behind."""
    record = tmp_path / "prefect" / "statlift-server.json"
    res = run_cli(["server"], tmp_path, {"PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert res.returncode == EXIT_INPUT, res.stderr[-3000:]
    assert res.stderr.strip() == ("statlift server: runs here use the Prefect API "
                                  "http://127.0.0.1:9/api (PREFECT_API_URL or the active Prefect "
                                  "profile); nothing started")
    assert not record.exists()
    bad_db = f"sqlite+aiosqlite:///{tmp_path}/no/such/folder/prefect.db"
    res = run_cli(["server"], tmp_path, {"PREFECT_SERVER_DATABASE_CONNECTION_URL": bad_db})
    assert res.returncode == EXIT_IO, res.stderr[-3000:]
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    line = res.stderr.strip().splitlines()[-1]
    assert line.startswith("statlift: Prefect's API server (statlift server): expected"), line
    assert "its process exited with code" in line and line.endswith("[orchestrator-unavailable]")
    log = line.split("its log ", 1)[1].split(" ends: ", 1)[0]
    assert os.path.exists(log), line
    os.unlink(log)
    assert not record.exists()
