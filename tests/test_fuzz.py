"""Property-based fuzzing of `apexgen generate` with hostile specs, manifests and project trees.

Each example starts from a small generated project, mutates its spec, manifest or files, runs
`apexgen check --json` (exit 0, 1 or 2, one JSON document, nothing changed), then `apexgen generate`, and
asserts what issue 11 asks of every run:
- exit 0, and the fast check finds no error in the result;
- or exit 2 with one line `error: <file>: ...` naming the file (and key) and the rule, or exit 3 (hand
  edits), and in both cases nothing in the project changed;
- never a traceback and never the internal-error exit code; nothing outside the project is touched.

The suite runs a fixed seed and a small budget; scripts/fuzz.py runs a longer one (APEXGEN_FUZZ_EXAMPLES,
APEXGEN_FUZZ_SEED) and prints how the examples ended (OUTCOMES).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tomllib
from collections import Counter
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from apexgen.check.runner import run_checks
from apexgen.cli import main
from apexgen.errors import ExitCode

EXAMPLES = int(os.environ.get("APEXGEN_FUZZ_EXAMPLES", "30"))
SEED = int(os.environ.get("APEXGEN_FUZZ_SEED", "20261202"))
INTERNAL_ERROR = int(ExitCode.INTERNAL)
OUTCOMES: Counter[str] = Counter()  # how the examples of this process ended, for scripts/fuzz.py

# Small on purpose: every example generates it; it still has a generate and a feedback prompt, a Flow
# and components (one with chosen targets and public inputs).
BASE_SPEC = """\
[project]
api_version = "65.0"
prefix = "Ai"

[models]
fast = "sfdc_ai__DefaultOpenAIGPT4OmniMini"

[[prompt]]
name = "DraftReply"
capability = "generate"
model = "fast"
template = "Reply to {customerName} about order {orderNumber}."
inputs = [
  { name = "customerName", label = "Customer Name", required = true },
  { name = "orderNumber", type = "Integer" },
]
expose = ["flow", "lwc"]
flows = ["autolaunched"]
lwc_targets = ["app_page", "flow_screen"]
lwc_public = ["customerName"]
feedback = "RateAnswer"
label = "Draft Reply"
description = "Drafts a reply to a customer."

[[prompt]]
name = "RateAnswer"
capability = "feedback"
expose = ["flow", "lwc"]
"""

HOSTILE_STRINGS = [
    "",
    ".",
    "..",
    "../outside",
    "/etc/passwd",
    ".git",
    ".apexgen",
    "sfdx-project.json",
    "force-app",
    "src",
    "force-app/../..",
    "constructor",
    "toString",
    "Test",
    "spec",
    "nan",
    "a" * 300,
    "x\u0000y",
    "{",
    "}}",
    "{customerName}",
    "Ai" * 20,
    "sfdc_ai__DefaultGPT41",
    "sfdc_ai__DefaultOpenAIGPT4",
    "61.0",
    "9.0",
    "en_US",
    "lwc",
    "flow",
    "screen",
    "chat",
    "embed",
    "feedback",
    "generate",
    "\u202e",
    "\ufeff",
    "é",
    "__proto__",
]
HOSTILE_PATHS = [
    "../outside/victim.txt",
    "/tmp/apexgen-fuzz-absolute.txt",
    ".git/config",
    ".apexgen/manifest.json",
    "force-app/main/default",
    "force-app/main/default/classes/../../../../outside/victim.txt",
    "sfdx-project.json",
    "apexgen.toml",
    "force-app/main/default/classes/Gone.cls",
    "linked/victim.txt",
    "",
    "force-app//main",
    "C:\\Windows\\x.txt",
]

scalars = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.from_regex(r"[A-Za-z][a-zA-Z0-9]{0,12}", fullmatch=True),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(HOSTILE_STRINGS + ["name", "type", "required"]), inner, max_size=3),
    ),
    max_leaves=6,
)


def plausible(current: object) -> st.SearchStrategy:
    """Values of the same type as ``current``: names, numbers in range, shorter or reordered lists."""
    if isinstance(current, bool):
        return st.booleans()
    if isinstance(current, str):
        return st.one_of(
            st.from_regex(r"[A-Z][a-zA-Z0-9]{0,20}", fullmatch=True),
            st.sampled_from(HOSTILE_STRINGS),
            st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40),
        )
    if isinstance(current, (int, float)):
        return st.floats(min_value=0, max_value=1)
    if isinstance(current, list):
        return st.permutations(current).flatmap(
            lambda items: st.integers(0, len(items)).map(lambda n: items[:n] if n else items)
        )
    if isinstance(current, dict):
        return st.just({key: value for key, value in current.items() if key != "required"})
    return values


def _paths(data: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a TOML document (tables and arrays), for mutations to choose from."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, item in data.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += _paths(item, prefix + (index,))
    return found


@st.composite
def spec_mutation(draw: st.DrawFn, gentle: bool = False) -> tuple[str, object]:
    """1 to 3 edits of the base spec; ``gentle``: one edit that keeps the value's type, so that more specs
    pass validation and the fast check judges what they generate (labels in any script, other names)."""
    data = tomllib.loads(BASE_SPEC)
    for _ in range(1 if gentle else draw(st.integers(1, 3))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        actions = (
            ["plausible"] if gentle else ["set", "set", "plausible", "plausible", "plausible", "delete", "add-key"]
        )
        action = draw(st.sampled_from(actions))
        if action == "plausible":  # a value of the type already there: more specs get past validation
            parent[path[-1]] = draw(plausible(parent[path[-1]]))
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add-key" and isinstance(parent, dict):
            parent[draw(st.sampled_from(HOSTILE_STRINGS + ["package_dir", "namespace", "probability"]))] = draw(values)
        else:
            parent[path[-1]] = draw(values)
    try:
        text = tomli_w.dumps(data)
    except (TypeError, ValueError):
        text = BASE_SPEC
    if not gentle and draw(st.booleans()) and draw(st.booleans()):  # now and then, damage the text itself
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from(["\ufeff", "[", "]]", "=", "\x00", "[[prompt]]\n", "\n[models]\n"]))
            + text[at:]
        )
    return "spec", text


@st.composite
def manifest_mutation(draw: st.DrawFn) -> tuple[str, object]:
    kind = draw(st.sampled_from(["entry", "entry", "digest", "garbage", "folder", "version"]))
    if kind == "entry":
        return "manifest-entry", (draw(st.sampled_from(HOSTILE_PATHS)), draw(st.sampled_from(["real", "zero", "bad"])))
    if kind == "garbage":
        return "manifest-text", draw(
            st.sampled_from(
                [
                    "",
                    "{",
                    "[]",
                    '{"version": 1}',
                    '{"version": 1, "files": []}',
                    '{"version": 2, "files": {}}',
                    "\x00\x01",
                    '{"version": 1, "files": {"a": 1}}',
                ]
            )
        )
    return "manifest-" + kind, None


TREE_MUTATIONS = [
    "force-app-is-a-file",
    "apexgen-is-a-file",
    "classes-symlink-outside",
    "force-app-symlink-outside",
    "package-dir-dotdot",
    "package-dir-symlink",
    "package-dir-missing",
    "package-dir-not-string",
    "sfdx-garbage",
    "sfdx-missing",
    "planned-file-is-a-folder",
    "edit-generated-file",
    "spec-symlink-outside",
    "spec-is-a-folder",
    "namespace-mismatch",
    "journal-garbage",
    "apexgen-symlink-outside",
]


@st.composite
def case(draw: st.DrawFn) -> list[tuple[str, object]]:
    kinds = st.one_of(
        spec_mutation(),
        spec_mutation(gentle=True),
        manifest_mutation(),
        st.tuples(st.just("tree"), st.sampled_from(TREE_MUTATIONS)),
    )
    return draw(st.lists(kinds, min_size=1, max_size=3))


def snapshot(*folders: Path) -> dict[str, object]:
    """Every file, folder and symlink under the folders, with content or target."""
    state: dict[str, object] = {}
    for folder in folders:
        for current, dirs, files in os.walk(folder):
            for name in dirs + files:
                path = Path(current, name)
                key = str(path)
                if path.is_symlink():
                    state[key] = ("link", os.readlink(path))
                elif path.is_dir():
                    state[key] = ("dir",)
                else:
                    state[key] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode)
    return state


def apply(root: Path, outside: Path, mutation: tuple[str, object]) -> None:
    kind, value = mutation
    manifest = root / ".apexgen/manifest.json"
    if kind == "spec":
        _replace(root / "apexgen.toml")
        (root / "apexgen.toml").write_text(value, encoding="utf-8")  # type: ignore[arg-type]
    elif kind == "manifest-entry":
        path, digest = value  # type: ignore[misc]
        data = _manifest_data(manifest)
        if data is None:
            return
        real = {"real": hashlib.sha256(b"precious\n").hexdigest(), "zero": "0" * 64, "bad": "not-a-digest"}[digest]
        data["files"][path] = real
        manifest.write_text(json.dumps(data))
    elif kind == "manifest-text" and manifest.parent.is_dir():
        if manifest.is_dir():
            return
        manifest.write_text(value)  # type: ignore[arg-type]
    elif kind == "manifest-digest":
        data = _manifest_data(manifest)
        if data is not None and data["files"]:
            first = sorted(data["files"])[0]
            data["files"][first] = "f" * 64
            manifest.write_text(json.dumps(data))
    elif kind == "manifest-folder" and manifest.parent.is_dir():
        if manifest.is_file():
            manifest.unlink()
        manifest.mkdir(exist_ok=True)
    elif kind == "manifest-version" and manifest.is_file():
        manifest.write_text(manifest.read_text().replace('"version": 1', '"version": 7'))
    elif kind == "tree":
        tree_mutation(root, outside, str(value))


def _manifest_data(manifest: Path) -> dict | None:
    """The manifest's document when an earlier mutation left it readable, else None."""
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else None


def _replace(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _sfdx(root: Path, change) -> None:
    path = root / "sfdx-project.json"
    if not path.is_file():
        return
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return
    if isinstance(data, dict) and isinstance(data.get("packageDirectories"), list):
        change(data)
        path.write_text(json.dumps(data, indent=2))


def tree_mutation(root: Path, outside: Path, name: str) -> None:
    classes = root / "force-app/main/default/classes"
    if name == "force-app-is-a-file":
        _replace(root / "force-app")
        (root / "force-app").write_text("a file\n")
    elif name == "apexgen-is-a-file":
        _replace(root / ".apexgen")
        (root / ".apexgen").write_text("a file\n")
    elif name == "classes-symlink-outside" and classes.parent.is_dir():
        _replace(classes)
        classes.symlink_to(outside)
    elif name == "force-app-symlink-outside":
        _replace(root / "force-app")
        (root / "force-app").symlink_to(outside)
    elif name == "package-dir-dotdot":
        _sfdx(root, lambda d: d["packageDirectories"].append({"path": "../outside"}))
    elif name == "package-dir-symlink":
        if not (root / "linked").exists():
            (root / "linked").symlink_to(outside)
        _sfdx(root, lambda d: d["packageDirectories"].append({"path": "linked"}))
    elif name == "package-dir-missing":
        _sfdx(root, lambda d: d.__setitem__("packageDirectories", [{"path": "src", "default": True}]))
    elif name == "package-dir-not-string":
        _sfdx(root, lambda d: d["packageDirectories"].append({"path": 7}))
    elif name == "sfdx-garbage":
        (root / "sfdx-project.json").write_text("{ not json")
    elif name == "sfdx-missing":
        (root / "sfdx-project.json").unlink(missing_ok=True)
    elif name == "namespace-mismatch":
        _sfdx(root, lambda d: d.__setitem__("namespace", "other"))
    elif name == "planned-file-is-a-folder" and classes.is_dir() and not classes.is_symlink():
        target = classes / "AiVectors.cls"
        _replace(target)
        target.mkdir()
    elif name == "edit-generated-file" and classes.is_dir() and not classes.is_symlink():
        target = classes / "AiVectors.cls"
        if target.is_file():
            target.write_text(target.read_text() + "// edited\n")
    elif name == "spec-symlink-outside":
        (outside / "apexgen.toml").write_text(BASE_SPEC)
        _replace(root / "apexgen.toml")
        (root / "apexgen.toml").symlink_to(outside / "apexgen.toml")
    elif name == "spec-is-a-folder":
        _replace(root / "apexgen.toml")
        (root / "apexgen.toml").mkdir()
    elif name == "apexgen-symlink-outside":
        if (root / ".apexgen").is_dir() and not (root / ".apexgen").is_symlink():
            shutil.copytree(root / ".apexgen", outside / ".apexgen")
        _replace(root / ".apexgen")
        (root / ".apexgen").symlink_to(outside / ".apexgen", target_is_directory=True)
    elif name == "journal-garbage" and (root / ".apexgen").is_dir():
        (root / ".apexgen/journal.json").write_text("{")


@pytest.fixture(scope="module")
def generated_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project every example starts from: `apexgen init`, the small spec, `apexgen generate`."""
    root = tmp_path_factory.mktemp("fuzz-base") / "project"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(root)]).exit_code == 0
    (root / "apexgen.toml").write_text(BASE_SPEC)
    with contextlib.chdir(root):
        result = runner.invoke(main, ["generate"])
    assert result.exit_code == 0, result.output
    return root


@seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(mutations=case())
def test_generate_survives_hostile_input(
    generated_project: Path, tmp_path_factory: pytest.TempPathFactory, mutations: list[tuple[str, object]]
) -> None:
    work = tmp_path_factory.mktemp("fuzz")
    root, outside = work / "project", work / "outside"
    shutil.copytree(generated_project, root, symlinks=True)
    outside.mkdir()
    (outside / "victim.txt").write_text("precious\n")
    for mutation in mutations:
        apply(root, outside, mutation)
    before, outside_before = snapshot(root, outside), snapshot(outside)

    check = CliRunner().invoke(main, ["check", "--project-dir", str(root), "--json"])
    check_crashed = check.exception is not None and not isinstance(check.exception, SystemExit)
    assert not check_crashed and check.exit_code in (0, 1, 2), f"{mutations}: check: {check.output}{check.exception!r}"
    assert json.loads(check.stdout)["status"] == check.exit_code  # one JSON document, whatever the project holds
    assert snapshot(root, outside) == before, f"{mutations}: check changed files"

    with contextlib.chdir(root):
        result = CliRunner().invoke(main, ["generate"])

    outcome = f"exit {result.exit_code}"
    if result.exit_code == 2:
        outcome += ": " + result.stderr.split(":")[1].strip().split("/")[-1][:40]
    event(outcome)
    OUTCOMES[outcome] += 1
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed and result.exit_code != INTERNAL_ERROR, f"{mutations}: {result.output}{result.exception!r}"
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2, 3), f"{mutations}: exit {result.exit_code}: {result.output}"
    assert snapshot(outside) == outside_before, f"{mutations}: a file outside the project changed"
    if result.exit_code == 0:
        errors = [f for f in run_checks(root, deep=False) if f.severity == "error"]
        assert not errors, f"{mutations}: generate exited 0 but the fast check finds {errors}"
    else:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), f"{mutations}: {result.stderr!r}"
        assert snapshot(root, outside) == before, f"{mutations}: exit {result.exit_code} but files changed"
    shutil.rmtree(work)
