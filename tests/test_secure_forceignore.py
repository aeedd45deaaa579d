"""Issue 23, item 5: .forceignore read exactly as node-ignore (the library sf uses) reads it, and only the
project's own.

The quick tests reproduce the hostile test's findings; ``test_the_port_answers_as_node_ignore_on_fuzzed_files``
runs the real node-ignore of node_modules on fuzzed files (BOMs, invalid UTF-8, JavaScript escapes, ranges,
odd spaces) and compares every answer.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
from pathlib import Path

import pytest

from apexgen.check.findings import ProjectFiles
from apexgen.convert.project import convert_project
from apexgen.project.forceignore import ForceIgnore, IgnoreRules, IgnoreSyntaxError

REPO = Path(__file__).resolve().parents[1]


def ignores(content: bytes, path: str, tmp_path: Path) -> bool:
    (tmp_path / ".forceignore").write_bytes(content)
    forceignore = ForceIgnore(tmp_path / ".forceignore")
    assert forceignore.rules is not None
    return forceignore.rules.ignores(path)


@pytest.mark.parametrize(
    ("content", "path", "ignored"),
    [
        (b"\xef\xbb\xbf\n*.cls\n", "force-app/a.cls", True),  # a BOM line is blank, as in JavaScript
        (b"\xef\xbb\xbf\nkeep.txt\n", "force-app/a.cls", False),  # ... and no rule that ignores everything
        (b"[\n", "force-app/a.cls", False),  # "[" becomes the empty class [], which matches nothing
        (b"docs\\zeta.txt\n", "docs/zeta.txt", False),  # \z is "z" in JavaScript
        (b"docs\\zeta.txt\n", "docszeta.txt", True),
        (b"\xff\xfe*.cls\n", "a.cls", False),  # invalid UTF-8: replaced, as Node decodes it
        (b"a\\sb\n", "a b", True),
        (b"\xc2\xa0*.cls\n", "x.cls", False),  # a no-break space is JavaScript whitespace: "\u00a0*.cls" stays
    ],
)
def test_lines_that_crashed_or_ignored_everything(content: bytes, path: str, ignored: bool, tmp_path: Path) -> None:
    assert ignores(content, path, tmp_path) is ignored


def test_a_line_javascript_cannot_compile_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / ".forceignore").write_text("ok\n[z-a]\\\n[~-!]\n")
    with pytest.raises(IgnoreSyntaxError, match=r"\.forceignore: the line '\[~-!\]' is no pattern sf can read"):
        ForceIgnore(tmp_path / ".forceignore")


def write_project(root: Path) -> Path:
    classes = root / "force-app" / "main" / "default" / "classes"
    classes.mkdir(parents=True)
    (root / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app", "default": true}]}')
    (classes / "A.cls").write_text("public class A {}\n")
    (classes / "A.cls-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<apiVersion>65.0</apiVersion><status>Active</status></ApexClass>\n"
    )
    return root


def test_a_forceignore_above_the_project_is_not_applied(tmp_path: Path) -> None:
    (tmp_path / ".forceignore").write_text("**/classes/**\n")  # a shared parent folder's, e.g. the home folder
    root = write_project(tmp_path / "project")
    project = ProjectFiles(root, [root / "force-app"], None)
    assert [p.name for p in project.apex_files()] == ["A.cls"]
    assert sorted(convert_project(root).outputs) == ["classes/A.cls", "classes/A.cls-meta.xml"]
    (root / ".forceignore").write_text("**/classes/**\n")  # the project's own is applied
    assert ProjectFiles(root, [root / "force-app"], None).apex_files() == []


# Pieces of lines and paths that differ between JavaScript and Python regular expressions, or that
# node-ignore's replacements treat specially.
LINE_PIECES = [
    "*", "**", "/", "!", "#", "\\", "[", "]", "^", "-", "a", "b", "Z", "z", "?", ".", " ", "\t", "docs", "x.cls",
    "\\z", "\\s", "\\S", "\\d", "\\w", "\\b", "\\1", "\\8", "\\x41", "\\u0041", "\\c", "\\cA", "{", "}", "(", ")",
    "$", "+", "|", "\u00a0", "\u3000", "\u2028", "\x1c", "\x85", "\r", "é", "É", "0", "9", "[a-z]", "[^a]", "[]",
    "[\\]", "[!", "\ufeff",
]  # fmt: skip
PATH_PIECES = [
    "a",
    "b",
    "A",
    "Z",
    "z",
    "docs",
    "x.cls",
    ".h",
    "é",
    "É",
    " ",
    "9",
    "-",
    "!",
    "\u00a0",
    "\r",
    "\\",
    "é a",
]


def random_case(rng: random.Random) -> tuple[bytes, list[str]]:
    lines = ["".join(rng.choice(LINE_PIECES) for _ in range(rng.randint(0, 5))) for _ in range(rng.randint(1, 5))]
    content = ("\ufeff" if rng.random() < 0.2 else "") + rng.choice(["\n", "\r\n"]).join(lines)
    data = content.encode("utf-8")
    if rng.random() < 0.1:
        cut = rng.randint(0, len(data))
        data = data[:cut] + rng.choice([b"\xff", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80"]) + data[cut:]
    paths = []
    for _ in range(8):
        path = "/".join(
            "".join(rng.choice(PATH_PIECES) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 3))
        )
        paths.append(path + ("/" if rng.random() < 0.2 else ""))
    return data, paths


@pytest.mark.tools
def test_the_port_answers_as_node_ignore_on_fuzzed_files() -> None:
    rng = random.Random(23)
    cases = [random_case(rng) for _ in range(3000)]
    node = subprocess.run(
        ["node", str(REPO / "tests/fakes/node_ignore.js"), str(REPO / "node_modules/ignore")],
        input=json.dumps([{"content": base64.b64encode(c).decode(), "paths": p} for c, p in cases]),
        capture_output=True,
        text=True,
        check=True,
    )
    mismatches = []
    for (content, paths), expected in zip(cases, json.loads(node.stdout), strict=True):
        text = content.decode("utf-8", errors="replace")
        try:
            rules = IgnoreRules(text.replace("\r\n", "\n").split("\n"))
        except IgnoreSyntaxError:
            if expected != "error":
                mismatches.append((content, "refused by the port"))
            continue
        if expected == "error":
            mismatches.append((content, "refused by node-ignore"))
            continue
        mismatches += [
            (content, path) for path, ignored in zip(paths, expected, strict=True) if rules.ignores(path) != ignored
        ]
    assert mismatches == []
