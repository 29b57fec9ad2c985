"""The Python API on the demo processed/ tree: typed frames with provenance in attrs, clear
errors for unknown ids and for missing or stale data; the docstring examples run."""
import doctest
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import statlift
from statlift import api
from statlift.outputs.demo import write_demo_tree

BJS, USSC = "bjs-ncj250746", "ussc-cp-production-2021"


@pytest.fixture()
def processed(tmp_path) -> Path:
    return write_demo_tree(tmp_path) / "processed"


def test_load_is_typed_and_indexed_by_row_path(processed):
    df = statlift.load(BJS, "table-01", processed)
    assert df.index.name == "row_path"
    assert df.index[-1] == "Child sex trafficking"
    assert str(df["2013 | Number"].dtype) == "Int64"
    assert df["2013 | Percent"].dtype == "float64"
    assert df.loc["Child sex trafficking", "2013 | Number"] == 1031
    assert df.loc["Child sex trafficking", "2013 | Percent"] == 22.5


def test_load_attrs_carry_provenance(processed):
    attrs = statlift.load(BJS, "table-01", processed).attrs
    assert attrs["title"].startswith("Suspects referred to U.S. attorneys")
    assert (attrs["report_id"], attrs["table_id"], attrs["page"]) == (BJS, "table-01", 3)
    assert attrs["units"]["2013 | Number"] == "count"
    assert attrs["units"]["2013 | Percent"] == "percent"
    assert attrs["source_sha256"].startswith("5902eaae")
    assert attrs["source"].startswith("Source: Executive Office")
    assert attrs["footnotes"] == {"a": "Includes sex trafficking of children by force, fraud "
                                       "or coercion."}
    assert "Note: Details may not sum to totals due to rounding." in attrs["notes"]
    assert attrs["db_table"] == "bjs_ncj250746__table_01"
    assert "NCJ 250746" in attrs["citation"] and attrs["citation"].endswith("p. 3")


def test_months_years_mixed_units_and_missing(processed):
    s = statlift.load(USSC, "sentences", processed)
    assert s.attrs["units"] == {"Offenders | N": "count", "Average sentence | Months": "months",
                                "Median age | Years": "years"}
    assert s.loc["All production offenders", "Average sentence | Months"] == 275.2
    t2 = statlift.load(BJS, "table-02", processed)
    assert t2.attrs["units"]["2006"] == "mixed"
    assert t2.attrs["row_units"]["2006"]["Percent female"] == "percent"
    assert pd.isna(t2.loc["Percent female", "2006"])
    assert statlift.load(USSC, "sexual-contact", processed).index[2] == \
        "Offenses Involving Sexual Contact > Offender sexually contacted a victim"


def test_cells_one_report_or_all(processed):
    one = statlift.cells(BJS, processed)
    everything = statlift.cells(processed_dir=processed)
    assert set(one["report_id"]) == {BJS} and len(one) == 39
    assert len(everything) == 39 + 19
    assert one["value"].dtype == "float64" and str(one["page"].dtype) == "Int64"
    gap = one[one["missing_code"] == "--"].iloc[0]
    assert pd.isna(gap["value"]) and gap["missing_meaning"] == "Less than 0.05%"


def test_tables_and_reports(processed):
    t = statlift.tables(processed)
    assert list(t["table_id"]) == ["table-01", "table-02", "sexual-contact", "sentences"]
    assert t.loc[0, "db_table"] == "bjs_ncj250746__table_01" and t.loc[0, "page"] == 3
    r = statlift.reports(processed)
    assert list(r["report_id"]) == [BJS, USSC]
    assert r["processed"].all() and list(r["tables"]) == [2, 2]


def test_processed_dir_defaults_to_the_settings_not_the_current_directory(processed, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("STATLIFT_PROCESSED", str(processed))
    assert statlift.load(BJS, "table-01").loc["Child sex trafficking", "2013 | Number"] == 1031
    monkeypatch.delenv("STATLIFT_PROCESSED")
    monkeypatch.setenv("STATLIFT_HOME", str(processed.parent))  # holds processed/ and raw/
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert len(statlift.tables()) == 4


def test_unknown_report_lists_the_valid_ids(processed):
    with pytest.raises(KeyError) as exc:
        statlift.load("bjs-ncj999999", "table-01", processed)
    assert isinstance(exc.value, statlift.UnknownReportError)
    assert str(exc.value) == ("unknown report 'bjs-ncj999999'; valid: bjs-ncj250746, "
                              "ussc-cp-production-2021")


def test_unknown_table_lists_the_valid_ids(processed):
    with pytest.raises(statlift.UnknownTableError) as exc:
        statlift.load(USSC, "table-01", processed)
    assert str(exc.value) == ("unknown table 'table-01' in ussc-cp-production-2021; valid: "
                              "sexual-contact, sentences")


def test_missing_processed_says_to_run_statlift(tmp_path):
    with pytest.raises(statlift.NotProcessedError, match=r"run `statlift run --report "
                                                        r"bjs-ncj250746` first"):
        statlift.load(BJS, "table-01", tmp_path / "processed")
    with pytest.raises(FileNotFoundError, match="run `statlift run` first"):
        statlift.cells(processed_dir=tmp_path / "processed")


def test_stale_processed_says_to_run_statlift(processed, monkeypatch):
    monkeypatch.setenv("STATLIFT_RAW", str(processed.parent / "raw"))
    manifest = processed.parent / "raw" / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["reports"][BJS]["current"] = "ab" * 32
    manifest.write_text(json.dumps(doc))
    with pytest.raises(statlift.StaleDataError) as exc:
        statlift.load(BJS, "table-01", processed)
    assert "is stale" in str(exc.value) and "5902eaae7753" in str(exc.value)
    assert "run `statlift run --report bjs-ncj250746` first" in str(exc.value)
    assert isinstance(exc.value, statlift.ProcessedDataError)
    assert len(statlift.load(USSC, "sentences", processed)) == 3  # the other is current


def test_docstring_examples():
    import statlift.outputs.catalog
    import statlift.outputs.csvw
    import statlift.outputs.demo
    import statlift.outputs.dictionary
    import statlift.outputs.metadata
    import statlift.outputs.site_chart
    for module in (api, statlift.outputs.catalog, statlift.outputs.csvw,
                   statlift.outputs.demo, statlift.outputs.dictionary,
                   statlift.outputs.metadata, statlift.outputs.site_chart):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, module.__name__


def test_nothing_published_names_the_folder_it_looked_in(tmp_path, monkeypatch):
    """Issue 14: from any folder, with nothing published, the error says where it looked and
    how that folder was chosen; it never depends on the current directory."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.delenv("STATLIFT_PROCESSED", raising=False)
    monkeypatch.setenv("STATLIFT_HOME", str(home))
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "processed" / BJS).mkdir(parents=True)  # a processed/ here must not be read
    monkeypatch.chdir(elsewhere)
    with pytest.raises(statlift.NotProcessedError) as exc:
        statlift.load(BJS, "table-01")
    msg = str(exc.value)
    assert f"nothing published in {home / 'processed'} (processed/ in STATLIFT_HOME={home})" \
        in msg, msg
    assert f"run `statlift run --report {BJS}` first" in msg
    monkeypatch.setenv("STATLIFT_PROCESSED", str(tmp_path / "data"))
    with pytest.raises(statlift.NotProcessedError, match=r"nothing published in .*data "
                                                         r"\(STATLIFT_PROCESSED\)"):
        statlift.cells()


def test_import_statlift_does_not_load_pandas():
    """`import statlift` is light (the CLI's start-up); statlift.load etc. load on first use."""
    code = ("import sys, statlift; assert 'pandas' not in sys.modules; "
            "statlift.load; assert 'pandas' in sys.modules; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip() == "ok", done.stderr
