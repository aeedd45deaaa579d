"""The metadata of an admin's controls and of the work on records: the custom metadata type of settings (one
record per prompt that calls a model and per index), and, when the job has work (a prompt with ``record``, an
index), the run log object with its fields and list view.

The settings are SubscriberControlled and their records unprotected, so an admin of a subscriber org edits
them in Setup and an upgrade keeps the values. In a managed package the work on records ships switched off
(``RunOnRecords__c`` false): installing the package starts no billed call until a subscriber admin says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import render
from apexgen.spec.types import Spec

METADATA_DIR = "main/default"
RUN_STATUSES = ("Queued", "Retrying", "Succeeded", "Failed", "Skipped")


@dataclass(frozen=True)
class Field:
    """A custom field as its .field-meta.xml says it."""

    name: str
    label: str
    type: str
    description: str
    length: int | None = None
    precision: int | None = None
    default: str | None = None
    values: tuple[str, ...] = ()
    visible_lines: int | None = None
    external_id: bool = False
    subscriber: bool = False  # SubscriberControlled (custom metadata)
    extra: dict[str, str] = field(default_factory=dict)


def setting_fields(spec: Spec) -> list[Field]:
    """The fields of <prefix>ModelSetting__mdt."""
    fields = [
        Field(
            "Enabled__c", "Enabled", "Checkbox", "Off stops every call of this prompt.", default="true", subscriber=True
        ),
        Field(
            "MaxInputLength__c",
            "Max Input Length",
            "Number",
            "Longest input, in characters, a call may send; blank: 100,000.",
            precision=9,
            subscriber=True,
        ),
    ]
    if spec.job_works():
        fields += [
            Field(
                "RunOnRecords__c",
                "Run on Records",
                "Checkbox",
                "On lets the record-triggered Flow and the batch queue records and the job call the model for them "
                "(for an index: embed their text).",
                default="false",
                subscriber=True,
            ),
            Field(
                "CallsPerHour__c",
                "Calls per Hour",
                "Number",
                "Model calls the job may make in an hour; blank: the org type's default (production 30,000, "
                "sandbox 200, trial 150).",
                precision=9,
                subscriber=True,
            ),
        ]
    if spec.indexes:
        fields += index_setting_fields()
    return sorted(fields, key=lambda f: f.name)


def index_setting_fields() -> list[Field]:
    """The fields of an index's setting: how its searches run (in Apex, or by Data Cloud's Query API)."""
    data_cloud = "With Search With = DataCloud: API name of the Data Cloud search index's"
    return [
        Field(
            "SearchWith__c",
            "Search With",
            "Picklist",
            "For an index: Apex searches its chunks in Apex; DataCloud sends searches to a Data Cloud search index "
            "through the Query API (unverified: see README). Prompts ignore it.",
            values=("Apex", "DataCloud"),
            subscriber=True,
        ),
        Field(
            "DataCloudIndex__c", "Data Cloud Index", "Text", f"{data_cloud} index object.", length=255, subscriber=True
        ),
        Field(
            "DataCloudChunks__c",
            "Data Cloud Chunks",
            "Text",
            f"{data_cloud} chunk object.",
            length=255,
            subscriber=True,
        ),
        Field(
            "DataCloudRecordField__c",
            "Data Cloud Record Field",
            "Text",
            f"{data_cloud} chunk object's field that holds the Salesforce record Id.",
            length=255,
            subscriber=True,
        ),
    ]


RUN_FIELDS = sorted(
    [
        Field("Prompt__c", "Prompt", "Text", "The prompt's name in apexgen.toml, or the index's.", length=80),
        Field("RecordId__c", "Record ID", "Text", "The record the answer is written to.", length=18, external_id=True),
        Field("Status__c", "Status", "Picklist", "Where the run stands.", values=RUN_STATUSES),
        Field(
            "Attempts__c",
            "Attempts",
            "Number",
            "Attempts at this run's work, 5 at most; a split counts none.",
            precision=3,
            default="0",
        ),
        Field(
            "Calls__c",
            "Calls",
            "Number",
            "Model calls made for this run, over all its executions; the hourly cap sums them.",
            precision=9,
            default="0",
        ),
        Field("NextAttemptAt__c", "Next Attempt At", "DateTime", "When the job tries a pending run again."),
        Field(
            "CalledAt__c",
            "Called At",
            "DateTime",
            "When the model was last called; the hourly cap counts the calls of these runs.",
        ),
        Field("ResponseCode__c", "Response Code", "Number", "HTTP status of the failed call.", precision=3),
        Field(
            "Error__c", "Error", "LongTextArea", "Why the run failed, or was skipped.", length=32768, visible_lines=3
        ),
        Field("GenerationId__c", "Generation ID", "Text", "Identifies the answer for feedback.", length=255),
        Field("Model__c", "Model", "Text", "API name of the model called.", length=255),
        Field("PromptTokens__c", "Prompt Tokens", "Number", "Tokens of the prompt.", precision=9),
        Field("CompletionTokens__c", "Completion Tokens", "Number", "Tokens of the answer.", precision=9),
        Field(
            "TotalTokens__c", "Total Tokens", "Number", "Tokens of prompt and answer (Einstein Requests).", precision=9
        ),
        Field(
            "Snapshot__c",
            "Snapshot",
            "LongTextArea",
            "The fields the answer is written to, as they were when the record was queued (JSON).",
            length=32768,
            visible_lines=3,
        ),
        Field(
            "Written__c",
            "Written",
            "LongTextArea",
            "What the write did: each field written or kept, and every save error.",
            length=32768,
            visible_lines=3,
        ),
    ],
    key=lambda f: f.name,
)


def run_object(spec: Spec) -> str:
    return f"{spec.project.prefix}ModelRun__c"


def setting_type(spec: Spec) -> str:
    return f"{spec.project.prefix}ModelSetting__mdt"


def automation_metadata(spec: Spec) -> list[PlannedFile]:
    """The settings type, its fields and records; the run log object, its fields and list view."""
    project = spec.project
    # A settings record per prompt that calls a model, and per index: whether the job works on records for it (a
    # prompt that writes records, an index), and how an index is searched.
    named: list[tuple[str, bool, str | None]] = [(p.name, p.writes_record, None) for p in spec.prompts if p.calls_model]
    named += [(index.name, True, "Apex") for index in spec.indexes]
    if not named:
        return []
    base = f"{project.package_dir}/{METADATA_DIR}"
    setting = setting_type(spec)
    files = [
        PlannedFile(
            f"{base}/objects/{setting}/{setting}.object-meta.xml",
            render("metadata/setting_type.object-meta.xml.jinja", project=project),
        )
    ]
    fields = setting_fields(spec)
    files += [
        PlannedFile(
            f"{base}/objects/{setting}/fields/{f.name}.field-meta.xml",
            render("metadata/field.field-meta.xml.jinja", field=f),
        )
        for f in fields
    ]
    # The work on records is on where the project's own admin deploys it, off in a subscriber's org.
    on_records = "false" if project.namespace else "true"
    files += [
        PlannedFile(
            f"{base}/customMetadata/{project.prefix}ModelSetting.{name}.md-meta.xml",
            render(
                "metadata/setting_record.md-meta.xml.jinja",
                name=name,
                log=bool(spec.job_works()),
                on_records=on_records if works_on_records else "false",
                search_with=search_with,
            ),
        )
        for name, works_on_records, search_with in named
    ]
    if not spec.job_works():
        return files
    run = run_object(spec)
    files.append(
        PlannedFile(
            f"{base}/objects/{run}/{run}.object-meta.xml", render("metadata/run.object-meta.xml.jinja", project=project)
        )
    )
    files += [
        PlannedFile(
            f"{base}/objects/{run}/fields/{f.name}.field-meta.xml",
            render("metadata/field.field-meta.xml.jinja", field=f),
        )
        for f in RUN_FIELDS
    ]
    files.append(
        PlannedFile(
            f"{base}/objects/{run}/listViews/Failed.listView-meta.xml",
            render("metadata/run_failed.listView-meta.xml.jinja", project=project),
        )
    )
    return files + token_report(spec)


def token_report(spec: Spec) -> list[PlannedFile]:
    """A report type over the run log and a report of token use per prompt per day (Einstein Requests are billed)."""
    project = spec.project
    base = f"{project.package_dir}/{METADATA_DIR}"
    context = {"project": project, "run_object": run_object(spec), "report_type": f"{project.prefix}ModelRuns"}
    folder = f"{project.prefix}ModelReports"
    return [
        PlannedFile(
            f"{base}/reportTypes/{context['report_type']}.reportType-meta.xml",
            render("metadata/run.reportType-meta.xml.jinja", fields=[f.name for f in RUN_FIELDS], **context),
        ),
        PlannedFile(
            f"{base}/reports/{folder}.reportFolder-meta.xml",
            render("metadata/report_folder.reportFolder-meta.xml.jinja", **context),
        ),
        PlannedFile(
            f"{base}/reports/{folder}/{project.prefix}ModelTokensPerPromptPerDay.report-meta.xml",
            render("metadata/tokens.report-meta.xml.jinja", **context),
        ),
    ]
