"""Benchmark of the generator (figures for README; not a test: these machines are shared and noisy).

Prints:
  * `apexgen --help` cold start: median of 10 runs in fresh processes (target: at most 150 ms);
  * `apexgen generate` of specs with 50, 100, 200 and 500 prompts (each exposed to Flow and LWC),
    median of 5 runs each, into an empty project (target: 500 prompts in at most 2 s), with the
    time per prompt at each size: flat per-prompt times mean linear growth.
  * with --write-cost, where the 500-prompt generate's time goes, against the alternative a user would
    write (render, then a plain loop of Path.write_text: no temporary, no flush, no manifest): the command
    as shipped, with each file flushed on its own (the writer before syncfs), with nothing flushed, render
    alone, and that plain loop, as whole processes; then the writing step alone on the same files. All
    interleaved, medians of 5, ratios to the plain loop;
  * with --sf PATH, the alternative a user would reach for, measured in the same run: the sf CLI's
    `sf template generate apex class`, which writes one empty class (and its meta file) per call. Its
    median per class is set against apexgen's time per generated class at 500 prompts (apexgen's
    classes are complete and tested, the template's are empty, so this understates the difference).

Run: python bench/bench_generate.py [--sf PATH] [--write-cost]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_seconds_in(command: list[str], runs: int, make_cwd) -> float:
    """Median wall time of ``command`` run ``runs`` times, each in a new folder from ``make_cwd``."""
    times = []
    for _ in range(runs):
        cwd = make_cwd()
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def spec_text(prompts: int) -> str:
    parts = [
        '[project]\napi_version = "65.0"\nprefix = "Ai"\n\n[models]\nfast = "sfdc_ai__DefaultOpenAIGPT4OmniMini"\n'
    ]
    for i in range(prompts):
        capability = "chat" if i % 2 else "generate"
        system = 'system = "You are a concise assistant."\n' if capability == "chat" else ""
        parts.append(
            f'[[prompt]]\nname = "Prompt{i:04d}"\ncapability = "{capability}"\nmodel = "fast"\n{system}'
            f'template = "Summarize {{subject}} for {{audience}} in {{count}} bullets."\n'
            'inputs = [{ name = "subject", required = true }, { name = "audience" }, { name = "count", type = "Integer" }]\n'
            'expose = ["flow", "lwc"]\n'
            f'label = "Prompt {i}"\ndescription = "Benchmark prompt number {i}."\n'
        )
    return "\n".join(parts)


def sf_seconds_per_class(sf: str, runs: int = 10) -> float:
    """Median time of `sf template generate apex class` writing one class, in a scratch folder."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HOME": tmp, "SF_DISABLE_TELEMETRY": "true", "SF_AUTOUPDATE_DISABLE": "true"}
        times = []
        for run in range(runs):
            start = time.perf_counter()
            subprocess.run(
                [sf, "template", "generate", "apex", "class", "--name", f"Bench{run}", "--output-dir", tmp],
                check=True,
                capture_output=True,
                env=env,
            )
            times.append(time.perf_counter() - start)
        return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sf", help="path to the sf CLI, for the comparison with its class template")
    parser.add_argument(
        "--write-cost", action="store_true", help="only: where generate's time goes, against a plain write loop"
    )
    arguments = parser.parse_args()
    apexgen = [sys.executable, "-m", "apexgen"]
    if arguments.write_cost:
        write_cost()
        return
    help_time = median_seconds(apexgen + ["--help"], 10)
    python_time = median_seconds([sys.executable, "-c", "pass"], 10)
    print(
        f"apexgen --help, cold process: median {help_time * 1000:.0f} ms of 10 "
        f"(a bare 'python -c pass' takes {python_time * 1000:.0f} ms on this machine)"
    )

    print(f"{'prompts':>8} {'classes':>7} {'generate s':>11} {'ms/prompt':>10} {'render only s':>14}")
    sizes, seconds_by_size = [], []
    # Each run writes into a folder of its own and nothing is deleted until the end: on a disk mounted
    # with discard, deleting thousands of files slows the writes that follow for a while.
    with tempfile.TemporaryDirectory() as tmp:
        for prompts in (50, 100, 200, 500):
            spec = spec_text(prompts)
            runs = iter(range(1000))

            def fresh_project(prompts: int = prompts, runs: Iterator[int] = runs, spec: str = spec) -> Path:
                root = Path(tmp) / f"p{prompts}-{next(runs)}"
                root.mkdir()
                (root / "sfdx-project.json").write_text('{"packageDirectories":[{"path":"force-app","default":true}]}')
                (root / "apexgen.toml").write_text(spec)
                return root

            seconds = median_seconds_in(apexgen + ["generate"], 5, fresh_project)
            render = median_seconds_in(
                [
                    sys.executable,
                    "-c",
                    "from apexgen.spec.load import load_spec; from apexgen.generate.plan import render_plan; "
                    "render_plan(load_spec('apexgen.toml'))",
                ],
                5,
                fresh_project,
            )
            classes = sum(1 for _ in (Path(tmp) / f"p{prompts}-0" / "force-app").rglob("*.cls"))
            sizes.append(prompts)
            seconds_by_size.append(seconds)
            print(f"{prompts:>8} {classes:>7} {seconds:>11.2f} {seconds / prompts * 1000:>10.2f} {render:>14.2f}")
    # Linear growth: time = start-up + cost per prompt x prompts. A least-squares line through the points
    # and its R² say how well that holds; the marginal cost between sizes should stay about the same.
    n = len(sizes)
    mean_x, mean_y = sum(sizes) / n, sum(seconds_by_size) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(sizes, seconds_by_size, strict=True)) / sum(
        (x - mean_x) ** 2 for x in sizes
    )
    intercept = mean_y - slope * mean_x
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(sizes, seconds_by_size, strict=True))
    total = sum((y - mean_y) ** 2 for y in seconds_by_size)
    marginal = [
        f"{a}->{b}: {(tb - ta) / (b - a) * 1000:.1f} ms"
        for (a, b), (ta, tb) in zip(pairwise(sizes), pairwise(seconds_by_size), strict=True)
    ]
    print(f"linear fit: {intercept:.2f} s + {slope * 1000:.2f} ms per prompt, R² = {1 - residual / total:.3f}")
    print("marginal cost per prompt: " + ", ".join(marginal))
    if arguments.sf:
        # apexgen's whole run (Flows, components and meta files included) divided by its classes alone
        apexgen_per_class = seconds_by_size[-1] / classes
        sf_per_class = sf_seconds_per_class(arguments.sf)
        print(
            f"sf template generate apex class: median {sf_per_class:.2f} s per (empty) class; apexgen: "
            f"{apexgen_per_class * 1000:.2f} ms per complete, tested class ({classes} classes at "
            f"{sizes[-1]} prompts): {sf_per_class / apexgen_per_class:.0f}x faster"
        )


# The same generate with its writes changed, each a whole process like the command. Each runs apexgen's CLI
# after patching the module that writes (click reads the arguments after "-c CODE").
_CLI = "from apexgen.cli import main; main()"
EACH_FILE_FLUSHED = "import apexgen.generate.manifest as m; m.whole_file_system_sync = lambda: None; " + _CLI
NOTHING_FLUSHED = "import os; os.fsync = lambda fd: None; " + EACH_FILE_FLUSHED
RENDER_ONLY = (
    "from apexgen.spec.load import load_spec; from apexgen.generate.plan import render_plan; "
    "plan = render_plan(load_spec('apexgen.toml'))"
)
# The alternative a user would write: render, then a plain loop writes each file (no temporary, no flush,
# no manifest, no check of what is there).
PLAIN_LOOP = RENDER_ONLY + (
    "\nfrom pathlib import Path\nfor file in plan:\n    path = Path(file.path)\n"
    "    path.parent.mkdir(parents=True, exist_ok=True)\n    path.write_text(file.content, encoding='utf-8')"
)


def write_cost(prompts: int = 500, runs: int = 5) -> None:
    """Where the 500-prompt generate's time goes, against the plain loop a user would write, all interleaved
    (each run takes every variant in turn, so all see the same disk and load): whole processes, then the
    writing step alone, in this process, on the same files."""
    from apexgen.generate import manifest
    from apexgen.generate.plan import render_plan
    from apexgen.spec.load import load_spec

    python = [sys.executable, "-c"]
    processes = {
        "apexgen generate (as shipped)": [sys.executable, "-m", "apexgen", "generate"],
        "generate, each file flushed on its own": [*python, EACH_FILE_FLUSHED, "generate"],
        "generate, nothing flushed": [*python, NOTHING_FLUSHED, "generate"],
        "render, then a plain loop writes the files": [*python, PLAIN_LOOP],
        "render only (nothing written)": [*python, RENDER_ONLY],
    }
    spec = spec_text(prompts)
    with tempfile.TemporaryDirectory() as tmp:
        spec_file = Path(tmp) / "apexgen.toml"
        spec_file.write_text(spec)
        files = {file.path: file.content for file in render_plan(load_spec(str(spec_file)))}
        syncfs = manifest.whole_file_system_sync()

        def plain_loop(root: Path) -> None:
            for path, content in files.items():
                (root / path).write_text(content, encoding="utf-8")

        def write_all(root: Path, flush_at_once: bool) -> None:
            # as apply_changes calls it; every folder is made before, as there
            patched = manifest.whole_file_system_sync
            manifest.whole_file_system_sync = lambda: syncfs if flush_at_once else None
            try:
                manifest.write_all({root / path: content for path, content in files.items()})
            finally:
                manifest.whole_file_system_sync = patched

        steps: dict[str, Callable[[Path], None]] = {
            "write_all, the file system flushed at once (as shipped)": partial(write_all, flush_at_once=True),
            "write_all, each file and folder flushed on its own": partial(write_all, flush_at_once=False),
            "a plain loop (Path.write_text)": plain_loop,
        }
        timings: dict[str, list[tuple[float, float]]] = {label: [] for label in [*processes, *steps]}
        loads = [os.getloadavg()[0]]
        for run in range(runs):
            for index, (label, command) in enumerate(processes.items()):
                root = Path(tmp) / f"process-{index}-{run}"
                root.mkdir()
                (root / "sfdx-project.json").write_text('{"packageDirectories":[{"path":"force-app","default":true}]}')
                (root / "apexgen.toml").write_text(spec)
                cpu, started = children_cpu(), time.perf_counter()
                subprocess.run(command, cwd=root, check=True, capture_output=True)
                timings[label].append((time.perf_counter() - started, children_cpu() - cpu))
            for index, (label, step) in enumerate(steps.items()):
                root = Path(tmp) / f"step-{index}-{run}"
                for folder in sorted({(root / path).parent for path in files}):
                    folder.mkdir(parents=True, exist_ok=True)
                cpu, started = time.process_time(), time.perf_counter()
                step(root)
                timings[label].append((time.perf_counter() - started, time.process_time() - cpu))
            loads.append(os.getloadavg()[0])
    wall = {label: statistics.median(w for w, _ in times) for label, times in timings.items()}
    cpu = {label: statistics.median(c for _, c in times) for label, times in timings.items()}
    print(
        f"{prompts} prompts, {len(files)} files, median of {runs} interleaved runs "
        f"(load average {min(loads):.1f} to {max(loads):.1f}; flushing at once: {'yes' if syncfs else 'unavailable'})"
    )
    print(f"  {'':<58} {'wall':>7} {'CPU':>7}  wall against the plain loop, against as shipped")
    shipped, plain = wall["apexgen generate (as shipped)"], wall["render, then a plain loop writes the files"]
    for label, median in wall.items():
        if label == next(iter(steps)):
            print("the writing step alone, in one process:")
            shipped, plain = median, wall["a plain loop (Path.write_text)"]
        print(f"  {label:<58} {median:6.2f}s {cpu[label]:6.2f}s  {median / plain:5.2f}x  {median / shipped:5.2f}x")


def children_cpu() -> float:
    """CPU seconds (user and system) of the child processes that have ended."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
