"""The generated data dictionary: every report, table, header path, unit, footnote, source
and check, from a processed/ folder, tables.json documents or the table specs."""
import json
from pathlib import Path

import pytest

from statlift.outputs.demo import write_demo_tree
from statlift.outputs.dictionary import write_data_dictionary

BJS, USSC = "bjs-ncj250746", "ussc-cp-production-2021"


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    return write_demo_tree(tmp_path_factory.mktemp("tree")) / "processed"


def test_from_processed_folder_with_checks(processed, tmp_path):
    checks = {BJS: {"table-01": ["sums_to_total: offense rows sum to the total row"]}}
    path = write_data_dictionary(None, processed, tmp_path / "docs" / "dd.md", checks=checks)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Data dictionary\n")
    for expected in [
        "## `bjs-ncj250746` — Federal Prosecution of Commercial Sexual Exploitation",
        "## `ussc-cp-production-2021` — Federal Sentencing of Child Pornography",
        "### `bjs-ncj250746` / `table-01` — Suspects referred to U.S. attorneys",
        "| 2013 \\| Number | count | integer |  |",
        "| 2013 \\| Percent | percent | number |  |",
        "| Average sentence \\| Months | months | number |  |",
        "| Median age \\| Years | years | number |  |",
        "| 2004 | mixed (percent, except Number of suspects: count) | number | * |",
        "> a Includes sex trafficking of children by force, fraud or coercion.",
        "> Source: Executive Office for U.S. Attorneys",
        "- Child sex trafficking",
        "- Offenses Involving Sexual Contact > Offender sexually contacted a victim",
        "- sums_to_total: offense rows sum to the total row",
        "- **PDF**: https://bjs.ojp.gov/content/pub/pdf/fpcsecc0413.pdf",
        "- **License**: Public domain",
        "DuckDB table `bjs_ncj250746__table_01`",
    ]:
        assert expected in text, expected


def test_from_tables_json_documents(processed, tmp_path):
    doc = json.loads((processed / USSC / "tables.json").read_text(encoding="utf-8"))
    text = write_data_dictionary(None, {USSC: doc}, tmp_path / "dd.md").read_text()
    assert "### `ussc-cp-production-2021` / `sentences`" in text
    assert "bjs-ncj250746" not in text
    assert "| Offenders \\| N |" in text


def test_from_table_specs_with_their_checks(tmp_path):
    from statlift.schemas.specs import spec_for
    text = write_data_dictionary(None, [spec_for(BJS)], tmp_path / "dd.md").read_text()
    assert "### `bjs-ncj250746` / `table-01`" in text
    assert "| 2013 \\| Percent | percent | number |  |" in text
    assert "- sums_to_total (total: All commercial sexual exploitation of children offenses; " \
           "columns: * \\| Number)" in text
