"""What changed between two published versions of a report, cell by cell (plain functions).

Rows and columns are matched by label first; labels present on one side only are paired by
position (same table shape) or by identical numbers, and such a pair is ONE `relabelled` line
(old label -> new label), never 2 x N removed/added cells. Then cells are compared.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

CHANGE_COLUMNS = ["table_id", "row_path", "column_path", "old", "new", "kind"]


def _cell(rec) -> str:
    value = rec.get("value") or ""
    return value if value else (rec.get("missing_code") or "")


def _pair_labels(old_order: list[str], new_order: list[str],
                 old_vals: dict[str, tuple], new_vals: dict[str, tuple]) -> dict[str, str]:
    """old label -> new label for labels that exist on one side only."""
    gone = [x for x in old_order if x not in new_order]
    came = [x for x in new_order if x not in old_order]
    pairs: dict[str, str] = {}
    for g in gone:  # identical numbers first
        match = next((c for c in came if c not in pairs.values() and new_vals.get(c) ==
                      old_vals.get(g) and old_vals.get(g)), None)
        if match:
            pairs[g] = match
    if len(old_order) == len(new_order):  # same shape: the same position is the same row
        for g in gone:
            if g in pairs:
                continue
            c = new_order[old_order.index(g)]
            if c in came and c not in pairs.values():
                pairs[g] = c
    return pairs


def _table_diff(table_id: str, old: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    out: list[dict] = []
    ov = {(r["row_path"], r["column_path"]): _cell(r) for r in old.to_dict("records")}
    nv = {(r["row_path"], r["column_path"]): _cell(r) for r in new.to_dict("records")}
    old_rows = list(dict.fromkeys(old.sort_values("row_index")["row_path"]))
    new_rows = list(dict.fromkeys(new.sort_values("row_index")["row_path"]))
    old_cols = list(dict.fromkeys(old.sort_values("column_index")["column_path"]))
    new_cols = list(dict.fromkeys(new.sort_values("column_index")["column_path"]))
    col_pairs = _pair_labels(
        old_cols, new_cols,
        {c: tuple(ov.get((r, c), "") for r in old_rows) for c in old_cols},
        {c: tuple(nv.get((r, c), "") for r in old_rows) for c in new_cols})
    col_map = {c: col_pairs.get(c, c) for c in old_cols}
    row_pairs = _pair_labels(
        old_rows, new_rows,
        {r: tuple(ov.get((r, c), "") for c in old_cols) for r in old_rows},
        {r: tuple(nv.get((r, col_map[c]), "") for c in old_cols) for r in new_rows})
    row_map = {r: row_pairs.get(r, r) for r in old_rows}
    for o, n in row_pairs.items():
        out.append({"table_id": table_id, "row_path": n, "column_path": "", "old": o, "new": n,
                    "kind": "relabelled"})
    for o, n in col_pairs.items():
        out.append({"table_id": table_id, "row_path": "", "column_path": n, "old": o, "new": n,
                    "kind": "relabelled"})
    seen = set()
    for (r, c), old_value in ov.items():
        key = (row_map.get(r, r), col_map.get(c, c))
        seen.add(key)
        if key not in nv:
            out.append({"table_id": table_id, "row_path": r, "column_path": c, "old": old_value,
                        "new": "", "kind": "removed"})
        elif nv[key] != old_value:
            out.append({"table_id": table_id, "row_path": key[0], "column_path": key[1],
                        "old": old_value, "new": nv[key], "kind": "changed"})
    for key, new_value in nv.items():
        if key not in seen:
            out.append({"table_id": table_id, "row_path": key[0], "column_path": key[1],
                        "old": "", "new": new_value, "kind": "added"})
    return out


def diff_tables(old_cells: pd.DataFrame, new_cells: pd.DataFrame) -> pd.DataFrame:
    """Changes from the old tidy cells to the new ones (see module doc)."""
    old_cells = old_cells.astype({"row_index": int, "column_index": int})
    new_cells = new_cells.astype({"row_index": int, "column_index": int})
    rows: list[dict] = []
    tables = list(dict.fromkeys(list(old_cells["table_id"]) + list(new_cells["table_id"])))
    for t in tables:
        rows += _table_diff(t, old_cells[old_cells["table_id"] == t],
                            new_cells[new_cells["table_id"] == t])
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def write_changes(diff: pd.DataFrame, out_dir: Path, old_sha: str, new_sha: str,
                  when: datetime) -> None:
    """changes.csv (this version's changes) and a new entry on top of CHANGES.md."""
    diff.to_csv(out_dir / "changes.csv", index=False, lineterminator="\n")
    counts = diff["kind"].value_counts().to_dict()
    lines = [f"## {when:%Y-%m-%d %H:%M} UTC", "",
             f"Source {old_sha[:12]} -> {new_sha[:12]} (sha256 `{new_sha}`).", "",
             ", ".join(f"{counts.get(k, 0)} {k}" for k in
                       ("changed", "relabelled", "added", "removed")), ""]
    relabels = diff[diff["kind"] == "relabelled"]
    for rec in relabels.to_dict("records"):
        what = "row" if rec["row_path"] else "column"
        lines.append(f"- {rec['table_id']}: {what} \"{rec['old']}\" -> \"{rec['new']}\"")
    cells = diff[diff["kind"] != "relabelled"]
    if len(cells):
        lines += ["", "| table | row | column | old | new | kind |", "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {r['table_id']} | {r['row_path']} | {r['column_path']} | {r['old']} | "
                  f"{r['new']} | {r['kind']} |" for r in cells.head(200).to_dict("records")]
    entry = "\n".join(lines) + "\n\n"
    md = out_dir / "CHANGES.md"
    previous = md.read_text(encoding="utf-8") if md.exists() else ""
    header = "# Changes\n\n"
    body = previous[len(header):] if previous.startswith(header) else previous
    md.write_text(header + entry + body, encoding="utf-8")
