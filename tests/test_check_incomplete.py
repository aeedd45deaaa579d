"""A check that did not look says so: exit 5 (``ExitCode.INCOMPLETE``), the ``incomplete`` JSON field, and
nothing cached for the files a tool did not analyse. apex-ls is verified by a probe class planted in every
package directory it loads (``apexgen.check.apex_ls.apex_ls_workspace``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from apexgen.check import apex_ls
from apexgen.check.cache import FindingsCache, ProjectCache
from apexgen.check.fast import check_sfdx_project
from apexgen.check.findings import Finding, check_exit_code, not_run, summarize
from apexgen.check.runner import run_checks
from apexgen.errors import ExitCode
from tests.check_cases.projects import CASES

CLASSES = "force-app/main/default/classes"


def three_part_version(root: Path) -> Path:
    """``root`` with a 3-part ``versionNumber``: apex-ls says it 'should contain four parts' and then
    analyses nothing (a deploy never reads it; packaging projects ship this way)."""
    project = json.loads((root / "sfdx-project.json").read_text("utf-8"))
    project.pop("pluginz", None)
    project["packageDirectories"][0].update(package=root.name, versionName="v1", versionNumber="1.0.0")
    (root / "sfdx-project.json").write_text(json.dumps(project, indent=2), "utf-8")
    return root


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


# --- the contract: exit code, JSON field, cache rule (quick) ---------------------------------------


def test_not_run_findings_make_the_check_incomplete_not_failed():
    findings = [
        not_run(f"{CLASSES}/A.cls", "apex-ls", "the probe did not come back"),
        not_run(f"{CLASSES}/B.cls", "apex-ls", "the probe did not come back"),
        not_run(".", "pmd", "exit 1"),
        Finding(f"{CLASSES}/A.cls", 3, 1, "low", "pmd", "ApexDoc", "missing ApexDoc"),
    ]
    summary = summarize(findings, "critical")
    assert summary["failed"] is False  # a not-run finding is critical, but it is no finding about the code
    assert summary["incomplete"] == [
        {
            "tool": "apex-ls",
            "reason": "apex-ls did not run here: the probe did not come back",
            "files": [f"{CLASSES}/A.cls", f"{CLASSES}/B.cls"],
        },
        {"tool": "pmd", "reason": "pmd did not run here: exit 1", "files": ["."]},
    ]
    assert check_exit_code(summary) == ExitCode.INCOMPLETE == 5
    blocker = Finding(f"{CLASSES}/A.cls", 3, 1, "error", "jorje", "syntax", "missing ';'")
    assert check_exit_code(summarize([*findings, blocker])) == ExitCode.FINDINGS
    assert check_exit_code(summarize(findings[3:])) == ExitCode.OK


def test_nothing_is_cached_for_a_file_a_tool_did_not_analyse(tmp_path, isolated_cache):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    _, project = check_sfdx_project(root)
    files = project.apex_files()
    skipped, analysed = files[0], files[1]
    found = [
        not_run(project.relative(skipped), "jorje", "nested too deep"),
        Finding(project.relative(analysed), 2, 1, "low", "prettier", "format", "not formatted"),
    ]
    store = FindingsCache(project, "jorje-prettier", "")
    store.split(files)
    store.save(files, found)
    known, stale = FindingsCache(project, "jorje-prettier", "").split(files)
    assert skipped in stale and analysed not in stale
    assert known == found[1:]

    whole = ProjectCache(project, "apex-ls", [], files)
    whole.save(found)
    assert whole.load() is None  # one file not analysed: the whole project's findings are not kept
    whole.save(found[1:])
    assert whole.load() == found[1:]


def test_an_interrupted_generate_makes_the_check_incomplete_at_any_threshold(cli, tmp_path):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    (root / ".apexgen").mkdir(exist_ok=True)
    (root / ".apexgen" / "journal.json").write_text('{"version": 1, "files": {}}', "utf-8")
    result = cli("check", "--json", "--severity-threshold", "info", "--project-dir", str(root))
    assert result.exit_code == ExitCode.INCOMPLETE, result.output
    document = json.loads(result.output)["result"]
    assert [(part["tool"], part["files"]) for part in document["incomplete"]] == [
        ("manifest", [".apexgen/journal.json"])
    ]
    assert document["summary"]["incomplete"] == document["incomplete"]


def test_a_probe_that_does_not_come_back_lists_every_apex_file_of_its_package_directory(tmp_path):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    _, project = check_sfdx_project(root)
    with apex_ls.apex_ls_workspace(project, stable=False) as workspace:
        (probe,) = workspace.probes.values()
        planted = workspace.path / "force-app" / f"{probe}.cls"
        assert apex_ls.PROBE_METHOD in planted.read_text("utf-8")
        assert not (root / "force-app" / f"{probe}.cls").exists()  # planted in the mirror only
        came_back = {
            "files": [
                {
                    "path": str(planted),
                    "messages": [
                        {"category": "Missing", "message": f"No matching method found for '{apex_ls.PROBE_METHOD}'"}
                    ],
                }
            ]
        }
        types = apex_ls.ProjectTypes(project)
        assert apex_ls._findings(came_back, workspace, project, types) == []
        silent = apex_ls._findings({"files": []}, workspace, project, types)
    assert {f.file for f in silent} == {project.relative(path) for path in project.apex_files()}
    assert {(f.severity, f.tool, f.rule) for f in silent} == {("critical", "apex-ls", "not-run")}


def test_the_mirror_follows_the_project_between_checks(tmp_path, isolated_cache):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    _, project = check_sfdx_project(root)
    with apex_ls.apex_ls_workspace(project, stable=True) as workspace:
        mirrored = {p.relative_to(workspace.path) for p in workspace.path.rglob("*") if p.is_file()}
    first = project.apex_files()[0]
    first.unlink()
    _, project = check_sfdx_project(root)
    with apex_ls.apex_ls_workspace(project, stable=True) as again:
        assert again.path == workspace.path
        now = {p.relative_to(again.path) for p in again.path.rglob("*") if p.is_file()}
    assert mirrored - now == {first.relative_to(root)}


# --- apex-ls stops early on a 3-part versionNumber (full tier) -------------------------------------


@pytest.mark.tools
def test_a_defect_apex_ls_did_not_analyse_is_listed_as_not_analysed_and_the_check_fails(tmp_path, isolated_cache):
    root = three_part_version(shutil.copytree(CASES / "defects", tmp_path / "defects"))
    findings = run_checks(root, deep=True, use_cache=False)
    not_analysed = {f.file for f in findings if (f.tool, f.rule) == ("apex-ls", "not-run")}
    # The planted call to a missing method: apex-ls never looked at it, and the check says so.
    assert f"{CLASSES}/SummaryCaller.cls" in not_analysed
    assert f"{CLASSES}/SummaryService.cls" in not_analysed
    complaint = [f for f in findings if f.file == "sfdx-project.json" and f.tool == "apex-ls"]
    assert [(f.severity, "four parts" in f.message) for f in complaint] == [("moderate", True)]
    assert check_exit_code(summarize(findings)) == ExitCode.FINDINGS  # the other planted blockers


@pytest.mark.tools
def test_a_clean_project_apex_ls_did_not_analyse_exits_5_and_caches_nothing(tmp_path, isolated_cache, cli):
    root = three_part_version(shutil.copytree(CASES / "clean", tmp_path / "clean"))
    result = cli("check", "--deep", "--json", "--project-dir", str(root))
    assert result.exit_code == ExitCode.INCOMPLETE, result.output
    (part,) = json.loads(result.output)["result"]["incomplete"]
    _, project = check_sfdx_project(root)
    assert part["tool"] == "apex-ls" and "did not analyse package directory force-app" in part["reason"]
    assert part["files"] == [project.relative(path) for path in project.apex_files()]
    assert not list(isolated_cache.rglob("findings/*/apex-ls.json"))
    # Fixed, the same project's check completes: the probe comes back.
    (root / "sfdx-project.json").write_text(
        (root / "sfdx-project.json").read_text("utf-8").replace('"1.0.0"', '"1.0.0.NEXT"'), "utf-8"
    )
    fixed = cli("check", "--deep", "--json", "--project-dir", str(root))
    assert fixed.exit_code == ExitCode.OK, fixed.output
    assert json.loads(fixed.output)["result"]["incomplete"] == []


# --- how certain a metadata schema finding is (quick) ---------------------------------------------

PERMISSION_SET = "force-app/main/default/permissionsets/Scoring.permissionset-meta.xml"


def permission_set_xml(extra: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        f"{extra}\n    <description>Scores</description>\n    <hasActivationRequired>false</hasActivationRequired>\n"
        "    <label>Scoring</label>\n</PermissionSet>\n"
    )


@pytest.mark.parametrize(
    ("extra", "severity"),
    [
        ("    <descripton>Scores</descripton>", "error"),  # a typo of <description>: the org rejects it
        ("    <plantedNothing>true</plantedNothing>", "moderate"),  # no source knows it: not checked
        ("    <agentAccesses><agentName>Helper</agentName><enabled>true</enabled></agentAccesses>", "info"),  # newer
    ],
    ids=["typo", "unknown-to-every-source", "known-to-newer-source"],
)
def test_unknown_elements_block_only_when_a_source_says_so(tmp_path, extra, severity):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    path = root / PERMISSION_SET
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(permission_set_xml(extra), "utf-8")
    findings = [f for f in run_checks(root) if f.file == PERMISSION_SET and f.rule == "unknown-element"]
    assert [(f.line, f.severity) for f in findings] == [(3, severity)], findings


@pytest.mark.parametrize(
    ("status", "severity"),
    [("Actve", "error"), ("Enabled", "moderate"), ("", "moderate")],
    ids=["typo", "unknown-to-every-source", "empty"],
)
def test_enumeration_values_block_only_when_close_to_a_known_one(tmp_path, status, severity):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    meta = next((root / CLASSES).glob("*.cls-meta.xml"))
    meta.write_text(meta.read_text("utf-8").replace("<status>Active</status>", f"<status>{status}</status>"), "utf-8")
    findings = [f for f in run_checks(root) if f.tool == "xsd"]
    assert [(f.file, f.severity, f.rule) for f in findings] == [
        (root.joinpath(meta).relative_to(root).as_posix(), severity, "schema")
    ]


def test_a_root_type_only_the_newer_source_knows_is_no_blocker(tmp_path):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    folder = root / "force-app/main/default/aiAuthoringBundles/Agent"
    folder.mkdir(parents=True)
    for name, kind in (("Agent.bundle-meta.xml", "AiAuthoringBundle"), ("Other.thing-meta.xml", "NoSuchMetadataType")):
        (folder / name).write_text(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<{kind} xmlns="http://soap.sforce.com/2006/04/metadata">\n</{kind}>\n',
            "utf-8",
        )
    found = {(Path(f.file).name, f.severity) for f in run_checks(root) if f.tool == "xsd" and f.rule != "defaults"}
    assert found == {("Agent.bundle-meta.xml", "info"), ("Other.thing-meta.xml", "moderate")}


@pytest.mark.parametrize(
    ("name", "severity"),
    [
        ("fflib_SObjectDomain", "moderate"),  # a package's type the CI installs: the org must provide it
        ("di_Injector", "moderate"),
        ("CaseTriggerHandlr", "error"),  # a typo of the project's own CaseTriggerHandler
        ("CaseTriggerHandler", "moderate"),  # the project defines it: apex-ls did not load it, the deploy takes it
    ],
)
def test_a_name_the_project_lacks_blocks_only_when_it_is_meant_as_the_projects_own(tmp_path, name, severity):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    _, project = check_sfdx_project(root)
    types = apex_ls.ProjectTypes(project)
    message = f"No variable or type found for '{name}'"
    assert apex_ls.certainty(message, root / CLASSES / "CaseTriggerHandler.cls", types) == severity
