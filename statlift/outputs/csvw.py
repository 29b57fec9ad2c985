"""csv-metadata.json: the data package's tables described in W3C CSVW terms (a bonus for
CSVW tools; the Frictionless package is the reference). Built from datapackage.json's resources,
so both always say the same thing."""
from __future__ import annotations

import json
import re
from pathlib import Path

CSVW_JSON = "csv-metadata.json"
DATATYPES = {"integer": "integer", "number": "decimal", "string": "string"}


def csvw_name(name: str, taken: set[str]) -> str:
    """A CSVW column name ([A-Za-z0-9_], not starting with `_`) for a header path.

    >>> csvw_name("2013 | Number", set())
    'c2013_number'
    """
    base = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower() or "column"
    if not base[0].isalpha():
        base = "c" + base
    out, n = base, 1
    while out in taken:
        n += 1
        out = f"{base}_{n}"
    taken.add(out)
    return out


def _column(field: dict, label: str | None, taken: set[str]) -> dict:
    col = {"name": csvw_name(field["name"], taken), "datatype": DATATYPES[field["type"]],
           "dc:description": field.get("description", ""), "null": ""}
    if label:
        col["titles"] = label
    if field.get("unit"):
        col["schema:unitText"] = field["unit"]
    return col


def csvw_table(resource: dict) -> dict:
    """One CSVW table from one frictionless resource."""
    schema = resource["schema"]
    header_is_comment = resource.get("dialect", {}).get("header") is False
    taken: set[str] = set()
    names = {}
    columns = []
    for f in schema["fields"]:
        col = _column(f, None if header_is_comment else f["name"], taken)
        names[f["name"]] = col["name"]
        columns.append(col)
    table = {"url": resource["path"], "dc:title": resource.get("title", ""),
             "tableSchema": {"columns": columns}}
    if header_is_comment:
        table["dialect"] = {"header": False, "skipRows": 1}
    if schema.get("primaryKey"):
        table["tableSchema"]["primaryKey"] = [names[k] for k in schema["primaryKey"]]
    for fk in schema.get("foreignKeys", []):
        table["tableSchema"].setdefault("foreignKeys", []).append({
            "columnReference": [names[k] for k in fk["fields"]],
            "reference": {"resource": "tables.csv",
                          "columnReference": fk["reference"]["fields"]}})
    return table


def write_csvw(report_dir: Path, package: dict) -> Path:
    """csv-metadata.json next to the CSVs (the CSVW default metadata file name)."""
    doc = {"@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
           "dc:title": package.get("title", ""), "dc:description": package.get("description"),
           "dc:license": {"@id": package["licenses"][0]["path"]},
           "dc:source": [s["path"] for s in package.get("sources", [])],
           "tables": [csvw_table(r) for r in package["resources"]]}
    path = Path(report_dir) / CSVW_JSON
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
