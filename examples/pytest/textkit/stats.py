import collections
import re


def words(text):
    return re.findall(r"[\w']+", text.lower())


def word_count(text):
    return len(words(text))


def top_words(text, n=3):
    """The n most common words, ties broken alphabetically."""
    counts = collections.Counter(words(text))
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
