"""Typed, frozen models of the catalog and the per-report table specs (YAML).

Extra fields are forbidden, so a typo in a spec fails when it loads, not in the middle of a run.
No I/O beyond reading the YAML files; no Prefect.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from statlift.settings import SCHEMAS_DIR, get_settings
from statlift.validate import checks as registry

CATALOG_PATH = SCHEMAS_DIR / "catalog.yaml"
UNITS = ("count", "percent", "months", "years", "days", "rate", "dollars", "ratio")
# The table readers besides the page's words (extractors/engines.py registers one per name):
# a name not listed here fails when the spec loads, naming the file, the table and these names.
EngineName = Literal["pdfplumber", "camelot"]
ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportEntry(_Frozen):
    report_id: str
    publisher: str
    publisher_short: str | None = None
    series: str | None = None
    number: str | None = None
    title: str
    authors: list[str] = Field(default_factory=list)
    released: str | None = None
    revised: str | None = None
    revision_note: str | None = None
    data_period: str | None = None
    publisher_file: str | None = None
    landing_url: str | None = None
    pdf_url: str | None = None
    csv_zip_url: str | None = None
    ascii_url: str | None = None
    urls_verified: bool = False
    embedded: str
    expected_sha256: str | None = None
    embedded_note: str | None = None
    license: str
    spec: str

    @field_validator("released", "revised", mode="before")
    @classmethod
    def _date_to_str(cls, v: Any) -> Any:
        return None if v is None else str(v)


class Catalog(_Frozen):
    catalog_version: int
    reports: list[ReportEntry]

    def get(self, report_id: str) -> ReportEntry:
        for r in self.reports:
            if r.report_id == report_id:
                return r
        valid = ", ".join(r.report_id for r in self.reports)
        raise KeyError(f"unknown report {report_id!r}; the catalog has: {valid}")


class PlumberSettings(_Frozen):
    """pdfplumber table settings (passed through to `Page.extract_table`)."""

    vertical_strategy: Literal["lines", "text", "lines_strict"] = "text"
    horizontal_strategy: Literal["lines", "text", "lines_strict"] = "text"
    snap_tolerance: float = 3
    join_tolerance: float = 3
    text_x_tolerance: float = 1.5
    text_y_tolerance: float = 3
    intersection_tolerance: float = 3


class CamelotSettings(_Frozen):
    flavor: Literal["auto", "stream", "lattice"] = "auto"
    row_tol: float = 2
    edge_tol: float = 50
    line_scale: int = 40


class EngineSettings(_Frozen):
    pdfplumber: PlumberSettings = PlumberSettings()
    camelot: CamelotSettings = CamelotSettings()
    enabled: tuple[EngineName, ...] = ("pdfplumber", "camelot")


class LayoutSettings(_Frozen):
    """Thresholds of the page-words layout reading, in ems of the local font size."""

    run_gap_em: float = 0.9  # a gap wider than this splits a line into cells
    end_gap_lines: float = 2.4  # a vertical gap this many row pitches ends a table
    indent_tolerance: float = 2.5  # points


class UnitRule(_Frozen):
    rows: str = "*"  # fnmatch pattern on the row path
    columns: str = "*"  # fnmatch pattern on the column path
    unit: str

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str) -> str:
        if v not in UNITS:
            raise ValueError(f"unknown unit {v!r}; use one of {', '.join(UNITS)}")
        return v


class CheckSpec(_Frozen):
    """One declared cross-check: a registered check name and its arguments (validated at load)."""

    check: str
    args: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    reason: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_mapping(cls, data: Any) -> Any:
        # `- sums_to_total: {...}` is the short YAML form of {check: sums_to_total, args: {...}}
        if isinstance(data, dict) and "check" not in data and len(data) == 1:
            (name, args), = data.items()
            return {"check": name, "args": args or {}}
        return data


class TableSpec(_Frozen):
    table_id: str
    kind: Literal["table", "callouts"] = "table"
    caption: str  # the printed anchor: "TABLE 7", or a title-bar text for tables without numbers
    title: str | None = None  # expected title (compared, reported if it differs)
    stub_header: str | None = None
    rows: list[str] = Field(default_factory=list)  # expected row paths, as printed
    columns: list[str] = Field(default_factory=list)  # expected leaf column paths
    units: list[UnitRule] = Field(default_factory=list)
    default_unit: str = "count"
    engines: EngineSettings | None = None
    layout: LayoutSettings | None = None
    checks: list[CheckSpec] = Field(default_factory=list)
    acknowledged: list[dict[str, Any]] = Field(default_factory=list)
    not_additive: str | None = None  # why shares of this table do not add up, if they don't
    description: str | None = None

    def unit_for(self, row_path: str, column_path: str) -> str:
        unit = self.default_unit
        for rule in self.units:
            if fnmatch.fnmatchcase(row_path, rule.rows) and \
                    fnmatch.fnmatchcase(column_path, rule.columns):
                unit = rule.unit
        return unit


class ReportSpec(_Frozen):
    report_id: str
    spec_version: int
    missing_codes: dict[str, str] | None = None
    engines: EngineSettings = EngineSettings()
    layout: LayoutSettings = LayoutSettings()
    tables: list[TableSpec]

    @model_validator(mode="after")
    def _unique_ids(self) -> ReportSpec:
        ids = [t.table_id for t in self.tables]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate table_id in spec: {', '.join(dupes)}")
        return self

    def table(self, table_id: str) -> TableSpec:
        for t in self.tables:
            if t.table_id == table_id:
                return t
        valid = ", ".join(t.table_id for t in self.tables)
        raise KeyError(f"unknown table {table_id!r} in {self.report_id}; valid: {valid}")

    def engines_for(self, table: TableSpec) -> EngineSettings:
        return table.engines or self.engines

    def layout_for(self, table: TableSpec) -> LayoutSettings:
        return table.layout or self.layout


def table_fingerprint(report: ReportSpec, table: TableSpec) -> str:
    """A hash of everything that shapes one table's extraction (for caching)."""
    payload = {"table": table.model_dump(mode="json"),
               "engines": report.engines_for(table).model_dump(mode="json"),
               "layout": report.layout_for(table).model_dump(mode="json"),
               "missing": report.missing_codes, "spec_version": report.spec_version}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def spec_sha256(report: ReportSpec) -> str:
    """A hash of the whole report spec (tables, checks, acknowledgements): a published report
    whose source and spec_sha256 both match needs no new run (flows/run.py)."""
    payload = json.dumps(report.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def catalog_path() -> Path:
    """The catalog in use: $STATLIFT_CATALOG if set (benchmarks, other deployments), else ours."""
    return get_settings().catalog


def load_catalog(path: str | Path | None = None) -> Catalog:
    return _load_catalog(str(Path(path or catalog_path()).resolve()))


@cache
def _load_catalog(path: str) -> Catalog:
    with open(path, encoding="utf-8") as fh:
        return Catalog.model_validate(yaml.safe_load(fh))


def load_report_spec(path: str | Path) -> ReportSpec:
    """Load and validate a table spec; registered checks validate their arguments here too."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    try:
        spec = ReportSpec.model_validate(data)
    except ValidationError as exc:  # pydantic's message names the field; add file and table
        raise ValueError(f"{path}: invalid table spec:\n{_describe(exc, data)}") from exc
    _validate_checks(spec, path)
    return spec


def _describe(exc: ValidationError, data: Any) -> str:
    """pydantic's errors, one a line, with `tables.<i>` replaced by the table's id and, for an
    unknown engine, the names statlift knows."""
    tables = data.get("tables") if isinstance(data, dict) else None
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "tables" and isinstance(loc[1], int) \
                and isinstance(tables, list) and loc[1] < len(tables) \
                and isinstance(tables[loc[1]], dict):
            tid = tables[loc[1]].get("table_id", f"#{loc[1] + 1}")
            where = f"table {tid}: " + ".".join(str(p) for p in loc[2:])
        msg = err["msg"]
        if "enabled" in loc and err["type"] == "literal_error":
            msg = (f"unknown engine {err['input']!r}; the engines are "
                   f"{', '.join(ENGINE_NAMES)}")
        else:
            msg += f" (got {err['input']!r})" if "input" in err and err["type"] != "missing" \
                else ""
        lines.append(f"  {where}: {msg}")
    return "\n".join(lines)


def _validate_checks(spec: ReportSpec, path: str | Path) -> None:
    for table in spec.tables:
        for chk in table.checks:
            try:
                registry.validate_check_spec(chk, table, spec)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}: table {table.table_id}: check {chk.check!r}: {exc}") \
                    from exc


def spec_for(report_id: str, catalog: Catalog | None = None) -> ReportSpec:
    """The table spec of a catalog entry (spec paths resolve against schemas/ or the catalog's
    folder); an entry may reuse another report's spec under its own id."""
    catalog = catalog or load_catalog()
    entry = catalog.get(report_id)
    path = SCHEMAS_DIR / entry.spec
    if not path.exists():
        path = catalog_path().parent / entry.spec
    spec = _load_spec_cached(str(path), path.stat().st_mtime_ns)
    return spec if spec.report_id == report_id else spec.model_copy(update={"report_id": report_id})


@lru_cache(maxsize=64)
def _load_spec_cached(path: str, mtime: int) -> ReportSpec:
    return load_report_spec(path)
