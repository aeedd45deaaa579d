"""Quick-tier cover (fakes, no JVM, no Node) for what only the full tier saw before: a check daemon that fails
falls back to a JVM of the tool's own, and PMD findings carry Code Analyzer's severities (its rule mappings
first, PMD's priority otherwise)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from apexgen.check import apex_ls, deep, pmd
from apexgen.check.daemon import DaemonError
from apexgen.check.findings import ProjectFiles


class FakeDaemon:
    """A daemon that answers with ``reply``, or fails with DaemonError when ``reply`` is None."""

    def __init__(self, reply: dict[str, Any] | None, root: Path | None = None, write: tuple[Path, str] | None = None):
        self.reply, self.root, self.write, self.requests = reply, root, write, []

    def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(payload)
        if self.reply is None:
            raise DaemonError("the daemon went away")
        if self.write:
            self.write[0].write_text(self.write[1], "utf-8")
        return self.reply

    def stream(self, payload: dict[str, Any]) -> Any:
        self.requests.append(payload)
        if self.reply is None:
            raise DaemonError("the daemon went away")
        return open(__file__, "rb")  # a connection: a context manager with a fileno


def own_jvm_pmd(monkeypatch: pytest.MonkeyPatch, report: dict[str, Any]) -> list[list[str]]:
    """run_java replaced by a PmdWrapper that writes ``report``; returns the calls made."""
    calls: list[list[str]] = []

    def run_java(tool: str, toolchain: Any, arguments: list[str]) -> Any:
        calls.append(arguments)
        Path(arguments[-1]).write_text(json.dumps(report), "utf-8")
        return SimpleNamespace(stdout="", stderr="")

    monkeypatch.setattr(pmd, "run_java", run_java)
    monkeypatch.delenv(pmd.CROSS_FILE_ENV, raising=False)
    return calls


@pytest.mark.parametrize("daemon_fails", ["request", "report"])
def test_pmd_runs_in_its_own_jvm_when_the_daemon_fails(monkeypatch, tmp_path, daemon_fails):
    calls = own_jvm_pmd(monkeypatch, {"violations": [], "alone": True})
    output = tmp_path / "out.json"
    daemon = FakeDaemon(None) if daemon_fails == "request" else FakeDaemon({}, write=(output, "{not json"))

    report = pmd._run_pmd_wrapper(SimpleNamespace(), ["run", "in.json", str(output)], output, daemon)

    assert report == {"violations": [], "alone": True}
    assert daemon.requests and len(calls) == 1


def test_pmd_uses_the_daemon_when_it_answers(monkeypatch, tmp_path):
    calls = own_jvm_pmd(monkeypatch, {"alone": True})
    output = tmp_path / "out.json"
    daemon = FakeDaemon({}, write=(output, '{"violations": [], "daemon": true}'))

    report = pmd._run_pmd_wrapper(SimpleNamespace(), ["run", "in.json", str(output)], output, daemon)

    assert report == {"violations": [], "daemon": True}
    assert calls == []


@pytest.mark.parametrize("daemon_fails", ["connect", "stream ends early"])
def test_jorje_runs_in_its_own_jvm_when_the_daemon_fails(monkeypatch, tmp_path, daemon_fails):
    alone = {"files": [{"path": "A.cls", "syntaxErrors": [], "formatted": "x", "formatError": None, "failure": None}]}
    own: list[Path] = []
    monkeypatch.setattr(
        deep, "_format_from_own_jvm", lambda toolchain, paths, command, root: own.append(paths) or alone
    )
    monkeypatch.setattr(deep, "_run_node", lambda command, stdin, root: (deep.JORJE_STOPPED_EXIT, {"files": []}))
    daemon = FakeDaemon(None if daemon_fails == "connect" else {})
    (tmp_path / "A.cls").write_text("public class A {}")

    results = deep.parse_and_format(SimpleNamespace(node_modules=tmp_path), tmp_path, [tmp_path / "A.cls"], daemon)

    assert [(r.path, r.formatted) for r in results] == [(Path("A.cls"), "x")]
    assert daemon.requests and len(own) == 1


def test_jorje_uses_the_daemon_when_it_streams_a_whole_report(monkeypatch, tmp_path):
    whole = {"files": [{"path": "A.cls", "syntaxErrors": [], "formatted": "d", "formatError": None, "failure": None}]}
    monkeypatch.setattr(deep, "_format_from_own_jvm", lambda *args: pytest.fail("ran its own JVM"))
    monkeypatch.setattr(deep, "_run_node", lambda command, stdin, root: (0, whole))
    (tmp_path / "A.cls").write_text("public class A {}")

    results = deep.parse_and_format(
        SimpleNamespace(node_modules=tmp_path), tmp_path, [tmp_path / "A.cls"], FakeDaemon({})
    )

    assert [r.formatted for r in results] == ["d"]


@pytest.mark.parametrize("reply", [None, {"error": "no report"}, {"report": ["not", "a", "report"]}])
def test_apex_ls_runs_alone_when_the_daemon_gives_no_report(reply):
    assert apex_ls._from_daemon(FakeDaemon(reply), "settings", {"A.cls": "sha"}) is None


def test_apex_ls_takes_the_daemons_report():
    daemon = FakeDaemon({"report": {"diagnostics": []}})
    assert apex_ls._from_daemon(daemon, "settings", {"A.cls": "sha"}) == {"diagnostics": []}
    assert daemon.requests == [{"op": "apex-ls", "config": "settings", "files": {"A.cls": "sha"}}]


# --- Code Analyzer's severities ---------------------------------------------------------------------------

MAPPINGS = """exports.RULE_MAPPINGS = {
    "ApexCRUDViolation": {
        severity: code_analyzer_engine_api_1.SeverityLevel.High,
        tags: [code_analyzer_engine_api_1.COMMON_TAGS.RECOMMENDED]
    },
    "ApexDoc": {
        severity: code_analyzer_engine_api_1.SeverityLevel.Info,
        tags: []
    },
    "AvoidGlobalModifier": {
        severity: code_analyzer_engine_api_1.SeverityLevel.Critical,
        tags: []
    },
};
"""
RULESET = """<ruleset xmlns="http://pmd.sourceforge.net/ruleset/2.0.0">
  <rule name="ApexCRUDViolation"><priority>3</priority></rule>
  <rule name="UnmappedHigh"><priority>1</priority></rule>
  <rule name="UnmappedTwo"><priority>2</priority></rule>
  <rule name="UnmappedLow"><priority>4</priority></rule>
  <rule name="UnmappedLowest"><priority>5</priority></rule>
  <rule name="NoPriority"/>
  <rule ref="category/apex/other.xml/Referenced"><priority>1</priority></rule>
</ruleset>
"""


@pytest.fixture
def toolchain(tmp_path: Path) -> SimpleNamespace:
    """Code Analyzer's rule mappings and a pmd-apex jar with one category, as files of a fake toolchain."""
    mappings = tmp_path / "node_modules" / pmd.RULE_MAPPINGS
    mappings.parent.mkdir(parents=True)
    mappings.write_text(MAPPINGS, "utf-8")
    lib = tmp_path / "lib"
    lib.mkdir()
    with zipfile.ZipFile(lib / "pmd-apex-7.0.0.jar", "w") as jar:
        for category in pmd.PMD_CATEGORIES:
            jar.writestr(f"category/apex/{category}.xml", RULESET if category == pmd.PMD_CATEGORIES[0] else "<r/>")
    pmd.code_analyzer_severities.cache_clear()
    pmd.pmd_rule_priorities.cache_clear()
    yield SimpleNamespace(node_modules=tmp_path / "node_modules", java_lib=lib)
    pmd.code_analyzer_severities.cache_clear()
    pmd.pmd_rule_priorities.cache_clear()


@pytest.mark.parametrize(
    ("rule", "severity"),
    [
        ("ApexCRUDViolation", "high"),  # Code Analyzer's mapping wins over PMD's priority
        ("ApexDoc", "info"),
        ("AvoidGlobalModifier", "critical"),
        ("UnmappedHigh", "high"),  # else Code Analyzer's toSeverityLevel of PMD's priority
        ("UnmappedTwo", "moderate"),
        ("UnmappedLow", "low"),
        ("UnmappedLowest", "low"),
        ("NoPriority", "moderate"),  # PMD's default priority, 3
        ("Referenced", "moderate"),  # a reference is not the rule's definition
        ("NotARule", "moderate"),
    ],
)
def test_each_rule_gets_code_analyzers_severity(toolchain, rule, severity):
    assert pmd.rule_severity(toolchain, rule) == severity


def test_pmd_findings_carry_those_severities(monkeypatch, toolchain, tmp_path):
    source = tmp_path / "A.cls"
    source.write_text("public class A {}")
    report = {
        "violations": [
            {"rule": rule, "message": m, "codeLocation": {"file": str(source), "startLine": 1, "startCol": 2}}
            for rule, m in (("ApexCRUDViolation", "crud"), ("UnmappedLow", "low one"))
        ],
        "processingErrors": [{"file": str(source), "message": "Trace\nParseException: at 3:4"}],
    }
    own_jvm_pmd(monkeypatch, report)

    findings = pmd.pmd_findings(toolchain, ProjectFiles(tmp_path, [tmp_path], None), [source], ("security",))

    assert [(f.severity, f.rule, f.line, f.column) for f in findings] == [
        ("high", "ApexCRUDViolation", 1, 2),
        ("low", "UnmappedLow", 1, 2),
        (pmd.PROCESSING_ERROR_SEVERITY, "ProcessingError", 3, 5),
    ]
