"""The package's shape holds: module size, no import cycle, stages importing only earlier stages, and the
lint and type gates (ruff, mypy --strict, import-linter), run here so the test command is the gate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import apexgen

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(apexgen.__file__).resolve().parent  # the installed package (an editable install: the source)
MAX_MODULE_LINES = 600


def test_the_package_is_apexgen_under_the_generator_source_root() -> None:
    assert PACKAGE == REPO / "generator" / "apexgen" or (PACKAGE / "templates").is_dir()  # source, or a wheel
    assert (PACKAGE / "cli" / "__init__.py").is_file()


def test_no_module_is_over_600_lines() -> None:
    sizes = {
        path.relative_to(PACKAGE).as_posix(): len(path.read_text("utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert len(sizes) > 40, sizes  # the whole package was measured
    assert {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES} == {}


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """The import cycles of ``graph`` (module -> modules it imports): Tarjan's components of two or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(component)

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_strongly_connected_finds_a_cycle_and_only_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [{"a", "b", "c"}]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_counting_imports_inside_functions() -> None:
    import grimp

    graph = grimp.build_graph("apexgen")
    imports = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    assert len(imports) > 40
    assert strongly_connected(imports) == []


def run_gate(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_stages_import_only_earlier_stages_and_the_core_never_imports_click(capsys: pytest.CaptureFixture[str]) -> None:
    """The contracts of [tool.importlinter] in pyproject.toml."""
    from importlinter.cli import lint_imports

    exit_code = lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert "Contracts: 2 kept, 0 broken." in report


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "--no-cache", "generator", "tests", "bench", "scripts"),
        ("ruff", "format", "--no-cache", "--check", "generator", "tests", "bench", "scripts"),
        ("mypy",),
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_lint_and_type_gates_pass(command: tuple[str, ...]) -> None:
    result = run_gate(*command)
    assert result.returncode == 0, result.stdout + result.stderr
