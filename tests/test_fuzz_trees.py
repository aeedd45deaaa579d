"""Property-based fuzzing of the project trees check and convert read (issue 23): symlinks in and out, BOMs,
nested JSON and XML, odd and invalid .forceignore files, FIFOs.

Each example copies a small project into ``parent/project``, beside a sentinel file, a ``.forceignore`` that
ignores everything, and a ``node_modules`` whose pinned-looking packages are a sentinel tool; applies 1-4
mutations; then runs ``apexgen check --json``, ``apexgen convert --zip`` and the tools lookup. Every example
must end with a documented exit code other than 123 (no traceback), an exit 2 must be one line
``error: ...``, the check's stdout must be one JSON document, and nothing outside the project may be read:
a Python audit hook records every file and folder opened while the commands run, and any under ``parent``
but outside the project fails the example (as would the sentinel tool's marker file appearing).

The suite runs a small budget; ``scripts/fuzz.py --trees`` runs a longer one and prints the outcomes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from apexgen.check import toolchain
from apexgen.cli import main
from apexgen.errors import ExitCode
from apexgen.pins import PINNED_PACKAGES
from tests.test_fuzz import EXAMPLES, SEED
from tests.test_secure_forceignore import LINE_PIECES, write_project

OUTCOMES: Counter[str] = Counter()  # for scripts/fuzz.py
DECLARED = {int(code) for code in ExitCode} - {int(ExitCode.INTERNAL)}
DEEP_JSON = "[" * 50_000 + "]" * 50_000

# Paths opened while a command runs (the "open", "os.listdir" and "os.scandir" audit events of this process).
_opened: list[str] | None = None


def _audit(event_name: str, arguments: tuple) -> None:
    if _opened is not None and event_name in ("open", "os.listdir", "os.scandir") and arguments:
        path = arguments[0]
        if isinstance(path, (str, bytes, os.PathLike)):
            _opened.append(os.fsdecode(path))


sys.addaudithook(_audit)  # hooks cannot be removed: this one records only while _opened is a list

MUTATIONS = [
    "file-symlink-out",
    "folder-symlink-out",
    "file-symlink-in",
    "folder-symlink-in",
    "dangling-symlink",
    "symlink-loop",
    "fifo",
    "forceignore-bom-blank",
    "forceignore-odd-lines",
    "forceignore-invalid-utf8",
    "forceignore-symlink-out",
    "sfdx-deep-json",
    "sfdx-bom",
    "sfdx-symlink-out",
    "xml-deep",
    "class-bom",
    "manifest-deep-json",
    "package-dir-symlink-out",
]


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, str]]:
    chosen = draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=4))
    odd = "\n".join(
        "".join(draw(st.lists(st.sampled_from(LINE_PIECES), max_size=5))) for _ in range(draw(st.integers(1, 4)))
    )
    return [(name, odd) for name in chosen]


def mutate(root: Path, parent: Path, name: str, odd: str) -> None:
    classes = root / "force-app/main/default/classes"
    if not classes.is_dir() or classes.is_symlink():
        return
    if name == "file-symlink-out" and not os.path.lexists(classes / "Out.cls"):
        (classes / "Out.cls").symlink_to(parent / "outside" / "Secret.cls")
        (classes / "Out.cls-meta.xml").write_text((classes / "A.cls-meta.xml").read_text())
    elif name == "folder-symlink-out" and not os.path.lexists(classes / "out"):
        (classes / "out").symlink_to(parent / "outside")
    elif name == "file-symlink-in" and not os.path.lexists(classes / "In.cls"):
        (root / "In.cls").write_text("public class In {}\n")
        (classes / "In.cls").symlink_to(root / "In.cls")
        (classes / "In.cls-meta.xml").write_text((classes / "A.cls-meta.xml").read_text())
    elif name == "folder-symlink-in" and not os.path.lexists(classes / "shared"):
        shared = root / "shared"
        shared.mkdir(exist_ok=True)
        (shared / "B.cls").write_text("public class B {}\n")
        (shared / "B.cls-meta.xml").write_text((classes / "A.cls-meta.xml").read_text())
        (classes / "shared").symlink_to(shared)
    elif name == "dangling-symlink" and not os.path.lexists(classes / "Gone.cls"):
        (classes / "Gone.cls").symlink_to(classes / "nothing.cls")
    elif name == "symlink-loop" and not os.path.lexists(classes / "loop"):
        (classes / "loop").symlink_to(classes)
    elif name == "fifo" and not os.path.lexists(classes / "Pipe.cls"):
        os.mkfifo(classes / "Pipe.cls")
    elif name == "forceignore-bom-blank":
        _write_forceignore(root, "\ufeff\n**/jsconfig.json\n".encode())
    elif name == "forceignore-odd-lines":
        _write_forceignore(root, odd.encode("utf-8", errors="surrogatepass"))
    elif name == "forceignore-invalid-utf8":
        _write_forceignore(root, b"\xff\xfe**/x\n\xc3(\n")
    elif name == "forceignore-symlink-out":
        _write_forceignore(root, None)
        (root / ".forceignore").symlink_to(parent / ".forceignore")
    elif name == "sfdx-deep-json":
        (root / "sfdx-project.json").write_text('{"packageDirectories": ' + DEEP_JSON + "}")
    elif name == "sfdx-bom":
        _prepend(root / "sfdx-project.json", b"\xef\xbb\xbf")
    elif name == "sfdx-symlink-out" and not (root / "sfdx-project.json").is_symlink():
        shutil.copy(root / "sfdx-project.json", parent / "outside" / "sfdx-project.json")
        (root / "sfdx-project.json").unlink()
        (root / "sfdx-project.json").symlink_to(parent / "outside" / "sfdx-project.json")
    elif name == "xml-deep":
        (classes / "A.cls-meta.xml").write_text("<ApexClass>" + "<a>" * 5000 + "</a>" * 5000 + "</ApexClass>\n")
    elif name == "class-bom":
        _prepend(classes / "A.cls", b"\xef\xbb\xbf")
    elif name == "manifest-deep-json":
        (root / ".apexgen").mkdir(exist_ok=True)
        (root / ".apexgen" / "manifest.json").write_text('{"version": 1, "files": ' + DEEP_JSON + "}")
    elif name == "package-dir-symlink-out" and not os.path.lexists(root / "linked"):
        (root / "linked").symlink_to(parent / "outside")
        path = root / "sfdx-project.json"
        if path.is_file() and not path.is_symlink():
            try:
                data = json.loads(path.read_text("utf-8-sig"))
                data["packageDirectories"].append({"path": "linked"})
                path.write_text(json.dumps(data))
            except (ValueError, KeyError, AttributeError, TypeError, RecursionError):
                pass


def _write_forceignore(root: Path, data: bytes | None) -> None:
    path = root / ".forceignore"
    if os.path.lexists(path):
        path.unlink()
    if data is not None:
        path.write_bytes(data)


def _prepend(path: Path, data: bytes) -> None:
    if path.is_file() and not path.is_symlink():
        path.write_bytes(data + path.read_bytes())


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("fuzz-trees-base") / "project")
    return root


def make_parent(work: Path) -> Path:
    """``work/parent``: the sentinels a project inside it must never read or run."""
    parent = work / "parent"
    (parent / "outside").mkdir(parents=True)
    (parent / "SENTINEL.txt").write_text("never read\n")
    (parent / ".forceignore").write_text("**\n")  # would leave nothing to check or deploy
    (parent / "outside" / "Secret.cls").write_text("public class Secret { String key = 'outside'; }\n")
    marker = work / "sentinel-tool-ran"
    for package, version in PINNED_PACKAGES.items():
        folder = parent / "node_modules" / package
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(json.dumps({"name": package, "version": version}))
    (parent / "node_modules" / "prettier" / "index.mjs").write_text(
        f"import {{ writeFileSync }} from 'node:fs';\nwriteFileSync({json.dumps(str(marker))}, 'ran');\n"
    )
    return parent


def run(args: list[str]) -> tuple[int, str, str, list[str]]:
    global _opened
    _opened = []
    try:
        result = CliRunner().invoke(main, args, env={"APEXGEN_NO_DAEMON": "1"})
    finally:
        opened, _opened = _opened, None
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"{args}: {result.exception!r}"
    return result.exit_code, result.stdout, result.stderr, opened


def outside_reads(opened: list[str], parent: Path, root: Path) -> list[str]:
    real_parent, real_root = parent.resolve(), root.resolve()
    found = []
    for path in opened:
        real = Path(os.path.realpath(path))
        if real_parent in real.parents and real != real_root and real_root not in real.parents:
            found.append(path)
    return found


@seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(changes=mutations())
def test_check_and_convert_read_only_the_project(
    base: Path, tmp_path_factory: pytest.TempPathFactory, changes: list[tuple[str, str]]
) -> None:
    work = tmp_path_factory.mktemp("fuzz-trees")
    parent = make_parent(work)
    root = parent / "project"
    shutil.copytree(base, root, symlinks=True)
    for name, odd in changes:
        mutate(root, parent, name, odd)
    names = sorted({name for name, _ in changes})

    code, stdout, stderr, opened = run(["check", "--project-dir", str(root), "--json"])
    assert code in DECLARED and "Traceback" not in stderr, f"{names}: check exit {code}: {stderr}"
    assert json.loads(stdout)["status"] == code, names
    reads = outside_reads(opened, parent, root)
    outcome = [f"check {code}"]

    code, stdout, stderr, opened = run(["convert", "--project-dir", str(root), "--zip", str(work / "out.zip")])
    assert code in DECLARED and "Traceback" not in stderr, f"{names}: convert exit {code}: {stderr}"
    if code == ExitCode.USAGE:
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), f"{names}: {stderr!r}"
        outcome.append("convert 2: " + _kind(lines[0]))
    else:
        outcome.append(f"convert {code}")
    reads += outside_reads(opened, parent, root)

    global _opened
    _opened = []
    try:
        found = toolchain.find_node_modules(root)
    finally:
        opened, _opened = _opened, None
    assert found is None or parent not in found.parents, f"{names}: tools from {found}"
    assert not (work / "sentinel-tool-ran").exists()
    assert reads == [], f"{names}: read outside the project: {reads}"
    label = " | ".join(outcome)
    event(label)
    OUTCOMES[label] += 1
    shutil.rmtree(work)


def _kind(line: str) -> str:
    """The rule an error line states, without the file it names (for counting outcomes)."""
    for kind in (
        "symbolic link that leads outside",
        "symbolic link to nothing",
        "a loop",
        "neither a file nor a folder",
        "nested too deeply",
        "nested deeper than",
        "no pattern sf can read",
        "not well-formed XML",
        "outside the project",
        "cannot be read",
    ):
        if kind in line:
            return kind
    return line.split(": ", 2)[-1][:50]
