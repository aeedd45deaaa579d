"""The validated spec: what every later stage reads. Built only by ``apexgen.spec.load``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# A prompt template holds {field} placeholders; {{ and }} stand for literal braces. The generated Apex
# (AiPromptTemplate.render) and ``merge_template`` below read templates with this one pattern.
TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z][A-Za-z0-9_]*)\}")


def template_fields(template: str) -> list[str]:
    """The placeholder names of ``template`` in order of first use."""
    seen: dict[str, None] = {}
    for match in TEMPLATE_TOKEN.finditer(template):
        if match.group(1):
            seen.setdefault(match.group(1), None)
    return list(seen)


def template_problem(template: str) -> str | None:
    """Why ``template`` cannot be merged (a stray brace), or None."""
    rest = TEMPLATE_TOKEN.sub("", template)
    if "{" in rest or "}" in rest:
        brace = "{" if "{" in rest else "}"
        return f"has a '{brace}' that is not part of a {{field}} placeholder; write '{brace * 2}' for a literal brace"
    return None


def merge_template(template: str, values: dict[str, str]) -> str:
    """The prompt text the generated Apex sends: placeholders replaced, doubled braces halved."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        return values.get(name, "")

    return TEMPLATE_TOKEN.sub(replace, template)


@dataclass(frozen=True)
class Input:
    name: str
    type: str
    label: str
    description: str
    required: bool
    sample: str | None = None  # the Apex value generated tests pass; None: one made from the type
    multiline: bool = False  # a String people write several lines in: a text area on screens
    max_length: int = 0  # String: the most characters the component and the controller accept (0: not text)
    pii: bool = False  # personally identifiable information (the agent action's lightning:isPII)


# The most characters a String input takes unless the spec says otherwise, and the chat history a component sends
# and its controller accepts: the later turns, each at most CHAT_TURN_MAX_LENGTH characters. Together about
# 25,000 tokens at most (some 4 characters a token), well inside the 128,000-token context of the standard OpenAI
# models and the larger ones of the other providers, and each call billed for a bounded request.
DEFAULT_MAX_LENGTH = 4000
CHAT_HISTORY_MAX_TURNS = 10
CHAT_TURN_MAX_LENGTH = 8000


@dataclass(frozen=True)
class Output:
    """A typed value the model's answer must carry, as a key of the JSON object it answers with."""

    name: str
    type: str
    label: str
    description: str
    choices: tuple[str, ...] = ()  # for String: the only values accepted (matched ignoring case)


@dataclass(frozen=True)
class RecordTrigger:
    """The ``record`` of a prompt: the record whose fields fill its inputs (on a record page's component and in
    its screen Flow) and, with ``write``, a record-triggered Flow that runs the prompt and writes the answer back.
    """

    object: str
    when: str  # created, updated or created_or_updated
    condition: str | None  # a Flow formula over {!$Record.Field}; None: every save
    inputs: tuple[tuple[str, str], ...]  # (input name, field) in the order of the prompt's inputs
    write: tuple[tuple[str, str], ...]  # (output name or "text", field); none: no trigger, the fields are only read
    # when the job may write a field: "unchanged" since the save that queued it, "blank", or "always"
    overwrite: str = "unchanged"
    rewrite: tuple[str, ...] = ()  # fields (lower case) both read and written, as the spec allows
    # the custom fields it names that the project defines as required or master-detail, which no permission set can
    # grant; set when the spec is checked against the project (``check_record_fields``)
    required_fields: tuple[str, ...] = ()

    @property
    def trigger_type(self) -> str:
        """The Flow's recordTriggerType."""
        return {"created": "Create", "updated": "Update", "created_or_updated": "CreateAndUpdate"}[self.when]

    def fields(self) -> list[str]:
        """Every field the trigger reads or writes, condition included, each once."""
        named = [field for _, field in self.inputs + self.write]
        named += re.findall(r"\{!\$Record\.(\w+)\}", self.condition or "")
        return list(dict.fromkeys(named))


# How the output format instructions describe each type to the model.
OUTPUT_TYPE_WORDS = {
    "String": "text",
    "Integer": "a whole number",
    "Long": "a whole number",
    "Decimal": "a number",
    "Double": "a number",
    "Boolean": "true or false",
    "Date": "a date as YYYY-MM-DD",
    "Datetime": "a date and time as YYYY-MM-DDThh:mm:ssZ",
    "Id": "a Salesforce record Id",
}


def output_instructions(outputs: tuple[Output, ...]) -> str:
    """What the generated prompt appends so that the model answers with a JSON object of ``outputs``."""
    lines = ["", "", "Answer with only a JSON object that has these keys:"]
    for item in outputs:
        kind = OUTPUT_TYPE_WORDS[item.type]
        if item.choices:
            kind += ", one of: " + ", ".join(json.dumps(c, ensure_ascii=False) for c in item.choices)
        lines.append(f"- {json.dumps(item.name)} ({kind}): {item.description}")
    return "\n".join(lines)


# The inputs of capabilities whose inputs are not declared in the spec.
EMBED_INPUTS = (
    Input("first", "String", "First Text", "The first text to compare", True, max_length=DEFAULT_MAX_LENGTH),
    Input("second", "String", "Second Text", "The text to compare with the first", True, max_length=DEFAULT_MAX_LENGTH),
)
FEEDBACK_INPUTS = (
    Input("generationId", "String", "Generation ID", "Id of the answer the feedback is about", True, max_length=255),
    Input("rating", "String", "Rating", "GOOD or BAD", True, sample="'GOOD'"),
    Input(
        "comment", "String", "Comment", "What was good or bad about the answer", False, max_length=DEFAULT_MAX_LENGTH
    ),
)


SEARCH_INPUTS = (Input("query", "String", "Query", "What to search for", True),)


def call_inputs(capability: str, inputs: tuple[Input, ...]) -> tuple[Input, ...]:
    """The inputs a caller passes: the spec's ``inputs``, or the fixed ones of embed, feedback and search."""
    return {"embed": EMBED_INPUTS, "feedback": FEEDBACK_INPUTS, "search": SEARCH_INPUTS}.get(capability, inputs)


# The method of a prompt's service and controller that its callers (actions, components, tests) call.
ENTRY_METHODS = {"generate": "generate", "chat": "chat", "embed": "compare", "feedback": "submit", "search": "search"}
# The placeholder a grounded prompt's template holds for the chunks its index found.
CONTEXT_PLACEHOLDER = "context"

# similarity key of the spec -> (AiVectors method, words for documentation)
SIMILARITY = {
    "cosine": ("cosineSimilarity", "cosine similarity"),
    "dot": ("dotProduct", "dot product"),
    "euclidean": ("euclideanDistance", "Euclidean distance"),
}


@dataclass(frozen=True)
class ModelRef:
    alias: str
    api_name: str
    capabilities: tuple[str, ...]
    configured: bool

    @property
    def constant(self) -> str:
        """The Apex constant that holds this model's API name, e.g. ``FAST``."""
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", self.alias).upper()


@dataclass(frozen=True)
class Localization:
    default_locale: str
    input_locales: tuple[tuple[str, float], ...] = ()
    expected_locales: tuple[str, ...] = ()


@dataclass(frozen=True)
class Index:
    """An [[index]]: chunks of the text of some fields of an object, embedded, stored and searched in the org."""

    name: str
    object: str
    fields: tuple[str, ...]
    condition: str | None  # a SOQL condition over the object's fields; None: every record
    model: ModelRef
    chunk_size: int
    chunk_overlap: int
    prefix: str

    @property
    def and_condition(self) -> str:
        """The condition after another one and AND, as prettier-plugin-apex prints it: in parentheses only when it
        has an OR outside parentheses and quotes."""
        condition = self.condition or ""
        outside = re.sub(r"'(?:[^'\\]|\\.)*'", "''", condition)
        while re.search(r"\([^()]*\)", outside):
            outside = re.sub(r"\([^()]*\)", "", outside)
        return f"({condition})" if re.search(r"\bOR\b", outside, re.IGNORECASE) else condition

    @property
    def chunk_object(self) -> str:
        """The custom object of the chunks, without __c."""
        return f"{self.prefix}{self.name}Chunk"

    @property
    def retriever_class(self) -> str:
        return f"{self.name}Retriever"

    @property
    def indexer_class(self) -> str:
        return f"{self.name}Indexer"

    def classes(self) -> list[str]:
        """Every Apex class this index generates, tests included."""
        return [n for name in (self.retriever_class, self.indexer_class) for n in (name, f"{name}Test")]


@dataclass(frozen=True)
class Ground:
    """A generate or chat prompt grounded in an index: the chunks most like an input fill {context}."""

    index: Index
    query: str  # the input searched for
    k: int


@dataclass(frozen=True)
class Prompt:
    name: str
    capability: str
    model: ModelRef | None
    system: str | None
    template: str | None
    inputs: tuple[Input, ...]
    expose: tuple[str, ...]
    label: str
    description: str
    category: str
    localization: Localization | None
    tags: tuple[tuple[str, str], ...]
    similarity: str
    source: str
    feedback: str | None = None  # name of the feedback prompt that rates this prompt's answers
    flows: tuple[str, ...] = ()  # "autolaunched", "screen"
    outputs: tuple[Output, ...] = ()  # typed values read from a JSON answer (generate and chat)
    record: RecordTrigger | None = None  # the record whose fields fill the inputs, and the trigger that writes it
    # Exposed to lwc: where the component may be placed (spec names, see spec/lwc.py LWC_TARGETS; none:
    # not exposed) and the inputs a Flow screen or a parent may set (@api), in the order of the inputs.
    lwc_targets: tuple[str, ...] = ()
    lwc_public: tuple[str, ...] = ()
    index: Index | None = None  # search: the index searched
    k: int = 5  # search: how many results
    ground: Ground | None = None  # generate and chat: the index whose chunks fill {context}
    confirm: bool = False  # exposed to agent: the agent asks the user before it runs the action

    @property
    def agent_function(self) -> str:
        """The developer name of the prompt's agent action (GenAiFunction) when it is exposed to agent."""
        return self.name

    @property
    def entry_method(self) -> str:
        """The service and controller method callers call: generate, chat, compare or submit."""
        return ENTRY_METHODS[self.capability]

    @property
    def has_component(self) -> bool:
        """Exposed to lwc with a component of its own: a search prompt gets its controller only."""
        return "lwc" in self.expose and self.capability != "search"

    @property
    def service_class(self) -> str:
        return f"{self.name}Service"

    @property
    def action_class(self) -> str:
        return f"{self.name}Action"

    @property
    def controller_class(self) -> str:
        return f"{self.name}Controller"

    @property
    def writes_record(self) -> bool:
        """``record`` with ``write``: a record-triggered Flow queues the record and the shared job writes it."""
        return self.record is not None and bool(self.record.write)

    @property
    def record_work_class(self) -> str:
        """The prompt's work on records, which the shared job runs (prompts that write records)."""
        return f"{self.name}RecordWork"

    @property
    def record_batch_class(self) -> str:
        """The Batch Apex class that queues the records that already exist (prompts that write records)."""
        return f"{self.name}RecordBatch"

    @property
    def calls_model(self) -> bool:
        """Whether the prompt calls a model (feedback rates an answer instead): an admin's controls apply."""
        return self.capability != "feedback"

    @property
    def call_inputs(self) -> tuple[Input, ...]:
        """The inputs a caller passes: the spec's, or the fixed ones of embed and feedback."""
        return call_inputs(self.capability, self.inputs)

    @property
    def similarity_method(self) -> str:
        return SIMILARITY[self.similarity][0]

    @property
    def similarity_words(self) -> str:
        return SIMILARITY[self.similarity][1]

    @property
    def has_options(self) -> bool:
        return self.localization is not None or bool(self.tags)

    def classes(self) -> list[str]:
        """Every Apex class this prompt generates, tests included."""
        names = [self.service_class]
        if "flow" in self.expose:
            names.append(self.action_class)
        if "lwc" in self.expose:
            names.append(self.controller_class)
        if self.writes_record:
            names += [self.record_work_class, self.record_batch_class]
        return [n for name in names for n in (name, f"{name}Test")]

    def render_prompt(self, values: dict[str, str]) -> str:
        """The user message the generated service sends for these input values."""
        merged = merge_template(self.template or "", values)
        return merged + self.output_format

    @property
    def output_format(self) -> str:
        """The output format instructions appended to the merged template, or ''."""
        return output_instructions(self.outputs) if self.outputs else ""


# The project-wide classes of every integration, named <prefix><name>; each has a test class <name>Test
# but the stub, which is test code itself. <prefix>Models exists only when the spec has models,
# <prefix>JsonAnswer only when a prompt has outputs.
SHARED_CLASSES = (
    "ModelsException",
    "ModelsClient",
    "ModelsClientStub",
    "Generation",
    "ChatMessage",
    "PromptTemplate",
    "Vectors",
    "CalloutBudget",
    "Models",
    "JsonAnswer",
    "SearchTerms",
    "TextChunks",
    "VectorCodec",
    "SearchResult",
    "Retriever",
    "DataCloudSearch",
    "ModelControls",
    "ModelWork",
    "ModelJob",
    "RecordWrites",
    "ModelRunSweep",
    "ModelRunRetry",
    "TestData",
)
# The stub is test code itself; an interface has no code to test; the test data factory is the user's own.
UNTESTED_SHARED_CLASSES = ("ModelsClientStub", "ModelWork", "Retriever", "TestData")
# Shared classes of the durable job: generated when it has work, a prompt that writes records
# (``record.write``) or an [[index]].
JOB_SHARED_CLASSES = ("ModelWork", "ModelJob", "ModelRunSweep", "ModelRunRetry", "TestData")
# Shared classes of retrieval, generated when the spec has an [[index]].
RETRIEVAL_CLASSES = ("SearchTerms", "TextChunks", "VectorCodec", "SearchResult", "Retriever", "DataCloudSearch")


@dataclass(frozen=True)
class ProjectSettings:
    """The [project] table of a spec: API version, class-name prefix, namespace, package directory."""

    api_version: str
    prefix: str
    namespace: str
    package_dir: str
    category: str
    # Model API names come from <prefix>Model__mdt records shipped with the project (the spec's models are
    # their values and the defaults), so a subscriber can point an alias at a model of their own org.
    subscriber_models: bool = False
    # The lwc_targets of every prompt that does not choose its own; None: each prompt's default.
    lwc_targets: tuple[str, ...] | None = None

    @property
    def model_type(self) -> str:
        """The custom metadata type of the subscriber-chosen models, without __mdt."""
        return f"{self.prefix}Model"


@dataclass(frozen=True)
class Topic:
    """An Agentforce topic (GenAiPlugin) that holds the agent actions of some prompts."""

    name: str
    label: str
    description: str
    scope: str
    instructions: tuple[str, ...]
    prompts: tuple[str, ...]  # names of prompts exposed to agent


@dataclass(frozen=True)
class Spec:
    path: str
    project: ProjectSettings
    models: tuple[ModelRef, ...]
    prompts: tuple[Prompt, ...]
    indexes: tuple[Index, ...] = ()
    topics: tuple[Topic, ...] = ()

    def prompt_named(self, name: str) -> Prompt:
        return next(p for p in self.prompts if p.name == name)

    def record_prompts(self) -> list[Prompt]:
        """The prompts that write records, whose work on records the shared job runs."""
        return [p for p in self.prompts if p.writes_record]

    def job_works(self) -> list[tuple[str, str]]:
        """The work the shared job runs, as (name, class): each prompt that writes records (the name of its settings
        record and of its runs is the prompt's), then each index (the index's name)."""
        works = [(p.name, p.record_work_class) for p in self.record_prompts()]
        return works + [(index.name, index.indexer_class) for index in self.indexes]

    def shared_classes(self) -> list[str]:
        """The shared classes this spec generates, without their tests."""
        needed = {
            "Models": bool(self.models),
            "JsonAnswer": any(p.outputs for p in self.prompts),
            "ModelControls": any(p.calls_model for p in self.prompts) or bool(self.indexes),
            "RecordWrites": bool(self.record_prompts()),
        }
        needed |= dict.fromkeys(JOB_SHARED_CLASSES, bool(self.job_works()))
        needed |= dict.fromkeys(RETRIEVAL_CLASSES, bool(self.indexes))
        return [name for name in SHARED_CLASSES if needed.get(name, True)]
