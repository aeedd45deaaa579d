"""``apexgen init``: a new SFDX project ready for ``apexgen generate``.

Writes sfdx-project.json, .forceignore, .prettierrc (matching the formatting of generated Apex),
.gitignore, a package.json for prettier and the Lightning web components' lint and Jest tests (with
their jest.config.js and eslint.config.js), and a commented example apexgen.toml. Never overwrites:
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
from apexgen.salesforce import API_VERSION, MIN_API_VERSION
from apexgen.spec.naming import identifier_problem

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


def project_files(name: str, api_version: str = API_VERSION, namespace: str = "") -> list[PlannedFile]:
    """The files of a new project called ``name``."""
    if not re.fullmatch(r"[1-9][0-9]\.0", api_version) or int(api_version[:-2]) < MIN_API_VERSION:
        raise UsageError(f"--api-version: '{api_version}' must be a version such as 65.0, at least {MIN_API_VERSION}.0")
    if namespace and (identifier_problem(namespace) or len(namespace) > 15):
        raise UsageError(
            f"--namespace: '{namespace}' must be a namespace prefix: letters, digits and single underscores, at most 15 characters"
        )
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
    return [PlannedFile(path, env.get_template(template).render(**context)) for path, template in PROJECT_FILES.items()]


def init_project(root: Path, api_version: str = API_VERSION, namespace: str = "") -> list[str]:
    """Write a new project into ``root`` (created when missing); return the paths written."""
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root}: exists and is not a folder")
    files = project_files(root.resolve().name, api_version, namespace)
    existing = [f.path for f in files if (root / f.path).exists()]
    if existing:
        raise UsageError(
            f"{root}: already has {', '.join(existing)}; nothing was written (init makes new projects only)"
        )
    root.mkdir(parents=True, exist_ok=True)
    for file in files:
        atomic_write(root / file.path, file.content)
    return [f.path for f in files]
