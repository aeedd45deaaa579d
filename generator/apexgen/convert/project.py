"""Convert an SFDX project to the metadata format, as ``sf project convert source`` (and a deploy) does.

Every package directory of sfdx-project.json by default, as ``sf project deploy start`` deploys them, or those
named. The result is the metadata-format tree (package.xml and each file's bytes or source), written as a
folder or as the deploy zip; nothing is written until the whole project has converted.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from apexgen.convert.components import ConvertError, SourceComponent, Tree
from apexgen.convert.registry import Registry
from apexgen.convert.replacements import Replacements
from apexgen.convert.resolve import Resolver
from apexgen.convert.transform import Converter, Output, package_members, package_xml
from apexgen.project.containment import ProjectPaths, is_inside
from apexgen.project.forceignore import ForceIgnore
from apexgen.project.sfdx_project import SfdxProject

# sfdx-project.json keys that change SDR's registry (presets, custom types, decomposition betas).
REGISTRY_CHANGES = ("registryPresets", "registryCustomizations", "sourceBehaviorOptions")


@dataclass
class Conversion:
    """The metadata-format tree of a project: package.xml and every file, by metadata-format path."""

    root: Path
    package_dirs: list[Path]
    api_version: str
    members: dict[str, list[str]]  # package.xml type -> members, in package.xml's order
    package_xml: str
    outputs: dict[str, Output]
    tree: Tree
    skipped: list[str] = field(default_factory=list)  # project-relative files that are not metadata
    # (file, the content file its component uses): a second content file of one component, which sf leaves out
    second_contents: list[tuple[str, str]] = field(default_factory=list)
    # (metadata-format path, the file used, the file it won over): a later package directory wins, as in sf
    overridden: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def component_count(self) -> int:
        return sum(len(names) for names in self.members.values())

    @property
    def notes(self) -> list[str]:
        """What a user should know although nothing failed: files skipped, files that won over others."""
        notes = []
        if self.skipped:
            more = f" and {len(self.skipped) - 1} more" if len(self.skipped) > 1 else ""
            notes.append(
                f"Skipped {len(self.skipped)} files that are not metadata, as sf does: {self.skipped[0]}{more}"
            )
        for path, used in self.second_contents:
            notes.append(
                f"Left out {path}: a second content file of the component whose content is {used}; a component "
                "has one content file, and sf leaves this one out too"
            )
        for path, used, over in self.overridden:
            notes.append(f"{path}: {used} and {over} both define it; {used} is used, as sf uses the last one")
        return notes

    def files(self) -> dict[str, bytes]:
        files = {"package.xml": self.package_xml.encode("utf-8")}
        files.update((path, output.read(self.tree)) for path, output in sorted(self.outputs.items()))
        return files

    def source_paths(self) -> dict[str, str]:
        """Metadata-format path -> the project-relative source file it came from (the first, for merged files)."""
        return {path: os.path.relpath(output.sources[0], self.root) for path, output in self.outputs.items()}

    def write_directory(self, target: Path) -> None:
        folders: set[str] = set()  # made already: one mkdir per folder, not one per file
        for path, data in self.files().items():
            folder = os.path.dirname(path)
            if folder not in folders:
                os.makedirs(os.path.join(target, folder), exist_ok=True)
                folders.add(folder)
            with open(os.path.join(target, path), "wb") as handle:
                handle.write(data)

    def zip_bytes(self) -> bytes:
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for path, data in self.files().items():
                archive.writestr(path, data)
        return buffer.getvalue()


def _relative_if_inside(root: Path, name: str) -> str:
    if os.path.isabs(name) and is_inside(root, Path(name)):
        return Path(os.path.relpath(Path(name).resolve(), root.resolve())).as_posix()
    return name


def package_directories(project: SfdxProject, chosen: list[str] | None) -> list[Path]:
    """The package directories to convert (all of the file's, or those chosen), each a folder inside the project."""
    entries = [entry.get("path") for entry in project.directories()]
    paths = [path for path in entries if isinstance(path, str) and path]
    if not paths or len(paths) != len(entries):
        raise ConvertError(f'{project.path}: packageDirectories must list at least one {{"path": ...}}, each with one')
    # --package-dir may name a folder by its absolute path; one inside the project is taken as its relative path
    names = [_relative_if_inside(project.root, name) for name in chosen] if chosen else paths
    source = "--package-dir" if chosen else f"{project.path.name} packageDirectories"
    inside = ProjectPaths(project.root)  # the one containment rule of paths that project files name
    directories = []
    for name in names:
        directory = (project.root / name).resolve()
        reason = inside.outside_reason(name)
        if reason:
            raise ConvertError(f"{source}: the package directory {reason}")
        if not directory.is_dir():
            raise ConvertError(f"{name}: the package directory does not exist in {project.root}")
        directories.append(directory)
    return directories


def convert_project(
    root: Path,
    package_dirs: list[str] | None = None,
    *,
    replacements: bool = False,
    registry: Registry | None = None,
    package_name: str | None = None,
) -> Conversion:
    """The metadata-format tree of the project at ``root``: all its package directories, or those named.

    ``replacements``: apply sfdx-project.json's ``replacements``, as sf does in a deploy."""
    root = Path(os.path.abspath(root))
    try:
        return _convert(root, package_dirs, replacements, registry or Registry.load(), package_name)
    except ConvertError as exc:  # name files as the user sees them: relative to the project
        raise ConvertError(str(exc).replace(f"{root}{os.sep}", "")) from None


def _convert(
    root: Path, package_dirs: list[str] | None, replacements: bool, registry: Registry, package_name: str | None
) -> Conversion:
    project = SfdxProject.load(root)
    for key in REGISTRY_CHANGES:
        if project.data.get(key):
            raise ConvertError(
                f"{project.path}: {key} changes the sf CLI's registry; apexgen converts with the standard registry only"
            )
    directories = package_directories(project, package_dirs)
    rewrite = Replacements.from_project(root, project.data).apply if replacements else None
    tree = Tree(root, rewrite)
    components: list[SourceComponent] = []
    unclaimed: list[tuple[str, str | None]] = []
    for directory in directories:
        resolver = Resolver(registry, tree, ForceIgnore.of_project(root, directory))
        found = resolver.components(str(directory))
        unclaimed.extend(_unclaimed_files(root, str(directory), found, resolver, tree))
        components.extend(found)
    ordered = _component_set_order(components)
    converter = Converter(registry, tree)
    outputs = converter.convert(ordered)
    if not outputs:
        raise ConvertError(f"{root}: the package directories hold no metadata to convert")
    members = package_members(ordered, registry, tree)
    return Conversion(
        root,
        directories,
        project.api_version,
        members,
        package_xml(members, project.api_version, package_name),
        outputs,
        tree,
        [path for path, used in unclaimed if used is None],
        [(path, used) for path, used in unclaimed if used is not None],
        [(path, os.path.relpath(used, root), os.path.relpath(over, root)) for path, used, over in converter.overridden],
    )


def _component_set_order(components: list[SourceComponent]) -> list[SourceComponent]:
    """A ComponentSet iterates by (type, fullName) in first-seen order, each with its source files in order."""
    groups: dict[str, list[SourceComponent]] = {}
    for component in components:
        group = groups.setdefault(component.key, [])
        if not any(c.xml == component.xml and c.content == component.content for c in group):
            group.append(component)
    return [component for group in groups.values() for component in group]


def _unclaimed_files(
    root: Path, directory: str, components: list[SourceComponent], resolver: Resolver, tree: Tree
) -> list[tuple[str, str | None]]:
    """Files of the package directory that no component took, each with the content file its component uses
    when it is a second content file of one (sf's tree finds a component's content as the first file of its
    name beside its -meta.xml, and leaves the others out), else None. Those that do not look like metadata are
    skipped (as sf skips them: jest mocks, READMEs); one that does is an error (sf would drop it without a word)."""
    claimed: set[str] = set()
    contents: dict[str, str] = {}  # folder/name of a content file -> the content file
    for component in components:
        for owner in (component, component.parent):
            if owner and owner.xml:
                claimed.add(owner.xml)
            if owner and owner.content:
                claimed.add(owner.content)
                claimed.update(owner.walk_content(tree))
                contents[os.path.splitext(owner.content)[0]] = owner.content
    skipped: list[tuple[str, str | None]] = []
    for path in tree.walk(directory, resolver.ignore):
        if path in claimed:
            continue
        relative = os.path.relpath(path, root)
        if resolver.is_metadata(path):
            mdtype = resolver.resolve_type(path) or {}
            if (mdtype.get("strategies") or {}).get("adapter") == "matchingContentFile":
                reason = f"has no {os.path.basename(path)}-meta.xml beside it"
            else:
                reason = "looks like metadata but belongs to no component (is its -meta.xml or content missing?)"
            raise ConvertError(f"{relative}: {reason}; sf would leave it out without a word, the org needs it")
        used = contents.get(os.path.splitext(path)[0])
        skipped.append((relative, os.path.relpath(used, root) if used else None))
    return skipped


# Metadata API deploy limits (Metadata API Developer Guide, deploy()): refuse offline what the org would refuse.
MAX_ZIP_BYTES = 39_000_000
MAX_FILES = 10_000


@dataclass
class ConvertedProject:
    """The zip a deploy sends (replacements applied, as sf applies them) and what it holds."""

    zip_bytes: bytes
    package_xml: str
    members: dict[str, list[str]]
    api_version: str
    source_paths: dict[str, str]  # metadata-format path -> project-relative source file
    notes: list[str]  # Conversion.notes

    @property
    def component_count(self) -> int:
        return sum(len(names) for names in self.members.values())


def deploy_zip(
    root: Path, package_dirs: list[str] | None = None, *, replacements: bool = True, package_name: str | None = None
) -> ConvertedProject:
    """The project as ``sf project deploy start`` would send it, checked against the deploy limits.

    ``replacements=False`` when the zip is not sent, only read (which file each component came from)."""
    conversion = convert_project(root, package_dirs, replacements=replacements, package_name=package_name)
    if len(conversion.outputs) + 1 > MAX_FILES:
        raise ConvertError(
            f"{root}: the deploy would hold {len(conversion.outputs) + 1} files; the Metadata API "
            f"takes at most {MAX_FILES:,} (deploy the project in parts, or list files in .forceignore)"
        )
    data = conversion.zip_bytes()
    if len(data) > MAX_ZIP_BYTES:
        raise ConvertError(
            f"{root}: the deploy zip is {len(data) / 1e6:.1f} MB; the Metadata API takes at most "
            f"{MAX_ZIP_BYTES / 1e6:.0f} MB (deploy the project in parts)"
        )
    return ConvertedProject(
        data,
        conversion.package_xml,
        conversion.members,
        conversion.api_version,
        conversion.source_paths(),
        conversion.notes,
    )
