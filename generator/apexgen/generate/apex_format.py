"""Line breaking that matches prettier-plugin-apex, so generated Apex is already formatted.

Templates write each statement, signature and annotation whose width depends on the spec on one
line. A line wider than the print width is broken the way prettier breaks it: its first argument
group (the parentheses of a call, a ``new``, a signature or an annotation) opens, each argument goes
on a line of its own one indent deeper, and the closing parenthesis returns to the line's indent; an
argument line still too wide is broken again. Annotation parameters are separated by spaces instead
of commas.

Lines whose top level holds an operator (a ternary, a boolean chain, arithmetic) or no argument
group are left as written: prettier breaks those differently, so templates keep them short or
write them already broken. The property tests check the result against prettier itself.
"""

from __future__ import annotations

import bisect
import json
import re
from functools import cache
from importlib import resources

PRINT_WIDTH = 80
TAB_WIDTH = 4
_CONTROL_KEYWORDS = re.compile(r"(?:^|[^\w])(?:if|for|while|catch|on)\s*$")
_TOP_LEVEL_OPERATOR = re.compile(r" (?:\?|:|\+|-|\*|/|&&|\|\||==|!=|<|>|<=|>=|\?\?) ")


_PLAIN = re.compile(r"[\x20-\x7f]*")
_VARIATION_SELECTOR = "\ufe0f"
_ZERO_WIDTH_JOINER = "\u200d"
_KEYCAP = "\u20e3"
_SKIN_TONES = range(0x1F3FB, 0x1F400)


@cache
def _width_table() -> tuple[list[int], list[list[int]]]:
    """prettier's widths of every non-ASCII code point (see scripts/build_width_table.mjs)."""
    runs = json.loads(resources.files("apexgen.generate").joinpath("display_width.json").read_text("utf-8"))["runs"]
    return [run[0] for run in runs], runs


def _widths(char: str) -> tuple[int, int, int]:
    """Width of ``char`` alone, followed by U+FE0F, and followed by a skin-tone modifier."""
    code = ord(char)
    if code < 0x80:
        alone = 0 if code < 0x20 or code == 0x7F else 1
        return alone, alone, alone + 2
    starts, runs = _width_table()
    run = runs[bisect.bisect_right(starts, code) - 1]
    return run[2], run[3], run[4]


def _unit(text: str, index: int) -> tuple[int, int]:
    """(width, length) of the character at ``index`` with the presentation selector or skin tone
    that prettier measures together with it."""
    alone, presented, toned = _widths(text[index])
    following = text[index + 1] if index + 1 < len(text) else ""
    if text[index] in "0123456789#*":
        keycap = text[index + 1 : index + 3]
        if keycap == _VARIATION_SELECTOR + _KEYCAP:
            return 2, 3
        if following == _KEYCAP:
            return 2, 2
    if following == _VARIATION_SELECTOR and presented != alone:
        return presented, 2
    if following and ord(following) in _SKIN_TONES and toned != alone + 2:
        return toned, 2
    return alone, 1


def display_width(text: str) -> int:
    """Columns prettier counts for ``text``, as its getStringWidth counts them.

    Characters are measured with the table taken from prettier; an emoji joined to the next by a
    zero-width joiner counts once, as prettier counts the standard (RGI) emoji sequences.
    """
    if _PLAIN.fullmatch(text):
        return len(text)
    width = 0
    index = 0
    while index < len(text):
        unit, length = _unit(text, index)
        width += unit
        index += length
        while unit == 2 and index < len(text) and 0xE0020 <= ord(text[index]) <= 0xE007F:
            index += 1  # tag characters of a subdivision flag belong to its emoji
        while (
            unit == 2
            and text[index : index + 1] == _ZERO_WIDTH_JOINER
            and index + 1 < len(text)
            and _unit(text, index + 1)[0] == 2
        ):
            index += 1 + _unit(text, index + 1)[1]
    return width


_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'")
_GENERIC_OPEN = re.compile(r"(?<=[\w>])<")
_GENERIC_CLOSE = re.compile(r"(?<=[\w>\]])>")
_DEPTH_CHANGE = {"(": 1, "[": 1, "{": 1, "\x01": 1, ")": -1, "]": -1, "}": -1, "\x02": -1}


def _masked(line: str) -> str:
    """``line`` with string literals blanked out and generic angle brackets marked (\\x01, \\x02),
    so that only real brackets and separators remain; same length as ``line``."""
    line = _STRING_LITERAL.sub(lambda m: "'" + "_" * (len(m.group()) - 2) + "'", line)
    return _GENERIC_CLOSE.sub("\x02", _GENERIC_OPEN.sub("\x01", line))


def _depths(masked: str) -> list[int]:
    """Bracket depth before each character of a masked line (a closing bracket counts outside)."""
    depths = []
    depth = 0
    for char in masked:
        change = _DEPTH_CHANGE.get(char, 0)
        if change < 0:
            depth += change
        depths.append(depth)
        if change > 0:
            depth += change
    return depths


def _argument_group(line: str) -> tuple[int, int] | None:
    """The first top-level argument group of ``line`` as (open, close), if prettier would break it."""
    masked = _masked(line)
    depths = _depths(masked)
    top_level = "".join(char if depth == 0 else "_" for char, depth in zip(masked, depths, strict=True))
    if _TOP_LEVEL_OPERATOR.search(top_level.strip()):
        return None
    # the first call, new, signature or annotation: a cast or a parenthesised expression before it is no group
    calls = (
        at
        for at, char in enumerate(top_level)
        if char == "(" and at and (line[at - 1].isalnum() or line[at - 1] in "_>")
    )
    open_at = next(calls, -1)
    if open_at < 0 or _CONTROL_KEYWORDS.search(line[:open_at]):
        return None
    close_at = top_level.find(")", open_at)
    return (open_at, close_at) if close_at > open_at + 1 else None


def _split_arguments(text: str, annotation: bool) -> list[str]:
    """Split the inside of a group at its top-level commas (annotations: spaces)."""
    separator = " " if annotation else ","
    masked = _masked(text)
    parts = []
    start = 0
    for index, (char, depth) in enumerate(zip(masked, _depths(masked), strict=True)):
        if depth == 0 and char == separator:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


@cache
def break_line(line: str) -> tuple[str, ...]:
    """``line`` as prettier would print it: unchanged when it fits, else broken as described above.

    Cached: generated files repeat many lines, and a line always breaks the same way."""
    if display_width(line) <= PRINT_WIDTH:
        return (line,)
    group = _argument_group(line)
    if group is None:
        return (line,)
    open_at, close_at = group
    indent = line[: len(line) - len(line.lstrip(" "))]
    annotation = line.lstrip().startswith("@")
    arguments = _split_arguments(line[open_at + 1 : close_at], annotation)
    inner = indent + " " * TAB_WIDTH
    separator = "" if annotation else ","
    lines = [line[: open_at + 1]]
    for index, argument in enumerate(arguments):
        last = index == len(arguments) - 1
        lines.extend(break_line(inner + argument + ("" if last else separator)))
    lines.extend(break_line(indent + line[close_at:]))
    return tuple(lines)


def format_apex(source: str) -> str:
    """Apply ``break_line`` to every line of ``source``."""
    out: list[str] = []
    for line in source.split("\n"):
        out.extend(break_line(line))
    return "\n".join(out)
