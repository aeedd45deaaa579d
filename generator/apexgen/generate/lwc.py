"""Lightning web components: one bundle per prompt exposed to "lwc", with its Jest tests.

Each component calls the prompt's generated controller imperatively (see
templates/apex/controller/controller.cls.jinja) and shows the answer, the similarity or the feedback
confirmation. A text or chat prompt whose spec names a ``feedback`` prompt also gets thumbs up/down
that send the answer's generation id to that prompt's controller.

Spec text reaches three languages here, each with its own escaping: JavaScript string literals, LWC
template markup (where ``{`` starts an expression) and XML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import environment
from apexgen.spec.lwc import LWC_TARGETS, page_record_input, public_property_problem
from apexgen.spec.naming import lower_camel
from apexgen.spec.types import Input, Output, Prompt, Spec

LWC_DIR = "main/default/lwc"


@dataclass(frozen=True)
class InputKind:
    """How the component takes one Apex type: the control, how Flow passes it, how tests enter it."""

    input_type: str  # type attribute of lightning-input
    flow_type: str | None  # property type on a Flow screen; None where no Flow type holds every value
    sent: str  # JavaScript that turns the entered value ({value}) into what the controller takes
    entered: str  # what a test enters: the value of lightning-input, or its checked state
    expected: str  # what the test expects the controller to receive for it
    step: str | None = None  # lightning-input's step: its default, 1, would refuse decimals


INPUT_KINDS = {
    "String": InputKind("text", "String", "{value}", "'Sample {label}'", "'Sample {label}'"),
    "Id": InputKind("text", "String", "{value}", "'005000000000001AAA'", "'005000000000001AAA'"),
    "Integer": InputKind("number", "Integer", "toNumber({value})", "'42'", "42"),
    # A Flow Integer is 32 bits and Flow screens have no decimal type: these are entered on screen only.
    "Long": InputKind("number", None, "toNumber({value})", "'42'", "42"),
    "Decimal": InputKind("number", None, "toNumber({value})", "'4.2'", "4.2", step="any"),
    "Double": InputKind("number", None, "toNumber({value})", "'4.2'", "4.2", step="any"),
    "Boolean": InputKind("toggle", "Boolean", "{value} === true", "true", "true"),
    "Date": InputKind("date", "Date", "{value}", "'2024-01-31'", "'2024-01-31'"),
    "Datetime": InputKind(
        "datetime", "DateTime", "{value}", "'2024-01-31T12:30:00.000Z'", "'2024-01-31T12:30:00.000Z'"
    ),
}

# The fixed inputs of embed and feedback prompts that are not one-line text fields.
TEXTAREAS = {("embed", "first"), ("embed", "second"), ("feedback", "comment")}
RADIO_GROUPS = {("feedback", "rating")}

# capability -> label of the button that calls the controller
BUTTON_LABELS = {
    "generate": "Generate",
    "chat": "Start Conversation",
    "embed": "Compare",
    "feedback": "Send Feedback",
}


@dataclass(frozen=True)
class Field:
    """One input of the prompt as a form control of its component."""

    item: Input
    control: str  # lightning-input | lightning-textarea | lightning-radio-group
    kind: InputKind
    public: bool  # an @api property a Flow screen or a parent can set (the spec's lwc_public)

    @property
    def name(self) -> str:
        return self.item.name

    @property
    def sent(self) -> str:
        return self.kind.sent.format(value=f"this.values.{self.name}")

    @property
    def blocks_sending(self) -> bool:
        """A required input the button waits for; a switched-off toggle is a value, not a blank."""
        return self.item.required and self.kind.input_type != "toggle"

    def sample(self, template: str) -> str:
        """A test value from ``template`` (InputKind.entered or .expected), made for this input."""
        if self.control == "lightning-radio-group":
            return "'GOOD'"
        if "{label}" not in template:
            return template
        return js_string(f"Sample {self.item.label}")


@dataclass(frozen=True)
class RecordInput:
    """An input a record page's record fills: the field, imported from @salesforce/schema so that the platform
    (and a package) knows the component depends on it."""

    input: str
    label: str
    object: str
    field: str

    @property
    def constant(self) -> str:
        """The JavaScript name of the import, ``CASE_SUBJECT_FIELD``."""
        return f"{self.object}_{self.field}_FIELD".upper()


@dataclass(frozen=True)
class OutputField:
    """One output of the prompt: shown with the answer, and an output property on a Flow screen."""

    item: Output
    flow_type: str | None  # the Flow screen property type; None: shown only (no Flow type holds it)

    @property
    def name(self) -> str:
        return self.item.name

    @property
    def sample(self) -> str:
        """The JavaScript value a test's controller answer carries for this output."""
        from apexgen.generate.templates import SAMPLE_JSON

        if self.item.type in ("String", "Id"):
            text = self.item.choices[0] if self.item.choices else f"Sample {self.item.label}"
            return js_string(text if self.item.type == "String" else str(SAMPLE_JSON["Id"]))
        value = SAMPLE_JSON[self.item.type]
        return js_string(value) if isinstance(value, str) else str(value).lower()


@dataclass(frozen=True)
class Component:
    prompt: Prompt
    fields: tuple[Field, ...]
    feedback: Prompt | None  # the feedback prompt whose controller receives this component's ratings
    record_field: Field | None  # on a record page: the input the page's recordId fills
    outputs: tuple[OutputField, ...] = ()
    record_inputs: tuple[RecordInput, ...] = ()  # on a record page: the inputs its record fills

    @property
    def name(self) -> str:
        return lower_camel(self.prompt.name)

    @property
    def tag(self) -> str:
        """The element name tests create, ``c-summarize-case`` for ``summarizeCase``."""
        return "c-" + re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), self.name)

    @property
    def capability(self) -> str:
        return self.prompt.capability

    @property
    def method(self) -> str:
        return self.prompt.entry_method

    @property
    def button_label(self) -> str:
        return BUTTON_LABELS[self.capability]

    @property
    def apex(self) -> str:
        return f"@salesforce/apex/{self.prompt.controller_class}.{self.method}"

    @property
    def feedback_apex(self) -> str:
        assert self.feedback is not None
        return f"@salesforce/apex/{self.feedback.controller_class}.submit"

    @property
    def targets(self) -> list[str]:
        """The Lightning targets of the component's metadata; none: it is not exposed."""
        return [LWC_TARGETS[target] for target in self.prompt.lwc_targets]

    @property
    def on_flow_screen(self) -> bool:
        return "flow_screen" in self.prompt.lwc_targets

    @property
    def grounded(self) -> bool:
        """The answer carries its sources, the records of the chunks it was grounded in: the component links them."""
        return self.prompt.ground is not None

    @property
    def tells_flow(self) -> bool:
        """A Flow screen reads the answer (answerText) and its outputs as output properties."""
        return self.on_flow_screen and self.answers

    @property
    def has_public_properties(self) -> bool:
        return bool(self.public_fields or self.record_field or self.record_inputs or self.tells_flow)

    @property
    def capped_fields(self) -> list[Field]:
        """Text inputs with a length the component and the controller hold them to."""
        return [f for f in self.fields if f.item.max_length]

    @property
    def checks_lengths(self) -> bool:
        return bool(self.capped_fields) or self.capability == "chat"

    @property
    def record_object(self) -> str | None:
        """The object of the record page the component reads, for its target's <objects>."""
        return self.record_inputs[0].object if self.record_inputs else None

    @property
    def required_names(self) -> list[str]:
        return [f.name for f in self.fields if f.blocks_sending]

    @property
    def public_fields(self) -> list[Field]:
        return [f for f in self.fields if f.public]

    @property
    def flow_fields(self) -> list[Field]:
        """The input properties of the Flow screen: public inputs of a type Flow has."""
        return [f for f in self.public_fields if f.kind.flow_type] if self.on_flow_screen else []

    @property
    def flow_outputs(self) -> list[OutputField]:
        """Outputs a Flow screen can read, after the answer text (answerText)."""
        if not self.tells_flow:
            return []
        return [o for o in self.outputs if o.flow_type and public_property_problem(o.name) is None]

    @property
    def answers(self) -> bool:
        return self.capability in ("generate", "chat")

    @property
    def has_numbers(self) -> bool:
        return any(f.kind.input_type == "number" for f in self.fields)

    @property
    def result_words(self) -> str:
        """What an embed component shows: ``Cosine similarity``."""
        words = self.prompt.similarity_words
        return words[:1].upper() + words[1:]


def component(spec: Spec, prompt: Prompt) -> Component:
    fields = []
    for item in prompt.call_inputs:
        key = (prompt.capability, item.name)
        control = (
            "lightning-textarea"
            if key in TEXTAREAS or item.multiline
            else "lightning-radio-group"
            if key in RADIO_GROUPS
            else "lightning-input"
        )
        fields.append(Field(item, control, INPUT_KINDS[item.type], item.name in prompt.lwc_public))
    feedback = spec.prompt_named(prompt.feedback) if prompt.feedback else None
    outputs = tuple(OutputField(item, INPUT_KINDS[item.type].flow_type) for item in prompt.outputs)
    # Only a record page has a record: elsewhere the component reads none and has no recordId.
    on_record_page = "record_page" in prompt.lwc_targets
    filled = page_record_input(prompt.call_inputs) if on_record_page else None
    record_field = next((f for f in fields if f.item is filled), None)
    record = prompt.record if on_record_page else None
    labels = {item.name: item.label for item in prompt.call_inputs}
    record_inputs = (
        tuple(RecordInput(name, labels[name], record.object, field) for name, field in record.inputs) if record else ()
    )
    return Component(prompt, tuple(fields), feedback, record_field, outputs, record_inputs)


# --- escaping ---------------------------------------------------------------------------------------

_JS_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_JS_SPECIAL = re.compile(r"[\\'\x00-\x1f\x7f\u2028\u2029]")


def js_string(value: str) -> str:
    """A single-quoted JavaScript string literal of ``value``."""
    return "'" + _JS_SPECIAL.sub(lambda m: _JS_ESCAPES.get(m.group(0), f"\\u{ord(m.group(0)):04x}"), value) + "'"


def js_comment(value: str) -> str:
    """``value`` on one line, safe inside a /* */ comment."""
    return " ".join(value.split()).replace("*/", "* /")


def markup_text(value: str) -> str:
    """Text for an LWC template, where a brace would start an expression."""
    return xml_escape(value).replace("{", "&#123;").replace("}", "&#125;")


def markup_attribute(value: str) -> str:
    """A double-quoted attribute value for an LWC template that the compiler reads as plain text.

    The compiler takes a value written as braces around something (``"{name}"``) for an expression
    unless a backslash precedes it, which it drops; and it refuses other raw braces as ambiguous,
    so those are written as character references.
    """
    text = xml_escape(value, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
    if len(value) > 2 and value.startswith("{") and value.endswith("}"):
        return '"\\' + text + '"'
    return '"' + text.replace("{", "&#123;").replace("}", "&#125;") + '"'


def xml_text(value: str) -> str:
    return xml_escape(value)


def xml_attribute(value: str) -> str:
    return quoteattr(value, {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


@cache
def _environment() -> Any:
    env = environment().overlay()
    env.filters.update(
        js=js_string,
        js_comment=js_comment,
        text=markup_text,
        attr=markup_attribute,
        xml=xml_text,
        xml_attr=xml_attribute,
    )
    return env


def lwc_bundle(spec: Spec, prompt: Prompt) -> list[PlannedFile]:
    """The component bundle of ``prompt``: JavaScript, template, metadata and Jest test."""
    c = component(spec, prompt)
    folder = f"{spec.project.package_dir}/{LWC_DIR}/{c.name}"
    env = _environment()
    context = {"c": c, "prompt": prompt, "project": spec.project}
    return [
        PlannedFile(f"{folder}/{c.name}.js", env.get_template("lwc/component.js.jinja").render(context)),
        PlannedFile(f"{folder}/{c.name}.html", env.get_template("lwc/component.html.jinja").render(context)),
        PlannedFile(
            f"{folder}/{c.name}.js-meta.xml", env.get_template("lwc/component.js-meta.xml.jinja").render(context)
        ),
        PlannedFile(
            f"{folder}/__tests__/{c.name}.test.js", env.get_template("lwc/component.test.js.jinja").render(context)
        ),
    ]
