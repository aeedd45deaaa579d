"""Names the project uses but does not define are reported once each as "the target org must provide these";
`apexgen deploy` asks the org for them before it sends anything, and stops only on what the org lacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from apexgen.check import apex_ls
from apexgen.check.dependencies import REQUIRED_RULE, Required, required_finding, required_of
from apexgen.check.fast import check_sfdx_project
from apexgen.check.runner import run_checks
from tests import test_deploy
from tests.check_cases.projects import CASES
from tests.fakes.org import FakeOrg
from tests.test_deploy import deploy, no_traceback

org, project = test_deploy.org, test_deploy.project  # the fake org and sample project fixtures of the deploy tests

CLASSES = "force-app/main/default/classes"


@pytest.fixture
def types(tmp_path: Path) -> apex_ls.ProjectTypes:
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    (root / "force-app/main/default/objects/Reply__c").mkdir(parents=True)
    (root / "force-app/main/default/objects/Reply__c/Reply__c.object-meta.xml").write_text("<CustomObject/>", "utf-8")
    settings = json.loads((root / "sfdx-project.json").read_text("utf-8"))
    (root / "sfdx-project.json").write_text(json.dumps({**settings, "namespace": "acme"}), "utf-8")
    return apex_ls.ProjectTypes(check_sfdx_project(root)[1])


@pytest.mark.parametrize(
    ("message", "names"),
    [
        # a package's sObject, bare or in a collection, and its describe
        (
            "No type declaration found for 'Schema.npe03__Recurring_Donation__c'",
            [("sobject", "npe03__Recurring_Donation__c")],
        ),
        ("No type declaration found for 'Map<Id, Schema.Log__c>'", [("sobject", "Log__c")]),
        ("Unknown field or type 'npe01__OppPayment__c' on 'Schema.SObjectType'", [("sobject", "npe01__OppPayment__c")]),
        (
            "SObject appears to be extending an unknown SObject, 'npe01__OppPayment__c'",
            [("sobject", "npe01__OppPayment__c")],
        ),
        # a class the CI installs before the deploy, whatever its case
        ("No variable or type found for 'fflib_SObjectDomain'", [("apex", "fflib_SObjectDomain")]),
        ("No type declaration found for 'di_Binding.Provider'", [("apex", "di_Binding.Provider")]),
        # a field of another namespace's package, on an expression apex-ls could not type
        ("No variable or type found for 'npe01__Paid__c' on 'acme.PaymentService'", [("namespace", "npe01")]),
        # meant as the project's own: a typo of its sObject or class, its namespace: no, it stays a blocker
        ("No type declaration found for 'Schema.Replly__c'", []),
        ("No type declaration found for 'Schema.acme__Draft__c'", []),
        ("No variable or type found for 'CaseTriggerHandlr'", []),
        # a member of the project's own type, or another kind of message: not a missing name
        ("No variable or type found for 'replyText' on 'acme.DraftReplyService'", []),
        ("No matching method found for 'send' on 'DraftReplyService' taking no arguments", []),
    ],
)
def test_names_the_org_must_provide_are_told_from_the_projects_own(types, message, names):
    assert apex_ls.required_names(message, types) == names


def test_every_use_of_a_missing_name_makes_one_finding_that_names_it_once(tmp_path):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    _, project = check_sfdx_project(root)
    with apex_ls.apex_ls_workspace(project, stable=False) as workspace:

        def reported(name: str, *messages: tuple[int, str]) -> dict:
            path = workspace.path / CLASSES / name
            return {
                "path": str(path),
                "messages": [{"category": "Missing", "message": m, "start": {"line": line}} for line, m in messages],
            }

        report = {
            "files": [
                reported(
                    "CaseTriggerHandler.cls",
                    (3, "No variable or type found for 'fflib_SObjectDomain'"),
                    (9, "No type declaration found for 'List<Schema.Log__c>'"),
                    (12, "No variable or type found for 'CaseTriggerHandlr'"),
                ),
                reported("DraftReplyService.cls", (5, "No variable or type found for 'fflib_SObjectDomain'")),
            ]
        }
        findings = apex_ls._findings(report, workspace, project, apex_ls.ProjectTypes(project))
    summary = [f for f in findings if f.rule == REQUIRED_RULE]
    assert len(summary) == 1 and summary[0].severity == "moderate"
    assert required_of(findings) == [
        Required("apex", "fflib_SObjectDomain", f"{CLASSES}/CaseTriggerHandler.cls:3"),
        Required("sobject", "Log__c", f"{CLASSES}/CaseTriggerHandler.cls:9"),
    ]
    # the typo of the project's own class is a blocker at its line, not a name the org must provide
    assert [(f.line, f.severity) for f in findings if f.rule != REQUIRED_RULE and f.rule != "not-run"] == [
        (12, "error")
    ]


def test_the_finding_reads_back_into_the_names_it_lists():
    required = [Required("namespace", "npe01", "a.cls:1"), Required("apex", "di_Injector", "b.cls:7")]
    (finding,) = required_finding("apex-ls", required)
    assert "the target org must provide these 2 name(s)" in finding.message
    assert required_of([finding]) == sorted(required)
    assert required_finding("apex-ls", []) == []


# --- apexgen deploy asks the org (the fake org answers over HTTPS) ------------------------------------

REQUIRED = [
    Required("sobject", "npe03__Recurring_Donation__c", f"{CLASSES}/FooService.cls:4"),
    Required("apex", "fflib_SObjectDomain", f"{CLASSES}/FooService.cls:5"),
    Required("apex", "DataWeave.Script", f"{CLASSES}/FooService.cls:6"),  # a platform type apex-ls lacks
    Required("namespace", "npe01", f"{CLASSES}/FooService.cls:7"),
]


@pytest.fixture
def checks_require(monkeypatch: pytest.MonkeyPatch) -> None:
    """The offline check's verdict on the project: no blocker, and the names the org must provide."""
    monkeypatch.setattr(
        "apexgen.deploy.deploy.run_pre_deploy_checks", lambda root, checks: required_finding("apex-ls", REQUIRED)
    )


def test_deploy_stops_before_sending_anything_when_the_org_lacks_a_required_name(org: FakeOrg, project, checks_require):
    org.query_page_size = 1  # every answer in pages: each must be read to its end
    org.org_sobjects.add("npe03__Recurring_Donation__c")
    result = deploy(org, project)
    no_traceback(result)
    assert result.exit_code == 1
    assert (
        "the target org lacks 2 of the 4 name(s) the project uses but does not define: "
        f"Apex type fflib_SObjectDomain ({CLASSES}/FooService.cls:5); namespace npe01 ({CLASSES}/FooService.cls:7); "
        "nothing was deployed"
    ) in result.stderr
    assert org.deploys == {}
    asked = [call for _, call in org.calls]
    assert {"query:EntityDefinition", "query:ApexClass", "query:InstalledSubscriberPackage", "completions"} <= set(
        asked
    )


def test_deploy_goes_on_when_the_org_provides_every_required_name(org: FakeOrg, project, checks_require):
    org.query_page_size = 1
    org.org_sobjects.add("npe03__Recurring_Donation__c")
    org.package_classes.add((None, "fflib_SObjectDomain"))  # installed unmanaged, as a CI installs it
    org.installed_namespaces.update({"npe01", "npo02"})
    result = deploy(org, project)
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert "The org provides the 4 name(s) the project uses but does not define" in result.stderr
    assert list(org.deploys) == ["0Af000000000001AAA"]
    assert [call for _, call in org.calls].count("query:more") >= 1  # npo02 came on the second page


def test_a_deploy_without_checks_asks_the_org_nothing(org: FakeOrg, project, checks_require):
    result = deploy(org, project, "--skip-checks")
    assert result.exit_code == 0, result.output
    assert not {"query:EntityDefinition", "completions"} & {call for _, call in org.calls}


# --- the deep check on a project that uses a package's names (real apex-ls) -----------------------------


@pytest.mark.tools
def test_the_deep_check_lists_a_packages_names_once_and_still_blocks_a_typo(tmp_path):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    classes = root / CLASSES
    (classes / "LogWriter.cls").write_text(
        "public with sharing class LogWriter {\n"
        "    public static void write(fflib_ISObjectUnitOfWork work) {\n"
        "        Schema.Log__c entry = new Schema.Log__c();\n"
        "        List<Schema.Log__c> entries = new List<Schema.Log__c>{ entry };\n"
        "        CaseTriggerHandlr.handle();\n"
        "    }\n"
        "}\n",
        "utf-8",
    )
    shutil.copy(classes / "CaseTriggerHandler.cls-meta.xml", classes / "LogWriter.cls-meta.xml")
    findings = [f for f in run_checks(root, deep=True, use_cache=False) if f.tool == "apex-ls"]
    assert {(r.kind, r.name) for r in required_of(findings)} == {
        ("apex", "fflib_ISObjectUnitOfWork"),
        ("sobject", "Log__c"),
    }
    assert [f.rule for f in findings].count(REQUIRED_RULE) == 1
    blockers = [(f.file, f.line) for f in findings if f.severity == "error"]
    assert blockers == [(f"{CLASSES}/LogWriter.cls", 5)]


# --- what apex-ls judged without knowing a missing name is not certain ----------------------------------

SOURCES = {
    "Domain.cls": "public virtual class Domain extends fflib_SObjectDomain {\n    void go() { run(); }\n}\n",
    "Payments.cls": (
        "public class Payments {\n"
        "    public Payments(List<npe01__OppPayment__c> records) {}\n"
        "    public void apply(List<npe01__OppPayment__c> records) {}\n"
        "}\n"
    ),
    "Sorter.cls": "public class Sorter implements System.Comparator<SObject> {\n}\n",
    "Matcher.cls": "global class Matcher {\n    global static Matcher equals(Object value) { return null; }\n}\n",
    "Base.cls": "public virtual class Base {\n    protected Base(Integer size) {}\n}\n",
    "Child.cls": "public class Child extends Base {\n    class Inner { Base make() { return new Base(1); } }\n}\n",
    "Caller.cls": (
        "public class Caller {\n"
        "    void go(Integer count) {\n"
        "        npe01__OppPayment__c payment = new npe01__OppPayment__c(\n"
        "            Name = 'x'\n"
        "        );\n"
        "        new Payments(Trigger.new).apply(Trigger.new);\n"
        "        counter++;\n"
        "        Caller.nothing();\n"
        "    }\n"
        "}\n"
    ),
}
# (file, line, message) -> the severity it gets, or None when it joins the names the org must provide
JUDGED = [
    ("Caller.cls", 3, "No type declaration found for 'Schema.npe01__OppPayment__c'", None),
    # the statement that uses the missing sObject, on its next line
    ("Caller.cls", 4, "Incompatible types in assignment, from 'System.String' to 'Schema.Name'", "moderate"),
    # signatures that name the missing sObject
    ("Caller.cls", 6, "Constructor not defined: Payments.<constructor>(System.List<System.SObject>)", "moderate"),
    (
        "Caller.cls",
        6,
        "No matching method found for 'apply' on 'Payments' taking arguments 'System.List<System.SObject>'",
        "moderate",
    ),
    ("Payments.cls", 2, "No type declaration found for 'List<Schema.npe01__OppPayment__c>'", None),
    # a member inherited from the missing parent class
    ("Domain.cls", 1, "No type declaration found for 'fflib_SObjectDomain'", None),
    ("Domain.cls", 2, "No matching method found for 'run' on 'Domain' taking no arguments", "moderate"),
    # apex-ls' own gaps: generic variance, a static method shadowing Object's, hedged advice, file layout
    (
        "Caller.cls",
        6,
        "No matching method found for 'sort' on 'System.List<Schema.Account>' taking arguments 'Sorter', wrong "
        "argument types for calling 'public virtual void sort(System.Comparator<Schema.Account>)'",
        "moderate",
    ),
    (
        "Caller.cls",
        6,
        "No matching method found for 'equals' on 'Matcher' taking arguments 'System.Integer', are you trying to "
        "call the instance method 'public virtual System.Boolean equals(System.Object)'",
        "moderate",
    ),
    ("Caller.cls", 2, "Overriding a private method may not work, change to protected, public or global", "low"),
    ("Caller.cls", 1, "Duplicate for type 'Caller' found in 'other/Caller.cls', ignoring this file", "moderate"),
    # a protected constructor called from an inner class of a subclass: apex-ls hides it, the platform does not
    ("Child.cls", 2, "Constructor is not visible: Base.<constructor>(System.Integer)", "moderate"),
    # still certain: an undeclared variable, a missing method of a type apex-ls reads whole, a protected
    # constructor called from elsewhere
    ("Caller.cls", 9, "Constructor is not visible: Base.<constructor>(System.Integer)", "error"),
    ("Caller.cls", 7, "No variable or type found for 'counter' on 'Caller'", "error"),
    ("Caller.cls", 8, "No matching method found for 'nothing' on 'Caller' taking no arguments", "error"),
]


def test_what_apex_ls_judged_without_a_missing_name_is_uncertain_and_the_rest_still_blocks(tmp_path):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    for name, source in SOURCES.items():
        (root / CLASSES / name).write_text(source, "utf-8")
        shutil.copy(root / CLASSES / "CaseTriggerHandler.cls-meta.xml", root / CLASSES / f"{name}-meta.xml")
    _, project = check_sfdx_project(root)
    with apex_ls.apex_ls_workspace(project, stable=False) as workspace:
        report = {
            "files": [
                {
                    "path": str(workspace.path / CLASSES / name),
                    "messages": [
                        {"category": "Error", "message": message, "start": {"line": line}}
                        for file, line, message, _ in JUDGED
                        if file == name
                    ],
                }
                for name in SOURCES
            ]
        }
        findings = apex_ls._findings(report, workspace, project, apex_ls.ProjectTypes(project))
    judged = {(Path(f.file).name, f.line, f.message.split(" (apex-ls may")[0]): f.severity for f in findings}
    assert {(file, line, message): judged.get((file, line, message)) for file, line, message, _ in JUDGED} == {
        (file, line, message): severity for file, line, message, severity in JUDGED
    }
    assert {(r.kind, r.name) for r in required_of(findings)} == {
        ("sobject", "npe01__OppPayment__c"),
        ("apex", "fflib_SObjectDomain"),
    }


def test_without_the_platforms_symbol_table_no_apex_name_blocks(org: FakeOrg, project, checks_require):
    org.apex_platform = {}  # an answer without publicDeclarations: a platform type cannot be told from a missing one
    org.installed_namespaces.add("npe01")
    result = deploy(org, project)
    assert result.exit_code == 1
    assert "the target org lacks 1 of the 4 name(s)" in result.stderr  # the sObject only
    assert "sObject npe03__Recurring_Donation__c" in result.stderr and "fflib_SObjectDomain" not in result.stderr


def test_a_type_two_files_define_blocks_only_on_members_neither_declares(tmp_path):
    # soql-lib defines its classes in two package directories; a call to a method neither copy declares is
    # missing whichever copy the deploy takes
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    for folder, method in (("a", "first"), ("b", "second")):
        (root / CLASSES / folder).mkdir()
        source = f"public class Dup {{\n    public static void {method}() {{ Dup.third(); }}\n}}\n"  # as planted
        (root / CLASSES / folder / "Dup.cls").write_text(source)
        shutil.copy(root / CLASSES / "CaseTriggerHandler.cls-meta.xml", root / CLASSES / folder / "Dup.cls-meta.xml")
    _, project = check_sfdx_project(root)
    types = apex_ls.ProjectTypes(project)
    caller = root / CLASSES / "CaseTriggerHandler.cls"
    assert (
        apex_ls.certainty("No matching method found for 'second' on 'Dup' taking no arguments", caller, types)
        == "moderate"
    )
    assert (
        apex_ls.certainty("No matching method found for 'third' on 'Dup' taking no arguments", caller, types) == "error"
    )
    # a constructor call the message names no type of: the line does
    source = caller.read_text().splitlines()
    opening = next(n for n, text in enumerate(source, 1) if "{" in text)
    source.insert(opening, "    Dup made = new Dup(1, 2);")
    caller.write_text("\n".join(source))
    types = apex_ls.ProjectTypes(project)
    message = "No constructor defined with 2 arguments"
    assert apex_ls.certainty(message, caller, types, opening + 1) == "moderate"
    assert apex_ls.certainty(message, caller, types, opening) == "error"


def test_the_same_name_behind_another_prefix_is_another_packages_class_not_a_typo(tmp_path):
    root = shutil.copytree(CASES / "clean", tmp_path / "clean")
    for name in ("mc_lookupController", "Flow"):
        (root / CLASSES / f"{name}.cls").write_text(f"public class {name} {{}}\n")
        shutil.copy(root / CLASSES / "CaseTriggerHandler.cls-meta.xml", root / CLASSES / f"{name}.cls-meta.xml")
    (root / CLASSES / "Orphan.cls").write_text("public class Orphan {}\n")  # no -meta.xml: not deployed
    _, project = check_sfdx_project(root)
    types = apex_ls.ProjectTypes(project)
    caller = root / CLASSES / "CaseTriggerHandler.cls"
    assert apex_ls.certainty("No variable or type found for 'fsc_lookupController'", caller, types) == "moderate"
    assert apex_ls.certainty("No variable or type found for 'mc_lookupControler'", caller, types) == "error"  # typo
    # an inner class read as the platform's class of the same name ('Request[]' as System.Request)
    message = (
        "No matching method found for 'convert' on 'Flow' taking arguments 'System.List<Flow.Request>', wrong "
        "argument types for calling 'public static void convert(System.List<System.Request> inputs)'"
    )
    assert apex_ls.certainty(message, caller, types) == "moderate"
    # Flow.Interview is the platform's, whatever class of the project is named Flow
    message = "Unknown field or type 'AutoReplyMessage' on 'Flow.Interview.EmailToFlowController'"
    assert apex_ls.certainty(message, caller, types) == "moderate"
    with apex_ls.apex_ls_workspace(project, stable=False) as workspace:  # apex-ls reads what the deploy takes
        assert not (workspace.path / CLASSES / "Orphan.cls").exists()
        assert (workspace.path / CLASSES / "Flow.cls").exists()
