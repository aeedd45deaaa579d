"""The Flows of a prompt: an autolaunched Flow around its invocable action, and a screen Flow for people."""

from __future__ import annotations

from typing import Any

from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import render
from apexgen.spec.reserved import FIELD_VARIABLE_PREFIX, OUTPUT_VARIABLE_PREFIX
from apexgen.spec.types import Prompt, Spec

# Apex input type -> Flow data type and scale
FLOW_TYPES: dict[str, tuple[str, int | None]] = {
    "String": ("String", None),
    "Integer": ("Number", 0),
    "Long": ("Number", 0),
    "Decimal": ("Number", 2),
    "Double": ("Number", 2),
    "Boolean": ("Boolean", None),
    "Date": ("Date", None),
    "Datetime": ("DateTime", None),
    "Id": ("String", None),
}
FLOWS_DIR = "main/default/flows"


def flow_files(spec: Spec, prompt: Prompt) -> list[PlannedFile]:
    """The Flows of ``prompt``: <Name>Flow (autolaunched) and <Name>ScreenFlow, as the spec asks."""
    text = prompt.capability in ("generate", "chat")
    # Result field of the action, the Flow's internal variable, its output variable, data type, scale
    answer: tuple[str, str, str, str, int | None] = (
        ("text", "Call_Answer", "answer", "String", None)
        if text
        else ("similarity", "Call_Answer", "answer", "Number", 6)
    )
    results = [answer]
    if text:
        results += [
            ("generationId", "Call_Generation_Id", "generationId", "String", None),
            ("toxicityDetected", "Call_Toxicity_Detected", "toxicityDetected", "Boolean", None),
        ]
        results += [
            (item.name, f"{OUTPUT_VARIABLE_PREFIX}{item.name}", item.name, *FLOW_TYPES[item.type])
            for item in prompt.outputs
        ]
    status = [("isSuccess", "Call_Succeeded", "Boolean"), ("errorMessage", "Call_Error", "String")]
    internal = [(var, data_type, False, False, "", scale) for _, var, _, data_type, scale in results]
    internal += [(var, data_type, False, False, "", None) for _, var, data_type in status]
    feedback = spec.prompt_named(prompt.feedback) if prompt.feedback else None
    action_outputs = [(field, var) for field, var, *_ in results] + [(field, var) for field, var, _ in status]
    context = {
        "project": spec.project,
        "prompt": prompt,
        "feedback": feedback,
        "action_inputs": [(item.name, item.name) for item in prompt.call_inputs],
        "action_outputs": action_outputs,
        "feedback_outputs": [("isSuccess", "Feedback_Succeeded"), ("errorMessage", "Feedback_Error")],
        "feedback_inputs": [
            ("generationId", "Call_Generation_Id"),
            ("rating", "Feedback_Rating"),
            ("comment", "Feedback_Comment"),
        ],
        "fault_items": [
            ("Call_Succeeded", "booleanValue", "false"),
            ("Call_Error", "elementReference", "$Flow.FaultMessage"),
        ],
        "input_fields": [(item, *FLOW_TYPES[item.type]) for item in prompt.call_inputs],
    }
    folder = f"{spec.project.package_dir}/{FLOWS_DIR}"
    files = []
    if "autolaunched" in prompt.flows:
        inputs = [
            (i.name, *FLOW_TYPES[i.type][:1], True, False, i.description, FLOW_TYPES[i.type][1])
            for i in prompt.call_inputs
        ]
        outputs = [(out, data_type, False, True, "", scale) for _, _, out, data_type, scale in results]
        outputs += [("succeeded", "Boolean", False, True, "", None), ("errorMessage", "String", False, True, "", None)]
        variables = sorted(inputs + outputs + internal, key=lambda v: v[0].lower())
        context_auto = dict(
            context,
            variables=variables,
            answer_items=[(out, "elementReference", var) for _, var, out, _, _ in results]
            + [("succeeded", "booleanValue", "true")],
            failure_items=[("succeeded", "booleanValue", "false"), ("errorMessage", "elementReference", "Call_Error")],
            fault_items=[
                ("succeeded", "booleanValue", "false"),
                ("errorMessage", "elementReference", "$Flow.FaultMessage"),
            ],
        )
        files.append(
            PlannedFile(
                f"{folder}/{prompt.name}Flow.flow-meta.xml",
                render("flow/autolaunched.flow-meta.xml.jinja", **context_auto),
            )
        )
    if "screen" in prompt.flows:
        # Display Text renders HTML: the answer escaped, with its line breaks as <br>
        screen_variables = internal + [("Call_Answer_Html", "String", False, False, "", None)]
        if feedback:
            # the feedback action reports a failed rating on its result: the screen Flow shows it
            screen_variables += [
                ("Feedback_Succeeded", "Boolean", False, False, "", None),
                ("Feedback_Error", "String", False, False, "", None),
            ]
        record_fields = prompt.record.inputs if prompt.record else ()
        if prompt.record:
            # started from a record page (recordId): the record's fields fill the inputs
            screen_variables.append(("recordId", "String", True, False, f"Id of the {prompt.record.object}", None))
            by_name = {item.name: item for item in prompt.call_inputs}
            screen_variables += [
                (
                    f"{FIELD_VARIABLE_PREFIX}{name}",
                    *FLOW_TYPES[by_name[name].type][:1],
                    False,
                    False,
                    "",
                    FLOW_TYPES[by_name[name].type][1],
                )
                for name, _ in record_fields
            ]
        variables = sorted(screen_variables, key=lambda v: v[0].lower())
        files.append(
            PlannedFile(
                f"{folder}/{prompt.name}ScreenFlow.flow-meta.xml",
                render(
                    "flow/screen.flow-meta.xml.jinja",
                    **dict(context, action_outputs=[("textHtml", "Call_Answer_Html"), *action_outputs]),
                    variables=variables,
                    record_fields=[(name, field, f"{FIELD_VARIABLE_PREFIX}{name}") for name, field in record_fields],
                    defaults={name: f"{FIELD_VARIABLE_PREFIX}{name}" for name, _ in record_fields},
                ),
            )
        )
    if prompt.writes_record:
        files.append(PlannedFile(f"{folder}/{prompt.name}RecordFlow.flow-meta.xml", _record_flow(context)))
    return files


def _record_flow(context: dict[str, Any]) -> str:
    """The record-triggered Flow: after save, its asynchronous path queues the record for the job, which
    calls the model and writes the answer (the Flow itself writes nothing)."""
    prompt: Prompt = context["prompt"]
    record = prompt.record
    assert record is not None
    return render(
        "flow/record.flow-meta.xml.jinja",
        **context,
        record=record,
        record_inputs=[(name, f"$Record.{field}") for name, field in record.inputs]
        + [("recordId", "$Record.Id"), ("writeToRecord", "true")],
    )
