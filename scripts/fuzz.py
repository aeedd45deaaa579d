"""The hostile-input fuzz test (tests/test_fuzz.py) with a longer budget, and how its examples ended.

    python scripts/fuzz.py [EXAMPLES [SEED]]     (default: 2000 examples, the suite's seed)

Exit status is pytest's: 0 when every example kept the rules, 1 when Hypothesis found (and shrank) one
that did not.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    os.environ["APEXGEN_FUZZ_EXAMPLES"] = sys.argv[1] if len(sys.argv) > 1 else "2000"
    if len(sys.argv) > 2:
        os.environ["APEXGEN_FUZZ_SEED"] = sys.argv[2]
    started = time.monotonic()
    status = pytest.main(
        ["-q", "-p", "no:cacheprovider", str(REPO / "tests/test_fuzz.py"), "--hypothesis-show-statistics"]
    )
    from tests.test_fuzz import OUTCOMES

    print(f"\n{sum(OUTCOMES.values())} examples run in {time.monotonic() - started:.0f} s (shrinking included):")
    for outcome, count in OUTCOMES.most_common():
        print(f"  {count:6}  {outcome}")
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
