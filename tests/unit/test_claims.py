"""Narrative claims: numbers the text states, checked against the tables' cells."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from statlift.validate.claims import CellIndex, change_claims, count_claims, sentences, share_claims

CELLS = pd.DataFrame([
    # table-01: counts by year
    ("table-01", "All offenses", "2004 | Number", "2972", "count", "2,972"),
    ("table-01", "All offenses", "2013 | Number", "4579", "count", "4,579"),
    ("table-01", "Production", "2004 | Number", "218", "count", "218"),
    ("table-01", "Production", "2013 | Number", "643", "count", "643"),
    # table-03: a total with counts and percents
    ("table-03", "Total", "Number", "36080", "count", "36,080"),
    ("table-03", "Prosecuted", "Number", "21569", "count", "21,569"),
    ("table-03", "Prosecuted", "Percent", "59.8", "percent", "59.8%"),
    ("table-03", "Declined for prosecution", "Number", "13125", "count", "13,125"),
    ("table-03", "Declined for prosecution", "Percent", "36.4", "percent", "36.4%"),
], columns=["table_id", "row_path", "column_path", "value", "unit", "raw_text"])
INDEX = CellIndex(CELLS)


def test_a_stated_change_is_recomputed_from_the_cells():
    [ok] = change_claims("Suspects increased by 54%, from 2,972 to 4,579 suspects.", 1, INDEX)
    assert (ok.verdict, ok.computed) == ("supported", "54.07%")
    assert [c.raw_text for c in ok.cells] == ["2,972", "4,579"]
    [bad] = change_claims("Suspects increased by 64%, from 2,972 to 4,579 suspects.", 1, INDEX)
    assert bad.verdict == "contradicted" and "not 64%" in bad.reason
    [down] = change_claims("Suspects decreased 54% from 2,972 to 4,579.", 1, INDEX)
    assert down.verdict == "contradicted"  # the cells go up


def test_a_year_range_is_not_the_change():
    [c] = change_claims("Production increased 195% from 2004 to 2013 (from 218 to 643 "
                        "suspects).", 2, INDEX)
    assert c.stated == "increased 195% from 218 to 643" and c.verdict == "supported"


def test_numbers_the_tables_do_not_print_are_not_resolvable():
    [c] = change_claims("It grew 28%, from 2,901 to 3,713.", 2, INDEX)
    assert c.verdict == "not resolvable" and "2,901 and 3,713 not printed" in c.reason
    [n] = count_claims("A total of 20,720 were convicted.", 2, INDEX, set())
    assert n.verdict == "not resolvable"
    [k] = count_claims("A total of 36,080 were concluded.", 2, INDEX, set())
    assert k.verdict == "supported" and k.cells[0].table_id == "table-03"


def test_shares_of_a_printed_total():
    text = ("Of the 36,080 suspects in matters concluded, 21,569 (60%) were prosecuted and "
            "13,125 (38%) were declined.")
    claims = share_claims(text, 2, INDEX)
    assert [(c.stated, c.verdict) for c in claims] == [
        ("21,569 (60%) of 36,080", "supported"), ("13,125 (38%) of 36,080", "contradicted")]
    [named] = share_claims("Of the 36,080 suspects, 36% were declined for prosecution.", 2,
                           INDEX)
    assert named.verdict == "supported" and named.cells[0].raw_text == "36.4%"
    [vague] = share_claims("Of the 36,080 suspects, 12% were something else.", 2, INDEX)
    assert vague.verdict == "not resolvable"


def test_sentences_keep_decimals_and_abbreviations():
    text = "Cases rose 3.3% in the U.S. district courts. Then 11.6 years. No number here."
    assert sentences(text) == ["Cases rose 3.3% in the U.S. district courts.",
                               "Then 11.6 years."]


MORE = pd.DataFrame([
    ("key", "Offenders FY 2005", "Value", "98", "count", "98"),
    ("key", "Offenders FY 2019", "Value", "512", "count", "512"),
    ("key", "Within range FY 2005", "Value", "83.3", "percent", "83.3%"),
    ("key", "Within range FY 2019", "Value", "30.7", "percent", "30.7%"),
    ("key", "Average sentence", "Value", "23", "years", "23 years"),
    ("other", "No contact", "N", "98", "count", "98"),
    ("t10", "Mean prison sentence", "2004", "33.7", "months", "33.7 mos."),
    ("t10", "Mean prison sentence", "2013", "66.1", "months", "66.1 mos."),
    ("t10", "Defendants", "2004", "34", "count", "34"),
    ("t10", "Production", "2004", "156.0", "months", "156.0 mos."),
    ("t10", "Production", "2013", "320.7", "months", "320.7 mos."),
], columns=["table_id", "row_path", "column_path", "value", "unit", "raw_text"])
MORE_INDEX = CellIndex(MORE)


def test_the_noun_form_of_a_change_with_words_between_from_and_to():
    [c] = change_claims("This contributed to a 422% increase in the number of offenders "
                        "sentenced, from 98 offenders in FY 2005 to 512 offenders in FY 2019.",
                        1, MORE_INDEX)
    assert (c.kind, c.verdict, c.computed) == ("change", "supported", "422.45%")
    assert [x.row_path for x in c.cells] == ["Offenders FY 2005", "Offenders FY 2019"]
    [bad] = change_claims("a 400% increase, from 98 offenders in FY 2005 to 512.", 1,
                          MORE_INDEX)
    assert bad.verdict == "contradicted" and bad.number == "400"


def test_a_direction_without_a_stated_change():
    [c] = change_claims("The rate has decreased since FY 2005, from 83.3% to 30.7% in FY 2019.",
                        1, MORE_INDEX)
    assert (c.kind, c.stated, c.verdict) == ("direction", "decreased from 83.3% to 30.7%",
                                             "supported")
    [up] = change_claims("The rate has increased since FY 2005, from 83.3% to 30.7%.", 1,
                         MORE_INDEX)
    assert up.verdict == "contradicted" and "not a increased" in up.reason


def test_a_bounded_change_is_checked_as_the_bound():
    cells = pd.DataFrame([("t", "A", "2007", "2901", "count", "2,901"),
                          ("t", "A", "2013", "2905", "count", "2,905")],
                         columns=MORE.columns)
    [c] = change_claims("It grew less than 1% (from 2,901 to 2,905).", 1, CellIndex(cells))
    assert c.stated == "grew less than 1% from 2,901 to 2,905" and c.verdict == "supported"
    [c] = change_claims("It grew more than 1% (from 2,901 to 2,905).", 1, CellIndex(cells))
    assert c.verdict == "contradicted"


def test_rounded_numbers_of_the_text_resolve_to_one_row():
    # 34 is printed exactly elsewhere (a count): the row that prints 33.7 and 66.1 is meant
    [c] = change_claims("The mean term also increased, from 34 to 66 months.", 1, MORE_INDEX)
    assert [x.raw_text for x in c.cells] == ["33.7 mos.", "66.1 mos."]
    # the text divided its own rounded numbers: (321 - 156) / 156 = 105.8% -> 106%
    [c] = change_claims("It increased 106%, from 156 to 321 months.", 1, MORE_INDEX)
    assert c.verdict == "supported" and c.computed == "105.58%"


def test_numbers_with_a_unit_word_and_bounds():
    claims = count_claims("It leads to sentences of 23 years on average; sentences in excess "
                          "of 300 months were imposed on more than 2,000 offenders.", 1,
                          MORE_INDEX, set())
    assert [(c.stated, c.verdict) for c in claims] == [("23 years", "supported")]
    assert count_claims("if the victim was 14 to 17 years old", 1, MORE_INDEX, set()) == []
    [months] = count_claims("A sentence of 23 months.", 1, MORE_INDEX, set())
    assert months.verdict == "not resolvable"  # 23 is printed, but in years


def _pdf(path, paragraphs: list[str], size: float = 10) -> str:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=letter)
    y = 720.0
    for lines in paragraphs:
        for line in lines.split("\n"):
            c.setFont("Helvetica", size)
            c.drawString(72, y, line)
            y -= size * 1.2
        y -= size * 1.5  # a paragraph break
    c.save()
    return str(path)


def test_narrative_paragraphs_and_sentence_boxes(tmp_path):
    pytest.importorskip("reportlab")
    from statlift.extractors.pdfdoc import Document
    from statlift.validate.claims import narrative

    pdf = _pdf(tmp_path / "n.pdf", [
        "U.S. Department of Justice",
        "The number of suspects increased by 54%, from 2,972 to\n4,579 suspects. A second "
        "sentence with 37,105 in it\ncontinues here."])
    with Document.open(pdf) as doc:
        passages = narrative(doc.page(1), [])
    assert [p.text[:26] for p in passages] == ["U.S. Department of Justice",
                                               "The number of suspects inc"]
    [(first, box1), (second, box2)] = list(passages[1].sentences())
    assert first.endswith("4,579 suspects.") and second.startswith("A second sentence")
    assert box1[1] < box2[1] < box1[3]  # the two sentences share the second line
    assert box2[3] > box1[3]  # and the second runs on to the third


def test_a_contradicted_claim_is_a_finding_in_the_audit(tmp_path):
    pytest.importorskip("reportlab")
    from statlift.acquire.hashing import sha256_file
    from statlift.outputs.processed import ReportText
    from statlift.schemas.specs import ReportSpec
    from statlift.validate.audit import audit_report, run_audit

    pdf = _pdf(tmp_path / "r.pdf", [
        "Suspects increased by 64%, from 2,972 to 4,579 suspects. A total of\n"
        "37,105 suspects were referred. Of them, 12,345 had no record."])
    cells = pd.DataFrame([{"table_id": "table-01", "row_path": r, "column_path": c,
                           "value": v, "unit": "count", "raw_text": raw, "missing_code": "",
                           "decimals": 0, "flags": "", "engines": "words;pdfplumber",
                           "page": 1, "bbox": f"100,{y},140,{y + 9}"}
                          for r, c, v, raw, y in [("All", "2004", "2972", "2,972", 100),
                                                  ("All", "2013", "4579", "4,579", 100),
                                                  ("All", "Total", "37105", "37,105", 100)]])
    spec = ReportSpec(report_id="r", spec_version=1, tables=[
        {"table_id": "table-01", "caption": "TABLE 1"}])
    tables = {"report_id": "r", "source_sha256": sha256_file(pdf), "source_path": pdf,
              "tables": {}}
    audit = audit_report(spec, cells, tables)
    doc = audit.to_json()
    assert doc["summary"]["claims"] == {"supported": 1, "contradicted": 1, "not resolvable": 1}
    assert doc["summary"]["findings"] == 1 == doc["summary"]["unacknowledged"]
    assert doc["summary"]["by_class"] == {"source inconsistency": 1}
    [f] = doc["findings"]
    assert (f["check"], f["check_id"], f["table_id"]) == (
        "narrative_claims", "table-01/narrative_claims#C001", "table-01")
    assert (f["printed"], f["expected"], f["severity"]) == (64.0, 54.07, "warning")
    assert "Suspects increased by 64%" in f["message"] and "not 64%" in f["message"]
    assert [c["raw_text"] for c in f["cells"]] == ["2,972", "4,579"]
    claims = doc["claims"]
    assert [(c["id"], c["verdict"], c["finding"]) for c in claims] == [
        ("C001", "contradicted", "F001"), ("C002", "supported", None),
        ("C003", "not resolvable", None)]
    assert all(c["page"] == 1 and len(c["box"]) == 4 for c in claims)
    assert doc["summary"]["tables"]["table-01"]["findings"] == 1
    # a reader that did not confirm a cell makes it an extraction suspect, as for any check
    cells.loc[0, "flags"] = "unconfirmed"
    assert audit_report(spec, cells, tables).findings[0].cls == "extraction suspect"
    cells.loc[0, "flags"] = ""
    # written: audit.json with the claims, audit.html with the sentence crop
    out = tmp_path / "out"
    text = ReportText(tables, cells, {})
    summary = run_audit(spec, text, out)
    assert summary["claims"]["contradicted"] == 1
    assert json.loads((out / "audit.json").read_text())["claims"][0]["finding"] == "F001"
    html = (out / "audit.html").read_text(encoding="utf-8")
    assert 'alt="the sentence on page 1" src="data:image/png;base64,' in html
    # no PDF: the text is not checked, and the audit says so
    gone = dict(tables, source_path=str(tmp_path / "missing.pdf"))
    s = audit_report(spec, cells, gone).summary
    assert s["claims_not_checked"].startswith("the PDF the tables were read from is not")
    assert s["claims"] == {"supported": 0, "contradicted": 0, "not resolvable": 0}
    # another PDF at that path, or no PDF at all: not checked, said why, no traceback
    other = _pdf(tmp_path / "other.pdf", ["Suspects increased by 64%, from 2,972 to 4,579."])
    s = audit_report(spec, cells, dict(tables, source_path=other)).summary
    assert "is not the PDF the tables were read from" in s["claims_not_checked"]
    assert s["findings"] == 0
    junk = tmp_path / "junk.pdf"
    junk.write_text("not a pdf")
    s = audit_report(spec, cells, dict(tables, source_path=str(junk), source_sha256=None)).summary
    assert s["claims_not_checked"].startswith(f"{junk}: the text layer cannot be read")


def test_a_change_stated_after_its_numbers():
    [c] = change_claims("The mean term also increased, from 34 to 66 months (up 94%).", 1,
                        MORE_INDEX)
    assert (c.kind, c.stated, c.verdict) == ("change", "increased 94% from 34 to 66",
                                             "supported")
    assert "the numbers as the sentence rounds them give 94.12%" in c.reason  # cells: 96.14%
    [bad] = change_claims("It increased, from 34 to 66 months (up 50%).", 1, MORE_INDEX)
    assert bad.verdict == "contradicted"


def test_a_sentence_running_on_into_the_next_column_is_one_sentence(tmp_path):
    pytest.importorskip("reportlab")
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    from statlift.extractors.pdfdoc import Document
    from statlift.validate.claims import narrative

    left = ["Filler text of the first column, line one.", "More filler text for the column two.",
            "Still more filler text, line number three.", "Prosecutions grew by 87% between 2004",
            "and 2013, from 314 to 586 defendants in"]
    right = ["all of the districts. The next sentence is", "here and runs on for a while longer.",
             "Filler text of the second column, line 3.", "Filler text of the second column, end."]
    pdf = tmp_path / "two.pdf"
    c = canvas.Canvas(str(pdf), pagesize=letter)
    c.setFont("Helvetica", 10)
    for x, lines in ((50, left), (320, right)):
        for i, line in enumerate(lines):
            c.drawString(x, 700 - 12 * i, line)
    c.save()
    cells = pd.DataFrame([("t", "Sex trafficking", "2004", "314", "count", "314"),
                          ("t", "Sex trafficking", "2013", "586", "count", "586")],
                         columns=MORE.columns)
    with Document.open(str(pdf)) as doc:
        passages = narrative(doc.page(1), [])
    sentences_ = [s for p in passages for s, _ in p.sentences()]
    [joined] = [s for s in sentences_ if "87%" in s]
    assert joined.endswith("from 314 to 586 defendants in all of the districts.")
    [claim] = change_claims(joined, 1, CellIndex(cells))
    assert claim.verdict == "supported" and claim.computed == "86.62%"
