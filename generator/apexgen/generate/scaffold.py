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
from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import environment
from apexgen.generate.write import atomic_write
from apexgen.pins import LWC_TEST_PACKAGES, PINNED_PACKAGES
from apexgen.project.sfdx_project import DEFINITION_FILE
from apexgen.salesforce import API_VERSION, MIN_API_VERSION
from apexgen.spec.naming import namespace_problem

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


def project_files(name: str, api_version: str = API_VERSION, namespace: str = "") -> list[PlannedFile]:
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
    return [PlannedFile(path, env.get_template(template).render(**context)) for path, template in templates.items()]


def init_project(root: Path, api_version: str = API_VERSION, namespace: str = "") -> list[str]:
    """Write a new project into ``root`` (created when missing); return the paths written."""
    files = project_files(root.name, api_version, namespace)
    written: list[Path] = []
    try:
        if root.exists() and not root.is_dir():
            raise UsageError(f"{root}: exists and is not a folder")
        existing = [f.path for f in files if (root / f.path).exists()]
        if existing:
            raise UsageError(
                f"{root}: already has {', '.join(existing)}; nothing was written (init makes new projects only)"
            )
        root.mkdir(parents=True, exist_ok=True)
        for file in files:
            (root / file.path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write(root / file.path, file.content)
            written.append(root / file.path)
    except OSError as exc:  # a folder that cannot hold a project (/proc), a name longer than the system allows
        for path in written:
            path.unlink(missing_ok=True)
        raise UsageError(f"{root}: cannot create the project there ({exc.strerror}); nothing was written") from None
    return [f.path for f in files]
