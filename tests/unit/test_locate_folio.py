"""A table that ends close to the page's foot keeps the running footer's page number out of its
source line (locate._scan): in the re-typeset first release, table 4 sits at the foot of the
right-hand column, and the page's last line, "OCTOBER 2017 | ... 3", clipped to that column, is
"3", which was read as the end of the table's source line ("... fiscal years 2004–2013. 3")."""
from __future__ import annotations

from statlift.extractors.locate import locate_table
from statlift.extractors.pdfdoc import Document
from statlift.extractors.table import extract_table
from statlift.extractors.textlines import page_lines
from statlift.schemas.specs import spec_for

SOURCE = ("Source: Bureau of Justice Statistics, based on data from the Executive Office for "
          "U.S. Attorneys, National Legal Information Office Network System database, fiscal "
          "years 2004–2013.")


def test_the_page_number_under_a_table_is_not_its_source_lines_end(variant_pdfs):
    report = spec_for("bjs-ncj250746")
    spec = next(t for t in report.tables if t.table_id == "table-04")
    with Document.open(variant_pdfs["bjs-revised-v1"]) as doc:
        region = locate_table(doc, "TABLE 4")
        assert region is not None
        last = page_lines(doc.page(region.page).words)[-1]
        # the case this is about: the page's last line holds the folio, right under the table
        assert last.runs[-1].text == str(region.page) and last.top < region.bottom + 3.0
        assert region.footer_lines[-1].text.endswith("2004–2013.")
        assert region.bottom < last.bottom  # (the box stops at the source line, not the folio)
        table = extract_table(doc, report, spec)
    assert table.meta.source == SOURCE


def test_a_table_far_from_the_foot_reads_the_same_source(variant_pdfs):
    """The shipped typesetting of the same table, whose source line ends well above the folio."""
    report = spec_for("bjs-ncj250746")
    spec = next(t for t in report.tables if t.table_id == "table-04")
    with Document.open(variant_pdfs["bjs-two-column-helvetica"]) as doc:
        assert extract_table(doc, report, spec).meta.source == SOURCE
