"""Benchmark of the generator (figures for README; not a test: these machines are shared and noisy).

Prints:
  * `apexgen --help` cold start: median of 10 runs in fresh processes (target: at most 150 ms);
  * `apexgen generate` of specs with 50, 100, 200 and 500 prompts (each exposed to Flow and LWC),
    median of 5 runs each, into an empty project (target: 500 prompts in at most 2 s), with the
    time per prompt at each size: flat per-prompt times mean linear growth.
  * the alternative a user would run: one `sf template generate apex class` per class is out of
    reach here (no sf CLI in the test tools), so the comparison given is against rendering the same
    files with the templates alone, i.e. the cost of validation, layout and the edit-safe writer.

Run: python bench/bench_generate.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(command: list[str], runs: int, cwd: Path | None = None, setup=None) -> float:
    times = []
    for _ in range(runs):
        if setup:
            setup()
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


def main() -> None:
    apexgen = [sys.executable, "-m", "generator"]
    help_time = median_seconds(apexgen + ["--help"], 10)
    python_time = median_seconds([sys.executable, "-c", "pass"], 10)
    print(f"apexgen --help, cold process: median {help_time * 1000:.0f} ms of 10 "
          f"(a bare 'python -c pass' takes {python_time * 1000:.0f} ms on this machine)")

    print(f"{'prompts':>8} {'files':>7} {'generate s':>11} {'ms/prompt':>10} {'render only s':>14}")
    per_prompt = []
    with tempfile.TemporaryDirectory() as tmp:
        for prompts in (50, 100, 200, 500):
            root = Path(tmp) / f"p{prompts}"
            root.mkdir()
            (root / "sfdx-project.json").write_text('{"packageDirectories":[{"path":"force-app","default":true}]}')
            (root / "apexgen.toml").write_text(spec_text(prompts))

            def clean() -> None:
                shutil.rmtree(root / "force-app", ignore_errors=True)
                shutil.rmtree(root / ".apexgen", ignore_errors=True)

            seconds = median_seconds(apexgen + ["generate"], 5, cwd=root, setup=clean)
            render = median_seconds(
                [sys.executable, "-c",
                 "from generator.spec import load_spec; from generator.render import render_plan; "
                 "render_plan(load_spec('apexgen.toml'))"], 5, cwd=root)
            files = sum(1 for _ in (root / "force-app").rglob("*.cls*"))
            per_prompt.append(seconds / prompts)
            print(f"{prompts:>8} {files:>7} {seconds:>11.2f} {seconds / prompts * 1000:>10.2f} {render:>14.2f}")
    print(f"growth 50 -> 500 prompts: time per prompt changes by a factor of {per_prompt[-1] / per_prompt[0]:.2f} "
          "(1.0 = linear; start-up cost makes small runs look dearer per prompt)")


if __name__ == "__main__":
    main()
