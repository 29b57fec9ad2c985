"""Everything derived from a staged report folder before it is published: Parquet, the data
package, the audit and the change log. Each step is a plain function of the staged folder."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from statlift.schemas.specs import load_catalog

log = logging.getLogger(__name__)


def write_parquet(staging: Path) -> None:
    try:
        from statlift.outputs.parquet import write_report_parquet
    except ImportError:
        cells = pd.read_csv(staging / "cells.csv", dtype=str, keep_default_na=False)
        cells.to_parquet(staging / "cells.parquet", index=False)
        return
    write_report_parquet(staging)


def write_package(staging: Path, report_id: str) -> None:
    try:
        from statlift.outputs.datapackage import write_datapackage
    except ImportError:
        return
    entry = load_catalog().get(report_id)
    tables = json.loads((staging / "tables.json").read_text(encoding="utf-8"))
    write_datapackage(staging, entry.model_dump(mode="json"), tables)


def audit_report(staging: Path, report_id: str) -> dict:
    from statlift.schemas.specs import spec_for
    from statlift.validate.audit import run_audit

    tables = json.loads((staging / "tables.json").read_text(encoding="utf-8"))
    cells = pd.read_csv(staging / "cells.csv", dtype=str, keep_default_na=False)
    return run_audit(spec_for(report_id), cells, tables, tables["source_path"], staging)


def finish_report(staging: Path, processed_dir: Path, report_id: str) -> dict:
    """Parquet, data package and audit of a staged report; returns the audit summary."""
    write_parquet(staging)
    summary = audit_report(staging, report_id)
    write_package(staging, report_id)
    return summary


def build_downstream(processed_dir: Path) -> None:
    """Everything built over all published reports (each written atomically)."""
    from statlift.schemas.specs import spec_for
    from statlift.outputs.dictionary import write_data_dictionary
    from statlift.outputs.duckdb import build_duckdb
    from statlift.outputs.processed import read_once
    from statlift.outputs.site import build_site

    catalog = load_catalog()
    published = [r for r in catalog.reports if (processed_dir / r.report_id / "tables.json").exists()]
    if not published:
        return
    with read_once():  # the three builders read the same tables: parse each once
        build_duckdb(processed_dir, catalog)
        build_site(processed_dir, catalog=catalog)
        specs = [spec_for(r.report_id) for r in published]
        write_data_dictionary(catalog, specs, out_path=processed_dir / "data-dictionary.md")
