"""Issue 5, scheduled re-extraction, end to end: `statlift run --fetch` as a process against a
real HTTP server on 127.0.0.1, with a temporary catalog, raw archive and processed folder.

- The publisher replaces the report at the same URL (BJS's October 2017 first release, then the
  November 2017 revision): the second run publishes the revision with a cell-level change log
  (renamed labels as relabels, exactly the three revised numbers), the third run changes nothing.
- Bad inputs over a published dataset (a 404, an HTML page, one broken report of two, local
  copies with a missing caption or a changed table shape): the documented exit code, a message
  naming the report, the URL or file and the table, and the published dataset byte-identical.

Each `statlift` process pays Prefect's start-up (~10 s), so the checks share runs. Every test
works in its own tmp_path (own PREFECT_HOME, catalog, raw/, processed/, server port), so the
module runs under pytest-xdist; nothing is written to the repository's raw/ or processed/.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_runner import run_cli
from fixtures.variants import REVISED_V1
from httpserver import Reply, Server, serve

from statlift.flows.run import UP_TO_DATE

REPO = Path(__file__).resolve().parents[2]
REPORT = "bjs-ncj250746"
USSC = "ussc-cp-production-2021"
GOLDEN = REPO / "tests" / "golden" / REPORT
PDF_PATH = "/content/pub/pdf/fpcsecc0413.pdf"
CHANGE_COLUMNS = ["table_id", "row_path", "column_path", "old", "new", "kind"]
LANDING_PAGE = (b"<!DOCTYPE html><html><head><title>Federal Prosecution of Commercial Sexual "
                b"Exploitation of Children Cases, 2004-2013 | Bureau of Justice Statistics</title>"
                b"</head><body><a href='/content/pub/pdf/fpcsecc0413.pdf'>PDF</a></body></html>")

pytestmark = pytest.mark.slow


# ---- helpers ---------------------------------------------------------------------------------

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_catalog(path: Path, urls: dict[str, str | None]) -> Path:
    """schemas/catalog.yaml with only the reports in `urls`, each pdf_url replaced.

    expected_sha256 is dropped: it describes the embedded copy, not what the server sends."""
    catalog = REPO / "statlift" / "schemas" / "catalog.yaml"
    data = yaml.safe_load(catalog.read_text(encoding="utf-8"))
    entries = {e["report_id"]: e for e in data["reports"]}
    data["reports"] = [dict(entries[rid], pdf_url=url, expected_sha256=None)
                       for rid, url in urls.items()]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _env(catalog: Path, raw: Path) -> dict[str, str]:
    return {"STATLIFT_CATALOG": str(catalog), "STATLIFT_RAW": str(raw)}


def _serve_pdf(server: Server, path: str, body: bytes) -> str:
    """Serve `body` at `path` with an ETag; a request carrying that ETag gets 304. Returns it."""
    etag = f'"{_sha(body)[:16]}"'

    def route(headers: dict) -> Reply:
        if headers.get("If-None-Match") == etag:
            return Reply(304, headers={"ETag": etag}, length=False)
        return Reply(200, body, {"Content-Type": "application/pdf", "ETag": etag})

    server.routes[path] = route
    return etag


def _tree(folder: Path, skip: str | None = "_rejected") -> dict[str, bytes]:
    """Every file under folder (hidden ones included) and its bytes, except under `skip`/."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not (skip and p.relative_to(folder).parts[0] == skip)}


def _report_line(stdout: str, report_id: str) -> str:
    """The run's one summary line for a report (`<id>: <status>: <message>`)."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith(f"{report_id}: ")]
    assert len(lines) == 1, stdout
    return lines[0]


def _run(args: list[str], tmp_path: Path, env: dict):
    """`statlift ...` as a process; an expected failure is one line, never a traceback."""
    res = run_cli(args, tmp_path, env)
    assert "Traceback" not in res.stdout, res.stdout
    assert "Traceback" not in res.stderr, res.stderr[-4000:]
    return res


def _golden(table_id: str) -> pd.DataFrame:
    return pd.read_csv(GOLDEN / f"{table_id}.csv", dtype=str, keep_default_na=False)


def _value(printed: str) -> str:
    """The contract's value of a printed number: no thousands separators, no `%`."""
    return printed.replace(",", "").replace("%", "")


def expected_changes() -> dict[tuple[str, str, str], tuple[str, str, str]]:
    """(table, row path, column path) -> (old, new, kind), from the first release (REVISED_V1)
    to the revision (the goldens): every cell under a renamed row or column is one relabel (old
    and new = the v1 and revised label path), the three revised numbers are changes."""
    renames: dict[str, dict[str, str]] = {}
    for rule in REVISED_V1["relabel"]:  # rule: golden segment "old" was printed as "new" in v1
        for t in rule["tables"]:
            renames.setdefault(t, {})[rule["old"]] = rule["new"]
    out = {}
    for table_id, ren in renames.items():
        g = _golden(table_id)
        for row in g.iloc[:, 0]:
            v1_row = " > ".join(ren.get(s, s) for s in row.split(" > "))
            for col in g.columns[1:]:
                v1_col = " | ".join(ren.get(s, s) for s in col.split(" | "))
                if v1_row != row:
                    out[(table_id, row, col)] = (v1_row, row, "relabelled")
                elif v1_col != col:
                    out[(table_id, row, col)] = (v1_col, col, "relabelled")
    for (table_id, row, col), printed in REVISED_V1["values"].items():
        g = _golden(table_id)
        revised = g.loc[g.iloc[:, 0] == row, col]
        assert len(revised) == 1, (table_id, row, col)
        out[(table_id, row, col)] = (_value(printed), revised.iloc[0], "changed")
    return out


def _md(text: str) -> str:  # as CHANGES.md escapes a table cell
    return text.replace("\\", "\\\\").replace("|", "\\|")


# ---- 1. the "done when": v1, then the revision at the same URL, then nothing new -------

def test_revision_at_the_same_url_is_published_with_its_changes(tmp_path, variant_pdfs):
    v1 = variant_pdfs["bjs-revised-v1"].read_bytes()
    v2 = variant_pdfs["bjs-two-column-helvetica"].read_bytes()
    sha1, sha2 = _sha(v1), _sha(v2)
    assert sha1 != sha2
    out, raw = tmp_path / "processed", tmp_path / "raw"
    args = ["run", "--fetch", "--report", REPORT, "--out", str(out)]
    with serve() as server:
        url = server.url(PDF_PATH)
        env = _env(_write_catalog(tmp_path / "catalog.yaml", {REPORT: url}), raw)

        # run 1: the first release is published
        _serve_pdf(server, PDF_PATH, v1)
        first = _run(args, tmp_path, env)
        assert first.returncode == 0, first.stdout + first.stderr[-4000:]
        assert _report_line(first.stdout, REPORT).startswith(f"{REPORT}: published: ")
        tables = json.loads((out / REPORT / "tables.json").read_text(encoding="utf-8"))
        assert tables["source_sha256"] == sha1 and not tables["failed"]

        # run 2: the publisher replaced the file with the revision
        etag2 = _serve_pdf(server, PDF_PATH, v2)
        second = _run(args, tmp_path, env)
        assert second.returncode == 0, second.stdout + second.stderr[-4000:]
        want = expected_changes()
        relabels = {(t, "row" if new == row else "column", old, new)
                    for (t, row, _), (old, new, kind) in want.items() if kind == "relabelled"}
        line = _report_line(second.stdout, REPORT)
        assert f"{REPORT}: updated: " in line
        assert f"3 cells changed (3 values), {len(relabels)} labels renamed" in line, line
        folder = out / REPORT
        tables = json.loads((folder / "tables.json").read_text(encoding="utf-8"))
        assert tables["source_sha256"] == sha2 and not tables["failed"]

        changes = pd.read_csv(folder / "changes.csv", dtype=str, keep_default_na=False)
        assert list(changes.columns[:6]) == CHANGE_COLUMNS
        got = [(r.table_id, r.row_path, r.column_path, r.old, r.new, r.kind)
               for r in changes.itertuples()]
        assert len(got) == len(set(got))  # one line per cell
        assert {(t, r, c): (o, n, k) for t, r, c, o, n, k in got} == want
        assert set(changes["old_sha256"]) == {sha1} and set(changes["new_sha256"]) == {sha2}

        md = (folder / "CHANGES.md").read_text(encoding="utf-8")
        assert f"- old source sha256: `{sha1}`" in md and f"- new source sha256: `{sha2}`" in md
        assert md.count("\n## ") == 1  # one entry: the first publication has nothing to diff
        n_relabelled = sum(1 for *_, k in want.values() if k == "relabelled")
        assert f"- cells: 3 changed, 0 added, 0 removed, {n_relabelled} relabelled" in md
        listed = [ln for ln in md.splitlines() if re.match(r"- table-\d\d, (row|column): ", ln)]
        assert sorted(listed) == sorted(f"- {t}, {axis}: {_md(o)} -> {_md(n)}"
                                        for t, axis, o, n in relabels)  # once per label
        for (t, r, c), (o, n, k) in want.items():
            if k == "changed":
                assert f"| {t} | {_md(r)} | {_md(c)} | {o} | {n} | changed |" in md

        manifest = json.loads((raw / "manifest.json").read_text(encoding="utf-8"))[
            "reports"][REPORT]
        assert manifest["current"] == sha2
        assert [v["sha256"] for v in manifest["versions"]] == [sha1, sha2]

        # run 3: nothing changed at the publisher
        before = _tree(out, skip=None)
        n_requests = len(server.requests)
        third = _run(args, tmp_path, env)
        assert third.returncode == 0, third.stdout + third.stderr[-4000:]
        assert _report_line(third.stdout, REPORT) == f"{REPORT}: unchanged: {UP_TO_DATE}"
        assert _tree(out, skip=None) == before  # every published file byte-identical
        # a conditional request with the current version's ETag, answered 304
        assert [h.get("If-None-Match") for _, h in server.requests[n_requests:]] == [etag2]
    # nothing re-extracted: same source and spec as published, so no extraction or publish task
    # ran, not even as a cache lookup; the only task run is the download check
    finished = [ln for ln in third.stderr.splitlines()
                if "prefect.task_runs: Finished in state" in ln]
    assert len(finished) == 1, finished
    assert f"{REPORT}: fetched (unchanged)" in third.stderr


# ---- 2. bad inputs over a published dataset ---------------------------------------------------

@pytest.fixture(scope="module")
def published(tmp_path_factory, variant_pdfs) -> Path:
    """A good dataset (the revision, fetched from a local server) published under
    <base>/processed with its raw archive under <base>/raw; tests work on copies."""
    base = tmp_path_factory.mktemp("published")
    with serve() as server:
        _serve_pdf(server, PDF_PATH, variant_pdfs["bjs-two-column-helvetica"].read_bytes())
        catalog = _write_catalog(base / "catalog.yaml", {REPORT: server.url(PDF_PATH)})
        res = _run(["run", "--fetch", "--report", REPORT, "--out", str(base / "processed")],
                   base, _env(catalog, base / "raw"))
    assert res.returncode == 0, res.stdout + res.stderr[-4000:]
    assert _report_line(res.stdout, REPORT).startswith(f"{REPORT}: published: ")
    return base


def _copy_published(published: Path, tmp_path: Path) -> tuple[Path, Path]:
    out, raw = tmp_path / "processed", tmp_path / "raw"
    shutil.copytree(published / "processed", out)
    shutil.copytree(published / "raw", raw)
    return out, raw


def test_failed_download_keeps_the_published_dataset(published, tmp_path):
    out, raw = _copy_published(published, tmp_path)
    ussc_pdf = (REPO / "raw" / USSC).glob("*.pdf")
    with serve() as server:
        url = server.url(PDF_PATH)
        env = _env(_write_catalog(tmp_path / "catalog.yaml", {REPORT: url}), raw)
        args = ["run", "--fetch", "--report", REPORT, "--out", str(out)]
        before_out, before_raw = _tree(out), _tree(raw)

        # the report moved: 404
        server.routes[PDF_PATH] = [Reply(404, b"<h1>Not Found</h1>", {"Content-Type": "text/html"})]
        gone = _run(args, tmp_path, env)
        line = _report_line(gone.stdout, REPORT)
        assert gone.returncode == 2, gone.stdout + gone.stderr[-4000:]  # unusable input
        assert line.startswith(f"{REPORT}: failed: ") and url in line, line
        assert "HTTP 404" in line and line.endswith("[http-404]"), line
        assert _tree(out) == before_out and _tree(raw) == before_raw

        # the URL now leads to a landing page
        server.routes[PDF_PATH] = [Reply(200, LANDING_PAGE,
                                         {"Content-Type": "text/html; charset=utf-8"})]
        html = _run(args, tmp_path, env)
        line = _report_line(html.stdout, REPORT)
        assert html.returncode == 2, html.stdout + html.stderr[-4000:]
        assert line.startswith(f"{REPORT}: failed: ") and url in line, line
        assert "an HTML page (text/html" in line and "Federal Prosecution" in line, line
        assert line.endswith("[html-instead-of-pdf]"), line
        assert _tree(out) == before_out and _tree(raw) == before_raw

        # two reports, one broken (404), one fine: the good one is still published
        server.routes[PDF_PATH] = [Reply(404, b"not found", {"Content-Type": "text/plain"})]
        _serve_pdf(server, "/ussc.pdf", next(ussc_pdf).read_bytes())
        env2 = _env(_write_catalog(tmp_path / "catalog2.yaml",
                                   {REPORT: url, USSC: server.url("/ussc.pdf")}), raw)
        both = _run(["run", "--fetch", "--out", str(out)], tmp_path, env2)
        assert both.returncode == 4, both.stdout + both.stderr[-4000:]  # partial
        line = _report_line(both.stdout, REPORT)
        assert line.startswith(f"{REPORT}: failed: ") and url in line, line
        assert line.endswith("[http-404]"), line
        assert _report_line(both.stdout, USSC).startswith(f"{USSC}: published: ")
        ussc = json.loads((out / USSC / "tables.json").read_text(encoding="utf-8"))
        assert sorted(ussc["tables"]) == sorted(
            ["key-figures", "sexual-contact", "method-of-production", "victim-relationship"])
        assert not ussc["failed"]
        assert {k: v for k, v in _tree(out).items() if k.startswith(f"{REPORT}/")} == \
            {k: v for k, v in before_out.items() if k.startswith(f"{REPORT}/")}


@pytest.mark.parametrize("variant, table_id, words", [
    ("bjs-missing-caption-table-07", "table-07",
     ["expected a caption 'TABLE 7'", "[caption-not-found]"]),
    ("bjs-shape-changed-table-03", "table-03",
     ["expected 4 rows, found 5 rows", "Transferred to another district", "[shape-mismatch]"]),
])
def test_broken_local_copy_is_refused_and_the_published_dataset_stays(
        published, tmp_path, variant_pdfs, variant, table_id, words):
    out, raw = _copy_published(published, tmp_path)
    pdf = variant_pdfs[variant]
    env = _env(_write_catalog(tmp_path / "catalog.yaml", {REPORT: None}), raw)
    before = _tree(out)
    res = _run(["run", "--report", REPORT, "--source", f"{REPORT}={pdf}", "--out", str(out)],
               tmp_path, env)
    assert res.returncode == 2, res.stdout + res.stderr[-4000:]
    line = _report_line(res.stdout, REPORT)
    assert line.startswith(f"{REPORT}: failed: 1 table(s) failed: "), line
    assert f"{pdf}, table {table_id}" in line, line  # the file and the table
    for w in words:
        assert w in line, (w, line)
    assert "the published dataset is unchanged" in line, line
    assert _tree(out) == before  # published dataset byte-identical
    rejected = list((out / "_rejected").iterdir())
    assert len(rejected) == 1 and rejected[0].name.startswith(f"{REPORT}-"), rejected
    kept = json.loads((rejected[0] / "tables.json").read_text(encoding="utf-8"))
    assert list(kept["failed"]) == [table_id] and len(kept["tables"]) == 9
