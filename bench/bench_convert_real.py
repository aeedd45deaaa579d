"""Benchmark: `apexgen convert` against `sf project convert source` on a real SFDX project, whole processes.

    python bench/bench_convert_real.py --project NEBULA_DIR --sf SF [--apexgen CMD] [--runs 5]

Converts every package directory of the project (NebulaLogger has 8 and ~1,300 components, the largest of the
public projects issue 13 compares) with both tools, each as the process a user starts, into empty temporary
folders. The runs are interleaved (apexgen, sf, apexgen, sf, ...) so that the load of a shared machine weighs
on both alike. Prints each tool's median wall time and median CPU time (of the process and its children), the
ratio of the medians, and whether both package.xml files list the same members. Exit status: 0 when apexgen is
at least 10x faster (issue 13's target) with the same members, 1 when not, 2 when a converter fails.

Nothing in the repository downloads or vendors the inputs. Get them yourself: mirror the project
(github:jongpie/NebulaLogger) and check it out anywhere; install the sf CLI with npm into a folder you name,
`npm install --prefix SF_DIR @salesforce/cli` (sf 2.146.3 needs Node >= 22.19), and pass
`--sf SF_DIR/node_modules/.bin/sf` or a wrapper script that runs it with that Node.
`--apexgen` defaults to the `apexgen` on PATH, else `python -m apexgen`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

from lxml import etree

# The sf settings and the package.xml reading that scripts/compare_convert.py, the comparison of outputs, owns.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from compare_convert import SF_QUIET_ENV, package_members  # noqa: E402

TARGET_SPEEDUP = 10.0


def fail(message: str) -> NoReturn:
    """One line on stderr and exit status 2: the benchmark could not run."""
    print(f"bench_convert_real: {message}", file=sys.stderr)
    sys.exit(2)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(label: str, command: list[str], project: Path, out: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one conversion into an empty `out`; exits 2 when the converter fails."""
    shutil.rmtree(out, ignore_errors=True)
    cpu_before, started = children_cpu(), time.perf_counter()
    completed = subprocess.run(command, cwd=project, capture_output=True, text=True, env=env)
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu_before
    if completed.returncode != 0:
        output = (completed.stderr.strip() or completed.stdout.strip())[-500:]
        fail(f"{label} failed with exit status {completed.returncode}: {output}")
    return wall, cpu


def members(package_xml: Path) -> dict[str, set[str]]:
    return package_members(etree.parse(str(package_xml)).getroot())[1]


def default_apexgen() -> list[str]:
    found = shutil.which("apexgen")
    return [found] if found else [sys.executable, "-m", "apexgen"]


def describe(label: str, walls: list[float], cpus: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(walls):.3f} s wall, {statistics.median(cpus):.3f} s CPU "
        f"(runs: {[round(t, 3) for t in walls]})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="the SFDX project (e.g. a NebulaLogger checkout)")
    parser.add_argument("--sf", default=shutil.which("sf"), help="the sf executable [default: sf on PATH]")
    parser.add_argument("--apexgen", help="the apexgen command [default: apexgen on PATH, else python -m apexgen]")
    parser.add_argument("--runs", type=int, default=5, help="runs of each tool [default: 5]")
    args = parser.parse_args()
    if not args.sf:
        fail("sf is not installed: pass --sf PATH (see this script's docstring)")
    project = args.project.resolve()
    try:
        config = json.loads((project / "sfdx-project.json").read_text(encoding="utf-8"))
        directories = [entry["path"] for entry in config["packageDirectories"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        fail(f"{project / 'sfdx-project.json'}: cannot read packageDirectories ({error})")
    apexgen = shlex.split(args.apexgen) if args.apexgen else default_apexgen()
    files = sum(1 for d in directories for p in (project / d).rglob("*") if p.is_file())

    with tempfile.TemporaryDirectory(prefix="bench-convert-real-") as scratch:
        ours_out, theirs_out = Path(scratch) / "apexgen", Path(scratch) / "sf"
        ours_command = [*apexgen, "convert", "--project-dir", str(project), "--output-dir", str(ours_out)]
        sf_flags = [part for directory in directories for part in ("-p", directory)]
        theirs_command = [args.sf, "project", "convert", "source", *sf_flags, "--output-dir", str(theirs_out)]
        ours_times: list[tuple[float, float]] = []
        theirs_times: list[tuple[float, float]] = []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            ours_times.append(timed_run("apexgen convert", ours_command, project, ours_out, dict(os.environ)))
            sf_env = os.environ | SF_QUIET_ENV
            theirs_times.append(timed_run("sf project convert source", theirs_command, project, theirs_out, sf_env))
        ours_members, theirs_members = members(ours_out / "package.xml"), members(theirs_out / "package.xml")
        version = subprocess.run([args.sf, "--version"], capture_output=True, text=True, env=os.environ | SF_QUIET_ENV)

    ours_wall = [wall for wall, _ in ours_times]
    theirs_wall = [wall for wall, _ in theirs_times]
    speedup = statistics.median(theirs_wall) / statistics.median(ours_wall)
    same = ours_members == theirs_members
    print(f"project: {project.name}, {len(directories)} package directories, {files} files in them")
    print(describe("apexgen convert", ours_wall, [cpu for _, cpu in ours_times]))
    print(describe(f"sf project convert source ({version.stdout.strip()})", theirs_wall, [c for _, c in theirs_times]))
    print(
        f"speed-up (sf median / apexgen median): {speedup:.1f}x, target {TARGET_SPEEDUP:.0f}x; "
        f"package.xml members identical: {same} ({sum(len(m) for m in theirs_members.values())} members in sf's)"
    )
    sys.exit(0 if same and speedup >= TARGET_SPEEDUP else 1)


if __name__ == "__main__":
    main()
