"""String order of JavaScript's ``a.localeCompare(b)`` (ICU root collation, en-US), which SDR uses to order
the children it merges into a parent file. Python's ``sorted`` orders by code point, which puts ``_`` after
upper-case letters; ICU puts punctuation before digits before letters and compares case only when the
letters are equal (lower case first)."""

from __future__ import annotations

import unicodedata

# ICU root order of printable ASCII at the primary level (letters are case-folded; case is a tertiary difference).
_ASCII_ORDER = "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
_PRIMARY = {ch: index for index, ch in enumerate(_ASCII_ORDER)}
_PRIMARY_TABLE = str.maketrans({ch: chr(0x100 + index) for ch, index in _PRIMARY.items()})
_CASE_TABLE = str.maketrans({chr(c): "1" if chr(c).isupper() else "0" for c in range(128)})


def _primary(ch: str) -> str:
    lower = ch.lower()
    base = unicodedata.normalize("NFD", lower)[:1]
    if base in _PRIMARY:  # an accented letter sorts with its base letter (the accent is a secondary difference)
        return chr(0x100 + _PRIMARY[base])
    return chr(0x1000 + ord(ch))


def locale_key(text: str) -> tuple[str, str, str]:
    """A sort key that orders strings as ``localeCompare`` does (exact for ASCII, close for other letters)."""
    if text.isascii():
        return text.lower().translate(_PRIMARY_TABLE), "", text.translate(_CASE_TABLE)
    primary = "".join(_primary(ch) for ch in text)
    secondary = "".join("0" if ch.lower() in _PRIMARY else "1" for ch in text)
    tertiary = "".join("1" if ch != ch.lower() else "0" for ch in text)
    return primary, secondary, tertiary
