"""Test results and coverage as the files CI servers read: JUnit XML and Cobertura XML."""

from __future__ import annotations

import time

from apexgen import __version__
from apexgen.org.results import TestOutcome, TestRunResult
from apexgen.report.summary import SourceMap, total_coverage


def junit_xml(tests: TestRunResult | None, suite_name: str) -> bytes:
    """JUnit XML as Jenkins, GitLab and GitHub test reporters read it: one <testsuite> per Apex test class."""
    from lxml import etree

    tests = tests or TestRunResult()
    root = etree.Element(
        "testsuites",
        name=suite_name,
        tests=str(len(tests.tests)),
        failures=str(len(tests.failures)),
        errors="0",
        time=f"{tests.total_time_ms / 1000:.3f}",
    )
    by_class: dict[str, list[TestOutcome]] = {}
    for test in tests.tests:
        by_class.setdefault(test.class_name, []).append(test)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    for class_name in sorted(by_class):
        cases = by_class[class_name]
        suite = etree.SubElement(
            root,
            "testsuite",
            name=class_name,
            tests=str(len(cases)),
            failures=str(sum(not c.passed for c in cases)),
            errors="0",
            skipped="0",
            time=f"{sum(c.time_ms for c in cases) / 1000:.3f}",
            timestamp=stamp,
        )
        for case in sorted(cases, key=lambda c: c.method_name):
            element = etree.SubElement(
                suite, "testcase", name=case.method_name, classname=class_name, time=f"{case.time_ms / 1000:.3f}"
            )
            if not case.passed:
                message = case.message or "failed"
                failure = etree.SubElement(element, "failure", message=message, type=message.split(":")[0])
                failure.text = "\n".join(filter(None, [message, case.stack_trace]))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def cobertura_xml(tests: TestRunResult | None, sources: SourceMap, source_root: str) -> bytes:
    """Cobertura XML (coverage-04.dtd). A deploy reports only uncovered lines, so its <lines> hold those
    (hits 0) and the rates come from the org's counts; a Tooling test run also lists the covered lines."""
    from lxml import etree

    tests = tests or TestRunResult()
    classes = sorted(tests.coverage, key=lambda c: c.name)
    covered, total, percent = total_coverage(classes)
    root = etree.Element(
        "coverage",
        {
            "line-rate": f"{percent / 100:.4f}",
            "branch-rate": "0",
            "lines-covered": str(covered),
            "lines-valid": str(total),
            "branches-covered": "0",
            "branches-valid": "0",
            "complexity": "0",
            "version": f"apexgen {__version__}",
            "timestamp": str(int(time.time() * 1000)),
        },
    )
    etree.SubElement(etree.SubElement(root, "sources"), "source").text = source_root
    package = etree.SubElement(
        etree.SubElement(root, "packages"),
        "package",
        {"name": "apex", "line-rate": f"{percent / 100:.4f}", "branch-rate": "0", "complexity": "0"},
    )
    class_list = etree.SubElement(package, "classes")
    for cls in classes:
        element = etree.SubElement(
            class_list,
            "class",
            {
                "name": cls.name,
                "filename": sources.apex(cls.name, cls.type),
                "line-rate": f"{cls.percent / 100:.4f}",
                "branch-rate": "0",
                "complexity": "0",
            },
        )
        etree.SubElement(element, "methods")
        lines = etree.SubElement(element, "lines")
        hits = dict.fromkeys(cls.uncovered_lines, 0)
        hits.update(dict.fromkeys(cls.covered_lines or [], 1))
        for line in sorted(hits):
            etree.SubElement(lines, "line", number=str(line), hits=str(hits[line]), branch="false")
    document = etree.tostring(root, encoding="unicode", pretty_print=True)
    return (
        '<?xml version="1.0" ?>\n'
        '<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">\n' + document
    ).encode("utf-8")
