r"""``.forceignore``: the files of an SFDX project the sf CLI leaves out, matched as the sf CLI matches them.

A port of node-ignore 5.3 (the ``ignore`` npm package SDR uses; MIT, see LICENSE-node-ignore.txt). Each pattern becomes a regular expression by node-ignore's chain of replacements; matching ignores case (the
library's default); a path is ignored when its last matching rule is not a negation, or when a parent folder
(tested as ``folder/``) is ignored. Kept as a port rather than gitignore semantics from another library,
because the two differ on details (case, ``**`` handling) that decide which files are deployed.

The replacements write JavaScript regular expressions, and a user's backslashes reach them: ``_python_regex``
reads each as JavaScript does (``\s`` includes U+FEFF, ``[]`` matches nothing, ``\z`` is "z", ``.`` stops at
any line terminator). tests/test_secure_forceignore.py compares the port with the real node-ignore on
fuzzed files. A line JavaScript itself cannot compile (``[z-a]``) is an error naming it, where sf would crash.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from apexgen.errors import UsageError, one_line

# JavaScript's \s: Python's lacks U+FEFF and has U+001C-U+001F and U+0085, which JavaScript's has not.
_JS_SPACE = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_S = f"[{_JS_SPACE}]"
_JS_DOT = r"[^\n\r\u2028\u2029]"  # JavaScript's "." without the s flag
_BLANK = re.compile(f"^{_S}+$")
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


_JS_CLASS_ESCAPES = {"d": "0-9", "w": "A-Za-z0-9_", "s": _JS_SPACE, "b": r"\x08"}
_JS_ESCAPES = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[A-Za-z0-9_]",
    "W": "[^A-Za-z0-9_]",
    "s": _S,
    "S": f"[^{_JS_SPACE}]",
    "b": r"(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))",
    "B": r"(?:(?<=[A-Za-z0-9_])(?=[A-Za-z0-9_])|(?<![A-Za-z0-9_])(?![A-Za-z0-9_]))",
}
# One escape of a JavaScript (non-unicode) regular expression: legacy octal, \xHH, \uHHHH, \cX, any other.
_JS_ESCAPE = re.compile(
    r"\\(?:([0-3][0-7]{0,2}|[4-7][0-7]?)|x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|c([A-Za-z])|(.))", re.S
)


def _js_escape(match: re.Match[str], in_class: bool) -> str:
    """What one escape means to JavaScript, written for Python; no capturing group exists in node-ignore's
    expressions, so \\1 is an octal escape, and any unknown escape is the character itself."""
    octal, hex2, hex4, control, other = match.groups()
    if octal or hex2 or hex4:
        return re.escape(chr(int(octal, 8) if octal else int(hex2 or hex4, 16)))
    if control:
        return re.escape(chr(ord(control) % 32))
    if other in "nrtvf":
        return "\\" + other
    if in_class and other in _JS_CLASS_ESCAPES:
        return _JS_CLASS_ESCAPES[other]
    if in_class and other.lower() in "dws":
        return {"D": r"\x00-/:-\U0010ffff", "W": r"\x00-/:-@\[-^`{-\U0010ffff", "S": r"\S"}[other]
    if not in_class and other in _JS_ESCAPES:
        return _JS_ESCAPES[other]
    if other == "c":  # \c without a letter: a backslash, then c
        return r"\\c"
    return re.escape(other)


def _python_regex(source: str) -> str:
    """The JavaScript regular expression ``source`` (as node-ignore builds it) in Python's syntax."""
    out: list[str] = []
    at = 0
    while at < len(source):
        char = source[at]
        if char == "\\":
            match = _JS_ESCAPE.match(source, at)
            if match is None:
                raise re.error("\\ at end of pattern")
            out.append(_js_escape(match, in_class=False))
            at = match.end()
        elif char == "[":
            at = _python_class(source, at, out)
        elif char == ".":
            out.append(_JS_DOT)
            at += 1
        elif char == "$":
            out.append(r"\Z")
            at += 1
        else:
            out.append(char)
            at += 1
    return "".join(out)


def _python_class(source: str, at: int, out: list[str]) -> int:
    """Translate the character class starting at ``source[at]`` ("["); the index after it."""
    negated = source.startswith("[^", at)
    at += 2 if negated else 1
    members: list[str] = []
    while at < len(source) and source[at] != "]":
        if source[at] == "\\":
            match = _JS_ESCAPE.match(source, at)
            if match is None:
                raise re.error("\\ at end of pattern")
            if match.group(5) and match.group(5) in "dDwWsS":  # a set: a "-" beside it is a literal (Annex B)
                if members and members[-1] == "-":
                    members[-1] = r"\-"
                if source.startswith("-", match.end()):
                    members.append(_js_escape(match, in_class=True) + r"\-")
                    at = match.end() + 1
                    continue
            members.append(_js_escape(match, in_class=True))
            at = match.end()
        else:
            members.append(source[at] if source[at] == "-" else re.escape(source[at]))
            at += 1
    if at >= len(source):
        raise re.error("missing ], unterminated character class")
    if not members:  # [] matches nothing, [^] any character
        out.append(r"[\s\S]" if negated else "(?!)")
    else:
        out.append(("[^" if negated else "[") + "".join(members) + "]")
    return at + 1


def _make_regex(pattern: str) -> str:
    """node-ignore's makeRegex: (regex, replacement, count) applied in order; count 0 is JavaScript's /g."""
    starting = "(?:^|\\/)" if not re.search(r"/(?!$)", pattern) else "^"
    replacers: list[tuple[str, str | Callable[[re.Match[str]], str], int]] = [
        (r"^\ufeff", "", 1),
        (rf"((?:\\\\)*?)(\\?{_S}+)\Z", lambda m: m.group(1) + (" " if m.group(2).startswith("\\") else ""), 1),
        (rf"(\\+?){_S}", lambda m: _even_backslashes(m.group(1)) + " ", 0),
        (r"[\\$.|*+(){^]", lambda m: "\\" + m.group(0), 0),
        (r"(?!\\)\?", "[^/]", 0),
        (r"^/", "^", 1),
        (r"/", lambda m: "\\/", 0),
        (r"^\^*\\\*\\\*\\/", lambda m: "^(?:.*\\/)?", 1),
        (r"^(?=[^^])", lambda m: starting, 1),
        (r"\\/\\\*\\\*(?=\\/|$)", _double_star, 0),
        (rf"(^|[^\\]+)(\\\*)+(?={_JS_DOT}+)", lambda m: m.group(1) + "[^\\/]*", 0),
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
    share one "^(?:[^]*/)?" (so the path is scanned once, not once per rule), the others are anchored at "^".
    A rule with a "|" of its own (a user's backslash can leave one unescaped) is not split that way."""
    anywhere, anchored = [], []
    for source in sources:
        start = next((s for s in _ANYWHERE if source.startswith(s)), None)
        if "|" in source[len(start or "") :]:
            return _compile("|".join(f"(?:{s})" for s in sources)).search
        if start is not None:
            anywhere.append(source[len(start) :])
        elif source.startswith("^"):
            anchored.append(source[1:])
        else:  # not a form node-ignore writes: test it as it is
            return _compile("|".join(f"(?:{s})" for s in sources)).search
    parts = [f"^(?:[^]*\\/)?(?:{'|'.join(anywhere)})"] if anywhere else []
    parts += [f"^(?:{'|'.join(anchored)})"] if anchored else []
    return _compile("|".join(parts) or "(?!)").match


class IgnoreSyntaxError(UsageError):
    """A .forceignore line that no JavaScript regular expression can be made of (node-ignore throws)."""


def _compile(javascript: str) -> re.Pattern[str]:
    """node-ignore's ``new RegExp(source, "i")``, in Python."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "[--]": a literal in JavaScript, a future set operation here
        return re.compile(_python_regex(javascript), re.IGNORECASE)


class IgnoreRules:
    """node-ignore's Ignore with ``ignorecase`` on: add lines, then ask ``ignores(relative_path)``."""

    def __init__(self, lines: list[str]):
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        sources: list[tuple[bool, str]] = []
        for line in lines:
            if not line or _BLANK.match(line) or _TRAILING_BACKSLASH.search(line) or line.startswith("#"):
                continue
            negative = line.startswith("!")
            pattern = line[1:] if negative else line
            pattern = re.sub(r"^\\!", "!", pattern, count=1)
            pattern = re.sub(r"^\\#", "#", pattern, count=1)
            source = _make_regex(pattern)
            try:
                self.rules.append((negative, _compile(source)))
            except re.error as exc:
                raise IgnoreSyntaxError(f"the line {one_line(line)!r} is no pattern sf can read ({exc.msg})") from None
            sources.append((negative, source))
        # Most paths match no rule: one test of all positive rules at once settles those.
        self.any_positive = _quick_test([source for negative, source in sources if not negative])
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
            # Node reads the file as UTF-8 with each invalid sequence replaced, as Python's "replace" does.
            text = ignore_file.read_bytes().decode("utf-8", errors="replace")
            try:
                self.rules = IgnoreRules(DEFAULT_IGNORE + re.split(r"\r?\n", text))
            except IgnoreSyntaxError as exc:
                raise IgnoreSyntaxError(f"{ignore_file}: {exc}") from None
        self.denies = lru_cache(maxsize=None)(self._denies)

    @classmethod
    def of_project(cls, root: Path, package_dir: Path) -> ForceIgnore:
        """SDR's searchUp from ``package_dir``, stopped at the project folder ``root``: the nearest
        .forceignore at or above the package directory that is the project's own. sf would go on into
        the folders above the project; a .forceignore there is someone else's and is not applied."""
        from apexgen.project.containment import ProjectPaths

        paths = ProjectPaths(root)
        for folder in [package_dir, *package_dir.parents]:
            if folder not in (root, paths.real_root) and paths.outside_reason(os.path.relpath(folder, root)):
                break
            candidate = folder / ".forceignore"
            if os.path.lexists(candidate):
                try:
                    if paths.is_folder(str(candidate)):
                        raise IgnoreSyntaxError(f"{candidate}: a folder, not a file")
                    return cls(candidate)
                except OSError as exc:
                    raise IgnoreSyntaxError(f"{candidate}: cannot read it ({exc.strerror})") from None
            if folder in (root, paths.real_root):
                break
        return NO_IGNORE

    def _denies(self, path: str) -> bool:
        if self.rules is None or self.directory is None:
            return False
        prefix = self.directory + "/"
        relative = path[len(prefix) :] if path.startswith(prefix) else os.path.relpath(path, self.directory)
        # SDR also tests "relative/" unless the path is a file on disk: the stat only when it would matter
        return self.rules.ignores(relative) or (self.rules.ignores(relative + "/") and not os.path.isfile(path))


NO_IGNORE = ForceIgnore(None)
