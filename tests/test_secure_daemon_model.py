"""Issue 23, item 4 (the daemon's part): the check daemon's apex-ls model is checked against the files at each
request, so a check through it finds what the tools find alone, whatever changed between or during checks.

Before, the daemon recorded the digests the client sent as what its model held. A file saved between the
client's digest and apex-ls' read left the model holding the new content under the old digest; once the file
went back to that content (a branch switch back), no refresh came and the daemon kept the wrong model: the
first test failed on main there (the caller's missing-method finding was gone through the daemon and there
alone). A check that saw a change stopped the daemon instead; now the daemon digests the files itself.
"""

from __future__ import annotations

import hashlib

import pytest

from apexgen.check import apex_ls, daemon, runner
from tests.test_check_daemon import CLASSES, cross_file_and_pmd, project, without_daemon

__all__ = ["project"]  # the fixture: the defects case, with the daemon turned on

META = '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">\n'
META += "    <apiVersion>62.0</apiVersion>\n    <status>Active</status>\n</ApexClass>\n"


@pytest.mark.tools
def test_a_file_saved_while_apex_ls_reads_it_never_leaves_the_model_stale(project, monkeypatch):
    service, caller = project / CLASSES / "SummaryService.cls", f"{CLASSES}/SummaryCaller.cls"
    broken = service.read_text()  # the caller calls summarise(), which the service lacks
    fixed = broken.replace("summarize(", "summarise(")
    runner.run_checks(project, deep=True)
    service.write_text(fixed)
    runner.run_checks(project, deep=True)

    # Given the client digested the broken service, and an editor saved another fix before apex-ls read it
    service.write_text(fixed.replace("public static", "// saved while the check ran\n    public static"))
    asks = apex_ls._from_daemon

    def digested_before_the_save(the_daemon, settings_key, digests):  # noqa: ANN001, ANN202
        stale = hashlib.sha256(broken.encode()).hexdigest()
        told = {path: stale if path.endswith("/SummaryService.cls") else d for path, d in digests.items()}
        return asks(the_daemon, settings_key, told)

    with monkeypatch.context() as racing:
        racing.setattr(apex_ls, "_from_daemon", digested_before_the_save)
        runner.run_checks(project, deep=True)

    # When the branch switches back to the broken service and the project is checked through the daemon
    service.write_text(broken)
    through_daemon = runner.run_checks(project, deep=True)

    # Then the daemon refreshed it, and finds what apex-ls alone finds
    assert daemon.running_daemons(), "the daemon still serves"
    assert (caller, 3, "apex-ls", "Missing") in cross_file_and_pmd(through_daemon)
    assert through_daemon == without_daemon(project, monkeypatch)


@pytest.mark.tools
def test_a_folder_linked_in_a_new_folder_and_a_changed_file_give_the_findings_of_the_tools_alone(project, monkeypatch):
    runner.run_checks(project, deep=True)
    [started] = daemon.running_daemons()

    # Given a folder inside the project linked into the classes, and a new folder of classes using it
    shared = project / "shared"
    shared.mkdir()
    (shared / "Helper.cls").write_text(
        "public with sharing class Helper {\n    public static Integer twice(Integer n) {\n        return n * 2;\n    }\n}\n"
    )
    (shared / "Helper.cls-meta.xml").write_text(META)
    (project / CLASSES / "linked").symlink_to(shared, target_is_directory=True)
    more = project / CLASSES / "more"
    more.mkdir()
    (more / "UsesHelper.cls").write_text(
        "public with sharing class UsesHelper {\n    public static Integer four() {\n"
        "        return Helper.twice(2) + Helper.thrice(0);\n    }\n}\n"
    )
    (more / "UsesHelper.cls-meta.xml").write_text(META)
    # When the project is checked through the daemon
    added = runner.run_checks(project, deep=True)
    # Then its findings are the tools' own: the linked class is known, its missing method is reported
    assert added == without_daemon(project, monkeypatch)
    assert (f"{CLASSES}/more/UsesHelper.cls", 3, "apex-ls", "Missing") in cross_file_and_pmd(added)
    assert not any(f.file == f"{CLASSES}/more/UsesHelper.cls" and "twice" in f.message for f in added)

    # And when the linked class changes between two checks, the next one follows it
    helper = shared / "Helper.cls"
    helper.write_text(helper.read_text().replace("twice", "thrice"))
    changed = runner.run_checks(project, deep=True)
    assert changed == without_daemon(project, monkeypatch)
    assert any(f.file == f"{CLASSES}/more/UsesHelper.cls" and "twice" in f.message for f in changed)
    [serving] = daemon.running_daemons()
    assert serving["pid"] == started["pid"], "one daemon served every check"


@pytest.mark.tools
def test_a_file_changed_during_a_check_leaves_the_daemon_serving(project, monkeypatch):
    """A change seen during a check used to stop the project's daemon; it is reported and the daemon goes on."""
    runner.run_checks(project, deep=True)
    [started] = daemon.running_daemons()
    service = project / CLASSES / "SummaryService.cls"
    original = service.read_text()
    asks = apex_ls._from_daemon

    def saved_during_the_request(the_daemon, settings_key, digests):  # noqa: ANN001, ANN202
        service.write_text(original.replace("summarize(", "summarise("))
        return asks(the_daemon, settings_key, digests)

    service.write_text(original + "\n")
    with monkeypatch.context() as racing:
        racing.setattr(apex_ls, "_from_daemon", saved_during_the_request)
        during = runner.run_checks(project, deep=True)
    assert any(f.rule == "changed-during-check" and f.file.endswith("SummaryService.cls") for f in during)
    [serving] = daemon.running_daemons()
    assert serving["pid"] == started["pid"]
    assert runner.run_checks(project, deep=True) == without_daemon(project, monkeypatch)
