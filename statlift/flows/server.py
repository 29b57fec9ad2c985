"""Prefect's temporary API server, started first and waited for last (issue 15).

Left to itself, Prefect starts its temporary ("ephemeral") API server when the flow begins: the
run imports Prefect, pandas and the engines (~2-3 s), then waits for the server to boot (~3-4 s,
and on a fresh machine Prefect's one-time database setup, ~15 s), and only then reads a page.
`statlift run` instead launches the same server process (the same uvicorn command Prefect's
`SubprocessASGIServer` runs, with the same environment) before it imports anything heavy, hands
its URL to Prefect and to the worker processes through PREFECT_API_URL, imports and reads the
PDFs while it boots, and waits only when the flow is about to start.

Nothing here imports Prefect: that is the point of starting it this early.

When a Prefect API is configured (PREFECT_API_URL in the environment or in the active Prefect
profile, e.g. a `prefect server start` left running), no server is started: Prefect uses that.
Nor when `statlift server` runs for the Prefect home: the same server process, kept running,
whose address a record in that home gives (recorded_server).
"""
from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import httpx

from statlift.flows.lifeline import running, server_preexec

# what Prefect's SubprocessASGIServer adds to the server's environment (prefect 3.x)
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
              "PREFECT__SERVER_FINAL": "1"}
# Block types registered at every start: Prefect imports every installed collection (prefect-dask,
# 0.4 s) and hashes its block registry to see whether anything changed, on every boot, before it
# answers. statlift's runs use no blocks (results go to Prefect's local result store); a server
# the user runs (`prefect server start`) registers them itself. Not done on statlift's temporary
# server unless the user set it (any of the setting's names): its boot 2.9 -> 2.6 s (issue 15).
SERVER_DEFAULTS = {
    ("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "PREFECT_API_BLOCKS_REGISTER_ON_START"): "false",
    ("PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION",
     "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION"): "false",
}
DB_URL_VARS = ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL")
TIMEOUT_VAR = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
STARTUP_TIMEOUT = "120"  # statlift's default for TIMEOUT_VAR (Prefect's is 20 s: cli/main.py)
# Prefect's own message, so that cli.main.orchestrator_error recognises it either way
TIMEOUT_MESSAGE = "Timed out while attempting to connect to ephemeral Prefect API server."
# uvicorn waits this long for open connections at stop, then closes them (unbounded by default)
SHUTDOWN_SECONDS = 5
# lines of the server's log quoted when it exits before answering: the last ones that say
# something (a traceback's ^^^ markers and SQLAlchemy's "Background on this error" link do not)
LOG_TAIL_LINES = 3
NOISE = re.compile(r"^[\s^~]*$|^\(Background on this error")


def startup_timeout(environ: os._Environ[str] | dict[str, str] = os.environ) -> float:
    """Seconds the server has to answer (TIMEOUT_VAR; the command line sets STARTUP_TIMEOUT
    unless the user set it, cli/main.PREFECT_DEFAULTS)."""
    return float(environ.get(TIMEOUT_VAR, STARTUP_TIMEOUT))


# the server's log: <temp folder>/statlift-prefect-server-<pid of the run>-<random>.log
LOG_PREFIX = "statlift-prefect-server-"
LOG_NAME = re.compile(re.escape(LOG_PREFIX) + r"(?P<pid>\d+)-\w+\.log$")


def sweep_logs(folder: Path | None = None) -> list[Path]:
    """Remove the empty server logs of runs that have ended (a killed run cannot remove its
    own): a log with content is left for the user to read. Returns what was removed."""
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(f"{LOG_PREFIX}*.log"):
        found = LOG_NAME.match(path.name)
        try:
            if found is None or running(int(found["pid"])) or path.stat().st_size:
                continue
            path.unlink()
        except OSError:  # gone meanwhile, or someone else's
            continue
        removed.append(path)
    return removed


class ServerExited(RuntimeError):
    """The temporary server's process ended before it answered: its exit code and its log."""

    def __init__(self, code: int | None, log: Path | None) -> None:
        self.code = code
        self.log = log
        super().__init__(f"{TIMEOUT_MESSAGE} Ephemeral server process exited with code {code}.")

    def log_tail(self) -> str:
        """The last lines the server wrote ('' when it wrote none or the log is gone)."""
        try:
            lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines() \
                if self.log else []
        except OSError:
            return ""
        said = [line.strip() for line in lines if not NOISE.match(line.strip())]
        return " | ".join(said[-LOG_TAIL_LINES:])


def prefect_home(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    return Path(environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


def configured_api_url(environ: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    """The Prefect API the user configured: PREFECT_API_URL, else the active profile's (read
    the way Prefect reads profiles.toml); None means Prefect would start a temporary server."""
    if environ.get("PREFECT_API_URL"):
        return environ["PREFECT_API_URL"]
    path = Path(environ.get("PREFECT_PROFILES_PATH")
                or prefect_home(environ) / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    active = environ.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"
    profile = data.get("profiles", {}).get(active, {})
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return str(url) if url else None


# `statlift server` (cli/server.py) keeps Prefect's API server running for the runs of one Prefect
# home and says where in this file of that home; `statlift run` finds it there (recorded_server)
# and uses it instead of booting a temporary one (issue 15: ~3-5 CPU s and 3-6 s of wall time
# before each run's flow can begin)
RECORD_NAME = "statlift-server.json"
RECORD_CHECK_SECONDS = 0.5  # how long a run waits for the recorded server's health check


def server_record(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    return prefect_home(environ) / RECORD_NAME


def write_record(api_url: str, environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    """Record that this process (`statlift server`) serves `api_url` for its Prefect home
    (written whole: a run never reads half a record)."""
    path = server_record(environ)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"api_url": api_url, "pid": os.getpid(),
                               "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)
    return path


def remove_record(environ: os._Environ[str] | dict[str, str] = os.environ,
                  pid: int | None = None) -> None:
    """Remove the record if it is this process's (`pid`: another's, that has ended)."""
    path = server_record(environ)
    record = _read_record(path)
    if record is not None and record.get("pid") == (os.getpid() if pid is None else pid):
        with contextlib.suppress(OSError):
            path.unlink()


def _read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def recorded_server(environ: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    """The API URL of the `statlift server` running for this Prefect home, if its record names
    a process that is alive and the URL answers Prefect's health check within
    RECORD_CHECK_SECONDS; else None (a run then starts its temporary server). The record of a
    process that has ended (killed outright) is removed."""
    record = _read_record(server_record(environ))
    if record is None:
        return None
    url, pid = record.get("api_url"), record.get("pid")
    if not isinstance(url, str) or not isinstance(pid, int):
        return None
    if not running(pid):
        remove_record(environ, pid)
        return None
    try:  # plain HTTP on 127.0.0.1 (no certificate to load: 40 ms from certifi's bundle)
        with httpx.Client(timeout=RECORD_CHECK_SECONDS, verify=False) as client:
            ok = client.get(f"{url}/health").status_code == 200
    except httpx.HTTPError:
        return None
    return url if ok else None


def first_run(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path | None:
    """Prefect's default SQLite database when it does not exist yet (the server creates it and
    runs its migrations on start: the one-time setup), else None."""
    if any(environ.get(v) for v in DB_URL_VARS):
        return None
    db = prefect_home(environ) / "prefect.db"
    return None if db.exists() else db


def server_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, str]:
    """The temporary server's environment: the caller's, SERVER_DEFAULTS where the user set
    none of a setting's names, and what Prefect's SubprocessASGIServer sets (SERVER_ENV)."""
    env = dict(environ)
    for names, value in SERVER_DEFAULTS.items():
        if not any(name in environ for name in names):
            env[names[0]] = value
    return {**env, **SERVER_ENV}


# The certificate authority file of the run's Prefect clients when they talk to the temporary
# server (PREFECT_API_SSL_CERT_FILE, unless the user set one): a file of one certificate that
# nothing checks. Prefect builds a TLS context for every API client it makes, even for a
# plain-http URL, from certifi's bundle of ~150 certificates: 40 ms of CPU each, and a worker
# process makes two per task run (the run's context, then its client): ~4 CPU s over 50 reports
# on 2 workers, under py-spy. The temporary server speaks plain HTTP on 127.0.0.1, so no
# certificate is ever checked; from this file the context takes ~1 ms.
LOOPBACK_CA = Path(__file__).with_name("loopback-ca.pem")


def client_environment(api_url: str,
                       environ: os._Environ[str] | dict[str, str] = os.environ) -> dict[str, str]:
    """What the run's Prefect clients (the caller's and its worker processes') are given to talk
    to the temporary server at `api_url` (or the one `statlift server` keeps): its URL,
    LOOPBACK_CA unless the user named a certificate file, and no UI address unless the user set
    one: the server runs without Prefect's UI, so the "View at <url>/runs/flow-run/..." line
    Prefect prints at every flow's start (its UI address guessed from the API's) led nowhere."""
    env = {"PREFECT_API_URL": api_url}
    if not environ.get("PREFECT_API_SSL_CERT_FILE"):
        env["PREFECT_API_SSL_CERT_FILE"] = str(LOOPBACK_CA)
    if "PREFECT_UI_URL" not in environ:
        env["PREFECT_UI_URL"] = ""  # empty: Prefect has no UI address and prints no link
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# read-only requests made once the server answers: the first request to each of these costs the
# server ~0.3 s (building what it answers with: the API's version check, flow runs' and task
# runs' models), which the flow's start otherwise waited for (issue 15)
WARM_UP = (("GET", "/admin/version", None), ("POST", "/flow_runs/filter", {"limit": 1}),
           ("POST", "/task_runs/filter", {"limit": 1}))


def _warm_up(client: httpx.Client, api_url: str) -> None:
    """Make the WARM_UP requests, then close the client; errors are left for the flow, which
    meets the server again."""
    try:
        for method, path, body in WARM_UP:
            client.request(method, f"{api_url}{path}", json=body, timeout=10)
    except httpx.HTTPError:
        pass
    finally:
        client.close()


class TemporaryServer:
    """Prefect's temporary API server as a child process: start() returns at once, wait()
    blocks until it answers, stop() ends it (registered at exit when started, before Prefect's
    own exit handlers, so it stops after Prefect's log and event workers have flushed to it).

    The server ends with the process that started it even when that one is killed outright
    (SIGKILL; flows/lifeline.py). It writes to a log file of its own (its output is quiet:
    uvicorn at level error), not to the caller's stdout and stderr, and stop() does not wait
    for its graceful shutdown: waiting held every run's end 0.2 s after its last line, and so
    did a caller reading the run's output to its end (a shell pipe, subprocess.run), which
    waits for every process that holds the pipe (issue 15). uvicorn closes what is still open
    after SHUTDOWN_SECONDS; the log is removed at stop when the server wrote nothing, kept and
    named in a line on stderr when it did (and quoted in the error when the server exits
    before answering)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.ready = False
        self.started = 0.0
        self._client: httpx.Client | None = None
        self._polled = 0.0  # monotonic time of the last check that reached the network
        self.warmup: threading.Thread | None = None
        self.log: Path | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> TemporaryServer:
        spec = importlib.util.find_spec("prefect")
        if spec is None or spec.origin is None:
            raise RuntimeError("prefect is not installed")
        app_dir = Path(spec.origin).parent.parent
        fd, log = tempfile.mkstemp(prefix=f"{LOG_PREFIX}{os.getpid()}-", suffix=".log")
        self.log = Path(log)
        self.started = time.monotonic()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory",
                 "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port",
                 str(self.port), "--log-level", "error", "--lifespan", "on",
                 "--timeout-graceful-shutdown", str(SHUTDOWN_SECONDS)],
                env=server_environment(os.environ), stdin=subprocess.DEVNULL, stdout=fd,
                stderr=subprocess.STDOUT, preexec_fn=server_preexec())
        finally:
            os.close(fd)  # the child has its own copy
        atexit.register(self.stop)
        sweep_logs()  # killed runs' logs: while the server boots, not before it starts
        return self

    # read_ahead asks between every table and page it reads: checks closer together than this
    # answer from the last one
    POLL_INTERVAL = 0.05

    def poll(self) -> bool:
        """True once the server answers its health check (never blocks long). Cheap enough to
        ask between every page read: at most one check per POLL_INTERVAL, a TCP connect before
        any HTTP (refused until uvicorn listens), and one HTTP client for every check (an
        httpx.get each time built a client and its SSL context: 0.6 CPU s of a two-report run
        spent polling, issue 15)."""
        if self.ready:
            return True
        if self.process is None or self.process.poll() is not None:
            return False
        now = time.monotonic()
        if now - self._polled < self.POLL_INTERVAL:
            return False
        self._polled = now
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                pass
        except OSError:
            return False
        if self._client is None:
            self._client = httpx.Client(timeout=0.5)
        try:
            self.ready = self._client.get(f"{self.api_url}/health").status_code == 200
        except httpx.HTTPError:
            self.ready = False
        if self.ready:
            # the API's first request costs the server ~0.2 s more than the next ones: made
            # now, from a thread that only waits for the answer, while the caller goes on
            # reading and before the flow's own first request
            client, self._client = self._client, None
            self.warmup = threading.Thread(target=_warm_up, args=(client, self.api_url),
                                           daemon=True)
            self.warmup.start()
        return self.ready

    def settled(self) -> bool:
        """True once the server answers and its warm-up requests are done (poll() starts them):
        what read_ahead stops at, so that the server makes its first answers while the caller
        still reads, not while the flow waits for them."""
        return self.poll() and (self.warmup is None or not self.warmup.is_alive())

    def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def wait(self, timeout: float, progress: Callable[[float], None] | None = None) -> None:
        """Block until the server answers; `progress(seconds since its start)` at once when it
        has taken 5 s or more already, then every 5 s. RuntimeError (Prefect's wording) when it
        does not answer within `timeout` s of its start."""
        next_note = 5.0
        while not self.poll():
            now = time.monotonic()
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                self.process = None  # nothing to stop; its log stays for the user to read
                raise ServerExited(code, self.log)
            if now - self.started > timeout:
                raise RuntimeError(TIMEOUT_MESSAGE)
            if progress and now - self.started >= next_note:
                progress(now - self.started)
                next_note = (now - self.started) // 5 * 5 + 5.0
            time.sleep(0.02)  # a poll is cheap (see poll): the flow starts when it answers

    def stop(self) -> None:
        """Ask the server to shut down (SIGTERM) and return; remove its log if it is empty,
        else say in a line where it is (the server logs only errors)."""
        self._close_client()
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
        if self.log is None or process is None:
            return
        try:
            if self.log.stat().st_size == 0:
                self.log.unlink()
                self.log = None
                return
        except OSError:
            return
        print(f"statlift: Prefect's temporary API server logged errors: {self.log}",
              file=sys.stderr)
