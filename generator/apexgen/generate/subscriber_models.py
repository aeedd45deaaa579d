"""Subscriber-chosen models (``[project] subscriber_models``): a custom metadata type with one record per model
alias, shipped with the package.

The spec's models are the records' values and the defaults of ``<prefix>Models``. The field is
SubscriberControlled and the records are not protected, so a subscriber of a managed package edits a record in
Setup to call a model of their own org (an Einstein Studio configured model or BYOLLM model, whose API names
differ per org); an upgrade keeps their value.
"""

from __future__ import annotations

from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import render
from apexgen.spec.types import Spec

METADATA_DIR = "main/default"
MODEL_NAME_FIELD = "ModelName__c"


def model_metadata(spec: Spec) -> list[PlannedFile]:
    """The type, its field and one record per alias; nothing unless the spec asks for subscriber models."""
    if not (spec.project.subscriber_models and spec.models):
        return []
    project = spec.project
    base = f"{project.package_dir}/{METADATA_DIR}"
    object_dir = f"{base}/objects/{project.model_type}__mdt"
    files = [
        PlannedFile(
            f"{object_dir}/{project.model_type}__mdt.object-meta.xml",
            render("metadata/model_type.object-meta.xml.jinja", project=project),
        ),
        PlannedFile(
            f"{object_dir}/fields/{MODEL_NAME_FIELD}.field-meta.xml",
            render("metadata/model_name.field-meta.xml.jinja", project=project),
        ),
    ]
    files += [
        PlannedFile(
            f"{base}/customMetadata/{project.model_type}.{model.alias}.md-meta.xml",
            render("metadata/model_record.md-meta.xml.jinja", model=model),
        )
        for model in spec.models
    ]
    return files
