"""Every third-party module the apexgen package imports is declared in pyproject.toml, with the extras its use
needs; simple-salesforce, whose internals apexgen reads, is pinned to the version the tests run."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "generator" / "apexgen"


def declared() -> dict[str, str]:
    """Normalised distribution name -> its requirement string, from [project] dependencies."""
    requirements = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    return {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower().replace("_", "-"): r for r in requirements}


def imported_modules() -> set[str]:
    """Top-level names of every module the package imports (at any depth in its code)."""
    names = set()
    for source in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"apexgen", "__future__"}


def test_every_third_party_import_is_a_declared_dependency():
    distributions = metadata.packages_distributions()
    needed = {dist.lower().replace("_", "-") for module in imported_modules() for dist in distributions[module]}
    assert needed - set(declared()) == set()


def test_jwt_login_gets_the_crypto_extra_and_simple_salesforce_the_tested_version():
    requirements = declared()
    assert re.match(r"(?i)pyjwt\[crypto\]", requirements["pyjwt"])  # RS256 signing needs cryptography
    assert requirements["simple-salesforce"] == f"simple-salesforce=={metadata.version('simple-salesforce')}"
