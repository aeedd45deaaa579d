"""Live status on stderr while the org works: a progress display on a terminal, plain lines on a pipe."""

from __future__ import annotations

import time
from typing import Any

import click


class DeployProgress:
    """A live line on stderr while the org works: stage, components and tests done of total. Only on a TTY;
    rich draws it because click has no multi-counter status line. Retry notes go to stderr either way."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.progress: Any = None

    def __enter__(self) -> DeployProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description:<22}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.progress.start()
            self.components = self.progress.add_task("Waiting for the org", total=None, detail="components")
            self.tests = self.progress.add_task("", total=None, detail="tests", visible=False)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.progress is not None:
            self.progress.stop()

    def deploy(self, result: Any) -> None:
        if self.progress is None:
            return
        if result.status == "Pending":
            stage = "Waiting for the org"
        elif result.components_total and result.components_deployed >= result.components_total and result.tests_total:
            stage = "Running tests"
        elif result.status == "Canceling":
            stage = "Canceling"
        else:
            stage = "Deploying metadata"
        self.progress.update(
            self.components,
            description=stage,
            total=result.components_total or None,
            completed=result.components_deployed,
            detail="components",
        )
        if result.tests_total:
            failed = f", {result.test_errors} failed" if result.test_errors else ""
            self.progress.update(
                self.tests,
                visible=True,
                total=result.tests_total,
                completed=result.tests_completed + result.test_errors,
                detail=f"tests{failed}",
            )

    def test_run(self, run: Any) -> None:
        if self.progress is None:
            return
        failed = f", {run.methods_failed} failed" if run.methods_failed else ""
        self.progress.update(
            self.components,
            description=f"Tests {run.status}",
            total=run.methods_total or None,
            completed=run.methods_completed,
            detail=f"test methods{failed}",
        )

    def note(self, message: str) -> None:
        if self.progress is not None:
            self.progress.console.print(message, markup=False, highlight=False)
        else:
            click.echo(message, err=True)


class StatusLine:
    """While a version or upload builds (minutes to hours): on a terminal a spinner with the status and the time
    so far; on a pipe one line per status change, so CI logs show the build moves. Both on stderr."""

    def __init__(self, terminal: bool, label: str):
        self.terminal, self.label = terminal, label
        self.status: Any = None
        self.last: str | None = None
        self.started = 0.0

    def __enter__(self) -> StatusLine:
        self.started = time.monotonic()
        if self.terminal:
            from rich.console import Console

            self.status = Console(stderr=True).status(self.label)
            self.status.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.status is not None:
            self.status.stop()

    def update(self, request: Any) -> None:
        if self.status is not None:
            elapsed = int(time.monotonic() - self.started)
            self.status.update(f"{self.label}: {request.status} ({elapsed // 60}m {elapsed % 60:02d}s)")
        elif request.status != self.last and not request.finished:  # the final status heads the summary
            click.echo(f"{self.label}: {request.status}", err=True)
        self.last = request.status

    def note(self, message: str) -> None:
        if self.status is not None:
            self.status.console.print(message, markup=False, highlight=False)
        else:
            click.echo(message, err=True)
