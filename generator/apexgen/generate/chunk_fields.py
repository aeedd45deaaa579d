"""The fields of an index's chunk object: one list that the object's metadata, the permission set and the
generated Apex agree on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChunkField:
    name: str
    type: str
    label: str
    description: str
    length: int = 0
    scale: int = 0
    unique: bool = False

    @property
    def permissionable(self) -> bool:
        """A master-detail field is required: a permission set cannot grant it (it is always readable)."""
        return self.type != "MasterDetail"


CHUNK_FIELDS = (
    ChunkField("Source__c", "MasterDetail", "Source", "The record whose text this chunk holds."),
    ChunkField("ChunkNumber__c", "Number", "Chunk Number", "Position of this chunk in its record's text, from 0."),
    ChunkField(
        "ChunkKey__c",
        "Text",
        "Chunk Key",
        "Source record Id and chunk number: one chunk per position, even when two jobs index a record at once.",
        length=40,
        unique=True,
    ),
    ChunkField("Text__c", "LongTextArea", "Text", "The chunk's text; SOSL searches it.", length=32768),
    ChunkField(
        "Vector__c",
        "LongTextArea",
        "Vector",
        "The chunk's embedding: signed bytes scaled to the largest component, as base64.",
        length=32768,
    ),
    ChunkField("VectorNorm__c", "Number", "Vector Norm", "Euclidean norm of the codes in Vector.", scale=6),
    ChunkField("Model__c", "Text", "Model", "API name of the model that embedded the text.", length=255),
    ChunkField(
        "TextHash__c",
        "Text",
        "Text Hash",
        "SHA-256 of the model and the text: the indexer skips a chunk whose hash is unchanged.",
        length=64,
    ),
)
