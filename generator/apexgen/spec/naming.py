"""Apex names and literals: the rules a spec value must meet before it lands in Apex source.

Apex is case-insensitive, so every comparison of names here is too.
"""

from __future__ import annotations

import re

from apexgen.errors import SpecError

# Salesforce "Reserved Keywords" (Apex Developer Guide), lower-cased. Words reserved for future use are
# included: a name that compiles today but breaks in a later release is no better than one that fails now.
RESERVED_WORDS = frozenset(
    [
        "abstract",
        "activate",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "autonomous",
        "begin",
        "bigdecimal",
        "blob",
        "boolean",
        "break",
        "bulk",
        "by",
        "byte",
        "case",
        "cast",
        "catch",
        "char",
        "class",
        "collect",
        "commit",
        "const",
        "continue",
        "convertcurrency",
        "currency",
        "date",
        "datetime",
        "decimal",
        "default",
        "delete",
        "desc",
        "do",
        "double",
        "else",
        "end",
        "enum",
        "exception",
        "exit",
        "export",
        "extends",
        "false",
        "final",
        "finally",
        "float",
        "for",
        "from",
        "future",
        "global",
        "goto",
        "group",
        "having",
        "hint",
        "if",
        "implements",
        "import",
        "in",
        "inner",
        "insert",
        "instanceof",
        "int",
        "integer",
        "interface",
        "into",
        "join",
        "like",
        "limit",
        "list",
        "long",
        "loop",
        "map",
        "merge",
        "new",
        "not",
        "null",
        "nulls",
        "number",
        "object",
        "of",
        "on",
        "or",
        "outer",
        "override",
        "package",
        "parallel",
        "pragma",
        "private",
        "protected",
        "public",
        "retrieve",
        "return",
        "returning",
        "rollback",
        "savepoint",
        "search",
        "select",
        "set",
        "short",
        "sobject",
        "sort",
        "stat",
        "static",
        "string",
        "super",
        "switch",
        "synchronized",
        "system",
        "testmethod",
        "then",
        "this",
        "throw",
        "time",
        "transaction",
        "trigger",
        "true",
        "try",
        "undelete",
        "update",
        "upsert",
        "using",
        "virtual",
        "void",
        "webservice",
        "when",
        "where",
        "while",
    ]
)

# Apex caps class names at 40 characters in the tooling most users meet (the IDEs and the API name field
# of a new class); the documentation is not explicit, so the generator keeps to the stricter figure.
MAX_CLASS_NAME = 40

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


# Flow resource and element API names, which prompts and inputs become, allow at most 80 characters.
MAX_NAME = 80


def identifier_problem(name: str) -> str | None:
    """Why ``name`` is not a valid Apex identifier, or None when it is."""
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME:
        return f"is {len(name)} characters long; names have at most {MAX_NAME}"
    if not name[0].isascii() or not name[0].isalpha():
        return f"'{name}' must start with a letter (A-Z, a-z)"
    if not _IDENTIFIER.match(name):
        return f"'{name}' may contain only letters, digits and underscores"
    if "__" in name:
        return f"'{name}' must not contain two underscores in a row (Salesforce reserves '__')"
    if name.endswith("_"):
        return f"'{name}' must not end with an underscore"
    if name.lower() in RESERVED_WORDS:
        return f"'{name}' is an Apex reserved word"
    return None


def require_identifier(value: str, file: str, key: str) -> None:
    """Raise the spec error naming ``key`` when ``value`` is no usable Apex identifier."""
    problem = identifier_problem(value)
    if problem:
        raise SpecError(file, key, problem)


# Namespaces the platform itself uses in the code apexgen generates or that runs beside it: "c" (the
# default namespace of Lightning components), "schema", "system", "flow", "lightning", "test" (Apex's
# Schema, System, Flow, Test classes; markup's lightning:), "apex", "aura", "force", "ui". A package prefix
# equal to one would shadow them; the platform's full list of refused prefixes is not documented, so apexgen
# refuses these (the safe side) and lets the org refuse any other.
PLATFORM_NAMESPACES = frozenset({"c", "schema", "system", "flow", "lightning", "test", "apex", "aura", "force", "ui"})
MAX_NAMESPACE = 15


def namespace_problem(namespace: str) -> str | None:
    """Why ``namespace`` cannot be a package's namespace prefix, or None."""
    problem = identifier_problem(namespace)
    if namespace.lower() in PLATFORM_NAMESPACES:
        return f"'{namespace}' is a namespace of the platform itself; choose your own prefix"
    if problem:
        return problem
    if len(namespace) > MAX_NAMESPACE:
        return f"must be at most {MAX_NAMESPACE} characters (a Salesforce namespace prefix)"
    return None


def lower_camel(name: str) -> str:
    """``SummarizeCase`` -> ``summarizeCase``; the method and component name of a prompt."""
    return name[:1].lower() + name[1:]


# Characters kept as they are inside Apex string literals: printable ASCII, plus letters of the Latin,
# Greek and Cyrillic blocks that prettier counts as one column wide. Anything else is written as a
# \uXXXX escape, which Salesforce's parser decodes to the same character: the source stays readable for
# most labels, and its width, which decides prettier's line breaks, is exact.
_KEPT = "\u0020-\u007e\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0386-\u03ce\u0400-\u0481\u048a-\u04ff"
# A character written otherwise: a quote or backslash, or one outside _KEPT (one pass over the value).
_ESCAPED = re.compile(f"[\\\\'\\n\\r\\t\\b\\f]|[^{_KEPT}]")
_SIMPLE_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[char]
    encoded = char.encode("utf-16-be")
    return "".join(f"\\u{encoded[i]:02x}{encoded[i + 1]:02x}" for i in range(0, len(encoded), 2))


def apex_string(value: str) -> str:
    """``value`` as an Apex string literal (quotes included) whose runtime value is exactly ``value``."""
    return "'" + _ESCAPED.sub(_escape, value) + "'"


# What prettier-plugin-apex escapes when it prints an annotation string: jorje decodes annotation values
# completely and prettier writes the value back with just these escapes, everything else raw.
_ANNOTATION_ESCAPES = {"\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", "'": "\\'"}

# Characters a label, description or other text of the spec may not hold: control characters other than tab
# and line feed, which Flow Builder cannot show and prettier would write raw into the source (form feed among
# them: XML 1.0 cannot hold it); the carriage return, which the metadata would carry raw while apexgen reads
# its own files back with universal newlines, so every later generate would call them edited; the line and
# paragraph separators; and U+FFFE and U+FFFF, which are not characters (no XML may hold them).
UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be a label, description or other text the generated metadata shows, or None."""
    match = UNPRINTABLE.search(value)
    if match is None:
        return None
    code = ord(match.group())
    if code == 0x0D:
        return "must not contain a carriage return (U+000D); a line break is \\n"
    if code in (0xFFFE, 0xFFFF):
        return f"must not contain U+{code:04X}, which is not a character (no XML file may hold it)"
    return f"must not contain the control character U+{code:04X}"


def annotation_string(value: str) -> str:
    """``value`` as an annotation string literal, written exactly as prettier-plugin-apex prints it."""
    return "'" + "".join(_ANNOTATION_ESCAPES.get(char, char) for char in value) + "'"


# What prettier strips from the end of a comment line: JavaScript's white space (\s), which unlike Python's
# holds U+FEFF; control characters are spaces by then.
_JS_WHITESPACE = (
    " \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\ufeff"
)


def doc_text(value: str) -> list[str]:
    """``value`` as lines safe inside an ApexDoc block comment.

    A comment cannot hold ``*/``, and escapes in it are not decoded, so the text is kept readable
    rather than exact: ``*/`` becomes ``* /``, control characters become spaces, and each line is
    stripped of trailing white space (prettier would strip it).
    """
    lines = []
    for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = re.sub(r"[\x00-\x1f\x7f\u2028\u2029\u0085]", " ", line)
        while "*/" in line:
            line = line.replace("*/", "* /")
        lines.append(line.rstrip(_JS_WHITESPACE))
    while lines and not lines[-1]:
        lines.pop()
    return lines or [""]


def words(name: str) -> str:
    """``SummarizeCase`` -> ``Summarize Case``: the default label of a prompt, input or output."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|_+", " ", name).strip()
    return spaced[:1].upper() + spaced[1:]
