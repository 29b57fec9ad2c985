"""The typeset fixtures are right: every caption and every printed value is on the page where the
layout says, the values are the golden values, and only the recorded changes differ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pdfplumber = pytest.importorskip("pdfplumber")

from fixtures.content import apply_overrides, load_report, printed_to_value  # noqa: E402
from fixtures.typeset import build_report_pdf, golden_dir  # noqa: E402
from fixtures.variants import VARIANTS  # noqa: E402


def _layout(variants_dir: Path, name: str) -> dict:
    return json.loads((variants_dir / f"{name}.layout.json").read_text(encoding="utf-8"))


def _words_in(words: list[dict], bbox: list[float], slack: float = 0.8) -> str:
    x0, top, x1, bottom = bbox
    inside = [
        w
        for w in words
        if x0 - slack <= (w["x0"] + w["x1"]) / 2 <= x1 + slack
        and top - slack <= (w["top"] + w["bottom"]) / 2 <= bottom + slack
    ]
    return " ".join(w["text"] for w in sorted(inside, key=lambda w: (round(w["top"]), w["x0"])))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_caption_and_value_is_printed_where_recorded(variants_dir, name):
    layout = _layout(variants_dir, name)
    with pdfplumber.open(variants_dir / layout["pdf"]) as pdf:
        assert len(pdf.pages) == layout["pages"]
        words = [p.extract_words(x_tolerance=1.5) for p in pdf.pages]
        texts = [p.extract_text() for p in pdf.pages]
    for tid, table in layout["tables"].items():
        if table.get("caption"):
            i = table["page"] - 1
            assert table["caption"] in texts[i], (name, tid)
            assert _words_in(words[i], table["caption_bbox"]) == table["caption"], (name, tid)
        assert table["cells"], (name, tid)
        for cell in table["cells"]:
            i = cell["page"] - 1
            assert _words_in(words[i], cell["bbox"]) == cell["raw_text"], (name, tid, cell)
            assert cell["raw_text"] in texts[i], (name, tid, cell)


def test_dropped_caption_is_not_printed(variants_dir, variants_manifest):
    v = variants_manifest["variants"]["bjs-missing-caption-table-07"]
    assert [c["kind"] for c in v["changes"]] == ["caption_dropped"]
    assert "caption" not in v["tables"]["table-07"]
    with pdfplumber.open(variants_dir / v["pdf"]) as pdf:
        text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "TABLE 7" not in text and "TABLE 6" in text and "TABLE 8" in text


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_printed_cells_are_the_golden_values_plus_the_recorded_changes(variants_dir, name):
    spec = VARIANTS[name]
    layout = _layout(variants_dir, name)
    golden = load_report(spec["report_id"], golden_dir())
    expected, changes = apply_overrides(golden, spec.get("overrides"))
    assert changes == layout["changes"]
    assert set(layout["tables"]) == set(expected)
    changed = {
        (c["table_id"], c["row_path"], c["column_path"]) for c in changes if c["kind"] == "value"
    }
    for tid, table in expected.items():
        printed = {
            (c["row_path"], c["column_path"]): c["raw_text"] for c in layout["tables"][tid]["cells"]
        }
        want = {
            (" > ".join(r.path), " | ".join(table.columns[j])): raw
            for r in table.rows
            for j, raw in enumerate(r.cells)
            if raw
        }
        assert printed == want, (name, tid)
    if any(c["kind"] != "value" for c in changes):
        return
    # no relabel / shape change: every golden value is printed, as itself unless recorded
    for tid, table in golden.items():
        printed = {
            (c["row_path"], c["column_path"]): c["raw_text"] for c in layout["tables"][tid]["cells"]
        }
        for r in table.rows:
            for j, raw in enumerate(r.cells):
                key = (" > ".join(r.path), " | ".join(table.columns[j]))
                if (tid, *key) in changed:
                    assert printed[key] != raw
                else:
                    assert printed_to_value(printed.get(key, "")) == printed_to_value(raw), (
                        tid,
                        key,
                    )


def test_golden_values_round_trip_through_the_printed_form():
    """The printed text reads back as the golden CSV value (the contract's `value`)."""
    import csv

    for report_id in {v["report_id"] for v in VARIANTS.values()}:
        tables = load_report(report_id, golden_dir())
        for tid, table in tables.items():
            with (golden_dir() / report_id / f"{tid}.csv").open(encoding="utf-8", newline="") as fh:
                rows = list(csv.reader(fh))[1:]
            for printed_row, golden_row in zip(table.rows, rows):
                assert [printed_to_value(c) for c in printed_row.cells] == golden_row[1:], tid


def test_variants_move_tables_and_fonts(variants_manifest):
    v = variants_manifest["variants"]
    control = {t: x["page"] for t, x in v["bjs-two-column-helvetica"]["tables"].items()}
    moved = {t: x["page"] for t, x in v["bjs-ruled-grid-reordered"]["tables"].items()}
    assert sum(control[t] != moved[t] for t in control) >= len(control) // 2
    assert v["bjs-ruled-grid-reordered"]["options"]["table_order"] != sorted(control)


def test_unruled_variants_have_no_lines(variant_pdfs):
    for name in ("bjs-two-column-courier-unruled", "ussc-two-column-courier-unruled"):
        with pdfplumber.open(variant_pdfs[name]) as pdf:
            for page in pdf.pages:
                assert page.lines == [], name
                if name.startswith("bjs"):
                    assert page.rects == [], name


def test_fonts_are_the_requested_ones(variant_pdfs):
    for name, family in [
        ("bjs-one-column-times", "Times"),
        ("bjs-two-column-courier-unruled", "Courier"),
    ]:
        with pdfplumber.open(variant_pdfs[name]) as pdf:
            fonts = {c["fontname"] for p in pdf.pages for c in p.chars}
        assert fonts and all(f.startswith(family) for f in fonts), (name, fonts)


def test_generation_is_deterministic(tmp_path, variant_pdfs):
    again = build_report_pdf(
        "bjs-ncj250746",
        tmp_path / "again.pdf",
        **{
            k: v
            for k, v in VARIANTS["bjs-altered-numbers"].items()
            if k not in ("report_id", "description")
        },
    )
    assert again.read_bytes() == variant_pdfs["bjs-altered-numbers"].read_bytes()


def test_print_format_names_only_existing_rows():
    """A row named in print_format.yaml that the goldens lack would silently lose its '%'/unit."""
    from fixtures.content import load_print_format, split_row_path

    for report_id in {v["report_id"] for v in VARIANTS.values()}:
        tables = load_report(report_id, golden_dir())
        for tid, fmt in (load_print_format(report_id).get("tables") or {}).items():
            assert tid in tables, (report_id, tid)
            paths = {r.path for r in tables[tid].rows}
            prefixes = {r.path[:n] for r in tables[tid].rows for n in range(1, len(r.path))}
            for rule in (fmt or {}).get("cells", []):
                if not isinstance(rule["rows"], str):
                    for row in rule["rows"]:
                        assert split_row_path(row) in paths, (tid, row)
            for row in (fmt or {}).get("marks", {}) or {}:
                assert split_row_path(row) in paths | prefixes, (tid, row)
            for row in (fmt or {}).get("bold_rows", []) or []:
                assert split_row_path(row) in paths, (tid, row)
