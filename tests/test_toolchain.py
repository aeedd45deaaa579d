"""Tool discovery, runtime checks and ``apexgen tools install|status``, with fake node, npm and java."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from apexgen.check import toolchain
from apexgen.cli import main
from apexgen.errors import ToolsMissingError
from apexgen.paths import user_cache_dir
from apexgen.pins import LWC_TEST_PACKAGES, PINNED_CONTENT, PINNED_PACKAGES

WORKTREE = Path(__file__).resolve().parent.parent


def fake_npm(failure: bool) -> str:
    """A stand-in for npm: "installs" the dependencies of ./package.json at the versions it names."""
    return f"""#!{sys.executable}
import json, pathlib, sys
print("fake npm", *sys.argv[1:])
if {failure}:
    sys.exit(1)
for name, version in json.loads(pathlib.Path("package.json").read_text())["dependencies"].items():
    folder = pathlib.Path("node_modules", name)
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps(dict(name=name, version=version)))
"""


def fake_executable(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(script)
    path.chmod(0o755)


@pytest.fixture
def fake_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH of fakes only: node 20, npm that succeeds, java and javac 17 (tests replace or remove them)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    fake_executable(folder, "node", "#!/bin/sh\necho v20.20.2\n")
    fake_executable(folder, "java", "#!/bin/sh\necho 'openjdk version \"17.0.15\" 2025-04-15' >&2\n")
    # javac: writes the class file named after the source into the folder after -d.
    fake_executable(
        folder,
        "javac",
        '#!/bin/sh\nfor source; do :; done\nname=${source##*/}\nwhile [ "$1" != -d ]; do shift; done\n: > "$2/${name%.java}.class"\n',
    )
    fake_executable(folder, "npm", fake_npm(failure=False))
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("APEXGEN_TOOLS_DIR", raising=False)
    monkeypatch.setattr(toolchain, "SOURCE_DIR", tmp_path / "checkout")  # not this worktree, which has them
    return folder


def fake_node_modules(directory: Path, **versions: str) -> Path:
    for package, version in {**PINNED_PACKAGES, **versions}.items():
        folder = directory / "node_modules" / package
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text(json.dumps({"name": package, "version": version}))
    return directory / "node_modules"


def invoke(*args: str) -> Any:
    """The command line in this process, so the monkeypatched places apply."""
    return CliRunner().invoke(main, list(args))


def test_pinned_versions_are_the_root_package_json_dev_dependencies():
    """The test command installs exactly the pinned tools: the deep check's and the LWC test tools."""
    package = json.loads((WORKTREE / "package.json").read_text())
    assert package["devDependencies"] == {**PINNED_PACKAGES, **LWC_TEST_PACKAGES}


@pytest.mark.tools
def test_shipped_sfdx_project_schema_is_the_pinned_package_file():
    shipped = WORKTREE / "generator" / "apexgen" / "check" / "schemas" / "sfdx-project.schema.json"
    installed = WORKTREE / "node_modules" / "@salesforce" / "schemas" / "sfdx-project.schema.json"
    assert json.loads(shipped.read_text()) == json.loads(installed.read_text())
    assert f"**{PINNED_PACKAGES['@salesforce/schemas']}**" in (shipped.parent / "README.md").read_text()


def test_cache_dir_honours_xdg_cache_home_and_is_keyed_by_the_pins(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = toolchain.cache_install_dir()
    assert first.parent == tmp_path / "apexgen" / "tools"
    monkeypatch.setitem(PINNED_PACKAGES, "prettier", "0.0.1")
    assert toolchain.cache_install_dir() != first


def test_places_are_tried_in_the_documented_order(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("APEXGEN_TOOLS_DIR", str(tmp_path / "explicit"))
    project = tmp_path / "work" / "project"
    assert toolchain.candidate_dirs(project) == [
        tmp_path / "explicit",
        project,
        WORKTREE,
        toolchain.cache_install_dir(),
    ]


def test_node_modules_are_looked_for_in_order_and_must_match_the_pins(tmp_path, monkeypatch):
    monkeypatch.setattr(toolchain, "SOURCE_DIR", tmp_path / "checkout")  # not this worktree, which has them
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = tmp_path / "work" / "project"
    project.mkdir(parents=True)
    monkeypatch.delenv("APEXGEN_TOOLS_DIR", raising=False)
    assert toolchain.find_node_modules(project) is None

    cached = fake_node_modules(toolchain.cache_install_dir())
    assert toolchain.find_node_modules(project) == cached
    fake_node_modules(tmp_path / "work")  # a parent folder's: never used (issue 23, item 2)
    assert toolchain.find_node_modules(project) == cached
    fake_node_modules(project, prettier="3.0.0")  # another version than pinned: skipped
    assert toolchain.find_node_modules(project) == cached
    explicit = fake_node_modules(tmp_path / "explicit")
    monkeypatch.setenv("APEXGEN_TOOLS_DIR", str(tmp_path / "explicit"))
    assert toolchain.find_node_modules(project) == explicit


def test_a_parent_folders_tools_never_run_and_the_projects_own_must_be_the_pinned_files(tmp_path, monkeypatch):
    """Issue 23, item 2: a node_modules in a shared parent folder (here with every pinned version) is not a
    place tools come from; the project's own is used only when its files are the pinned releases'."""
    monkeypatch.setattr(toolchain, "SOURCE_DIR", tmp_path / "checkout")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("APEXGEN_TOOLS_DIR", raising=False)
    project = tmp_path / "shared" / "project"
    project.mkdir(parents=True)
    parent = fake_node_modules(tmp_path / "shared")
    assert toolchain.find_node_modules(project) is None
    assert parent not in [place.directory for place in toolchain.tools_status(project).places]
    own = fake_node_modules(project)  # the pinned versions, but not the pinned files
    assert toolchain.find_node_modules(project) is None
    (place,) = [p for p in toolchain.tools_status(project).places if p.directory == own]
    assert "prettier differs from the pinned release's files" in place.problems


@pytest.mark.tools
def test_the_pinned_content_is_what_npm_installs():
    assert {p: toolchain.package_digest(WORKTREE / "node_modules" / p) for p in PINNED_PACKAGES} == PINNED_CONTENT
    assert toolchain.place_problems(WORKTREE / "node_modules", WORKTREE) == []


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_292"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ("v20.20.2", 20),
        ("something else", None),
    ],
)
def test_runtime_versions_are_read_from_their_banners(tmp_path, monkeypatch, output, major):
    fake_executable(tmp_path, "tool", f"#!/bin/sh\necho '{output}' >&2\n")
    assert toolchain.runtime_major([str(tmp_path / "tool"), "-version"]) == major


def test_a_missing_runtime_is_none_and_named_plainly(fake_path):
    (fake_path / "java").unlink()
    assert toolchain.java_major() is None
    (problem,) = toolchain.runtime_problems()
    assert problem.startswith(
        "a JDK >= 17, which runs jorje, apex-ls and PMD and compiles apexgen's batch parser once (not found): "
    )
    assert problem.endswith("'apt-get install openjdk-17-jdk-headless'")


def test_a_java_without_javac_is_not_enough(fake_path):
    (fake_path / "javac").unlink()
    assert toolchain.java_major() == 17
    (problem,) = toolchain.runtime_problems()
    assert "(javac not found)" in problem
    assert invoke("tools", "install").exit_code == 2
    result = invoke("tools", "status", "--project-dir", str(fake_path.parent))
    assert result.exit_code == 2
    assert "javac    not found: a JDK (not only a JRE) is needed" in result.stdout


@pytest.mark.tools
def test_the_batch_parser_is_compiled_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    tools = toolchain.Toolchain(WORKTREE / "node_modules")
    classes = toolchain.jorje_batch_classes(tools)
    assert classes.parent == tmp_path / "apexgen" / "jvm"
    compiled = classes / "JorjeBatch.class"
    assert compiled.read_bytes()[:4] == b"\xca\xfe\xba\xbe"
    assert int.from_bytes(compiled.read_bytes()[6:8], "big") == 61  # class file of Java 17, runs on 17+
    assert sorted(p.name for p in classes.parent.iterdir()) == [classes.name]  # no staging folder left
    stamp = compiled.stat().st_mtime_ns
    monkeypatch.setattr(toolchain, "javac_path", lambda: pytest.fail("compiled again"))
    assert toolchain.jorje_batch_classes(tools) == classes
    assert compiled.stat().st_mtime_ns == stamp


def test_the_batch_parser_without_javac_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(toolchain, "javac_path", lambda: None)
    with pytest.raises(ToolsMissingError, match=r"needs a JDK >= 17, .* \(javac not found\): install one"):
        toolchain.jorje_batch_classes(toolchain.Toolchain(WORKTREE / "node_modules"))
    assert not (tmp_path / "apexgen" / "jvm").exists() or not any((tmp_path / "apexgen" / "jvm").iterdir())


def test_cli_install_also_compiles_the_batch_parser_and_the_daemon(fake_path):
    result = invoke("tools", "install")
    assert result.exit_code == 0, result.stderr
    assert "Ready: 'apexgen check --deep' can run." in result.stderr
    (compiled,) = (user_cache_dir() / "jvm").glob("JorjeBatch-*/JorjeBatch.class")
    (compiled,) = (user_cache_dir() / "jvm").glob("CheckDaemon-*/CheckDaemon.class")


def test_install_puts_the_pinned_packages_in_the_cache(fake_path):
    node_modules = toolchain.install_tools()
    assert node_modules == toolchain.cache_install_dir() / "node_modules"
    assert not toolchain.package_problems(node_modules)
    manifest = json.loads((node_modules.parent / "package.json").read_text())
    assert manifest["dependencies"] == PINNED_PACKAGES
    assert toolchain.find_node_modules(fake_path) == node_modules


def test_a_failed_install_leaves_nothing_behind(fake_path):
    fake_executable(fake_path, "npm", fake_npm(failure=True))
    with pytest.raises(ToolsMissingError, match=r"npm install failed \(exit 1\)"):
        toolchain.install_tools()
    assert list(toolchain.cache_install_dir().parent.iterdir()) == []


def test_install_without_node_says_what_to_install(fake_path):
    (fake_path / "node").unlink()
    with pytest.raises(ToolsMissingError, match="needs Node.js >= 18 and npm .node not found, npm found."):
        toolchain.install_tools()


def test_cli_install_reports_a_missing_java_after_installing(fake_path, capfd):
    (fake_path / "java").unlink()
    result = invoke("tools", "install")
    assert result.exit_code == 2
    assert result.stdout.strip() == str(toolchain.cache_install_dir() / "node_modules")
    assert "fake npm install" in capfd.readouterr().err  # npm's own output, on stderr
    assert "error: the Node packages are installed, but still missing: a JDK >= 17, " in result.stderr


def test_cli_status_shows_each_place_and_exits_2_until_installed(fake_path):
    project = str(fake_path.parent)  # not the worktree, which has the tools in node_modules
    result = invoke("tools", "status", "--project-dir", project)
    assert result.exit_code == 2
    assert "node     20 (ok), needs >= 18" in result.stdout
    assert "java     17 (ok), needs >= 17" in result.stdout
    assert f"javac    {fake_path / 'javac'}\n" in result.stdout
    assert f"{toolchain.cache_install_dir() / 'node_modules'}: not present" in result.stdout
    assert "apexgen tools install" in result.stderr

    assert invoke("tools", "install").exit_code == 0
    result = invoke("tools", "status", "--project-dir", project)
    assert result.exit_code == 0, result.stderr
    assert f"{toolchain.cache_install_dir() / 'node_modules'}: in use" in result.stdout
