"""Fetch a report's PDF, or register a local one, into the immutable content-addressed raw store.

    raw/<report_id>/<sha256>.pdf     one file per version ever seen, never changed or removed
    raw/manifest.json                per report: "current" sha256 and every version's provenance

A file is kept only after it passed every check, in this order: an answer at all (timeout,
connection), HTTP status (5xx and 429 retried with exponential backoff), size limit, the first
bytes (HTML page, empty body, `%PDF-` magic, content type), then the whole file (the closing
`%%EOF`, opens with PDFium without a password, a text layer on at least one page). Nothing reaches
raw/ before the first bytes are known to be a PDF; a body that fails a later check is removed
before the error is raised, so a bad input leaves raw/ and the manifest untouched. The checks of
bytes and files live in acquire/pdfcheck.py.

Conditional requests: the current version's ETag / Last-Modified are sent back; 304 means
unchanged. The same bytes fetched again add no version (only `checked_at` and the validators are
updated). The manifest is written whole to a temp file and swapped in with os.replace.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from statlift.acquire.pdfcheck import (
    DEFAULT_MAX_BYTES,
    HEAD_BYTES,
    check_pdf_head,
    check_pdf_structure,
    validate_pdf_file,
)
from statlift.errors import StatliftError, error_from_os
from statlift.fileio import create_temp_file, write_atomic
from statlift.fingerprint import STATLIFT_VERSION

log = logging.getLogger(__name__)

USER_AGENT = f"statlift/{STATLIFT_VERSION} (statistical report table extraction)"
_CONDITIONAL = frozenset({"If-None-Match", "If-Modified-Since"})


@dataclass(frozen=True)
class FetchResult:
    """What a fetch or registration did.

    status: "new" (a new version was stored and is current), "unchanged" (304, or the bytes of the
    current version) or "known" (the bytes of an older stored version, which is current again).
    """

    report_id: str
    status: str
    sha256: str
    path: Path
    http_status: int | None
    final_url: str | None
    version: dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"


@dataclass(frozen=True)
class _Body:
    """A response body that passed the header checks, in a temp file inside raw/."""

    tmp: Path
    sha256: str
    size: int


class _Retryable(Exception):
    def __init__(self, error: StatliftError) -> None:
        super().__init__(str(error))
        self.error = error


# ---- the manifest ---------------------------------------------------------------------------

def load_manifest(raw_dir: Path) -> dict[str, Any]:
    """raw/manifest.json, or an empty manifest when there is none yet."""
    path = Path(raw_dir) / "manifest.json"
    if not path.exists():
        return {"manifest_version": 1, "reports": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise StatliftError("bad-manifest", source=str(path),
                            found=f"invalid JSON ({exc})") from None
    reports = data.get("reports") if isinstance(data, dict) else None
    if not isinstance(reports, dict) or not all(
            isinstance(r, dict) and isinstance(r.get("versions"), list) for r in reports.values()):
        raise StatliftError("bad-manifest", source=str(path),
                            found="no 'reports' mapping with a 'versions' list per report")
    return data


def write_manifest(raw_dir: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest whole to a temp file next to it, then os.replace it in."""
    path = Path(raw_dir) / "manifest.json"
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    try:
        write_atomic(path, text, fsync=True)
    except OSError as exc:
        raise error_from_os(exc, str(path), "writing the raw manifest") from None


def current_version(manifest: dict[str, Any], report_id: str) -> dict[str, Any] | None:
    rep = manifest["reports"].get(report_id) or {}
    return next((v for v in rep.get("versions", []) if v.get("sha256") == rep.get("current")),
                None)


def conditional_headers(manifest: dict[str, Any], report_id: str, url: str,
                        raw_dir: Path) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the current version, if it came from this URL."""
    cur = current_version(manifest, report_id)
    if not cur or cur.get("url") != url or not _version_file(raw_dir, cur).exists():
        return {}
    headers = {}
    if cur.get("etag"):
        headers["If-None-Match"] = cur["etag"]
    if cur.get("last_modified"):
        headers["If-Modified-Since"] = cur["last_modified"]
    return headers


def _version_file(raw_dir: Path, version: dict[str, Any]) -> Path:
    path = Path(version["path"])
    return path if path.is_absolute() else Path(raw_dir).parent / path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---- fetching -------------------------------------------------------------------------------

def fetch_source(report_id: str, url: str, raw_dir: Path, *, client: httpx.Client | None = None,
                 timeout: float = 30, max_bytes: int = DEFAULT_MAX_BYTES, retries: int = 3,
                 backoff: float = 1.0, total_timeout: float | None = None) -> FetchResult:
    """Download `url` into raw/<report_id>/<sha256>.pdf and record it in raw/manifest.json.

    `timeout` bounds each network step (connect, each read); `total_timeout` (default 20 x
    timeout) bounds one whole attempt. Connect errors, timeouts, 5xx and 429 are retried
    `retries` more times (tenacity), waiting backoff, 2 x backoff, 4 x backoff ... seconds.
    """
    raw_dir = Path(raw_dir)
    manifest = load_manifest(raw_dir)
    headers = {"User-Agent": USER_AGENT, **conditional_headers(manifest, report_id, url, raw_dir)}
    own = client is None
    client = client or httpx.Client()
    retrying = Retrying(retry=retry_if_exception_type(_Retryable),
                        stop=stop_after_attempt(max(0, retries) + 1),
                        wait=wait_exponential(multiplier=backoff, exp_base=2),
                        before_sleep=_log_retry(retries), sleep=_sleep, reraise=True)
    try:
        return retrying(_fetch_once, client, report_id, url, raw_dir, headers, timeout,
                        max_bytes, total_timeout or 20 * timeout)
    except _Retryable as exc:
        raise exc.error from None
    finally:
        if own:
            client.close()


def _log_retry(retries: int):
    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        found = exc.error.found if isinstance(exc, _Retryable) else str(exc)
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s; retry %d of %d in %.2fs", found, state.attempt_number, retries, wait)
    return log_retry


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # a module function: tests replace it (fetch._sleep) to record waits


def _fetch_once(client: httpx.Client, report_id: str, url: str, raw_dir: Path,
                headers: dict[str, str], timeout: float, max_bytes: int,
                total_timeout: float) -> FetchResult:
    try:
        with client.stream("GET", url, headers=headers, timeout=timeout,
                           follow_redirects=True) as resp:
            final_url = str(resp.url)
            if resp.status_code == 304:
                return _record_unchanged(report_id, raw_dir, resp,
                                         conditional=bool(_CONDITIONAL & set(headers)))
            _check_status(resp, url)
            body = _receive(resp, url, raw_dir, max_bytes, time.monotonic() + total_timeout)
    except httpx.TimeoutException:
        raise _Retryable(StatliftError("timeout", source=url,
                                       found=f"no answer within {timeout:g} s")) from None
    except httpx.ConnectError as exc:
        refused = "refused" in str(exc).lower() or isinstance(exc.__cause__, ConnectionRefusedError)
        code, found = (("connection-refused", "no server listening (connection refused)")
                       if refused else ("connection-failed", f"no connection ({exc})"))
        raise _Retryable(StatliftError(code, source=url, found=found)) from None
    except httpx.TooManyRedirects:
        raise StatliftError("too-many-redirects", source=url, found="a redirect loop") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise StatliftError("bad-url", source=url, found=str(exc).rstrip(".")) from None
    except httpx.TransportError as exc:
        raise _Retryable(StatliftError("connection-failed", source=url,
                                       found=f"the connection broke ({exc})")) from None
    meta = {"url": url, "final_url": final_url, "http_status": resp.status_code,
            "etag": resp.headers.get("etag"), "last_modified": resp.headers.get("last-modified"),
            "origin": "download"}
    return _keep_checked(body, report_id, raw_dir, meta, source=url)


def _check_status(resp: httpx.Response, url: str) -> None:
    status = resp.status_code
    if status == 200:
        return
    where = f" (redirected to {resp.url})" if str(resp.url) != url else ""
    error = StatliftError(f"http-{status}", source=url,
                          found=f"HTTP {status} {resp.reason_phrase}{where}".strip())
    if status >= 500 or status == 429:
        raise _Retryable(error)
    raise error


def _receive(resp: httpx.Response, url: str, raw_dir: Path, max_bytes: int,
             deadline: float) -> _Body:
    """Stream the body: check its first KiB before anything is written, then spool to raw/."""
    ctype = resp.headers.get("content-type")
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise StatliftError("too-large", source=url,
                            found=f"Content-Length {declared}, more than the limit of {max_bytes}")
    chunks = resp.iter_bytes()
    head = b""
    for chunk in chunks:
        head += chunk
        _check_progress(len(head), url, max_bytes, deadline)
        if len(head) >= HEAD_BYTES:
            break
    check_pdf_head(head, url, ctype)
    return _spool(raw_dir, url, head, chunks, max_bytes, deadline)


def _check_progress(size: int, source: str, max_bytes: int, deadline: float) -> None:
    if size > max_bytes:
        raise StatliftError("too-large", source=source,
                            found=f"more than the limit of {max_bytes} bytes")
    if time.monotonic() > deadline:
        raise _Retryable(StatliftError("timeout", source=source,
                                       found="a download slower than the total time limit"))


def _spool(raw_dir: Path, source: str, head: bytes, rest: Any, max_bytes: int,
           deadline: float) -> _Body:
    """Write head + rest to a temp file in raw/ (same filesystem), hashing on the way."""
    digest, size, tmp = hashlib.sha256(head), len(head), None
    try:
        raw_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = create_temp_file(raw_dir, ".incoming-", ".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(head)
            for chunk in rest:
                size += len(chunk)
                _check_progress(size, source, max_bytes, deadline)
                digest.update(chunk)
                fh.write(chunk)
    except OSError as exc:
        _discard(tmp)
        raise error_from_os(exc, str(raw_dir), f"saving {source}") from None
    except BaseException:
        _discard(tmp)
        raise
    return _Body(tmp, digest.hexdigest(), size)


def _discard(tmp: Path | None) -> None:
    if tmp is not None:
        tmp.unlink(missing_ok=True)


# ---- keeping a checked body -----------------------------------------------------------------

def _keep_checked(body: _Body, report_id: str, raw_dir: Path, meta: dict[str, Any],
                  source: str) -> FetchResult:
    try:
        check_pdf_structure(body.tmp, source)
        return _keep(body, report_id, raw_dir, meta)
    finally:
        _discard(body.tmp)


def _keep(body: _Body, report_id: str, raw_dir: Path, meta: dict[str, Any]) -> FetchResult:
    """Store the body as raw/<id>/<sha>.pdf unless known, and record it in the manifest."""
    manifest = load_manifest(raw_dir)  # re-read: keep the window for concurrent writers small
    rep = manifest["reports"].setdefault(report_id, {"current": None, "versions": []})
    target = raw_dir / report_id / f"{body.sha256}.pdf"
    known = next((v for v in rep["versions"] if v.get("sha256") == body.sha256), None)
    status = "unchanged" if known and rep.get("current") == body.sha256 else (
        "known" if known else "new")
    now = _now()
    if known:
        known.update({k: meta[k] for k in ("etag", "last_modified") if meta.get(k)})
        known["checked_at"] = now
        version = known
    else:
        version = {"sha256": body.sha256, "path": f"{raw_dir.name}/{report_id}/{body.sha256}.pdf",
                   "size": body.size, "url": meta["url"], "final_url": meta["final_url"],
                   "fetched_at": now, "http_status": meta["http_status"], "etag": meta["etag"],
                   "last_modified": meta["last_modified"], "origin": meta["origin"],
                   "checked_at": now}
        rep["versions"].append(version)
    rep["current"] = body.sha256
    placed = _place(body.tmp, target)
    try:
        write_manifest(raw_dir, manifest)
    except StatliftError:
        if placed:
            target.unlink(missing_ok=True)
            _rmdir_if_empty(target.parent)
        raise
    log.info("%s: %s version %s (%d bytes)", report_id, status, body.sha256[:12], body.size)
    return FetchResult(report_id, status, body.sha256, target, meta.get("http_status"),
                       meta.get("final_url"), dict(version))


def _place(tmp: Path, target: Path) -> bool:
    """Move the checked temp file to its content address; False if it is already there."""
    if target.exists():
        return False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
        # raw files are immutable: the umask's mode without write permission
        os.chmod(target, stat.S_IMODE(os.stat(target).st_mode) & ~0o222)
    except OSError as exc:
        _rmdir_if_empty(target.parent)
        raise error_from_os(exc, str(target), "storing the raw file") from None
    return True


def _rmdir_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


def _record_unchanged(report_id: str, raw_dir: Path, resp: httpx.Response, *,
                     conditional: bool) -> FetchResult:
    """304 Not Modified: the current version still stands; note when it was checked."""
    manifest = load_manifest(raw_dir)
    cur = current_version(manifest, report_id)
    if cur is None or not conditional:
        raise StatliftError("http-304", source=str(resp.url), expected="HTTP 200 with the PDF",
                            found="HTTP 304 Not Modified to a request that was not conditional",
                            hint="the server or a proxy answers wrongly; retry later")
    if resp.headers.get("etag"):
        cur["etag"] = resp.headers["etag"]
    cur["checked_at"] = _now()
    write_manifest(raw_dir, manifest)
    log.info("%s: unchanged (HTTP 304), version %s", report_id, cur["sha256"][:12])
    return FetchResult(report_id, "unchanged", cur["sha256"], _version_file(raw_dir, cur), 304,
                       str(resp.url), dict(cur))


# ---- local files ----------------------------------------------------------------------------

def register_local_source(report_id: str, path: Path, raw_dir: Path, *,
                          max_bytes: int = DEFAULT_MAX_BYTES) -> FetchResult:
    """Check a local PDF (`--source ID=PATH`) like a download and store it in raw/."""
    path, raw_dir = Path(path), Path(raw_dir)
    validate_pdf_file(path, max_bytes=max_bytes)
    with open(path, "rb") as src:
        chunks = iter(lambda: src.read(1 << 20), b"")
        body = _spool(raw_dir, str(path), b"", chunks, max_bytes, float("inf"))
    meta = {"url": None, "final_url": None, "http_status": None, "etag": None,
            "last_modified": None, "origin": f"local: {path.resolve()}"}
    return _keep_checked(body, report_id, raw_dir, meta, source=str(path))
