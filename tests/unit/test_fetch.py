"""Fetching and registering raw PDFs against a real HTTP server on 127.0.0.1.

Every bad input asserts the exact error code, the key parts of its message, and that raw/ (every
file, hidden ones included) and raw/manifest.json are exactly as before.
"""
from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import pickle
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from httpserver import Reply, serve
from httpserver import pdf_reply as _pdf_reply

from statlift.acquire import fetch as fetch_mod
from statlift.acquire.fetch import fetch_source, register_local_source
from statlift.errors import StatliftError

pytest.importorskip("reportlab", reason="reportlab (test extra) builds the fixture PDFs")

REPORT = "bjs-ncj250746"
FAST = {"timeout": 2.0, "retries": 2, "backoff": 0.01}


# ---- fixture PDFs, made here -----------------------------------------------------------------

def _text_pdf(text: str = "Table 1. Suspects in matters referred", encrypt=None) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(300, 200), encrypt=encrypt)
    c.drawString(20, 150, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def _image_pdf() -> bytes:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(300, 200))
    c.drawImage(ImageReader(Image.new("RGB", (60, 40), (90, 90, 90))), 10, 10, 240, 160)
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    from reportlab.lib.pdfencrypt import StandardEncryption

    text = _text_pdf()
    return {"text": text, "text2": _text_pdf("Table 1. Revised November 2017"),
            "seed": _text_pdf("An older report"),
            "encrypted": _text_pdf(encrypt=StandardEncryption("secret", ownerPassword="owner")),
            "image": _image_pdf(), "truncated": text[: len(text) // 2]}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- a real HTTP server on an ephemeral loopback port (tests/httpserver.py) -----------------

@pytest.fixture
def server():
    with serve() as state:
        yield state


# ---- a raw store with one existing version, and its fingerprint ------------------------------

@pytest.fixture
def raw(tmp_path: Path, pdfs) -> Path:
    """raw/ as in the repository: one embedded version of another report and a manifest."""
    raw = tmp_path / "raw"
    sha = _sha(pdfs["seed"])
    (raw / "ussc-cp-production-2021").mkdir(parents=True)
    (raw / "ussc-cp-production-2021" / f"{sha}.pdf").write_bytes(pdfs["seed"])
    manifest = {"manifest_version": 1, "reports": {"ussc-cp-production-2021": {
        "current": sha, "versions": [{
            "sha256": sha, "path": f"raw/ussc-cp-production-2021/{sha}.pdf",
            "size": len(pdfs["seed"]), "url": None, "final_url": None, "fetched_at": None,
            "http_status": None, "etag": None, "last_modified": None, "origin": "embedded"}]}}}
    (raw / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return raw


def fingerprint(folder: Path) -> dict[str, str]:
    """sha256 of every file under folder (hidden temp files included)."""
    return {p.relative_to(folder).as_posix(): _sha(p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _manifest(raw: Path) -> dict:
    return json.loads((raw / "manifest.json").read_text(encoding="utf-8"))


def _refused_url() -> str:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/report.pdf"


# ---- good inputs ----------------------------------------------------------------------------

def test_new_version_is_stored_by_content_and_recorded(server, raw, pdfs):
    server.routes["/r.pdf"] = [_pdf_reply(pdfs["text"], ETag='"v1"',
                                          **{"Last-Modified": "Tue, 21 Nov 2017 10:00:00 GMT"})]
    res = fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)
    sha = _sha(pdfs["text"])
    assert (res.status, res.changed, res.sha256, res.http_status) == ("new", True, sha, 200)
    assert res.path == raw / REPORT / f"{sha}.pdf" and res.path.read_bytes() == pdfs["text"]
    rep = _manifest(raw)["reports"][REPORT]
    assert rep["current"] == sha and len(rep["versions"]) == 1
    v = rep["versions"][0]
    assert v["path"] == f"raw/{REPORT}/{sha}.pdf" and v["size"] == len(pdfs["text"])
    assert v["url"] == v["final_url"] == server.url("/r.pdf")
    assert (v["http_status"], v["etag"], v["origin"]) == (200, '"v1"', "download")
    assert v["last_modified"] == "Tue, 21 Nov 2017 10:00:00 GMT" and v["fetched_at"]
    assert "ussc-cp-production-2021" in _manifest(raw)["reports"]  # other reports untouched
    assert not [p for p in raw.rglob(".*")]  # no temp file left behind


def test_same_bytes_twice_adds_nothing(server, raw, pdfs):
    server.routes["/r.pdf"] = [_pdf_reply(pdfs["text"])]
    first = fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)
    files = fingerprint(raw)
    second = fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)
    assert (second.status, second.changed, second.sha256) == ("unchanged", False, first.sha256)
    assert {k: v for k, v in fingerprint(raw).items() if k != "manifest.json"} == \
        {k: v for k, v in files.items() if k != "manifest.json"}
    assert len(_manifest(raw)["reports"][REPORT]["versions"]) == 1


def test_etag_and_304_mean_unchanged(server, raw, pdfs):
    def route(headers: dict) -> Reply:
        if headers.get("If-None-Match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'}, length=False)
        return _pdf_reply(pdfs["text"], ETag='"v1"')

    server.routes["/r.pdf"] = route
    first = fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)
    files = fingerprint(raw)
    second = fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)
    assert server.requests[-1][1].get("If-None-Match") == '"v1"'
    assert (second.status, second.http_status, second.sha256) == ("unchanged", 304, first.sha256)
    assert second.path == first.path
    assert {k for k in fingerprint(raw)} == set(files)  # no new file
    versions = _manifest(raw)["reports"][REPORT]["versions"]
    assert len(versions) == 1 and versions[0]["checked_at"]


def test_last_modified_is_sent_back_as_if_modified_since(server, raw, pdfs):
    stamp = "Tue, 21 Nov 2017 10:00:00 GMT"
    server.routes["/r.pdf"] = [_pdf_reply(pdfs["text"], **{"Last-Modified": stamp}),
                               Reply(304, length=False)]
    fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)
    res = fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)
    assert server.requests[-1][1].get("If-Modified-Since") == stamp
    assert res.status == "unchanged"


def test_new_bytes_add_a_version_and_keep_the_old(server, raw, pdfs):
    server.routes["/r.pdf"] = [_pdf_reply(pdfs["text"]), _pdf_reply(pdfs["text2"]),
                               _pdf_reply(pdfs["text"])]
    v1 = fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)
    v2 = fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)
    assert v2.status == "new" and v1.path.read_bytes() == pdfs["text"]
    back = fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)  # the old bytes again
    rep = _manifest(raw)["reports"][REPORT]
    assert back.status == "known" and back.changed and rep["current"] == v1.sha256
    assert [v["sha256"] for v in rep["versions"]] == [v1.sha256, v2.sha256]


def test_redirect_is_recorded_as_final_url(server, raw, pdfs):
    server.routes["/latest"] = [Reply(302, headers={"Location": "/files/r-2017.pdf"})]
    server.routes["/files/r-2017.pdf"] = [_pdf_reply(pdfs["text"])]
    res = fetch_source(REPORT, server.url("/latest"), raw, **FAST)
    v = _manifest(raw)["reports"][REPORT]["versions"][0]
    assert res.final_url == v["final_url"] == server.url("/files/r-2017.pdf")
    assert v["url"] == server.url("/latest")


def test_server_error_is_retried_until_it_succeeds(server, raw, pdfs):
    server.routes["/r.pdf"] = [Reply(503), Reply(500), _pdf_reply(pdfs["text"])]
    res = fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST)
    assert res.status == "new" and server.hits("/r.pdf") == 3


def test_retries_wait_backoff_doubling(server, raw, pdfs, monkeypatch):
    """tenacity waits backoff, 2 x backoff, ... between attempts (sleeps recorded, not slept)."""
    waits: list[float] = []
    monkeypatch.setattr(fetch_mod, "_sleep", waits.append)
    server.routes["/r.pdf"] = [Reply(503), Reply(500), Reply(429), _pdf_reply(pdfs["text"])]
    res = fetch_source(REPORT, server.url("/r.pdf"), raw, timeout=2.0, retries=3, backoff=0.5)
    assert res.status == "new" and server.hits("/r.pdf") == 4
    assert waits == [0.5, 1.0, 2.0]


# ---- bad inputs: exact code, clear message, nothing written or lost --------------------------

def _fails(raw: Path, code: str, call: Callable[[], object]) -> StatliftError:
    before = fingerprint(raw)
    with pytest.raises(StatliftError) as info:
        call()
    assert info.value.code == code, str(info.value)
    assert fingerprint(raw) == before  # raw files and manifest byte-identical, no temp left
    msg = str(info.value)
    assert msg.endswith(f"[{code}]") and "expected" in msg and "found" in msg
    return info.value


def test_http_404_is_not_retried(server, raw):
    url = server.url("/gone.pdf")
    err = _fails(raw, "http-404", lambda: fetch_source(REPORT, url, raw, **FAST))
    assert url in str(err) and "HTTP 404" in str(err) and "pdf_url" in str(err)
    assert err.exit_code == 2 and server.hits("/gone.pdf") == 1


def test_http_500_is_retried_then_fails(server, raw):
    server.routes["/r.pdf"] = [Reply(500, b"oops")]
    err = _fails(raw, "http-500",
                 lambda: fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST))
    assert "HTTP 500" in str(err) and "retry later" in str(err)
    assert server.hits("/r.pdf") == 1 + FAST["retries"]


def test_timeout(server, raw, pdfs):
    server.routes["/slow.pdf"] = [Reply(200, pdfs["text"], delay=5.0)]
    err = _fails(raw, "timeout", lambda: fetch_source(
        REPORT, server.url("/slow.pdf"), raw, timeout=0.2, retries=1, backoff=0.01))
    assert "no answer within 0.2 s" in str(err) and server.url("/slow.pdf") in str(err)
    assert server.hits("/slow.pdf") == 2


def test_connection_refused(raw):
    url = _refused_url()
    err = _fails(raw, "connection-refused",
                 lambda: fetch_source(REPORT, url, raw, timeout=1, retries=1, backoff=0.01))
    assert url in str(err) and "server may be down" in str(err)


def test_html_landing_page_instead_of_pdf(server, raw):
    page = b"<!DOCTYPE html><html><head><title>Federal Prosecution of CSEC Cases</title></head>" \
           b"<body><a href='/content/pub/pdf/fpcsecc0413.pdf'>PDF</a></body></html>"
    server.routes["/r.pdf"] = [Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})]
    err = _fails(raw, "html-instead-of-pdf",
                 lambda: fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST))
    msg = str(err)
    assert "an HTML page (text/html" in msg and "Federal Prosecution of CSEC Cases" in msg
    assert "expected a PDF file" in msg and "pdf_url" in msg


def test_zero_byte_body(server, raw):
    server.routes["/r.pdf"] = [_pdf_reply(b"")]
    err = _fails(raw, "empty-file", lambda: fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST))
    assert "empty file (0 bytes)" in str(err)


def test_truncated_pdf(server, raw, pdfs):
    server.routes["/r.pdf"] = [_pdf_reply(pdfs["truncated"])]
    err = _fails(raw, "truncated-pdf",
                 lambda: fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST))
    assert f"{len(pdfs['truncated'])} bytes without the closing %%EOF" in str(err)
    assert "fetch it again" in str(err)


def test_encrypted_pdf(server, raw, pdfs):
    server.routes["/r.pdf"] = [_pdf_reply(pdfs["encrypted"])]
    err = _fails(raw, "encrypted-pdf",
                 lambda: fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST))
    assert "password-protected" in str(err) and "without a password" in str(err)


def test_image_only_pdf_without_text_layer(server, raw, pdfs):
    server.routes["/r.pdf"] = [_pdf_reply(pdfs["image"])]
    err = _fails(raw, "no-text-layer",
                 lambda: fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST))
    assert "1 page(s) with no text characters" in str(err) and "OCR" in str(err)


def test_too_large_by_content_length(server, raw, pdfs):
    server.routes["/r.pdf"] = [_pdf_reply(pdfs["text"] + b"\0" * 5000)]
    err = _fails(raw, "too-large", lambda: fetch_source(REPORT, server.url("/r.pdf"), raw,
                                                        max_bytes=4096, **FAST))
    assert "more than the limit of 4096" in str(err) and "Content-Length" in str(err)


def test_too_large_while_streaming_without_content_length(server, raw, pdfs):
    body = pdfs["text"] + b"\0" * 300_000
    server.routes["/r.pdf"] = [Reply(200, body, {"Content-Type": "application/pdf"},
                                     length=False)]
    err = _fails(raw, "too-large", lambda: fetch_source(REPORT, server.url("/r.pdf"), raw,
                                                        max_bytes=100_000, **FAST))
    assert "more than the limit of 100000 bytes" in str(err)


def test_pdf_bytes_with_a_foreign_content_type(server, raw, pdfs):
    server.routes["/r.pdf"] = [Reply(200, pdfs["text"], {"Content-Type": "image/png"})]
    err = _fails(raw, "not-a-pdf", lambda: fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST))
    assert "content type image/png" in str(err)


def test_disk_full_while_storing(server, raw, pdfs, monkeypatch):
    server.routes["/r.pdf"] = [_pdf_reply(pdfs["text"])]

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(fetch_mod.os, "replace", full)
    err = _fails(raw, "disk-full", lambda: fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST))
    assert err.exit_code == 3 and "no space left" in str(err)


def test_manifest_write_refused_removes_the_new_file(server, raw, pdfs, monkeypatch):
    server.routes["/r.pdf"] = [_pdf_reply(pdfs["text"])]
    real = os.replace

    def refuse_manifest(src, dst):
        if Path(dst).name == "manifest.json":
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        return real(src, dst)

    monkeypatch.setattr(fetch_mod.os, "replace", refuse_manifest)
    err = _fails(raw, "permission-denied",
                 lambda: fetch_source(REPORT, server.url("/r.pdf"), raw, **FAST))
    assert err.exit_code == 3 and "manifest" in str(err)
    assert not (raw / REPORT).exists()


# ---- local files (--source ID=PATH) ---------------------------------------------------------

def test_register_local_source_and_again(tmp_path, raw, pdfs):
    src = tmp_path / "report.pdf"
    src.write_bytes(pdfs["text"])
    first = register_local_source(REPORT, src, raw)
    again = register_local_source(REPORT, src, raw)
    v = _manifest(raw)["reports"][REPORT]["versions"]
    assert (first.status, again.status) == ("new", "unchanged") and len(v) == 1
    assert first.path.read_bytes() == pdfs["text"] and v[0]["origin"] == f"local: {src}"
    assert v[0]["url"] is None and v[0]["http_status"] is None


@pytest.mark.parametrize("kind, code, words", [
    ("missing", "file-not-found", "no such file"),
    ("empty", "empty-file", "0 bytes"),
    ("html", "html-instead-of-pdf", "an HTML page"),
    ("truncated", "truncated-pdf", "%%EOF"),
    ("encrypted", "encrypted-pdf", "password-protected"),
    ("image", "no-text-layer", "no text characters"),
])
def test_register_local_source_refuses_bad_files(tmp_path, raw, pdfs, kind, code, words):
    src = tmp_path / "in" / f"{kind}.pdf"
    src.parent.mkdir()
    data = {"empty": b"", "html": b"<html><title>Landing</title></html>"}.get(kind, pdfs.get(kind))
    if data is not None:
        src.write_bytes(data)
    err = _fails(raw, code, lambda: register_local_source(REPORT, src, raw))
    assert str(src) in str(err) and words in str(err)


# ---- the error itself ------------------------------------------------------------------------

def test_error_is_one_sentence_and_survives_pickling():
    err = StatliftError("caption-not-found", source="raw/x.pdf", expected="caption 'TABLE 7'",
                        found="no such caption", table="table-07", page=3)
    assert str(err) == ("raw/x.pdf, table table-07, page 3: expected caption 'TABLE 7', found "
                        "no such caption; check the caption anchor in "
                        "schemas/tables/<report_id>.yaml against the PDF [caption-not-found]")
    back = pickle.loads(pickle.dumps(err))
    assert (back.code, str(back), back.exit_code) == (err.code, str(err), 2)
    assert StatliftError("disk-full", source="p", found="x").exit_code == 3


def test_raw_files_take_the_umask_modes(tmp_path, raw, pdfs):
    """The manifest was written through tempfile.mkstemp (0600 whatever the umask)."""
    src = tmp_path / "report.pdf"
    src.write_bytes(pdfs["text"])
    old = os.umask(0o022)
    try:
        stored = register_local_source(REPORT, src, raw)
    finally:
        os.umask(old)
    assert (raw / "manifest.json").stat().st_mode & 0o777 == 0o644
    assert stored.path.stat().st_mode & 0o777 == 0o444  # immutable: no write permission
    assert not [p.name for p in raw.iterdir() if p.name.startswith(".")]  # no temp file left
