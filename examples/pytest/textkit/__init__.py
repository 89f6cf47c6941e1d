"""textkit: a few small text helpers, the project examples/pytest tests."""
from .slug import slugify
from .wrap import wrap
from .stats import word_count, top_words

__all__ = ["slugify", "wrap", "word_count", "top_words"]
