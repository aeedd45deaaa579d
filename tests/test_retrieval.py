"""The retrieval rules the generated Apex and the bench share: search terms within SOSL's limits, chunking, and
the compact vector encoding."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from apexgen.generate.retrieval import (
    MAX_QUERY_LENGTH,
    MAX_TERM_LENGTH,
    MAX_TERMS,
    SOSL_OPERATOR_LIMIT,
    chunks,
    decode_int8,
    encode_int8,
    keywords,
    search_text,
)

SOSL_RESERVED = set("?&|!{}[]()^~*:\\\"'+-")


def test_keywords_drop_stop_words_repeats_and_single_letters_and_put_long_words_first() -> None:
    text = "The printer on floor 3 is NOT printing; error E-42 since Monday!!! Printer printer"
    assert keywords(text) == ["printing", "printer", "monday", "floor", "error", "since", "42"]


def test_blank_and_stop_word_only_queries_have_no_terms() -> None:
    assert keywords(None) == []
    assert keywords("   \n\t") == []
    assert search_text("and or not the a") == ""


def test_a_long_query_is_cut_to_the_longest_terms_within_the_operator_limit() -> None:
    text = " ".join(f"word{i:04d}" for i in range(900)) + " extraordinarily"
    terms = keywords(text)
    assert len(terms) == MAX_TERMS
    assert terms[0] == "extraordinarily"
    assert len(search_text(text)) < SOSL_OPERATOR_LIMIT


def test_text_past_the_query_length_is_not_read() -> None:
    text = "x" * MAX_QUERY_LENGTH + " extraordinarily"
    assert keywords(text) == []


def test_odd_input_keeps_letters_of_any_script_and_never_a_reserved_character() -> None:
    text = 'Ünïcödé "quoted" {braces} (x+y) a*b \\path\\ ~tilde 東京都 emoji😀emoji naïve_café'
    terms = keywords(text)
    assert "ünïcödé" in terms and "東京都" in terms and "naïve" in terms and "café" in terms
    assert "emoji" in terms and terms.count("emoji") == 1
    assert not SOSL_RESERVED & set(search_text(text))


def test_a_word_longer_than_the_limit_is_not_a_term() -> None:
    assert keywords("x" * (MAX_TERM_LENGTH + 1) + " short") == ["short"]


@settings(deadline=None)  # a shared machine's load is not a defect: outside CI hypothesis times each example
@given(st.text(max_size=3000))
def test_any_text_gives_at_most_the_term_limit_and_safe_search_text(text: str) -> None:
    terms = keywords(text)
    assert len(terms) <= MAX_TERMS
    assert len(set(terms)) == len(terms)
    assert not SOSL_RESERVED & set(search_text(text))
    assert len(search_text(text)) <= MAX_TERMS * (MAX_TERM_LENGTH + 4)


def test_chunks_cut_at_spaces_overlap_and_cover_the_text() -> None:
    text = " ".join(f"w{i}" for i in range(400))
    pieces = chunks(text, 100, 20)
    assert all(len(piece) <= 100 for piece in pieces)
    assert pieces[0].startswith("w0 ") and pieces[-1].endswith("w399")
    assert all(not piece.startswith(" ") and not piece.endswith(" ") for piece in pieces)
    words = set(text.split())
    assert words == {word for piece in pieces for word in piece.split() if word in words}


def test_short_and_empty_texts() -> None:
    assert chunks("  one\n two  ", 100, 10) == ["one two"]
    assert chunks(None, 100, 10) == []
    assert chunks("x" * 250, 100, 10) == ["x" * 100, "x" * 100, "x" * 70]


def test_int8_encoding_round_trips_codes_and_keeps_the_cosine() -> None:
    vector = [math.sin(i) for i in range(1536)]
    text, norm = encode_int8(vector)
    assert len(text) == 2048
    codes = decode_int8(text)
    assert max(abs(code) for code in codes) == 127
    assert math.isclose(norm, math.sqrt(sum(c * c for c in codes)))
    cosine = sum(a * b for a, b in zip(vector, codes, strict=True)) / (math.sqrt(sum(a * a for a in vector)) * norm)
    assert cosine > 0.999


def test_a_zero_vector_encodes_to_zero_codes() -> None:
    text, norm = encode_int8([0.0, 0.0, 0.0])
    assert decode_int8(text) == [0, 0, 0] and norm == 0
