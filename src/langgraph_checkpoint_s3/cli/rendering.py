"""What the CLI prints: one JSON document on stdout, with stored values decoded
through a strict serializer into readable JSON.

The CLI shows what a graph stored, not a byte-exact copy: LangChain messages and
pydantic models become their field dicts, bytes become base64, datetimes
ISO-8601, sets and tuples lists, and anything else a best-effort ``repr``.

Light at import: LangGraph's serializer and pydantic are loaded when a value is
decoded or rendered, by which time the saver has loaded them anyway.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import json
import math
import os
import shutil
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import click

if TYPE_CHECKING:
    from langgraph.checkpoint.base import CheckpointTuple
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

__all__ = [
    "BOOKKEEPING",
    "JSON",
    "TolerantSerializer",
    "Undecodable",
    "emit",
    "emit_streamed",
    "render_tuple",
    "strict_serializer",
    "terminal_width",
    "to_json",
]

JSON: TypeAlias = bool | int | float | str | list["JSON"] | dict[str, "JSON"] | None
"""A value ``json.dumps`` writes as standard JSON."""


def emit(document: JSON) -> None:
    """Print a command's one JSON document on stdout."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def emit_streamed(head: dict[str, JSON], key: str, entries: Iterable[JSON]) -> None:
    """Print ``head`` with ``key`` holding ``entries`` last, as :func:`emit`
    prints it, each entry as soon as it comes: a long thread's first
    checkpoints show before the rest are read."""
    if not head:
        raise ValueError("emit_streamed needs a head to open the document")
    opened = json.dumps({**head, key: []}, indent=2, ensure_ascii=False)
    opened = opened[: opened.rindex("[]")]
    count = 0
    for entry in entries:
        text = json.dumps(entry, indent=2, ensure_ascii=False)
        # Not splitlines(): it also splits at U+2028 and the like, which
        # json.dumps leaves raw inside strings.
        indented = "    " + text.replace("\n", "\n    ")
        click.echo(
            f"{opened}[\n{indented}" if count == 0 else f",\n{indented}", nl=False
        )
        count += 1
    click.echo(f"{opened}[]\n}}" if count == 0 else "\n  ]\n}")


def terminal_width() -> int | None:
    """The width to cut text for a person to: the terminal's when stdout is
    one, or ``COLUMNS`` when set; None into a pipe or a file, where whole
    lines serve ``grep`` and ``less -S`` better."""
    if "COLUMNS" not in os.environ and not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


BOOKKEEPING = ("channel_versions", "versions_seen")
"""The checkpoint fields ``--brief`` leaves out: which version of each
channel exists and which each node has seen, LangGraph's own bookkeeping."""


def render_tuple(item: CheckpointTuple, *, brief: bool = False) -> dict[str, JSON]:
    """A checkpoint tuple as the seed's JSON object, values made readable;
    ``brief`` leaves out the channel versions (:data:`BOOKKEEPING`)."""
    configurable = item.config["configurable"]
    parent = (item.parent_config or {}).get("configurable", {})
    checkpoint = to_json(item.checkpoint)
    if brief and isinstance(checkpoint, dict):
        checkpoint = {k: v for k, v in checkpoint.items() if k not in BOOKKEEPING}
    return {
        "checkpoint_ns": configurable.get("checkpoint_ns", ""),
        "checkpoint_id": configurable["checkpoint_id"],
        "parent_checkpoint_id": parent.get("checkpoint_id"),
        "checkpoint": checkpoint,
        "metadata": to_json(item.metadata),
        "pending_writes": [
            {"task_id": task_id, "channel": channel, "value": to_json(value)}
            for task_id, channel, value in item.pending_writes or []
        ],
    }


@dataclasses.dataclass(frozen=True)
class Undecodable:
    """A stored value the serializer could not decode (an unknown tag, an
    encrypted payload): kept as stored so the rest can still be shown."""

    type: str
    data: bytes


def strict_serializer() -> JsonPlusSerializer:
    """LangGraph's JsonPlusSerializer in strict mode, as the CLI reads: an empty
    msgpack allowlist (only LangGraph's known-safe types are rebuilt; other
    objects stay the data they were stored with), no JSON module allowlist
    and no pickle."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer(allowed_msgpack_modules=None)


class TolerantSerializer:
    """A serializer for reading only: LangGraph's JsonPlusSerializer in strict
    mode, and an :class:`Undecodable` instead of an error for what it cannot read.

    Strict mode matters because the CLI reads buckets other programs write: the
    permissive default imports and calls whatever callable an object names.
    Strict mode rebuilds LangChain messages and other known-safe types, and
    leaves any other object as the plain data it was stored with.
    """

    def __init__(self) -> None:
        self._inner = strict_serializer()

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Encode like JsonPlusSerializer (the CLI never writes)."""
        return self._inner.dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Decode a stored value, or wrap it in :class:`Undecodable`."""
        try:
            return self._inner.loads_typed(data)
        except Exception:
            return Undecodable(*data)


def to_json(value: Any) -> JSON:
    """A decoded value as JSON: messages and models as dicts, bytes as base64,
    datetimes ISO-8601, sets and tuples as lists, the rest as ``repr``."""
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # json.dumps would write NaN and Infinity, which are not JSON.
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Undecodable):
        return {"type": value.type, "data": _b64(value.data)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _b64(bytes(value))
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {_key(k): to_json(v) for k, v in value.items()}
    from pydantic import BaseModel  # loaded already: the envelopes are models

    if isinstance(value, BaseModel):
        # LangChain messages are pydantic models: their dump has "type" too.
        return to_json(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_json(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
    if isinstance(value, (set, frozenset)):
        return _sorted([to_json(item) for item in value])
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return repr(value)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key(key: Any) -> str:
    """JSON keys are strings; msgpack allows others (ints, tuples)."""
    if isinstance(key, str):
        return key
    rendered = to_json(key)
    return rendered if isinstance(rendered, str) else repr(key)


def _sorted(items: list[JSON]) -> list[JSON]:
    """Sets have no order; sort them so the output is stable run to run."""
    try:
        return sorted(items)  # type: ignore[type-var]
    except TypeError:  # mixed types: any fixed order will do
        return sorted(items, key=repr)
