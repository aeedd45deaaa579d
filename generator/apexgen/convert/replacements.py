"""``replacements`` of sfdx-project.json: the string substitutions ``sf project deploy start`` makes in the files
it sends (ported from SDR 12.37.2 src/convert/replacements.ts, Apache-2.0). ``sf project convert source``
applies them only with SF_APPLY_REPLACEMENTS_ON_CONVERT=true; the deploy zip always has them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from apexgen.convert.components import ConvertError

_TEXT_EXTENSIONS = {".cls", ".xml", ".json", ".js", ".css", ".html", ".htm", ".txt", ".md"}
_JS_REPLACEMENT = re.compile(r"\$(\$|&|`|'|\d{1,2}|<[^>]*>)")


class Replacement(NamedTuple):
    filename: str | None
    glob: re.Pattern[str] | None
    pattern: re.Pattern[str]
    replace_with: str

    def matches(self, path: str) -> bool:
        if self.filename is not None and path.endswith(self.filename):
            return True
        return self.glob is not None and self.glob.fullmatch(path) is not None


class Replacements:
    def __init__(self, rules: list[Replacement]):
        self.rules = rules

    @classmethod
    def from_project(
        cls, root: Path, config: Mapping[str, Any], environ: Mapping[str, str] = os.environ
    ) -> Replacements:
        entries = config.get("replacements") or []
        where = f"{root / 'sfdx-project.json'}: replacements"
        if not isinstance(entries, list):
            raise ConvertError(f"{where} must be a list")
        rules = []
        for index, entry in enumerate(entries):
            at = f"{where}[{index}]"
            if not isinstance(entry, dict):
                raise ConvertError(f"{at} must be an object")
            conditions = entry.get("replaceWhenEnv") or []
            if not all(
                isinstance(c, dict) and environ.get(str(c.get("env"))) == _js_string(c.get("value")) for c in conditions
            ):
                continue
            rules.append(_rule(root, entry, at, environ))
        return cls(rules)

    def apply(self, path: str, data: bytes) -> bytes:
        """``data`` (the bytes of ``path``) with every matching rule applied, in the order of the file."""
        rules = [rule for rule in self.rules if rule.matches(path)]
        if not rules or not _is_text(path, data):
            return data
        text = data.decode("utf-8", errors="replace")
        for rule in rules:
            text = rule.pattern.sub(partial(_expand, template=rule.replace_with), text)
        return text.encode("utf-8")


def _rule(root: Path, entry: dict[str, Any], at: str, environ: Mapping[str, str]) -> Replacement:
    filename, glob = entry.get("filename"), entry.get("glob")
    if not isinstance(filename, str) and not isinstance(glob, str):
        raise ConvertError(f'{at}: needs "filename" or "glob"')
    if isinstance(entry.get("stringToReplace"), str):
        pattern = re.compile(re.escape(entry["stringToReplace"]))
    elif isinstance(entry.get("regexToReplace"), str):
        try:
            pattern = re.compile(entry["regexToReplace"])
        except re.error as exc:
            raise ConvertError(f"{at}: regexToReplace is not a regular expression apexgen can read ({exc})") from None
    else:
        raise ConvertError(f'{at}: needs "stringToReplace" or "regexToReplace"')
    if isinstance(entry.get("replaceWithEnv"), str):
        name = entry["replaceWithEnv"]
        if name not in environ and not entry.get("allowUnsetEnvVariable"):
            raise ConvertError(f"{at}: the environment variable {name} (replaceWithEnv) is not set")
        value = environ.get(name, "")
    elif isinstance(entry.get("replaceWithFile"), str):
        source = Path(entry["replaceWithFile"])
        source = source if source.is_absolute() else root / source
        try:
            value = source.read_text(encoding="utf-8").strip()
        except OSError:
            value = ""
        if not value:
            raise ConvertError(f"{at}: replaceWithFile {source} cannot be read or is empty")
    else:
        raise ConvertError(f'{at}: needs "replaceWithEnv" or "replaceWithFile"')
    return Replacement(
        filename if isinstance(filename, str) else None,
        _glob_regex(glob) if isinstance(glob, str) else None,
        pattern,
        value,
    )


def _js_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _expand(match: re.Match[str], template: str) -> str:
    """JavaScript's String.replace replacement patterns: $$, $&, $`, $', $1..$99, $<name>."""

    def one(token: re.Match[str]) -> str:
        code = token.group(1)
        if code == "$":
            return "$"
        if code == "&":
            return match.group(0)
        if code == "`":
            return match.string[: match.start()]
        if code == "'":
            return match.string[match.end() :]
        if code.startswith("<"):
            return match.groupdict().get(code[1:-1]) or "" if match.re.groupindex else token.group(0)
        number = int(code)
        if 0 < number <= match.re.groups:
            return match.group(number) or ""
        return token.group(0)

    return _JS_REPLACEMENT.sub(one, template)


def _glob_regex(glob: str) -> re.Pattern[str]:
    """minimatch(path, "**/" + glob): ``**`` spans folders, ``*`` and ``?`` stay within one, no dot files."""
    parts, index = [r"(?:.*/)?"], 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            parts.append(r"(?:[^/.][^/]*/)*")
            index += 3
            continue
        if glob.startswith("**", index):
            parts.append(r"(?:[^/.][^/]*(?:/[^/.][^/]*)*)?")
            index += 2
            continue
        if char == "*":
            parts.append(r"[^/]*")
        elif char == "?":
            parts.append(r"[^/]")
        elif char == "{" and "}" in glob[index:]:
            end = glob.index("}", index)
            parts.append("(?:" + "|".join(re.escape(o) for o in glob[index + 1 : end].split(",")) + ")")
            index = end
        else:
            parts.append(re.escape(char))
        index += 1
    return re.compile("".join(parts))


def _is_text(path: str, data: bytes) -> bool:
    """SDR's isTextFile: a known text extension, or the first 512 bytes do not look binary."""
    if os.path.splitext(path)[1] in _TEXT_EXTENSIONS:
        return True
    head = data[:512]
    if not head or head.startswith((b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")):
        return True
    if head.startswith(b"%PDF-") or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the 512th byte is still text
        suspicious = sum(1 for b in head if b < 7 or 14 < b < 32) + (0 if exc.start >= len(head) - 3 else 1)
        return suspicious * 100 / len(head) <= 10
