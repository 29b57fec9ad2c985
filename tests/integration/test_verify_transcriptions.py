"""`statlift verify` end to end: transcriptions made from the goldens, checked against a real
published run of the shipped reports (what a new user does after `make run`)."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from cli_runner import run_cli

from statlift.cli.main import main

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
BJS = "bjs-ncj250746"


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("verify")
    out = work / "processed"
    done = run_cli(["run", "--out", str(out)], work)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def _rows(table_id: str, report: str = BJS) -> list[list[str]]:
    with open(GOLDEN / report / f"{table_id}.csv", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _verify(args: list[str], processed: Path, out: Path, capsys) -> tuple[int, str, str]:
    code = main(["verify", *args, "--processed", str(processed), "--out", str(out)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _problems(out: Path) -> pd.DataFrame:
    lines = pd.read_csv(out / "verification.csv", dtype=str, keep_default_na=False)
    return lines[lines["verdict"] != "match"]


@pytest.mark.slow
def test_three_typed_errors_are_exactly_the_three_cells(processed, tmp_path, capsys):
    folder = tmp_path / "transcription"
    t1, t5 = _rows("table-01"), _rows("table-05")
    t1[1][1] = f"{int(t1[1][1]):,}"               # thousands separators: still a match
    t1[2][1] = t1[2][1][::-1]                    # typed backwards
    t5[3][2] = t5[3][2][0] + t5[3][2]            # an extra digit (881.1 for 81.1)
    t5[4][1] = "-" + t5[4][1]                    # a sign
    _write(folder / "table-01.csv", t1)
    _write(folder / "table-05.csv", t5)
    code, out, err = _verify([BJS, str(folder)], processed, tmp_path / "out", capsys)
    assert code == 1 and err == ""
    problems = _problems(tmp_path / "out")
    assert sorted(zip(problems["table_id"], problems["row_path"], problems["verdict"])) == sorted([
        ("table-01", t1[2][0], "mismatch"), ("table-05", t5[3][0], "mismatch"),
        ("table-05", t5[4][0], "mismatch")])
    assert set(problems["kind"]) <= {"transposed digits", "other", "extra digit", "sign"}
    assert "extra digit" in set(problems["kind"]) and "sign" in set(problems["kind"])
    assert "3 mismatches" in out and "written:" in out
    html = (tmp_path / "out" / "verification.html").read_text(encoding="utf-8")
    assert html.count("<img ") == 3 and "Federal Prosecution of Commercial Sexual" in html


@pytest.mark.slow
def test_a_clean_transcription_with_renamed_labels_and_a_missing_row(processed, tmp_path, capsys):
    rows = _rows("table-02")
    rows[0] = [rows[0][0]] + [c.upper().replace(" | ", " - ") + " *" for c in rows[0][1:]]
    rows[2][0] = rows[2][0].split(" > ")[-1]     # parent prefix left off
    dropped = rows.pop(5)[0]
    path = _write(tmp_path / "agencies.csv", rows)
    code, out, _ = _verify([BJS, str(path), "--table", "table-02"], processed, tmp_path / "o",
                           capsys)
    assert code == 1
    problems = _problems(tmp_path / "o")
    assert set(problems["verdict"]) == {"missing-in-transcription"}
    assert set(problems["row_path"]) == {dropped} and len(problems) == len(rows[0]) - 1


@pytest.mark.slow
def test_xlsx_tidy_and_map(processed, tmp_path, capsys):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "sexual-contact"
    rows = _rows("sexual-contact", "ussc-cp-production-2021")
    rows[1][0] = "Total"                          # the total row's printed label differs
    for row in rows:
        sheet.append([row[0]] + [float(v) if v.replace(".", "").isdigit() else v
                                 for v in row[1:]])
    book.save(tmp_path / "ussc.xlsx")
    code, out, _ = _verify(["ussc-cp-production-2021", str(tmp_path / "ussc.xlsx")], processed,
                           tmp_path / "x", capsys)
    assert code == 0, out
    tidy = tmp_path / "tidy.csv"
    _write(tidy, [["table_id", "row_path", "column_path", "value"],
                  ["table-01", "Trafficking of kids", "2013 | Number", "1,031"]])
    code, out, _ = _verify([BJS, str(tidy)], processed, tmp_path / "t", capsys)
    assert code == 1 and "row 'Trafficking of kids' (1 value)" in out
    mapping = tmp_path / "map.yaml"
    mapping.write_text("table-01:\n  rows:\n    Trafficking of kids: Child sex trafficking\n",
                       encoding="utf-8")
    code, out, _ = _verify([BJS, str(tidy), "--map", str(mapping)], processed, tmp_path / "m",
                           capsys)
    problems = _problems(tmp_path / "m")
    assert set(problems["verdict"]) == {"missing-in-transcription"}  # only the other cells
    assert "1 match" in out


@pytest.mark.slow
@pytest.mark.parametrize("content,code_in_message", [
    ("", "[empty-file]"),
    ("Dear editor,\nthe numbers are wrong.\n", "[not-a-table]"),
])
def test_bad_input_is_one_clear_line(processed, tmp_path, capsys, content, code_in_message):
    path = tmp_path / "table-01.csv"
    path.write_text(content, encoding="utf-8")
    code, out, err = _verify([BJS, str(path)], processed, tmp_path / "o", capsys)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("statlift verify: ") and code_in_message in err and str(path) in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_wrong_report_and_nothing_published(processed, tmp_path, capsys):
    ussc = _write(tmp_path / "method-of-production.csv",
                  _rows("method-of-production", "ussc-cp-production-2021"))
    code, _, err = _verify([BJS, str(ussc), "--table", "table-01"], processed, tmp_path / "o",
                           capsys)
    assert code == 2 and "[wrong-report]" in err and "another report" in err
    empty = tmp_path / "empty-processed"
    empty.mkdir()
    code, _, err = _verify([BJS, str(ussc)], empty, tmp_path / "o", capsys)
    assert code == 2 and "[not-published]" in err and f"statlift run --report {BJS}" in err
    code, _, err = _verify(["no-such-report", str(ussc)], processed, tmp_path / "o", capsys)
    assert code == 2 and "no-such-report" in err
    shutil.rmtree(tmp_path / "o", ignore_errors=True)
