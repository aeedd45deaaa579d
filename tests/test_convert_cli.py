"""apexgen convert: the metadata-format folder sf project convert source writes, or the deploy zip; bad input is
one line with exit 2 and nothing written."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from apexgen.cli import main
from tests.test_convert import CASES, REPLACEMENT_ENV, assert_same_tree, tree


def convert(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["convert", *args], env=env)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CASES / "strategies" / "project", tmp_path / "project"))


def test_the_folder_is_what_sf_writes(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "mdapi"
    result = convert("--project-dir", str(project), "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert_same_tree(tree(out), tree(CASES / "strategies" / "expected"))
    assert f"Converted 45 components from 2 package directories: 46 files in {out}" in result.stderr
    assert "Skipped 2 files that are not metadata, as sf does: extras/README.md and 1 more" in result.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_the_zip_is_the_deploy_zip_with_replacements(tmp_path: Path) -> None:
    project = Path(shutil.copytree(CASES / "replacements" / "project", tmp_path / "project"))
    target = tmp_path / "deploy.zip"
    result = convert("--project-dir", str(project), "--zip", str(target), env=REPLACEMENT_ENV)
    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(io.BytesIO(target.read_bytes()))
    files = {name: archive.read(name) for name in archive.namelist()}
    assert_same_tree(files, tree(CASES / "replacements" / "expected"))


def test_package_dirs_can_be_chosen(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "mdapi"
    result = convert("--project-dir", str(project), "--output-dir", str(out), "--package-dir", "extras")
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "classes/ExtraTest.cls",
        "classes/ExtraTest.cls-meta.xml",
        "customMetadata/Setting.Default.md",
        "labels/CustomLabels.labels",
        "objects/Gadget__c.object",
        "package.xml",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("lonely", "force-app/main/default/classes/Lonely.cls: has no Lonely.cls-meta.xml beside it"),
        (
            "broken",
            "force-app/main/default/objects/Gadget__c/fields/Size__c.field-meta.xml: not well-formed XML at line 3: "
            "</label> where </fullName> belongs",
        ),
        ("outside", "--package-dir: the package directory '../elsewhere' must not leave the project folder with '..'"),
        ("missing", "nowhere: the package directory does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    project: Path, tmp_path: Path, change: str, message: str
) -> None:
    args = []
    base = project / "force-app/main/default"
    if change == "lonely":
        (base / "classes/Lonely.cls").write_text("public class Lonely {}")
    elif change == "broken":
        field = base / "objects/Gadget__c/fields/Size__c.field-meta.xml"
        field.write_text(field.read_text().replace("<fullName>Size__c</fullName>", "<fullName>Size__c</label>"))
    elif change == "outside":
        (tmp_path / "elsewhere").mkdir()
        args = ["--package-dir", "../elsewhere"]
    else:
        args = ["--package-dir", "nowhere"]
    out = tmp_path / "mdapi"
    result = convert("--project-dir", str(project), "--output-dir", str(out), "--zip", str(tmp_path / "d.zip"), *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert not out.exists() and not (tmp_path / "d.zip").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_folder_that_holds_files_is_not_written_into(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "mdapi"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = convert("--project-dir", str(project), "--output-dir", str(out))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: --output-dir {out}: exists and is not empty; apexgen writes a new folder whole, where sf writes "
        "into it: name a new or empty folder"
    )
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_the_output_dir_rule_is_in_readme_and_help() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    assert "`--output-dir` must be new or empty.** sf writes into an existing folder" in readme
    assert "sf writes into a folder that holds files; apexgen refuses one" in " ".join(
        CliRunner().invoke(main, ["convert", "--help"]).output.split()
    )


def test_a_second_content_file_is_named_as_left_out_not_as_not_metadata(tmp_path: Path) -> None:
    project = tmp_path / "project"
    resources = project / "force-app/main/default/staticresources"
    resources.mkdir(parents=True)
    (project / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app"}]}')
    (resources / "lib.resource-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<StaticResource xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <cacheControl>Public</cacheControl>\n    <contentType>text/css</contentType>\n</StaticResource>\n"
    )
    (resources / "lib.css").write_text("a {}")
    (resources / "lib.js").write_text("x")

    result = convert("--project-dir", str(project), "--output-dir", str(tmp_path / "out"))

    assert result.exit_code == 0, result.output
    assert "not metadata" not in result.stderr
    assert (
        "Warning: Left out force-app/main/default/staticresources/lib.js: a second content file of the component "
        "whose content is force-app/main/default/staticresources/lib.css; a component has one content file, and "
        "sf leaves this one out too"
    ) in result.stderr
    assert (tmp_path / "out/staticresources/lib.resource").read_text() == "a {}"


def test_where_to_write_must_be_said(project: Path) -> None:
    result = convert("--project-dir", str(project))
    assert result.exit_code == 2
    assert "--output-dir DIR (a metadata-format folder) or --zip FILE" in result.stderr
