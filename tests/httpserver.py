"""A real HTTP server on an ephemeral loopback port, for fetch tests (unit and flow level).

    with serve() as server:
        server.routes["/r.pdf"] = [Reply(200, pdf_bytes, {"Content-Type": "application/pdf"})]
        fetch_source("bjs-ncj250746", server.url("/r.pdf"), raw)

A route is a list of replies (popped in turn, the last one repeats) or a function of the request
headers returning a reply. Unknown paths answer 404. Every request is recorded.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    length: bool = True  # send Content-Length (else the body ends when the connection closes)


@dataclass
class Server:
    base: str = ""
    routes: dict[str, list[Reply] | Callable[[dict], Reply]] = field(default_factory=dict)
    requests: list[tuple[str, dict]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def reply_for(self, path: str, headers: dict) -> Reply:
        route = self.routes.get(path, [Reply(404, b"not found", {"Content-Type": "text/plain"})])
        if callable(route):
            return route(headers)
        return route.pop(0) if len(route) > 1 else route[0]


@contextlib.contextmanager
def serve() -> Iterator[Server]:
    """Start a threaded server on 127.0.0.1:<free port>; stop it on exit."""
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            state.requests.append((self.path, dict(self.headers)))
            reply = state.reply_for(self.path, dict(self.headers))
            if reply.delay:
                state.release.wait(reply.delay)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.length:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            try:
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()


def pdf_reply(body: bytes, **headers: str) -> Reply:
    return Reply(200, body, {"Content-Type": "application/pdf", **headers})
