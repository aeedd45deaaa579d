"""Builds the fixture projects of the check tests and the benchmark.

``shapes/`` holds twelve hand-written Apex files of common shapes (selector, service with @AuraEnabled and
@InvocableMethod, trigger and its handler, batch, queueable with a finalizer, @RestResource, enum,
interface, implementation with inner classes, test class), none from apexgen's templates. Each is
instantiated many times by replacing ``NNN`` in names with a family number, so a project of any size
stays valid Apex. Family numbers have three digits, so lines keep their length and prettier's layout.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

CASES = Path(__file__).parent
SHAPES = CASES / "shapes"
API_VERSION = "65.0"
SHAPE_FILES = sorted(SHAPES.glob("*.cls")) + sorted(SHAPES.glob("*.trigger"))
META_TYPE = {".cls": "ApexClass", ".trigger": "ApexTrigger"}
FOLDER = {".cls": "classes", ".trigger": "triggers"}


def meta_xml(metadata_type: str, api_version: str = API_VERSION) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{metadata_type} xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        f"    <apiVersion>{api_version}</apiVersion>\n"
        "    <status>Active</status>\n"
        f"</{metadata_type}>\n"
    )


def write_sfdx_project(root: Path, api_version: str = API_VERSION) -> None:
    project = {
        "packageDirectories": [{"path": "force-app", "default": True}],
        "name": root.name,
        "sourceApiVersion": api_version,
    }
    (root / "sfdx-project.json").write_text(json.dumps(project, indent=2) + "\n", "utf-8")


def build_shapes_project(root: Path, families: int) -> Path:
    """An SFDX project of ``families`` x 12 Apex files (each with its -meta.xml) at ``root``."""
    assert 0 < families <= 999, "family numbers have three digits"
    root.mkdir(parents=True, exist_ok=True)
    write_sfdx_project(root)
    shutil.copy(SHAPES / ".prettierrc", root / ".prettierrc")
    default = root / "force-app" / "main" / "default"
    for shape in SHAPE_FILES:
        folder = default / FOLDER[shape.suffix]
        folder.mkdir(parents=True, exist_ok=True)
        source = shape.read_text("utf-8")
        for family in range(1, families + 1):
            number = f"{family:03d}"
            target = folder / shape.name.replace("NNN", number)
            target.write_text(source.replace("NNN", number), "utf-8")
            target.with_name(target.name + "-meta.xml").write_text(meta_xml(META_TYPE[shape.suffix]), "utf-8")
    return root


def copy_case(name: str, root: Path) -> Path:
    """A copy of the fixture project ``check_cases/<name>`` at ``root``."""
    shutil.copytree(CASES / name, root)
    return root
