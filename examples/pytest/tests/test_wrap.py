import pytest

from textkit import wrap


class TestWrap:
    def test_short(self):
        assert wrap("a b c", 10) == ["a b c"]

    def test_breaks(self):
        assert wrap("aaa bbb ccc", 7) == ["aaa bbb", "ccc"]

    def test_long_word(self):
        assert wrap("abcdefghij x", 4) == ["abcdefghij", "x"]

    def test_empty(self):
        assert wrap("", 5) == []

    def test_bad_width(self):
        with pytest.raises(ValueError):
            wrap("a", 0)

    @pytest.mark.parametrize("width", [1, 2, 3, 5, 8, 13])
    def test_no_line_too_long(self, width):
        text = "the quick brown fox jumps over the lazy dog"
        for line in wrap(text, width):
            assert len(line) <= width or " " not in line


class TestWrapRoundTrip:
    @pytest.mark.parametrize("width", [4, 10, 40])
    def test_words_kept(self, width):
        text = "one two three four five six"
        assert " ".join(wrap(text, width)).split() == text.split()
