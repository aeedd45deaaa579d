"""The permission set of a project: access to the Apex classes users call directly, and to the run log.

Apex class access is checked only where a user enters Apex: an invocable action run by a Flow, an
@AuraEnabled method called by a component. The services and shared classes they call need no grant. In a
managed package the permission set ships with the package, so subscribers assign it instead of granting
class access by hand; the same file serves an unpackaged project. The work on records runs in user mode as the
user whose save queued it, so whoever saves such records needs to create, read and edit the run log.
"""

from __future__ import annotations

from apexgen.generate.automation import RUN_FIELDS, run_object
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
    if spec.record_prompts():
        classes.append(f"{spec.project.prefix}ModelRunRetry")  # the run log's Flow action
    return sorted(classes)


def granted_fields(spec: Spec) -> list[tuple[str, bool]]:
    """(Object__c.Field__c, editable) of every field the permission set grants, sorted: the run log's, read and
    written (no run log field is required, so each one's access is granted), and the fields of the indexes'
    chunk objects that searches read, read only: the indexer writes chunks in system mode, so no user can forge
    one (a master-detail field is always readable and cannot be granted)."""
    fields = [(f"{run_object(spec)}.{f.name}", True) for f in RUN_FIELDS] if spec.record_prompts() else []
    fields += [
        (f"{index.chunk_object}__c.{field.name}", False)
        for index in spec.indexes
        for field in CHUNK_FIELDS
        if field.permissionable
    ]
    return sorted(fields)


def granted_objects(spec: Spec) -> list[tuple[str, bool]]:
    """(object, create and edit) of every object the permission set grants, sorted."""
    objects = [(run_object(spec), True)] if spec.record_prompts() else []
    return sorted(objects + [(f"{index.chunk_object}__c", False) for index in spec.indexes])


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
                fields=granted_fields(spec),
                objects=granted_objects(spec),
                run_log=bool(spec.record_prompts()),
                spec_has_indexes=bool(spec.indexes),
            ),
        )
    ]
