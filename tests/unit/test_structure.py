"""structure.read_structure: the layout reader's header and row rules over a reader's cells."""
import pytest

from statlift.extractors.cellgrid import TableCell
from statlift.extractors.discover import discover_tables
from statlift.extractors.layout import LayoutError
from statlift.extractors.pdfdoc import Word
from statlift.extractors.structure import read_structure
from tests.unit.test_discover import ICDAR


def _cell(row: int, col: int, text: str, x0: float, col_span: int = 1) -> TableCell:
    top = 20.0 + 12 * row
    word = Word(text, x0, x0 + 6 * len(text), top, top + 9, 9.0, "Helvetica")
    return TableCell(row, col, 1, col_span, text, (word,))


def test_values_only_in_spanning_cells_is_a_layout_error_not_a_crash():
    cells = [_cell(0, 0, "Item", 10), _cell(0, 1, "Amount", 100, col_span=2),
             _cell(1, 0, "Apples", 10), _cell(1, 1, "12", 100, col_span=2),
             _cell(2, 0, "Pears", 10), _cell(2, 1, "7", 100, col_span=2)]
    with pytest.raises(LayoutError, match="no column of values"):
        read_structure(cells)


@pytest.mark.skipif(not ICDAR.exists(), reason="ICDAR 2013 EU subset not beside the repo")
def test_discover_reads_a_page_of_chart_labels_without_a_traceback():
    # eu-015's pie-chart labels once cut into cells whose values all spanned columns
    found = discover_tables(ICDAR / "eu-015.pdf")
    assert found and all(t.shape[0] > 0 for t in found)


def _body(indent: float, label: str, *values: str, top: float = 0.0):
    from statlift.extractors.layout import BodyLine
    from statlift.extractors.textlines import Line, Run

    def run(text: str, x0: float) -> Run:
        return Run([Word(text, x0, x0 + 5 * len(text), top, top + 9, 9.0, "Helvetica")])

    lab = run(label, 10 + indent)
    vals = [run(v, 200 + 40 * k) for k, v in enumerate(values)]
    return BodyLine(Line([w for r in [lab, *vals] for w in r.words], [lab, *vals]), lab, vals)


def test_a_flush_wrapped_label_with_rows_under_it_is_one_label_and_a_heading_is_kept():
    from statlift.extractors.layout import row_paths

    # "Offenses Involving Sexual / Contact 414": flush, rows indented under it -> one label
    wrapped = [_body(0, "Total", "512"), _body(0, "Offenses Involving Sexual"),
               _body(0, "Contact", "414"), _body(8, "Offender contacted a victim", "262"),
               _body(8, "Victim engaged in contact", "129"), _body(0, "No contact", "98")]
    assert [r.path for r in row_paths(wrapped)] == [
        "Total", "Offenses Involving Sexual Contact",
        "Offenses Involving Sexual Contact > Offender contacted a victim",
        "Offenses Involving Sexual Contact > Victim engaged in contact", "No contact"]
    # a heading over flush rows with none under them stays a heading of its own
    heading = [_body(0, "Sex"), _body(0, "Male", "97.1"), _body(0, "Female", "2.9")]
    assert [r.label for r in row_paths(heading)] == ["Male", "Female"]


def test_a_flush_wrapped_label_that_ends_the_table_is_one_label():
    from statlift.extractors.layout import row_paths

    rows = [_body(0, "Other", "11"), _body(0, "Unknown Method or Attempted"),
            _body(0, "Production", "55")]
    assert [r.path for r in row_paths(rows)] == ["Other",
                                                 "Unknown Method or Attempted Production"]
