"""Bad input to the extractor: a clear error naming report, table and what differs; relabels
are reported while the printed label is kept."""
from pathlib import Path

import pytest

from statlift.acquire.rawstore import current_raw_path
from statlift.errors import StatliftError
from statlift.extractors.pdfdoc import Document
from statlift.extractors.table import extract_table
from statlift.schemas.specs import load_catalog, spec_for

REPO = Path(__file__).resolve().parents[2]


def _pdf(report_id: str) -> Path:
    return current_raw_path(REPO / "raw", load_catalog().get(report_id))


@pytest.fixture(scope="module")
def bjs_doc():
    with Document.open(_pdf("bjs-ncj250746")) as doc:
        yield doc


def test_pdf_of_another_report_has_no_such_caption():
    spec = spec_for("bjs-ncj250746")
    with Document.open(_pdf("ussc-cp-production-2021")) as doc:
        with pytest.raises(StatliftError) as info:
            extract_table(doc, spec, spec.table("table-07"))
    err = info.value
    assert err.code == "caption-not-found"
    msg = str(err)
    assert "ussc-cp-production-2021" in msg  # the file
    assert "table-07" in msg and "'TABLE 7'" in msg  # the table and what was expected
    assert "no such caption" in msg


def test_shape_change_names_the_table_and_the_difference(bjs_doc):
    spec = spec_for("bjs-ncj250746")
    t3 = spec.table("table-03")
    changed = t3.model_copy(update={"rows": t3.rows + ["Transferred to another district"]})
    with pytest.raises(StatliftError) as info:
        extract_table(bjs_doc, spec, changed)
    msg = str(info.value)
    assert info.value.code == "shape-mismatch"
    assert "table-03" in msg and "expected 5 rows" in msg and "found 4 rows" in msg
    assert "Transferred to another district" in msg


def test_renamed_row_is_a_relabel_and_the_printed_label_is_kept(bjs_doc):
    spec = spec_for("bjs-ncj250746")
    t1 = spec.table("table-01")
    old = "Child pornography possession"  # the October 2017 wording
    rows = [old if r.endswith("possession/receipt/distribution") else r for r in t1.rows]
    ex = extract_table(bjs_doc, spec, t1.model_copy(update={"rows": rows}))
    assert [r.to_json() for r in ex.relabels] == [
        {"kind": "row", "index": 2, "expected": old,
         "found": "Child pornography possession/receipt/distribution"}]
    assert "Child pornography possession/receipt/distribution" in {c.row_path for c in ex.cells}
    assert ex.to_json()["meta"]["relabels"] == [r.to_json() for r in ex.relabels]


# ---------------------------------------------------------------- one table fails alone


def test_any_exception_inside_one_table_is_a_named_error(bjs_doc, monkeypatch):
    import statlift.extractors.readers as readers_mod

    def broken(*args, **kwargs):
        raise IndexError("list index out of range")
    monkeypatch.setattr(readers_mod, "read_grid", broken)
    spec = spec_for("bjs-ncj250746")
    with pytest.raises(StatliftError) as info:
        extract_table(bjs_doc, spec, spec.table("table-03"))
    err = info.value
    assert err.code == "extraction-failed"
    msg = str(err)
    assert "bjs-ncj250746" in msg and "table-03" in msg and "IndexError" in msg
    assert "Traceback" not in msg


def _merged_spanners(real):
    """read_grid as the issue saw it on a full grid: every spanner merged into one path, so
    several columns share a path."""
    def read(*args, **kwargs):
        grid = real(*args, **kwargs)
        for c in grid.columns:
            c.path = c.path.split(" | ")[-1]
        return grid
    return read


def test_duplicate_header_paths_are_a_named_error_not_relabels(bjs_doc, monkeypatch):
    import statlift.extractors.readers as readers_mod

    monkeypatch.setattr(readers_mod, "read_grid", _merged_spanners(readers_mod.read_grid))
    spec = spec_for("bjs-ncj250746")
    with pytest.raises(StatliftError) as info:
        extract_table(bjs_doc, spec, spec.table("table-03"))
    assert info.value.code == "duplicate-paths"
    msg = str(info.value)
    assert "table-03" in msg and "'Number'" in msg and "duplicate column path" in msg


def test_more_than_half_the_labels_changed_is_a_structure_error(bjs_doc):
    spec = spec_for("bjs-ncj250746")
    t3 = spec.table("table-03")
    renamed = [f"Column {i}" for i in range(len(t3.columns) - 1)] + [t3.columns[-1]]
    with pytest.raises(StatliftError) as info:
        extract_table(bjs_doc, spec, t3.model_copy(update={"columns": renamed}))
    err = info.value
    assert err.code == "structure-mismatch"
    n = len(t3.columns)
    assert f"{n - 1} of {n} column labels changed" in str(err) and "'Column 0'" in str(err)
    # half or fewer: still relabels (the printed labels kept)
    few = [f"Column {i}" if i < n // 2 else c for i, c in enumerate(t3.columns)]
    ex = extract_table(bjs_doc, spec, t3.model_copy(update={"columns": few}))
    assert len(ex.relabels) == n // 2


def _outcomes(doc, monkeypatch, broken: dict[str, object]):
    """What the report task does: one outcome per table, a StatliftError kept as the table's
    error (flows/run.py _extract), with some tables' reader broken."""
    import statlift.extractors.readers as readers_mod
    from statlift.flows.run import _error_dict
    from statlift.model import TableOutcome

    real = readers_mod.read_grid
    spec = spec_for("bjs-ncj250746")
    out = []
    for t in spec.tables:
        monkeypatch.setattr(readers_mod, "read_grid", broken.get(t.table_id, real))
        try:
            out.append(TableOutcome(t.table_id, extract_table(doc, spec, t)))
        except StatliftError as exc:
            out.append(TableOutcome(t.table_id, error=_error_dict(exc)))
    monkeypatch.setattr(readers_mod, "read_grid", real)
    return out


def test_failed_tables_are_named_and_the_others_publish(bjs_doc, monkeypatch, tmp_path):
    import json

    import statlift.extractors.readers as readers_mod
    from statlift.publish.report import publish_outcomes

    def raises(*args, **kwargs):
        raise KeyError("pyarrow would have crashed later")
    outcomes = _outcomes(bjs_doc, monkeypatch, {
        "table-03": _merged_spanners(readers_mod.read_grid), "table-09": raises})
    assert [o.table_id for o in outcomes if o.error] == ["table-03", "table-09"]
    result = publish_outcomes(tmp_path, "bjs-ncj250746", bjs_doc.sha256, str(bjs_doc.path),
                              outcomes)
    assert result.status == "partial" and result.tables == 8
    assert "table-03" in result.message and "[duplicate-paths]" in result.message
    assert "table-09" in result.message and "[extraction-failed]" in result.message
    folder = tmp_path / "bjs-ncj250746"
    doc = json.loads((folder / "tables.json").read_text())
    assert set(doc["failed"]) == {"table-03", "table-09"}
    assert doc["failed"]["table-03"]["code"] == "duplicate-paths"
    assert len(doc["tables"]) == 8 and "table-03" not in doc["tables"]
    assert (folder / "table-01.csv").exists() and not (folder / "table-03.csv").exists()
    assert (folder / "cells.parquet").exists() and (folder / "audit.json").exists()


def test_the_publisher_refuses_duplicate_paths_whoever_made_the_table(bjs_doc, tmp_path):
    """The guard before the writers: an outcome with two columns of one path (made without
    extract_table's checks) becomes a named failure; the other tables publish."""
    import dataclasses
    import json

    from statlift.model import TableOutcome
    from statlift.publish.report import publish_outcomes

    spec = spec_for("bjs-ncj250746")
    outcomes = [TableOutcome(t.table_id, extract_table(bjs_doc, spec, t))
                for t in spec.tables[:3]]
    t2 = outcomes[1].table
    cols = tuple("Number" for _ in t2.meta.columns)
    bad = dataclasses.replace(t2, meta=dataclasses.replace(t2.meta, columns=cols),
                              cells=tuple(dataclasses.replace(c, column_path="Number")
                                          for c in t2.cells))
    outcomes[1] = TableOutcome(t2.table_id, bad)
    result = publish_outcomes(tmp_path, "bjs-ncj250746", bjs_doc.sha256, str(bjs_doc.path),
                              outcomes)
    assert result.status == "partial" and result.tables == 2
    failed = json.loads((tmp_path / "bjs-ncj250746" / "tables.json").read_text())["failed"]
    assert failed[t2.table_id]["code"] == "duplicate-paths"
    assert "'Number'" in failed[t2.table_id]["message"]


def test_a_report_whose_every_table_failed_publishes_nothing(bjs_doc, monkeypatch, tmp_path):
    from statlift.publish.report import publish_outcomes

    def raises(*args, **kwargs):
        raise RuntimeError("no")
    spec = spec_for("bjs-ncj250746")
    outcomes = _outcomes(bjs_doc, monkeypatch, {t.table_id: raises for t in spec.tables})
    result = publish_outcomes(tmp_path, "bjs-ncj250746", bjs_doc.sha256, str(bjs_doc.path),
                              outcomes)
    assert result.status == "failed" and "nothing was published" in result.message
    assert not (tmp_path / "bjs-ncj250746").exists()
