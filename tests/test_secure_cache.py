"""Issue 23, item 4: the findings cache cannot be poisoned by a file that changes during a check.

Digests were taken before the tools read the files, and findings saved under them: a file saved by an
editor while the check ran (here: fixed just before the schema check reads it, then broken again, as by
a branch switch) left "no findings" cached under the broken file's digest, and the next check passed the
broken file. Now a check whose file changed says so (the check did not complete, exit 5), caches nothing
for that file, and the next check finds the error again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from apexgen.check import metadata_xml
from apexgen.cli import main
from apexgen.errors import ExitCode
from tests.test_secure_forceignore import write_project

BROKEN = '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">\n'


def check(root: Path) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["check", "--project-dir", str(root), "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_a_file_changed_during_the_check_is_reported_and_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = write_project(tmp_path / "project")
    meta = root / "force-app/main/default/classes/A.cls-meta.xml"
    fixed = meta.read_text()
    meta.write_text(BROKEN)
    read_by_tool = metadata_xml._file_findings

    def editor_saves_while_the_tool_reads(project, files):  # noqa: ANN001, ANN202
        meta.write_text(fixed)
        return read_by_tool(project, files)

    with monkeypatch.context() as during:
        during.setattr(metadata_xml, "_file_findings", editor_saves_while_the_tool_reads)
        code, document = check(root)
    assert code == ExitCode.INCOMPLETE
    [incomplete] = [part for part in document["result"]["incomplete"] if part["tool"] == "check"]
    assert incomplete["files"] == ["force-app/main/default/classes/A.cls-meta.xml"]

    meta.write_text(BROKEN)  # the branch switches back
    code, document = check(root)
    assert code == ExitCode.FINDINGS
    assert any(
        f["file"].endswith("A.cls-meta.xml") and f["rule"] == "not-well-formed" for f in document["result"]["findings"]
    )
