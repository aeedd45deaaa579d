"""apexgen check that a real project can trust (issue 14).

Each cause of a false deploy blocker seen on public projects is reproduced in a small project of
tests/check_cases (accepted/: metadata the Metadata API takes; platform_types/: code the org compiles that
apex-ls does not know), with real blockers beside them that must stay blockers. Also: Code Analyzer's
severities and --severity-threshold, .forceignore, byte order marks, a tool failing on one file, and
apex-ls' findings kept for an unchanged project.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apexgen.check import apex_ls
from apexgen.check.apex_ls import BLOCKER, UNCERTAIN, ProjectTypes, certainty
from apexgen.check.cache import ProjectCache
from apexgen.check.dependencies import REQUIRED_RULE, required_of
from apexgen.check.fast import check_sfdx_project
from apexgen.check.findings import Finding, at_or_above, severity_threshold, summarize
from apexgen.check.runner import run_checks
from apexgen.errors import UsageError
from tests.check_cases.projects import CASES, copy_case, meta_xml

WORKTREE = Path(__file__).resolve().parent.parent
CLASSES = "force-app/main/default/classes"
BOM = b"\xef\xbb\xbf"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(WORKTREE / "generator")}
    return subprocess.run([sys.executable, "-m", "apexgen", *args], capture_output=True, text=True, env=environment)


def seen(findings: list[Finding]) -> set[tuple[str, str, str, str]]:
    return {(Path(f.file).name, f.severity, f.tool, f.rule) for f in findings}


# --- severities ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "level"),
    [("1", "critical"), ("High", "high"), ("3", "moderate"), ("LOW", "low"), ("5", "info"), (None, None)],
)
def test_severity_threshold_takes_code_analyzers_numbers_and_names(given, level):
    assert severity_threshold(given) == level


@pytest.mark.parametrize("given", ["0", "6", "severe", ""])
def test_an_unknown_severity_threshold_is_refused(given):
    with pytest.raises(
        UsageError, match=r"^--severity-threshold: '.*' is not a severity; choose one of 1 \(critical\), 2 \(high\)"
    ):
        severity_threshold(given)


def test_rule_findings_fail_only_at_or_above_the_threshold_and_blockers_always():
    moderate = Finding("A.cls", 1, 1, "moderate", "pmd", "ApexSharingViolations", "m")
    blocker = Finding("A.cls", 2, 1, "error", "jorje", "syntax", "s")
    assert [at_or_above(moderate, t) for t in (None, "critical", "high", "moderate", "info")] == [
        False,
        False,
        False,
        True,
        True,
    ]
    assert all(at_or_above(blocker, t) for t in (None, "critical", "info"))
    summary = summarize([moderate], "high")
    assert summary["failed"] is False and summary["errors"] == 0 and summary["rule_findings"]["moderate"] == 1


def test_cli_refuses_an_unknown_threshold_in_one_line_exit_2():
    result = run_cli("check", "--severity-threshold", "severe", "--project-dir", str(CASES / "clean"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: --severity-threshold: 'severe' is not a severity")
    assert len(result.stderr.strip().splitlines()) == 1


# --- metadata XML as the Metadata API takes it --------------------------------------------------------


def test_metadata_the_api_accepts_is_never_a_deploy_blocker():
    findings = run_checks(CASES / "accepted")
    assert seen(findings) == {
        ("Defaults.cls-meta.xml", "low", "xsd", "defaults"),  # status and packageVersions left out
        ("OutOfOrder.flow-meta.xml", "low", "xsd", "order"),
        # API 66.0: neither the v63 schema nor @salesforce/types has it, and it is no typo: not checked
        ("Newer.cls-meta.xml", "moderate", "xsd", "unknown-element"),
    }  # nothing for xsi:nil, fqn or the Tooling namespace root
    result = run_cli("check", "--project-dir", str(CASES / "accepted"))
    assert result.returncode == 0, result.stdout


# An element no source knows is not checked at any version (it may be newer, or removed since the file's API);
# only a typo of a declared one blocks (tests/test_check_incomplete.py).
@pytest.mark.parametrize(("version", "severity"), [("62.0", "moderate"), ("63.0", "moderate"), ("66.0", "moderate")])
def test_an_unknown_element_blocks_only_where_the_schema_is_as_new_as_the_file(tmp_path, version, severity):
    root = copy_case("accepted", tmp_path / "project")
    meta = root / CLASSES / "Newer.cls-meta.xml"
    meta.write_text(meta.read_text().replace("66.0", version))
    found = [f for f in run_checks(root) if f.file.endswith("Newer.cls-meta.xml") and f.tool == "xsd"]
    assert [(f.line, f.severity, f.rule) for f in found] == [(5, severity, "unknown-element")]


def test_an_attribute_no_type_has_blocks_but_the_fqn_salesforce_tools_write_does_not(tmp_path):
    root = copy_case("accepted", tmp_path / "project")
    meta = root / CLASSES / "Defaults.cls-meta.xml"
    meta.write_text(meta_xml("ApexClass", "62.0").replace("<ApexClass ", '<ApexClass fqn="Defaults" sharing="on" '))
    found = [
        (f.line, f.severity, f.rule, f.message)
        for f in run_checks(root)
        if f.file.endswith("Defaults.cls-meta.xml") and f.tool == "xsd"
    ]
    assert found == [
        (
            2,
            "error",
            "unknown-attribute",
            "ApexClass has no attribute 'sharing' (Metadata API v63.0); the org rejects it",
        )
    ]


def test_a_wrong_value_stays_a_blocker_in_a_file_newer_than_the_schema(tmp_path):
    root = copy_case("accepted", tmp_path / "project")
    (root / CLASSES / "Newer.cls-meta.xml").write_text(meta_xml("ApexClass", "66.0").replace("Active", "Actve"))
    found = [(f.line, f.severity, f.rule) for f in run_checks(root) if f.file.endswith("Newer.cls-meta.xml")]
    assert found == [(4, "error", "schema")]


# --- .forceignore and byte order marks ----------------------------------------------------------------


def test_files_forceignore_leaves_out_are_not_checked(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    ignored = root / "force-app/main/default/scratch"
    ignored.mkdir()
    (ignored / "Draft.cls").write_text("public class Draft {")  # no -meta.xml either
    (root / CLASSES / "Old.cls-meta.xml").write_text("<ApexClass")  # orphan, and not well-formed
    assert {f.rule for f in run_checks(root)} == {"missing-meta", "orphan-meta", "not-well-formed"}
    (root / ".forceignore").write_text(
        "# as convert reads it\n**/scratch/\nforce-app/main/default/classes/Old.cls-meta.xml\n"
    )
    assert run_checks(root) == []


def test_a_forceignore_inside_a_package_directory_is_honoured_as_convert_honours_it(tmp_path):
    """The converter takes the nearest .forceignore at or above each package directory; so does the check."""
    from apexgen.convert import deploy_zip

    root = copy_case("clean", tmp_path / "project")
    ignored = root / "force-app/main/default/scratch"
    ignored.mkdir()
    (ignored / "Draft.cls").write_text("public class Draft {")  # no -meta.xml either
    assert {f.rule for f in run_checks(root)} == {"missing-meta"}
    (root / "force-app" / ".forceignore").write_text("**/scratch/\n")
    assert run_checks(root) == []
    assert "Draft" not in deploy_zip(root).members.get("ApexClass", [])


def test_a_byte_order_mark_is_noted_once_for_all_the_files_that_have_one(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    for name in ("CaseTriggerHandler.cls", "DraftReplyService.cls"):
        path = root / CLASSES / name
        path.write_bytes(BOM + path.read_bytes())
    (finding,) = run_checks(root)
    assert (finding.file, finding.line, finding.severity, finding.rule) == (
        f"{CLASSES}/CaseTriggerHandler.cls",
        1,
        "low",
        "byte-order-mark",
    )
    assert "(and 1 more)" in finding.message


# --- apex-ls: what it is certain of ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "message", "verdict"),
    [
        # Seen on apex-recipes, NebulaLogger and trigger-actions-framework (the org compiles all of these):
        ("Weaver.cls", "No type declaration found for 'DataWeaveScriptResource.helloWorld'", UNCERTAIN),
        ("Weaver.cls", "No type declaration found for 'DataWeaveScriptException'", UNCERTAIN),
        (
            "Caches.cls",
            "Incompatible return type, 'cache.SessionPartition' is not assignable to 'cache.Partition'",
            UNCERTAIN,
        ),
        ("Caches.cls", "Incompatible types in assignment, from 'cache.OrgPartition' to 'cache.Partition'", UNCERTAIN),
        ("Quiddities.cls", "Unknown field or type 'UNDEFINED' on 'System.Quiddity'", UNCERTAIN),
        ("Interviews.cls", "No type declaration found for 'Flow.Interview.Greeting'", UNCERTAIN),
        ("Formulas.cls", "No type declaration found for 'System.FormulaValidationException'", UNCERTAIN),
        ("Settings.cls", "Unknown field 'SetupOwner' on SObject 'Schema.Prefs__c'", UNCERTAIN),
        ("Archives.cls", "Unknown field 'SObjectType' on SObject 'Schema.Archive__b'", UNCERTAIN),
        ("Settings.cls", "Unknown field 'TriggerObjectOrEvent' on SObject 'Schema.FlowDefinitionView'", UNCERTAIN),
        ("CalloutException.cls", "Exception class 'CalloutException' must extend another Exception class", UNCERTAIN),
        ("Packaged.cls", "No type declaration found for 'acme.Widget'", UNCERTAIN),
        (
            "Caller.cls",
            "Constructor not defined: Caches.<constructor>(Object)",
            UNCERTAIN,
        ),  # an argument apex-ls could not type
        ("Caller.cls", "No variable or type found for 'DataWeave' on 'Caller'", UNCERTAIN),
        (
            "Size__c.field-meta.xml",
            "Components of type 'Schema.Thing__e' are defined, but the required object-meta.xml file is missing",
            None,
        ),
        (
            "Size__c.field-meta.xml",
            "Components of type 'Schema.Gone__e' are defined, but the required object-meta.xml file is missing",
            UNCERTAIN,
        ),
        # file layout: the meta check reports a missing -meta.xml itself (a blocker); convert deploys one of duplicates
        ("Caller.cls", "Type 'Caller' is defined, but meta file is missing for 'Caller.cls'", UNCERTAIN),
        # Certain: the project's own code, primitives, sObjects and aiplatform:
        ("Broken.cls", "Incompatible types in assignment, from 'System.String' to 'System.Integer'", BLOCKER),
        ("Broken.cls", "Incompatible types in assignment, from 'Schema.Contact' to 'Schema.Account'", BLOCKER),
        ("Caller.cls", "No matching method found for 'sessions' on 'Caches' taking no arguments", BLOCKER),
        (
            "Caller.cls",
            "No matching method found for 'summarise' on 'Caches' taking arguments 'System.String'",
            BLOCKER,
        ),
        (
            "Caller.cls",
            "Unknown field or type 'generatedTextX' on 'aiplatform.ModelsAPI_GenerationRepresentation'",
            BLOCKER,
        ),
        ("Caller.cls", "Unknown field 'Size__c' on SObject 'Schema.Prefs__c'", BLOCKER),
        ("Caller.cls", "No variable or type found for 'counter' on 'Caller'", BLOCKER),
        ("Broken.cls", "Exception class 'Broken' must extend another Exception class", BLOCKER),
    ],
)
def test_apex_ls_findings_block_only_where_apex_ls_is_certain(file, message, verdict):
    _, project = check_sfdx_project(CASES / "platform_types")
    path = next((p for p in (CASES / "platform_types").rglob(file)), CASES / "platform_types" / file)
    assert certainty(message, path, ProjectTypes(project)) == verdict


def test_the_project_namespace_is_the_projects_own(tmp_path):
    root = copy_case("platform_types", tmp_path / "project")
    sfdx = root / "sfdx-project.json"
    sfdx.write_text(sfdx.read_text().replace('"name"', '"namespace": "acme",\n  "name"'))
    _, project = check_sfdx_project(root)
    types = ProjectTypes(project)
    assert (
        certainty(
            "No matching method found for 'go' on 'acme.Caches' taking no arguments",
            root / CLASSES / "Caller.cls",
            types,
        )
        == BLOCKER
    )
    assert certainty("No type declaration found for 'other.Widget'", root / CLASSES / "Caller.cls", types) == UNCERTAIN


def test_apex_ls_findings_are_kept_while_no_file_it_reads_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = copy_case("clean", tmp_path / "project")
    _, project = check_sfdx_project(root)
    files = project.files(lambda name: True)
    found = [Finding(f"{CLASSES}/DraftReplyService.cls", 3, 5, "error", "apex-ls", "Missing", "m")]
    ProjectCache(project, "apex-ls", [], files).save(found)
    assert ProjectCache(project, "apex-ls", [], files).load() == found
    (root / CLASSES / "CaseTriggerHandler.cls").write_text("public class CaseTriggerHandler {}\n")
    _, next_check = check_sfdx_project(root)  # each check reads the files anew
    assert ProjectCache(next_check, "apex-ls", [], files).load() is None


# --- deploy ----------------------------------------------------------------------------------------------


def test_deploy_blocks_on_deploy_blockers_only(tmp_path):
    from apexgen.deploy.deploy import ChecksFailed, prepare

    root = copy_case("clean", tmp_path / "project")
    meta = root / CLASSES / "CaseTriggerHandler.cls-meta.xml"
    meta.write_text(meta_xml("ApexClass").replace("    <status>Active</status>\n", ""))  # a low note
    prepared = prepare(root, check_only=True, test_level="NoTestRun", tests=[], checks="fast")
    assert [(f.severity, f.rule) for f in prepared.check_warnings] == [("low", "defaults")]
    meta.write_text(meta_xml("ApexClass").replace("Active", "Actve"))  # a typo of a status
    with pytest.raises(ChecksFailed, match="1 check error"):
        prepare(root, check_only=True, test_level="NoTestRun", tests=[], checks="fast")


# --- the deep check, with the real tools ------------------------------------------------------------------


@pytest.fixture(scope="module")
def platform_types_deep() -> list[Finding]:
    return run_checks(CASES / "platform_types", deep=True, pmd_rules=(), use_cache=False)


@pytest.mark.tools
def test_types_apex_ls_does_not_know_are_never_blockers(platform_types_deep):
    blockers = {(Path(f.file).name, f.line, f.rule) for f in platform_types_deep if f.severity == "error"}
    assert blockers == {("Broken.cls", 3, "Error"), ("Caller.cls", 3, "Missing")}
    uncertain = {
        Path(f.file).name
        for f in platform_types_deep
        if f.severity == "moderate" and f.tool == "apex-ls" and f.rule != REQUIRED_RULE
    }
    assert uncertain == {"Caches.cls", "Quiddities.cls", "Settings.cls", "Archives.cls", "CalloutException.cls"}
    # the names apex-ls lacks (platform types it does not model, a package's class): once each, the org decides
    assert {r.name for r in required_of(platform_types_deep)} == {
        "DataWeaveScriptException",
        "DataWeaveScriptResource.helloWorld",
        "Flow.Interview.Greeting",
        "System.FormulaValidationException",
        "acme.Widget",
    }
    assert not [f for f in platform_types_deep if "Thing__e" in f.file]  # its object is in the other package dir


@pytest.mark.tools
def test_a_class_with_a_byte_order_mark_is_read_without_it(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    service = root / CLASSES / "DraftReplyService.cls"  # which CaseTriggerHandler does not use: add a user
    service.write_bytes(BOM + service.read_bytes())
    user = root / CLASSES / "UsesService.cls"
    user.write_text(
        "public with sharing class UsesService {\n    public static Integer wrong() {\n        return DraftReplyService.class.getName();\n    }\n}\n"
    )
    user.with_name("UsesService.cls-meta.xml").write_text(meta_xml("ApexClass"))
    findings = run_checks(root, deep=True, pmd_rules=(), use_cache=False)
    assert {(Path(f.file).name, f.line, f.severity, f.tool) for f in findings} == {
        ("DraftReplyService.cls", 1, "low", "meta"),  # the one note; no syntax error at 1:1
        ("UsesService.cls", 3, "error", "apex-ls"),  # String is no Integer: apex-ls saw the class
    }


@pytest.mark.tools
def test_a_tool_failing_on_one_file_names_it_and_every_other_finding_is_kept(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    nested = root / CLASSES / "Nested.cls"  # jorje's parser overflows its stack on 3,000 nested blocks
    nested.write_text(
        "public with sharing class Nested {\n    public static void run() {\n"
        + "{" * 3000
        + "}" * 3000
        + "\n    }\n}\n"
    )
    nested.with_name("Nested.cls-meta.xml").write_text(meta_xml("ApexClass"))
    broken = root / CLASSES / "Broken.cls"
    broken.write_text(
        "public with sharing class Broken {\n    public static Integer count() {\n        return 1\n    }\n}\n"
    )
    broken.with_name("Broken.cls-meta.xml").write_text(meta_xml("ApexClass"))
    findings = run_checks(root, deep=True, use_cache=False)
    assert {
        (Path(f.file).name, f.severity, f.tool, f.rule) for f in findings if f.severity in ("error", "critical")
    } == {
        ("Nested.cls", "critical", "jorje", "not-run"),
        ("Broken.cls", "error", "jorje", "syntax"),
    }
    summary = summarize(findings)
    assert summary["not_run"] == {"jorje": [f"{CLASSES}/Nested.cls"]}


@pytest.mark.tools
def test_security_findings_fail_the_check_only_at_the_threshold(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    search = CASES / "defects" / CLASSES / "AccountSearch.cls"
    (root / CLASSES / "AccountSearch.cls").write_bytes(search.read_bytes())
    (root / CLASSES / "AccountSearch.cls-meta.xml").write_text(meta_xml("ApexClass"))
    codes = {}
    for threshold in (None, "critical", "high", "2"):
        options = ["--severity-threshold", threshold] if threshold else []
        result = run_cli("check", "--deep", "--json", *options, "--project-dir", str(root))
        codes[threshold] = result.returncode
        report = json.loads(result.stdout)["result"]
    assert codes == {None: 0, "critical": 0, "high": 1, "2": 1}
    injection = [f for f in report["findings"] if f["rule"] == "ApexSOQLInjection"]
    assert [(f["line"], f["severity"]) for f in injection] == [(4, "high")]
    assert report["summary"]["errors"] == 0 and report["summary"]["severity_threshold"] == "high"


@pytest.mark.tools
def test_code_analyzer_severities_come_from_the_pinned_engine():
    from apexgen.check.pmd import code_analyzer_severities, pmd_rule_priorities
    from apexgen.check.toolchain import require_toolchain

    toolchain = require_toolchain(WORKTREE)
    mapped = code_analyzer_severities(toolchain.node_modules)
    assert (mapped["ApexCRUDViolation"], mapped["ApexSOQLInjection"], mapped["ApexSharingViolations"]) == (
        "high",
        "high",
        "moderate",
    )
    assert set(pmd_rule_priorities(toolchain.java_lib)) <= set(mapped)  # every Apex rule of the pinned PMD


def project_with_a_backslashed_package_directory(tmp_path):
    """A project listing 'plugins\\Logger' as apex-rollup does; sf reads either separator."""
    root = copy_case("platform_types", tmp_path / "project")
    (root / "plugins" / "Logger").mkdir(parents=True)
    sfdx = root / "sfdx-project.json"
    settings = json.loads(sfdx.read_text("utf-8"))
    settings["packageDirectories"].append({"path": "plugins\\Logger"})
    sfdx.write_text(json.dumps(settings), "utf-8")
    return root


def test_package_directories_written_with_backslashes_are_read_as_sf_reads_them(tmp_path):
    # @salesforce/core's SfProject turns either separator into the system's: apex-rollup lists 'plugins\\Logger'
    root = project_with_a_backslashed_package_directory(tmp_path)
    findings, project = check_sfdx_project(root)
    assert [f for f in findings if f.rule == "path"] == []
    assert root / "plugins" / "Logger" in project.package_dirs


def test_apex_ls_reads_such_package_directories_from_a_rewritten_settings_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = project_with_a_backslashed_package_directory(tmp_path)
    _, project = check_sfdx_project(root)
    with apex_ls.apex_ls_workspace(project, stable=True) as workspace:
        mirrored = json.loads((workspace.path / "sfdx-project.json").read_text("utf-8"))
        assert [entry["path"] for entry in mirrored["packageDirectories"]][-1] == "plugins/Logger"
        assert (
            workspace.path / "plugins" / "Logger" / f"{workspace.probes[root / 'plugins' / 'Logger']}.cls"
        ).is_file()
        assert apex_ls.mirrored_project(workspace.path) == root.resolve()
