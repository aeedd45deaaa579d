"""Which of apex-ls' findings are deploy blockers: how certain apex-ls is of each message.

apex-ls models the platform from its own type library (standard-types 65): it knows the language, the
sObjects by name and the ``aiplatform`` namespace well, but not every platform type (DataWeave,
``Flow.Interview.*``, ``System.Quiddity.UNDEFINED``, ...), some it knows wrongly (``Cache.SessionPartition``
is a ``Cache.Partition`` on the platform), and none of an installed package's. So a finding is a deploy
blocker only where apex-ls is certain: it is about the project's own code and every type it names is one
apex-ls models exactly (the project's own, the primitives and collections, sObjects, ``aiplatform``).
A name the project does not define (and does not mean as its own) is one the target org must provide
(``required_names``, ``apexgen.check.dependencies``); what apex-ls judged while it could not type such a
name, it judged without knowing it. The others are rule findings ("moderate": the org decides).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from apexgen.check.findings import BLOCKER, ProjectFiles

UNCERTAIN = "moderate"
# The platform types apex-ls models exactly, besides the project's own: primitives and collections
# (bare or in System), every sObject (Schema), and the Models API (aiplatform, all 43 of its classes).
EXACT_SYSTEM_TYPES = {
    "string",
    "integer",
    "long",
    "decimal",
    "double",
    "boolean",
    "date",
    "datetime",
    "time",
    "id",
    "blob",
    "object",
    "list",
    "set",
    "map",
    "sobject",
    "void",
}
EXACT_NAMESPACES = {"schema", "aiplatform"}
_TYPE_CHAIN = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# Message shapes whose quoted names are the types the verdict depends on.
_NAMED_TYPES = (
    re.compile(r"No type declaration found for '([^']+)'"),
    re.compile(r" on '([^']+)'"),
    re.compile(r"from '([^']+)' to '([^']+)'"),
    re.compile(r"'([^']+)' is not assignable to '([^']+)'"),
    re.compile(r"Constructor not defined: ([\w.]+)\.<constructor>"),
    re.compile(r"must implement method '([\w.<>, ]+?) \w+\(([^)]*)\)' from interface '([^']+)'"),
    re.compile(r"Comparing incompatible types '([^']+)' and '([^']+)'"),
)
# Argument types of a call apex-ls found no match for. 'Object' there is what apex-ls says of an expression
# it could not type (e.g. a platform field it does not know), so it makes the verdict uncertain too.
_ARGUMENTS = (re.compile(r"taking arguments '([^']*)'"), re.compile(r"<constructor>\(([^)]*)\)"))
UNTYPED = {"object", "system.object"}
_UNKNOWN_NAME = re.compile(r"No variable or type found for '([^']+)'")
_SOBJECT_FIELD = re.compile(r"Unknown field '([^']+)' on SObject '(?:Schema\.)?([^']+)'")
_EXCEPTION_NAME = re.compile(r"Exception class '([^']+)' must extend another Exception class")
_SPLIT_OBJECT = re.compile(
    r"Components of type '(?:Schema\.)?([^']+)' are defined, but the required object-meta.xml file is missing"
)
# The project's file layout as apex-ls judges it: two files defining one type (in two package directories,
# or Obj.object beside Obj/Obj.object-meta.xml), or a source file without its -meta.xml. The converter (as sf's)
# deploys one component of duplicates (it warns which) and the meta check reports a missing -meta.xml itself:
# the org never sees two.
_LAYOUT = re.compile(
    r"Duplicate for type|is defined, but duplicate (?:object-meta\.xml files|metadata) found|"
    r"is defined, but meta file is missing"
)
# Messages that say a name is missing, and what kind of name it is.
_MISSING_TYPE = re.compile(r"No type declaration found for '([^']+)'")
_MISSING_SOBJECT = (
    re.compile(r"SObject appears to be extending an unknown SObject, '(?:Schema\.)?([^']+)'"),
    re.compile(r"Lookup object (?:Schema\.)?(\w+) does not exist"),
    re.compile(r"Unknown field or type '(\w+)' on 'Schema\.SObjectType'"),
)
# The API name of a custom sObject (or of a platform event, custom metadata type, ...).
_CUSTOM_SOBJECT = re.compile(r"__(?:c|mdt|e|x|b|kav)$", re.IGNORECASE)
# A custom component of a namespace: ns__Name__c.
_NAMESPACED = re.compile(r"^([A-Za-z]\w*?)__\w+__[A-Za-z]+$")
_MEMBER_OF = re.compile(r"(?:No matching method found for|Unknown field or type) '(\w+)' on '([^']+)'")
_CALLED_WITH = re.compile(r"taking arguments '([^']*)', wrong argument types for calling '[^(]*\(([^)]*)\)'")
_NO_CONSTRUCTOR = re.compile(r"No constructor defined with \d+ arguments")
_CONTEXT = re.compile(r" on '([^']+)'")
_UNKNOWN_MEMBER = re.compile(r"Unknown field or type '(\w+)' on '")
# A call to (or an implementation of) a method of the project's type: judged by apex-ls' reading of that type.
_CALLED_TYPE = re.compile(
    r"No matching method found for '(\w+)' on '([^']+)'|Constructor not defined: ([\w.]+)\.<constructor>"
)
_MUST_IMPLEMENT = re.compile(r"must implement method .* from interface '([^']+)'")
# apex-ls' hedged advice ("Overriding a private method may not work"): the platform compiles such code.
_NOT_VISIBLE = re.compile(r"is not visible: ([\w.]+)\.(?:<constructor>|\w+)")
_HEDGED = re.compile(r"\bmay not work\b")
_STATIC_CALL = re.compile(r"No matching method found for '(\w+)' on '([^']+)'.* trying to call the instance method")
_GENERIC_PARAMETER = re.compile(
    r"taking arguments '([^']*)', wrong argument types for calling '[^(]*\(([^)]*<[^)]*)\)'"
)
_RELATED_FIELD = re.compile(r"Related field '(?:Schema\.)?(\w+)\.(\w+)' required by .* is not defined")
# A class or interface declaration, and what follows its name up to its body (extends, implements).
_DECLARATION = re.compile(r"\b(?:class|interface)\s+(\w+)([^{;]*)\{", re.IGNORECASE)
_HEADER_WORDS = {"extends", "implements"}
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
OBJECT_META = ".object-meta.xml"


class ProjectTypes:
    """The names (lower case) of the Apex types and sObjects the project defines, and of the types apex-ls
    reported missing (``missing``: the target org must provide them)."""

    def __init__(self, project: ProjectFiles):
        self.namespace = (project.namespace or "").lower()
        self.apex = {path.stem.lower() for path in project.apex_files()}
        stems = Counter(path.stem.lower() for path in project.apex_files())
        self.duplicates = {stem for stem, count in stems.items() if count > 1}  # defined by two files
        self.objects = {
            path.name[: -len(OBJECT_META)].lower() for path in project.files(lambda n: n.endswith(OBJECT_META))
        }
        self.missing: set[str] = set()
        self.untyped_files: set[Path] = set()  # files where apex-ls reported a missing name
        self._files = project.apex_files()
        self._project = project
        self._sources = {path.stem.lower(): path for path in self._files}
        self._parents: dict[str, set[str]] | None = None
        self._identifiers: dict[Path, set[str]] = {}
        self._texts: dict[Path, str] = {}

    def parents(self) -> dict[str, set[str]]:
        """Each class or interface of the project (inner ones by their own name) -> the types it extends or
        implements (lower case), read from its declaration."""
        if self._parents is None:
            self._parents = {}
            for path in self._files:
                source = path.read_text("utf-8", errors="replace")
                for declared, header in _DECLARATION.findall(source):
                    chains = {chain.lower() for chain in _TYPE_CHAIN.findall(header)} - _HEADER_WORDS
                    self._parents.setdefault(declared.lower(), set()).update(chains)
        return self._parents

    def inherits_missing(self, name: str) -> bool:
        """Whether the project's type ``name`` extends or implements, at any depth, a type apex-ls reported
        missing: apex-ls then does not know all its members."""
        seen: set[str] = set()
        pending = [self.own(name)[-1]]
        while pending:
            for parent in self.parents().get(pending.pop(), set()) - seen:
                seen.add(parent)
                if parent.split(".")[0] in self.missing or parent in self.missing:
                    return True
                pending.append(self.own(parent)[-1])
        return False

    def file_extends(self, path: Path, type_name: str) -> bool:
        """Whether a class declared in the file at ``path`` extends the type ``type_name``, at any depth."""
        wanted = self.own(type_name)[-1]
        pending = [declared.lower() for declared, _ in _DECLARATION.findall(self.text(path))]
        seen: set[str] = set()
        while pending:
            for parent in self.parents().get(pending.pop(), set()) - seen:
                seen.add(parent)
                if self.own(parent)[-1] == wanted:
                    return True
                pending.append(self.own(parent)[-1])
        return False

    def file_inherits_missing(self, path: Path) -> bool:
        """Whether a class or interface declared in the file at ``path`` inherits from a missing type."""
        return any(self.inherits_missing(declared) for declared, _ in _DECLARATION.findall(self.text(path)))

    def defines_field(self, sobject: str, field: str) -> bool:
        """Whether the project defines the field: a fields/FIELD.field-meta.xml of the object's folder, or a
        <fields> entry of its .object file (metadata format)."""
        lower, name = sobject.lower(), field.lower()
        for path in self._project.files(lambda n: n.lower() in (f"{name}.field-meta.xml", f"{lower}.object")):
            if path.name.lower() == f"{lower}.object":
                source = path.read_text("utf-8", errors="replace").lower()
                if f"<fullname>{name}</fullname>" in source:
                    return True
            elif path.parent.parent.name.lower() == lower:
                return True
        return False

    def untyped(self, type_name: str, method: str | None = None) -> bool:
        """Whether the source of the project's type ``type_name`` (declaring ``method``, when named) is one
        where apex-ls reported a missing name."""
        path = self._sources.get(self.own(type_name)[0])
        if path not in self.untyped_files:
            return False
        return method is None or self.declares(path, method)

    def text(self, path: Path) -> str:
        """The content of the file at ``path`` (read once)."""
        if path not in self._texts:
            self._texts[path] = path.read_text("utf-8", errors="replace") if path.is_file() else ""
        return self._texts[path]

    def statement_lines(self, path: Path, line: int) -> range:
        """The lines (1-based) of the statement that starts at ``line`` of the file at ``path``: up to the line
        that ends it (a ';', '{' or '}'), at most 50."""
        lines = self.text(path).splitlines()
        end = line
        while end < min(len(lines), line + 50) and not re.search(r"[;{}]", lines[end - 1]):
            end += 1
        return range(line, end + 1)

    def declared_nowhere(self, message: str) -> bool:
        """Whether ``message`` is about a missing method or member of a project type that no file defining the
        type declares (by name)."""
        member = _MEMBER_OF.search(message)
        if member is None:
            return False
        stem = self.own(member[2])[0]
        return not any(self.declares(path, member[1]) for path in self._files if path.stem.lower() == stem)

    def declares(self, path: Path, member: str) -> bool:
        """Whether the file at ``path`` declares a method, property or field named ``member``: a type before
        the name (a call or a use has a dot, or nothing of the kind, there)."""
        declared = rf"(?<![\w.])(?!return\b|new\b|else\b)[\w>\]]+\s+{re.escape(member)}\s*[(;=,{{]"
        return bool(re.search(declared, self.text(path), re.IGNORECASE))

    def declares_static_method(self, type_name: str, method: str) -> bool:
        """Whether the source of the project's type ``type_name`` declares a static method named ``method``."""
        path = self._sources.get(self.own(type_name)[0])
        source = self.text(path) if path else ""
        return bool(re.search(rf"\bstatic\b[^;{{}}=]*\b{re.escape(method)}\s*\(", source, re.IGNORECASE))

    def implements_any(self, type_names: list[str], interfaces: list[str]) -> bool:
        """Whether one of the project's types ``type_names`` extends or implements one of ``interfaces``
        (compared by their last part, without type arguments)."""
        wanted = {name.lower().split(".")[-1] for name in interfaces}
        return any(
            parent.split(".")[-1] in wanted
            for name in type_names
            for parent in self.parents().get(self.own(name)[-1], set())
        )

    def inheritable(self, name: tuple[str, str]) -> bool:
        """Whether a name (kind, name) apex-ls reported missing may be an inner type or member of a parent it
        cannot see: a bare Apex name that no type of the project extends or implements (those are types)."""
        kind, text = name
        parents = {parent for names in self.parents().values() for parent in names}
        return kind == "apex" and "." not in text and text.lower() not in parents

    def identifiers(self, path: Path) -> set[str]:
        """Every identifier of the file at ``path`` (lower case)."""
        if path not in self._identifiers:
            self._identifiers[path] = {name.lower() for name in _IDENTIFIER.findall(self.text(path))}
        return self._identifiers[path]

    def own(self, name: str) -> list[str]:
        """``name``'s parts, lower case, without the project's own namespace."""
        parts = name.lower().split(".")
        return parts[1:] if self.namespace and len(parts) > 1 and parts[0] == self.namespace else parts

    def exact(self, name: str) -> bool:
        """Whether apex-ls models the type ``name`` exactly (see the module's docstring): a custom sObject only
        when the project defines it (one of a package is the org's)."""
        parts = self.own(name)
        if parts[:2] == ["flow", "interview"]:
            return False  # the platform's namespace, whatever class of the project is named Flow
        if parts[0] in self.apex:
            return not self.inherits_missing(name)
        if parts[-1] in EXACT_SYSTEM_TYPES and parts[:-1] in ([], ["system"]):
            return True
        if parts[:1] == ["schema"] and len(parts) == 2 and _CUSTOM_SOBJECT.search(parts[1]):
            return self.own_object(parts[1])
        return len(parts) > 1 and parts[0] in EXACT_NAMESPACES

    def own_object(self, name: str) -> bool:
        """Whether the sObject ``name`` (with or without the project's namespace prefix) is the project's."""
        lower = name.lower()
        if self.namespace and lower.startswith(f"{self.namespace}__"):
            lower = lower[len(self.namespace) + 2 :]
        return lower in self.objects

    def own_object_name(self, name: str) -> bool:
        """Whether the sObject ``name`` is meant as one of the project's own: it is, it carries the project's
        namespace, or it is close to one of its sObjects (a typo)."""
        import difflib

        lower = name.lower()
        if self.own_object(lower) or (self.namespace and lower.startswith(f"{self.namespace}__")):
            return True
        return bool(difflib.get_close_matches(lower, self.objects, n=1, cutoff=0.85))

    def foreign_namespace(self, name: str) -> str | None:
        """The namespace prefix of a custom component name (ns__Name__c) when it is not the project's."""
        prefix = _NAMESPACED.match(name)
        return prefix[1] if prefix and prefix[1].lower() != self.namespace else None

    def own_name(self, name: str) -> bool:
        """Whether ``name`` (the first part of a dotted name) is meant as one of the project's own: it carries
        the project's namespace, or is a type of the project's or close to one (a typo)."""
        import difflib

        first = name.split(".")[0].lower()
        if self.namespace and (first == self.namespace or first.startswith(f"{self.namespace}__")):
            return True
        close = difflib.get_close_matches(first, self.apex, n=1, cutoff=0.85)
        # The same name behind another prefix (fsc_lookupController beside the project's mc_lookupController)
        # is another package's class, by the prefix convention of unmanaged packages: not a typo.
        if close and "_" in first and "_" in close[0] and first.split("_", 1)[1] == close[0].split("_", 1)[1]:
            return False
        return first in self.apex or bool(close)

    def own_custom_field(self, sobject: str, field: str) -> bool:
        """Whether ``field`` is a custom field (of no other namespace) of an sObject the project defines."""
        parts = self.own(field.replace("__", "."))  # ns__Field__c -> ns.field.c
        return sobject.lower() in self.objects and field.lower().endswith("__c") and len(parts) == 2


def certainty(message: str, file: Path, types: ProjectTypes, line: int = 0) -> str | None:
    """BLOCKER when apex-ls is certain of ``message`` about ``file``, UNCERTAIN when it may be wrong,
    None when it is wrong for certain (a split object whose object-meta.xml the project has)."""
    split = _SPLIT_OBJECT.search(message)
    if split:
        return None if split[1].lower() in types.objects else UNCERTAIN  # else the object may be in the org
    if _LAYOUT.search(message):
        return UNCERTAIN
    field = _SOBJECT_FIELD.search(message)
    if field:
        return BLOCKER if types.own_custom_field(field[2], field[1]) else UNCERTAIN
    hidden = _NOT_VISIBLE.search(message)
    if hidden and types.file_extends(file, hidden[1]):
        # A protected member used from a subclass, or from an inner class of one: apex-ls hides it where the
        # platform does not.
        return UNCERTAIN
    if _HEDGED.search(message):
        return "low"
    # A method or constructor of a type whose source names types apex-ls reported missing, or a class that
    # implements one there: apex-ls cannot match their signatures.
    called = _CALLED_TYPE.search(message)
    if called and types.untyped(called[2] or called[3], called[1]):
        return UNCERTAIN
    implemented = _MUST_IMPLEMENT.search(message)
    if implemented and (file in types.untyped_files or types.untyped(implemented[1])):
        return UNCERTAIN
    related = _RELATED_FIELD.search(message)
    if related:
        if types.defines_field(related[1], related[2]):
            return None  # apex-ls misses fields of some kinds (roll-up summaries) that the project defines
        return BLOCKER if types.own_object(related[1]) else UNCERTAIN
    called_with = _CALLED_WITH.search(message)
    if called_with:
        arguments, parameters = (set(_TYPE_CHAIN.findall(group)) for group in called_with.groups())
        if any(a != b and a.split(".")[-1] == b.split(".")[-1] for a in arguments for b in parameters):
            # 'Request[]' read as System.Request where the class's own inner Request is meant: apex-ls resolved
            # a name to the platform's type of that name; the platform takes the inner one.
            return UNCERTAIN
    generic = _GENERIC_PARAMETER.search(message)
    if generic and types.implements_any(_TYPE_CHAIN.findall(generic[1]), re.findall(r"([\w.]+)<", generic[2])):
        # An argument of the project's type implementing a parameterised interface (a Comparator<SObject>
        # passed where a Comparator<Contact> is asked): apex-ls relates the type arguments more strictly than
        # the platform does.
        return UNCERTAIN
    static = _STATIC_CALL.search(message)
    if static and types.declares_static_method(static[2], static[1]):
        # apex-ls matches a static call against the instance method of Object it shadows (equals, hashCode):
        # the platform calls the static method the project declares.
        return UNCERTAIN
    exception = _EXCEPTION_NAME.search(message)
    if exception:
        # apex-ls applies the rule to interfaces too; the platform does not (NebulaLogger shadows System
        # exceptions with interfaces of their names).
        source = file.read_text("utf-8", errors="replace") if file.is_file() else ""
        declared_interface = re.search(rf"\binterface\s+{re.escape(exception[1])}\b", source, re.IGNORECASE)
        return UNCERTAIN if declared_interface else BLOCKER
    unknown = _UNKNOWN_NAME.search(message) or _MISSING_TYPE.search(message)
    if unknown and types.own(unknown[1])[0] in types.apex:
        return UNCERTAIN  # a type the project defines, which apex-ls did not load: the deploy takes it
    named = _TYPE_CHAIN.findall(message)
    if _NO_CONSTRUCTOR.search(message) and 0 < line <= len(lines := types.text(file).splitlines()):
        named += re.findall(r"\bnew\s+([\w.]+)\s*\(", lines[line - 1])  # the message names no type: the line does
    duplicated = [chain for chain in named if types.own(chain)[0] in types.duplicates]
    if duplicated and not types.declared_nowhere(message):
        # A type two files of the project define (in two package directories): apex-ls judged against one,
        # the deploy takes the last (as sf does), and a project of packages deploys each alone. A member no
        # definition has is missing whichever is taken.
        return UNCERTAIN
    unknown = _UNKNOWN_NAME.search(message)
    member = " on '" in message and not unknown[1][:1].isupper() if unknown else False  # a field of a type
    if unknown and not member and not types.own_name(unknown[1]):
        # A name the project does not define may be a type or namespace of the platform or of a package the
        # target org has installed (fflib_*, di_* from a CI's install), whatever its case; a name close to one
        # of the project's own types, or carrying the project's namespace, is the project's own mistake.
        return UNCERTAIN
    for shape in _ARGUMENTS:
        for arguments in shape.findall(message):
            chains = _TYPE_CHAIN.findall(arguments)
            if any(chain.lower() in UNTYPED or not types.exact(chain) for chain in chains):
                return UNCERTAIN
    for shape in _NAMED_TYPES:
        for named in shape.findall(message):
            for name in (named,) if isinstance(named, str) else named:
                if not all(types.exact(chain) for chain in _TYPE_CHAIN.findall(name)):
                    return UNCERTAIN
    return BLOCKER


def required_names(message: str, types: ProjectTypes, file: Path | None = None) -> list[tuple[str, str]]:
    """The names (kind, name) that ``message`` says are missing, when each is one the target org must provide
    (``apexgen.check.dependencies``); none when it says something else, or names one meant as the project's own
    (which stays a blocker)."""
    sobjects = [found[1] for shape in (_SPLIT_OBJECT, *_MISSING_SOBJECT) if (found := shape.search(message))]
    if sobjects:
        return [] if types.own_object_name(sobjects[0]) else [("sobject", sobjects[0])]
    missing = _MISSING_TYPE.search(message)
    if missing:
        names = []
        for chain in _TYPE_CHAIN.findall(missing[1]):
            parts = chain.split(".")
            name = parts[1] if len(parts) >= 2 and parts[0].lower() == "schema" else chain
            if _CUSTOM_SOBJECT.search(name):
                if types.own_object_name(name):
                    return []
                names.append(("sobject", name))
            elif not types.exact(chain):
                if types.own_name(chain):
                    return []
                names.append(("apex", chain))
        return names
    unknown = _UNKNOWN_NAME.search(message) or _SOBJECT_FIELD.search(message) or _UNKNOWN_MEMBER.search(message)
    if unknown is None:
        return []
    namespace = types.foreign_namespace(unknown[1])
    if namespace:  # a field (or type) of another namespace's package
        return [("namespace", namespace)]
    if _SOBJECT_FIELD.search(message):
        return []  # a field of an sObject: judged where it is (certainty)
    import difflib

    name = unknown[1]
    if types.own_name(name) or _UNKNOWN_MEMBER.search(message):
        return []
    if " on '" in message:
        # A bare name apex-ls found neither as a variable nor as a type where it is used ('on' the enclosing
        # type), or a field of an expression's type: a type (or namespace) of a package only when the first,
        # used with a dot after it (di_Injector.Org, omnistudio.Service), and close to no other name of the
        # file; else an undeclared or misspelt variable: a blocker.
        context = _CONTEXT.search(message)
        if not _UNKNOWN_NAME.search(message) or file is None or not context:
            return []
        if types.own(context[1])[0] not in types.apex:  # a member of a platform type or an sObject
            return []
        if not re.search(rf"\b{re.escape(name)}\s*\.", types.text(file), re.IGNORECASE):
            return []
        others = types.identifiers(file) - {name.lower()}
        if difflib.get_close_matches(name.lower(), others, n=1, cutoff=0.85):
            return []
    if _CUSTOM_SOBJECT.search(name):
        # A bare custom name apex-ls could not find as a variable: a field set in the constructor of an
        # sObject it could not type (new Pkg__c(Status__c = 'Open')), not an sObject: it stays uncertain.
        return []
    return [("apex", name)]
