"""Issue 23, items 1 and 9 (and 12's FIFO): one rule for the files apexgen reads under a package directory.

A symlink that leads out of the project (a file or a whole folder) reached the deploy zip before, while the
check did not follow it; a dangling symlink ended in exit 123; a FIFO hung check --deep and convert. Now the
check and the converter walk with one walker (``ProjectPaths.walk``), which refuses each of them with one line
naming it (exit 2), and follows a symlink that stays inside the project for both alike.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from apexgen.check.findings import ProjectFiles
from apexgen.cli import main
from apexgen.convert.project import convert_project, deploy_zip
from apexgen.project.containment import UnsafeEntry
from tests.test_secure_forceignore import write_project

CLASS_META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">'
    "<apiVersion>65.0</apiVersion><status>Active</status></ApexClass>\n"
)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the project, with a class that must never be deployed."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "Secret.cls").write_text("public class Secret { String key = 'outside'; }\n")
    (folder / "Secret.cls-meta.xml").write_text(CLASS_META)
    return folder


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr


def classes(root: Path) -> Path:
    return root / "force-app" / "main" / "default" / "classes"


@pytest.mark.parametrize("link", ["file", "folder"])
def test_a_symlink_out_of_the_project_is_refused_by_check_convert_and_deploy(
    tmp_path: Path, outside: Path, link: str
) -> None:
    root = write_project(tmp_path / "project")
    if link == "file":
        (classes(root) / "Secret.cls").symlink_to(outside / "Secret.cls")
        (classes(root) / "Secret.cls-meta.xml").write_text(CLASS_META)
        named = "force-app/main/default/classes/Secret.cls"
    else:
        (classes(root) / "more").symlink_to(outside)
        named = "force-app/main/default/classes/more"
    expected = f"{named}: a symbolic link that leads outside the project (to {outside.resolve()}"
    for command in (["check"], ["convert", "--zip", str(tmp_path / "out.zip")]):
        code, stderr = run(*command, "--project-dir", str(root))
        assert (code, stderr.count("\n")) == (2, 1), stderr
        assert expected in stderr
    with pytest.raises(UnsafeEntry, match="leads outside the project"):
        deploy_zip(root, None)  # what apexgen deploy sends
    assert not (tmp_path / "out.zip").exists()


def test_a_symlink_that_stays_inside_is_followed_by_check_and_convert_alike(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    shared = root / "shared"
    shared.mkdir()
    (shared / "B.cls").write_text("public class B {}\n")
    (shared / "B.cls-meta.xml").write_text(CLASS_META)
    (classes(root) / "linked").symlink_to(shared)
    checked = ProjectFiles(root.resolve(), [(root / "force-app").resolve()], None).files(lambda name: True)
    converted = convert_project(root)
    assert sorted(p.name for p in checked) == ["A.cls", "A.cls-meta.xml", "B.cls", "B.cls-meta.xml"]
    assert sorted(converted.outputs) == [
        "classes/A.cls",
        "classes/A.cls-meta.xml",
        "classes/B.cls",
        "classes/B.cls-meta.xml",
    ]
    archive = zipfile.ZipFile(io.BytesIO(deploy_zip(root, None).zip_bytes))
    assert {"classes/A.cls", "classes/B.cls"} <= set(archive.namelist())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (d / "Gone.cls").symlink_to(d / "missing.cls"), "Gone.cls: a symbolic link to nothing"),
        (lambda d: (d / "loop").symlink_to(d), "loop: a symbolic link to a folder it lies in (a loop)"),
        (lambda d: os.mkfifo(d / "Pipe.cls"), "Pipe.cls: neither a file nor a folder (a FIFO, socket or device)"),
    ],
    ids=["dangling symlink", "symlink loop", "FIFO"],
)
def test_entries_apexgen_cannot_read_are_one_line_errors(tmp_path: Path, make, message: str) -> None:
    root = write_project(tmp_path / "project")
    make(classes(root))
    for command in (["check"], ["convert", "--zip", str(tmp_path / "out.zip")]):
        code, stderr = run(*command, "--project-dir", str(root))
        assert code == 2, stderr
        assert message in stderr and stderr.count("\n") == 1


@pytest.mark.tools
def test_a_fifo_never_hangs_the_deep_check(tmp_path: Path) -> None:
    """Issue 23, item 12: a FIFO in a package folder hung check --deep (a tool opened it and waited for a writer).
    The subprocess' timeout only guards against that hang; it measures nothing."""
    import subprocess
    import sys

    root = write_project(tmp_path / "project")
    os.mkfifo(classes(root) / "Pipe.cls")
    checked = subprocess.run(
        [sys.executable, "-m", "apexgen", "check", "--deep", "--project-dir", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "APEXGEN_NO_DAEMON": "1"},
    )
    assert checked.returncode == 2, checked.stderr
    assert "classes/Pipe.cls: neither a file nor a folder (a FIFO, socket or device)" in checked.stderr
    assert checked.stderr.count("\n") == 1


def test_convert_zip_without_a_file_name_is_a_usage_error(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    code, stderr = run("convert", "--project-dir", str(root), "--zip", "")
    assert code == 2
    assert "name the file to write, such as deploy.zip" in stderr


def test_project_files_that_are_symlinks_out_are_refused(tmp_path: Path, outside: Path) -> None:
    """Found by the tree fuzzer: sfdx-project.json linked out of the project was read by check and convert."""
    root = write_project(tmp_path / "project")
    (outside / "sfdx-project.json").write_text((root / "sfdx-project.json").read_text())
    (root / "sfdx-project.json").unlink()
    (root / "sfdx-project.json").symlink_to(outside / "sfdx-project.json")
    for command in (["check"], ["convert", "--zip", str(tmp_path / "out.zip")]):
        code, stderr = run(*command, "--project-dir", str(root))
        assert code == 2 and "sfdx-project.json" in stderr and "leads outside the project" in stderr, stderr
    (root / "sfdx-project.json").unlink()
    (root / "sfdx-project.json").write_text((outside / "sfdx-project.json").read_text())
    (root / ".forceignore").symlink_to(outside / "Secret.cls")
    code, stderr = run("convert", "--project-dir", str(root), "--zip", str(tmp_path / "out.zip"))
    assert code == 2 and ".forceignore: a symbolic link that leads outside the project" in stderr, stderr


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("", "error: --package-dir: the package directory must not be empty"),
        ("/etc", "error: --package-dir: the package directory '/etc' must be a path relative to the project folder"),
        ("absolute-inside", None),
    ],
)
def test_package_dir_messages_say_the_rule(tmp_path: Path, value: str, said: str | None) -> None:
    """Item 12: --package-dir '' and an absolute path inside the project said "lies outside the project"."""
    root = write_project(tmp_path / "project")
    package_dir = str(root / "force-app") if value == "absolute-inside" else value
    code, stderr = run(
        "convert", "--project-dir", str(root), "--zip", str(tmp_path / "x.zip"), "--package-dir", package_dir
    )
    if said is None:
        assert code == 0, stderr
    else:
        assert code == 2 and stderr.startswith(said), stderr
