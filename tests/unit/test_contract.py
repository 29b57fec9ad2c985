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
