"""Run `apexgen check --deep --no-cache` over the corpus of public SFDX projects in scripts/corpus.json.

    python scripts/check_corpus.py --mirrors MIRRORS --work WORK [--only NAME,...] [--json OUT]
    python scripts/check_corpus.py ... --plant      # recall: plant one defect of each blocker kind, find it

Every project in the corpus deploys in its own CI or ships as a package, so a deploy blocker the check reports
on it is a false blocker unless explained. The list is fixed (repository and commit) before the check is tuned
on it. Nothing here downloads or vendors a project: mirror each one yourself (a bare git directory at
MIRRORS/OWNER+NAME/repo, as the `fetch` tool makes, or MIRRORS/OWNER+NAME as a plain bare clone); the script
checks out each commit into WORK/NAME (outside the repository) with `git cat-file`.

Per project it prints the exit code, the deploy blockers (with their tool and rule), the rule findings by
severity, what the check did not complete, and the time. `--plant` instead copies each project, plants a
defect of every blocker kind (a syntax error, a call to a missing method of the project's own class, XML that
is not well formed, a misspelt element, a missing -meta.xml) in files of its own, and reports
for each kind whether the check found it as a blocker at its line. The check runs without the daemon
(APEXGEN_NO_DAEMON=1) and with the apexgen on PATH; run it from the venv you want to measure.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus.json")
SEVERITIES = ("critical", "high", "moderate", "low", "info")
CLASS_META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">\n'
    "    <apiVersion>{version}</apiVersion>\n    <status>Active</status>\n</ApexClass>\n"
)


@dataclass(frozen=True)
class Planted:
    kind: str
    file: str  # project-relative
    line: int  # 0: the file as a whole


def checkout(project: dict[str, str], mirrors: Path, work: Path) -> Path:
    """WORK/NAME at the project's commit (reused when already there)."""
    target = work / project["name"]
    stamp = target / ".corpus-commit"
    if stamp.is_file() and stamp.read_text().strip() == project["commit"]:
        return target
    owner, name = project["repo"].split("/")
    git_dir = next((d for d in (mirrors / f"{owner}+{name}" / "repo", mirrors / f"{owner}+{name}") if d.is_dir()), None)
    if git_dir is None:
        raise SystemExit(f"{project['repo']}: no mirror under {mirrors} (fetch github:{project['repo']})")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    git = ["git", "--git-dir", str(git_dir)]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", project["commit"]], capture_output=True, check=True).stdout
    entries = [line.split(b"\t", 1) for line in listing.split(b"\0") if line]
    blobs = [(head.split()[2], path.decode()) for head, path in entries if head.split()[1] == b"blob"]
    # A mirror may lack its largest files (images): those are left out, as no check reads them.
    batch = subprocess.run(
        [*git, "cat-file", "--batch"], input=b"".join(sha + b"\n" for sha, _ in blobs), capture_output=True, check=True
    ).stdout
    offset = 0
    for _, path in blobs:
        end = batch.index(b"\n", offset)
        header = batch[offset:end].split()
        offset = end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(batch[offset : offset + size])
        offset += size + 1
    stamp.write_text(project["commit"] + "\n")
    return target


def run_check(apexgen: list[str], root: Path) -> tuple[int, dict, float]:
    """apexgen check --deep --no-cache --json on ``root``: exit code, the envelope's result, seconds."""
    env = {**os.environ, "APEXGEN_NO_DAEMON": "1"}
    started = time.monotonic()
    result = subprocess.run(
        [*apexgen, "check", "--deep", "--no-cache", "--json", "--project-dir", str(root)],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.monotonic() - started
    try:
        document = json.loads(result.stdout)
    except ValueError:
        document = {"result": {"findings": [], "error": (result.stderr.strip().splitlines() or ["?"])[-1]}}
    # sf's envelope puts the check's document in "result"; apexgen before it printed the document itself.
    return result.returncode, document.get("result", document), seconds


def describe(name: str, code: int, result: dict, seconds: float) -> dict:
    findings = result.get("findings", [])
    blockers = [f for f in findings if f["severity"] == "error"]
    by_severity = Counter(f["severity"] for f in findings if f["severity"] != "error")
    return {
        "project": name,
        "exit": code,
        "blockers": len(blockers),
        "blocker_kinds": dict(Counter(f"{f['tool']} {f['rule']}" for f in blockers)),
        "severities": {s: by_severity[s] for s in SEVERITIES if by_severity[s]},
        "incomplete": [(part["tool"], len(part["files"])) for part in result.get("incomplete", [])],
        "seconds": round(seconds, 1),
        "blocker_lines": [f"{f['file']}:{f['line']} {f['tool']} {f['rule']} {f['message'][:160]}" for f in blockers],
        "error": result.get("error"),
    }


def package_dirs(root: Path) -> list[Path]:
    project = json.loads((root / "sfdx-project.json").read_text("utf-8-sig"))
    return [root / entry["path"] for entry in project.get("packageDirectories", [])]


def plant(root: Path) -> list[Planted]:
    """Plant one defect of each blocker kind in ``root`` (a copy), each in an Apex class of the project's
    own whose declaration line ends with '{'; the defects, each where the check must report it."""
    classes = []
    for directory in package_dirs(root):
        for path in sorted(directory.rglob("*.cls")):
            meta = path.with_name(path.name + "-meta.xml")
            text = path.read_text("utf-8", errors="replace")
            lines = text.splitlines()
            opening = next(
                (
                    i
                    for i, line in enumerate(lines)
                    if line.rstrip().endswith("{")
                    and f"class {path.stem}".lower() in line.lower()
                    and not line.lstrip().startswith(("*", "/"))
                ),
                None,
            )
            if meta.is_file() and opening is not None and "@istest" not in text.lower():
                classes.append((path, opening))
    if len(classes) < 5:
        return []
    planted: list[Planted] = []
    relative = lambda path: path.relative_to(root).as_posix()  # noqa: E731

    def insert(path: Path, after: int, line: str) -> int:
        lines = path.read_text("utf-8", errors="replace").split("\n")
        lines.insert(after + 1, line)
        path.write_text("\n".join(lines), "utf-8")
        return after + 2  # 1-based line of the inserted line

    (syntax, at), (missing, at2), (malformed, _), (schema, _), (no_meta, _) = classes[:5]
    planted.append(Planted("syntax (jorje)", relative(syntax), insert(syntax, at, "    Integer plantedSyntax = ;")))
    call = f"    static void plantedCall() {{ {missing.stem}.plantedNoSuchMethod(); }}"
    planted.append(Planted("missing method (apex-ls)", relative(missing), insert(missing, at2, call)))
    for kind, path, bad in (
        ("XML not well formed", malformed, "</apiVersionX>"),
        ("misspelt element (xsd)", schema, None),
    ):
        meta = path.with_name(path.name + "-meta.xml")
        lines = meta.read_text("utf-8").split("\n")
        index = next(i for i, line in enumerate(lines) if "<apiVersion>" in line)
        if bad:
            lines[index] = lines[index].replace("</apiVersion>", bad)
        else:
            lines.insert(index + 1, "    <statsu>Active</statsu>")  # a typo of <status>
            index += 1
        meta.write_text("\n".join(lines), "utf-8")
        planted.append(Planted(kind, relative(meta), index + 1))
    no_meta.with_name(no_meta.name + "-meta.xml").unlink()
    planted.append(Planted("missing -meta.xml", relative(no_meta), 0))
    return planted


def found(defect: Planted, findings: list[dict]) -> bool:
    """Whether a blocker of the check is at the defect's file and line (XML parsers may report a tag that is
    not well formed on the next line; the line of the defect or the one after counts)."""
    lines = {defect.line, defect.line + 1} if "well formed" in defect.kind else {defect.line}
    return any(f["severity"] == "error" and f["file"] == defect.file and f["line"] in lines for f in findings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="folder of the bare git mirrors")
    parser.add_argument("--work", type=Path, required=True, help="folder for the checkouts (outside the repository)")
    parser.add_argument("--only", help="comma-separated project names")
    parser.add_argument("--json", type=Path, help="write every project's result here")
    parser.add_argument("--plant", action="store_true", help="measure recall with planted defects")
    parser.add_argument("--apexgen", default="apexgen", help="the command to run (default: apexgen on PATH)")
    options = parser.parse_args()
    projects = json.loads(CORPUS.read_text("utf-8"))["projects"]
    command = shlex.split(options.apexgen)
    if options.only:
        wanted = set(options.only.split(","))
        projects = [p for p in projects if p["name"] in wanted]
    results = []
    recall: Counter[str] = Counter()
    planted_count: Counter[str] = Counter()
    for project in projects:
        root = checkout(project, options.mirrors, options.work)
        if options.plant:
            with tempfile.TemporaryDirectory(prefix="corpus-plant-") as scratch:
                copy = Path(shutil.copytree(root, Path(scratch) / project["name"], symlinks=True))
                defects = plant(copy)
                if not defects:
                    print(f"{project['name']}: fewer than 5 plantable classes, skipped", flush=True)
                    continue
                code, result, seconds = run_check(command, copy)
            findings = result.get("findings", [])
            row = {"project": project["name"], "exit": code, "seconds": round(seconds, 1), "defects": []}
            for defect in defects:
                hit = found(defect, findings)
                planted_count[defect.kind] += 1
                recall[defect.kind] += hit
                row["defects"].append({"kind": defect.kind, "file": defect.file, "line": defect.line, "found": hit})
            missed = [d["kind"] for d in row["defects"] if not d["found"]]
            print(
                f"{project['name']}: exit {code}, {len(defects) - len(missed)}/{len(defects)} found"
                + (f", missed: {', '.join(missed)}" if missed else "")
                + f" ({seconds:.1f} s)",
                flush=True,
            )
            results.append(row)
            continue
        code, result, seconds = run_check(command, root)
        row = describe(project["name"], code, result, seconds)
        results.append(row)
        severities = ", ".join(f"{s} {n}" for s, n in row["severities"].items()) or "none"
        kinds = ", ".join(f"{k} {n}" for k, n in row["blocker_kinds"].items())
        incomplete = ", ".join(f"{tool} {n} file(s)" for tool, n in row["incomplete"])
        print(
            f"{project['name']}: exit {code}, {row['blockers']} blocker(s)"
            + (f" ({kinds})" if kinds else "")
            + f", rule findings: {severities}"
            + (f", not complete: {incomplete}" if incomplete else "")
            + f", {seconds:.1f} s"
            + (f", error: {row['error']}" if row["error"] else ""),
            flush=True,
        )
    if options.plant:
        for kind in planted_count:
            print(f"recall {kind}: {recall[kind]}/{planted_count[kind]}")
    if options.json:
        options.json.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
