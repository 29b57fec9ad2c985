"""Everything derived from a report's tables before it is published (Parquet, the data package,
the audit), written into its staging folder from the run's memory; and the builders over every
published report (DuckDB, the site, the data dictionary)."""
from __future__ import annotations

import logging
from pathlib import Path

from statlift.outputs.datapackage import write_datapackage
from statlift.outputs.dictionary import write_data_dictionary
from statlift.outputs.duckdb import build_duckdb
from statlift.outputs.incremental import build_downstream_incremental
from statlift.outputs.parquet import write_report_parquet
from statlift.outputs.processed import ReportText, read_once
from statlift.outputs.site import build_site
from statlift.schemas.specs import load_catalog, spec_for
from statlift.validate.audit import run_audit

log = logging.getLogger(__name__)


def finish_report(staging: Path, report_id: str, report: ReportText) -> dict:
    """Parquet, audit and data package of a staged report, from `report` (the content of the
    files just written: nothing is read back); returns the audit summary."""
    write_report_parquet(staging, report)
    if report.cells is None:
        raise ValueError(f"{report_id}: a staged report has its cells")
    # the text's claims are read from the PDF the tables came from: the pages the extraction
    # parsed when the flow lends its Document (extractors/pdfdoc.py lent), else opened anew
    summary = run_audit(spec_for(report_id), report, staging, report.doc["source_path"])
    write_datapackage(staging, load_catalog().get(report_id).model_dump(mode="json"),
                      report.doc, report)
    return summary


def build_downstream(processed_dir: Path, incremental: bool = True) -> None:
    """Everything built over all published reports: DuckDB (written atomically), the site and
    the data dictionary. Incremental (outputs/incremental.py): only the reports whose files
    changed since the last build are read again; the files are those of a full build
    (`incremental=False`, every report read by build_duckdb, build_site and
    write_data_dictionary)."""
    catalog = load_catalog()
    published = [r for r in catalog.reports
                 if (processed_dir / r.report_id / "tables.json").exists()]
    if not published:
        return
    if incremental:
        build_downstream_incremental(processed_dir, catalog)
        return
    with read_once():  # the three builders read the same published tables: parse each once
        build_duckdb(processed_dir, catalog)
        build_site(processed_dir, catalog=catalog)
        specs = [spec_for(r.report_id) for r in published]
        write_data_dictionary(catalog, specs, out_path=processed_dir / "data-dictionary.md")
