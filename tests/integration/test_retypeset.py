"""The same table specs on re-typeset copies of the reports (tests/fixtures: other pages, fonts,
one column instead of two, ruled, unruled, full grid, other caption style): every table comes out
cell for cell as the golden CSV says, with no relabels; revised and altered copies come out with
exactly their changes; broken copies give a clear error naming the table and the file."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from statlift.errors import StatliftError
from statlift.extractors.pdfdoc import Document
from statlift.extractors.table import extract_table
from statlift.schemas.specs import spec_for
from statlift.validate.evaluate import audit_cells

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
UNCHANGED = [
    "bjs-two-column-helvetica",
    "bjs-one-column-times",
    "bjs-two-column-courier-unruled",
    "bjs-ruled-grid-reordered",
    "bjs-caption-mixed-case",
    "ussc-one-column-times",
    "ussc-two-column-courier-unruled",
]


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return pd.read_csv(io.StringIO(buf.getvalue()), dtype=str, keep_default_na=False)


def _golden(rid: str, table_id: str) -> pd.DataFrame:
    return pd.read_csv(GOLDEN / rid / f"{table_id}.csv", dtype=str, keep_default_na=False)


def _extract_all(pdf: Path, rid: str) -> dict:
    spec = spec_for(rid)
    with Document.open(pdf) as doc:
        return {t.table_id: extract_table(doc, spec, t) for t in spec.tables}


@pytest.fixture(scope="module")
def extracted(variant_pdfs, variants_manifest):
    """Every standard variant with content that still fits the spec, extracted once."""
    names = UNCHANGED + ["bjs-revised-v1", "bjs-altered-numbers"]
    return {n: _extract_all(variant_pdfs[n], variants_manifest["variants"][n]["report_id"])
            for n in names}


@pytest.mark.parametrize("name", UNCHANGED)
def test_retypeset_report_reads_like_the_golden(extracted, variants_manifest, name):
    rid = variants_manifest["variants"][name]["report_id"]
    placed = variants_manifest["variants"][name]["tables"]
    for table_id, e in extracted[name].items():
        got = _as_read(e.to_frame())
        want = _golden(rid, table_id)
        assert list(got.columns) == list(want.columns), (name, table_id)
        pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=f"{name} {table_id}")
        assert e.relabels == (), (name, table_id, e.relabels)
        assert set(e.cells_frame()["page"]) <= set(placed[table_id]["pages"]), (name, table_id)
        assert not e.cells_frame()["flags"].str.contains("unconfirmed").any(), (name, table_id)


def test_reordered_variant_really_moved_the_tables(variants_manifest, extracted):
    """The fixture is only a proof if the tables sit on other pages than in the original."""
    from statlift.acquire.rawstore import current_raw_path
    from statlift.extractors.locate import locate_table
    from statlift.schemas.specs import load_catalog

    spec = spec_for("bjs-ncj250746")
    with Document.open(current_raw_path(REPO / "raw", load_catalog().get(spec.report_id))) as doc:
        original = {t.table_id: locate_table(doc, t.caption, t.title).page for t in spec.tables}
    moved = variants_manifest["variants"]["bjs-ruled-grid-reordered"]["tables"]
    pages = {t: e.meta.page for t, e in extracted["bjs-ruled-grid-reordered"].items()}
    assert pages == {t: moved[t]["page"] for t in pages}
    same = [t for t, p in pages.items() if original[t] == p]
    assert len(same) <= 3, same


def _apply(rid: str, changes: list[dict]) -> dict[str, pd.DataFrame]:
    """The goldens with a variant's value changes and relabels applied: what it must read as."""
    out = {t.table_id: _golden(rid, t.table_id) for t in spec_for(rid).tables}
    for ch in changes:
        frame = out[ch["table_id"]]
        if ch["kind"] == "value":
            row = frame.index[frame.iloc[:, 0] == ch["row_path"]][0]
            frame.loc[row, ch["column_path"]] = ch["new_value"]
        elif ch["kind"] == "relabel" and ch["where"] == "row":
            frame.iloc[:, 0] = frame.iloc[:, 0].replace(ch["old"], ch["new"])
        elif ch["kind"] == "relabel":
            out[ch["table_id"]] = frame.rename(columns={ch["old"]: ch["new"]})
    return out


def test_revised_copy_reads_with_its_printed_labels_and_reports_relabels(extracted,
                                                                          variants_manifest):
    changes = variants_manifest["variants"]["bjs-revised-v1"]["changes"]
    want = _apply("bjs-ncj250746", changes)
    got = extracted["bjs-revised-v1"]
    for table_id, frame in want.items():
        pd.testing.assert_frame_equal(_as_read(got[table_id].to_frame()), frame,
                                      check_dtype=False,
                                      obj=table_id)
    reported = {(t, r.expected, r.found) for t, e in got.items() for r in e.relabels}
    expected = {(c["table_id"], c["old"], c["new"]) for c in changes if c["kind"] == "relabel"}
    assert reported == expected


def test_audit_names_exactly_the_altered_cells(extracted, variants_manifest):
    changes = variants_manifest["variants"]["bjs-altered-numbers"]["changes"]
    cells = pd.concat([e.cells_frame() for e in extracted["bjs-altered-numbers"].values()],
                      ignore_index=True)
    _, findings = audit_cells(spec_for("bjs-ncj250746"), cells)
    new = [f for f in findings if not f.acknowledged]
    culprits = {f.culprit.cell: f.culprit.suggested for f in new if f.culprit is not None}
    assert set(culprits) == {(c["table_id"], c["row_path"], c["column_path"]) for c in changes}
    for c in changes:  # the value that makes the arithmetic hold is the golden one
        assert culprits[(c["table_id"], c["row_path"], c["column_path"])] == \
            float(c["old_value"])
    # the reference report's own acknowledged inconsistencies are still told apart
    assert {f.equation.table_id for f in findings if f.acknowledged} >= {"table-09"}


def test_missing_caption_is_a_clear_error_and_the_other_tables_still_read(variant_pdfs):
    pdf = variant_pdfs["bjs-missing-caption-table-07"]
    spec = spec_for("bjs-ncj250746")
    with Document.open(pdf) as doc:
        for t in spec.tables:
            if t.table_id == "table-07":
                with pytest.raises(StatliftError) as err:
                    extract_table(doc, spec, t)
                msg = str(err.value)
                assert err.value.code == "caption-not-found"
                assert "table-07" in msg and pdf.name in msg and "'TABLE 7'" in msg
            else:
                e = extract_table(doc, spec, t)
                pd.testing.assert_frame_equal(_as_read(e.to_frame()), _golden(spec.report_id,
                                                                        t.table_id),
                                              check_dtype=False)


def test_changed_shape_is_a_clear_error(variant_pdfs):
    pdf = variant_pdfs["bjs-shape-changed-table-03"]
    spec = spec_for("bjs-ncj250746")
    t3 = next(t for t in spec.tables if t.table_id == "table-03")
    with Document.open(pdf) as doc, pytest.raises(StatliftError) as err:
        extract_table(doc, spec, t3)
    msg = str(err.value)
    assert err.value.code == "shape-mismatch"
    assert "table-03" in msg and pdf.name in msg
    assert "expected 4 rows, found 5 rows" in msg and "Transferred to another district" in msg


@pytest.mark.slow
def test_run_on_a_copy_with_an_unreadable_table_publishes_the_others(variant_pdfs, tmp_path):
    """`statlift run --source` on a copy whose Table 3 no longer fits its spec: the other nine
    tables are extracted, audited and published, Table 3 is named with what differs, the exit
    code is 4 (partial) and no traceback is printed."""
    import json

    from cli_runner import run_cli

    pdf = variant_pdfs["bjs-shape-changed-table-03"]
    out = tmp_path / "processed"
    res = run_cli(["run", "--report", "bjs-ncj250746", "--source", f"bjs-ncj250746={pdf}",
                   "--out", str(out)], tmp_path)
    assert res.returncode == 4, res.stderr[-3000:]
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    assert "bjs-ncj250746: partial: 9 tables published" in res.stdout
    assert "table table-03" in res.stdout and "[shape-mismatch]" in res.stdout
    doc = json.loads((out / "bjs-ncj250746" / "tables.json").read_text())
    assert list(doc["failed"]) == ["table-03"] and len(doc["tables"]) == 9
    assert (out / "bjs-ncj250746" / "audit.json").exists()
    # run again on the same copy: a published report is never replaced by a partial run
    before = (out / "bjs-ncj250746" / "cells.csv").read_bytes()
    again = run_cli(["run", "--report", "bjs-ncj250746", "--source", f"bjs-ncj250746={pdf}",
                     "--out", str(out)], tmp_path)
    assert again.returncode == 2, again.stderr[-3000:]
    assert "Traceback" not in again.stderr
    assert "bjs-ncj250746: failed:" in again.stdout
    assert "the published dataset is unchanged" in again.stdout
    assert (out / "bjs-ncj250746" / "cells.csv").read_bytes() == before
