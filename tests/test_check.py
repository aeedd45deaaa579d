"""apexgen check: the fast checks (pure Python) and the deep tools on fixture projects with planted defects.

The deep tests need the Node packages of the root package.json (``npm ci``, part of the test command) and
Java 17. Each deep run is a session fixture, so the whole file starts each tool only a few times.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apexgen.check.deep import first_difference, merge_syntax_findings, prettier_format
from apexgen.check.fast import json_positions
from apexgen.check.findings import Finding
from apexgen.check.pmd import validate_pmd_categories
from apexgen.check.runner import run_checks
from apexgen.errors import ToolsMissingError, UsageError
from apexgen.generate.write import PlannedFile, apply_changes, plan_changes
from tests.check_cases.projects import CASES, build_shapes_project, copy_case, meta_xml

WORKTREE = Path(__file__).resolve().parent.parent
CLASSES = "force-app/main/default/classes"

# Every planted defect of check_cases/defects: (file, line, tool, rule).
PLANTED_FAST = {
    ("sfdx-project.json", 5, "sfdx-schema", "unknown-key"),
    (f"{CLASSES}/BadMeta.cls-meta.xml", 4, "xsd", "schema"),
    (f"{CLASSES}/NoMetaFile.cls", 0, "meta", "missing-meta"),
    (f"{CLASSES}/Removed.cls-meta.xml", 0, "meta", "orphan-meta"),
    (f"{CLASSES}/SummaryCaller.cls-meta.xml", 3, "meta", "api-version"),
}
PLANTED_DEEP = {
    (f"{CLASSES}/BrokenSyntax.cls", 4, "jorje", "syntax"),
    (f"{CLASSES}/SummaryService.cls", 10, "apex-ls", "Missing"),  # generatedTextX
    (f"{CLASSES}/SummaryCaller.cls", 3, "apex-ls", "Missing"),  # summarise()
    (f"{CLASSES}/AccountSearch.cls", 4, "pmd", "ApexSOQLInjection"),
}
# What apex-ls also says about the missing and orphan meta files. (Its and PMD's complaints about
# BrokenSyntax.cls repeat jorje's and are merged away.)
# apex-ls reads no Apex file without its -meta.xml (the deploy does not take it): NoMetaFile.cls has no echo.
ECHOES = {(f"{CLASSES}/Removed.cls-meta.xml", 1, "apex-ls", "Error")}


def where(findings: list[Finding]) -> set[tuple[str, int, str, str]]:
    return {(f.file, f.line, f.tool, f.rule) for f in findings}


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(WORKTREE / "generator"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "apexgen", *args], capture_output=True, text=True, env=environment, cwd=cwd
    )


# --- deep runs, once each per session --------------------------------------------------------------


@pytest.fixture(scope="session")
def defects_deep() -> list[Finding]:
    # In place: the worktree's node_modules (npm ci) is found from the project's parents.
    return run_checks(CASES / "defects", deep=True)


@pytest.fixture(scope="session")
def clean_deep_cli() -> subprocess.CompletedProcess[str]:
    return run_cli("check", "--deep", "--json", "--project-dir", str(CASES / "clean"))


@pytest.fixture(scope="session")
def shapes_deep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Finding]]:
    root = build_shapes_project(tmp_path_factory.mktemp("shapes") / "project", families=25)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APEXGEN_TOOLS_DIR", str(WORKTREE))
        return root, run_checks(root, deep=True)


@pytest.mark.tools
@pytest.mark.parametrize(
    "planted", sorted(PLANTED_DEEP | PLANTED_FAST), ids=lambda p: f"{Path(p[0]).name}:{p[1]}:{p[2]}"
)
def test_deep_check_finds_each_planted_defect_at_its_line(defects_deep, planted):
    assert planted in where(defects_deep)


@pytest.mark.tools
def test_deep_check_reports_nothing_but_the_planted_defects(defects_deep):
    assert where(defects_deep) == PLANTED_FAST | PLANTED_DEEP | ECHOES
    assert (f"{CLASSES}/CorrectService.cls", 10, "apex-ls", "Missing") not in where(defects_deep)


@pytest.mark.tools
def test_deep_findings_are_sorted_and_planted_blockers_stay_blockers(defects_deep):
    assert defects_deep == sorted(defects_deep)
    severity = {(f.tool, f.rule): f.severity for f in defects_deep}
    blockers = {
        (file, line, tool, rule)
        for file, line, tool, rule in PLANTED_FAST | PLANTED_DEEP
        if (tool, rule) not in {("meta", "api-version"), ("pmd", "ApexSOQLInjection"), ("xsd", "schema")}
    }
    assert {(f.file, f.line, f.tool, f.rule) for f in defects_deep if f.severity == "error"} == blockers | ECHOES
    assert severity[("pmd", "ApexSOQLInjection")] == "high"  # Code Analyzer's severity: a rule finding
    assert severity[("meta", "api-version")] == "info"
    assert severity[("xsd", "schema")] == "moderate"  # 'Enabled': a status value no schema source knows
    by_rule = {(f.tool, f.rule, f.file): f for f in defects_deep}
    wrong_field = by_rule[("apex-ls", "Missing", f"{CLASSES}/SummaryService.cls")]
    assert "generatedTextX" in wrong_field.message and wrong_field.column == 16
    assert by_rule[("jorje", "syntax", f"{CLASSES}/BrokenSyntax.cls")].column == 9


@pytest.mark.tools
def test_clean_project_gives_no_finding_and_json_is_one_document(clean_deep_cli):
    assert clean_deep_cli.returncode == 0, clean_deep_cli.stderr
    report = json.loads(clean_deep_cli.stdout)["result"]
    no_rule_findings = {"critical": 0, "high": 0, "moderate": 0, "low": 0, "info": 0}
    tools = report.pop("tools")  # which ran and from where: tests/test_secure_tools_ran.py
    assert [tool["tool"] for tool in tools["tools"]] == ["jorje", "prettier", "pmd", "apex-ls"]
    assert report == {
        "findings": [],
        "summary": {
            "errors": 0,
            "rule_findings": no_rule_findings,
            "severity_threshold": None,
            "failed": False,
            "not_run": {},
            "incomplete": [],
            "deep": True,
        },
        "incomplete": [],
    }


@pytest.mark.tools
def test_300_hand_written_classes_give_no_false_positive(shapes_deep):
    root, findings = shapes_deep
    apex = list((root / "force-app").rglob("*.cls")) + list((root / "force-app").rglob("*.trigger"))
    assert len(apex) == 300
    assert findings == []


def test_jorje_judges_syntax_over_the_other_parsers():
    def finding(file: str, tool: str, rule: str, severity: str = "error") -> Finding:
        return Finding(file, 4, 9, severity, tool, rule, "...")

    findings = [
        finding("A.cls", "jorje", "syntax"),
        finding("A.cls", "apex-ls", "Syntax"),
        finding("A.cls", "pmd", "ProcessingError", "moderate"),
        finding("A.cls", "apex-ls", "Missing"),
        finding("B.cls", "apex-ls", "Syntax"),
        finding("B.cls", "pmd", "ProcessingError", "moderate"),
    ]
    assert merge_syntax_findings(findings) == [
        finding("A.cls", "jorje", "syntax"),
        finding("A.cls", "apex-ls", "Missing"),
        finding("B.cls", "apex-ls", "Syntax", "moderate"),
        finding("B.cls", "pmd", "ProcessingError", "moderate"),
    ]


@pytest.mark.tools
def test_prettier_format_honours_prettierrc_and_passes_the_plugin_by_path(tmp_path, monkeypatch):
    monkeypatch.setenv("APEXGEN_TOOLS_DIR", str(WORKTREE))
    root = copy_case("clean", tmp_path / "project")
    assert "prettier-plugin-apex" in json.loads((root / ".prettierrc").read_text())["plugins"]
    messy = root / CLASSES / "Messy.cls"
    messy.write_text("public class Messy {\n  public Integer x(){return 1;}\n}\n")
    broken = root / CLASSES / "Broken.cls"
    broken.write_text("public class Broken {\n  Integer x = 1\n}\n")
    formatted = prettier_format(root, [messy, broken])
    # tabWidth 4 from the .prettierrc override; a file that does not parse is left out.
    assert formatted == {messy: "public class Messy {\n    public Integer x() {\n        return 1;\n    }\n}\n"}


@pytest.mark.tools
def test_prettier_format_applies_overrides_by_path_from_any_prettierrc_format(tmp_path, monkeypatch):
    monkeypatch.setenv("APEXGEN_TOOLS_DIR", str(WORKTREE))
    root = copy_case("clean", tmp_path / "project")
    (root / ".prettierrc").write_text(
        "plugins: [prettier-plugin-apex]\ntabWidth: 4\noverrides:\n"
        "  - files: force-app/**/Narrow.cls\n    options: { printWidth: 40 }\n"
    )
    source = "public class {} {{\n    public Integer sum() {{\n        return 1000000 + 2000000 + 3000000 + 4000000;\n    }}\n}}\n"
    wide, narrow = root / CLASSES / "Wide.cls", root / CLASSES / "Narrow.cls"
    wide.write_text(source.format("Wide"))
    narrow.write_text(source.format("Narrow"))
    formatted = prettier_format(root, [wide, narrow])
    assert formatted[wide] == source.format("Wide")
    assert "return 1000000 +\n            2000000 +" in formatted[narrow]


@pytest.mark.tools
def test_files_prettier_changes_before_parsing_are_located_and_formatted_as_prettier_would(tmp_path, monkeypatch):
    monkeypatch.setenv("APEXGEN_TOOLS_DIR", str(WORKTREE))
    root = copy_case("clean", tmp_path / "project")
    # prettier trims the text and turns CRLF into LF before the plugin parses it: the AST jorje made
    # of the file as saved does not fit that text, and the plugin's own parser takes over.
    sources = {
        "Padded": b"\n\n  public class Padded {\n  Integer x = 1;\n}\n",
        "PaddedBroken": b"\n\npublic class PaddedBroken {\n    Integer x = 1\n}\n",
        "Windows": b"public class Windows {\r\n  Integer x = 1;\r\n}\r\n",
    }
    for name, source in sources.items():
        (root / CLASSES / f"{name}.cls").write_bytes(source)
        (root / CLASSES / f"{name}.cls-meta.xml").write_text(meta_xml("ApexClass"))
    padded, windows = root / CLASSES / "Padded.cls", root / CLASSES / "Windows.cls"
    assert prettier_format(root, [padded, windows]) == {
        padded: "public class Padded {\n    Integer x = 1;\n}\n",
        windows: "public class Windows {\n    Integer x = 1;\n}\n",
    }
    assert where(run_checks(root, deep=True, pmd_rules=[])) == {
        (f"{CLASSES}/Padded.cls", 1, "prettier", "format"),
        (f"{CLASSES}/PaddedBroken.cls", 5, "jorje", "syntax"),  # the line in the file as saved
        (f"{CLASSES}/Windows.cls", 2, "prettier", "format"),  # the indent; line ends are not judged
    }


@pytest.mark.tools
@pytest.mark.parametrize("prettierrc", [None, '{"tabWidth": 4}', '{"plugins": ["prettier-plugin-xml"]}'])
def test_without_prettier_plugin_apex_in_the_prettierrc_formatting_is_not_checked(tmp_path, monkeypatch, prettierrc):
    monkeypatch.setenv("APEXGEN_TOOLS_DIR", str(WORKTREE))
    root = copy_case("clean", tmp_path / "project")
    if prettierrc is None:
        (root / ".prettierrc").unlink()
    else:
        (root / ".prettierrc").write_text(prettierrc)
    (root / CLASSES / "Messy.cls").write_text("public class Messy {\n  public Integer x(){return 1;}\n}\n")
    (root / CLASSES / "Broken.cls").write_text("public class Broken {\n    Integer x = 1\n}\n")
    for name in ("Messy", "Broken"):
        (root / CLASSES / f"{name}.cls-meta.xml").write_text(meta_xml("ApexClass"))
    findings = run_checks(root, deep=True, pmd_rules=[])
    assert where(findings) == {(f"{CLASSES}/Broken.cls", 3, "jorje", "syntax")}


def test_an_unformatted_class_is_a_prettier_warning_at_its_first_changed_line():
    assert first_difference("a\nb\nc\n", "a\nb\nc\n") == 0
    assert first_difference("a\nb  \nc\n", "a\nb\nc\n") == 2
    assert first_difference("a\nb", "a\nb\n") == 3


# --- fast checks -----------------------------------------------------------------------------------


def test_fast_check_finds_the_planted_metadata_and_project_defects():
    assert where(run_checks(CASES / "defects")) == PLANTED_FAST


def test_fast_check_of_the_clean_project_is_silent():
    assert run_checks(CASES / "clean") == []


def test_generated_files_missing_or_edited_against_the_manifest(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    plan = [PlannedFile(f"{CLASSES}/Gen{i}.cls", f"public class Gen{i} {{\n}}\n") for i in range(3)]
    plan += [PlannedFile(f"{CLASSES}/Gen{i}.cls-meta.xml", meta_xml("ApexClass")) for i in range(3)]
    apply_changes(root, plan_changes(root, plan))
    assert run_checks(root) == []
    (root / CLASSES / "Gen0.cls").unlink()
    (root / CLASSES / "Gen1.cls").write_text("public class Gen1 {\n    // mine\n}\n")
    findings = run_checks(root)
    assert (f"{CLASSES}/Gen0.cls", 0, "manifest", "missing") in where(findings)
    assert (f"{CLASSES}/Gen1.cls", 0, "manifest", "edited") in where(findings)
    severity = {f.rule: f.severity for f in findings if f.tool == "manifest"}
    assert severity == {"missing": "error", "edited": "moderate"}


def test_an_invalid_spec_is_a_finding_on_apexgen_toml(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    spec = root / "apexgen.toml"
    spec.write_text(spec.read_text().replace('api_version = "65.0"', 'api_version = "50.0"'))
    (finding,) = run_checks(root)
    assert (finding.file, finding.tool, finding.severity) == ("apexgen.toml", "spec", "error")
    assert finding.message.startswith("project.api_version: must be 61.0 or later")


def test_spec_api_version_that_disagrees_with_sfdx_project_is_a_warning(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    spec = root / "apexgen.toml"
    spec.write_text(spec.read_text().replace('api_version = "65.0"', 'api_version = "64.0"'))
    line = [text.startswith("api_version") for text in spec.read_text().splitlines()].index(True) + 1
    assert where(run_checks(root)) == {("apexgen.toml", line, "meta", "api-version")}  # at the key


@pytest.mark.parametrize(
    ("content", "rule", "line"),
    [
        ("<ApexClass", "not-well-formed", 1),
        ('<?xml version="1.0"?>\n<ApexClass>\n  <apiVersion>65.0</apiVersion>\n</ApexClass>\n', "namespace", 2),
        (meta_xml("ApexTrigger"), "root-element", 2),
        (
            meta_xml("ApexClass", "62.0").replace("<status>Active</status>", "<status>Active</status><sharing/>"),
            "unknown-element",
            4,
        ),
        (meta_xml("ApexClass").replace("65.0", "v65"), "schema", 3),
    ],
    ids=["truncated", "no-namespace", "wrong-root", "unknown-element", "bad-version"],
)
def test_meta_xml_defects_are_found_at_their_line(tmp_path, content, rule, line):
    root = copy_case("clean", tmp_path / "project")
    (root / CLASSES / "CaseTriggerHandler.cls-meta.xml").write_text(content)
    findings = [f for f in run_checks(root) if f.tool == "xsd"]
    assert findings and {(f.rule, f.line) for f in findings} == {(rule, line)}


def test_lwc_flow_and_package_xml_are_validated_too(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    bundle = root / "force-app/main/default/lwc/draftReply/draftReply.js-meta.xml"
    bundle.write_text(bundle.read_text().replace("<isExposed>true</isExposed>", "<isExposed>yes</isExposed>"))
    flow = root / "force-app/main/default/flows/Greeting.flow-meta.xml"
    flow.write_text(
        flow.read_text().replace("<processType>", "<processTypo>").replace("</processType>", "</processTypo>")
    )
    (root / "force-app/package.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Package xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <types><name>ApexClass</name><members>*</members></types>\n    <version>65.0</version>\n</Package>\n"
    )
    found = {(Path(f.file).name, f.severity, f.rule) for f in run_checks(root)}
    assert found == {
        ("draftReply.js-meta.xml", "error", "schema"),  # 'yes' is no boolean
        # API 65.0 is newer than the v63 schema, but @salesforce/types knows Flow: a typo of processType blocks
        ("Greeting.flow-meta.xml", "error", "unknown-element"),
        ("package.xml", "low", "order"),  # <members> comes before <name> in the schema
    }


def test_unchanged_metadata_files_are_not_read_again_and_changed_ones_are(tmp_path, monkeypatch):
    from apexgen.check import metadata_xml

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = copy_case("clean", tmp_path / "project")
    read: list[set[str]] = []
    file_findings = metadata_xml._file_findings

    def spy(project, files):
        read.append({path.name for path in files})
        return file_findings(project, files)

    monkeypatch.setattr(metadata_xml, "_file_findings", spy)
    # Given a check that read every metadata file
    assert run_checks(root) == []
    assert "CaseTriggerHandler.cls-meta.xml" in read[0]
    # When one file breaks, then only it is read again, and its finding comes from it
    meta = root / CLASSES / "CaseTriggerHandler.cls-meta.xml"
    meta.write_text("<ApexClass")
    assert where(run_checks(root)) == {(f"{CLASSES}/CaseTriggerHandler.cls-meta.xml", 1, "xsd", "not-well-formed")}
    assert read[1] == {"CaseTriggerHandler.cls-meta.xml"}
    # And the finding of the unchanged broken file is kept, while nothing is read
    assert where(run_checks(root)) == {(f"{CLASSES}/CaseTriggerHandler.cls-meta.xml", 1, "xsd", "not-well-formed")}
    assert len(read) == 2
    # And without the cache every file is read
    run_checks(root, use_cache=False)
    assert read[2] == read[0]


def test_a_root_element_that_is_no_metadata_type_is_reported(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    thing = root / "force-app/main/default/things/Thing.thing-meta.xml"
    thing.parent.mkdir()
    thing.write_text('<?xml version="1.0"?>\n<NoSuchType xmlns="http://soap.sforce.com/2006/04/metadata"/>\n')
    (finding,) = run_checks(root)
    assert (finding.file, finding.line, finding.rule) == (
        "force-app/main/default/things/Thing.thing-meta.xml",
        2,
        "schema",
    )
    assert "No matching global declaration" in finding.message


def test_sfdx_project_that_is_not_json_or_missing(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    assert where(run_checks(root)) == {("sfdx-project.json", 0, "sfdx-schema", "missing")}
    (root / "sfdx-project.json").write_text('{\n  "packageDirectories": [\n    {"path": "force-app",}\n  ]\n}\n')
    (finding,) = run_checks(root)
    assert (finding.rule, finding.line, finding.column) == ("json", 3, 26)


def test_sfdx_project_schema_errors_point_at_the_offending_value(tmp_path):
    root = tmp_path / "project"
    (root / "force-app").mkdir(parents=True)
    (root / "sfdx-project.json").write_text(
        '{\n  "packageDirectories": [\n    { "path": "force-app", "default": "yes" },\n    { "path": "missing" }\n  ],\n'
        '  "sourceApiVersion": 65\n}\n'
    )
    found = {(f.line, f.rule) for f in run_checks(root)}
    assert found == {(3, "type"), (4, "path"), (6, "type")}


def test_json_positions_cover_nested_members_and_items():
    text = '{"a": [1, {"b" : true}], "c":{}}'
    positions = json_positions(text)
    assert positions[("a",)] == 1
    assert positions[("a", 1)] == text.index("{", 1)
    assert positions[("a", 1, "b")] == text.index('"b"')
    assert positions[("c",)] == text.index('"c"')


def test_pmd_categories_are_validated():
    assert validate_pmd_categories(["security", " errorprone", "security", ""]) == ("security", "errorprone")
    with pytest.raises(UsageError, match="--pmd-rules: unknown PMD category secure"):
        validate_pmd_categories(["secure"])


# --- the command line ------------------------------------------------------------------------------


def test_cli_prints_one_sorted_line_per_finding_and_exits_1_on_errors():
    result = run_cli("check", "--project-dir", str(CASES / "defects"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    pattern = re.compile(r"^(\S+):(\d+):(\d+) (error|critical|high|moderate|low|info) (\S+) (\S+) .+$")
    assert all(pattern.match(line) for line in lines), lines
    assert len(lines) == len(PLANTED_FAST)
    assert "sfdx-project.json:5:3 error sfdx-schema unknown-key /pluginz: 'pluginz' is not a known key here" in lines
    # BadMeta's status 'Enabled' is a value no schema source knows: found at its line, not checked (moderate).
    assert "3 deploy blocker(s), rule findings: 1 moderate, 1 info (fast check)" in result.stderr


def test_cli_rule_findings_alone_exit_0(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    meta = root / CLASSES / "CaseTriggerHandler.cls-meta.xml"
    meta.write_text(meta_xml("ApexClass", "64.0"))
    result = run_cli("check", "--json", "--project-dir", str(root))
    assert result.returncode == 0
    summary = json.loads(result.stdout)["result"]["summary"]
    assert (summary["errors"], summary["rule_findings"]["info"], summary["failed"]) == (0, 1, False)


def test_cli_deep_without_tools_exits_2_and_says_how_to_install(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from apexgen.check import toolchain
    from apexgen.cli import main

    root = copy_case("clean", tmp_path / "project")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("APEXGEN_TOOLS_DIR", raising=False)
    monkeypatch.setattr(toolchain, "SOURCE_DIR", tmp_path / "checkout")  # not this worktree, which has them
    result = CliRunner().invoke(main, ["check", "--deep", "--project-dir", str(root)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: the deep check (apexgen check --deep) needs tools that are missing: ")
    assert result.stderr.rstrip().endswith("Run 'apexgen tools install'")
    with pytest.raises(ToolsMissingError):
        run_checks(root, deep=True)


def test_cli_rejects_an_unknown_pmd_category_in_one_line():
    result = run_cli("check", "--deep", "--pmd-rules", "security,fast", "--project-dir", str(CASES / "clean"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: --pmd-rules: unknown PMD category fast; choose from bestpractices, codestyle, design, documentation, "
        "errorprone, multithreading, performance, security"
    )


@pytest.mark.tools
def test_a_crashing_tool_is_a_finding_saying_what_did_not_run(tmp_path):
    fakes = tmp_path / "bin"
    fakes.mkdir()
    java = fakes / "java"  # answers the version check, then crashes as jorje, apex-ls and PMD
    java.write_text(
        '#!/bin/sh\nif [ "$1" = -version ]; then echo \'openjdk version "17.0.1"\' >&2; exit 0; fi\n'
        "echo 'Exception in thread main: out of cheese' >&2\nexit 3\n"
    )
    java.chmod(0o755)
    env = {"PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}", "APEXGEN_TOOLS_DIR": str(WORKTREE)}
    result = run_cli("check", "--deep", "--no-cache", "--project-dir", str(CASES / "clean"), env=env)
    # What did not run is a critical rule finding, like Code Analyzer's engine errors, and the check is incomplete.
    assert result.returncode == 5
    reason = "exit 3: Exception in thread main: out of cheese; nothing it checks was checked"
    assert result.stdout.splitlines() == [
        f".:0:0 critical {tool} not-run {tool} did not run here: {reason}" for tool in ("apex-ls", "jorje", "pmd")
    ]
    assert "did not run: jorje on the project" in result.stderr
    failing = run_cli(
        "check",
        "--deep",
        "--no-cache",
        "--severity-threshold",
        "critical",
        "--project-dir",
        str(CASES / "clean"),
        env=env,
    )
    assert failing.returncode == 5  # incomplete, not failed: the threshold judges findings about the code


@pytest.mark.tools
def test_a_crashing_node_is_blamed_on_prettier_not_on_jorje_behind_it(tmp_path):
    fakes = tmp_path / "bin"
    fakes.mkdir()
    node = fakes / "node"  # answers the version check, then crashes before reading jorje's output
    node.write_text(
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo v20.20.2; exit 0; fi\necho 'Segmentation fault' >&2\nexit 139\n"
    )
    node.chmod(0o755)
    env = {"PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}", "APEXGEN_TOOLS_DIR": str(WORKTREE)}
    result = run_cli("check", "--deep", "--no-cache", "--pmd-rules", "", "--project-dir", str(CASES / "clean"), env=env)
    assert result.returncode == 5
    assert (
        result.stdout
        == ".:0:0 critical prettier not-run prettier did not run here: exit 139: Segmentation fault; nothing it checks was checked\n"
    )


@pytest.mark.tools
def test_jorje_ending_early_is_blamed_on_jorje(tmp_path, monkeypatch):
    from apexgen.check import deep

    monkeypatch.setattr(deep, "JORJE_BATCH", "NoSuchClass")  # the JVM stops at once: no AST at all
    with pytest.raises(deep.ToolFailedError, match=r"^jorje failed: exit 1: .*NoSuchClass"):
        deep.parse_and_format(
            deep.require_toolchain(WORKTREE), CASES / "clean", sorted((CASES / "clean").rglob("*.cls"))
        )


@pytest.mark.tools
def test_cli_bad_prettierrc_is_one_line_exit_2(tmp_path):
    root = copy_case("clean", tmp_path / "project")
    (root / ".prettierrc").write_text('{"tabWidth": 4,')
    result = run_cli("check", "--deep", "--project-dir", str(root), env={"APEXGEN_TOOLS_DIR": str(WORKTREE)})
    assert result.returncode == 2
    assert result.stderr.startswith("error: .prettierrc: cannot be read: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_command_line_starts_without_the_heavy_modules():
    code = "import sys, apexgen.cli; print(sorted({'lxml', 'jsonschema', 'concurrent.futures'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=WORKTREE)
    assert result.stdout.strip() == "[]"


def test_metadata_xsd_is_cached_by_the_wsdl_and_the_code_that_builds_it(tmp_path, monkeypatch):
    from importlib import metadata

    from apexgen.check import xsd

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = xsd.metadata_xsd_path()
    assert path.parent.parent == tmp_path / "apexgen" / "metadata-xsd"
    assert path.parent.name.startswith(f"simple-salesforce-{metadata.version('simple-salesforce')}-")
    built = path.read_bytes()
    assert b'name="ApexClass" type="tns:ApexClass"' in built
    path.write_bytes(built + b"<!-- cached -->")
    assert xsd.metadata_xsd_path().read_bytes().endswith(b"<!-- cached -->")
    # New building code (an upgrade of apexgen) builds the schema again, beside the old one.
    monkeypatch.setattr(xsd, "builder_code", lambda: b"a newer apexgen's patches")
    xsd._build_key.cache_clear()
    rebuilt = xsd.metadata_xsd_path()
    xsd._build_key.cache_clear()
    assert rebuilt != path and rebuilt.read_bytes() == built
    shutil.rmtree(tmp_path / "apexgen")
