"""The catalog as plain dicts, whatever form the caller holds it in (the `Catalog` model, its
YAML mapping, a list of entries, or nothing: then the catalog in use, Settings.catalog)."""
from __future__ import annotations

from typing import Any

from statlift.schemas.specs import load_catalog


def catalog_entries(catalog: Any = None) -> list[dict]:
    """Report entries as JSON-ready dicts, in catalog order."""
    if catalog is None:
        catalog = load_catalog()
    if hasattr(catalog, "reports"):
        catalog = catalog.reports
    elif isinstance(catalog, dict):
        catalog = catalog.get("reports", [])
    return [_as_dict(e) for e in catalog]


def _as_dict(entry: Any) -> dict:
    if hasattr(entry, "model_dump"):
        return entry.model_dump(mode="json")
    return {k: (str(v) if hasattr(v, "isoformat") else v) for k, v in dict(entry).items()}


def entries_by_id(catalog: Any = None) -> dict[str, dict]:
    return {e["report_id"]: e for e in catalog_entries(catalog)}


def citation(entry: dict, table_title: str | None = None, page: int | None = None) -> str:
    """A human citation of a report (and a table of it).

    >>> citation({"publisher": "BJS", "series": "Special Report",
    ...           "number": "NCJ 250746", "title": "Federal Prosecution", "released": "2017-10-01"},
    ...          "Table 1", 3)
    'BJS, Federal Prosecution (Special Report NCJ 250746, 2017-10), Table 1, p. 3'
    """
    series = " ".join(x for x in (entry.get("series"), entry.get("number")) if x)
    date = (entry.get("released") or "")[:7]
    inner = ", ".join(x for x in (series, date) if x)
    text = f"{entry.get('publisher', '')}, {entry.get('title', '')}"
    if inner:
        text += f" ({inner})"
    if table_title:
        text += f", {table_title}"
    if page:
        text += f", p. {page}"
    return text
