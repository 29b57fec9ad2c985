"""docs/contract.md says what statlift/model.py defines: the cells.csv columns, in order, and the
flag vocabulary (issue 12: the contract said `engines_disagree` while the code wrote
`<engine>_disagrees`)."""
from __future__ import annotations

import re
from pathlib import Path

from statlift.model import CALLOUTS, CELL_COLUMNS, FLAGS, TableMeta, TablesDocument, is_flag

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    rest = text[start + len(heading):]
    end = re.search(r"^#{2,3} ", rest, re.M)
    return rest[:end.start()] if end else rest


def contract_cell_columns(text: str) -> list[str]:
    section = _section(text, "## `cells.csv`")
    listed = section.split("Columns in this order:", 1)[1].split("- ", 1)[0]
    inner = re.search(r"`([^`]+)`", listed, re.S).group(1)
    return [c.strip() for c in inner.replace("\n", " ").split(",")]


def _names(backticked: str) -> list[str]:
    return [c.strip() for c in backticked.replace("\n", " ").split(",")]


def contract_tables_json_keys(text: str) -> tuple[list[str], list[str]]:
    """(top-level keys, per-table keys) of tables.json as the contract lists them."""
    section = _section(text, "## `tables.json`")
    top = re.search(r"Keys, in this order:\s*`([^`]+)`", section).group(1)
    per_table = re.search(r"keys in this order:\s*`([^`]+)`", section).group(1)
    return _names(top), _names(per_table)


def contract_flags(text: str) -> list[str]:
    return re.findall(r"^- `([^`]+)`:", _section(text, "### Flags"), re.M)


def test_contract_cell_columns_are_the_model_s():
    assert contract_cell_columns(CONTRACT.read_text(encoding="utf-8")) == CELL_COLUMNS


def test_contract_flags_are_the_model_s():
    assert contract_flags(CONTRACT.read_text(encoding="utf-8")) == list(FLAGS)


def test_contract_tables_json_keys_are_the_model_s():
    top, per_table = contract_tables_json_keys(CONTRACT.read_text(encoding="utf-8"))
    assert top == list(TablesDocument("r", "ab").to_json())
    meta = TableMeta.from_json({"title": "T", "caption": "TABLE 1", "page": 1})
    assert per_table == list(meta.to_json())
    callouts = TableMeta.from_json({"title": "T", "page": 1, "pages": [1]})
    expected = [k for k in per_table if k not in ("body_bbox", "title_expected")]
    expected.insert(expected.index("page") + 1, "pages")  # "pages after page, no body_bbox..."
    assert callouts.kind == CALLOUTS and list(callouts.to_json()) == expected


def test_every_flag_the_contract_names_is_in_the_vocabulary():
    text = CONTRACT.read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z-]+_disagrees?)`", text)) | set(contract_flags(text))
    named.discard("<engine>_disagrees")
    assert named and all(is_flag(n) for n in named), named
    assert "engines_disagree" not in text


def test_the_parser_sees_a_drift():
    text = CONTRACT.read_text(encoding="utf-8").replace("`unreadable`:", "`illegible`:")
    assert contract_flags(text) != list(FLAGS)
    text = CONTRACT.read_text(encoding="utf-8").replace("row_index, column_index",
                                                        "column_index, row_index")
    assert contract_cell_columns(text) != CELL_COLUMNS


def _audit_keys(text: str) -> dict[str, list[str]]:
    """The key lists of the contract's audit.json section, by the name they follow."""
    section = _section(text, "## `audit.json`")
    out = {"audit.json": _names(re.search(r"Keys, in this order:\s*`([^`]+)`", section).group(1))}
    for item in re.split(r"\n- ", section)[1:]:
        listed = re.search(r"keys\s+in\s+this\s+order:\s*`([^`]+)`", item)
        if listed:
            out[re.match(r"`(\w+)`", item).group(1)] = _names(listed.group(1))
    return out


def test_contract_audit_json_keys_are_the_model_s_and_the_audit_s():
    import pandas as pd

    from statlift.model import CLAIM_FIELDS, AuditReport, Finding
    from statlift.schemas.specs import ReportSpec
    from statlift.validate.audit import audit_report
    from statlift.validate.claims import Claim

    keys = _audit_keys(CONTRACT.read_text(encoding="utf-8"))
    assert keys["audit.json"] == list(AuditReport({}).to_json())
    assert keys["findings"] == list(Finding.from_json({}).to_json())
    assert keys["claims"] == list(CLAIM_FIELDS) == list(Claim(1, "s", "count", "1", "x")
                                                        .to_json()) + ["finding"]
    # the summary and the culprit as the audit writes them (a sum off by 36, two tied cells)
    spec = ReportSpec(report_id="r", spec_version=1, tables=[{
        "table_id": "t", "caption": "TABLE 1",
        "checks": [{"sums_to_total": {"total": "Total"}}]}])
    cells = pd.DataFrame([{"table_id": "t", "row_path": r, "column_path": "N", "value": v,
                           "unit": "count", "raw_text": v, "missing_code": "", "decimals": 0,
                           "flags": "", "engines": "words;camelot", "page": 1,
                           "bbox": "0,0,1,1"}
                          for r, v in [("Total", "149"), ("A", "51"), ("B", "62"), ("C", "72")]])
    doc = audit_report(spec, cells, {"source_path": None, "tables": {}}).to_json()
    assert keys["summary"] == list(doc["summary"])
    assert keys["culprit"] == list(doc["findings"][0]["culprit"])
    assert [list(t) for t in doc["findings"][0]["culprit"]["tied"]] == [keys["culprit"][:5]]


def test_the_audit_parser_sees_a_drift():
    from statlift.model import CLAIM_FIELDS

    text = CONTRACT.read_text(encoding="utf-8")
    assert _audit_keys(text)["claims"] == list(CLAIM_FIELDS)
    drifted = text.replace("stated, verdict, computed", "stated, computed, verdict")
    assert _audit_keys(drifted)["claims"] != list(CLAIM_FIELDS)
