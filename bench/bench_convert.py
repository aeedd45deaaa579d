"""Benchmark: apexgen's source -> Metadata API conversion against `sf project convert source`, same tree, one run.

    python bench/bench_convert.py [--classes 2000] [--bundles 200] [--repeat 3] [--sf PATH]

Generates an SFDX project shaped like apexgen output (services + @IsTest classes, LWC bundles with jest tests
left out by .forceignore) in a temporary folder, converts it with both tools, checks that both package.xml
files list the same members, and prints the median wall times. Exits 1 when the members differ or apexgen is
less than 5x faster. `sf` must be installed (see README: benchmark set-up); it is found on PATH or via --sf.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generator"))  # the source root

from apexgen.convert import deploy_zip  # noqa: E402

SERVICE = """/**
 * @description Generated service {index}: calls the Models API and parses the answer.
 */
public with sharing class {name} {{
    private final ModelsClient client;

    public {name}() {{
        this(new ModelsClient());
    }}

    public {name}(ModelsClient client) {{
        this.client = client;
    }}

    public String summarize(String text) {{
        if (String.isBlank(text)) {{
            throw new IllegalArgumentException('text is required');
        }}
        String prompt = 'Summarize in one sentence: ' + text;
        return client.generate('sfdc_ai__DefaultGPT4OmniMini', prompt).trim();
    }}
}}
"""
TEST = """@IsTest
private class {name}Test {{
    @IsTest
    static void summarizesText() {{
        Test.startTest();
        String summary = new {name}(new ModelsClientStub('short')).summarize('a long text');
        Test.stopTest();
        Assert.areEqual('short', summary, 'summary from the stub');
    }}

    @IsTest
    static void rejectsBlankText() {{
        try {{
            new {name}(new ModelsClientStub('x')).summarize('');
            Assert.fail('expected IllegalArgumentException');
        }} catch (IllegalArgumentException e) {{
            Assert.areEqual('text is required', e.getMessage(), 'message');
        }}
    }}
}}
"""
CLASS_META = """<?xml version="1.0" encoding="UTF-8"?>
<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>63.0</apiVersion>
    <status>Active</status>
</ApexClass>
"""
LWC_JS = """import {{ LightningElement, api }} from 'lwc';
import summarize from '@salesforce/apex/{controller}.summarize';

export default class {cls} extends LightningElement {{
    @api recordId;
    summary;
    error;

    async handleClick() {{
        try {{
            this.summary = await summarize({{ text: this.template.querySelector('textarea').value }});
        }} catch (error) {{
            this.error = error.body ? error.body.message : error.message;
        }}
    }}
}}
"""
LWC_HTML = """<template>
    <lightning-card title="Summary">
        <textarea></textarea>
        <lightning-button label="Summarize" onclick={handleClick}></lightning-button>
        <p lwc:if={summary}>{summary}</p>
    </lightning-card>
</template>
"""
LWC_META = """<?xml version="1.0" encoding="UTF-8"?>
<LightningComponentBundle xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>63.0</apiVersion>
    <isExposed>true</isExposed>
    <targets>
        <target>lightning__RecordPage</target>
    </targets>
</LightningComponentBundle>
"""


def generate(root: Path, classes: int, bundles: int) -> None:
    (root / "sfdx-project.json").write_text(
        json.dumps({"packageDirectories": [{"path": "force-app", "default": True}], "sourceApiVersion": "63.0"})
    )
    (root / ".forceignore").write_text("**/__tests__/**\n**/jsconfig.json\n**/.eslintrc.json\npackage.xml\n")
    folder = root / "force-app/main/default/classes"
    folder.mkdir(parents=True)
    for index in range(classes // 2):
        name = f"Summary{index:04d}Service"
        (folder / f"{name}.cls").write_text(SERVICE.format(name=name, index=index))
        (folder / f"{name}Test.cls").write_text(TEST.format(name=name))
        (folder / f"{name}.cls-meta.xml").write_text(CLASS_META)
        (folder / f"{name}Test.cls-meta.xml").write_text(CLASS_META)
    for index in range(bundles):
        name = f"summaryCard{index:03d}"
        bundle = root / "force-app/main/default/lwc" / name
        (bundle / "__tests__").mkdir(parents=True)
        (bundle / f"{name}.js").write_text(
            LWC_JS.format(controller=f"Summary{index:04d}Service", cls=f"SummaryCard{index}")
        )
        (bundle / f"{name}.html").write_text(LWC_HTML)
        (bundle / f"{name}.js-meta.xml").write_text(LWC_META)
        (bundle / "__tests__" / f"{name}.test.js").write_text("test('renders', () => {});\n")


def members(package_xml: bytes) -> dict[str, set[str]]:
    ns = {"m": "http://soap.sforce.com/2006/04/metadata"}
    package = etree.fromstring(package_xml)
    return {
        t.findtext("m:name", namespaces=ns): {m.text for m in t.findall("m:members", ns)}
        for t in package.findall("m:types", ns)
    }


def time_apexgen(root: Path, out: Path) -> tuple[float, dict[str, set[str]]]:
    started = time.perf_counter()
    converted = deploy_zip(root)
    out.write_bytes(converted.zip_bytes)  # the deployable artefact, as sf writes its output folder
    elapsed = time.perf_counter() - started
    return elapsed, members(converted.package_xml.encode())


def time_sf(sf: str, root: Path, out: Path) -> tuple[float, dict[str, set[str]]]:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    completed = subprocess.run(
        [sf, "project", "convert", "source", "--root-dir", "force-app", "--output-dir", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"sf project convert source failed ({completed.returncode}): {completed.stderr.strip()[:500]}")
    return elapsed, members((out / "package.xml").read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=2000)
    parser.add_argument("--bundles", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sf", default=shutil.which("sf"), help="the sf executable [default: sf on PATH]")
    args = parser.parse_args()
    if not args.sf:
        sys.exit("sf is not installed: see README, 'Benchmark set-up', or pass --sf PATH")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        generate(root, args.classes, args.bundles)
        files = sum(1 for p in root.rglob("*") if p.is_file())
        apexgen_times, sf_times = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            elapsed, ours = time_apexgen(root, Path(tmp) / "apexgen.zip")
            apexgen_times.append(elapsed)
            elapsed, theirs = time_sf(args.sf, root, Path(tmp) / "sf-out")
            sf_times.append(elapsed)
        version = subprocess.run([args.sf, "--version"], capture_output=True, text=True).stdout.strip()
    same = ours == theirs
    apexgen_median, sf_median = statistics.median(apexgen_times), statistics.median(sf_times)
    speedup = sf_median / apexgen_median
    print(f"project: {args.classes} Apex classes, {args.bundles} LWC bundles, {files} files in the tree")
    print(
        f"apexgen convert: median {apexgen_median:.3f} s of {args.repeat} runs {[round(t, 3) for t in apexgen_times]}"
    )
    print(f"sf project convert source ({version}): median {sf_median:.3f} s {[round(t, 3) for t in sf_times]}")
    print(
        f"speed-up: {speedup:.1f}x; package.xml members identical: {same} "
        f"({sum(len(v) for v in ours.values())} members, types {sorted(ours)})"
    )
    if not same:
        for type_name in sorted(set(ours) | set(theirs)):
            only_ours = ours.get(type_name, set()) - theirs.get(type_name, set())
            only_sf = theirs.get(type_name, set()) - ours.get(type_name, set())
            if only_ours or only_sf:
                print(f"  {type_name}: only apexgen {sorted(only_ours)[:5]}, only sf {sorted(only_sf)[:5]}")
    sys.exit(0 if same and speedup >= 5 else 1)


if __name__ == "__main__":
    main()
