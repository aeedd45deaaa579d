"""Issue 11: hostile input and data safety. Each test reproduced its defect before the fix.

Every bad input ends in one line naming the file (or flag), the key and the rule, with exit 2 (or 3, 4 where
documented); nothing outside the project is touched, nothing edited is lost, nothing half-written is left.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from apexgen.cli import main

CLASSES = "force-app/main/default/classes"
MANIFEST = ".apexgen/manifest.json"


def one_error_line(result: Result, exit_code: int = 2) -> str:
    """The single error line of a refused command: no traceback, nothing else on stderr."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def tree(root: Path) -> dict[str, object]:
    """Every file (content), folder and symlink under root: to show that nothing changed."""
    state: dict[str, object] = {}
    for current, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(current, name)
            rel = str(path.relative_to(root))
            state[rel] = (
                ("link", os.readlink(path)) if path.is_symlink() else ("dir",) if path.is_dir() else path.read_bytes()
            )
    return state


def edit_spec(root: Path, old: str, new: str) -> None:
    spec = root / "apexgen.toml"
    text = spec.read_text()
    assert old in text, old
    spec.write_text(text.replace(old, new, 1))


@pytest.fixture
def generated(cli, project: Path) -> Path:
    assert cli("generate", cwd=project).exit_code == 0
    return project


def generate(project: Path, *args: str) -> Result:
    with _cwd(project):
        return CliRunner().invoke(main, ["generate", *args])


class _cwd:
    def __init__(self, path: Path) -> None:
        self.path, self.old = path, ""

    def __enter__(self) -> None:
        self.old = os.getcwd()
        os.chdir(self.path)

    def __exit__(self, *exc: object) -> None:
        os.chdir(self.old)


# --- 1. the manifest cannot reach outside the project ----------------------------------------------


@pytest.mark.parametrize("entry", ["../victim/notes.txt", "ABSOLUTE", "linked/notes.txt", ".git/config"])
def test_a_manifest_entry_outside_the_project_is_refused_and_nothing_is_deleted(generated: Path, entry: str) -> None:
    victim = generated.parent / "victim"
    victim.mkdir()
    (victim / "notes.txt").write_text("precious\n")
    (generated / "linked").symlink_to(victim)
    (generated / ".git").mkdir()
    (generated / ".git/config").write_text("precious\n")
    entry = str(victim / "notes.txt") if entry == "ABSOLUTE" else entry
    manifest = json.loads((generated / MANIFEST).read_text())
    manifest["files"][entry] = hashlib.sha256(b"precious\n").hexdigest()  # the file's real digest
    (generated / MANIFEST).write_text(json.dumps(manifest))
    before = tree(generated.parent)

    line = one_error_line(generate(generated))

    assert line.startswith(f'error: {MANIFEST}: files["{entry}"]: ')
    assert tree(generated.parent) == before


# --- 4. --force never deletes a hand edit -----------------------------------------------------------


def test_force_keeps_a_hand_edited_file_of_a_removed_prompt(generated: Path) -> None:
    edited = generated / CLASSES / "CompareTextsService.cls"
    edited.write_text(edited.read_text() + "// keep me\n")
    text = (generated / "apexgen.toml").read_text()
    start, end = text.index('[[prompt]]\nname = "CompareTexts"'), text.index('[[prompt]]\nname = "RateAnswer"')
    (generated / "apexgen.toml").write_text(text[:start] + text[end:])

    result = generate(generated, "--force")

    assert result.exit_code == 0, result.output
    assert "keep " + f"{CLASSES}/CompareTextsService.cls (edited by hand; no longer generated)" in result.stderr
    assert edited.read_text().endswith("// keep me\n")
    assert not (generated / CLASSES / "CompareTextsServiceTest.cls").exists()  # unedited: removed
    manifest = json.loads((generated / MANIFEST).read_text())["files"]
    assert f"{CLASSES}/CompareTextsService.cls" not in manifest  # forgotten: the next generate leaves it alone
    assert generate(generated).exit_code == 0


# --- 5. interrupted writes --------------------------------------------------------------------------


def _change_the_spec(project: Path) -> None:
    edit_spec(project, "in three bullets", "in two bullets")
    edit_spec(project, "Drafts a reply", "Writes a reply")


def test_a_write_that_fails_midway_leaves_files_apexgen_still_recognises(
    cli, generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apexgen.generate import write

    _change_the_spec(generated)
    real_replace, calls = os.replace, []

    def disk_full_on_the_third(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(write.os, "replace", disk_full_on_the_third)
    line = one_error_line(generate(generated))
    monkeypatch.undo()

    assert "No space left on device" in line and "the next 'apexgen generate' finishes the job" in line
    assert (generated / ".apexgen/journal.json").exists()
    check = cli("check", "--project-dir", str(generated))
    assert "edited" not in check.stdout and "interrupted" in check.stdout
    result = generate(generated)
    assert result.exit_code == 0, result.output
    assert not (generated / ".apexgen/journal.json").exists()
    assert cli("check", "--project-dir", str(generated)).stdout == ""


KILL_AT_THE_NTH_RENAME = """
import os, signal, sys
from apexgen.generate import write
from apexgen.cli import main
real, calls, kill_at = os.replace, [], int(sys.argv[1])
def replace(src, dst):
    calls.append(dst)
    if len(calls) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
write.os.replace = replace
sys.argv = ["apexgen", "generate"]
main()
"""


@pytest.mark.parametrize("killed_at", [2, 6, 10])  # renames: the journal, 8 files, the manifest
def test_a_generate_killed_midway_is_finished_by_the_next(cli, generated: Path, killed_at: int) -> None:
    _change_the_spec(generated)
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT_THE_NTH_RENAME, str(killed_at)], cwd=generated, capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL

    check = cli("check", "--project-dir", str(generated))
    assert "edited by hand" not in check.stdout, check.stdout
    result = generate(generated)
    assert result.exit_code == 0, result.output
    assert cli("check", "--project-dir", str(generated)).stdout == ""


# --- tracebacks: files and folders in the way -------------------------------------------------------


@pytest.mark.parametrize(
    "obstacle, message",
    [
        ("force-app", "force-app: is a file where apexgen needs a folder"),
        (".apexgen", ".apexgen: is a file where apexgen needs a folder"),
        (f"{CLASSES}/AiModelsClient.cls", f"{CLASSES}/AiModelsClient.cls: is a folder where apexgen writes a file"),
        (MANIFEST, f"{MANIFEST}: cannot be read (Is a directory)"),
    ],
)
def test_files_and_folders_in_the_way_are_named(project: Path, obstacle: str, message: str) -> None:
    target = project / obstacle
    target.parent.mkdir(parents=True, exist_ok=True)
    target.mkdir() if obstacle.endswith((".cls", ".json")) else target.write_text("in the way\n")
    before = tree(project)

    line = one_error_line(generate(project))

    assert line.startswith(f"error: {message}")
    assert tree(project) == before


def test_a_manifest_entry_naming_a_folder_is_refused_by_generate_and_check(cli, generated: Path) -> None:
    manifest = json.loads((generated / MANIFEST).read_text())
    manifest["files"]["force-app/main/default"] = "0" * 64
    (generated / MANIFEST).write_text(json.dumps(manifest))

    line = one_error_line(generate(generated))
    check = cli("check", "--project-dir", str(generated), "--json")

    assert (
        line
        == f"error: {MANIFEST}: files[\"force-app/main/default\"]: 'force-app/main/default' is a folder; the manifest lists files"
    )
    findings = json.loads(check.stdout)["findings"]
    assert [(f["file"], f["rule"]) for f in findings] == [(MANIFEST, "unreadable")]


def test_a_corrupt_manifest_is_a_finding_and_check_goes_on(cli, generated: Path) -> None:
    (generated / MANIFEST).write_text("{not json")
    (generated / CLASSES / "Orphan.cls").write_text("public class Orphan {}\n")  # no -meta.xml: another finding

    check = cli("check", "--project-dir", str(generated), "--json")

    assert check.exit_code == 1
    rules = {(f["file"], f["rule"]) for f in json.loads(check.stdout)["findings"]}
    assert (MANIFEST, "unreadable") in rules and (f"{CLASSES}/Orphan.cls", "missing-meta") in rules
