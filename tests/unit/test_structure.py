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
