"""The deep check reuses what it learnt of unchanged files, and never an answer that no longer holds.

Real tools on a copy of check_cases/defects; a spy records which files jorje/prettier and PMD were given.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apexgen.check import deep, runner
from apexgen.check.cache import check_cache_dir
from tests.check_cases.projects import copy_case, meta_xml

# Every test here runs Salesforce's real tools (jorje, prettier, apex-ls, PMD): the full tier.
pytestmark = pytest.mark.tools

CLASSES = "force-app/main/default/classes"
DEFECTS_SEEN_BY_TOOLS = 7  # the .cls files of the defects case


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return copy_case("defects", tmp_path / "project")


@pytest.fixture
def looked_at(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[set[str]]]:
    """The file names each per-file tool was given, run after run."""
    calls: dict[str, list[set[str]]] = {"jorje-prettier": [], "pmd": []}
    parse_and_format, pmd_findings = deep.parse_and_format, deep.pmd_findings

    def spy_format(toolchain, root, files, daemon=None):
        calls["jorje-prettier"].append({f.name for f in files})
        return parse_and_format(toolchain, root, files, daemon)

    def spy_pmd(toolchain, project, files, categories, daemon=None):
        calls["pmd"].append({f.name for f in files})
        return pmd_findings(toolchain, project, files, categories, daemon)

    monkeypatch.setattr(deep, "parse_and_format", spy_format)
    monkeypatch.setattr(deep, "pmd_findings", spy_pmd)
    return calls


def test_a_second_check_looks_at_nothing_and_finds_the_same(project, looked_at):
    first = runner.run_checks(project, deep=True)
    second = runner.run_checks(project, deep=True)
    assert second == first
    assert [len(files) for files in looked_at["jorje-prettier"]] == [DEFECTS_SEEN_BY_TOOLS]
    assert [len(files) for files in looked_at["pmd"]] == [DEFECTS_SEEN_BY_TOOLS]
    assert {(f.tool, f.rule) for f in second} >= {
        ("jorje", "syntax"),
        ("pmd", "ApexSOQLInjection"),
        ("apex-ls", "Missing"),
    }


def test_a_changed_file_is_looked_at_again_and_its_findings_follow_it(project, looked_at):
    runner.run_checks(project, deep=True)
    search = project / CLASSES / "AccountSearch.cls"
    search.write_text(search.read_text().replace("+ name +", "+ String.escapeSingleQuotes(name) +"))
    broken = project / CLASSES / "BrokenSyntax.cls"
    broken.write_text(broken.read_text().replace("\n        return", ";\n        return", 1))
    fixed = runner.run_checks(project, deep=True)
    assert looked_at["jorje-prettier"][1] == looked_at["pmd"][1] == {"AccountSearch.cls", "BrokenSyntax.cls"}
    assert not any(f.rule in ("syntax", "ApexSOQLInjection") for f in fixed)
    search.write_text(search.read_text().replace("+ String.escapeSingleQuotes(name) +", "+ name +"))
    again = runner.run_checks(project, deep=True)
    assert (f"{CLASSES}/AccountSearch.cls", 4, "pmd", "ApexSOQLInjection") in {
        (f.file, f.line, f.tool, f.rule) for f in again
    }


def test_other_settings_look_at_every_file_again(project, looked_at):
    runner.run_checks(project, deep=True)
    runner.run_checks(project, deep=True, pmd_rules=["security"])
    (project / ".prettierrc").write_text(json.dumps({"plugins": ["prettier-plugin-apex"], "tabWidth": 2}))
    narrow = runner.run_checks(project, deep=True, pmd_rules=["security"])
    # PMD looked again for the other categories, jorje and prettier for the other .prettierrc; not otherwise.
    assert [len(files) for files in looked_at["pmd"]] == [DEFECTS_SEEN_BY_TOOLS, DEFECTS_SEEN_BY_TOOLS]
    assert [len(files) for files in looked_at["jorje-prettier"]] == [DEFECTS_SEEN_BY_TOOLS, DEFECTS_SEEN_BY_TOOLS]
    assert any(f.tool == "prettier" for f in narrow)  # 4-space classes under a 2-space .prettierrc


def test_a_change_in_another_file_still_reaches_apex_ls(project):
    caller = f"{CLASSES}/SummaryCaller.cls"
    assert (caller, 3, "apex-ls", "Missing") in {
        (f.file, f.line, f.tool, f.rule) for f in runner.run_checks(project, deep=True)
    }
    service = project / CLASSES / "SummaryService.cls"
    service.write_text(service.read_text().replace("summarize(", "summarise("))
    after = {(f.file, f.line, f.tool, f.rule) for f in runner.run_checks(project, deep=True)}
    assert (caller, 3, "apex-ls", "Missing") not in after


def test_no_cache_looks_at_every_file_and_keeps_nothing(project, looked_at):
    runner.run_checks(project, deep=True, use_cache=False)
    runner.run_checks(project, deep=True, use_cache=False)
    assert [len(files) for files in looked_at["pmd"]] == [DEFECTS_SEEN_BY_TOOLS] * 2
    assert not check_cache_dir().exists()


def test_the_cache_holds_only_the_files_of_the_last_check(project):
    runner.run_checks(project, deep=True)
    (project / CLASSES / "CorrectService.cls").unlink()
    (project / CLASSES / "CorrectService.cls-meta.xml").unlink()
    runner.run_checks(project, deep=True)
    (stored,) = (check_cache_dir() / "findings").glob("*/pmd.json")
    assert len(json.loads(stored.read_text())) == DEFECTS_SEEN_BY_TOOLS - 1


def test_a_cache_that_cannot_be_written_is_no_error(project, looked_at):
    check_cache_dir().parent.mkdir(parents=True)
    check_cache_dir().write_text("not a folder")
    first = runner.run_checks(project, deep=True)
    assert runner.run_checks(project, deep=True) == first
    assert len(looked_at["pmd"]) == 2


def test_a_new_file_is_looked_at_alone(project, looked_at):
    runner.run_checks(project, deep=True)
    (project / CLASSES / "Fresh.cls").write_text("public with sharing class Fresh {\n}\n")
    (project / CLASSES / "Fresh.cls-meta.xml").write_text(meta_xml("ApexClass"))
    runner.run_checks(project, deep=True)
    assert looked_at["jorje-prettier"][1] == looked_at["pmd"][1] == {"Fresh.cls"}
