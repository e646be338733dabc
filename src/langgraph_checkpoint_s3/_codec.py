"""LangGraph objects to stored envelopes and back, through the saver's serde.

Every object is written and read through the models of :mod:`.envelopes`; this
module decides what goes where: plain JSON for structure, ``serde`` for values.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from ._configs import CheckpointSelector, config_of
from ._keys import CheckpointRef, Layout, WriteRef
from ._shared import digest_of
from .envelopes import (
    CHECKPOINT_FORMAT,
    VALUE_FORMAT,
    WRITE_FORMAT,
    CallWrite,
    CheckpointBody,
    CheckpointEnvelope,
    SharedRef,
    TypedValue,
    ValueEnvelope,
    WriteBatch,
    WriteEnvelope,
)
from .errors import CorruptObjectError

__all__ = [
    "StoredCheckpoint",
    "StoredWrite",
    "decode_checkpoint",
    "decode_metadata",
    "decode_write",
    "encode_checkpoint",
    "encode_writes",
    "held_writes",
    "identity_fields",
    "load_checkpoint",
    "load_value",
    "moved_to_thread",
    "run_id_of",
    "same_checkpoint",
    "stand_ins",
    "to_tuple",
    "value_object",
    "with_token",
    "write_object",
]

_M = TypeVar("_M", bound=BaseModel)
_CHECKPOINT_KEYS = frozenset(
    {"v", "id", "ts", "channel_values", "channel_versions", "versions_seen"}
)
_FORMATS = {
    CheckpointEnvelope: CHECKPOINT_FORMAT,
    WriteEnvelope: WRITE_FORMAT,
    ValueEnvelope: VALUE_FORMAT,
}
_VERSIONS = {
    CheckpointEnvelope: (1, 2, 3),
    WriteEnvelope: (1, 2, 3),
    ValueEnvelope: (1,),
}

Placement = Callable[[str, Callable[[], tuple[str, bytes]]], TypedValue | SharedRef]
"""Where a checkpoint stores a channel's value (by channel, and a call that
serializes the value, which a reference to a known value does not need):
inline, or a reference to a shared value (see :mod:`._shared`)."""


def _inline(
    channel: str, serialized: Callable[[], tuple[str, bytes]]
) -> TypedValue | SharedRef:
    return TypedValue.of(serialized())


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint as read back, values decoded."""

    ref: CheckpointRef
    parent_id: str | None
    checkpoint: Checkpoint
    metadata: CheckpointMetadata


@dataclass(frozen=True)
class StoredWrite:
    """A pending write as read back, value decoded."""

    task_path: str
    task_id: str
    idx: int
    channel: str
    value: Any
    batch: WriteBatch
    """The call it belongs to (a version 1 write's, under ``V1_CALL``)."""
    earlier: tuple[StoredWrite, ...] = ()
    """Other calls' writes kept at the same key (see :mod:`._batches`)."""

    def sort_key(self) -> tuple[str, str, int]:
        """LangGraph's order of pending writes: task path, task id, index."""
        return (self.task_path, self.task_id, self.idx)

    def pending(self) -> PendingWrite:
        """The ``(task_id, channel, value)`` LangGraph expects."""
        return (self.task_id, self.channel, self.value)


def identity_fields(ref: CheckpointRef | WriteRef) -> list[tuple[tuple[str, ...], Any]]:
    """The envelope fields (as paths) that must repeat what the key says."""
    if isinstance(ref, WriteRef):
        return [
            *identity_fields(ref.checkpoint)[:3],
            (("task_id",), ref.task_id),
            (("idx",), ref.idx),
        ]
    return [
        (("thread_id",), ref.thread_id),
        (("checkpoint_ns",), ref.checkpoint_ns),
        (("checkpoint_id",), ref.checkpoint_id),
        (("checkpoint", "id"), ref.checkpoint_id),
    ]


def field_at(document: Any, path: Sequence[str]) -> Any:
    """The field at ``path`` of a JSON document or an envelope model."""
    for name in path:
        if isinstance(document, dict):
            document = document.get(name)
        else:
            document = getattr(document, name, None)
    return document


def misplacement(document: Any, ref: CheckpointRef | WriteRef) -> str | None:
    """Why an envelope does not belong at the key of ``ref``, or None."""
    return fields_misplaced(document, identity_fields(ref))


def fields_misplaced(
    document: Any, fields: Iterable[tuple[tuple[str, ...], Any]]
) -> str | None:
    """The first of ``fields`` (path, what the key says) that the document
    does not repeat, worded for a person; None when it repeats them all."""
    for path, expected in fields:
        found = field_at(document, path)
        if found != expected:
            shown = repr(found)
            shown = shown if len(shown) <= 200 else shown[:197] + "..."
            return (
                f"envelope says {'.'.join(path)}={shown} but the key says {expected!r}"
            )
    return None


def _is_plain_json(value: Any) -> bool:
    """True when JSON gives back exactly this value (types included)."""
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(_is_plain_json(item) for item in value)
    if kind is dict:
        return all(type(k) is str and _is_plain_json(v) for k, v in value.items())
    return False


def _load_envelope(model: type[_M], key: str, body: bytes) -> _M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise CorruptObjectError(
            f"{key}: {_why_invalid(model, body, exc)}", operation="GetObject", key=key
        ) from None


def _dump(envelope: BaseModel) -> bytes:
    try:
        return envelope.model_dump_json().encode("utf-8")
    except PydanticSerializationError as exc:
        # Lone surrogates, for one, have no UTF-8 form and no JSON one.
        raise ValueError(f"cannot store {type(envelope).__name__}: {exc}") from None


def _why_invalid(model: type[BaseModel], body: bytes, exc: ValidationError) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return "not a JSON document"
    expected = _FORMATS[model]
    if not isinstance(doc, dict) or doc.get("format") != expected:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        return f"not a {expected} object (format={found!r})"
    if doc.get("version") not in _VERSIONS[model]:
        return f"unsupported {expected} version {doc.get('version')!r}"
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"invalid {expected} object: {where}: {first['msg']}"


def _check_place(key: str, envelope: BaseModel, ref: CheckpointRef | WriteRef) -> None:
    if (why := misplacement(envelope, ref)) is not None:
        raise CorruptObjectError(f"{key}: {why}", operation="GetObject", key=key)


def _typed(serde: SerializerProtocol, value: Any) -> TypedValue:
    return TypedValue.of(serde.dumps_typed(value))


def _loads(serde: SerializerProtocol, key: str, where: str, value: TypedValue) -> Any:
    # A serde fails in its own ways (msgpack errors, NotImplementedError for
    # an unknown tag, a wrong decryption key): all of them mean this object.
    try:
        return serde.loads_typed(value.typed())
    except Exception as exc:
        raise CorruptObjectError(
            f"{key}: {where}: cannot decode its {value.type!r} value "
            f"({type(exc).__name__}: {exc})",
            operation="GetObject",
            key=key,
        ) from exc


def encode_checkpoint(
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    place: Placement = _inline,
) -> tuple[CheckpointRef, bytes]:
    """The checkpoint ``put`` stores, and its identity; ``place`` says where
    each channel's value goes."""
    selector = CheckpointSelector.of(config)
    ref = selector.at(checkpoint["id"])
    merged: dict[str, Any] = dict(get_checkpoint_metadata(config, metadata))
    values = {
        name: place(name, functools.partial(serde.dumps_typed, value))
        for name, value in checkpoint["channel_values"].items()
    }
    body = CheckpointBody(
        v=checkpoint["v"],
        id=checkpoint["id"],
        ts=checkpoint["ts"],
        channel_values=values,
        channel_versions=dict(checkpoint["channel_versions"]),
        versions_seen={
            node: dict(seen) for node, seen in checkpoint["versions_seen"].items()
        },
        updated_channels=checkpoint.get("updated_channels"),
        extra={
            name: _typed(serde, value)
            for name, value in checkpoint.items()
            if name not in _CHECKPOINT_KEYS and name != "updated_channels"
        },
    )
    envelope = CheckpointEnvelope(
        format=CHECKPOINT_FORMAT,
        version=3 if any(isinstance(v, SharedRef) for v in values.values()) else 2,
        thread_id=ref.thread_id,
        checkpoint_ns=ref.checkpoint_ns,
        checkpoint_id=ref.checkpoint_id,
        parent_checkpoint_id=selector.checkpoint_id,
        checkpoint=body,
        metadata={k: v for k, v in merged.items() if _is_plain_json(v)},
        metadata_typed={
            k: _typed(serde, v) for k, v in merged.items() if not _is_plain_json(v)
        },
    )
    return ref, _dump(envelope)


def load_checkpoint(key: str, body: bytes, ref: CheckpointRef) -> CheckpointEnvelope:
    """A checkpoint object's envelope, checked against its key, values left
    serialized; raises CorruptObjectError naming the key."""
    env = _load_envelope(CheckpointEnvelope, key, body)
    _check_place(key, env, ref)
    return env


def decode_checkpoint(
    serde: SerializerProtocol,
    key: str,
    body: bytes | CheckpointEnvelope,
    ref: CheckpointRef,
    shared: Mapping[str, TypedValue] | None = None,
    *,
    value_key: Callable[[str], str] | None = None,
) -> StoredCheckpoint:
    """Read a checkpoint object, its shared values taken from ``shared`` (by
    hash); raises CorruptObjectError naming the key, or the key
    (``value_key``) of a shared value that is not in ``shared``."""
    env = (
        body
        if isinstance(body, CheckpointEnvelope)
        else load_checkpoint(key, body, ref)
    )
    cp = env.checkpoint

    def value_of(name: str, value: TypedValue | SharedRef) -> Any:
        if isinstance(value, SharedRef):
            found = (shared or {}).get(value.sha256)
            if found is None:
                missing = value_key(value.sha256) if value_key else value.sha256
                raise CorruptObjectError(
                    f"{key}: channel {name!r} refers to the shared value "
                    f"{missing}, which is not stored",
                    operation="GetObject",
                    key=missing,
                )
            value = found
        return _loads(serde, key, f"channel {name!r}", value)

    checkpoint: dict[str, Any] = {
        "v": cp.v,
        "id": cp.id,
        "ts": cp.ts,
        "channel_values": {
            name: value_of(name, value) for name, value in cp.channel_values.items()
        },
        "channel_versions": dict(cp.channel_versions),
        "versions_seen": {node: dict(seen) for node, seen in cp.versions_seen.items()},
        "updated_channels": cp.updated_channels,
    }
    checkpoint.update(
        {
            name: _loads(serde, key, f"checkpoint field {name!r}", value)
            for name, value in cp.extra.items()
        }
    )
    metadata = decode_metadata(serde, key, env)
    return StoredCheckpoint(
        ref,
        env.parent_checkpoint_id,
        checkpoint,  # type: ignore[arg-type]
        metadata,  # type: ignore[arg-type]
    )


_NOTHING = TypedValue(type="null", data="")


def stand_ins(env: CheckpointEnvelope) -> dict[str, TypedValue]:
    """Empty values (``None``) in place of the shared values a checkpoint
    refers to, for :func:`decode_checkpoint` by a reader that wants sizes,
    metadata or the checkpoint's own values only: a shared value is not
    stored in the checkpoint, and is read (or checked) as its own object."""
    return {ref.sha256: _NOTHING for ref in env.shared().values()}


def decode_metadata(
    serde: SerializerProtocol, key: str, env: CheckpointEnvelope
) -> dict[str, Any]:
    """A checkpoint's metadata, decoded (it never refers to shared values)."""
    metadata: dict[str, Any] = dict(env.metadata)
    metadata.update(
        {
            name: _loads(serde, key, f"metadata {name!r}", value)
            for name, value in env.metadata_typed.items()
        }
    )
    return metadata


def same_checkpoint(stored: bytes, ours: bytes) -> bool:
    """Whether two bodies of one checkpoint hold the same checkpoint: equal
    once every value, inline or shared, stands as its hash. A retried ``put``
    may store a value inline the first time and refer to it the second."""
    if stored == ours:
        return True

    def hashed(body: bytes) -> dict[str, Any] | None:
        try:
            env = CheckpointEnvelope.model_validate_json(body)
        except ValidationError:
            return None
        values = env.checkpoint.channel_values
        dumped = env.model_dump(mode="json", exclude={"version"})
        dumped["checkpoint"]["channel_values"] = {
            name: v.sha256 if isinstance(v, SharedRef) else digest_of(v.typed())
            for name, v in values.items()
        }
        return dumped

    return (mine := hashed(ours)) is not None and hashed(stored) == mine


def value_object(thread_id: str, value: TypedValue) -> tuple[str, bytes]:
    """A shared value's hash and the object stored under it."""
    digest = digest_of(value.typed())
    envelope = ValueEnvelope(
        format=VALUE_FORMAT, version=1, thread_id=thread_id, sha256=digest, value=value
    )
    return digest, _dump(envelope)


def load_value(key: str, body: bytes, thread_id: str, digest: str) -> TypedValue:
    """A shared value object's value, checked against its key and its hash;
    raises CorruptObjectError naming the key."""
    env = _load_envelope(ValueEnvelope, key, body)
    fields = [(("thread_id",), thread_id), (("sha256",), digest)]
    if (why := fields_misplaced(env, fields)) is not None:
        raise CorruptObjectError(f"{key}: {why}", operation="GetObject", key=key)
    if digest_of(env.value.typed()) != digest:
        raise CorruptObjectError(
            f"{key}: the value's SHA-256 is not {digest}: the object was changed",
            operation="GetObject",
            key=key,
        )
    return env.value


def run_id_of(key: str, body: bytes) -> Any:
    """A checkpoint's metadata ``run_id``, read from the envelope alone: it is
    plain JSON, so no value goes through the serde."""
    return _load_envelope(CheckpointEnvelope, key, body).metadata.get("run_id")


def encode_writes(
    serde: SerializerProtocol,
    config: RunnableConfig,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str,
    token: str,
) -> list[tuple[WriteRef, CallWrite]]:
    """The writes of one ``put_writes`` call, each with its key. Every write
    carries the call's ``token`` and the idx of all its writes, so readers can
    tell a complete call from part of one (see :mod:`._batches`). Two writes to
    one special channel share an idx; the last one is kept, as LangGraph's
    InMemorySaver keeps it."""
    selector = CheckpointSelector.of(config)
    if selector.checkpoint_id is None:
        raise ValueError("put_writes needs config['configurable']['checkpoint_id']")
    ref = selector.at(selector.checkpoint_id)
    indexed = {WRITES_IDX_MAP.get(ch, i): (ch, v) for i, (ch, v) in enumerate(writes)}
    if not indexed:
        return []
    batch = WriteBatch(id=token, idx=sorted(indexed))
    return [
        (
            WriteRef(ref, task_id, idx),
            CallWrite(
                task_path=task_path,
                channel=channel,
                value=_typed(serde, value),
                batch=batch,
            ),
        )
        for idx, (channel, value) in indexed.items()
    ]


def with_token(write: CallWrite, token: str) -> CallWrite:
    """The same write, carried under another token of its call."""
    batch = write.batch.model_copy(update={"id": token})
    return write.model_copy(update={"batch": batch})


def write_object(
    ref: WriteRef, write: CallWrite, earlier: Sequence[CallWrite] = ()
) -> bytes:
    """The object stored at ``ref``'s key: ``write``, and the writes of other
    calls kept beside it (version 3 when there are any)."""
    checkpoint = ref.checkpoint
    envelope = WriteEnvelope(
        format=WRITE_FORMAT,
        version=3 if earlier else 2,
        thread_id=checkpoint.thread_id,
        checkpoint_ns=checkpoint.checkpoint_ns,
        checkpoint_id=checkpoint.checkpoint_id,
        task_id=ref.task_id,
        task_path=write.task_path,
        idx=ref.idx,
        channel=write.channel,
        value=write.value,
        batch=write.batch,
        earlier=sorted(earlier, key=lambda w: w.batch.id) or None,
    )
    return _dump(envelope)


def decode_write(
    serde: SerializerProtocol, key: str, body: bytes, ref: WriteRef
) -> StoredWrite:
    """Read a write object, with the other calls' writes it keeps; raises
    CorruptObjectError naming the key."""
    env = _load_envelope(WriteEnvelope, key, body)
    _check_place(key, env, ref)

    def stored(write: CallWrite | WriteEnvelope) -> StoredWrite:
        value = _loads(serde, key, f"write to channel {write.channel!r}", write.value)
        return StoredWrite(
            write.task_path,
            env.task_id,
            env.idx,
            write.channel,
            value,
            write.batch if isinstance(write, CallWrite) else write.call(),
        )

    return replace(stored(env), earlier=tuple(stored(w) for w in env.earlier or ()))


def held_writes(key: str, body: bytes, ref: WriteRef) -> list[CallWrite]:
    """Every call's write a write object holds, read from the envelope alone
    (no value goes through the serde); a version 1 write has the empty token."""
    env = _load_envelope(WriteEnvelope, key, body)
    _check_place(key, env, ref)
    current = CallWrite(
        task_path=env.task_path,
        channel=env.channel,
        value=env.value,
        batch=env.call(),
    )
    return [current, *(env.earlier or ())]


def to_tuple(
    stored: StoredCheckpoint, writes: Iterable[StoredWrite]
) -> CheckpointTuple:
    """The CheckpointTuple LangGraph expects, writes in live-execution order."""
    ref = stored.ref
    parent = (
        config_of(CheckpointRef(ref.thread_id, ref.checkpoint_ns, stored.parent_id))
        if stored.parent_id
        else None
    )
    return CheckpointTuple(
        config=config_of(ref),
        checkpoint=stored.checkpoint,
        metadata=stored.metadata,
        parent_config=parent,
        pending_writes=[w.pending() for w in sorted(writes, key=StoredWrite.sort_key)],
    )


def moved_to_thread(
    layout: Layout, key: str, body: bytes, thread_id: str
) -> tuple[str, bytes]:
    """A stored object moved to another thread: its key and envelope rewritten,
    values left as stored (no serde round trip)."""
    if (ref := layout.parse_checkpoint_key(key)) is not None:
        env = _load_envelope(CheckpointEnvelope, key, body)
        _check_place(key, env, ref)
        moved_ref = CheckpointRef(thread_id, ref.checkpoint_ns, ref.checkpoint_id)
        moved = env.model_copy(update={"thread_id": thread_id})
        return layout.checkpoint_key(moved_ref), _dump(moved)
    if (write := layout.parse_write_key(key)) is not None:
        wenv = _load_envelope(WriteEnvelope, key, body)
        _check_place(key, wenv, write)
        c = write.checkpoint
        moved_write = WriteRef(
            CheckpointRef(thread_id, c.checkpoint_ns, c.checkpoint_id),
            write.task_id,
            write.idx,
        )
        wmoved = wenv.model_copy(update={"thread_id": thread_id})
        return layout.write_key(moved_write), _dump(wmoved)
    if (shared := layout.parse_value_key(key)) is not None:
        value = load_value(key, body, *shared)
        digest, moved_body = value_object(thread_id, value)
        return layout.value_key(thread_id, digest), moved_body
    raise CorruptObjectError(
        f"{key}: not a checkpoint, write or value key",
        operation="CopyThread",
        key=key,
    )
