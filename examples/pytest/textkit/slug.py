import re
import unicodedata


def slugify(text, sep="-"):
    """Lowercase ASCII words of text joined by sep."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", text.lower())
    return sep.join(words)
