"""Source format (an SFDX project) to a Metadata API deploy zip with a package.xml that lists every member.

Types are recognised the way the sf CLI's registry does it: one-file types by their suffix wherever they sit
in a package directory, bundles (LWC, Aura) by the ``lwc``/``aura`` folder that holds them. Every file in a
package directory either becomes part of a member or stops the conversion with an error that names it: no
file is dropped silently (``sf project convert source`` drops a class without its ``-meta.xml``).
``.forceignore`` (gitignore syntax, relative to the project root) is honoured.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from apexgen.errors import UsageError
from apexgen.project.forceignore import load_forceignore
from apexgen.project.sfdx_project import SfdxProject
from apexgen.salesforce import META_SUFFIX, METADATA_NAMESPACE

# Metadata API deploy limits (Metadata API Developer Guide, deploy()): refuse offline what the org would refuse.
MAX_ZIP_BYTES = 39_000_000
MAX_FILES = 10_000
# What the sf CLI ignores even without a .forceignore (source-deploy-retrieve's DEFAULT_IGNORE).
ALWAYS_IGNORED_NAMES = ("package2-descriptor.json", "package2-manifest.json")


@dataclass(frozen=True)
class FileType:
    """A metadata type stored as one ``<name>.<suffix>-meta.xml``, with a content file beside it or not."""

    name: str
    directory: str
    suffix: str
    has_content: bool


FILE_TYPES = {
    t.suffix: t
    for t in (
        FileType("ApexClass", "classes", "cls", True),
        FileType("ApexTrigger", "triggers", "trigger", True),
        FileType("ApexPage", "pages", "page", True),
        FileType("ApexComponent", "components", "component", True),
        FileType("StaticResource", "staticresources", "resource", True),
        FileType("Flow", "flows", "flow", False),
        FileType("PermissionSet", "permissionsets", "permissionset", False),
        FileType("CustomMetadata", "customMetadata", "md", False),
        FileType("CustomLabels", "labels", "labels", False),
    )
}
BUNDLE_TYPES = {"lwc": "LightningComponentBundle", "aura": "AuraDefinitionBundle"}
SUPPORTED = ", ".join(sorted([t.name for t in FILE_TYPES.values()] + list(BUNDLE_TYPES.values())))


@dataclass
class ConvertedProject:
    """A deployable zip and what it holds."""

    zip_bytes: bytes
    package_xml: str
    members: dict[str, list[str]]  # package.xml type name -> sorted member names
    api_version: str
    # metadata-format path in the zip (what the org reports in fileName) -> project-relative source path
    source_paths: dict[str, str] = field(default_factory=dict)

    @property
    def component_count(self) -> int:
        return sum(len(names) for names in self.members.values())


class ConvertError(UsageError):
    """A file in the project cannot be converted; the message names it."""


class UnsupportedFiles(ConvertError):
    """Files of metadata types apexgen does not convert itself (the sf CLI may: see convert_with_sf)."""

    def __init__(self, files: list[PurePosixPath]):
        self.files = files
        more = f" (and {len(files) - 1} more)" if len(files) > 1 else ""
        super().__init__(
            f"{files[0]}: not a metadata type apexgen converts ({SUPPORTED}){more}; with the sf CLI "
            "on PATH, apexgen converts such projects with sf project convert source"
        )


def list_source_files(root: Path, package_dirs: list[Path]) -> list[PurePosixPath]:
    """Project-relative paths of every file that takes part, after .forceignore and the built-in ignores."""
    spec = load_forceignore(root)
    files = []
    for package_dir in package_dirs:
        for current, dirnames, filenames in os.walk(package_dir):
            relative_dir = PurePosixPath(Path(current).relative_to(root).as_posix())
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and not (spec and spec.match_file(f"{relative_dir / d}/"))
            )
            for name in sorted(filenames):
                if name.startswith(".") or name.endswith(".dup") or name in ALWAYS_IGNORED_NAMES:
                    continue
                path = relative_dir / name
                if spec and spec.match_file(str(path)):
                    continue
                files.append(path)
    return files


def _bundle_of(path: PurePosixPath) -> tuple[str, PurePosixPath, PurePosixPath] | None:
    """(bundle folder kind, bundle folder, path inside the bundle) for a file under lwc/ or aura/."""
    parts = path.parts
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] in BUNDLE_TYPES:
            if index + 2 > len(parts) - 1:
                raise ConvertError(
                    f"{path}: a file directly in {parts[index]}/ belongs to no bundle "
                    f"(put it in {parts[index]}/<bundleName>/ or list it in .forceignore)"
                )
            return parts[index], PurePosixPath(*parts[: index + 2]), PurePosixPath(*parts[index + 1 :])
    return None


def _split_meta(name: str) -> tuple[str, str] | None:
    """('Foo', 'cls') for 'Foo.cls-meta.xml'; None when the name is not a known -meta.xml."""
    if not name.endswith(META_SUFFIX):
        return None
    stem, _, suffix = name[: -len(META_SUFFIX)].rpartition(".")
    return (stem, suffix) if stem and suffix in FILE_TYPES else None


def _custom_label_names(path: Path) -> list[str]:
    from lxml import etree

    try:
        tree = etree.parse(str(path))
    except etree.XMLSyntaxError as exc:
        raise ConvertError(f"{path}: not well-formed XML ({exc})") from None
    names = tree.xpath("/m:CustomLabels/m:labels/m:fullName/text()", namespaces={"m": METADATA_NAMESPACE})
    if not names:
        raise ConvertError(f"{path}: a CustomLabels file must hold at least one <labels><fullName>")
    return [str(n) for n in names]


def _zip_directory(directory: Path) -> bytes:
    """A static resource kept as a folder in source format is deployed as a zip of that folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in directory.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(directory).as_posix())
    return buffer.getvalue()


def package_xml(members: dict[str, list[str]], api_version: str, package_name: str | None = None) -> str:
    """package.xml as the sf CLI writes it: types sorted by name, members sorted, 4-space indent. With
    ``package_name`` (1GP), its <fullName>: the deploy adds the components to that package of the packaging org."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<Package xmlns="{METADATA_NAMESPACE}">']
    if package_name:
        lines.append(f"    <fullName>{_xml_escape(package_name)}</fullName>")
    for type_name in sorted(members):
        lines.append("    <types>")
        lines.extend(f"        <members>{_xml_escape(m)}</members>" for m in sorted(members[type_name]))
        lines.append(f"        <name>{type_name}</name>")
        lines.append("    </types>")
    lines.append(f"    <version>{api_version}</version>")
    lines.append("</Package>")
    return "\n".join(lines) + "\n"


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def convert_project(root: Path, package_name: str | None = None) -> ConvertedProject:
    """Convert the SFDX project at ``root``; raises ConvertError naming the first files that cannot be converted."""
    root = root.resolve()
    project = SfdxProject.load(root)
    package_dirs, api_version = project.package_paths(), project.api_version
    files = list_source_files(root, package_dirs)
    present = set(files)

    entries: dict[str, tuple[PurePosixPath | None, bytes | None]] = {}  # zip path -> (source file | bytes)
    members: dict[str, set[str]] = {}
    owner: dict[tuple[str, str], PurePosixPath] = {}  # (type, member) -> first source file, to catch duplicates
    problems: list[str] = []
    unsupported: list[PurePosixPath] = []
    resource_meta_stems = {
        path.parent / path.name[: -len(".resource" + META_SUFFIX)]
        for path in files
        if path.name.endswith(".resource" + META_SUFFIX)
    }

    def add_member(type_name: str, member: str, source: PurePosixPath) -> None:
        first = owner.setdefault((type_name, member), source)
        if first != source:
            problems.append(f"{source}: {type_name} {member} is also defined by {first}")
        members.setdefault(type_name, set()).add(member)

    for path in files:
        bundle = _bundle_of(path)
        if bundle:
            kind, bundle_dir, inside = bundle
            add_member(BUNDLE_TYPES[kind], bundle_dir.name, bundle_dir)
            entries[f"{kind}/{inside}"] = (path, None)
            continue
        meta = _split_meta(path.name)
        if meta:
            stem, suffix = meta
            file_type = FILE_TYPES[suffix]
            zip_dir = file_type.directory
            if file_type.has_content:
                content = path.parent / f"{stem}.{suffix}"
                if file_type.name == "StaticResource":
                    content = _static_resource_content(root, path.parent, stem)
                    if content is None:
                        problems.append(f"{path}: no static resource file or folder named {stem} beside it")
                        continue
                    data = _zip_directory(root / content) if (root / content).is_dir() else None
                    entries[f"{zip_dir}/{stem}.resource"] = (None if data else content, data)
                elif content not in present:
                    problems.append(f"{path}: its {file_type.name} source {content.name} is missing")
                    continue
                else:
                    entries[f"{zip_dir}/{stem}.{suffix}"] = (content, None)
                entries[f"{zip_dir}/{path.name}"] = (path, None)
            else:
                entries[f"{zip_dir}/{stem}.{suffix}"] = (path, None)
            add_member(file_type.name, stem, path)
            if file_type.name == "CustomLabels":  # like sf: the file and each label in it
                for label in _custom_label_names(root / path):
                    add_member("CustomLabel", label, path)
            continue
        stem, _, suffix = path.name.rpartition(".")
        if suffix in FILE_TYPES and FILE_TYPES[suffix].has_content and suffix != "resource":
            if path.parent / f"{path.name}{META_SUFFIX}" not in present:
                problems.append(f"{path}: has no {path.name}{META_SUFFIX} beside it (the org needs both files)")
            continue
        if any(parent in resource_meta_stems for parent in [path.parent / stem, *path.parents]):
            continue  # the content of a static resource, added with its -meta.xml
        unsupported.append(path)

    if unsupported and not problems:
        raise UnsupportedFiles(unsupported)
    problems += [f"{path}: not a metadata type apexgen converts ({SUPPORTED})" for path in unsupported]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ConvertError("; ".join(problems[:3]) + more)
    if not entries:
        raise ConvertError(f"{root}: the package directories hold no metadata to deploy")

    if len(entries) + 1 > MAX_FILES:
        raise ConvertError(
            f"{root}: the deploy would hold {len(entries) + 1} files; the Metadata API takes at most "
            f"{MAX_FILES:,} (deploy the project in parts, or list files in .forceignore)"
        )
    sorted_members = {type_name: sorted(names) for type_name, names in members.items()}
    manifest = package_xml(sorted_members, api_version, package_name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("package.xml", manifest)
        for zip_path in sorted(entries):
            source, data = entries[zip_path]
            if data is None:
                archive.write(root / source, zip_path)
            else:
                archive.writestr(zip_path, data)
    if buffer.tell() > MAX_ZIP_BYTES:
        raise ConvertError(
            f"{root}: the deploy zip is {buffer.tell() / 1e6:.1f} MB; the Metadata API takes at most "
            f"{MAX_ZIP_BYTES / 1e6:.0f} MB (deploy the project in parts)"
        )
    source_paths = {zip_path: str(source) for zip_path, (source, _) in entries.items() if source is not None}
    return ConvertedProject(buffer.getvalue(), manifest, sorted_members, api_version, source_paths)


def convert_with_sf(root: Path, sf: str, package_name: str | None = None) -> ConvertedProject:
    """The fallback for types apexgen does not convert: ``sf project convert source`` on the whole project.

    Reports still show source paths: each converted file is matched to the project file of the same name (or
    that name plus -meta.xml, for types whose source is only a -meta.xml)."""
    root = root.resolve()
    project = SfdxProject.load(root)
    package_dirs, api_version = project.package_paths(), project.api_version
    by_name: dict[str, str] = {}
    for path in list_source_files(root, package_dirs):
        by_name.setdefault(path.name, str(path))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "mdapi"
        completed = subprocess.run(
            [sf, "project", "convert", "source", "--output-dir", str(out), "--json"]
            + (["--package-name", package_name] if package_name else []),
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0 or not (out / "package.xml").is_file():
            try:
                reason = json.loads(completed.stdout).get("message")
            except ValueError:
                reason = None
            raise ConvertError(f"sf project convert source failed: {reason or f'exit {completed.returncode}'}")
        manifest = (out / "package.xml").read_text(encoding="utf-8")
        buffer = io.BytesIO()
        source_paths = {}
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for file in sorted(p for p in out.rglob("*") if p.is_file()):
                zip_path = file.relative_to(out).as_posix()
                archive.write(file, zip_path)
                source = by_name.get(file.name) or by_name.get(file.name + META_SUFFIX)
                if source:
                    source_paths[zip_path] = source
    from lxml import etree

    package = etree.fromstring(manifest.encode())
    members = {
        t.findtext(f"{{{METADATA_NAMESPACE}}}name"): sorted(
            m.text for m in t.findall(f"{{{METADATA_NAMESPACE}}}members")
        )
        for t in package.findall(f"{{{METADATA_NAMESPACE}}}types")
    }
    return ConvertedProject(buffer.getvalue(), manifest, members, api_version, source_paths)


def _static_resource_content(root: Path, folder: PurePosixPath, stem: str) -> PurePosixPath | None:
    candidates = sorted(
        p for p in (root / folder).iterdir() if p.name == stem or (p.is_file() and p.name.startswith(stem + "."))
    )
    for candidate in candidates:
        if not candidate.name.endswith(META_SUFFIX):
            return folder / candidate.name
    return None
