"""Where each member of a JSON document starts, so that findings about JSON files name their line."""

from __future__ import annotations

import json


def json_positions(text: str) -> dict[tuple[str | int, ...], int]:
    """Offset at which each member (its key) or array item of the valid JSON ``text`` starts, by path."""
    from json.decoder import scanstring  # type: ignore[attr-defined]  # public, but not in typeshed

    decoder = json.JSONDecoder()
    positions: dict[tuple[str | int, ...], int] = {}

    def skip(index: int) -> int:
        while index < len(text) and text[index] in " \t\n\r":
            index += 1
        return index

    def value(index: int, path: tuple[str | int, ...]) -> int:
        index = skip(index)
        opening = text[index]
        if opening not in "{[":
            return decoder.raw_decode(text, index)[1]
        closing = "}" if opening == "{" else "]"
        index = skip(index + 1)
        item = 0
        while text[index] != closing:
            if opening == "{":
                key, after_key = scanstring(text, index + 1)
                positions[path + (key,)] = index
                index = value(skip(after_key) + 1, path + (key,))  # + 1 skips the colon
            else:
                positions[path + (item,)] = index
                index = value(index, path + (item,))
                item += 1
            index = skip(index)
            if text[index] == ",":
                index = skip(index + 1)
        return index + 1

    value(0, ())
    return positions
