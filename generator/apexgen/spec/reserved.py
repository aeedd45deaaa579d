"""The names the generated code uses itself, and which spec names may not take them: the one list.

A spec name lands in the generated code beside names apexgen chose, and where two share a namespace, the
spec's would repeat, shadow or be shadowed by apexgen's. Where each kind of spec name goes:

- an input: a variable and a screen field of the prompt's Flows, a field of its action's Request class, a
  parameter of the service and controller methods, a key of the component's values object and, when public,
  a property of the component; in its template, a placeholder;
- an output: a variable of the prompt's Flows (and ``Output_<name>``), a field of its action's Result class,
  a getter of the component on a Flow screen;
- a prompt: the class of its component, beside the names its JavaScript module and Jest test declare (the
  Apex classes it names are checked by ``consistency.check_collisions``);
- a model alias: a constant of the generated Models class (``FAST`` for ``fast``), beside that class's
  own fields;
- an index, a topic: only class, object and metadata names of their own, checked where they are read
  (``index.check_index_names``, ``agent.read_topics``).

``tests/test_reserved_names.py`` renders every example spec and fails when a generated file declares a
name in one of these namespaces that the rules below do not refuse: a template cannot add a name without
adding it here.
"""

from __future__ import annotations

from apexgen.spec.types import CONTEXT_PLACEHOLDER

# The elements, rules, choices and variables of the generated Flows: one namespace with the inputs and
# outputs, which become Flow variables and screen fields. Flow API names ignore case.
FLOW_NAMES = frozenset(
    name.lower()
    for name in [
        "After_Commit",
        "answer",
        "Answer_Text",
        "Answered",
        "Call_Answer",
        "Call_Answer_Html",
        "Call_Error",
        "Call_Generation_Id",
        "Call_Model",
        "Call_Succeeded",
        "Call_Toxicity_Detected",
        "Check_Feedback",
        "Check_Rating",
        "Check_Result",
        "Enter_Inputs",
        "Error_Text",
        "errorMessage",
        "Feedback_Comment",
        "Feedback_Error",
        "Feedback_Error_Text",
        "Feedback_Rating",
        "Feedback_Succeeded",
        "generationId",
        "Get_Record",
        "Helpful",
        "Not_Helpful",
        "Queue_Record",
        "Rated",
        "Record_Failure",
        "Record_Fault",
        "Send_Feedback",
        "Sent",
        "Set_Answer",
        "Show_Answer",
        "Show_Error",
        "Show_Feedback_Error",
        "succeeded",
        "Toxicity_Warning",
        "toxicityDetected",
        "Update_Record",
    ]
)
# Flow variables named after a spec name: the value of output X, the record field read for input X.
OUTPUT_VARIABLE_PREFIX = "Output_"
FIELD_VARIABLE_PREFIX = "Field_"

# What the generated methods that take the inputs as parameters (and the action's Request class, whose
# fields they are) read beside them: constants, locals, system classes. A parameter of one of these names
# would repeat a local or shadow the constant or class. Apex ignores case.
APEX_NAMES = frozenset(
    name.lower()
    for name in [
        "budget",
        "client",
        "e",
        "error",
        "failureDetail",
        "generation",
        "history",
        "i",
        "Id",
        "LoggingLevel",
        "message",
        "messages",
        "MODEL_NAME",
        "options",
        "OUTPUT_FORMAT",
        "prompt",
        "PROMPT_NAME",
        "queued",
        "record_ids",
        "recordIds",
        "request",
        "requests",
        "result",
        "results",
        "retriever",
        "service",
        "SYSTEM_MESSAGE",
        "TEMPLATE",
        "UNEXPECTED",
        "values",
        "writeToRecord",
    ]
)
# ... and what a grounded prompt's methods add: the chunks found and the question as admitted.
GROUNDED_APEX_NAMES = frozenset(name.lower() for name in ["admitted", "GROUND_K", "sources"])
# The field of a record prompt's Request that names the record the answer is written to.
RECORD_ID = "recordId"

# The Flow action's Result class, which the outputs join as fields, and what its methods read.
RESULT_NAMES = frozenset(
    name.lower()
    for name in [
        "answer",
        "completionTokens",
        "errorMessage",
        "finishReason",
        "generationId",
        "isSuccess",
        "promptTokens",
        "queued",
        "responseCode",
        "result",
        "text",
        "textHtml",
        "toxicityDetected",
        "toxicityScore",
        "totalTokens",
    ]
)

# The fields of the generated Models class (with subscriber_models), beside the constant of each model alias.
MODELS_CLASS_FIELDS = frozenset(["configured"])

# Members of the component of a generate or chat prompt: an output shown on a Flow screen becomes a getter
# of the same name, and a public input a property. JavaScript names keep their case.
ANSWER_COMPONENT_MEMBERS = frozenset(
    [
        "announceAnswer",
        "answer",
        "answerText",
        "availableActions",
        "cannotSend",
        "cannotSendFeedback",
        "errorMessage",
        "feedbackComment",
        "feedbackConfirmation",
        "feedbackRating",
        "handleFeedbackCommentChange",
        "handleInputChange",
        "handleRateBad",
        "handleRateGood",
        "handleSend",
        "handleSendFeedback",
        "hasSources",
        "inputValues",
        "isRatedBad",
        "isRatedGood",
        "isWaiting",
        "outputFields",
        "pageRecordId",
        "receiveRecord",
        "recordId",
        "recordNotice",
        "resetFeedback",
        "sendChecked",
        "sources",
        "tooLongMessage",
        "validate",
        "values",
        "whileWaiting",
    ]
)
# ... and those a chat prompt's component adds for its conversation.
CHAT_COMPONENT_MEMBERS = frozenset(
    [
        "cannotSendFollowUp",
        "conversation",
        "followUp",
        "handleFollowUpChange",
        "handleNewConversation",
        "handleSendFollowUp",
        "hasConversation",
        "messages",
        "sendConversation",
    ]
)
# Every component's members: those above, those of an embed or feedback prompt's component, and what
# LightningElement defines.
COMPONENT_MEMBERS = (
    ANSWER_COMPONENT_MEMBERS
    | CHAT_COMPONENT_MEMBERS
    | frozenset(["confirmation", "hasSimilarity", "ratings", "similarity"])
    | frozenset(
        [
            "addEventListener",
            "connectedCallback",
            "disconnectedCallback",
            "dispatchEvent",
            "errorCallback",
            "hostElement",
            "refs",
            "removeEventListener",
            "render",
            "renderedCallback",
            "template",
        ]
    )
)
# Members every JavaScript object inherits: an input of that name would read the inherited member in the
# component's values object, and a getter named constructor does not compile (LWC1007).
OBJECT_MEMBERS = frozenset(
    ["constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "toString", "valueOf"]
)

# What the component's JavaScript module and its Jest test declare beside the class the prompt names.
COMPONENT_MODULE_NAMES = frozenset(
    [
        "ANSWER",
        "api",
        "button",
        "chat",
        "compare",
        "control",
        "createElement",
        "enter",
        "EXPECTED_INPUTS",
        "fillInputs",
        "FlowAttributeChangeEvent",
        "flushPromises",
        "generate",
        "getRecord",
        "isBlank",
        "LightningElement",
        "MAX_HISTORY_TURNS",
        "MAX_LENGTHS",
        "MAX_TURN_LENGTH",
        "messageOf",
        "OUTPUTS",
        "RATINGS",
        "RECORD_FIELDS",
        "RECORD_INPUTS",
        "render",
        "REQUIRED_INPUTS",
        "search",
        "shown",
        "snippet",
        "SNIPPET_LENGTH",
        "submit",
        "submitFeedback",
        "toNumber",
        "turns",
        "wire",
    ]
)
# The module imports each record field it reads as <OBJECT>_<FIELD>_FIELD.
FIELD_IMPORT_SUFFIX = "_FIELD"
# Names whose Lightning web component file (lwc/test/test.js) Jest's default testMatch runs as a test suite.
JEST_TEST_FILE_NAMES = frozenset({"test", "spec"})


def _generated(name: str) -> str | None:
    """Where the Flows or Apex of a prompt already use ``name`` (ignoring case), or None."""
    lowered = name.lower()
    if lowered in FLOW_NAMES:
        return "an element or variable of the generated Flows"
    for prefix in (OUTPUT_VARIABLE_PREFIX, FIELD_VARIABLE_PREFIX):
        if lowered.startswith(prefix.lower()):
            return f"the Flows name their own variables {prefix}<name>"
    return None


def input_problem(name: str, *, grounded: bool = False, record: bool = False) -> str | None:
    """Why ``name`` cannot be an input of a prompt (grounded: with ``ground``; record: with ``record``)."""
    if name in OBJECT_MEMBERS:
        return (
            f"'{name}' is a member of every JavaScript object; a Lightning web component would read that instead "
            "of the input: choose another"
        )
    if grounded and name.lower() == CONTEXT_PLACEHOLDER:
        return f"'{name}' is reserved in a grounded prompt for the chunks found ({{{CONTEXT_PLACEHOLDER}}})"
    if record and name.lower() == RECORD_ID.lower():
        return f"'{name}' is the record a record prompt's action writes its answer to; choose another"
    apex = APEX_NAMES | (GROUNDED_APEX_NAMES if grounded else frozenset())
    where = _generated(name) or ("a name the generated Apex reads beside the inputs" if name.lower() in apex else None)
    return f"'{name}' is a name the generated code uses itself ({where}); choose another" if where else None


def output_problem(name: str, chat: bool = False) -> str | None:
    """Why ``name`` cannot be an output of a prompt (``chat``: of a chat prompt)."""
    members = ANSWER_COMPONENT_MEMBERS | (CHAT_COMPONENT_MEMBERS if chat else frozenset()) | OBJECT_MEMBERS
    where = (
        _generated(name)
        or ("a field of the Flow action's result" if name.lower() in RESULT_NAMES else None)
        or ("a name the generated Apex reads beside the inputs" if name.lower() in APEX_NAMES else None)
        or ("a member of the generated component" if name in members else None)
    )
    return f"'{name}' is a name the generated code uses itself ({where}); choose another" if where else None


def prompt_problem(name: str, component: bool) -> str | None:
    """Why ``name`` cannot be a prompt's name (``component``: it gets a Lightning web component)."""
    if not component:
        return None
    if name.lower() in JEST_TEST_FILE_NAMES:
        lowered = name.lower()
        return f"'{name}' would make lwc/{lowered}/{lowered}.js, which Jest runs as a test suite: choose another name"
    if name in COMPONENT_MODULE_NAMES or name.endswith(FIELD_IMPORT_SUFFIX):
        return (
            f"'{name}' is a name the generated code uses itself (the component's JavaScript declares it beside "
            "the class the prompt names); choose another"
        )
    return None


def model_constant_problem(constant: str) -> str | None:
    """Why a model alias cannot become the constant ``constant`` of the Models class (Apex ignores case)."""
    if constant.lower() in MODELS_CLASS_FIELDS:
        return (
            f"becomes the constant {constant}, which the Models class generated with subscriber_models holds as a "
            "field of its own; choose another alias"
        )
    return None
