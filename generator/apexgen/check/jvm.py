"""Running the deep check's JVM tools: jorje (through JorjeBatch), apex-ls and PMD."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from apexgen.check.findings import ToolFailedError, last_line
from apexgen.check.toolchain import Toolchain

# C1 only and the serial collector: these JVMs run for seconds, where C2 compiler threads and a parallel
# collector cost more CPU than they save, and the deep check runs two of them side by side on few cores.
# JVM warnings go to stderr: stdout carries apex-ls' JSON report.
# apex-ls and PMD recurse once per nested block or long expression: a larger thread stack, as apex-ls' own
# launchers use.
LARGE_STACK = "-Xss16m"
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xlog:disable", "-Xlog:all=warning:stderr")


def java_command(classpath: list[Path], arguments: list[str], options: Iterable[str] = JVM_OPTIONS) -> list[str]:
    return ["java", *options, "-cp", os.pathsep.join(map(str, classpath)), *arguments]


def run_java(
    tool: str, toolchain: Toolchain, arguments: list[str], ok_codes: Iterable[int] = (0,)
) -> subprocess.CompletedProcess[str]:
    """Run a main class from the jars of apex-ls and PMD."""
    try:
        result = subprocess.run(java_command([toolchain.java_lib / "*"], arguments), capture_output=True, text=True)
    except OSError as exc:
        raise ToolFailedError(tool, str(exc)) from None
    if result.returncode not in ok_codes:
        raise ToolFailedError(tool, f"exit {result.returncode}: {last_line(result.stderr, result.stdout)}")
    return result
