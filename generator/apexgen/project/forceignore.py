"""``.forceignore``: the files of an SFDX project the sf CLI leaves out, matched as the sf CLI matches them.

A port of node-ignore 5.3 (the ``ignore`` npm package SDR uses; MIT, see LICENSE-node-ignore.txt). Each pattern becomes a regular expression by node-ignore's chain of replacements; matching ignores case (the
library's default); a path is ignored when its last matching rule is not a negation, or when a parent folder
(tested as ``folder/``) is ignored. Kept as a port rather than gitignore semantics from another library,
because the two differ on details (case, ``**`` handling) that decide which files are deployed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

_BLANK = re.compile(r"^\s+$")
_TRAILING_BACKSLASH = re.compile(r"(?:[^\\]|^)\\$")
_INVALID_PATH = re.compile(r"^\.*/|^\.+$")
_RANGE = re.compile(r"([0-z])-([0-z])")


def _sanitize_range(text: str) -> str:
    return _RANGE.sub(lambda m: m.group(0) if ord(m.group(1)) <= ord(m.group(2)) else "", text)


def _even_backslashes(slashes: str) -> str:
    return slashes[: len(slashes) - len(slashes) % 2]


def _range(match: re.Match[str]) -> str:
    lead, body, end, close = match.group(1), match.group(2), match.group(3), match.group(4)
    if lead == "\\":
        return f"\\[{body}{_even_backslashes(end)}{close}"
    if close == "]":
        return f"[{_sanitize_range(body)}{end}]" if len(end) % 2 == 0 else "[]"
    return "[]"


def _double_star(match: re.Match[str]) -> str:
    return r"(?:\/[^\/]+)*" if match.start() + 6 < len(match.string) else r"\/.+"


def _trailing(match: re.Match[str]) -> str:
    text = match.group(0)
    return f"{text}$" if text.endswith("/") else f"{text}(?=$|\\/$)"


def _trailing_star(match: re.Match[str]) -> str:
    prefix = f"{match.group(1)}[^/]+" if match.group(1) else "[^/]*"
    return f"{prefix}(?=$|\\/$)"


def _make_regex(pattern: str) -> str:
    """node-ignore's makeRegex: (regex, replacement, count) applied in order; count 0 is JavaScript's /g."""
    starting = "(?:^|\\/)" if not re.search(r"/(?!$)", pattern) else "^"
    replacers: list[tuple[str, str | Callable[[re.Match[str]], str], int]] = [
        (r"^\ufeff", "", 1),
        (r"((?:\\\\)*?)(\\?\s+)$", lambda m: m.group(1) + (" " if m.group(2).startswith("\\") else ""), 1),
        (r"(\\+?)\s", lambda m: _even_backslashes(m.group(1)) + " ", 0),
        (r"[\\$.|*+(){^]", lambda m: "\\" + m.group(0), 0),
        (r"(?!\\)\?", "[^/]", 0),
        (r"^/", "^", 1),
        (r"/", lambda m: "\\/", 0),
        (r"^\^*\\\*\\\*\\/", lambda m: "^(?:.*\\/)?", 1),
        (r"^(?=[^^])", lambda m: starting, 1),
        (r"\\/\\\*\\\*(?=\\/|$)", _double_star, 0),
        (r"(^|[^\\]+)(\\\*)+(?=.+)", lambda m: m.group(1) + "[^\\/]*", 0),
        (r"\\\\\\(?=[$.|*+(){^])", lambda m: "\\", 0),
        (r"\\\\", lambda m: "\\", 0),
        (r"(\\)?\[([^\]/]*?)(\\*)($|\])", _range, 0),
        (r"(?:[^*])$", _trailing, 1),
        (r"(\^|\\/)?\\\*$", _trailing_star, 1),
    ]
    source = pattern
    for regex, replacement, count in replacers:
        source = re.sub(regex, replacement, source, count=count)
    return source


_ANYWHERE = ("(?:^|\\/)", "^(?:.*\\/)?")  # the two ways node-ignore starts a rule that matches at any depth


def _quick_test(sources: list[str]) -> Callable[[str], object]:
    """One regular expression that matches where any of ``sources`` matches: the rules that match at any depth
    share one "^(?:.*/)?" (so the path is scanned once, not once per rule), the others are anchored at "^"."""
    anywhere, anchored = [], []
    for source in sources:
        start = next((s for s in _ANYWHERE if source.startswith(s)), None)
        if start is not None:
            anywhere.append(source[len(start) :])
        elif source.startswith("^"):
            anchored.append(source[1:])
        else:  # not a form node-ignore writes: test it as it is
            return re.compile("|".join(f"(?:{s})" for s in sources), re.IGNORECASE).search
    parts = [f"^(?:.*\\/)?(?:{'|'.join(anywhere)})"] if anywhere else []
    parts += [f"^(?:{'|'.join(anchored)})"] if anchored else []
    return re.compile("|".join(parts) or "(?!)", re.IGNORECASE).match


class IgnoreRules:
    """node-ignore's Ignore with ``ignorecase`` on: add lines, then ask ``ignores(relative_path)``."""

    def __init__(self, lines: list[str]):
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for line in lines:
            if not line or _BLANK.match(line) or _TRAILING_BACKSLASH.search(line) or line.startswith("#"):
                continue
            negative = line.startswith("!")
            pattern = line[1:] if negative else line
            pattern = re.sub(r"^\\!", "!", pattern, count=1)
            pattern = re.sub(r"^\\#", "#", pattern, count=1)
            self.rules.append((negative, re.compile(_make_regex(pattern), re.IGNORECASE)))
        # Most paths match no rule: one test of all positive rules at once settles those.
        self.any_positive = _quick_test([regex.pattern for negative, regex in self.rules if not negative])
        self.cache: dict[str, bool] = {}

    def ignores(self, path: str) -> bool:
        """False for paths node-ignore refuses (empty, absolute, ``./`` or ``../``), as SDR then allows them."""
        if not path or _INVALID_PATH.search(path):
            return False
        return self._test(path, path.split("/"))

    def _test(self, path: str, slices: list[str]) -> bool:
        if path in self.cache:
            return self.cache[path]
        slices.pop()
        parent_ignored = bool(slices) and self._test("/".join(slices) + "/", slices)
        result = parent_ignored or self._test_one(path)
        self.cache[path] = result
        return result

    def _test_one(self, path: str) -> bool:
        if not self.any_positive(path):
            return False
        ignored = unignored = False
        for negative, regex in self.rules:
            if (unignored == negative and ignored != unignored) or (negative and not ignored and not unignored):
                continue
            if regex.search(path):
                ignored, unignored = not negative, negative
        return ignored


# SDR's ForceIgnore.DEFAULT_IGNORE: added in front of a project's .forceignore (and only when there is one).
DEFAULT_IGNORE = [
    "**/*.dup",
    "**/.*",
    "!.sf",
    "**/.sf/**",
    "!**/.sf/orgs",
    "!**/.sf/orgs/**",
    "**/.sf/orgs/*/**",
    "!**/.sf/orgs/*/remoteMetadata",
    "!**/.sf/orgs/*/remoteMetadata/**",
    "**/package2-descriptor.json",
    "**/package2-manifest.json",
]


class ForceIgnore:
    """SDR's ForceIgnore: the nearest .forceignore at or above the package directory, its rules with
    DEFAULT_IGNORE in front. Without a .forceignore nothing is ignored, as in SDR."""

    def __init__(self, ignore_file: Path | None):
        self.directory = str(ignore_file.parent) if ignore_file else None
        self.rules: IgnoreRules | None = None
        if ignore_file:
            self.rules = IgnoreRules(DEFAULT_IGNORE + re.split(r"\r?\n", ignore_file.read_text(encoding="utf-8")))
        self.denies = lru_cache(maxsize=None)(self._denies)

    @staticmethod
    def locate(start: Path) -> Path | None:
        """SDR's searchUp: the .forceignore in ``start`` or the nearest folder above it."""
        return next((f / ".forceignore" for f in [start, *start.parents] if (f / ".forceignore").is_file()), None)

    def _denies(self, path: str) -> bool:
        if self.rules is None or self.directory is None:
            return False
        prefix = self.directory + "/"
        relative = path[len(prefix) :] if path.startswith(prefix) else os.path.relpath(path, self.directory)
        # SDR also tests "relative/" unless the path is a file on disk: the stat only when it would matter
        return self.rules.ignores(relative) or (self.rules.ignores(relative + "/") and not os.path.isfile(path))


NO_IGNORE = ForceIgnore(None)
