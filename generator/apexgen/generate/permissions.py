"""The permission set of a project: what a user needs to use everything generated, and nothing more.

- Apex class access where a user enters Apex: an invocable action run by a Flow, an @AuraEnabled method called by
  a component. The services and shared classes they call need no grant.
- Flow access to the Flows a user runs (screen and autolaunched Flows). Record-triggered Flows run in system
  context when a record is saved, so they need none.
- Object and field permissions for what runs in user mode: the record a prompt's ``record`` names is read by its
  component (``getRecord`` checks field access), its screen Flow (user context) and the model job, and the job
  writes its answer with ``AccessLevel.USER_MODE``; the custom objects the project generates (the job's run log,
  which the job inserts, reads and updates in user mode as the user whose save queued it; only the hourly sweep,
  which runs as the admin who scheduled it, deletes runs, so users get no delete and cannot erase the log). Custom metadata types (subscriber models, admin
  controls) are read with ``getAll()``, in system mode, and need no grant.

In a managed package the permission set ships with the package, so subscribers assign it instead of granting each
piece by hand; the same file serves an unpackaged project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import render
from apexgen.spec.standard_fields import permissionable, required_custom_field
from apexgen.spec.types import Spec

PERMISSION_SETS_DIR = "main/default/permissionsets"
_FLOW = re.compile(r"/flows/(\w+)\.flow-meta\.xml$")
_OBJECT_FIELD = re.compile(r"/objects/(\w+)/fields/(\w+)\.field-meta\.xml$")


@dataclass
class ObjectAccess:
    """What users need of one object: read, edit, and each field as readable or editable."""

    name: str
    edit: bool = False
    fields: dict[str, bool] = field(default_factory=dict)  # field -> editable
    create: bool = False  # a generated object: the code inserts its records

    def grant(self, field_name: str, editable: bool, required: bool = False) -> None:
        """Access to the field, readable or ``editable``; a ``required`` field is a required or master-detail custom
        field, which has no field-level security of its own."""
        self.edit = self.edit or editable
        # A required custom field, like a field the standard-field table marks not permissionable (Case.CaseNumber,
        # Account.Name, audit fields), has no field-level security: access to its object governs it, so a grant
        # would give nothing, and the org may refuse it (it refuses a required custom field: "You cannot deploy to
        # a required field"). A standard field the table does not list is granted as before: whether it has
        # field-level security is not known here, and leaving it out would hide it from users wherever it does.
        if required or permissionable(self.name, field_name) is False:
            return
        self.fields[field_name] = self.fields.get(field_name, False) or editable


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
    if spec.job_works():
        classes.append(f"{spec.project.prefix}ModelRunRetry")  # the run log's Flow action
    # An index's Flow action: "the running user must have the Apex class security" of a Flow's action
    # (Apex Reference, InvocableMethod Annotation), and the record-triggered Flow runs for whoever saves.
    classes += [index.indexer_class for index in spec.indexes]
    return sorted(classes)


def user_flows(planned: list[PlannedFile]) -> list[str]:
    """The generated Flows a user runs: every Flow but the record-triggered ones, sorted."""
    return sorted(
        match.group(1) for file in planned if (match := _FLOW.search(file.path)) and "<triggerType>" not in file.content
    )


def object_access(spec: Spec, planned: list[PlannedFile]) -> list[ObjectAccess]:
    """Objects and fields read or written in user mode, by object name."""
    objects: dict[str, ObjectAccess] = {}
    for prompt in spec.prompts:
        if prompt.record is None:
            continue
        access = objects.setdefault(prompt.record.object, ObjectAccess(prompt.record.object))
        written = {name.lower() for _, name in prompt.record.write}
        for name in prompt.record.fields():
            access.grant(name, name.lower() in written, name in prompt.record.required_fields)
    # An index's chunks are read by searches in user mode and written by its indexer in system mode: users get
    # read access only, so no one can forge a chunk.
    read_only = {f"{index.chunk_object}__c" for index in spec.indexes}
    for file in planned:
        match = _OBJECT_FIELD.search(file.path)
        if match and not match.group(1).endswith("__mdt"):
            name = match.group(1)
            access = objects.setdefault(name, ObjectAccess(name, create=name not in read_only))
            editable = "<formula>" not in file.content and name not in read_only
            access.grant(match.group(2), editable, required_custom_field(file.content))
    return sorted(objects.values(), key=lambda access: access.name)


def permission_set(spec: Spec, planned: list[PlannedFile]) -> list[PlannedFile]:
    """The permission set granting what the ``planned`` files need; none when they need nothing."""
    classes = entry_point_classes(spec)
    flows = user_flows(planned)
    objects = object_access(spec, planned)
    if not (classes or flows or objects):
        return []
    path = f"{spec.project.package_dir}/{PERMISSION_SETS_DIR}/{permission_set_name(spec)}.permissionset-meta.xml"
    content = render(
        "permissionset/access.permissionset-meta.xml.jinja",
        project=spec.project,
        classes=classes,
        flows=flows,
        objects=objects,
    )
    return [PlannedFile(path, content)]
