"""XML <-> JS-object round trip exactly as SDR does it with fast-xml-parser 5 (parse) and fast-xml-builder 1
(JsToXml: 4-space indentation), so files SDR regenerates come out byte for byte as sf writes them.

The object model is fast-xml-parser's: an element is a dict (children in first-appearance order, a repeated
child name becomes a list at its first position, attributes as ``@_name`` after the children, text as
``#text``); an element with only text is that string; an empty element is ``""``. Text is trimmed and only the
five XML entities are decoded (numeric character references stay as written, and SDR's builder restores them).
A small scanner builds the model (an XML library would decode ``&#39;``) and checks well-formedness on the way.
Ported from fast-xml-parser 5.12 and fast-xml-builder 1.3 (MIT; licenses in sdr/).
"""

from __future__ import annotations

import re
from typing import Any

from apexgen.untrusted import MAX_NESTING

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
TEXT = "#text"
CDATA = "__cdata"
COMMENT = "#xml__comment"
ATTR = "@_"
XmlObject = dict[str, Any]  # fast-xml-parser's model: str | XmlObject | list of either, per key
Items = list[tuple[str, Any]]

# JavaScript's String.prototype.trim and regex \s (they differ from Python's str.strip and \s).
_JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_JS_S = "[" + re.escape(_JS_SPACE) + "]"
_ENTITY = re.compile(r"&(lt|gt|amp|apos|quot);")
_ENTITY_VALUES = {"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": '"'}
# Whitespace before a token is taken with it (text is trimmed anyway); <tag>text</tag>, the most common
# construct of metadata XML, is one token.
_TOKEN = re.compile(
    r"[ \t\r\n]*(?:<(?P<leaf>[^\s/>!?]+)>(?P<leaftext>[^<]*)</(?P=leaf)>"
    r"|<!--(?P<comment>.*?)-->|<!\[CDATA\[(?P<cdata>.*?)\]\]>|<\?(?P<pi>.*?)\?>|<!(?P<decl>[^>]*)>"
    r"|</(?P<close>[^\s>]+)\s*>|<(?P<open>[^\s/>]+)(?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?P<empty>/?)>)",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(r"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


class XmlError(ValueError):
    """Not well-formed, or a construct SDR's round trip would not keep (DOCTYPE, processing instructions)."""


def js_trim(text: str) -> str:
    return text.strip(_JS_SPACE)


def _decode(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITY_VALUES[m.group(1)], text)


_REFERENCE = re.compile(r"&(?!(?:lt|gt|amp|apos|quot|#\d+|#x[0-9a-fA-F]+);)")


def _fail(text: str, position: int, rule: str) -> XmlError:
    return XmlError(f"not well-formed XML at line {text.count(chr(10), 0, position) + 1}: {rule}")


def parse(data: bytes) -> XmlObject:
    """The document as fast-xml-parser parses it with SDR's options; raises XmlError unless well-formed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise XmlError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    stack: list[tuple[str, XmlObject, Items]] = [("", {}, [])]  # (tag, attributes, items) of each open element
    items = stack[0][2]
    position = 0
    roots = 0
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        if start > position:
            chunk = text[position:start].strip(_JS_SPACE)
            if chunk:
                _check_text(text, position, chunk, len(stack))
                items.append((TEXT, _decode(chunk) if "&" in chunk else chunk))
        position = end
        leaf, leaf_text, comment, cdata, instruction, declaration, close, tag, attributes, empty = match.groups()
        if leaf is not None:
            if len(stack) == 1:
                roots += 1
                if roots > 1:
                    raise _fail(text, start, f"a second root element <{leaf}>")
            leaf_text = leaf_text.strip(_JS_SPACE)
            if "&" in leaf_text:
                _check_text(text, start, leaf_text, 2)
                leaf_text = _decode(leaf_text)
            items.append((leaf, leaf_text))
        elif tag is not None:
            roots += len(stack) == 1
            if roots > 1 and len(stack) == 1:
                raise _fail(text, start, f"a second root element <{tag}>")
            attributes = _attributes(text, start, attributes) if attributes else {}
            if empty:
                items.append((tag, _compress([], attributes)))
            else:
                stack.append((tag, attributes, []))
                items = stack[-1][2]
                if len(stack) > MAX_NESTING + 1:  # what comes next recurses once per level
                    raise _fail(text, start, f"elements nested deeper than {MAX_NESTING} levels")
        elif close is not None:
            if len(stack) == 1 or stack[-1][0] != close:
                expected = f"</{stack[-1][0]}>" if len(stack) > 1 else "no closing tag"
                raise _fail(text, start, f"</{close}> where {expected} belongs")
            tag, attributes, children = stack.pop()
            items = stack[-1][2]
            items.append((tag, _compress(children, attributes)))
        elif comment is not None:
            items.append((COMMENT, comment))
        elif cdata is not None:
            if len(stack) == 1:
                raise _fail(text, start, "CDATA outside the root element")
            items.append((CDATA, cdata))
        elif declaration is not None:
            raise _fail(text, start, "DOCTYPE declarations are not supported")
        elif not instruction.startswith("xml"):
            raise _fail(text, start, "processing instructions are not supported")
    tail = text[position:].strip(_JS_SPACE)
    if tail:
        _check_text(text, position, tail, len(stack))
    if len(stack) > 1:
        raise _fail(text, len(text), f"<{stack[-1][0]}> is never closed")
    if not roots:
        raise _fail(text, 0, "no root element")
    document = _compress(items, {})
    return document if isinstance(document, dict) else {}


def _check_text(text: str, position: int, chunk: str, depth: int) -> None:
    if depth == 1:
        raise _fail(text, position, f"text outside the root element ({chunk[:20]!r})")
    if "<" in chunk:
        raise _fail(text, position + text[position:].index("<"), "a '<' that starts no valid tag")
    if "&" in chunk and _REFERENCE.search(chunk):
        raise _fail(text, position, "an '&' that starts no character or XML entity reference")


def _attributes(text: str, position: int, source: str) -> XmlObject:
    attributes: XmlObject = {}
    for match in _ATTRIBUTE.finditer(source):
        name, double, single = match.groups()
        value = double if double is not None else single
        if ATTR + name in attributes:
            raise _fail(text, position, f"attribute {name} given twice")
        if "<" in value or ("&" in value and _REFERENCE.search(value)):
            raise _fail(text, position, f"attribute {name} holds a '<' or a bare '&'")
        attributes[ATTR + name] = _decode(js_trim(value))
    return attributes


def _compress(items: Items, attributes: XmlObject) -> str | XmlObject:
    """fast-xml-parser's node2json ``compress`` for one element."""
    obj: dict[str, Any] = {}
    text: str | None = None
    for key, value in items:
        if key == TEXT:
            text = value if text is None else text + value
            continue
        if key in obj:
            if not isinstance(obj[key], list):
                obj[key] = [obj[key]]
            obj[key].append(value)
        else:
            obj[key] = value
    if text:
        obj[TEXT] = text
    if attributes:
        obj.update(attributes)
        return obj
    if len(obj) == 1 and text:
        return text
    return obj if obj else ""


# ---- builder (fast-xml-builder with format: true, indentBy 4 spaces, as SDR's JsToXml) ----

_ESCAPES = str.maketrans({"&": "&amp;", ">": "&gt;", "<": "&lt;", "'": "&apos;", '"': "&quot;"})
_NUMERIC_REFERENCE = re.compile(r"&amp;#(x?[\da-fA-F]+);")
_COMMENT_SPACING = re.compile(_JS_S + r"+<!--([^\n\r\u2028\u2029]*?)-->" + _JS_S + "+")
INDENT = "    "


def _safe_comment(text: str) -> str:
    text = text.replace("--", "- -").replace("--", "- -")
    return text[:-1] + "- " if text.endswith("-") else text


def _text_node(value: str, key: str, attributes: str, indent: str) -> str:
    if key == CDATA:
        return f"{indent}<![CDATA[{value.replace(']]>', ']]]]><![CDATA[>')}]]>\n"
    if key == COMMENT:
        return f"{indent}<!--{_safe_comment(value)}-->\n"
    return f"{indent}<{key}{attributes}>{value.translate(_ESCAPES)}</{key}>\n"  # "" gives <key></key>, as there


def _element(obj: XmlObject, key: str, level: int) -> str:
    attributes, value = _j2x(obj, level + 1)
    indent = INDENT * level
    if TEXT in obj and len(obj) == 1:
        return _text_node(obj[TEXT], key, attributes, indent)
    if "<" not in value:  # text only (or nothing): on one line
        return f"{indent}<{key}{attributes}>{value}</{key}>\n"
    return f"{indent}<{key}{attributes}>\n{value}{indent}</{key}>\n"


def _j2x(obj: XmlObject, level: int) -> tuple[str, str]:
    """fast-xml-builder's j2x: (the element's attributes, its content) at indentation ``level``."""
    attributes, parts, indent = "", [], INDENT * level
    for key, value in obj.items():
        if isinstance(value, str):
            if key.startswith(ATTR):
                attributes += f' {key[len(ATTR) :]}="{value.translate(_ESCAPES)}"'
            elif key == TEXT:
                parts.append(value.translate(_ESCAPES))
            else:
                parts.append(_text_node(value, key, "", indent))
        elif isinstance(value, list):
            for item in value:
                parts.append(
                    _element(item, key, level) if isinstance(item, dict) else _text_node(item, key, "", indent)
                )
        else:
            parts.append(_element(value, key, level))
    return attributes, "".join(parts)


def build(obj: XmlObject, restore_references: bool = True) -> str:
    """SDR's JsToXml: declaration, the built XML, numeric references restored, comments pulled tight."""
    xml = XML_DECL + _j2x(obj, 0)[1]
    if restore_references:
        xml = _NUMERIC_REFERENCE.sub(r"&#\1;", xml)
    return _COMMENT_SPACING.sub(r"<!--\1-->", xml) if "<!--" in xml else xml
