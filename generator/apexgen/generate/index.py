"""The files of each ``[[index]]``: its chunk object with its fields, its retriever and its indexer (with tests),
the record-triggered Flow that queues changed records for the indexer, and the cases the generated tests of the shared retrieval classes check against apexgen's Python port."""

from __future__ import annotations

from typing import Any

from apexgen.generate import retrieval
from apexgen.generate.apex import apex_class
from apexgen.generate.chunk_fields import CHUNK_FIELDS
from apexgen.generate.planned_file import PlannedFile
from apexgen.generate.templates import render
from apexgen.spec.naming import apex_string, words
from apexgen.spec.types import Index, Spec

OBJECTS_DIR = "main/default/objects"
FLOWS_DIR = "main/default/flows"


def chunk_label(index: Index) -> str:
    return f"{words(index.name)} Chunk"


def index_files(spec: Spec) -> list[PlannedFile]:
    """The chunk object and the classes of every index."""
    files: list[PlannedFile] = []
    for index in spec.indexes:
        folder = f"{spec.project.package_dir}/{OBJECTS_DIR}/{index.chunk_object}__c"
        label = chunk_label(index)
        files.append(
            PlannedFile(
                f"{folder}/{index.chunk_object}__c.object-meta.xml",
                render("metadata/index/chunk.object-meta.xml.jinja", index=index, label=label),
            )
        )
        files += [
            PlannedFile(
                f"{folder}/fields/{field.name}.field-meta.xml",
                render("metadata/index/field.field-meta.xml.jinja", index=index, field=field, label=label),
            )
            for field in CHUNK_FIELDS
        ]
        for cls, template in ((index.retriever_class, "IndexRetriever"), (index.indexer_class, "Indexer")):
            context = {"index": index}
            files += apex_class(spec, cls, f"apex/retrieval/{template}.cls.jinja", **context)
            files += apex_class(spec, f"{cls}Test", f"apex/retrieval/{template}Test.cls.jinja", **context)
        # No entry condition: the indexer queues only records whose indexed text changed (and deletes reach
        # the index through the master-detail cascade, as record-triggered Flows have no asynchronous path
        # on delete).
        files.append(
            PlannedFile(
                f"{spec.project.package_dir}/{FLOWS_DIR}/{index.name}IndexFlow.flow-meta.xml",
                render("flow/index.flow-meta.xml.jinja", project=spec.project, index=index),
            )
        )
    return files


def string_list_map(cases: list[tuple[str, list[str]]], indent: int) -> str:
    """The entries of a Map<String, List<String>> literal, laid out as prettier-plugin-apex lays them out: an
    entry on one line where it fits in 80 columns, else its list's items one a line."""
    lines = []
    pad = " " * indent
    for number, (key, items) in enumerate(cases):
        comma = "," if number < len(cases) - 1 else ""
        values = ", ".join(apex_string(item) for item in items)
        one_line = f"{pad}{apex_string(key)} => new List<String>{{{f' {values} ' if items else ''}}}{comma}"
        if len(one_line) <= 80 or not items:
            lines.append(one_line)
            continue
        lines.append(f"{pad}{apex_string(key)} => new List<String>{{")
        lines += [f"{pad}    {apex_string(item)}{',' if i < len(items) - 1 else ''}" for i, item in enumerate(items)]
        lines.append(f"{pad}}}{comma}")
    return "\n".join(lines)


def retrieval_context() -> dict[str, Any]:
    """What the templates of the shared retrieval classes read: the rules and the port's answers."""
    vector = [0.5, -0.2, 0.1, 0.0]
    encoded = retrieval.encode_int8(vector)[0]
    chunk_texts = ("", "short text", "  spaced\n\nout   words  ", "one two three four five six seven eight nine ten")
    return {
        "retrieval": retrieval,
        "term_cases": string_list_map([(query, retrieval.keywords(query)) for query in retrieval.SAMPLE_QUERIES], 12),
        "chunk_cases": string_list_map([(text, retrieval.chunks(text, 20, 5)) for text in chunk_texts], 12),
        "codec_case": (vector, encoded, retrieval.decode_int8(encoded)),
    }
