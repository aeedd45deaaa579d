"""scripts/compare_convert.py on tiny hand-written metadata-format trees: what it reports, what it forgives."""

from __future__ import annotations

import importlib.util
import io
import shutil
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_convert.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_convert", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script loads
    spec.loader.exec_module(module)
    return module


compare_convert = load_script()

PACKAGE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types>
        <members>Greeter</members>
        <name>ApexClass</name>
    </types>
    <types>
        <members>Thing__c.Size__c</members>
        <name>CustomField</name>
    </types>
    <types>
        <members>Thing__c</members>
        <name>CustomObject</name>
    </types>
    <types>
        <members>assets</members>
        <name>StaticResource</name>
    </types>
    <version>64.0</version>
</Package>
"""
OBJECT = """<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
    <label>Thing</label>
    <fields>
        <fullName>Size__c</fullName>
        <label>Size</label>
        <type xsi:nil="false">Number</type>
    </fields>
</CustomObject>
"""
ASSETS = {"css/": b"", "css/site.css": b"body { margin: 0 }", "js/app.js": b"console.log('hi');"}


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def write_tree(root: Path) -> Path:
    files = {
        "package.xml": PACKAGE_XML.encode(),
        "classes/Greeter.cls": b"public class Greeter {}\n",
        "classes/Greeter.cls-meta.xml": b'<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass/>\n',
        "objects/Thing__c.object": OBJECT.encode(),
        "staticresources/assets.resource": zip_bytes(ASSETS),
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    return write_tree(tmp_path / "apexgen"), write_tree(tmp_path / "sf")


def run(ours: Path, theirs: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    status = compare_convert.main(["--apexgen-out", str(ours), "--sf-out", str(theirs), *extra])
    return status, capsys.readouterr().out


def test_identical_trees_exit_0(trees: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(*trees, capsys)
    assert status == 0
    assert "5 files in both outputs; identical; 0 byte-level note(s)" in out


def test_member_missing_from_package_xml_is_reported_by_type(
    trees: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = trees
    package = ours / "package.xml"
    package.write_text(package.read_text().replace("        <members>Thing__c.Size__c</members>\n", ""))
    status, out = run(ours, theirs, capsys)
    assert status == 1
    assert "DIFF  package.xml: CustomField: only in sf: ['Thing__c.Size__c']" in out


def test_attribute_order_and_indentation_alone_are_only_a_note(
    trees: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = trees
    reordered = OBJECT.replace(
        'xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"  xmlns="http://soap.sforce.com/2006/04/metadata"',
    ).replace("    <", "\t<")
    (ours / "objects/Thing__c.object").write_text(reordered)
    status, out = run(ours, theirs, capsys)
    assert status == 0
    assert "note  objects/Thing__c.object: same XML after canonicalisation, different bytes" in out
    assert run(ours, theirs, capsys, "--strict")[0] == 1


def test_xml_text_difference_names_the_element(trees: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    ours, theirs = trees
    (ours / "objects/Thing__c.object").write_text(OBJECT.replace("<label>Size</label>", "<label>Sise</label>"))
    status, out = run(ours, theirs, capsys)
    assert status == 1
    assert (
        "DIFF  objects/Thing__c.object: XML differs at /CustomObject/fields[1]/label[1]: text 'Sise' != 'Size'" in out
    )


def test_static_resource_zip_entry_difference_is_reported_by_entry(
    trees: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = trees
    changed = ASSETS | {"js/app.js": b"console.log('bye');"}
    (ours / "staticresources/assets.resource").write_bytes(zip_bytes(changed))
    status, out = run(ours, theirs, capsys)
    assert status == 1
    assert "DIFF  staticresources/assets.resource: zip entry js/app.js differs" in out
    assert "css/site.css" not in out


def test_zip_with_other_timestamps_and_order_is_the_same_resource(
    trees: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = trees
    (ours / "staticresources/assets.resource").write_bytes(zip_bytes(dict(reversed(ASSETS.items()))))
    status, out = run(ours, theirs, capsys)
    assert status == 0
    assert "note  staticresources/assets.resource: zip entries in another order" in out


def test_missing_and_extra_files_and_changed_bytes(
    trees: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = trees
    (ours / "classes/Greeter.cls").write_bytes(b"public class Greeter { }\n")
    (ours / "classes/Greeter.cls-meta.xml").unlink()
    (ours / "classes/Extra.cls").write_bytes(b"x")
    status, out = run(ours, theirs, capsys)
    assert status == 1
    assert "DIFF  classes/Extra.cls: only in apexgen's output" in out
    assert "DIFF  classes/Greeter.cls-meta.xml: only in sf's output" in out
    assert "DIFF  classes/Greeter.cls: bytes differ (25 bytes in apexgen, 24 in sf)" in out


def test_runs_both_converters_and_stops_on_a_failing_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "force-app", "default": true}]}')
    reference = write_tree(tmp_path / "reference")
    # Stand-ins for both converters: copy the reference tree to the output folder they are given.
    copier = f"import shutil, sys; shutil.copytree({str(reference)!r}, sys.argv[-1])"
    fake_sf = tmp_path / "fake-sf"
    fake_sf.write_text(f"#!{sys.executable}\n{copier}\n")
    fake_sf.chmod(0o755)
    apexgen_cmd = f"{sys.executable} -c {copier!r} {{out}}"
    args = ["--project", str(project), "--sf", str(fake_sf), "--keep", str(tmp_path / "kept")]
    assert compare_convert.main([*args, "--apexgen-cmd", apexgen_cmd]) == 0
    assert (tmp_path / "kept/sf/package.xml").is_file()
    assert compare_convert.main([*args, "--apexgen-cmd", f"{sys.executable} -c 'raise SystemExit(3)'"]) == 2
    assert "compare_convert: apexgen failed with exit status 3" in capsys.readouterr().err


def test_a_folder_without_package_xml_is_one_line_and_exit_2(
    trees: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = trees
    shutil.rmtree(ours)
    assert compare_convert.main(["--apexgen-out", str(ours), "--sf-out", str(theirs)]) == 2
    assert capsys.readouterr().err.strip() == f"compare_convert: {ours}: no package.xml in apexgen's output folder"
