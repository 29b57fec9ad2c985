"""The crops' PNG encoding (validate/crops.py PNG_COMPRESS_LEVEL, issue 15) changes only the
container: the same pixels as the slowest, smallest-searching encoding (zlib level 9)."""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from statlift.validate import crops

REPO = Path(__file__).resolve().parents[2]
USSC_PDF = next((REPO / "raw" / "ussc-cp-production-2021").glob("*.pdf"))


def _pixels(png: bytes) -> tuple:
    with Image.open(io.BytesIO(png)) as im:
        return im.size, im.mode, im.tobytes()


def test_crop_pixels_do_not_depend_on_the_compress_level(monkeypatch):
    box = [((60.0, 60.0, 100.0, 80.0), crops.PROBLEM)]
    fast = crops.render_crop(str(USSC_PDF), 1, (50.0, 50.0, 300.0, 200.0), box)
    monkeypatch.setattr(crops, "PNG_COMPRESS_LEVEL", 9)
    slow = crops.render_crop(str(USSC_PDF), 1, (50.0, 50.0, 300.0, 200.0), box)
    assert crops.PNG_COMPRESS_LEVEL == 9 and fast != slow  # two encodings...
    assert _pixels(fast) == _pixels(slow)  # ...of one image


def _stubbed_audit(monkeypatch, table_crops, audit_report):
    from types import SimpleNamespace

    from statlift.validate import audit

    monkeypatch.setattr(audit, "write_table_crops", table_crops)
    monkeypatch.setattr(audit, "audit_report", audit_report)
    monkeypatch.setattr(audit, "finding_crops", lambda *a: {})
    monkeypatch.setattr(audit, "render_audit_html", lambda *a: "<html></html>")
    report = SimpleNamespace(cells=object(), doc={"source_path": "report.pdf"})
    return audit, SimpleNamespace(report_id="r"), report


def test_the_tables_crops_are_rendered_beside_the_audit(monkeypatch, tmp_path):
    """validate/audit.run_audit: the tables' crops (which need no audit) are rendered in a
    thread of their own while the audit runs; the audit waiting for them to start would hang
    if they were rendered after it, as before."""
    import threading
    from types import SimpleNamespace

    started, seen = threading.Event(), {}

    def table_crops(out_dir, tables, pdf_path, pages):
        seen["crops"] = threading.current_thread().name
        started.set()

    def audit_report(spec, cells, tables, pdf_path):
        assert started.wait(10), "the tables' crops did not start while the audit ran"
        seen["audit"] = threading.current_thread().name
        return SimpleNamespace(to_json=lambda: {"summary": {}}, summary={"findings": 0})

    audit, spec, report = _stubbed_audit(monkeypatch, table_crops, audit_report)
    assert audit.run_audit(spec, report, tmp_path) == {"findings": 0}
    assert seen["crops"].startswith("statlift-crops") and seen["audit"] != seen["crops"]
    assert (tmp_path / "audit.json").exists() and (tmp_path / "audit.html").exists()


def test_a_table_crop_that_fails_fails_the_audit_as_before(monkeypatch, tmp_path):
    import errno

    import pytest

    from statlift.model import AuditReport

    def table_crops(*a):
        raise OSError(errno.ENOSPC, "No space left on device")

    audit, spec, report = _stubbed_audit(
        monkeypatch, table_crops, lambda *a: AuditReport({}, (), (), (), ()))
    with pytest.raises(OSError, match="No space left"):
        audit.run_audit(spec, report, tmp_path)
    assert not (tmp_path / "audit.json").exists()
