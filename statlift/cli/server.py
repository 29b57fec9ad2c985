"""`statlift server`: Prefect's API server kept running for the runs of this machine.

Every `statlift run` without a Prefect API starts Prefect's temporary server and waits for it
to boot (3-6 s, ~4 CPU s; longer on a busy machine). For people who run statlift often:

    statlift server          # in a terminal of its own; Ctrl-C stops it
    statlift run             # elsewhere, with the same PREFECT_HOME: uses it, boots nothing

The server is the same process a run starts for itself (flows/server.py: Prefect's API
without its UI, on 127.0.0.1), kept until this command ends; its address is recorded in the
Prefect home (statlift-server.json), where `statlift run` finds it, checks that it answers and
uses it. No PREFECT_API_URL to set; a run whose server has gone (stopped, killed) starts its
temporary one as before. Prefect's UI and schedules (`statlift serve`) need Prefect's full
server: `prefect server start` and PREFECT_API_URL.
"""
from __future__ import annotations

import sys
import time

from statlift.errors import EXIT_BUSY, EXIT_INPUT, EXIT_OK, StatliftError

SERVER = "Prefect's API server (statlift server)"  # how its errors name it: kept, not temporary


def cmd_server(args) -> int:
    from statlift.flows.server import (
        TemporaryServer,
        configured_api_url,
        first_run,
        prefect_home,
        recorded_server,
        remove_record,
        startup_timeout,
        write_record,
    )

    configured = configured_api_url()
    if configured is not None:
        print(f"statlift server: runs here use the Prefect API {configured} (PREFECT_API_URL or "
              "the active Prefect profile); nothing started", file=sys.stderr)
        return EXIT_INPUT
    running = recorded_server()
    if running is not None:
        print(f"statlift server: one is running already for {prefect_home()}: {running}",
              file=sys.stderr)
        return EXIT_BUSY
    from statlift.cli.main import orchestrator_errors

    db = first_run()
    server = TemporaryServer(port=args.port).start()
    try:
        if db is not None:
            _say(f"first start on this machine: Prefect creates its database {db} (once, ~15 s)")
        with orchestrator_errors(SERVER):  # it exited, or did not answer in time
            server.wait(startup_timeout(),
                        progress=lambda s: _say(f"waiting for Prefect's API server ({s:.0f} s)"))
        record = write_record(server.api_url)
        _say(f"Prefect's API server runs on {server.api_url}; `statlift run` with this Prefect "
             f"home ({prefect_home()}) uses it ({record.name} there says so). Ctrl-C stops it.")
        while server.process is not None and server.process.poll() is None:
            time.sleep(0.5)
        code = server.process.returncode if server.process is not None else None
        raise StatliftError("orchestrator-unavailable", source=SERVER,
                            found=f"its process exited with code {code}; its log: {server.log}",
                            hint="start `statlift server` again")
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        remove_record()
        server.stop()


def _say(message: str) -> None:
    print(f"statlift server: {message}", file=sys.stderr, flush=True)


def register(sub, common) -> None:
    p = sub.add_parser("server", help="keep Prefect's API server running for statlift runs")
    p.add_argument("--port", type=int, default=None,
                   help="port on 127.0.0.1 (default: a free one; runs find it either way)")
    p.set_defaults(func=cmd_server)
