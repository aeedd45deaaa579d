"""The hostile-input fuzz test (tests/test_fuzz.py) with a longer budget, and how its examples ended.

    python scripts/fuzz.py [--trees] [EXAMPLES [SEED]]     (default: 2000 examples, the suite's seed)

Without --trees it fuzzes generate with hostile specs, manifests and trees (tests/test_fuzz.py); with --trees,
check and convert with hostile project trees, tracing every file opened (tests/test_fuzz_trees.py).

Exit status is pytest's: 0 when every example kept the rules, 1 when Hypothesis found (and shrank) one
that did not.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    arguments = sys.argv[1:]
    trees = "--trees" in arguments
    arguments = [a for a in arguments if a != "--trees"]
    os.environ["APEXGEN_FUZZ_EXAMPLES"] = arguments[0] if arguments else "2000"
    if len(arguments) > 1:
        os.environ["APEXGEN_FUZZ_SEED"] = arguments[1]
    module = "test_fuzz_trees" if trees else "test_fuzz"
    started = time.monotonic()
    status = pytest.main(
        ["-q", "-p", "no:cacheprovider", str(REPO / f"tests/{module}.py"), "--hypothesis-show-statistics"]
    )
    OUTCOMES = importlib.import_module(f"tests.{module}").OUTCOMES

    print(f"\n{sum(OUTCOMES.values())} examples run in {time.monotonic() - started:.0f} s (shrinking included):")
    for outcome, count in OUTCOMES.most_common():
        print(f"  {count:6}  {outcome}")
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
