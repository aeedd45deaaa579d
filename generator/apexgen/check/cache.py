"""What the per-file tools of a check found in each file, kept between runs of one project.

jorje, prettier and PMD's Apex rules judge a file by its own content, its path (prettier's overrides) and
their settings, as the Metadata API schema check judges a metadata file. A file whose bytes, path and
settings are what they were at the last check need not go through them again: its findings are taken
from here. An entry's key is a digest of all of that, of the
pinned tool versions and of apexgen's own checking code, so any change to one of them misses. Each run
writes back only the entries of the files it saw, so the cache of a project never outgrows it.

apex-ls relates files to one another, so its verdict on a file depends on every other: ``ProjectCache``
keeps its findings for the whole project, valid while no file apex-ls reads has changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from apexgen.check.findings import INCOMPLETE_RULES, Finding, ProjectFiles
from apexgen.paths import user_cache_dir
from apexgen.pins import PINNED_PACKAGES

# The code that turns the tools' output into findings: a change to it invalidates every entry.
CHECKING_CODE = (
    "findings.py",
    "deep.py",
    "apex_ls.py",
    "pmd.py",
    "cache.py",
    "prettier_format.mjs",
    "JorjeBatch.java",
    "CheckDaemon.java",
    "metadata_xml.py",
    "xsd.py",
)


def check_cache_dir() -> Path:
    """Where the deep check keeps what it learnt between runs (also apex-ls' own cache)."""
    return user_cache_dir() / "check"


@cache
def _code_digest() -> str:
    package = resources.files("apexgen.check")
    code = hashlib.sha256(json.dumps(PINNED_PACKAGES, sort_keys=True).encode())
    for name in CHECKING_CODE:
        code.update(package.joinpath(name).read_bytes())
    return code.hexdigest()


class FindingsCache:
    """The findings of one tool in one project, by file. ``settings`` is all else the tool's verdict depends on."""

    def __init__(self, project: ProjectFiles, tool: str, settings: str):
        self.project = project
        project_key = hashlib.sha256(str(project.root).encode()).hexdigest()[:16]
        self.path = check_cache_dir() / "findings" / project_key / f"{tool}.json"
        self.salt = f"{_code_digest()}\0{settings}\0".encode()
        try:
            self.stored: dict[str, list[dict[str, Any]]] = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            self.stored = {}
        self.current: dict[str, list[dict[str, Any]]] = {}
        self.keys: dict[Path, str] = {}

    def _key(self, file: Path) -> str:
        digest = hashlib.sha256(self.salt + f"{self.project.relative(file)}\0{self.project.digest(file)}".encode())
        return digest.hexdigest()

    def split(self, files: list[Path]) -> tuple[list[Finding], list[Path]]:
        """The findings known for unchanged files, and the files the tool must look at."""
        known: list[Finding] = []
        stale = []
        for file in files:
            key = self.keys[file] = self._key(file)
            if key in self.stored:
                self.current[key] = self.stored[key]
                known += [Finding(**finding) for finding in self.stored[key]]
            else:
                stale.append(file)
        return known, stale

    def save(self, looked_at: list[Path], findings: list[Finding]) -> None:
        """Record what the tool found in the files it looked at (none for most), then write the cache.

        Nothing is kept for a file the tool did not analyse (a not-run finding), nor for one that changed
        since its digest was taken (the tool may have read other content): the next run looks at it again.
        A cache that cannot be written is no error: the next run looks at the files again.
        """
        by_file: dict[str, list[dict[str, Any]]] = {self.project.relative(file): [] for file in looked_at}
        for finding in findings:
            by_file.setdefault(finding.file, []).append(finding.to_dict())
        for file in looked_at:
            found = by_file[self.project.relative(file)]
            if not any(finding["rule"] in INCOMPLETE_RULES for finding in found) and self.project.unchanged(file):
                self.current[self.keys[file]] = found
        write_json(self.path, self.current)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` atomically. A cache that cannot be written is no error: the next run
    looks at the files again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with open(handle, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)


class ProjectCache:
    """One tool's findings for the whole project, kept while none of the files it reads changed.

    ``settings``: the files that configure the tool (sfdx-project.json, .forceignore); ``files``: those it reads.
    """

    def __init__(self, project: ProjectFiles, tool: str, settings: list[Path], files: list[Path]):
        project_key = hashlib.sha256(str(project.root).encode()).hexdigest()[:16]
        self.path = check_cache_dir() / "findings" / project_key / f"{tool}.json"
        configuration = hashlib.sha256(f"{_code_digest()}\0".encode())
        for file in settings:
            configuration.update(f"{project.relative(file)}\0{project.digest(file)}\0".encode())
        self.settings_key = configuration.hexdigest()
        self.project = project
        # The content digest of each file the tool reads, by absolute path.
        self.digests = {str(file): project.digest(file) for file in files}
        digest = hashlib.sha256(self.settings_key.encode())
        for file in files:
            digest.update(f"{project.relative(file)}\0{self.digests[str(file)]}\0".encode())
        self.key = digest.hexdigest()

    def load(self) -> list[Finding] | None:
        """The findings of the last run when it saw the same files, else None."""
        try:
            stored = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("key") != self.key:
            return None
        return [Finding(**finding) for finding in stored["findings"]]

    def save(self, findings: list[Finding]) -> None:
        """Keep ``findings`` for the next run, unless the tool did not analyse every file (a not-run finding)
        or a file it reads changed since its digest was taken."""
        if any(finding.rule in INCOMPLETE_RULES for finding in findings):
            return
        if not all(self.project.unchanged(Path(file)) for file in self.digests):
            return
        write_json(self.path, {"key": self.key, "findings": [f.to_dict() for f in findings]})
