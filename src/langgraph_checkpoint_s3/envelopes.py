"""Pydantic models of every object the savers store, and their JSON Schemas.

These models are the only way an object is written or read. Structural fields
stay plain JSON so the objects can be read without Python; values go through
the saver's serializer and are stored as ``{"type": tag, "data": base64}``.

Regenerate the committed schemas with ``python scripts/export_schemas.py``.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_SCHEMA",
    "SCHEMA_BASE_URI",
    "WRITE_FORMAT",
    "WRITE_SCHEMA",
    "CheckpointBody",
    "CheckpointEnvelope",
    "TypedValue",
    "WriteEnvelope",
    "envelope_schemas",
    "write_schemas",
]

SCHEMA_BASE_URI = "urn:langgraph-checkpoint-s3:schemas:"
CHECKPOINT_FORMAT: Final = "langgraph-checkpoint-s3/checkpoint"
WRITE_FORMAT: Final = "langgraph-checkpoint-s3/write"
CHECKPOINT_SCHEMA = "checkpoint.v1.json"
"""File name of the checkpoint envelope's committed schema."""
WRITE_SCHEMA = "write.v1.json"
"""File name of the write envelope's committed schema."""

Version = str | int | float
"""A channel version: LangGraph allows any of the three."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TypedValue(_Model):
    """A value encoded by the saver's serializer (``serde.dumps_typed``)."""

    type: str = Field(description="Serializer tag, stored verbatim (e.g. msgpack).")
    data: str = Field(
        description="The serialized bytes, base64 (RFC 4648, with padding).",
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
    )

    @classmethod
    def of(cls, typed: tuple[str, bytes]) -> TypedValue:
        return cls(type=typed[0], data=base64.b64encode(typed[1]).decode("ascii"))

    def typed(self) -> tuple[str, bytes]:
        return self.type, base64.b64decode(self.data, validate=True)

    @field_validator("data")
    @classmethod
    def _decodable(cls, data: str) -> str:
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"data is not base64: {exc}") from None
        return data


class CheckpointBody(_Model):
    """The checkpoint itself: LangGraph's ``Checkpoint`` with values serialized."""

    v: int
    id: str
    ts: str
    channel_values: dict[str, TypedValue]
    channel_versions: dict[str, Version]
    versions_seen: dict[str, dict[str, Version]]
    updated_channels: list[str] | None = None
    extra: dict[str, TypedValue] = Field(
        default_factory=dict,
        description="Any other checkpoint key (e.g. legacy pending_sends).",
    )


class CheckpointEnvelope(_Model):
    """One stored checkpoint: ``checkpoints/{thread}/{ns}/{id}.json``."""

    model_config = ConfigDict(
        title="langgraph-checkpoint-s3 checkpoint",
        json_schema_extra={"$id": SCHEMA_BASE_URI + CHECKPOINT_SCHEMA},
    )

    format: Literal["langgraph-checkpoint-s3/checkpoint"]
    version: Literal[1]
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str | None
    checkpoint: CheckpointBody
    metadata: dict[str, JsonValue] = Field(
        description="Metadata entries that are plain JSON (step, source, parents, "
        "run_id, and user keys)."
    )
    metadata_typed: dict[str, TypedValue] = Field(
        default_factory=dict,
        description="Metadata entries that are not plain JSON, through the serializer.",
    )


class WriteEnvelope(_Model):
    """One pending write: ``writes/{thread}/{ns}/{id}/{task_id}_{idx}.json``."""

    model_config = ConfigDict(
        title="langgraph-checkpoint-s3 write",
        json_schema_extra={"$id": SCHEMA_BASE_URI + WRITE_SCHEMA},
    )

    format: Literal["langgraph-checkpoint-s3/write"]
    version: Literal[1]
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    task_id: str
    task_path: str
    idx: int
    channel: str
    value: TypedValue


_ENVELOPES: dict[str, type[BaseModel]] = {
    CHECKPOINT_SCHEMA: CheckpointEnvelope,
    WRITE_SCHEMA: WriteEnvelope,
}


def envelope_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each envelope, by file name."""
    return {name: model.model_json_schema() for name, model in _ENVELOPES.items()}


def render_schema(schema: dict[str, Any]) -> str:
    """The exact text committed for a schema."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    """Write every envelope's schema into ``directory``; returns the files."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in envelope_schemas().items():
        path = directory / name
        path.write_text(render_schema(schema), encoding="utf-8")
        written.append(path)
    return written
