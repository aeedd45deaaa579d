"""Errors the library raises and the exit codes the command line maps them to."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Documented exit codes of every apexgen command (README, ``apexgen --help``)."""

    OK = 0
    FINDINGS = 1  # problems found, deploy or tests failed
    USAGE = 2  # bad flag, bad spec, bad project file
    EDITED = 3  # a generated file was edited by hand; nothing written
    CONNECTION = 4  # connection or authentication failed
    INTERRUPTED = 130


class ApexgenError(Exception):
    """Base of every error meant for the user: one line, no traceback."""

    exit_code = ExitCode.FINDINGS


class SpecError(ApexgenError):
    """The spec (or another input file) breaks a rule: names the file, the key and the rule."""

    exit_code = ExitCode.USAGE

    def __init__(self, file: str, key: str, rule: str):
        self.file, self.key, self.rule = file, key, rule
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {rule}")


class UsageError(ApexgenError):
    """A command was called in a way that cannot work (missing project, conflicting flags)."""

    exit_code = ExitCode.USAGE


class EditedFilesError(ApexgenError):
    """Writing would lose hand edits: the files, each with why it counts as edited."""

    exit_code = ExitCode.EDITED

    def __init__(self, conflicts: list[tuple[str, str]]):
        self.paths = [path for path, _ in conflicts]
        listing = ", ".join(f"{path} ({reason})" for path, reason in conflicts)
        super().__init__(
            f"{len(conflicts)} file(s) would lose hand edits: {listing}; nothing was written "
            "(move your edits out of generated files, or pass --force to overwrite)"
        )


class ToolsMissingError(ApexgenError):
    """An offline checking tool (Node package, Java) is not installed."""

    exit_code = ExitCode.USAGE
