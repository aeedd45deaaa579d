"""Read the invocable surface of Apex source: the ``@InvocableMethod`` of a class and the ``@InvocableVariable``s
of its classes, with their annotation values, access and lines.

A scanner, not a parser: it tokenizes (comments dropped, string literals kept whole), follows class nesting by
braces and reads the declaration after each annotation. That is enough for what agent metadata is compared with,
and it runs in pure Python on any project (the deep check's parsers see the same files for syntax).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|[A-Za-z_][A-Za-z0-9_]*|\S", re.S)
_MODIFIERS = frozenset(
    [
        "public",
        "private",
        "protected",
        "global",
        "static",
        "final",
        "transient",
        "virtual",
        "abstract",
        "override",
        "with",
        "without",
        "inherited",
        "sharing",
        "testmethod",
        "webservice",
    ]
)


@dataclass(frozen=True)
class Token:
    text: str
    line: int


@dataclass
class InvocableVariable:
    name: str
    type: str  # as written, without spaces: String, List<ExperienceItem>, WeatherService.Weather
    annotation: dict[str, str | bool]  # label, description, required (values unquoted)
    access: str  # global, public, private... ('' when the declaration names none)
    line: int

    @property
    def label(self) -> str | None:
        value = self.annotation.get("label")
        return value if isinstance(value, str) else None

    @property
    def description(self) -> str | None:
        value = self.annotation.get("description")
        return value if isinstance(value, str) else None

    @property
    def required(self) -> bool:
        return self.annotation.get("required") is True


@dataclass
class ApexClass:
    name: str  # qualified from the file's top class: Outer or Outer.Inner
    access: str
    line: int
    variables: list[InvocableVariable] = field(default_factory=list)


@dataclass
class InvocableMethod:
    name: str
    annotation: dict[str, str | bool]
    access: str
    parameter_type: str  # List<Request>
    return_type: str  # List<Result>
    line: int
    owner: str  # the class that declares it


@dataclass
class ApexSource:
    classes: dict[str, ApexClass]  # by qualified name, lower case
    methods: list[InvocableMethod]

    def resolve(self, type_name: str, owner: str) -> ApexClass | None:
        """The class of this file that ``type_name`` names from inside class ``owner``."""
        candidates = [f"{owner}.{type_name}", type_name]
        top = owner.split(".")[0]
        candidates.append(f"{top}.{type_name}")
        return next((self.classes[c.lower()] for c in candidates if c.lower() in self.classes), None)


def element_type(list_type: str) -> str | None:
    """``X`` of ``List<X>`` (or ``X[]``), else None."""
    match = re.fullmatch(r"(?i:list)<(.+)>", list_type) or re.fullmatch(r"(.+)\[\]", list_type)
    return match.group(1) if match else None


def _unquote(literal: str) -> str:
    escapes = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), literal[1:-1])


def _tokens(source: str) -> list[Token]:
    tokens = []
    line = 1
    position = 0
    for match in _TOKEN.finditer(source):
        line += source.count("\n", position, match.start())
        position = match.start()
        text = match.group()
        if not text.startswith(("//", "/*")):
            tokens.append(Token(text, line))
    return tokens


def _annotation_values(tokens: list[Token], start: int) -> tuple[dict[str, str | bool], int]:
    """The key=value pairs of the parenthesised annotation arguments at ``start`` (a '('), and the index after ')'."""
    values: dict[str, str | bool] = {}
    index = start + 1
    while index < len(tokens) and tokens[index].text != ")":
        if index + 2 < len(tokens) and tokens[index + 1].text == "=":
            value = tokens[index + 2].text
            key = tokens[index].text.lower()
            if value.startswith("'"):
                values[key] = _unquote(value)
            elif value.lower() in ("true", "false"):
                values[key] = value.lower() == "true"
            index += 3
        else:
            index += 1
    return values, index + 1


def _declaration(tokens: list[Token], index: int) -> tuple[str, list[str], int]:
    """After modifiers at ``index``: (access, the type-and-name tokens up to ; = { ( ) or }, the index of that token)."""
    access = ""
    while index < len(tokens) and tokens[index].text.lower() in _MODIFIERS:
        word = tokens[index].text.lower()
        if word in ("public", "private", "protected", "global"):
            access = word
        index += 1
    words = []
    while index < len(tokens) and tokens[index].text not in (";", "=", "{", "(", ")", "}"):
        words.append(tokens[index].text)
        index += 1
    return access, words, index


def read_apex(source: str) -> ApexSource:
    """The classes (with their invocable variables) and invocable methods of one Apex file."""
    tokens = _tokens(source)
    classes: dict[str, ApexClass] = {}
    methods: list[InvocableMethod] = []
    stack: list[tuple[str, int]] = []  # (qualified class name, brace depth inside it)
    depth = 0
    pending: tuple[str, dict[str, str | bool], int] | None = None  # annotation waiting for its declaration
    index = 0
    while index < len(tokens):
        token = tokens[index]
        text = token.text
        if text == "@" and index + 1 < len(tokens):
            name = tokens[index + 1].text.lower()
            index += 2
            values: dict[str, str | bool] = {}
            if index < len(tokens) and tokens[index].text == "(":
                values, index = _annotation_values(tokens, index)
            if name in ("invocablevariable", "invocablemethod"):
                pending = (name, values, token.line)
            continue
        if text == "{":
            depth += 1
        elif text == "}":
            depth -= 1
            if stack and depth < stack[-1][1]:
                stack.pop()
        elif text.lower() in _MODIFIERS or text.lower() in ("class", "interface") or (pending and text[0].isalpha()):
            access, words, end = _declaration(tokens, index)
            if words[:1] and words[0].lower() in ("class", "interface") and len(words) > 1:
                qualified = f"{stack[-1][0]}.{words[1]}" if stack else words[1]
                classes[qualified.lower()] = ApexClass(qualified, access, token.line)
                depth += 1
                stack.append((qualified, depth))
                pending = None
                index = end + 1
                continue
            if pending and stack and len(words) >= 2:
                kind, values, line = pending
                type_name = "".join(words[:-1])
                if kind == "invocablevariable" and tokens[end].text in (";", "=", "{"):
                    classes[stack[-1][0].lower()].variables.append(
                        InvocableVariable(words[-1], type_name, values, access, line)
                    )
                elif kind == "invocablemethod" and tokens[end].text == "(":
                    _, parameter, _ = _declaration(tokens, end + 1)
                    methods.append(
                        InvocableMethod(
                            words[-1], values, access, "".join(parameter[:-1]), type_name, line, stack[-1][0]
                        )
                    )
                pending = None
            index = end
            continue
        index += 1
    return ApexSource(classes, methods)
