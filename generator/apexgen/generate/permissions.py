"""The permission set of a project: access to the Apex classes users call directly, and to the run log.

Apex class access is checked only where a user enters Apex: an invocable action run by a Flow, an
@AuraEnabled method called by a component. The services and shared classes they call need no grant. In a
managed package the permission set ships with the package, so subscribers assign it instead of granting
class access by hand; the same file serves an unpackaged project. The work on records runs in user mode as the
user whose save queued it, so whoever saves such records needs to create, read and edit the run log.
"""

from __future__ import annotations

from apexgen.generate.automation import RUN_FIELDS, run_object
from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import render
from apexgen.spec.types import Spec

PERMISSION_SETS_DIR = "main/default/permissionsets"


def permission_set_name(spec: Spec) -> str:
    return f"{spec.project.prefix}ModelsAccess"


def entry_point_classes(spec: Spec) -> list[str]:
    """The generated classes users call: Flow actions and component controllers, sorted."""
    classes = []
    for prompt in spec.prompts:
        if "flow" in prompt.expose:
            classes.append(prompt.action_class)
        if "lwc" in prompt.expose:
            classes.append(prompt.controller_class)
    if spec.record_prompts():
        classes.append(f"{spec.project.prefix}ModelRunRetry")  # the run log's Flow action
    return sorted(classes)


def permission_set(spec: Spec) -> list[PlannedFile]:
    """The permission set granting the entry points; none when the spec has none."""
    classes = entry_point_classes(spec)
    if not classes:
        return []
    path = f"{spec.project.package_dir}/{PERMISSION_SETS_DIR}/{permission_set_name(spec)}.permissionset-meta.xml"
    return [
        PlannedFile(
            path,
            render(
                "permissionset/access.permissionset-meta.xml.jinja",
                project=spec.project,
                classes=classes,
                run_object=run_object(spec) if spec.record_prompts() else None,
                # no run log field is required, so each one's access is granted
                run_fields=[f.name for f in RUN_FIELDS],
            ),
        )
    ]
