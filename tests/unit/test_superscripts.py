"""A footnote mark is a word much smaller than a word it touches and raised above that word's
baseline (pdfdoc._mark_superscripts); small print on its own line, or beside a word but not
raised, is not."""
import pytest

from statlift.extractors.pdfdoc import _mark_superscripts


def word(text, x0, x1, top, size):
    return {"text": text, "x0": x0, "x1": x1, "top": top, "bottom": top + size, "size": size,
            "fontname": "Helvetica"}


def marks(*words):
    return {w.text: w.superscript for w in _mark_superscripts(list(words))}


def test_a_raised_small_word_touching_a_word_is_a_mark():
    assert marks(word("Total", 100, 125, 200, 9), word("a", 125.4, 128, 199, 5.5)) == {
        "Total": False, "a": True}


def test_a_mark_before_a_word_and_between_other_columns_words():
    # the mark touches the word on its right; words of another column share the line
    got = marks(word("left", 10, 40, 199, 9), word("b", 96.5, 99, 199, 5.5),
                word("Count", 100, 130, 200, 9), word("right", 300, 330, 200, 9))
    assert got == {"left": False, "b": True, "Count": False, "right": False}


@pytest.mark.parametrize("mark", [
    word("a", 125.4, 128, 199, 8.5),    # not much smaller
    word("a", 125.4, 128, 203.5, 5.5),  # on the word's baseline, not raised
    word("a", 128.0, 131, 199, 5.5),    # a gap of 3 pt: not touching
    word("a", 125.4, 128, 191, 5.5),    # a line above, ending where the word starts lower down
])
def test_not_a_mark(mark):
    assert marks(word("Total", 100, 125, 200, 9), mark)["a"] is False
