"""README's safety section: every guarantee names the test that proves it, and every test it names exists."""

from __future__ import annotations

import re

from tests.conftest import REPO

TESTS = REPO / "tests"


def safety_guarantees() -> list[str]:
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme.split("## Safety: what apexgen guarantees", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- \*\*.*?(?=^- \*\*|\Z)", section, re.S | re.M)


def test_every_guarantee_names_tests_that_exist() -> None:
    guarantees = safety_guarantees()
    assert len(guarantees) >= 10
    for guarantee in guarantees:
        named = re.findall(r"`(test_\w+\.py)(?:::(test_\w+))?`|`(test_\w+)`", guarantee)
        assert "Proof:" in guarantee and named, f"a guarantee without its test: {guarantee[:80]}"
        for module, function, bare in named:
            if module:
                source = (TESTS / module).read_text("utf-8")
                assert not function or re.search(rf"^def {function}\(", source, re.M), f"{module}::{function}"
            else:
                assert any(re.search(rf"^def {bare}\(", p.read_text("utf-8"), re.M) for p in TESTS.glob("test_*.py"))
