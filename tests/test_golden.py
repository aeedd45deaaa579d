"""Golden cases: each tests/cases/<name>/apexgen.toml and the tree it must generate (expected/).

After an intended change to the templates, rewrite the expected trees with
``APEXGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from apexgen.generate.plan import render_plan
from apexgen.spec.load import load_spec
from tests.conftest import tree

CASES = Path(__file__).parent / "cases"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "apexgen.toml").exists())


@pytest.mark.parametrize("case", CASE_NAMES)
def test_case_generates_its_expected_tree(case):
    plan = {f.path: f.content for f in render_plan(load_spec(CASES / case / "apexgen.toml"))}
    expected_dir = CASES / case / "expected"
    if os.environ.get("APEXGEN_UPDATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        for path, content in plan.items():
            (expected_dir / path).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / path).write_text(content, "utf-8")
    expected = tree(expected_dir)
    assert sorted(plan) == sorted(expected)
    for path in plan:
        assert plan[path] == expected[path], f"{case}: {path} differs from the expected tree"


def test_rendering_is_deterministic():
    spec = load_spec(CASES / "tricky-strings" / "apexgen.toml")
    assert render_plan(spec) == render_plan(spec)
