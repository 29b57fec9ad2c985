"""Typed, frozen models of the catalog and the per-report table specs (YAML).

Extra fields are forbidden, so a typo in a spec fails when it loads, not in the middle of a run.
A catalog or spec that does not load is a `SpecError` (a StatliftError, exit 2, and a ValueError)
naming the file, the entry (report id) or table, each field and what was wrong with it:

    catalog.yaml, report my-report: expected a catalog entry with the catalog's fields, found
    field 'embedded': required, missing; field 'embeded': not a catalog field (did you mean
    'embedded'?); ... [bad-catalog]

No I/O beyond reading the YAML files; no Prefect.
"""
from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from statlift.errors import StatliftError
from statlift.settings import SCHEMAS_DIR, get_settings
from statlift.validate import checks as registry

CATALOG_PATH = SCHEMAS_DIR / "catalog.yaml"
UNITS = ("count", "percent", "months", "years", "days", "rate", "dollars", "ratio")
# The table readers besides the page's words (extractors/engines.py registers one per name):
# a name not listed here fails when the spec loads, naming the file, the table and these names.
EngineName = Literal["pdfplumber", "camelot"]
ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)


class SpecError(StatliftError, ValueError):
    """A catalog (`bad-catalog`) or table spec (`bad-spec`) that does not load: exit 2. Also a
    ValueError, as the loaders raised before."""


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

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalog:
        ids = [r.report_id for r in self.reports]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"report_id {', '.join(dupes)} is listed twice")
        return self

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
    # which registered reader reads the table (statlift/extractors/readers.py): layout (the
    # page's text geometry), or a region reader over the located body: auto, ruled,
    # whitespace, fused. Left out of the spec hash at its default (see `_hash_payload`)
    reader: Literal["layout", "auto", "ruled", "whitespace", "fused"] = "layout"
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


# Fields added to a spec after datasets were published with it: at their default they are left
# out of the hashes below, so adding one does not make every published table look changed.
_HASH_OMITS_DEFAULT = {"reader": "layout"}


def _table_payload(table: TableSpec) -> dict:
    return {k: v for k, v in table.model_dump(mode="json").items()
            if not (k in _HASH_OMITS_DEFAULT and v == _HASH_OMITS_DEFAULT[k])}


def table_fingerprint(report: ReportSpec, table: TableSpec) -> str:
    """A hash of everything that shapes one table's extraction (for caching)."""
    payload = {"table": _table_payload(table),
               "engines": report.engines_for(table).model_dump(mode="json"),
               "layout": report.layout_for(table).model_dump(mode="json"),
               "missing": report.missing_codes, "spec_version": report.spec_version}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def spec_sha256(report: ReportSpec) -> str:
    """A hash of the whole report spec (tables, checks, acknowledgements): a published report
    whose source and spec_sha256 both match needs no new run (flows/run.py)."""
    doc = report.model_dump(mode="json")
    doc["tables"] = [_table_payload(t) for t in report.tables]
    payload = json.dumps(doc, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def catalog_path() -> Path:
    """The catalog in use: $STATLIFT_CATALOG if set (benchmarks, other deployments), else ours."""
    return get_settings().catalog


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog at `path` (default: the one in use), read once per path; a SpecError
    (`bad-catalog`) names the file, the entry, the field and what is wrong."""
    return _load_catalog(str(Path(path or catalog_path()).resolve()))


@cache
def _load_catalog(path: str) -> Catalog:
    return read_catalog(path)


def read_catalog(path: str | Path) -> Catalog:
    """Read and validate a catalog file (uncached: `statlift add` reads it before and after
    writing to it)."""
    data = _read_yaml(path, "bad-catalog", "a catalog (YAML with catalog_version and reports)")
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        raise catalog_error(exc, data, path) from None


def catalog_error(exc: ValidationError, data: Any, path: str | Path) -> SpecError:
    """A pydantic error of a catalog as one SpecError: every wrong field, by report id."""
    reports = data.get("reports") if isinstance(data, dict) else None
    by_entry: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = list(err["loc"])
        entry = ""
        if len(loc) >= 2 and loc[0] == "reports" and isinstance(loc[1], int):
            item = reports[loc[1]] if isinstance(reports, list) and loc[1] < len(reports) \
                else None
            rid = item.get("report_id") if isinstance(item, dict) else None
            entry = f"report {rid}" if rid else f"entry #{loc[1] + 1} of reports"
            loc = loc[2:]
        by_entry.setdefault(entry, []).append(_field_problem(err, loc, ReportEntry if entry
                                                             else Catalog))
    if len(by_entry) == 1:
        (entry, problems), = by_entry.items()
        source = f"{path}, {entry}" if entry else str(path)
        found = "; ".join(problems)
    else:
        source = str(path)
        found = "; ".join(f"{entry or 'the catalog'}: {', '.join(problems)}"
                          for entry, problems in by_entry.items())
    required = [n for n, f in ReportEntry.model_fields.items() if f.is_required()]
    return SpecError("bad-catalog", source=source, found=found,
                     hint=f"fix the entry; each entry needs {', '.join(required)} (`statlift add "
                          "PDF --id ID` writes a complete entry)")


def _field_problem(err: Any, loc: list, model: type[BaseModel]) -> str:
    """`field 'x': what is wrong (got ...)` for one pydantic error."""
    field = ".".join(str(p) for p in loc)
    kind = err["type"]
    if kind == "missing":
        return f"field {field!r}: required, missing"
    if kind == "extra_forbidden":
        names = list(model.model_fields)
        close = difflib.get_close_matches(str(loc[-1]), names, n=1)
        return f"field {field!r}: not a catalog field" + (
            f" (did you mean {close[0]!r}?)" if close else f" (the fields: {', '.join(names)})")
    what = f"field {field!r}: " if field else ""
    got = f" (got {err['input']!r})" if "input" in err and kind != "value_error" else ""
    msg = err["msg"].removeprefix("Value error, ")
    return f"{what}{msg}{got}"


def _read_yaml(path: str | Path, code: str, expected: str) -> Any:
    """A YAML file's data; a missing file, unreadable YAML or no mapping at the top is a
    SpecError with `code`."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise SpecError(code, source=str(path), expected=expected, found="no such file",
                        hint="check the path (the catalog: STATLIFT_CATALOG)") from None
    except IsADirectoryError:
        raise SpecError(code, source=str(path), expected=expected, found="a folder") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(code, source=str(path), expected=expected,
                        found=f"invalid YAML{where}: {problem}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise SpecError(code, source=str(path), expected=expected,
                        found=f"a file that cannot be read as UTF-8 text ({exc})") from None
    if not isinstance(data, dict):
        raise SpecError(code, source=str(path), expected=expected,
                        found="an empty file" if data is None else
                        f"a YAML {type(data).__name__} at the top, not a mapping")
    return data


def load_report_spec(path: str | Path) -> ReportSpec:
    """Load and validate a table spec; registered checks validate their arguments here too. A
    SpecError (`bad-spec`) names the file, the table, the field and what is wrong."""
    data = _read_yaml(path, "bad-spec", "a table spec (YAML with report_id, spec_version, "
                                        "tables)")
    try:
        spec = ReportSpec.model_validate(data)
    except ValidationError as exc:  # pydantic's message names the field; add file and table
        raise SpecError("bad-spec", source=str(path),
                        found="invalid table spec: " + _describe(exc, data)) from None
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
        lines.append(f"{where}: {msg}")
    return "; ".join(lines)


def _validate_checks(spec: ReportSpec, path: str | Path) -> None:
    for table in spec.tables:
        for chk in table.checks:
            try:
                registry.validate_check_spec(chk, table, spec)
            except (KeyError, TypeError, ValueError) as exc:
                problem = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
                raise SpecError("bad-spec", source=str(path),
                                expected="checks with a registered name and valid arguments",
                                found=f"table {table.table_id}: check {chk.check!r}: {problem}"
                                ) from None


def spec_for(report_id: str, catalog: Catalog | None = None) -> ReportSpec:
    """The table spec of a catalog entry (spec paths resolve against schemas/ or the catalog's
    folder); an entry may reuse another report's spec under its own id."""
    catalog = catalog or load_catalog()
    entry = catalog.get(report_id)
    path = SCHEMAS_DIR / entry.spec
    if not path.exists():
        path = catalog_path().parent / entry.spec
    if not path.is_file():
        raise SpecError("bad-catalog", source=f"{catalog_path()}, report {report_id}",
                        expected="a table spec file at the entry's `spec` path",
                        found=f"field 'spec': no file {entry.spec} under {SCHEMAS_DIR} or "
                              f"{catalog_path().parent}",
                        hint="fix the spec path, or write the spec with `statlift discover PDF "
                             "--spec OUT.yaml`")
    spec = _load_spec_cached(str(path), path.stat().st_mtime_ns)
    return spec if spec.report_id == report_id else spec.model_copy(update={"report_id": report_id})


@lru_cache(maxsize=64)
def _load_spec_cached(path: str, mtime: int) -> ReportSpec:
    return load_report_spec(path)
