"""Parquet copies: typed like the metadata says, the schema in field and file metadata."""
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from statlift.outputs.demo import CELL_COLUMNS, write_demo_tree
from statlift.outputs.parquet import read_parquet_schema, write_report_parquet

BJS, USSC = "bjs-ncj250746", "ussc-cp-production-2021"


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    root = write_demo_tree(tmp_path_factory.mktemp("tree")) / "processed"
    for rid in (BJS, USSC):
        write_report_parquet(root / rid)
    return root


def test_every_table_cells_and_tables_written(processed):
    names = sorted(p.name for p in (processed / BJS).glob("*.parquet"))
    assert names == ["cells.parquet", "table-01.parquet", "table-02.parquet", "tables.parquet"]


def test_wide_table_types_and_values(processed):
    table = pq.read_table(processed / BJS / "table-01.parquet")
    assert table.schema.field("row_path").type in (pa.string(), pa.large_string())
    assert table.schema.field("2013 | Number").type == pa.int64()
    assert table.schema.field("2013 | Percent").type == pa.float64()
    df = table.to_pandas().set_index("row_path")
    assert df.loc["Child sex trafficking", "2013 | Number"] == 1031
    assert df.loc["Child sex trafficking", "2013 | Percent"] == 22.5


def test_missing_value_is_null(processed):
    df = pq.read_table(processed / BJS / "table-02.parquet").to_pandas().set_index("row_path")
    assert df["2006"].isna().tolist() == [False, True, False]


def test_field_and_file_metadata(processed):
    schema = read_parquet_schema(processed / USSC / "sentences.parquet")
    months = schema["fields"]["Average sentence | Months"]
    assert (months["unit"], months["type"]) == ("months", "number")
    assert json.loads(months["header_path"]) == ["Average sentence", "Months"]
    assert schema["fields"]["Median age | Years"]["unit"] == "years"
    assert "Offender group" in schema["fields"]["row_path"]["description"]
    assert schema["file"]["title"] == "Sentence length and age of production offenders"
    assert schema["file"]["page"] == 2 and schema["file"]["source_sha256"].startswith("01bd6b")
    mixed = read_parquet_schema(processed / BJS / "table-02.parquet")["fields"]["2004"]
    assert mixed["unit"] == "mixed" and json.loads(mixed["row_units"])["Percent female"] == \
        "percent"


def test_cells_parquet_typed_with_descriptions(processed):
    table = pq.read_table(processed / BJS / "cells.parquet")
    assert table.column_names == CELL_COLUMNS
    assert table.schema.field("value").type == pa.float64()
    assert table.schema.field("decimals").type == pa.int64()
    assert b"description" in table.schema.field("raw_text").metadata
    df = table.to_pandas()
    gap = df[(df.table_id == "table-02") & (df.missing_code == "--")]
    assert len(gap) == 1 and gap["value"].isna().all() and gap["decimals"].isna().all()
