"""What changed between two versions of a report's tidy cells, one line per cell. Plain functions.

Cells are keyed by (table_id, row_path, column_path) (docs/contract.md). Kinds:

    changed     same key, another reading              old / new = the readings
    added       key only in the new cells              new = the reading
    removed     key only in the old cells              old = the reading
    relabelled  the same cell under a renamed row      old / new = the old / new row path
                (or column), reading unchanged         (column path for a renamed column)
    unit        same cell, another unit                old / new = the units (`count` ->
                (a unit rule of the spec changed)      `percent`)
    footnotes   same cell, other footnote markers      old / new = the `;`-joined markers
    text        a table's printed text outside its     column_path = which: `caption`,
                cells (diff_table_text)                `title`, `stub header`, `note 2`,
                                                       `footnote a`, `source`; row_path empty;
                                                       old / new = the texts ("" if none)

A label present on one side only (a row or column of one table) is paired with one present on the
other side only when their cells read the same: keyed by the other axis' labels (same column
set, same values), or else by position along the other axis (same values in the same order).
A pair gives ONE `relabelled` line per cell pair instead of a removed and an added line. When
several labels qualify the nearest in position wins; a label whose cells hold fewer than two
distinct values (all empty, all zero, a single number) is paired only at the same position.
Rows and columns are paired in turns, so a renamed row and a renamed column in one table are
both found.

The reading compared is `value`, or for a missing value its printed `missing_code` (a `--` that
becomes `~` is a change). Unit and footnotes are compared apart: a cell whose value and unit both
changed has a `changed` line and a `unit` line; a relabelled cell with another unit has a
`relabelled` line and a `unit` line. Only the readings pair renamed labels.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from statlift.errors import StatliftError
from statlift.fileio import write_atomic
from statlift.frames import records

log = logging.getLogger(__name__)

CHANGE_COLUMNS = ["table_id", "row_path", "column_path", "old", "new", "kind"]
KINDS = ("changed", "added", "removed", "relabelled", "unit", "footnotes", "text")
CELL_KINDS = KINDS[:-1]  # what changed in a cell; `text` is a table's text outside its cells
# a table's text compared between versions (tables.json): key -> the name a change line gives it
TEXT_FIELDS = {"caption": "caption", "title": "title", "stub_header": "stub header",
               "source": "source"}
KEY = ["table_id", "row_path", "column_path"]
# what a cell carries besides its reading, compared between versions: column -> kind
ATTRIBUTES = {"unit": "unit", "footnotes": "footnotes"}
# CHANGES.md's count line: the first four always, the others when there are any
_COUNT_WORDS = {"unit": "with another unit", "footnotes": "with other footnotes"}
AXES = {"row": ("row_path", "column_path", "col_pos", "row_pos"),
        "column": ("column_path", "row_path", "row_pos", "col_pos")}
MAX_PASSES = 4
MD_MAX_CELLS = 50


# ---- the diff -------------------------------------------------------------------------------

def diff_table_text(old_doc: dict | None, new_doc: dict) -> pd.DataFrame:
    """What a revision changed in the printed text of each table it kept, outside the table's
    cells (tables.json of both versions): its caption, title, stub header, notes (by position:
    `note 2`), footnotes' texts (by marker: `footnote a`) and source line. A reworded note or a
    corrected source is a change the cell diff cannot see. One line per item, in the diff's
    columns (CHANGE_COLUMNS, kind `text`); tables added or removed show in the cells."""
    rows = []
    old_tables = (old_doc or {}).get("tables") or {}
    for table_id, new in (new_doc.get("tables") or {}).items():
        old = old_tables.get(table_id)
        if old is None:
            continue
        items = [(name, old.get(key), new.get(key)) for key, name in TEXT_FIELDS.items()]
        old_notes, new_notes = list(old.get("notes") or []), list(new.get("notes") or [])
        items += [(f"note {i + 1}", _at(old_notes, i), _at(new_notes, i))
                  for i in range(max(len(old_notes), len(new_notes)))]
        old_marks, new_marks = _footnotes(old.get("footnotes")), _footnotes(new.get("footnotes"))
        items += [(f"footnote {m}", old_marks.get(m), new_marks.get(m))
                  for m in dict.fromkeys([*old_marks, *new_marks])]
        rows += [{"table_id": table_id, "row_path": "", "column_path": name,
                  "old": _plain(o), "new": _plain(n), "kind": "text"}
                 for name, o, n in items if _plain(o) != _plain(n)]
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS, dtype=object)


def _at(items: list, i: int):
    return items[i] if i < len(items) else None


def _footnotes(value) -> dict[str, str]:
    """tables.json `footnotes` ({marker: text}, or [[marker, text], ...]) as a dict."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return {str(pair[0]): pair[1] for pair in value or [] if len(pair) == 2}


def _plain(text) -> str:
    return "" if text is None else " ".join(str(text).split())


def diff_tables(old_cells: pd.DataFrame, new_cells: pd.DataFrame) -> pd.DataFrame:
    """Changes from old to new tidy cells: columns CHANGE_COLUMNS, one line per cell."""
    _check_same_report(old_cells, new_cells)
    old, new = prepare_cells(old_cells), prepare_cells(new_cells)
    tables = list(dict.fromkeys([*old["table_id"], *new["table_id"]]))
    olds, news = dict(tuple(old.groupby("table_id"))), dict(tuple(new.groupby("table_id")))
    pairs = [(olds.get(t, old.iloc[:0]), news.get(t, new.iloc[:0])) for t in tables]
    parts = [_diff_table(o, n) for o, n in pairs if not _same_cells(o, n)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS})
    return pd.concat(parts, ignore_index=True)[CHANGE_COLUMNS]


def prepare_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Key, reading and row/column positions (0-based order within each table) of tidy cells."""
    missing = [c for c in [*KEY, "value"] if c not in cells.columns]
    if missing:
        raise ValueError(f"tidy cells lack the column(s) {missing} (see docs/contract.md)")
    out = cells[KEY].astype(str).copy()
    value = _text(cells["value"])
    code = (_text(cells["missing_code"]) if "missing_code" in cells.columns
            else pd.Series("", index=value.index))
    out["reading"] = value.where(value != "", code)
    for column in ATTRIBUTES:
        out[column] = (_text(cells[column]) if column in cells.columns
                       else pd.Series("", index=value.index))
    dupes = out.duplicated(KEY)
    if dupes.any():
        first = out.loc[dupes, KEY].iloc[0].tolist()
        raise ValueError(f"tidy cells hold the key {first} more than once")
    out["row_pos"] = _positions(out, cells, "row_path", "row_index")
    out["col_pos"] = _positions(out, cells, "column_path", "column_index")
    return out.reset_index(drop=True)


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


def _positions(out: pd.DataFrame, cells: pd.DataFrame, label: str, index: str) -> list[int]:
    """Each label's rank within its table, by the printed index, else by first appearance."""
    order = pd.to_numeric(cells[index], errors="coerce") if index in cells.columns else None
    frame = out[["table_id", label]].copy()
    frame["_o"] = range(len(frame)) if order is None else order.fillna(float("inf")).to_numpy()
    frame["_seen"] = range(len(frame))
    firsts = frame.groupby(["table_id", label], sort=False)[["_o", "_seen"]].min().reset_index()
    firsts = firsts.sort_values(["table_id", "_o", "_seen"])
    firsts["_pos"] = firsts.groupby("table_id").cumcount()
    return frame.merge(firsts[["table_id", label, "_pos"]], how="left")["_pos"].tolist()


def _same_cells(old: pd.DataFrame, new: pd.DataFrame) -> bool:
    """The common case, checked cheaply: a table whose cells all read the same."""
    cols = [*KEY, "reading", *ATTRIBUTES]
    return len(old) == len(new) and set(map(tuple, old[cols].to_numpy())) == \
        set(map(tuple, new[cols].to_numpy()))


def _check_same_report(old: pd.DataFrame, new: pd.DataFrame) -> None:
    if "report_id" not in old.columns or "report_id" not in new.columns:
        return
    a, b = set(old["report_id"].astype(str)), set(new["report_id"].astype(str))
    if a and b and a != b:
        raise StatliftError("wrong-report", source="cells.csv",
                            expected=f"new cells of {', '.join(sorted(a))}",
                            found=f"cells of {', '.join(sorted(b))}",
                            hint="compare versions of the same report only")


def _diff_table(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    row_map, col_map = relabel_maps(old, new)
    moved = _apply_maps(old, row_map, col_map)
    moved["old_row"], moved["old_col"] = old["row_path"].to_numpy(), old["column_path"].to_numpy()
    both = moved.merge(new, on=KEY, how="outer", suffixes=("_o", "_n"), indicator=True)
    out = pd.DataFrame({"table_id": both["table_id"], "row_path": both["row_path"],
                        "column_path": both["column_path"],
                        "old": both["reading_o"].fillna(""), "new": both["reading_n"].fillna(""),
                        "kind": ""})
    gone, came = both["_merge"] == "left_only", both["_merge"] == "right_only"
    paired = both["_merge"] == "both"
    row_renamed = paired & (both["old_row"] != both["row_path"])
    col_renamed = paired & ~row_renamed & (both["old_col"] != both["column_path"])
    changed = paired & (out["old"] != out["new"])
    out.loc[gone, "row_path"], out.loc[gone, "column_path"] = both["old_row"], both["old_col"]
    out.loc[gone, "kind"], out.loc[came, "kind"] = "removed", "added"
    out.loc[row_renamed, ["old", "new"]] = both.loc[row_renamed, ["old_row", "row_path"]].to_numpy()
    out.loc[col_renamed, ["old", "new"]] = both.loc[col_renamed,
                                                    ["old_col", "column_path"]].to_numpy()
    out.loc[row_renamed | col_renamed, "kind"] = "relabelled"
    out.loc[changed, "kind"] = "changed"
    out.loc[changed, ["old", "new"]] = both.loc[changed, ["reading_o", "reading_n"]].to_numpy()
    out["_r"] = both["row_pos_n"].fillna(both["row_pos_o"]).to_numpy()
    out["_c"] = both["col_pos_n"].fillna(both["col_pos_o"]).to_numpy()
    out["_k"] = 0
    parts = [out[out["kind"] != ""]]
    for n, (column, kind) in enumerate(ATTRIBUTES.items(), start=1):
        differs = paired & (both[f"{column}_o"] != both[f"{column}_n"])
        if differs.any():
            part = out[differs].copy()
            part["old"] = both.loc[differs, f"{column}_o"].to_numpy()
            part["new"] = both.loc[differs, f"{column}_n"].to_numpy()
            part["kind"], part["_k"] = kind, n
            parts.append(part)
    out = pd.concat(parts).sort_values(["_r", "_c", "_k"], kind="stable")
    return out[CHANGE_COLUMNS].reset_index(drop=True)


# ---- pairing renamed labels -----------------------------------------------------------------

def relabel_maps(old: pd.DataFrame, new: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """(row map, column map): old label -> new label, for renamed labels of one table."""
    maps: dict[str, dict[str, str]] = {"row": {}, "column": {}}
    for _ in range(MAX_PASSES):
        grown = False
        for axis in ("row", "column"):
            moved = _apply_maps(old, maps["row"], maps["column"])
            pairs = pair_labels(moved, new, axis)
            maps[axis].update(pairs)
            grown = grown or bool(pairs)
        if not grown:
            break
    return maps["row"], maps["column"]


def _apply_maps(cells: pd.DataFrame, row_map: dict[str, str],
                col_map: dict[str, str]) -> pd.DataFrame:
    out = cells.copy()
    out["row_path"] = out["row_path"].map(lambda r: row_map.get(r, r))
    out["column_path"] = out["column_path"].map(lambda c: col_map.get(c, c))
    return out


def pair_labels(old: pd.DataFrame, new: pd.DataFrame, axis: str) -> dict[str, str]:
    """Labels on `axis` found on one side only, paired when their cells read the same."""
    label = AXES[axis][0]
    old_labels, new_labels = dict.fromkeys(old[label]), dict.fromkeys(new[label])
    gone = [x for x in old_labels if x not in new_labels]
    came = [x for x in new_labels if x not in old_labels]
    if not gone or not came:
        return {}
    sig_old = _signatures(old[old[label].isin(gone)], axis)
    sig_new = _signatures(new[new[label].isin(came)], axis)
    pairs: dict[str, str] = {}
    for g in sorted(gone, key=lambda x: sig_old[x][2]):
        by_path, by_pos, pos, weak = sig_old[g]
        fits = [c for c in came if c not in pairs.values()
                and (sig_new[c][0] == by_path or sig_new[c][1] == by_pos)
                and (not weak or sig_new[c][2] == pos)]
        if fits:
            pairs[g] = min(fits, key=lambda c: abs(sig_new[c][2] - pos))
    return pairs


def _signatures(cells: pd.DataFrame, axis: str) -> dict[str, tuple]:
    """label -> (readings by other label, readings by other position, position, weak)."""
    label, other, other_pos, pos = AXES[axis]
    out: dict[str, tuple] = {}
    for name, group in cells.groupby(label, sort=False):
        readings = group["reading"].tolist()
        distinct = {r for r in readings if r != ""}
        out[str(name)] = (frozenset(zip(group[other], readings)),
                     tuple(sorted(zip(group[other_pos], readings))),
                     int(group[pos].iloc[0]), len(distinct) < 2)
    return out


# ---- writing the change log -----------------------------------------------------------------

def write_changes(diff: pd.DataFrame, out_dir: Path, old_sha: str, new_sha: str,
                  when: datetime | str) -> dict[str, int]:
    """Write changes.csv (this version's changes) and put a new entry on top of CHANGES.md."""
    out_dir = Path(out_dir)
    stamp = _stamp(when)
    table = diff[CHANGE_COLUMNS].assign(old_sha256=old_sha, new_sha256=new_sha, changed_at=stamp)
    write_atomic(out_dir / "changes.csv", table.to_csv(index=False, lineterminator="\n"))
    counts = {k: int((diff["kind"] == k).sum()) for k in KINDS}  # lines of each kind
    md = out_dir / "CHANGES.md"
    previous = md.read_text(encoding="utf-8") if md.exists() else ""
    header = "# Changes\n\n"
    rest = previous[len(header):] if previous.startswith(header) else previous
    write_atomic(md, header + changes_entry(diff, old_sha, new_sha, stamp, counts) + rest)
    log.info("changes %s -> %s: %s", old_sha[:12], new_sha[:12], counts)
    return counts


def changes_entry(diff: pd.DataFrame, old_sha: str, new_sha: str, stamp: str,
                  counts: dict[str, int]) -> str:
    """One CHANGES.md entry: date, both sha256, counts per kind, relabels, changed cells."""
    lines = [f"## {stamp}", "", f"- old source sha256: `{old_sha or 'none'}`",
             f"- new source sha256: `{new_sha}`",
             "- cells: " + ", ".join(f"{counts.get(k, 0)} {_COUNT_WORDS.get(k, k)}"
                                     for k in CELL_KINDS
                                     if k not in _COUNT_WORDS or counts.get(k))]
    texts = diff[diff["kind"] == "text"]
    if len(texts):
        lines.append(f"- tables' text: {len(texts)} changed")
    lines.append("")
    relabels = relabel_lines(diff)
    if relabels:
        lines += ["Relabelled:", "", *relabels, ""]
    if len(texts):
        lines += ["Text of the tables (captions, titles, notes, footnotes, sources):", "",
                  *(f"- {t}, {what}: {_md(o) or '(none)'} -> {_md(n) or '(none)'}"
                    for t, what, o, n in zip(texts["table_id"], texts["column_path"],
                                             texts["old"], texts["new"])), ""]
    cells = _cell_lines(diff)
    if len(cells):
        lines += ["| table | row | column | old | new | kind |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(_md(r[c]) for c in ["table_id", "row_path", "column_path",
                                                          "old", "new", "kind"]) + " |"
                  for r in records(cells.head(MD_MAX_CELLS))]
        if len(cells) > MD_MAX_CELLS:
            lines.append(f"\n… and {len(cells) - MD_MAX_CELLS} more cells in changes.csv")
        lines.append("")
    return "\n".join(lines) + "\n"


def _cell_lines(diff: pd.DataFrame) -> pd.DataFrame:
    """The diff's lines about what changed in a cell (not a renamed label, not a table's text)."""
    return diff[~diff["kind"].isin(["relabelled", "text"])]


def change_summary(diff: pd.DataFrame) -> tuple[int, str]:
    """(cells changed, words) for a run's summary line: `3 cells changed (2 values, 1 unit),
    1 label renamed`. A cell counts once whatever changed in it; a renamed label counts once,
    not once per cell (and its cells count only if something else changed in them); the
    tables' texts that changed are named after them (`, 1 text of tables changed (table-03
    note 1)`)."""
    cells = _cell_lines(diff)
    n_cells = len(cells.drop_duplicates(KEY))
    words = {"changed": ("value", "values"), "added": ("added", "added"),
             "removed": ("removed", "removed"), "unit": ("unit", "units"),
             "footnotes": ("footnotes", "footnotes")}
    per_kind = cells["kind"].value_counts()
    detail = ", ".join(f"{int(per_kind[k])} {words[k][int(per_kind[k]) != 1]}"
                       for k in KINDS if k in per_kind.index and k in words)
    renamed = diff[diff["kind"] == "relabelled"]
    labels = len(renamed.drop_duplicates(["table_id", "old", "new"])) if len(renamed) else 0
    text = f"{n_cells} {'cell' if n_cells == 1 else 'cells'} changed"
    text += f" ({detail})" if detail else ""
    text += f", {labels} {'label' if labels == 1 else 'labels'} renamed"
    texts = diff[diff["kind"] == "text"]
    if len(texts):
        named = [f"{t} {what}" for t, what in zip(texts["table_id"], texts["column_path"])]
        text += (f", {len(named)} {'text' if len(named) == 1 else 'texts'} of tables changed ("
                 + ", ".join(named[:3]) + (", …" if len(named) > 3 else "") + ")")
    return n_cells, text


def relabel_lines(diff: pd.DataFrame) -> list[str]:
    """`- table-01, row: old -> new`, once per renamed label (not once per cell)."""
    rel = diff[diff["kind"] == "relabelled"]
    axis = ["row" if n == r else "column" for n, r in zip(rel["new"], rel["row_path"])]
    seen = dict.fromkeys(zip(rel["table_id"], axis, rel["old"], rel["new"]))
    return [f"- {t}, {a}: {_md(o)} -> {_md(n)}" for t, a, o, n in seen]


def _md(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _stamp(when: datetime | str) -> str:
    if isinstance(when, str):
        return when
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
