"""Where each key of a TOML document is: line and column (1-based) by key path, for messages an editor can
jump to. tomllib keeps no positions, so this is a small scanner of TOML's layout: table and array-of-table
headers, dotted and quoted keys, inline tables and arrays (each element), strings of every kind. It reads a
document tomllib has already accepted; for anything it does not follow it knows fewer keys, never wrong ones.
"""

from __future__ import annotations

import re
from bisect import bisect_right

Path = tuple[str | int, ...]
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.at = 0
        self.found: dict[Path, int] = {}
        self.array_tables: dict[Path, int] = {}  # each array of tables (prompt) and the index of its last table

    def peek(self, ahead: int = 0) -> str:
        index = self.at + ahead
        return self.text[index] if index < len(self.text) else ""

    def skip_blank(self, newlines: bool) -> None:
        while self.at < len(self.text):
            char = self.text[self.at]
            if char in " \t" or (newlines and char in "\r\n"):
                self.at += 1
            elif char == "#":
                while self.at < len(self.text) and self.text[self.at] != "\n":
                    self.at += 1
            else:
                return

    def key(self) -> list[str]:
        """A key, dotted or not, each part bare or quoted."""
        parts = []
        while True:
            self.skip_blank(newlines=False)
            if self.peek() in "\"'":
                parts.append(self.string())
            else:
                match = _BARE_KEY.match(self.text, self.at)
                if match is None:
                    return parts
                parts.append(match.group())
                self.at = match.end()
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return parts
            self.at += 1

    def string(self) -> str:
        quote = self.peek()
        if self.text.startswith(quote * 3, self.at):
            end = self.text.find(quote * 3, self.at + 3)
            end = len(self.text) if end < 0 else end
            while self.text.startswith(quote, end + 3):  # up to two quotes may close the string's content
                end += 1
            value = self.text[self.at + 3 : end]
            self.at = end + 3
            return value
        self.at += 1
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in (quote, "\n"):
            self.at += 2 if quote == '"' and self.text[self.at] == "\\" else 1
        value = self.text[start : self.at]
        self.at += 1
        return value

    def value(self, path: Path) -> None:
        self.skip_blank(newlines=False)
        char = self.peek()
        if char in "\"'":
            self.string()
        elif char == "[":
            self.at += 1
            index = 0
            while True:
                self.skip_blank(newlines=True)
                if self.peek() in ("]", ""):
                    self.at += 1
                    return
                self.found[(*path, index)] = self.at
                self.value((*path, index))
                index += 1
                self.skip_blank(newlines=True)
                if self.peek() == ",":
                    self.at += 1
        elif char == "{":
            self.at += 1
            while True:
                self.skip_blank(newlines=True)
                if self.peek() in ("}", ""):
                    self.at += 1
                    return
                self.pair(path)
                self.skip_blank(newlines=True)
                if self.peek() == ",":
                    self.at += 1
        else:  # a number, date, boolean: up to what ends a value
            while self.at < len(self.text) and self.text[self.at] not in ",]}\n#":
                self.at += 1

    def pair(self, table: Path) -> None:
        start = self.at
        parts = self.key()
        if not parts:  # not TOML this scanner follows: go to the next line
            self.at = max(self.text.find("\n", start), start + 1) if "\n" in self.text[start:] else len(self.text)
            return
        path = (*table, *parts)
        self.found.setdefault(path, start)
        self.skip_blank(newlines=False)
        if self.peek() == "=":
            self.at += 1
            self.value(path)

    def header(self) -> Path:
        start = self.at
        double = self.text.startswith("[[", self.at)
        self.at += 2 if double else 1
        parts = self.key()
        self.at = self.text.find("\n", self.at)
        self.at = len(self.text) if self.at < 0 else self.at
        path: Path = ()
        for number, part in enumerate(parts, start=1):  # a table under an array of tables is in its last table
            path = (*path, part)
            if path in self.array_tables and not (double and number == len(parts)):
                path = (*path, self.array_tables[path])
        if double:
            index = self.array_tables.get(path, -1) + 1
            self.array_tables[path] = index
            self.found.setdefault(path, start)
            path = (*path, index)
        self.found[path] = start
        return path

    def document(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_blank(newlines=True)
            if self.at >= len(self.text):
                return self.found
            if self.peek() == "[":
                table = self.header()
            else:
                self.pair(table)


def key_positions(text: str) -> dict[Path, tuple[int, int]]:
    """Every key path of ``text`` (``("prompt", 5, "system")``) and its line and column, both from 1."""
    offsets = _Scanner(text).document()
    line_starts = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]
    positions = {}
    for path, offset in offsets.items():
        line = bisect_right(line_starts, offset)
        positions[path] = (line, offset - line_starts[line - 1] + 1)
    return positions


def position_of(positions: dict[Path, tuple[int, int]], path: Path) -> tuple[int, int] | None:
    """The position of ``path``, else of its nearest enclosing key that has one (a missing key: its table)."""
    for length in range(len(path), 0, -1):
        if path[:length] in positions:
            return positions[path[:length]]
    return None


def parse_key(key: str) -> Path:
    """``prompt[5].inputs[0].name`` as a key path."""
    return tuple(int(index) if index else name for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", key))
