"""Errors the library raises and the exit codes the command line maps them to."""

from __future__ import annotations

import enum
import re


class ExitCode(enum.IntEnum):
    """Documented exit codes of every apexgen command: this table is their one source (``apexgen --help``
    prints it from ``EXIT_CODE_MEANINGS``; README copies it, and a test keeps the two equal)."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    EDITED = 3
    CONNECTION = 4
    INCOMPLETE = 5
    INTERNAL = 123
    INTERRUPTED = 130


EXIT_CODE_MEANINGS = {
    ExitCode.OK: "success",
    ExitCode.FINDINGS: "problems found; deploy or tests failed",
    ExitCode.USAGE: "usage error: bad flag, bad spec, bad project file, missing tools",
    ExitCode.EDITED: "a generated file was edited by hand; nothing written",
    ExitCode.CONNECTION: "connection or authentication failed",
    ExitCode.INCOMPLETE: (
        "the check did not complete: a tool analysed nothing or only part of what it was given, a file changed "
        "during the check, or a generate was interrupted; nothing was cached for those files"
    ),
    ExitCode.INTERNAL: "internal error: a bug in apexgen (please report it; --debug shows the traceback)",
    ExitCode.INTERRUPTED: "interrupted",
}


class ApexgenError(Exception):
    """Base of every error meant for the user: one line, no traceback. ``data`` is what a command adds for
    its JSON error document (the id of a job still running in the org, the files that would have changed)."""

    exit_code = ExitCode.FINDINGS
    data: object = None


class UsageError(ApexgenError):
    """A command was called in a way that cannot work (missing project, conflicting flags)."""

    exit_code = ExitCode.USAGE


class SpecError(UsageError):
    """The spec (or another input file) breaks a rule: names the file, the key and the rule."""

    def __init__(self, file: str, key: str, rule: str, line: int = 0, column: int = 0):
        self.file, self.key, self.rule, self.line, self.column = file, key, rule, line, column
        place = f"{file}:{line}:{column}" if line else file  # file:line:col, where editors and terminals jump
        where = f"{place}: {key}" if key else place
        super().__init__(f"{where}: {rule}")


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


# Characters that would break the one line an error is, or disguise it on a terminal: control characters,
# line and paragraph separators, bidirectional overrides.
_UNSAFE_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with line breaks and tabs kept, and each other character ``one_line`` escapes written as its
    escape: what a server or model says reaches the terminal as text, never as its control sequences."""
    return "\n".join("\t".join(one_line(part) for part in line.split("\t")) for line in text.split("\n"))


def one_line(text: str) -> str:
    """``text`` with each character that could break or disguise a line written as its escape (\\r, \\u202e)."""
    return _UNSAFE_IN_A_LINE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)
