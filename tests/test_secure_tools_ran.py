"""Issue 23, item 2 ("say which ran"): ``check --deep`` names the tools it ran, their versions, and where they
came from (apexgen's cache or checkout, $APEXGEN_TOOLS_DIR, or the project's own verified node_modules), in
its text and its JSON. Before, only ``apexgen tools status`` showed the place, and no version."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from apexgen.check import toolchain
from apexgen.cli import main
from apexgen.pins import PINNED_PACKAGES
from tests.check_cases.projects import copy_case

REPO = Path(__file__).resolve().parents[1]
ENGINE = "@salesforce/code-analyzer-pmd-engine"


def test_each_place_tools_come_from_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    monkeypatch.setattr(toolchain, "SOURCE_DIR", tmp_path / "checkout")
    monkeypatch.setenv(toolchain.TOOLS_DIR_ENV, str(tmp_path / "explicit"))
    assert toolchain.origin_of(tmp_path / "explicit" / "node_modules", project) == "environment"
    assert toolchain.origin_of(project / "node_modules", project) == "project"
    assert toolchain.origin_of(tmp_path / "checkout" / "node_modules", project) == "checkout"
    assert toolchain.origin_of(toolchain.cache_install_dir() / "node_modules", project) == "cache"


def test_the_versions_come_from_the_installed_packages_and_jars(tmp_path: Path) -> None:
    modules = tmp_path / "node_modules"
    for package, version in {"prettier": "3.1.0", "prettier-plugin-apex": "2.0.1", ENGINE: "0.9.0"}.items():
        (modules / package).mkdir(parents=True)
        (modules / package / "package.json").write_text(json.dumps({"version": version}))
    tools = toolchain.Toolchain(modules)
    tools.java_lib.mkdir(parents=True)
    for jar in ("apex-ls_2.13-6.1.0.jar", "apex-parser-5.0.0.jar", "pmd-apex-7.9.0.jar", "pmd-apex-core.jar"):
        (tools.java_lib / jar).touch()
    described = {name: str(tool) for name, tool in toolchain.tool_versions(tools).items()}
    assert described == {
        "jorje": "jorje (prettier-plugin-apex 2.0.1)",
        "prettier": "prettier 3.1.0 (prettier-plugin-apex 2.0.1)",
        "apex-ls": f"apex-ls 6.1.0 ({ENGINE} 0.9.0)",
        "pmd": f"pmd 7.9.0 ({ENGINE} 0.9.0)",
    }


def deep_check(project: Path, *extra: str) -> tuple[str, dict]:
    text = CliRunner().invoke(main, ["check", "--deep", "--project-dir", str(project), *extra])
    document = CliRunner().invoke(main, ["check", "--deep", "--json", "--project-dir", str(project), *extra])
    return text.stderr, json.loads(document.stdout)["result"]["tools"]


@pytest.mark.tools
def test_check_deep_says_which_tools_ran_from_apexgens_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(toolchain.TOOLS_DIR_ENV)  # the tests' own choice of the checkout (conftest.py)
    project = copy_case("defects", tmp_path / "project")
    said, tools = deep_check(project)
    assert tools["from"] == "checkout" and tools["nodeModules"] == str(REPO / "node_modules")
    versions = {tool["tool"]: (tool["version"], tool["package"], tool["packageVersion"]) for tool in tools["tools"]}
    assert versions == {
        "jorje": (None, "prettier-plugin-apex", PINNED_PACKAGES["prettier-plugin-apex"]),
        "prettier": (PINNED_PACKAGES["prettier"], "prettier-plugin-apex", PINNED_PACKAGES["prettier-plugin-apex"]),
        "apex-ls": ("6.0.2", ENGINE, PINNED_PACKAGES[ENGINE]),
        "pmd": ("7.26.0", ENGINE, PINNED_PACKAGES[ENGINE]),
    }
    assert f"apex-ls 6.0.2 ({ENGINE} {PINNED_PACKAGES[ENGINE]})" in said
    assert f"from apexgen's checkout ({REPO / 'node_modules'})" in said

    # Without PMD rules, PMD does not run, and the check says so by leaving it out
    _, without_pmd = deep_check(project, "--pmd-rules", "")
    assert [tool["tool"] for tool in without_pmd["tools"]] == ["jorje", "prettier", "apex-ls"]


@pytest.mark.tools
def test_check_deep_names_the_projects_own_node_modules_once_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(toolchain.TOOLS_DIR_ENV)
    project = copy_case("defects", tmp_path / "project")
    # The pinned releases' very files (hard links to the checkout's npm ci), in the project
    subprocess.run(["cp", "-al", str(REPO / "node_modules"), str(project / "node_modules")], check=True)
    said, tools = deep_check(project)
    assert tools["from"] == "project" and tools["nodeModules"] == str(project / "node_modules")
    assert "from the project's node_modules (its pinned packages match the pinned releases' files)" in said

    # Once a pinned package's files differ, the project's copy is not run: apexgen's own is
    (project / "node_modules" / "prettier" / "index.cjs").unlink()
    shutil.copy(REPO / "node_modules" / "prettier" / "index.cjs", project / "node_modules" / "prettier" / "index.cjs")
    with (project / "node_modules" / "prettier" / "index.cjs").open("a") as planted:
        planted.write("\n// planted\n")
    _, after = deep_check(project)
    assert after["from"] == "checkout"
