"""The permission set of a project: access to the Apex classes users call directly.

Apex class access is checked only where a user enters Apex: an invocable action run by a Flow, an
@AuraEnabled method called by a component. The services and shared classes they call need no grant. In a
managed package the permission set ships with the package, so subscribers assign it instead of granting
class access by hand; the same file serves an unpackaged project.
"""

from __future__ import annotations

from apexgen.generate.chunk_fields import CHUNK_FIELDS
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
    return sorted(classes)


def readable_fields(spec: Spec) -> list[str]:
    """The fields of the indexes' chunk objects that searches read, as Object__c.Field__c, sorted. Read only:
    the indexer writes chunks in system mode, so no user can forge one."""
    return sorted(
        f"{index.chunk_object}__c.{field.name}"
        for index in spec.indexes
        for field in CHUNK_FIELDS
        if field.permissionable
    )


def permission_set(spec: Spec) -> list[PlannedFile]:
    """The permission set granting the entry points and reading the indexes; none when the spec has neither."""
    classes = entry_point_classes(spec)
    if not classes and not spec.indexes:
        return []
    path = f"{spec.project.package_dir}/{PERMISSION_SETS_DIR}/{permission_set_name(spec)}.permissionset-meta.xml"
    return [
        PlannedFile(
            path,
            render(
                "permissionset/access.permissionset-meta.xml.jinja",
                project=spec.project,
                classes=classes,
                fields=readable_fields(spec),
                objects=sorted(f"{index.chunk_object}__c" for index in spec.indexes),
            ),
        )
    ]
