"""statlift/model.py: every object survives to_json -> from_json, and frames are the contract's."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from statlift.model import (
    CALLOUTS,
    CELL_COLUMNS,
    AuditReport,
    Cell,
    Finding,
    Manifest,
    Relabel,
    Table,
    TableMeta,
    TablesDocument,
    Version,
    VersionIndex,
    cells_frame,
    cells_from_frame,
    disagrees,
    is_flag,
    text_frame,
)


def _cell(ri: int, ci: int, value: str, **kw) -> Cell:
    base = dict(report_id="r", table_id="t", row_path=f"Row {ri}", column_path=f"Col {ci}",
                value=value, unit="count", raw_text=value or "--",
                missing_code="" if value else "--", footnotes="", page=3,
                bbox="10.0,20.0,30.0,40.0", engines="words;pdfplumber", source_sha256="ab",
                row_index=ri, column_index=ci, decimals=0 if value else None,
                missing_meaning="" if value else "Less than 0.05%", flags="")
    base.update(kw)
    return Cell(**base)


def _meta(**kw) -> TableMeta:
    base = dict(title="Cases", caption="TABLE 1", caption_number="1", page=3,
                bbox=(1.0, 2.0, 3.0, 4.0), body_bbox=(1.0, 2.5, 3.0, 4.0), stub_header="Charge",
                columns=("Col 0", "Col 1"), rows=("Row 0", "Row 1"), notes=("Note.",),
                footnotes={"*": "Includes x."}, source="Source: BJS.", spec_version=1,
                ruled=False, engine="words+pdfplumber", engine_reports={"pdfplumber": {"n": 4}},
                shape=(2, 2), agreement=0.75,
                relabels=(Relabel("row", 1, "Row one", "Row 1"),), title_expected="Cases",
                units=("count",))
    base.update(kw)
    return TableMeta(**base)


@pytest.fixture
def table() -> Table:
    cells = (_cell(0, 0, "12"), _cell(0, 1, ""), _cell(1, 0, "7", flags="unconfirmed"))
    return Table("r", "t", _meta(), cells)


def test_cell_round_trip_and_column_order():
    c = _cell(0, 0, "12", flags=f"unconfirmed;{disagrees('camelot-stream')}")
    assert list(c.to_json()) == CELL_COLUMNS
    assert Cell.from_json(json.loads(json.dumps(c.to_json()))) == c
    assert c.flag_list == ("unconfirmed", "camelot-stream_disagrees")
    assert all(is_flag(f) for f in c.flag_list) and not is_flag("engines_disagree")


def test_table_meta_round_trip_keeps_the_written_keys():
    meta = _meta()
    doc = json.loads(json.dumps(meta.to_json()))
    assert TableMeta.from_json(doc) == meta
    assert TableMeta.from_json(doc).to_json() == doc
    assert "pages" not in doc and list(doc)[-2:] == ["title_expected", "units"]
    callouts = _meta(kind=CALLOUTS, pages=(2, 3), bbox=None, body_bbox=None, title_expected=None)
    cdoc = json.loads(json.dumps(callouts.to_json()))
    assert "body_bbox" not in cdoc and "title_expected" not in cdoc and cdoc["pages"] == [2, 3]
    assert TableMeta.from_json(cdoc) == callouts


def test_table_round_trip_and_frames(table):
    assert Table.from_json(json.loads(json.dumps(table.to_json()))) == table
    wide = table.to_frame()
    assert list(wide.columns) == ["Charge", "Col 0", "Col 1"]
    assert wide.values.tolist() == [["Row 0", "12", ""], ["Row 1", "7", ""]]
    tidy = table.cells_frame()
    assert list(tidy.columns) == CELL_COLUMNS and len(tidy) == 3
    assert str(tidy["decimals"].dtype) == "Int64"
    assert table.relabels[0].found == "Row 1" and table.agreement == 0.75


def test_cells_frame_round_trip_typed_and_as_text(table):
    tidy = cells_frame(table.cells)
    assert cells_from_frame(tidy) == table.cells
    text = text_frame(tidy)
    assert cells_from_frame(text) == table.cells
    assert text.loc[1, "decimals"] == "" and text.loc[0, "page"] == "3"


def test_text_frame_is_what_the_csv_reads_back(table, tmp_path):
    for frame in (table.cells_frame(), table.to_frame()):
        path = tmp_path / "f.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        back = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert text_frame(frame).equals(back)


def test_empty_cells_frame_has_the_contract_columns():
    assert list(cells_frame([]).columns) == CELL_COLUMNS


def test_tables_document_round_trip(table):
    doc = TablesDocument("r", "ab", "raw/r.pdf", "0.1.0", "cd", "2026-01-01T00:00:00+00:00",
                         {"t": table.meta}, {"t2": {"code": "caption-not-found"}})
    text = json.loads(json.dumps(doc.to_json()))
    assert TablesDocument.from_json(text) == doc
    assert TablesDocument.from_json({"report_id": "r", "source_sha256": "ab"}).tables == {}


def test_audit_report_round_trip():
    finding = Finding("F001", "t/sum#1", "sum", "t", "rows add up", "source inconsistency",
                      "warning", None, 10.0, 11.0, 0.5,
                      ({"table_id": "t", "row_path": "Row 0", "column_path": "Col 0",
                        "raw_text": "11", "page": 3, "bbox": "1,2,3,4", "engines": "words",
                        "flags": ""},), None, "rows add up: printed 11, expected 10")
    claim = {"id": "C001", "page": 2, "kind": "count", "stated": "37,105",
             "verdict": "supported", "computed": "", "reason": "t prints 37,105",
             "sentence": "A total of 37,105.", "box": [1.0, 2.0, 3.0, 4.0], "cells": [],
             "finding": None}
    report = AuditReport({"report_id": "r", "checks": 2, "unacknowledged": 1}, (finding,), (),
                         ({"check_id": "t/sum#1", "passed": False},), (claim,))
    doc = json.loads(json.dumps(report.to_json()))
    assert doc["findings"][0]["class"] == "source inconsistency"
    assert list(doc) == ["summary", "findings", "claims", "schema_failures", "checks"]
    assert AuditReport.from_json(doc) == report and report.unacknowledged == 1
    assert AuditReport.from_json({"summary": {}}).claims == ()  # an audit.json from before
    assert Finding.from_json({"check_id": "x"}, 7).id == "F007"


def test_manifest_round_trip():
    doc = {"manifest_version": 1, "reports": {"r": {"current": "ab", "versions": [
        {"sha256": "ab", "path": "raw/r/ab.pdf", "size": 10, "url": "https://x/r.pdf",
         "final_url": "https://x/r.pdf", "fetched_at": "2026-01-01T00:00:00+00:00",
         "http_status": 200, "etag": None, "last_modified": None, "origin": "fetch",
         "checked_at": "2026-01-01T00:00:00+00:00"}]}}}
    manifest = Manifest.from_json(doc)
    assert manifest.to_json() == doc and Manifest.from_json(manifest.to_json()) == manifest
    assert manifest.current("r") == "ab" and manifest.current("other") is None
    assert manifest.reports["r"].current_version().path == "raw/r/ab.pdf"


def test_version_index_round_trip():
    doc = {"current": "v2", "versions": [
        {"version": "v1", "published_at": "2026-01-05T06:00:00+00:00", "source_sha256": "ab"},
        {"version": "v2", "published_at": "2026-02-05T06:00:00+00:00", "source_sha256": "cd"}],
        "history": [{"at": "2026-01-05T06:00:00+00:00", "action": "publish", "version": "v1"}]}
    index = VersionIndex.from_json(doc)
    assert index.to_json() == doc and index.names() == ["v1", "v2"]
    assert Version.from_json(doc["versions"][0]).to_json() == doc["versions"][0]
