import pytest

from textkit import slugify

# Ids that need care: spaces, "::", brackets, a slash, non-ASCII (pytest
# prints it escaped, caf\xe9, and only accepts it escaped).
CASES = [
    pytest.param("Hello World", "hello-world", id="two words"),
    pytest.param("a::b", "a-b", id="a::b"),
    pytest.param("[x] y", "x-y", id="[brackets]"),
    pytest.param("x/y", "x-y", id="x/y"),
    pytest.param("Café au lait", "cafe-au-lait", id="café"),
    pytest.param("  many   spaces ", "many-spaces", id="  padded  "),
    pytest.param("", "", id="empty"),
    pytest.param("123 go", "123-go", id="digits"),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_slugify(text, expected):
    assert slugify(text) == expected


@pytest.mark.parametrize("sep", ["_", ".", "--"])
def test_separator(sep):
    assert slugify("a b c", sep=sep) == sep.join("abc")


def test_only_punctuation():
    assert slugify("!!! ???") == ""


def test_unicode_dropped():
    assert slugify("日本 text") == "text"
