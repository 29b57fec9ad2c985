"""The objects a table travels in, from the PDF to every output (in the spirit of camelot's
`Table`): frozen dataclasses with `to_json()` / `from_json()` and, where a frame makes sense,
`to_frame()`.

    Cell        one printed number (a line of cells.csv)
    TableMeta   a table's provenance (its entry in tables.json)
    Table       meta + cells; to_frame() -> the wide table, cells_frame() -> the tidy cells
    Finding     one failed cross-check (an entry of audit.json's findings)
    AuditReport audit.json
    Manifest    raw/manifest.json (RawVersion: one stored PDF)
    Version     an entry of versions.json (VersionIndex: the whole file)

The tidy column list (CELL_COLUMNS) and the flag vocabulary are defined here once; the output
contract (docs/contract.md) is checked against them by tests/unit/test_contract.py.

This module is the bottom of the import graph: it imports no other statlift module.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from statlift.frames import records

# ---- flags --------------------------------------------------------------------------------

UNCONFIRMED = "unconfirmed"  # no engine confirms the page's reading: an extraction suspect
UNREADABLE = "unreadable"    # the printed text is not a number nor a known missing symbol
DISAGREES_SUFFIX = "_disagrees"
DISAGREES = "<engine>" + DISAGREES_SUFFIX  # one engine read something else
FLAGS = (UNCONFIRMED, DISAGREES, UNREADABLE)  # the vocabulary of cells.csv `flags`
FLAG_SEP = ";"


def disagrees(engine: str) -> str:
    """The flag of a cell an engine read differently: `pdfplumber_disagrees`."""
    return f"{engine}{DISAGREES_SUFFIX}"


def is_flag(name: str) -> bool:
    """Whether `name` is in the flag vocabulary (any `<engine>_disagrees` counts)."""
    return name in (UNCONFIRMED, UNREADABLE) or (name.endswith(DISAGREES_SUFFIX)
                                                 and len(name) > len(DISAGREES_SUFFIX))


def _split(text: str) -> tuple[str, ...]:
    return tuple(p for p in str(text or "").split(FLAG_SEP) if p)


def _tuple(value: Any) -> tuple:
    return tuple(value) if value is not None else ()


def _list(value: Any) -> list | None:
    return list(value) if value is not None else None


# ---- cells --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One cell of a table: a line of cells.csv (fields in the file's column order).

    Text fields hold what the CSV holds: `value` is the printed number without separators ("" if
    missing), `footnotes`, `engines` and `flags` are `;`-joined."""

    report_id: str
    table_id: str
    row_path: str
    column_path: str
    value: str
    unit: str
    raw_text: str
    missing_code: str
    footnotes: str
    page: int
    bbox: str
    engines: str
    source_sha256: str
    row_index: int
    column_index: int
    decimals: int | None
    missing_meaning: str
    flags: str

    @property
    def flag_list(self) -> tuple[str, ...]:
        return _split(self.flags)

    @property
    def engine_list(self) -> tuple[str, ...]:
        return _split(self.engines)

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CELL_COLUMNS}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Cell:
        return cls(**{name: doc[name] for name in CELL_COLUMNS})


CELL_COLUMNS: list[str] = [f.name for f in dataclasses.fields(Cell)]
CELL_INT_COLUMNS = ("page", "row_index", "column_index", "decimals")


def cells_frame(cells: Iterable[Cell]) -> pd.DataFrame:
    """The tidy frame of cells (columns CELL_COLUMNS, `decimals` as Int64)."""
    records = [c.to_json() for c in cells]
    frame = pd.DataFrame.from_records(records, columns=CELL_COLUMNS)
    frame["decimals"] = frame["decimals"].astype("Int64")
    return frame


def cells_from_frame(frame: pd.DataFrame) -> tuple[Cell, ...]:
    """Cells of a tidy frame (typed, or as read from cells.csv: every value a string)."""
    out = []
    for rec in records(frame[CELL_COLUMNS]):
        doc = {str(k): v for k, v in rec.items()}
        for name in CELL_INT_COLUMNS:
            v = doc[name]
            doc[name] = None if v is None or v == "" or pd.isna(v) else int(v)
        out.append(Cell.from_json(doc))
    return tuple(out)


def text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as its CSV reads back (every value a string, missing as ""): what readers of the
    published files get, made without writing and reading a file."""
    data = {i: [("" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
                for v in frame.iloc[:, i]] for i in range(frame.shape[1])}
    out = pd.DataFrame(data, index=pd.RangeIndex(len(frame)), dtype=str)
    out.columns = list(frame.columns)
    return out


# ---- tables -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Relabel:
    """A label printed differently from the spec (the printed one is kept)."""

    kind: str  # "row" | "column" | "title"
    index: int
    expected: str | None
    found: str | None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "index": self.index, "expected": self.expected,
                "found": self.found}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Relabel:
        return cls(doc["kind"], doc["index"], doc.get("expected"), doc.get("found"))


TABLE = "table"
CALLOUTS = "callouts"


@dataclass(frozen=True)
class TableMeta:
    """A table's provenance: its entry in tables.json (keys in the order written).

    `kind` is not written: a table read from a grid has `body_bbox` and `title_expected`,
    callout figures have `pages` instead."""

    title: str
    caption: str
    caption_number: str | None
    page: int | None
    bbox: tuple[float, ...] | None
    stub_header: str
    columns: tuple[str, ...]
    rows: tuple[str, ...]
    notes: tuple[str, ...]
    footnotes: Mapping[str, str]
    source: str | None
    spec_version: int | None
    ruled: bool
    engine: str
    engine_reports: Mapping[str, Any]
    shape: tuple[int, int]
    agreement: float | None  # share of cells every reader agrees on
    relabels: tuple[Relabel, ...]
    units: tuple[str, ...]
    kind: str = TABLE
    body_bbox: tuple[float, ...] | None = None  # tables only
    title_expected: str | None = None           # tables only
    pages: tuple[int, ...] = ()                 # callouts only

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"title": self.title, "caption": self.caption,
                               "caption_number": self.caption_number, "page": self.page}
        if self.kind == CALLOUTS:
            doc["pages"] = list(self.pages)
        doc["bbox"] = _list(self.bbox)
        if self.kind == TABLE:
            doc["body_bbox"] = _list(self.body_bbox)
        doc.update({
            "stub_header": self.stub_header, "columns": list(self.columns),
            "rows": list(self.rows), "notes": list(self.notes), "footnotes": dict(self.footnotes),
            "source": self.source, "spec_version": self.spec_version, "ruled": self.ruled,
            "engine": self.engine, "engine_reports": dict(self.engine_reports),
            "shape": list(self.shape), "agreement": self.agreement,
            "relabels": [r.to_json() for r in self.relabels]})
        if self.kind == TABLE:
            doc["title_expected"] = self.title_expected
        doc["units"] = list(self.units)
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TableMeta:
        kind = CALLOUTS if "pages" in doc else TABLE
        rows, columns = _tuple(doc.get("rows")), _tuple(doc.get("columns"))
        shape = doc.get("shape") or [len(rows), len(columns)]
        units = doc.get("units") or ()
        if isinstance(units, Mapping):
            units = sorted(set(units.values()))
        return cls(
            title=doc.get("title") or "", caption=doc.get("caption") or "",
            caption_number=doc.get("caption_number"), page=doc.get("page"),
            bbox=None if doc.get("bbox") is None else tuple(doc["bbox"]),
            stub_header=doc.get("stub_header") or "", columns=columns, rows=rows,
            notes=_tuple(doc.get("notes")), footnotes=dict(doc.get("footnotes") or {}),
            source=doc.get("source"), spec_version=doc.get("spec_version"),
            ruled=bool(doc.get("ruled", False)), engine=doc.get("engine") or "",
            engine_reports=dict(doc.get("engine_reports") or {}),
            shape=(int(shape[0]), int(shape[1])), agreement=doc.get("agreement"),
            relabels=tuple(Relabel.from_json(r) for r in doc.get("relabels") or ()),
            units=tuple(units), kind=kind,
            body_bbox=None if doc.get("body_bbox") is None else tuple(doc["body_bbox"]),
            title_expected=doc.get("title_expected"), pages=_tuple(doc.get("pages")))


@dataclass(frozen=True)
class Table:
    """One extracted table: its provenance and its cells (in row, then column order)."""

    report_id: str
    table_id: str
    meta: TableMeta
    cells: tuple[Cell, ...]

    @property
    def relabels(self) -> tuple[Relabel, ...]:
        return self.meta.relabels

    @property
    def agreement(self) -> float:
        return float(self.meta.agreement or 0.0)

    @property
    def header(self) -> list[str]:
        """The wide table's header: the printed stub header, then the column paths."""
        return [self.meta.stub_header] + list(self.meta.columns)

    def to_frame(self) -> pd.DataFrame:
        """The wide table: the row path, then one column per header path; values as printed
        without separators ("" where nothing is printed)."""
        at = {(c.row_index, c.column_index): c.value for c in self.cells}
        rows = [[path] + [at.get((ri, ci)) or "" for ci in range(len(self.meta.columns))]
                for ri, path in enumerate(self.meta.rows)]
        return pd.DataFrame(rows, columns=self.header, dtype=object)

    def cells_frame(self) -> pd.DataFrame:
        """The tidy cells (columns CELL_COLUMNS)."""
        return cells_frame(self.cells)

    def to_json(self) -> dict[str, Any]:
        return {"report_id": self.report_id, "table_id": self.table_id,
                "meta": self.meta.to_json(), "cells": [c.to_json() for c in self.cells]}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Table:
        return cls(doc["report_id"], doc["table_id"], TableMeta.from_json(doc["meta"]),
                   tuple(Cell.from_json(c) for c in doc["cells"]))


def tables_cells_frame(tables: Iterable[Table]) -> pd.DataFrame:
    """The tidy cells of several tables, in order (a report's cells.csv)."""
    return cells_frame(c for t in tables for c in t.cells)


@dataclass(frozen=True)
class TablesDocument:
    """tables.json: the report's source, versions and every table's meta."""

    report_id: str
    source_sha256: str | None
    source_path: str | None = None
    statlift_version: str | None = None
    spec_sha256: str | None = None
    extracted_at: str | None = None
    tables: Mapping[str, TableMeta] = field(default_factory=dict)
    failed: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"report_id": self.report_id, "source_sha256": self.source_sha256,
                "source_path": self.source_path, "statlift_version": self.statlift_version,
                "spec_sha256": self.spec_sha256, "extracted_at": self.extracted_at,
                "tables": {k: m.to_json() for k, m in self.tables.items()},
                "failed": dict(self.failed)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TablesDocument:
        return cls(doc.get("report_id", ""), doc.get("source_sha256"), doc.get("source_path"),
                   doc.get("statlift_version"), doc.get("spec_sha256"), doc.get("extracted_at"),
                   {k: TableMeta.from_json(v) for k, v in (doc.get("tables") or {}).items()},
                   dict(doc.get("failed") or {}))


# ---- audit --------------------------------------------------------------------------------

FINDING_CELL_FIELDS = ("table_id", "row_path", "column_path", "raw_text", "page", "bbox",
                       "engines", "flags")
# an entry of audit.json's `claims` (statlift/validate/claims.py), keys in the order written
CLAIM_FIELDS = ("id", "page", "kind", "stated", "verdict", "computed", "reason", "sentence",
                "box", "cells", "finding")


@dataclass(frozen=True)
class Finding:
    """One failed cross-check in audit.json (keys in the order written; `class` is `cls`)."""

    id: str
    check_id: str | None
    check: str | None
    table_id: str | None
    description: str | None
    cls: str | None  # "source inconsistency" | "extraction suspect"
    severity: str | None  # "error" | "warning" | "info"
    acknowledged: Any  # the reason (str) when acknowledged in the spec, else None
    expected: float | None
    printed: float | None
    tolerance: float | None
    cells: tuple[Mapping[str, Any], ...]  # FINDING_CELL_FIELDS of each cell involved
    culprit: Mapping[str, Any] | None
    message: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "check_id": self.check_id, "check": self.check,
                "table_id": self.table_id, "description": self.description, "class": self.cls,
                "severity": self.severity, "acknowledged": self.acknowledged,
                "expected": self.expected, "printed": self.printed, "tolerance": self.tolerance,
                "cells": [dict(c) for c in self.cells],
                "culprit": None if self.culprit is None else dict(self.culprit),
                "message": self.message}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], n: int = 1) -> Finding:
        """An audit.json finding; `n` numbers it when it has no id (F001, ...)."""
        return cls(doc.get("id") or f"F{n:03d}", doc.get("check_id"), doc.get("check"),
                   doc.get("table_id"), doc.get("description"), doc.get("class"),
                   doc.get("severity"), doc.get("acknowledged"), doc.get("expected"),
                   doc.get("printed"), doc.get("tolerance"),
                   tuple(doc.get("cells") or ()), doc.get("culprit"), doc.get("message"))


@dataclass(frozen=True)
class AuditReport:
    """audit.json: the summary, every finding, schema failures, every check run and every
    claim of the report's running text (CLAIM_FIELDS; a contradicted one names its finding)."""

    summary: Mapping[str, Any]
    findings: tuple[Finding, ...] = ()
    schema_failures: tuple[Mapping[str, Any], ...] = ()
    checks: tuple[Mapping[str, Any], ...] = ()
    claims: tuple[Mapping[str, Any], ...] = ()

    @property
    def unacknowledged(self) -> int:
        return int(self.summary.get("unacknowledged", 0))

    def to_json(self) -> dict[str, Any]:
        return {"summary": dict(self.summary), "findings": [f.to_json() for f in self.findings],
                "claims": [dict(c) for c in self.claims],
                "schema_failures": [dict(s) for s in self.schema_failures],
                "checks": [dict(c) for c in self.checks]}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> AuditReport:
        return cls(dict(doc.get("summary") or {}),
                   tuple(Finding.from_json(f, n)
                         for n, f in enumerate(doc.get("findings") or (), 1)),
                   tuple(doc.get("schema_failures") or ()), tuple(doc.get("checks") or ()),
                   tuple(doc.get("claims") or ()))


# ---- raw store and published versions -----------------------------------------------------

RAW_VERSION_FIELDS = ("sha256", "path", "size", "url", "final_url", "fetched_at", "http_status",
                      "etag", "last_modified", "origin", "checked_at")


@dataclass(frozen=True)
class RawVersion:
    """One stored PDF of a report in raw/manifest.json (where it came from, when)."""

    sha256: str
    path: str
    size: int | None = None
    url: str | None = None
    final_url: str | None = None
    fetched_at: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    origin: str | None = None
    checked_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in RAW_VERSION_FIELDS}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RawVersion:
        return cls(doc["sha256"], doc.get("path") or "", doc.get("size"), doc.get("url"),
                   doc.get("final_url"), doc.get("fetched_at"), doc.get("http_status"),
                   doc.get("etag"), doc.get("last_modified"), doc.get("origin"),
                   doc.get("checked_at"))


@dataclass(frozen=True)
class RawReport:
    """A report's entry in raw/manifest.json: the current sha256 and every stored version."""

    current: str | None
    versions: tuple[RawVersion, ...] = ()

    def current_version(self) -> RawVersion | None:
        return next((v for v in self.versions if v.sha256 == self.current), None)

    def to_json(self) -> dict[str, Any]:
        return {"current": self.current, "versions": [v.to_json() for v in self.versions]}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RawReport:
        return cls(doc.get("current"),
                   tuple(RawVersion.from_json(v) for v in doc.get("versions") or ()))


@dataclass(frozen=True)
class Manifest:
    """raw/manifest.json."""

    manifest_version: int = 1
    reports: Mapping[str, RawReport] = field(default_factory=dict)

    def current(self, report_id: str) -> str | None:
        """The current sha256 of a report, None if the manifest does not know it."""
        rep = self.reports.get(report_id)
        return rep.current if rep else None

    def to_json(self) -> dict[str, Any]:
        return {"manifest_version": self.manifest_version,
                "reports": {k: r.to_json() for k, r in self.reports.items()}}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Manifest:
        return cls(int(doc.get("manifest_version", 1)),
                   {k: RawReport.from_json(v or {}) for k, v in (doc.get("reports") or {}).items()})


@dataclass(frozen=True)
class Version:
    """A published version in versions.json."""

    version: str
    published_at: str = ""
    source_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "published_at": self.published_at,
                "source_sha256": self.source_sha256}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Version:
        return cls(doc["version"], doc.get("published_at", ""), doc.get("source_sha256"))


@dataclass(frozen=True)
class VersionEvent:
    """A line of versions.json's history: a publish or a restore."""

    at: str
    action: str  # "publish" | "restore"
    version: str | None

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "action": self.action, "version": self.version}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> VersionEvent:
        return cls(doc.get("at", ""), doc.get("action", ""), doc.get("version"))


@dataclass(frozen=True)
class VersionIndex:
    """versions.json: the current version, every kept version and the history."""

    current: str | None = None
    versions: tuple[Version, ...] = ()
    history: tuple[VersionEvent, ...] = ()

    def names(self) -> list[str]:
        return [v.version for v in self.versions]

    def to_json(self) -> dict[str, Any]:
        return {"current": self.current, "versions": [v.to_json() for v in self.versions],
                "history": [h.to_json() for h in self.history]}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> VersionIndex:
        return cls(doc.get("current"),
                   tuple(Version.from_json(v) for v in doc.get("versions") or ()),
                   tuple(VersionEvent.from_json(h) for h in doc.get("history") or ()))


# ---- a run's results ----------------------------------------------------------------------

@dataclass
class TableOutcome:
    """One table task's result: the table, or the error that stopped it."""

    table_id: str
    table: Table | None = None
    error: dict | None = None
    seconds: float = 0.0


@dataclass
class ReportResult:
    """One report's result: what was published (or why not) and the audit summary."""

    report_id: str
    status: str  # "published", "updated", "unchanged", "failed", "partial"
    message: str
    tables: int = 0
    failures: dict = field(default_factory=dict)
    audit: dict | None = None
    changes: int = 0
