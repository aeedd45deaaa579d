"""The fast check, pure Python: sfdx-project.json against Salesforce's JSON Schema, the spec, generated
files against the manifest, source/meta pairs, every metadata XML file against the Metadata API XSD
(see ``apexgen.check.xsd``), API versions, and the fields permission sets grant."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from apexgen.check.agent import check_agent_metadata
from apexgen.check.findings import (
    APEX_SUFFIXES,
    INTERRUPTED_RULE,
    NOT_RUN_SEVERITY,
    SKIPPED_DIRS,
    Finding,
    ProjectFiles,
    not_run,
    starts_with_bom,
)
from apexgen.check.json_positions import json_positions
from apexgen.check.metadata_xml import SPEC_FILE, check_metadata_xml
from apexgen.check.permission_sets import check_permission_sets
from apexgen.errors import SpecError
from apexgen.generate.manifest import JOURNAL, ProjectBusy, records_lock
from apexgen.generate.write import generated_file_states, stray_temporaries
from apexgen.project.containment import outside_reason
from apexgen.project.sfdx_project import as_sf_reads, read_document
from apexgen.salesforce import META_SUFFIX, SFDX_PROJECT_FILE
from apexgen.spec.load import load_spec
from apexgen.untrusted import json_loads


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


@cache
def sfdx_project_schema() -> dict[str, Any]:
    """Salesforce's JSON Schema of sfdx-project.json (a copy from @salesforce/schemas, see schemas/README.md)."""
    text = resources.files("apexgen.check").joinpath("schemas", "sfdx-project.schema.json").read_text("utf-8")
    document: dict[str, Any] = json_loads(text)
    return document


def check_sfdx_project(root: Path) -> tuple[list[Finding], ProjectFiles]:
    """Findings for sfdx-project.json and the project it describes (its package directories).

    When the file cannot be read, the package directories are the root itself, so the rest of the
    project is still checked.
    """
    from jsonschema import Draft7Validator

    root = root.resolve()
    fallback = ProjectFiles(root, [root], None)
    try:
        text, data = read_document(root)
    except FileNotFoundError:
        return [
            Finding(
                SFDX_PROJECT_FILE, 0, 0, "error", "sfdx-schema", "missing", "not found: this is not an SFDX project"
            )
        ], fallback
    except json.JSONDecodeError as exc:
        return [
            Finding(
                SFDX_PROJECT_FILE, exc.lineno, exc.colno, "error", "sfdx-schema", "json", f"not valid JSON: {exc.msg}"
            )
        ], fallback
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding(SFDX_PROJECT_FILE, 0, 0, "error", "sfdx-schema", "unreadable", str(exc))], fallback

    positions = json_positions(text)

    def finding(at: tuple[str | int, ...], rule: str, message: str) -> Finding:
        while at and at not in positions:
            at = at[:-1]
        line, column = _line_col(text, positions[at]) if at else (1, 1)
        pointer = "/" + "/".join(str(p) for p in at)
        return Finding(SFDX_PROJECT_FILE, line, column, "error", "sfdx-schema", rule, f"{pointer}: {message}")

    findings = []
    for error in Draft7Validator(sfdx_project_schema()).iter_errors(data):
        if error.context:  # anyOf/oneOf: the deepest error of the branches names the offending value
            error = max(error.context, key=lambda e: len(e.absolute_path))
        at = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            patterns = error.schema.get("patternProperties", {})
            for key in error.instance:
                if key not in allowed and not any(re.search(p, key) for p in patterns):
                    findings.append(finding(at + (key,), "unknown-key", f"'{key}' is not a known key here"))
        else:
            findings.append(finding(at, str(error.validator), error.message))

    package_dirs = []
    if isinstance(data, dict) and isinstance(data.get("packageDirectories"), list):
        for index, entry in enumerate(data["packageDirectories"]):
            directory = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(directory, str):
                continue
            directory = as_sf_reads(directory)
            outside = outside_reason(root, directory)
            if outside:  # never walked: the check reads nothing outside the project
                findings.append(finding(("packageDirectories", index, "path"), "path", outside))
            elif (root / directory).is_dir():
                package_dirs.append((root / directory).resolve())
            else:
                findings.append(
                    finding(
                        ("packageDirectories", index, "path"), "path", f"package directory '{directory}' does not exist"
                    )
                )
    version = data.get("sourceApiVersion") if isinstance(data, dict) else None
    namespace = data.get("namespace") if isinstance(data, dict) else None
    project = ProjectFiles(root, package_dirs, version if isinstance(version, str) else None, namespace or None)
    return findings, project


# --- fast checks -------------------------------------------------------------------------------


def check_spec(root: Path) -> tuple[list[Finding], Any]:
    """Findings for apexgen.toml, when the project has one, and the spec (None when absent or invalid)."""
    if not (root / SPEC_FILE).exists():
        return [], None
    try:
        return [], load_spec(root / SPEC_FILE)
    except SpecError as exc:
        message = f"{exc.key}: {exc.rule}" if exc.key else exc.rule
        return [Finding(SPEC_FILE, exc.line, exc.column, "error", "spec", "invalid", message)], None


def check_manifest(root: Path) -> list[Finding]:
    """Generated files (from .apexgen/manifest.json) that are missing (error) or edited by hand (moderate),
    and temporary files a killed generate left (moderate). A generate still writing is waited for; when it
    takes too long, the manifest check did not run (the check is incomplete).

    An edited file may well be valid, so it does not fail the check; but the next ``apexgen generate``
    stops on it (exit 3) unless forced, which is worth knowing before then.
    """
    try:
        with records_lock(root, exclusive=False):  # a generate still writing is waited for
            strays = stray_temporaries(root, SKIPPED_DIRS - {".apexgen"})
            states = generated_file_states(root)
            interrupted = (root / JOURNAL).exists()
    except ProjectBusy as exc:  # it takes too long: its files are neither the old nor the new ones
        return [not_run(".", "manifest", str(exc).removeprefix(f"{root}: "))]
    except SpecError as exc:  # a manifest that cannot be trusted; the rest of the project is still checked
        message = f"{exc.key}: {exc.rule}" if exc.key else exc.rule
        return [Finding(exc.file, 0, 0, "error", "manifest", "unreadable", message)]
    findings = [
        Finding(
            path,
            0,
            0,
            "moderate",
            "manifest",
            "stray-temporary",
            "a temporary file an interrupted 'apexgen generate' left; no generated file needs it: delete it",
        )
        for path in strays
    ]
    if interrupted:
        findings.append(
            Finding(
                str(JOURNAL),
                0,
                0,
                NOT_RUN_SEVERITY,
                "manifest",
                INTERRUPTED_RULE,
                "the last 'apexgen generate' did not finish; run it again to finish the job",
            )
        )
    for path, state in states:
        if state == "missing":
            findings.append(
                Finding(
                    path,
                    0,
                    0,
                    "error",
                    "manifest",
                    "missing",
                    "generated file is missing; 'apexgen generate' restores it",
                )
            )
        elif state == "edited":
            findings.append(
                Finding(
                    path,
                    0,
                    0,
                    "moderate",
                    "manifest",
                    "edited",
                    "edited by hand since 'apexgen generate' wrote it; the next generate stops here unless --force",
                )
            )
    return findings


def check_meta_pairs(project: ProjectFiles) -> list[Finding]:
    """Every .cls/.trigger has its -meta.xml, and every .cls-meta.xml/.trigger-meta.xml its source."""
    findings = []
    for path in project.files(
        lambda name: name.endswith(APEX_SUFFIXES) or name.endswith(tuple(s + META_SUFFIX for s in APEX_SUFFIXES))
    ):
        if path.name.endswith(META_SUFFIX):
            if not path.with_name(path.name[: -len(META_SUFFIX)]).exists():
                findings.append(
                    Finding(
                        project.relative(path),
                        0,
                        0,
                        "error",
                        "meta",
                        "orphan-meta",
                        f"no source file {path.name[: -len(META_SUFFIX)]} beside this meta file",
                    )
                )
        elif not path.with_name(path.name + META_SUFFIX).exists():
            findings.append(
                Finding(
                    project.relative(path),
                    0,
                    0,
                    "error",
                    "meta",
                    "missing-meta",
                    f"{path.name}{META_SUFFIX} is missing; the Metadata API does not deploy a source file without it",
                )
            )
    return findings


def check_byte_order_marks(project: ProjectFiles) -> list[Finding]:
    """One note for the Apex files that start with a UTF-8 byte order mark, which the deep check reads without it.

    Whether the platform accepts such a class is not documented; jorje and apex-ls do not (jorje sees an
    invalid identifier at 1:1, apex-ls then misses the class everywhere it is used). The safe design:
    strip it, as most editors' readers do, and say so once.
    """
    marked = [project.relative(path) for path in project.apex_files() if starts_with_bom(path)]
    if not marked:
        return []
    others = f" (and {len(marked) - 1} more)" if len(marked) > 1 else ""
    message = f"starts with a UTF-8 byte order mark{others}; checked without it (whether the org accepts it is unknown)"
    return [Finding(marked[0], 1, 1, "low", "meta", "byte-order-mark", message)]


def project_checks(project: ProjectFiles, use_cache: bool = True) -> list[Finding]:
    """The fast checks other than sfdx-project.json's own (which ``check_sfdx_project`` makes); with
    ``use_cache``, the metadata files unchanged since the last check are not read again."""
    findings, spec = check_spec(project.root)
    findings += check_manifest(project.root)
    findings += check_meta_pairs(project)
    findings += check_byte_order_marks(project)
    findings += check_metadata_xml(project, spec, use_cache)
    findings += check_permission_sets(project)
    findings += check_agent_metadata(project)
    return findings
