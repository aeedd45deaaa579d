"""The facts of retrieval that the generated Apex and the bench share: how a query becomes SOSL search text,
and how a vector is stored compactly. The Apex templates render these constants; ``bench/bench_retrieval.py``
runs these functions as the Python port of the generated code (the generated tests check the Apex against
cases computed here, so the two cannot drift apart).
"""

from __future__ import annotations

import base64
import math
import unicodedata

# SOSL: "If the SearchQuery string is longer than 10,000 characters, no result rows are returned. If
# SearchQuery is longer than 4,000 characters, any logical operators are removed" (SOQL and SOSL Reference,
# SOSL Syntax). The builder keeps its OR-joined text far below 4,000.
SOSL_OPERATOR_LIMIT = 4000
# SOSL returns at most 2,000 rows (LIMIT n: "2,000 or less").
SOSL_MAX_ROWS = 2000
MAX_TERMS = 12
MIN_TERM_LENGTH = 2
MAX_TERM_LENGTH = 40
# A question longer than this is read up to here: enough words for MAX_TERMS, and a bounded regex split.
MAX_QUERY_LENGTH = 10000
# Words that say nothing about the subject of a text, and SOSL's operator words (and, or, not): a term
# is only letters and digits, so it never holds one of SOSL's reserved characters (? & | ! { } [ ] ( )
# ^ ~ * : \ " ' + -), and dropping these words keeps it from being read as an operator.
STOP_WORDS = frozenset(
    (  # noqa: SIM905 (a word list reads best as words)
        "a about above after again all also am an and any are as at be because been before being below between "
        "both but by can could did do does doing down during each few for from further had has have having he her "
        "here hers him his how i if in into is it its itself just me more most my no nor not now of off on once "
        "only or other our ours out over own same she should so some such than that the their theirs them then "
        "there these they this those through to too under until up very was we were what when where which while "
        "who whom why will with would you your yours"
    ).split()
)


def _is_word_char(char: str) -> bool:
    """Apex splits on [^\\p{L}\\p{N}]: letters and numbers of any script make words."""
    return unicodedata.category(char)[0] in "LN"


def keywords(text: str | None) -> list[str]:
    """The search terms of ``text``: its words, lower case, without stop words, too short or too long
    ones and repeats; at most MAX_TERMS, the longest first (a long word is the rarer one), words of one
    length in the order they appear."""
    if not text or not text.strip():
        return []
    words: list[str] = []
    current: list[str] = []
    for char in text[:MAX_QUERY_LENGTH].lower() + " ":
        if _is_word_char(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    seen: dict[str, None] = {}
    for word in words:
        if MIN_TERM_LENGTH <= len(word) <= MAX_TERM_LENGTH and word not in STOP_WORDS:
            seen.setdefault(word, None)
    terms: list[str] = []
    for length in range(MAX_TERM_LENGTH, MIN_TERM_LENGTH - 1, -1):
        for word in seen:
            if len(word) == length and len(terms) < MAX_TERMS:
                terms.append(word)
    return terms


def search_text(text: str | None) -> str:
    """The SOSL search text for ``text``: its keywords joined by OR, or '' when it has none."""
    return " OR ".join(keywords(text))


# The compact vector: each component scaled so that the largest magnitude is 127, rounded to a signed
# byte, and the bytes written as base64 (1,536 dimensions: 2,048 characters). Cosine similarity does not
# depend on the scale, so none is stored: the chunk keeps the norm of the codes beside them.
CODE_MAX = 127


def encode_int8(vector: list[float]) -> tuple[str, float]:
    """The base64 text of ``vector``'s codes and the norm of the codes."""
    largest = max((abs(x) for x in vector), default=0.0)
    # rounded half up, as the Apex does it: Math.floor(x * 127 / largest + 0.5)
    codes = [math.floor(x * CODE_MAX / largest + 0.5) if largest else 0 for x in vector]
    text = base64.b64encode(bytes(code & 0xFF for code in codes)).decode("ascii")
    return text, math.sqrt(sum(code * code for code in codes))


def decode_int8(text: str) -> list[int]:
    """The codes of an encoded vector, as the generated Apex reads them (base64, then hex, then pairs of
    hex digits as signed bytes)."""
    digits = base64.b64decode(text).hex()
    codes = []
    for i in range(0, len(digits), 2):
        value = int(digits[i : i + 2], 16)
        codes.append(value - 256 if value > CODE_MAX else value)
    return codes


def chunks(text: str | None, size: int, overlap: int) -> list[str]:
    """The pieces of ``text`` an index embeds, as the generated Apex cuts them: white space collapsed, at
    most ``size`` characters each, cut at the last space of the window's second half, each piece starting
    ``overlap`` characters before the previous one ended (at the start of the next word, where one begins
    before that end)."""
    text = " ".join((text or "").split())
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = text.rfind(" ", start + size // 2, end)
            if cut > start:
                end = cut
        pieces.append(text[start:end].strip())
        if end >= len(text):
            break
        following = max(end - overlap, start + 1)
        if text[following - 1] != " ":  # inside a word: start at the next one
            space = text.find(" ", following, end)
            following = space + 1 if space != -1 else following
        start = following
    return pieces


# Questions whose terms the generated Apex test checks against this port (odd and long inputs included).
SAMPLE_QUERIES = (
    "Printer on floor 3 is NOT printing; error E-42 since Monday!!! Printer printer",
    "and or not the a",
    'Ünïcödé "quoted" {braces} (x+y) a*b ~tilde 東京都 emoji😀emoji naïve_café',
    " ".join(f"word{i:03d}" for i in range(300)) + " extraordinarily",
)
