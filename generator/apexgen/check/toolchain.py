"""Find, describe and install the Node packages and runtimes that ``apexgen check --deep`` runs.

The deep check uses Salesforce's own tools, which ship as npm packages: jorje (the Apex parser, with
the AST serializer prettier-plugin-apex ships as jars), apex-ls and PMD (JVM jars inside
@salesforce/code-analyzer-pmd-engine). Their versions are pinned in ``apexgen.pins`` and only there; the root
package.json of the repository must list the same (a test checks it). jorje runs through
JorjeBatch.java, which javac compiles once into the per-user cache.

A node_modules directory is used when it holds every pinned package at its pinned version. Places are
tried in order: ``$APEXGEN_TOOLS_DIR``, the project root, the apexgen checkout itself (where ``npm ci``
installs them for apexgen's own tests), then the per-user cache that ``apexgen tools install`` fills.
Never a parent folder of the project: a node_modules in a shared folder (the system temp folder, a home
folder) is anyone's, and what it holds would run as the user. The project's own node_modules is used only
when its pinned packages hold exactly the pinned releases' files (``PINNED_CONTENT``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from apexgen.errors import ToolsMissingError
from apexgen.paths import user_cache_dir
from apexgen.pins import PINNED_CONTENT, PINNED_PACKAGES

MIN_NODE = 18
MIN_JAVA = 17
INSTALL_COMMAND = "apexgen tools install"
TOOLS_DIR_ENV = "APEXGEN_TOOLS_DIR"
# npm's output is status, not data: send its stdout to our stderr (by descriptor, which works under
# any wrapper of sys.stderr).
STDERR_FD = 2
JDK_NEEDED = f"a JDK >= {MIN_JAVA}, which runs jorje, apex-ls and PMD and compiles apexgen's batch parser once"
JDK_HINT = f"install one, e.g. 'apt-get install openjdk-{MIN_JAVA}-jdk-headless'"
JORJE_BATCH = "JorjeBatch"
CHECK_DAEMON = "CheckDaemon"
# The oldest Java the deep check runs on: the compiled batch parser must load there too.
JAVA_RELEASE = str(MIN_JAVA)


def cache_install_dir() -> Path:
    """Where ``apexgen tools install`` puts the pinned packages.

    The name carries a digest of the pins, so changing a pin installs beside the old set instead of
    mixing versions in one node_modules.
    """
    pins = json.dumps(PINNED_PACKAGES, sort_keys=True).encode()
    return user_cache_dir() / "tools" / f"npm-{hashlib.sha256(pins).hexdigest()[:12]}"


# The folder holding the generator package: a checkout of apexgen, where `npm ci` installs the pinned
# packages for its own tests (in an installed wheel it is site-packages, which has no node_modules).
SOURCE_DIR = Path(__file__).resolve().parents[3]


def candidate_dirs(root: Path) -> list[Path]:
    """Directories that may hold a node_modules with the tools, in the order they are tried."""
    candidates = []
    if os.environ.get(TOOLS_DIR_ENV):
        candidates.append(Path(os.environ[TOOLS_DIR_ENV]).expanduser().resolve())
    root = root.resolve()
    candidates += [root, SOURCE_DIR, cache_install_dir()]
    return list(dict.fromkeys(candidates))


def installed_version(node_modules: Path, package: str) -> str | None:
    try:
        return str(json.loads((node_modules / package / "package.json").read_text("utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def package_problems(node_modules: Path) -> list[str]:
    """What keeps ``node_modules`` from being used: missing packages and other versions than pinned."""
    problems = []
    for package, pinned in PINNED_PACKAGES.items():
        version = installed_version(node_modules, package)
        if version is None:
            problems.append(f"{package} missing")
        elif version != pinned:
            problems.append(f"{package} is {version}, pinned {pinned}")
    return problems


def package_digest(package_dir: Path) -> str:
    """A digest of the files of an installed npm package (``PINNED_CONTENT`` holds the pinned ones'): each
    file's path and content, nested node_modules left out; a symlink counts as the path it names."""
    digest = hashlib.sha256()
    for folder, dirs, names in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != "node_modules")
        for name in sorted(names):
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, package_dir).replace(os.sep, "/")
            content = os.readlink(path).encode() if os.path.islink(path) else Path(path).read_bytes()
            digest.update(relative.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def place_problems(node_modules: Path, root: Path) -> list[str]:
    """What keeps ``node_modules`` from being used for the project at ``root``: ``package_problems``, and,
    in the project's own node_modules, content other than the pinned releases'."""
    problems = package_problems(node_modules)
    if not problems and node_modules.parent == root.resolve():
        try:
            problems = [
                f"{package} differs from the pinned release's files"
                for package, expected in PINNED_CONTENT.items()
                if package_digest(node_modules / package) != expected
            ]
        except OSError as exc:
            problems = [f"cannot be read ({exc.strerror})"]
    return problems


def find_node_modules(root: Path) -> Path | None:
    """The first node_modules (see ``candidate_dirs``) that holds every pinned package at its version."""
    for directory in candidate_dirs(root):
        node_modules = directory / "node_modules"
        if node_modules.is_dir() and not place_problems(node_modules, root):
            return node_modules
    return None


def runtime_major(command: list[str]) -> int | None:
    """Major version a runtime reports (``node --version``, ``java -version``); None when absent."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    # node prints "v20.20.2"; java prints 'openjdk version "17.0.15"' (or "1.8.0_x" before Java 9).
    match = re.search(r'(?:^v|version ")(\d+)(?:\.(\d+))?', result.stdout + result.stderr, re.M)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def node_major() -> int | None:
    return runtime_major(["node", "--version"])


def java_major() -> int | None:
    return runtime_major(["java", "-version"])


def javac_path() -> Path | None:
    """The javac of the JDK that ``java`` belongs to, else the first on PATH; None without a JDK."""
    java = shutil.which("java")
    if java:
        sibling = Path(java).resolve().with_name("javac.exe" if os.name == "nt" else "javac")
        if sibling.is_file():
            return sibling
    javac = shutil.which("javac")
    return Path(javac) if javac else None


def runtime_problems() -> list[str]:
    """Plain statements of what runtime is missing or too old, with how to get it."""
    problems = []
    node = node_major()
    if node is None or node < MIN_NODE:
        found = "not found" if node is None else f"version {node} found"
        problems.append(f"Node.js >= {MIN_NODE} with npm ({found}): install it from your package manager or nodejs.org")
    java = java_major()
    if java is None or java < MIN_JAVA or javac_path() is None:
        found = "not found" if java is None else f"version {java} found" if java < MIN_JAVA else "javac not found"
        problems.append(f"{JDK_NEEDED} ({found}): {JDK_HINT}")
    return problems


@dataclass(frozen=True)
class Toolchain:
    """Paths to everything the deep check runs."""

    node_modules: Path

    @property
    def serializer_lib(self) -> Path:
        """The jars of jorje and of the AST serializer that prettier-plugin-apex ships."""
        return self.node_modules / "prettier-plugin-apex" / "vendor" / "apex-ast-serializer" / "lib"

    @property
    def java_lib(self) -> Path:
        """The JVM jars of apex-ls 6 and PMD 7 that the Code Analyzer PMD engine ships."""
        return self.node_modules / "@salesforce" / "code-analyzer-pmd-engine" / "dist" / "java-lib"


def jorje_batch_classes(toolchain: Toolchain) -> Path:
    """The folder holding JorjeBatch compiled against ``toolchain``'s serializer jars; javac runs on first use."""
    return compiled_classes(JORJE_BATCH, toolchain.serializer_lib)


def jorje_classpath_of(toolchain: Toolchain) -> list[Path]:
    """The class path JorjeBatch runs on: its compiled class and jorje's jars."""
    return [jorje_batch_classes(toolchain), toolchain.serializer_lib / "*"]


def check_daemon_classes(toolchain: Toolchain) -> Path:
    """The folder holding CheckDaemon compiled against the jars of apex-ls and PMD; javac runs on first use."""
    return compiled_classes(CHECK_DAEMON, toolchain.java_lib)


def compiled_classes(name: str, jars_dir: Path) -> Path:
    """The folder holding apexgen's Java source ``name`` compiled against the jars in ``jars_dir``.

    The folder is in the per-user cache, named by a digest of the source and the jars, so a new source or
    tool version compiles beside the old. javac writes into a temporary folder that is renamed into
    place: a check running alongside finds either the whole folder or none and compiles its own.
    """
    source = resources.files("apexgen.check").joinpath(f"{name}.java").read_bytes()
    jars = sorted(jar.name for jar in jars_dir.glob("*.jar"))
    digest = hashlib.sha256(b"\0".join([source, JAVA_RELEASE.encode(), *(jar.encode() for jar in jars)])).hexdigest()
    target = user_cache_dir() / "jvm" / f"{name}-{digest[:12]}"
    compiled = f"{name}.class"
    if (target / compiled).is_file():
        return target
    javac = javac_path()
    if javac is None:
        raise ToolsMissingError(f"the deep check needs {JDK_NEEDED} (javac not found): {JDK_HINT}")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        source_file = staging / f"{name}.java"
        source_file.write_bytes(source)
        command = [
            str(javac),
            "--release",
            JAVA_RELEASE,
            "-cp",
            str(jars_dir / "*"),
            "-d",
            str(staging),
            str(source_file),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not (staging / compiled).is_file():
            lines = (result.stderr or result.stdout).strip().splitlines() or [
                f"exit {result.returncode}, no class file"
            ]
            raise ToolsMissingError(f"javac cannot compile {name}.java against {jars_dir}: {lines[0]}")
        source_file.unlink()
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / compiled).is_file():  # not a check alongside that won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@dataclass(frozen=True)
class ToolVersion:
    """A tool the deep check runs: its version (None when its package does not say one apart) and the
    pinned npm package, at its installed version, that ships it."""

    tool: str
    version: str | None
    package: str
    package_version: str | None

    def __str__(self) -> str:
        shipped = f"{self.package} {self.package_version}"
        return f"{self.tool} {self.version} ({shipped})" if self.version else f"{self.tool} ({shipped})"


# Where a node_modules was found (``candidate_dirs``), as ``check --deep`` names it.
ORIGINS = {
    "environment": f"${TOOLS_DIR_ENV}",
    "project": "the project's node_modules (its pinned packages match the pinned releases' files)",
    "checkout": "apexgen's checkout",
    "cache": f"apexgen's cache ('{INSTALL_COMMAND}')",
}


def origin_of(node_modules: Path, root: Path) -> str:
    """Which of ``ORIGINS`` ``node_modules`` is, for the project at ``root``."""
    place = node_modules.parent
    if os.environ.get(TOOLS_DIR_ENV) and place == Path(os.environ[TOOLS_DIR_ENV]).expanduser().resolve():
        return "environment"
    if place == root.resolve():
        return "project"
    return "checkout" if place == SOURCE_DIR else "cache"


def _jar_version(folder: Path, prefix: str) -> str | None:
    """The version in the name of the jar ``PREFIX<version>.jar`` in ``folder``."""
    for jar in sorted(folder.glob(f"{prefix}*.jar")):
        version = jar.name[len(prefix) : -len(".jar")]
        if re.fullmatch(r"\d+(\.\d+)*", version):
            return version
    return None


def tool_versions(toolchain: Toolchain) -> dict[str, ToolVersion]:
    """Each deep-check tool by name (jorje, prettier, apex-ls, pmd), with its version and package."""
    modules = toolchain.node_modules
    plugin, engine = "prettier-plugin-apex", "@salesforce/code-analyzer-pmd-engine"
    plugin_version, engine_version = installed_version(modules, plugin), installed_version(modules, engine)
    return {
        "jorje": ToolVersion("jorje", None, plugin, plugin_version),
        "prettier": ToolVersion("prettier", installed_version(modules, "prettier"), plugin, plugin_version),
        "apex-ls": ToolVersion("apex-ls", _jar_version(toolchain.java_lib, "apex-ls_2.13-"), engine, engine_version),
        "pmd": ToolVersion("pmd", _jar_version(toolchain.java_lib, "pmd-apex-"), engine, engine_version),
    }


def require_toolchain(root: Path) -> Toolchain:
    """The toolchain for ``root``, or ToolsMissingError saying what is missing and how to install it."""
    problems = runtime_problems()
    node_modules = find_node_modules(root)
    if node_modules is None:
        pins = ", ".join(f"{p}@{v}" for p, v in PINNED_PACKAGES.items())
        problems.append(f"the pinned Node packages ({pins})")
    if problems or node_modules is None:
        raise ToolsMissingError(
            f"the deep check (apexgen check --deep) needs tools that are missing: {'; '.join(problems)}. Run '{INSTALL_COMMAND}'"
        )
    return Toolchain(node_modules)


@dataclass(frozen=True)
class PlaceStatus:
    directory: Path
    exists: bool
    problems: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return self.exists and not self.problems


@dataclass(frozen=True)
class ToolsStatus:
    node: int | None
    java: int | None
    javac: Path | None
    places: tuple[PlaceStatus, ...]
    selected: Path | None


def tools_status(root: Path) -> ToolsStatus:
    """Runtimes found and, for every place tools are looked for, whether they are usable there."""
    places = []
    for directory in candidate_dirs(root):
        node_modules = directory / "node_modules"
        exists = node_modules.is_dir()
        problems = tuple(place_problems(node_modules, root)) if exists else ()
        places.append(PlaceStatus(node_modules, exists, problems))
    selected = next((p.directory for p in places if p.usable), None)
    return ToolsStatus(node_major(), java_major(), javac_path(), tuple(places), selected)


def install_tools() -> Path:
    """npm-install the pinned packages into the user cache and return their node_modules.

    npm writes its own progress and messages to stderr, the status stream. The packages are installed in a
    temporary directory that is renamed into place, so an interrupted install is never picked up.
    Raises ToolsMissingError when Node or npm is missing; a missing Java is for the caller to report
    (the packages are still worth installing).
    """
    node = node_major()
    npm = shutil.which("npm")
    if node is None or node < MIN_NODE or npm is None:
        raise ToolsMissingError(
            f"'{INSTALL_COMMAND}' needs Node.js >= {MIN_NODE} and npm "
            f"({'node ' + str(node) if node else 'node not found'}, {'npm found' if npm else 'npm not found'}): "
            "install them from your package manager or nodejs.org"
        )
    target = cache_install_dir()
    if target.is_dir() and not package_problems(target / "node_modules"):
        return target / "node_modules"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        manifest = {"name": "apexgen-tools", "private": True, "dependencies": PINNED_PACKAGES}
        (staging / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--save-exact"],
            cwd=staging,
            stdout=STDERR_FD,
        )
        if result.returncode != 0:
            raise ToolsMissingError(f"npm install failed (exit {result.returncode}); see npm's messages above")
        problems = package_problems(staging / "node_modules")
        if problems:
            raise ToolsMissingError(f"npm install left the tools incomplete: {'; '.join(problems)}")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / "node_modules"
