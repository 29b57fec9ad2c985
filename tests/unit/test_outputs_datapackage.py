"""datapackage.json (+ tables.csv, csv-metadata.json) on the demo processed/ tree: valid under
frictionless for metadata and data, typed by unit, keyed, sourced and licensed."""
import json
import shutil
from pathlib import Path

import pytest

from statlift.model import CELL_COLUMNS as CONTRACT
from statlift.outputs.catalog import entries_by_id
from statlift.outputs.datapackage import write_datapackage
from statlift.outputs.demo import CELL_COLUMNS, write_demo_tree
from statlift.outputs.processed import read_text_csv

frictionless = pytest.importorskip("frictionless", reason="frictionless is a test extra")
BJS, USSC = "bjs-ncj250746", "ussc-cp-production-2021"


@pytest.fixture()
def processed(tmp_path) -> Path:
    return write_demo_tree(tmp_path) / "processed"


def _write(processed: Path, report_id: str) -> dict:
    d = processed / report_id
    tables = json.loads((d / "tables.json").read_text(encoding="utf-8"))
    path = write_datapackage(d, entries_by_id()[report_id], tables)
    return json.loads(path.read_text(encoding="utf-8"))


def _resource(pkg: dict, name: str) -> dict:
    return next(r for r in pkg["resources"] if r["name"] == name)


def _fields(res: dict) -> dict[str, dict]:
    return {f["name"]: f for f in res["schema"]["fields"]}


def test_demo_tree_follows_the_contract_columns():
    assert CELL_COLUMNS == CONTRACT


@pytest.mark.parametrize("report_id", [BJS, USSC])
def test_package_and_data_are_valid(processed, report_id):
    _write(processed, report_id)
    report = frictionless.validate(str(processed / report_id / "datapackage.json"))
    assert report.valid, report.flatten(["type", "message"])
    assert report.stats["tasks"] == 4  # two wide tables, cells, tables


def test_wide_fields_typed_by_unit_with_units_and_key(processed):
    pkg = _write(processed, BJS)
    res = _resource(pkg, "table-01")
    fields = _fields(res)
    assert list(fields)[0] == "Lead charge"
    assert res["schema"]["primaryKey"] == ["Lead charge"]
    assert res["schema"]["missingValues"] == [""]
    assert (fields["2013 | Number"]["type"], fields["2013 | Number"]["unit"]) == \
        ("integer", "count")
    assert (fields["2013 | Percent"]["type"], fields["2013 | Percent"]["unit"]) == \
        ("number", "percent")
    assert fields["2013 | Percent"]["headerPath"] == ["2013", "Percent"]
    assert "2013 | Percent" in fields["2013 | Percent"]["description"]
    assert res["sources"][0]["path"] == "https://bjs.ojp.gov/content/pub/pdf/fpcsecc0413.pdf"


def test_months_years_and_row_wise_units(processed):
    ussc = _fields(_resource(_write(processed, USSC), "sentences"))
    assert (ussc["Average sentence | Months"]["type"], ussc["Average sentence | Months"]["unit"]) \
        == ("number", "months")
    assert ussc["Median age | Years"]["unit"] == "years"
    t2 = _fields(_resource(_write(processed, BJS), "table-02"))
    assert t2["2006"]["unit"] == "mixed" and t2["2006"]["type"] == "number"
    assert t2["2006"]["rowUnits"]["Number of suspects"] == "count"
    assert t2["2004"]["footnotes"] == ["*"]


def test_blank_stub_header_is_read_as_a_comment_row(processed):
    res = _resource(_write(processed, USSC), "sexual-contact")
    assert res["dialect"] == {"header": False, "commentRows": [1]}
    assert res["schema"]["primaryKey"] == ["row_path"]
    package = frictionless.Package(str(processed / USSC / "datapackage.json"))
    rows = package.get_resource("sexual-contact").read_rows()
    assert rows[0]["row_path"] == "Total §2G2.1 Offenders" and rows[0]["N"] == 512


def test_cells_keys_and_foreign_key_to_tables_csv(processed):
    pkg = _write(processed, BJS)
    cells = _resource(pkg, "cells")
    assert cells["schema"]["primaryKey"] == ["report_id", "table_id", "row_path", "column_path"]
    assert cells["schema"]["foreignKeys"] == [{"fields": ["report_id", "table_id"], "reference": {
        "resource": "tables", "fields": ["report_id", "table_id"]}}]
    assert [f["name"] for f in cells["schema"]["fields"]] == CELL_COLUMNS
    tables = read_text_csv(processed / BJS / "tables.csv")
    assert list(tables["table_id"]) == ["table-01", "table-02"]
    assert tables.loc[0, "page"] == "3" and tables.loc[0, "stub_header"] == "Lead charge"


def test_license_sources_and_provenance(processed):
    pkg = _write(processed, BJS)
    assert pkg["licenses"][0]["name"] == "other-pd"
    assert "17 U.S.C. 105" in pkg["licenses"][0]["title"]
    assert {s["path"] for s in pkg["sources"]} >= {
        "https://bjs.ojp.gov/content/pub/pdf/fpcsecc0413.pdf"}
    assert pkg["statlift"]["source_sha256"].startswith("5902eaae")


def test_a_cell_that_breaks_its_type_makes_the_data_invalid(processed):
    _write(processed, BJS)
    path = processed / BJS / "table-01.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("1031", "1031x"),
                    encoding="utf-8")
    report = frictionless.validate(str(processed / BJS / "datapackage.json"))
    assert not report.valid
    assert ["type-error"] == sorted({e[0] for e in report.flatten(["type"])})


def test_other_csvs_are_described_as_text(processed):
    d = processed / BJS
    shutil.copy(d / "table-01.csv", d / "changes.csv")
    pkg = _write(processed, BJS)
    changes = _resource(pkg, "changes")
    assert {f["type"] for f in changes["schema"]["fields"]} == {"string"}
    assert frictionless.validate(str(d / "datapackage.json")).valid


def test_csvw_metadata_mirrors_the_package(processed):
    _write(processed, BJS)
    doc = json.loads((processed / BJS / "csv-metadata.json").read_text(encoding="utf-8"))
    urls = [t["url"] for t in doc["tables"]]
    assert urls == ["table-01.csv", "table-02.csv", "cells.csv", "tables.csv"]
    t1 = doc["tables"][0]["tableSchema"]
    col = next(c for c in t1["columns"] if c["titles"] == "2013 | Number")
    assert (col["name"], col["datatype"], col["schema:unitText"]) == \
        ("c2013_number", "integer", "count")
    assert doc["tables"][1]["dialect"] == {"header": False, "skipRows": 1}
