"""``apexgen init``: a new SFDX project ready for ``apexgen generate``.

Writes sfdx-project.json, .forceignore, .prettierrc (matching the formatting of generated Apex),
.gitignore, a package.json for prettier and the Lightning web components' lint and Jest tests (with
their jest.config.js and eslint.config.js), and a commented example apexgen.toml; with a namespace, also
the definition of the org that builds and validates managed package versions. Never overwrites:
when any of these files exists, nothing is written.
"""

from __future__ import annotations

import re
from pathlib import Path

from apexgen.errors import UsageError
from apexgen.generate.manifest import atomic_write
from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import environment
from apexgen.pins import LWC_TEST_PACKAGES, PINNED_PACKAGES
from apexgen.project.sfdx_project import DEFINITION_FILE
from apexgen.salesforce import API_VERSION, MIN_API_VERSION
from apexgen.spec.naming import namespace_problem

# The VS Code task's problem matchers (.vscode/tasks.json): a line of `apexgen check --format vscode`, and a spec
# error of `apexgen generate` (errors.SpecError: "error: apexgen.toml:LINE:COL: key: rule").
CHECK_PROBLEM_PATTERN = r"^(.+):(\d+):(\d+): (error|warning|info): (.*)$"
GENERATE_PROBLEM_PATTERN = r"^error: (.+?):(\d+):(\d+): (.*)$"
# Editor support: the spec's JSON schema (apexgen.toml's first line points Even Better TOML at it), the
# extensions to recommend, the tasks. Written by init, and by init --existing where missing.
SCHEMA_COPY = ".vscode/apexgen.schema.json"
EDITOR_FILES = {
    ".vscode/extensions.json": "project/vscode/extensions.json.jinja",
    ".vscode/tasks.json": "project/vscode/tasks.json.jinja",
}
# What init --existing adds to an SFDX project (.prettierrc: the deep check formats Apex as it says).
EXISTING_PROJECT_FILES = ["apexgen.toml", ".prettierrc", *EDITOR_FILES, SCHEMA_COPY]

# target file -> template
PROJECT_FILES = {
    "sfdx-project.json": "project/sfdx-project.json.jinja",
    ".forceignore": "project/forceignore.jinja",
    ".prettierrc": "project/prettierrc.jinja",
    ".gitignore": "project/gitignore.jinja",
    "package.json": "project/package.json.jinja",
    "jest.config.js": "project/jest.config.js.jinja",
    "eslint.config.js": "project/eslint.config.js.jinja",
    "apexgen.toml": "project/apexgen.toml.jinja",
    **EDITOR_FILES,
}
# The build org of a package version validates it: it compiles the Apex, which calls aiplatform.ModelsAPI,
# and runs its tests. The 2GP guide ("Get Access to Scratch Orgs That Have Agentforce", pkg2_dev) gives the
# feature Einstein1AIPlatform and the setting einsteinGptSettings.enableEinsteinGptPlatform; its sample's
# edition is Partner Developer (the feature is available to Dev Hubs in a Partner Business Org, and a namespaced
# package is built from one). The docs are silent on anything else the Models API needs in a build org
# (licences, permission sets of the user that runs the tests): the file asks for nothing more, and the generated
# tests stub the Models API, so they need no live model. sfdx-project.json references the file from the package
# directory (definitionFile), which `apexgen package create` records: the schema allows the key only there.
NAMESPACED_PROJECT_FILES = {DEFINITION_FILE: "project/project-scratch-def.json.jinja"}


def project_files(
    name: str, api_version: str = API_VERSION, namespace: str = "", package_dir: str = "force-app"
) -> list[PlannedFile]:
    """The files of a new project called ``name``."""
    if not re.fullmatch(r"[1-9][0-9]\.0", api_version) or int(api_version[:-2]) < MIN_API_VERSION:
        raise UsageError(f"--api-version: '{api_version}' must be a version such as 65.0, at least {MIN_API_VERSION}.0")
    problem = namespace_problem(namespace) if namespace else None
    if problem:
        raise UsageError(f"--namespace: {problem}")
    context = {
        "name": name,
        "package_name": re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "apexgen-project",
        "api_version": api_version,
        "namespace": namespace,
        "package_dir": package_dir,
        "schema_copy": SCHEMA_COPY,
        "check_pattern": CHECK_PROBLEM_PATTERN,
        "generate_pattern": GENERATE_PROBLEM_PATTERN,
        # a project formats its Apex with the same prettier the deep check runs, and tests its components
        "dev_dependencies": dict(
            sorted(
                {
                    "prettier": PINNED_PACKAGES["prettier"],
                    "prettier-plugin-apex": PINNED_PACKAGES["prettier-plugin-apex"],
                    **LWC_TEST_PACKAGES,
                }.items()
            )
        ),
    }
    env = environment()
    templates = {**PROJECT_FILES, **(NAMESPACED_PROJECT_FILES if namespace else {})}
    files = [PlannedFile(path, env.get_template(template).render(**context)) for path, template in templates.items()]
    return [*files, PlannedFile(SCHEMA_COPY, schema_text())]


def schema_text() -> str:
    from importlib import resources

    return resources.files("apexgen.spec").joinpath("schema.json").read_text("utf-8")


def init_project(root: Path, api_version: str = API_VERSION, namespace: str = "") -> list[str]:
    """Write a new project into ``root`` (created when missing); return the paths written."""
    files = project_files(root.name, api_version, namespace)
    try:
        if root.exists() and not root.is_dir():
            raise UsageError(f"{root}: exists and is not a folder")
        existing = [f.path for f in files if (root / f.path).exists()]
    except OSError as exc:  # a name longer than the system allows
        raise UsageError(f"{root}: cannot create the project there ({exc.strerror}); nothing was written") from None
    if existing:
        raise UsageError(
            f"{root}: already has {', '.join(existing)}; nothing was written (init makes new projects only)"
        )
    _write(root, files)
    return [f.path for f in files]


def init_existing(root: Path) -> tuple[list[str], list[str]]:
    """Add apexgen.toml (and the editor files, and the .prettierrc the deep check formats by) to the SFDX project
    at ``root``, with its API version, namespace and default package directory; files that exist are kept.
    Returns (the paths written, the paths kept)."""
    from apexgen.project.sfdx_project import SfdxProject, default_directory_path
    from apexgen.salesforce import SFDX_PROJECT_FILE

    if not (root / SFDX_PROJECT_FILE).is_file():
        raise UsageError(f"{root}: has no {SFDX_PROJECT_FILE}; 'apexgen init' without --existing makes a new project")
    if (root / "apexgen.toml").exists():
        raise UsageError(f"{root / 'apexgen.toml'}: exists already; nothing was written")
    project = SfdxProject.load(root)
    version = project.api_version if "." in project.api_version else f"{project.api_version}.0"
    files = project_files(root.name, version, project.namespace, default_directory_path(project))
    wanted = [f for f in files if f.path in EXISTING_PROJECT_FILES]
    written = [f for f in wanted if not (root / f.path).exists()]
    _write(root, written)
    return [f.path for f in written], [f.path for f in wanted if f not in written]


def _write(root: Path, files: list[PlannedFile]) -> None:
    """Write ``files`` into ``root`` (created when missing); on a failure remove what was written."""
    written: list[Path] = []
    try:
        root.mkdir(parents=True, exist_ok=True)
        for file in files:
            (root / file.path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write(root / file.path, file.content)
            written.append(root / file.path)
    except OSError as exc:  # a folder that cannot hold a project (/proc), a name longer than the system allows
        for path in written:
            path.unlink(missing_ok=True)
        raise UsageError(f"{root}: cannot create the project there ({exc.strerror}); nothing was written") from None
