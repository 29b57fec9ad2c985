"""audit.html from a small tree (the demo report of NCJ 250746): the publication's title in the
header, the PDF's and the links' provenance said, "not checked" apart from clean, numbers as
printed, "1 finding" / "2 findings", everything escaped, one stylesheet shared with the site."""
from __future__ import annotations

import doctest
import re
from html import unescape
from pathlib import Path

import pytest

from statlift.outputs import templates
from statlift.outputs.audit_html import render_audit_html
from statlift.outputs.catalog import entries_by_id
from statlift.outputs.demo import SHA, write_demo_tree
from statlift.outputs.processed import ReportText
from statlift.outputs.site import build_site
from statlift.outputs.templates import ENV

BJS = "bjs-ncj250746"
TITLE = "Federal Prosecution of Commercial Sexual Exploitation of Children Cases, 2004-2013"


def _finding(n: int, acknowledged: str = "Kept as printed.") -> dict:
    cells = [{"table_id": "table-01", "row_path": row, "column_path": col, "raw_text": raw,
              "page": 3, "bbox": "200.0,120.0,230.0,129.0", "engines": "words", "flags": ""}
             for row, col, raw in [
                 ("All commercial sexual exploitation of children offenses",
                  "2004–2013 | Number", "37,105"),
                 ("Child pornography production", "2004–2013 | Number", "3,000"),
                 ("Child pornography production", "2004–2013 | Percent", "8.1")]]
    return {"id": f"F{n:03d}", "check_id": f"table-01/percent_matches_count#{n}",
            "check": "percent_matches_count", "table_id": "table-01",
            "description": "Child pornography production | 2004–2013 | Percent <= 100",
            "class": "source inconsistency", "severity": "info", "acknowledged": acknowledged,
            "expected": 8.085099043, "printed": 8.1, "tolerance": 0.05, "cells": cells,
            "culprit": {"table_id": "table-01", "row_path": "Child pornography production",
                        "column_path": "2004–2013 | Percent", "printed": 8.1,
                        "value_that_fits": 8.0, "fixes": 1, "breaks": 0, "unique": True},
            "message": "demo"}


def _doc(findings: list[dict], table_02_checks: int = 0) -> dict:
    tables = {"table-01": {"checks": 8, "passed": 8 - len(findings), "findings": len(findings),
                           "not_additive": None, "schema_failures": 0},
              "table-02": {"checks": table_02_checks, "passed": table_02_checks, "findings": 0,
                           "not_additive": "Multi-response: a suspect may be counted in several "
                                           "rows." if not table_02_checks else None,
                           "schema_failures": 0}}
    return {"summary": {"report_id": BJS, "source_sha256": SHA[BJS],
                        "checks": 8 + table_02_checks,
                        "passed": 8 + table_02_checks - len(findings),
                        "findings": len(findings), "unacknowledged": 0, "by_class": {},
                        "schema_failures": 0, "tables": tables},
            "findings": findings, "schema_failures": [], "checks": []}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    return write_demo_tree(tmp_path_factory.mktemp("tree")) / "processed" / BJS


def _render(report: Path, doc: dict, entry: dict | None = None,
            text: ReportText | None = None) -> str:
    text = text or ReportText.read(report)
    return render_audit_html(doc, text, {"F001": "iVBORw0KGgo="}, entry)


def test_header_names_the_publication_the_pdf_and_the_unverified_links(report):
    html = _render(report, _doc([_finding(1)]))  # entry from the catalog in use
    header = unescape(html[html.index("<header>"):html.index("</header>")])
    assert f"<h1>{TITLE}</h1>" in header and BJS in header and SHA[BJS] in header
    link = header.index("publisher's page</a>")
    assert "not verified" in header[link:link + 200]
    assert "Offline reconstruction typeset from the published report text" in header
    assert "<title>statlift audit · bjs-ncj250746</title>" in html


def test_a_pdf_that_is_not_the_shipped_copy_is_not_called_the_reconstruction(report):
    entry = dict(entries_by_id()[BJS], expected_sha256="0" * 64)
    html = unescape(_render(report, _doc([_finding(1)]), entry))
    assert "not the copy shipped with statlift" in html
    assert "Offline reconstruction typeset" not in html


def test_a_report_outside_the_catalog_is_shown_by_its_id(report):
    html = _render(report, _doc([]), entry={})
    assert f"<h1>{BJS}</h1>" in html and "publisher" not in html


def test_table_without_checks_is_not_checked_with_the_reason(report):
    html = _render(report, _doc([]))
    rows = dict(re.findall(r'<td class="id"><b>([^<]+)</b></td>(.*?)</tr>', html, re.DOTALL))
    assert "not checked" in rows["table-02"] and "Multi-response: a suspect" in rows["table-02"]
    assert ">OK<" not in rows["table-02"] and "clean" not in rows["table-02"]
    assert ">OK<" in rows["table-01"] and "not checked" not in rows["table-01"]
    checked = _render(report, _doc([], table_02_checks=4))
    assert "not checked" not in checked
    # a phone, where the page and checks columns are hidden, says them under the status
    assert '<span class="meta narrow-only">p3 · 8/8 checks passed</span>' in rows["table-01"]


def test_numbers_as_printed(report):
    html = _render(report, _doc([_finding(1)]))
    table = html[html.index('<div class="tablewrap">'):]
    assert '<td class="involved">37,105</td>' in table and ">37105<" not in table
    assert "<td>100%</td>" in table  # a cell outside the check, as printed too
    assert '<td class="culprit">8.1</td>' in table
    assert "expected <b>8.085</b>" in html and "<b>8</b> would make 1 failing check hold" in html
    csv = (report / "table-01.csv").read_text(encoding="utf-8")
    assert "37105" in csv and "37,105" not in csv  # the data stay as they are


def test_one_finding_two_findings(report):
    one = _render(report, _doc([_finding(1)]))
    assert re.search(r"<b class=\"warn\">1</b>finding</div>", one)
    assert "1 finding, acknowledged" in one and "1 findings" not in one
    two = _render(report, _doc([_finding(1), _finding(2)]))
    assert re.search(r"<b class=\"warn\">2</b>findings</div>", two)
    assert "2 findings, acknowledged" in two


def test_everything_is_escaped(report):
    finding = _finding(1, acknowledged='<script>alert("x")</script>')
    finding["description"] = "a < b & <b>c</b>"
    html = _render(report, _doc([finding]), entry={"title": "<i>T</i> & Co", "publisher": "P",
                                                     "landing_url": 'https://x/"><script>'})
    assert "<script" not in html and "<i>T</i>" not in html
    assert "&lt;i&gt;T&lt;/i&gt; &amp; Co" in html and "a &lt; b &amp; &lt;b&gt;c&lt;/b&gt;" in html
    assert 'href="https://x/&#34;&gt;&lt;script&gt;"' in html


def test_audit_page_and_site_share_one_stylesheet(report, tmp_path):
    css, _, _ = ENV.loader.get_source(ENV, "statlift.css")
    assert css.strip() and "url(" not in css and "@import" not in css
    html = _render(report, _doc([_finding(1)]))
    assert html.count("<style>") == 1 and css in html and "<link" not in html
    site = build_site(report.parent, tmp_path / "site")
    assert css in site.read_text(encoding="utf-8")


def test_templates_docstring_examples():
    result = doctest.testmod(templates)
    assert result.failed == 0 and result.attempted > 0


def _tied(finding: dict) -> dict:
    """`finding` with two tied candidates: production and possession explain it equally."""
    finding = dict(finding, acknowledged=None, severity="warning")
    finding["culprit"] = dict(finding["culprit"], row_path="Child pornography production",
                              column_path="2004–2013 | Number", printed=3000,
                              value_that_fits=3604, unique=False,
                              tied=[{"table_id": "table-01",
                                     "row_path": "All commercial sexual exploitation of children "
                                                 "offenses",
                                     "column_path": "2004–2013 | Number", "printed": 37105,
                                     "value_that_fits": 36501}])
    return finding


def test_tied_candidates_are_all_named_and_none_is_picked(report):
    html = _render(report, _doc([_tied(_finding(1))]))
    assert "Tied candidates" in html and "Most likely wrong cell" not in html
    start = html.index('<ul class="tied">')
    tied = html[start:html.index("</ul>", start)]
    assert "Child pornography production | 2004–2013 | Number" in tied and "<b>3,604</b>" in tied
    assert "All commercial sexual exploitation of children offenses | 2004–2013 | Number" in tied
    assert "<b>37,105</b>" in tied and "<b>36,501</b>" in tied
    table = html[html.index('<div class="tablewrap">'):]
    assert '<td class="culprit">37,105</td>' in table  # both boxed as candidates
    assert "tied candidates boxed red" in html


def _claims_doc(findings: list[dict], claims: list[dict], counts: dict) -> dict:
    doc = _doc(findings)
    doc["summary"].update(claims=counts, claims_not_checked=None)
    doc["claims"] = claims
    return doc


def _claim(n: int, verdict: str, finding: str | None = None) -> dict:
    return {"id": f"C{n:03d}", "page": 2, "kind": "share", "stated": f"{n}0% of 37,105",
            "verdict": verdict, "computed": "72.19%", "reason": f"reason {n}",
            "sentence": f"Sentence number {n} states <{n}0%> of 37,105.",
            "box": [50.0, 96.0, 290.0, 130.0], "finding": finding,
            "cells": [{"table_id": "table-01", "row_path": "Child pornography production",
                       "column_path": "2004–2013 | Percent", "raw_text": "8.1%"}]}


def test_claims_are_listed_with_sentence_page_and_verdict(report):
    contradicted = dict(_finding(2, acknowledged=None), severity="warning",
                        check="narrative_claims", culprit=None,
                        check_id="table-01/narrative_claims#C002")
    claims = [_claim(1, "supported"), _claim(2, "contradicted", "F002"),
              _claim(3, "not resolvable")]
    html = _render(report, _claims_doc([_finding(1), contradicted], claims,
                                       {"supported": 1, "contradicted": 1, "not resolvable": 1}))
    section = html[html.index('<h2 id="claims">'):]
    assert "1 supported, 1 contradicted, 1 not resolvable" in section
    blocks = re.findall(r'<div class="claim">(.*?)</ul></div>', section, re.DOTALL)
    assert len(blocks) == 3 and all("page 2 · 1 claim<" in b for b in blocks)
    items = dict(re.findall(r'<li id="(C\d+)">(.*?)</li>', section, re.DOTALL))
    assert list(items) == ["C001", "C002", "C003"]  # not resolvable listed too
    assert "Sentence number 3 states &lt;30%&gt; of 37,105." in blocks[2]
    assert ">not resolvable<" in items["C003"] and ">contradicted<" in items["C002"]
    assert '<span class="badge ok">supported</span>' in items["C001"]
    assert "<b>30% of 37,105</b> · reason 3 · cells: table-01 8.1%" in items["C003"]
    assert '<a href="#F002">F002</a>' in items["C002"]
    finding = html[html.index('id="F002"'):html.index('<h2 id="claims">')]
    assert "A claim of the text is contradicted by the tables (C002, page 2)" in finding
    assert '<blockquote class="sentence">Sentence number 2 states &lt;20%&gt;' in finding
    assert "States <b>20% of 37,105</b>; reason 2." in finding
    # the stat counts contradicted claims: "1/3 supported" read as two claims wrong
    assert re.search(r'<b class="err">1</b>claim of the text contradicted<span class="sub">of 3: '
                     r'1 supported, 1 not resolvable</span>', html)


def test_a_sentence_with_several_claims_is_shown_once_with_each_claim_under_it(report):
    claims = [_claim(n, "supported") for n in (1, 2, 3)] + [_claim(4, "not resolvable")]
    for c in claims[:3]:
        c["sentence"] = "Of the 37,105 suspects, 10% ..., 20% ... and 30% ..."
    html = _render(report, _claims_doc([], claims, {"supported": 3, "contradicted": 0,
                                                    "not resolvable": 1}))
    section = html[html.index('<h2 id="claims">'):]
    assert section.count("Of the 37,105 suspects, 10% ..., 20% ... and 30% ...") == 1
    blocks = re.findall(r'<div class="claim">(.*?)</ul></div>', section, re.DOTALL)
    assert len(blocks) == 2 and "page 2 · 3 claims<" in blocks[0]
    assert re.findall(r'<li id="(C\d+)">', blocks[0]) == ["C001", "C002", "C003"]
    assert re.findall(r'<li id="(C\d+)">', blocks[1]) == ["C004"]
    assert re.search(r'<b class="ok">0</b>claims of the text contradicted<span class="sub">of 4: '
                     r'3 supported, 1 not resolvable</span>', html)


def test_a_text_not_checked_says_why(report):
    doc = _claims_doc([], [], {"supported": 0, "contradicted": 0, "not resolvable": 0})
    doc["summary"]["claims_not_checked"] = "the PDF is not available (x.pdf)"
    html = _render(report, doc)
    assert "The running text was not checked: the PDF is not available (x.pdf)." in html


def test_tables_come_from_memory_not_from_the_staged_files(report):
    text = ReportText.read(report)
    wide = text.wides["table-01"].copy()
    wide.iloc[0, 1] = "99999"  # only in memory: the CSV on disk still says 37105
    cells = text.cells[text.cells["raw_text"] != "37,105"]
    html = _render(report, _doc([_finding(1)]),
                   text=ReportText(text.doc, cells, dict(text.wides, **{"table-01": wide})))
    table = html[html.index('<div class="tablewrap">'):]
    assert '<td class="involved">99999</td>' in table
    assert "37105" in (report / "table-01.csv").read_text(encoding="utf-8")


def _verification(tmp_path: Path) -> Path:
    """verification.html of a transcription with a mismatch, a row label that matches nothing
    (two values) and two printed cells left out; no PDF at hand, so no crops."""
    import pandas as pd

    from statlift.outputs.verification import write_verification
    from statlift.validate.verify import COLUMNS, PublishedReport, Verification

    def line(row, col, typed, printed, verdict, kind="", page=None, where=""):
        return dict(zip(COLUMNS, ["table-01", row, col, typed, printed, verdict, kind, page,
                                  "", where], strict=True))
    lines = pd.DataFrame([
        line("Total", "2004 | Number", "2,972", "2,972", "match", page=2.0, where="t.csv:2"),
        line("Total", "2013 | Number", "4,597", "4,579", "mismatch", "transposed digits", 2.0,
             "t.csv:2"),
        line("Child sex traffic", "2004 | Number", "488", "", "unmatched-label", "row label",
             where="t.csv:5"),
        line("Child sex traffic", "2013 | Number", "1,031", "", "unmatched-label", "row label",
             where="t.csv:5"),
        line("Child sex trafficking", "2004 | Number", "", "488", "missing-in-transcription",
             page=2.0),
        line("Child sex trafficking", "2013 | Number", "", "1,031", "missing-in-transcription",
             page=2.0)], columns=COLUMNS)
    v = Verification(BJS, "t.csv", lines, ["table-01"],
                     {"table-01": {"rows": ["Child sex trafficking"], "columns": []}})
    report = PublishedReport(BJS, tmp_path, TITLE, str(tmp_path / "missing.pdf"), {}, {})
    write_verification(v, report, tmp_path / "out")
    return tmp_path / "out" / "verification.html"


def test_verification_page_words_and_groups(tmp_path):
    html = unescape(_verification(tmp_path).read_text(encoding="utf-8"))
    stats = dict((label, int(n)) for n, label in
                 re.findall(r'<div class="stat"><b class="\w+">(\d+)</b>([^<]+)</div>', html))
    assert stats == {"match": 1, "mismatch": 1, "missing in the transcription": 2,
                     "not in the table": 0, "with an unmatched label": 2}
    assert "missing-in-transcription" not in html.split("<main>")[1].split("</h3>")[0]
    assert "page 0" not in html and "on page 2" in html
    # the unmatched label once, with its values counted, the printed row it likely means and
    # the line to put in a --map file
    assert html.count("row “Child sex traffic”") == 1 and "2 values not compared" in html
    assert "Printed rows no typed label matched: “Child sex trafficking”" in html
    assert "table-01: {rows: {'Child sex traffic': 'Child sex trafficking'}}" in html
    # the cells left out: one group for the table, every cell listed
    assert html.count("values missing in the transcription") == 1
    assert "table-01 · 2 values missing in the transcription" in html
    group = html[html.index('<table class="cellslist">'):]
    assert "<td>488</td>" in group and "<td>1,031</td>" in group


def test_a_crop_around_a_sentence_does_not_show_the_next_lines_cut_in_half():
    """A crop with no region (a sentence, a callout figure) keeps a sliver above and below its
    box; a crop of a table region keeps its margin."""
    import base64
    import io

    from PIL import Image

    from statlift.validate.crops import SCALE, TIGHT_MARGIN_Y, Highlight, highlight_crops
    pdf = str(next((Path(__file__).parents[2] / "raw" / "ussc-cp-production-2021")
                   .glob("*.pdf")))
    box = (60.0, 100.0, 300.0, 136.0)
    crops = highlight_crops(pdf, [Highlight("sentence", 1, ((box, "#d62728"),)),
                                  Highlight("table", 1, ((box, "#d62728"),),
                                            (50.0, 90.0, 320.0, 200.0))])
    size = {k: Image.open(io.BytesIO(base64.b64decode(v))).size for k, v in crops.items()}
    assert size["sentence"][1] == round((136 - 100 + 2 * TIGHT_MARGIN_Y) * SCALE)
    assert size["sentence"][0] == round((300 - 60 + 2 * 8) * SCALE)
    assert size["table"] == (round((320 - 50 + 16) * SCALE), round((200 - 90 + 16) * SCALE))


def test_a_phone_gets_a_close_up_of_the_boxed_cells(report):
    """The whole crop fits the column; on a phone a close up of the culprit's neighbourhood
    (the crop's pixels around the cell's box, as an SVG view of the same image) comes under it,
    hidden on a wide screen."""
    import base64
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (1000, 300), "white").save(buf, format="PNG")
    crop = base64.b64encode(buf.getvalue()).decode("ascii")
    text = ReportText.read(report)
    text.doc["tables"]["table-01"]["bbox"] = [50.0, 100.0, 550.0, 250.0]
    finding = _finding(1)
    for c in finding["cells"]:
        c["bbox"] = "400.0,200.0,420.0,210.0" if c["column_path"].endswith("Percent") else \
            "60.0,110.0,80.0,120.0"
    html = render_audit_html(_doc([finding]), text, {"F001": crop})
    assert f'<div class="cropwrap"><img alt="page crop of table-01" src="data:image/png;base64,' \
           f'{crop}"></div>' in html
    # the culprit (8.1, Percent) at (410, 205) pt is pixel (736, 226) of the crop (origin 42, 92
    # pt, 2 px per pt): a 400 x 180 window around it, kept inside the 1000 x 300 crop
    assert '<svg class="closeup" xmlns="http://www.w3.org/2000/svg" viewBox="536 120 400 180"' \
        in html
    assert f'<image href="data:image/png;base64,{crop}" width="1000" height="300"/>' in html
    assert html.count("<img ") == 1  # one crop, one image; the close up is a view of it
    css, _, _ = ENV.loader.get_source(ENV, "statlift.css")
    phone = css[css.index("@media (max-width:600px)"):]
    assert ".closeup{display:none}" in css[:css.index("@media")]
    assert "svg.closeup{display:block;" in phone


def test_finding_table_header_as_printed(report):
    html = _render(report, _doc([_finding(1)]))
    table = html[html.index('<div class="tablewrap">'):]
    head = table[:table.index("<td")]
    # the check's two columns under one "2004–2013" spanner, not "2004–2013 | Number" twice
    assert '<th colspan="2" class="span">2004–2013</th>' in head
    assert '<th title="2004–2013 | Number">Number</th>' in head
    assert '<th title="2004–2013 | Percent">Percent</th>' in head
    # a narrow screen breaks the check id after its slash, not inside "table-01"
    assert "<code>table-01/<wbr>percent_matches_count#1</code></h3>" in html
