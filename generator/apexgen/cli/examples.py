"""The examples each command's --help ends with, as sf's help ends with EXAMPLES."""

from __future__ import annotations

import click

EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "init": [
        ("apexgen init my-project", "a new SFDX project in ./my-project"),
        ("apexgen init --existing", "add apexgen.toml to the SFDX project you are in"),
    ],
    "generate": [
        ("apexgen generate", "write the files of apexgen.toml"),
        ("apexgen generate --diff", "show what would change, write nothing"),
        ("apexgen generate --check", "in CI: exit 1 when the files are not up to date with the spec"),
    ],
    "check": [
        ("apexgen check", "the fast offline check"),
        ("apexgen check --deep", "also jorje, prettier, apex-ls and PMD"),
        ("apexgen check --format sarif > check.sarif", "for GitHub code scanning"),
    ],
    "tools install": [("apexgen tools install", "install what check --deep runs")],
    "tools status": [("apexgen tools status --json", "what is installed, as one JSON document")],
    "tools stop": [("apexgen tools stop", "stop the check daemons now")],
    "convert": [
        ("apexgen convert -d mdapi", "the metadata-format folder sf project convert source writes"),
        ("apexgen convert --zip deploy.zip", "the zip apexgen deploy sends"),
    ],
    "deploy": [
        ("apexgen deploy -o my-scratch", "deploy to an org the sf CLI knows, running the project's tests"),
        ("apexgen deploy --dry-run -l RunLocalTests", "validate only, with the org's local tests"),
        ("apexgen deploy -t SummarizeCaseServiceTest -t DraftReplyServiceTest --junit junit.xml", "named tests"),
        ("apexgen deploy --resume 0Af000000000001AAA", "follow a deploy that is running"),
    ],
    "test": [
        ("apexgen test -o my-scratch", "run the project's Apex tests in the org"),
        ("apexgen test -l RunLocalTests --coverage coverage.xml", "every local test, with Cobertura coverage"),
    ],
    "package create": [("apexgen package create --name AcmeAI -v devhub", "a managed package in the Dev Hub")],
    "package version create": [
        ("apexgen package version create -v devhub", "a version of the default package directory's package"),
        ("apexgen package version create --installation-key-bypass -w 0", "send the request and return its id"),
    ],
    "package version promote": [("apexgen package version promote AcmeAI@1.0.0-1 -v devhub", "release it")],
    "package surface": [
        ("apexgen package surface", "what the managed package makes public"),
        ("apexgen package surface --record 1.0.0", "keep it as the surface version 1.0.0 released"),
    ],
    "package upload": [("apexgen package upload --name 'Spring 26' -o packaging-org", "a 1GP beta version")],
    "models list": [("apexgen models list --capability chat", "the standard models that can chat")],
    "models generate": [("apexgen models generate 'Three names for a donut shop' -m sfdc_ai__DefaultGPT4OmniMini", "")],
    "models chat": [("apexgen models chat 'What next?' -m sfdc_ai__DefaultGPT4OmniMini --system 'Be terse.'", "")],
    "models embed": [
        ("apexgen models embed 'first text' 'second text' -m sfdc_ai__DefaultOpenAITextEmbeddingAda_002", "")
    ],
    "models feedback": [("apexgen models feedback GENERATION_ID good --text 'Short and right'", "")],
    "models try": [
        (
            "apexgen models try SummarizeCase -i subject='Printer on fire' -o my-org",
            "a spec prompt, as its Apex sends it",
        ),
        ("apexgen models try SummarizeCase -i subject=x --dry-run", "the request, without sending it"),
    ],
}


def add_examples(group: click.Group, path: tuple[str, ...] = ()) -> None:
    """Give every command of ``group`` its examples as the end of its help."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            add_examples(command, (*path, name))
            continue
        examples = EXAMPLES.get(" ".join((*path, name)), [])  # a test holds every command to having some
        lines = [f"  {example}" + (f"\n      {what}" if what else "") for example, what in examples]
        command.epilog = "\b\nExamples:\n" + "\n".join(lines) if lines else None
