"""The parts of the converter that reproduce JavaScript libraries the sf CLI uses. Every expected value here was
produced by that library itself (fast-xml-parser 5.12 / fast-xml-builder 1.3 as SDR 12.37.2 configures them,
node-ignore 5.3, V8's localeCompare), run under Node 22 from the sf CLI 2.146.3 install."""

from __future__ import annotations

import pytest

from apexgen.convert import sdr_xml
from apexgen.convert.collation import locale_key
from apexgen.project.forceignore import IgnoreRules

TRICKY_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- top -->\n<A xmlns="u" xmlns:xsi="x">\n'
    "  <b>1 &amp; 2 &#39;q&#39; &apos; &quot;</b>\n  <c/>\n"
    '  <d x="1">t</d><d x="2"/><e><![CDATA[ a<b ]]></e>\n <!-- inner -->\n'
    "  <b>  2  </b>\n <f><g>1</g> mixed <h/></f><i></i><j>\n</j>\n</A>\n"
)
# SDR's JsToXml(parser.parse(TRICKY_XML)): repeated elements grouped at their first place, text trimmed,
# numeric references kept, quotes escaped, comments pulled against their neighbours, mixed text last.
TRICKY_XML_AS_SDR_WRITES_IT = (
    '<?xml version="1.0" encoding="UTF-8"?><!-- top --><A xmlns="u" xmlns:xsi="x">\n'
    "    <b>1 &amp; 2 &#39;q&#39; &apos; &quot;</b>\n    <b>2</b>\n    <c></c>\n"
    '    <d x="1">t</d>\n    <d x="2"></d>\n    <e>\n        <![CDATA[ a<b ]]>\n    </e><!-- inner --><f>\n'
    "        <g>1</g>\n        <h></h>\nmixed    </f>\n    <i></i>\n    <j></j>\n</A>\n"
)


def test_xml_round_trips_as_sdr_writes_it() -> None:
    parsed = sdr_xml.parse(TRICKY_XML.encode())
    assert parsed["A"]["b"] == ["1 & 2 &#39;q&#39; ' \"", "2"]
    assert parsed["A"]["d"] == [{"#text": "t", "@_x": "1"}, {"@_x": "2"}]
    assert sdr_xml.build(parsed) == TRICKY_XML_AS_SDR_WRITES_IT


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        (b"<a><b></a>", "line 1: </a> where </b> belongs"),
        (b"<a>\n<b>", "line 2: <b> is never closed"),
        (b"<a/><b/>", "a second root element <b>"),
        (b"<a>x < y</a>", "a '<' that starts no valid tag"),
        (b"<a>AT&T</a>", "an '&' that starts no character or XML entity reference"),
        (b'<a b="1" b="2"/>', "attribute b given twice"),
        (b"<!DOCTYPE a><a/>", "DOCTYPE declarations are not supported"),
        (b"\xff<a/>", "not UTF-8"),
    ],
)
def test_broken_xml_is_refused_with_the_rule(document: bytes, rule: str) -> None:
    with pytest.raises(sdr_xml.XmlError, match=rule):
        sdr_xml.parse(document)


def test_children_sort_as_javascripts_locale_compare_sorts() -> None:
    words = ["a_b", "ab", "aB", "Ab", "AB", "a-b", "a1", "a.b", "A_b", "zeta", "Zeta", "_x", "1x", "x1", "X1", "a b",
             "a$b", "a~b", "Log__c", "LogEntry__c", "Log_Entry__c", "a", "A", "aa", "éa", "ea", "Ea", "z", "b__c",
             "b_c", "bc"]  # fmt: skip
    assert sorted(words, key=locale_key) == [
        "_x", "1x", "a", "A", "a b", "a_b", "A_b", "a-b", "a.b", "a~b", "a$b", "a1", "aa", "ab", "aB", "Ab", "AB",
        "b__c", "b_c", "bc", "ea", "Ea", "éa", "Log__c", "Log_Entry__c", "LogEntry__c", "x1", "X1", "z", "zeta",
        "Zeta",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("patterns", "path", "ignored"),
    [
        ("**/__tests__/**", "force-app/lwc/a/__tests__/a.test.js", True),
        ("**/__tests__/**", "force-app/lwc/a/__tests__", False),
        ("**/jsconfig.json", "force-app/lwc/JSConfig.json", True),  # node-ignore ignores case
        ("*.ts", "a/b/c.ts", True),
        ("/force-app/x", "force-app/x/y.cls", True),
        ("/force-app/x", "other/force-app/x", False),
        ("docs/*.md", "docs/a.md", True),
        ("docs/*.md", "docs/sub/a.md", False),
        ("a/**/b", "a/x/y/b", True),
        ("a/**/b", "a/b", True),
        ("classes/", "force-app/classes/A.cls", True),
        ("classes/", "force-app/classes", False),
        ("**/.*", "force-app/lwc/a/.eslintrc.json", True),
        ("!x.cls\n*.cls", "x.cls", True),
        ("*.cls\n!x.cls", "x.cls", False),
        ("*.cls\n!x.cls", "y.cls", True),
        ("foo?", "foo1", True),
        ("[ab]*.cls", "b1.cls", True),
        ("[ab]*.cls", "c1.cls", False),
    ],
)
def test_forceignore_rules_match_as_node_ignore_matches(patterns: str, path: str, ignored: bool) -> None:
    assert IgnoreRules(patterns.split("\n")).ignores(path) is ignored


def test_the_registry_ships_with_its_license_and_release() -> None:
    from apexgen.convert.registry import DATA, Registry, sdr_version

    registry = Registry.load()
    assert sdr_version() == "12.37.2"  # the SDR of @salesforce/cli 2.146.3, which tests/convert_cases came from
    assert "Apache License" in (DATA / "LICENSE-source-deploy-retrieve.txt").read_text()
    assert registry.type_by_suffix("cls") is registry.types["apexclass"]
    assert registry.type_by_name("CustomField") is registry.types["customobject"]["children"]["types"]["customfield"]
    assert registry.parent_type("CustomLabel") is registry.types["customlabels"]
