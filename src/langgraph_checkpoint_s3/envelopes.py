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

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_SCHEMA",
    "HEAD_FORMAT",
    "HEAD_SCHEMA",
    "SCHEMA_BASE_URI",
    "V1_CALL",
    "VALUE_FORMAT",
    "VALUE_SCHEMA",
    "WRITE_FORMAT",
    "WRITE_SCHEMA",
    "CallWrite",
    "CheckpointBody",
    "CheckpointEnvelope",
    "HeadEnvelope",
    "SharedRef",
    "TypedValue",
    "ValueEnvelope",
    "WriteBatch",
    "WriteEnvelope",
    "envelope_schemas",
    "write_schemas",
]

SCHEMA_BASE_URI = "urn:langgraph-checkpoint-s3:schemas:"
CHECKPOINT_FORMAT: Final = "langgraph-checkpoint-s3/checkpoint"
WRITE_FORMAT: Final = "langgraph-checkpoint-s3/write"
HEAD_FORMAT: Final = "langgraph-checkpoint-s3/head"
VALUE_FORMAT: Final = "langgraph-checkpoint-s3/value"
CHECKPOINT_SCHEMA = "checkpoint.v3.json"
"""File name of the checkpoint envelope's committed schema (versions 1 to 3)."""
VALUE_SCHEMA = "value.v1.json"
"""File name of the shared value's committed schema."""
WRITE_SCHEMA = "write.v3.json"
"""File name of the write envelope's committed schema (versions 1 to 3)."""
HEAD_SCHEMA = "head.v1.json"
"""File name of the head's committed schema."""

Version = str | int | float
"""A channel version: LangGraph allows any of the three."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_text(data: bytes) -> str | None:
    """``data`` as Latin-1 text (one character per byte), when that is no
    longer in JSON than base64: a serializer's output for text-heavy state is
    mostly ASCII, which then stays readable and compresses far better (base64
    hides the text's repeats from gzip behind a 3-byte alignment)."""
    text = data.decode("latin-1")
    quoted = len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2
    return text if quoted <= 4 * ((len(data) + 2) // 3) else None


class TypedValue(_Model):
    """A value encoded by the saver's serializer (``serde.dumps_typed``): its
    bytes as ``text`` (Latin-1, when that is shorter) or as base64 ``data``."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["data"]}, {"required": ["text"]}]}
    )

    type: str = Field(description="Serializer tag, stored verbatim (e.g. msgpack).")
    data: str | None = Field(
        default=None,
        description="The serialized bytes, base64 (RFC 4648, with padding).",
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
    )
    text: str | None = Field(
        default=None,
        description="The serialized bytes as text: each character, U+0000 to "
        "U+00FF, is one byte (Latin-1). Written instead of data when shorter.",
        pattern=r"^[\u0000-\u00ff]*$",
    )

    @classmethod
    def of(cls, typed: tuple[str, bytes]) -> TypedValue:
        tag, data = typed
        if (text := _as_text(data)) is not None:
            return cls(type=tag, text=text)
        return cls(type=tag, data=base64.b64encode(data).decode("ascii"))

    def typed(self) -> tuple[str, bytes]:
        if self.text is not None:
            return self.type, self.text.encode("latin-1")
        return self.type, base64.b64decode(self.data or "", validate=True)

    @field_validator("data")
    @classmethod
    def _decodable(cls, data: str | None) -> str | None:
        if data is None:
            return None
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"data is not base64: {exc}") from None
        return data

    @model_serializer(mode="wrap")
    def _without_the_other_form(self, handler: SerializerFunctionWrapHandler) -> Any:
        dumped = handler(self)
        return {k: v for k, v in dumped.items() if v is not None}

    @model_validator(mode="after")
    def _one_form(self) -> TypedValue:
        if (self.data is None) == (self.text is None):
            raise ValueError("a value has either data (base64) or text, not both")
        return self


_SHA256 = r"^[0-9a-f]{64}$"


class SharedRef(_Model):
    """A channel value stored once for the thread, in its own object
    (``values/{thread}/{sha256}.json``), that this checkpoint refers to."""

    sha256: str = Field(
        description="SHA-256 (lowercase hex) of the value's serializer tag, a "
        "NUL byte and its serialized bytes: the value object's key.",
        pattern=_SHA256,
    )
    size: int = Field(description="Length of the serialized bytes.", ge=0)


class CheckpointBody(_Model):
    """The checkpoint itself: LangGraph's ``Checkpoint`` with values serialized."""

    v: int
    id: str
    ts: str
    channel_values: dict[str, TypedValue | SharedRef] = Field(
        description="Each channel's value, inline or (version 3) a reference "
        "to a shared value."
    )
    channel_versions: dict[str, Version]
    versions_seen: dict[str, dict[str, Version]]
    updated_channels: list[str] | None = None
    extra: dict[str, TypedValue] = Field(
        default_factory=dict,
        description="Any other checkpoint key (e.g. legacy pending_sends).",
    )


class CheckpointEnvelope(_Model):
    """One stored checkpoint: ``checkpoints/{thread}/{ns}/{id}.json``.

    Version 2 may store values as ``text``; version 3 may refer to shared
    values. Versions 1 and 2 read as before.
    """

    model_config = ConfigDict(
        title="langgraph-checkpoint-s3 checkpoint",
        json_schema_extra={"$id": SCHEMA_BASE_URI + CHECKPOINT_SCHEMA},
    )

    format: Literal["langgraph-checkpoint-s3/checkpoint"]
    version: Literal[1, 2, 3]
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

    def shared(self) -> dict[str, SharedRef]:
        """The channels whose value is stored apart, by channel."""
        values = self.checkpoint.channel_values
        return {k: v for k, v in values.items() if isinstance(v, SharedRef)}

    @model_validator(mode="after")
    def _shared_by_version(self) -> CheckpointEnvelope:
        if self.version < 3 and self.shared():
            raise ValueError("only version 3 checkpoints refer to shared values")
        return self


class WriteBatch(_Model):
    """The ``put_writes`` call a write belongs to. A call's writes are read
    only once the call is complete: each of its idx holds the call's write,
    or (for a regular channel) an earlier complete call's (docs/design.md
    §5 states the rule)."""

    id: str = Field(
        description="Token of one put_writes call. Tokens order the calls of a "
        "task: a call that finds a complete call's write takes a greater one."
    )
    idx: list[int] = Field(
        description="The idx of every write of the call, ascending.", min_length=1
    )


V1_CALL: Final = ""
"""The call token a version 1 write counts as: it names no call, and orders
before every call (see :mod:`._batches`)."""


class CallWrite(_Model):
    """A write of another call kept at the same key (version 3): the key is
    shared by the calls of one task that wrote its idx, and readers choose
    among them by the calls' tokens."""

    task_path: str
    channel: str
    value: TypedValue
    batch: WriteBatch


class WriteEnvelope(_Model):
    """One pending write: ``writes/{thread}/{ns}/{id}/{task_id}_{idx}.json``.
    Version 2 adds ``batch``; version 3 adds ``earlier``, the writes of other
    calls kept at this key. Versions 1 and 2 are read as before.
    """

    model_config = ConfigDict(
        title="langgraph-checkpoint-s3 write",
        json_schema_extra={
            "$id": SCHEMA_BASE_URI + WRITE_SCHEMA,
            # What the model's validator enforces, for readers of the schema.
            "allOf": [
                {
                    "if": {"properties": {"version": {"const": 1}}},
                    "then": {"properties": {"batch": {"type": "null"}}},
                    "else": {
                        "required": ["batch"],
                        "properties": {"batch": {"type": "object"}},
                    },
                },
                {
                    "if": {"properties": {"version": {"const": 3}}},
                    "then": {
                        "required": ["earlier"],
                        "properties": {"earlier": {"type": "array", "minItems": 1}},
                    },
                    "else": {"not": {"required": ["earlier"]}},
                },
            ],
        },
    )

    format: Literal["langgraph-checkpoint-s3/write"]
    version: Literal[1, 2, 3]
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    task_id: str
    task_path: str
    idx: int
    channel: str
    value: TypedValue
    batch: WriteBatch | None = Field(
        default=None, description="The call this write belongs to (version 2)."
    )
    earlier: list[CallWrite] | None = Field(
        default=None,
        description="Writes of other calls of the task at this idx, kept until "
        "no reader can choose them (version 3).",
    )

    def call(self) -> WriteBatch:
        """The call this write belongs to; a version 1 write, a call of its
        own under :data:`V1_CALL`."""
        return self.batch or WriteBatch(id=V1_CALL, idx=[self.idx])

    @model_serializer(mode="wrap")
    def _without_absent_earlier(self, handler: SerializerFunctionWrapHandler) -> Any:
        dumped = handler(self)
        if dumped.get("earlier") is None:
            dumped.pop("earlier", None)
        return dumped

    @model_validator(mode="after")
    def _batch_by_version(self) -> WriteEnvelope:
        if (self.version >= 2) != (self.batch is not None):
            raise ValueError("version 2 and 3 writes carry a batch, version 1 none")
        if (self.version == 3) != bool(self.earlier):
            raise ValueError("version 3 writes, and only they, carry earlier writes")
        batches = [self.batch] + [e.batch for e in self.earlier or ()]
        for batch in batches:
            if batch is not None and self.idx not in batch.idx:
                raise ValueError(f"idx {self.idx} is not in its batch {batch.idx}")
        return self


class HeadEnvelope(_Model):
    """A hint: a recent checkpoint of one namespace, ``heads/{thread}/{ns}.json``.

    Written beside every 100th step's checkpoint. A reader lists the
    namespace from this id on and checks what it finds, so a head that is
    missing, stale, corrupt or wrong costs requests, never a wrong answer.
    """

    model_config = ConfigDict(
        title="langgraph-checkpoint-s3 head",
        json_schema_extra={"$id": SCHEMA_BASE_URI + HEAD_SCHEMA},
    )

    format: Literal["langgraph-checkpoint-s3/head"]
    version: Literal[1]
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str = Field(description="A recent checkpoint of the namespace.")
    previous_checkpoint_id: str | None = Field(
        default=None,
        description="The checkpoint the namespace's head named before, when its "
        "writer knew it: a start further back, for reads of the newest k.",
    )


class ValueEnvelope(_Model):
    """A channel value stored once for its thread: ``values/{thread}/{sha256}.json``.

    Written the first time a checkpoint would store a large value again
    (docs/design.md states when); checkpoints refer to it by its hash.
    """

    model_config = ConfigDict(
        title="langgraph-checkpoint-s3 value",
        json_schema_extra={"$id": SCHEMA_BASE_URI + VALUE_SCHEMA},
    )

    format: Literal["langgraph-checkpoint-s3/value"]
    version: Literal[1]
    thread_id: str
    sha256: str = Field(
        description="SHA-256 of the value's tag, a NUL byte and its bytes.",
        pattern=_SHA256,
    )
    value: TypedValue


_ENVELOPES: dict[str, type[BaseModel]] = {
    CHECKPOINT_SCHEMA: CheckpointEnvelope,
    WRITE_SCHEMA: WriteEnvelope,
    HEAD_SCHEMA: HeadEnvelope,
    VALUE_SCHEMA: ValueEnvelope,
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
