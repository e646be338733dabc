"""LangGraph's saver contract as pure functions: no I/O, no boto3.

The savers in :mod:`.saver` and :mod:`.aio` ask this module which keys to read
or write, move the bytes, and hand them back here to become LangGraph objects.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
    PendingWrite,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from .envelopes import CheckpointBody, CheckpointEnvelope, TypedValue, WriteEnvelope
from .errors import CheckpointConflictError, CorruptObjectError, S3AccessError
from .keys import CheckpointRef, Layout, WriteRef

__all__ = [
    "ListQuery",
    "StoredCheckpoint",
    "StoredWrite",
    "Target",
    "decode_checkpoint",
    "decode_write",
    "encode_checkpoint",
    "encode_writes",
    "next_version",
    "to_tuple",
]

_M = TypeVar("_M", bound=BaseModel)
_CHECKPOINT_KEYS = frozenset(
    {"v", "id", "ts", "channel_values", "channel_versions", "versions_seen"}
)
_FORMATS = {
    CheckpointEnvelope: "langgraph-checkpoint-s3/checkpoint",
    WriteEnvelope: "langgraph-checkpoint-s3/write",
}


# -- configs ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a config points at: a thread, a namespace, maybe one checkpoint."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str | None

    @classmethod
    def of(cls, config: RunnableConfig) -> Target:
        configurable = config.get("configurable") or {}
        thread_id = configurable.get("thread_id")
        if thread_id is None:
            raise ValueError("config['configurable'] needs a 'thread_id'")
        return cls(
            str(thread_id),
            str(configurable.get("checkpoint_ns") or ""),
            configurable.get("checkpoint_id") or None,
        )

    def at(self, checkpoint_id: str) -> CheckpointRef:
        return CheckpointRef(self.thread_id, self.checkpoint_ns, checkpoint_id)


def config_of(ref: CheckpointRef) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": ref.thread_id,
            "checkpoint_ns": ref.checkpoint_ns,
            "checkpoint_id": ref.checkpoint_id,
        }
    }


# -- envelopes ----------------------------------------------------------------


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
    if doc.get("version") != 1:
        return f"unsupported {expected} version {doc.get('version')!r}"
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"invalid {expected} object: {where}: {first['msg']}"


def _check_identity(key: str, claimed: Iterable[tuple[str, Any, Any]]) -> None:
    for field, found, expected in claimed:
        if found != expected:
            raise CorruptObjectError(
                f"{key}: envelope says {field}={found!r} but the key says {expected!r}",
                operation="GetObject",
                key=key,
            )


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

    def sort_key(self) -> tuple[str, str, int]:
        return (self.task_path, self.task_id, self.idx)

    def pending(self) -> PendingWrite:
        return (self.task_id, self.channel, self.value)


def encode_checkpoint(
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
) -> tuple[CheckpointRef, bytes]:
    """The checkpoint ``put`` stores, and its identity."""
    target = Target.of(config)
    ref = target.at(checkpoint["id"])
    merged: dict[str, Any] = dict(get_checkpoint_metadata(config, metadata))
    body = CheckpointBody(
        v=checkpoint["v"],
        id=checkpoint["id"],
        ts=checkpoint["ts"],
        channel_values={
            name: TypedValue.of(serde.dumps_typed(value))
            for name, value in checkpoint["channel_values"].items()
        },
        channel_versions=dict(checkpoint["channel_versions"]),
        versions_seen={
            node: dict(seen) for node, seen in checkpoint["versions_seen"].items()
        },
        updated_channels=checkpoint.get("updated_channels"),
        extra={
            name: TypedValue.of(serde.dumps_typed(value))
            for name, value in checkpoint.items()
            if name not in _CHECKPOINT_KEYS and name != "updated_channels"
        },
    )
    envelope = CheckpointEnvelope(
        format="langgraph-checkpoint-s3/checkpoint",
        version=1,
        thread_id=ref.thread_id,
        checkpoint_ns=ref.checkpoint_ns,
        checkpoint_id=ref.checkpoint_id,
        parent_checkpoint_id=target.checkpoint_id,
        checkpoint=body,
        metadata={k: v for k, v in merged.items() if _is_plain_json(v)},
        metadata_typed={
            k: TypedValue.of(serde.dumps_typed(v))
            for k, v in merged.items()
            if not _is_plain_json(v)
        },
    )
    return ref, _dump(envelope)


def decode_checkpoint(
    serde: SerializerProtocol, key: str, body: bytes, ref: CheckpointRef
) -> StoredCheckpoint:
    """Read a checkpoint object; raises CorruptObjectError naming the key."""
    env = _load_envelope(CheckpointEnvelope, key, body)
    _check_identity(
        key,
        [
            ("thread_id", env.thread_id, ref.thread_id),
            ("checkpoint_ns", env.checkpoint_ns, ref.checkpoint_ns),
            ("checkpoint_id", env.checkpoint_id, ref.checkpoint_id),
            ("checkpoint.id", env.checkpoint.id, ref.checkpoint_id),
        ],
    )
    cp = env.checkpoint
    checkpoint: dict[str, Any] = {
        "v": cp.v,
        "id": cp.id,
        "ts": cp.ts,
        "channel_values": {
            name: serde.loads_typed(value.typed())
            for name, value in cp.channel_values.items()
        },
        "channel_versions": dict(cp.channel_versions),
        "versions_seen": {node: dict(seen) for node, seen in cp.versions_seen.items()},
        "updated_channels": cp.updated_channels,
    }
    checkpoint.update(
        {name: serde.loads_typed(value.typed()) for name, value in cp.extra.items()}
    )
    metadata: dict[str, Any] = dict(env.metadata)
    metadata.update(
        {k: serde.loads_typed(v.typed()) for k, v in env.metadata_typed.items()}
    )
    return StoredCheckpoint(
        ref,
        env.parent_checkpoint_id,
        checkpoint,  # type: ignore[arg-type]
        metadata,  # type: ignore[arg-type]
    )


def encode_writes(
    serde: SerializerProtocol,
    config: RunnableConfig,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str,
) -> tuple[list[tuple[WriteRef, bytes]], bool]:
    """The objects ``put_writes`` stores, and whether they overwrite.

    A batch made only of special channels (errors, interrupts, ...) replaces
    what is stored; any other batch is insert-if-absent, so the first wins.
    """
    target = Target.of(config)
    if target.checkpoint_id is None:
        raise ValueError("put_writes needs config['configurable']['checkpoint_id']")
    ref = target.at(target.checkpoint_id)
    objects = []
    for i, (channel, value) in enumerate(writes):
        write = WriteRef(ref, task_id, WRITES_IDX_MAP.get(channel, i))
        envelope = WriteEnvelope(
            format="langgraph-checkpoint-s3/write",
            version=1,
            thread_id=ref.thread_id,
            checkpoint_ns=ref.checkpoint_ns,
            checkpoint_id=ref.checkpoint_id,
            task_id=task_id,
            task_path=task_path,
            idx=write.idx,
            channel=channel,
            value=TypedValue.of(serde.dumps_typed(value)),
        )
        objects.append((write, _dump(envelope)))
    overwrite = all(channel in WRITES_IDX_MAP for channel, _ in writes)
    return objects, overwrite


def decode_write(
    serde: SerializerProtocol, key: str, body: bytes, ref: WriteRef
) -> StoredWrite:
    """Read a write object; raises CorruptObjectError naming the key."""
    env = _load_envelope(WriteEnvelope, key, body)
    _check_identity(
        key,
        [
            ("thread_id", env.thread_id, ref.checkpoint.thread_id),
            ("checkpoint_ns", env.checkpoint_ns, ref.checkpoint.checkpoint_ns),
            ("checkpoint_id", env.checkpoint_id, ref.checkpoint.checkpoint_id),
            ("task_id", env.task_id, ref.task_id),
            ("idx", env.idx, ref.idx),
        ],
    )
    return StoredWrite(
        env.task_path,
        env.task_id,
        env.idx,
        env.channel,
        serde.loads_typed(env.value.typed()),
    )


Loaded = list[tuple[StoredCheckpoint, list[StoredWrite]]]
"""Checkpoints as read, each with its pending writes."""

WriteKey = tuple[str, WriteRef]
"""A write object's key, and the write it names."""


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


# -- listing ------------------------------------------------------------------


def checkpoint_refs(layout: Layout, keys: Iterable[str]) -> list[CheckpointRef]:
    """The checkpoints among listed keys, newest first.

    Ordered here, never by the server: ids are compared as strings (uuid6 ids
    sort in time order), then thread and namespace for a stable order.
    """
    refs = [ref for key in keys if (ref := layout.parse_checkpoint_key(key))]
    return sorted(
        refs,
        key=lambda r: (r.checkpoint_id, r.thread_id, r.checkpoint_ns),
        reverse=True,
    )


@dataclass(frozen=True)
class ListQuery:
    """The arguments of ``list``, as a plan: where to LIST and what to keep."""

    thread_id: str | None
    checkpoint_ns: str | None
    checkpoint_id: str | None
    before: str | None
    filter: Mapping[str, Any]
    limit: int | None

    @classmethod
    def of(
        cls,
        config: RunnableConfig | None,
        *,
        filter: Mapping[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> ListQuery:
        configurable = (config or {}).get("configurable") or {}
        before_id = ((before or {}).get("configurable") or {}).get("checkpoint_id")
        thread_id = configurable.get("thread_id")
        return cls(
            thread_id=None if thread_id is None else str(thread_id),
            checkpoint_ns=configurable.get("checkpoint_ns"),
            checkpoint_id=configurable.get("checkpoint_id") or None,
            before=before_id or None,
            filter=dict(filter or {}),
            limit=limit,
        )

    def prefix(self, layout: Layout) -> str:
        """The narrowest prefix that holds every candidate."""
        if self.thread_id is None:
            return layout.all_checkpoints()
        if self.checkpoint_ns is None:
            return layout.thread_checkpoints(self.thread_id)
        return layout.namespace_checkpoints(self.thread_id, self.checkpoint_ns)

    def candidates(self, layout: Layout, keys: Iterable[str]) -> list[CheckpointRef]:
        """The checkpoints that pass every test but the metadata filter."""
        if self.limit is not None and self.limit <= 0:
            return []
        return [
            ref
            for ref in checkpoint_refs(layout, keys)
            if (self.thread_id is None or ref.thread_id == self.thread_id)
            and (self.checkpoint_ns is None or ref.checkpoint_ns == self.checkpoint_ns)
            and (self.checkpoint_id is None or ref.checkpoint_id == self.checkpoint_id)
            and (self.before is None or ref.checkpoint_id < self.before)
        ]

    def batches(self, candidates: list[CheckpointRef]) -> Iterator[list[CheckpointRef]]:
        """Candidates in the batches to fetch: all at once when no filter can
        reject one, else growing batches so a filter stops reading early."""
        if not self.filter:
            if head := candidates[: self.limit]:
                yield head
            return
        start, size = 0, max(self.limit or 0, 16)
        while start < len(candidates):
            yield candidates[start : start + size]
            start, size = start + size, min(size * 2, 1024)

    def matches(self, stored: StoredCheckpoint) -> bool:
        metadata: Mapping[str, Any] = stored.metadata
        # An absent key reads as None, as in LangGraph's InMemorySaver.
        return all(metadata.get(key) == value for key, value in self.filter.items())


@dataclass(frozen=True)
class WritesListing:
    """One LIST that finds the writes of some checkpoints of one namespace."""

    prefix: str
    start_after: str | None


def writes_listings(
    layout: Layout, refs: Sequence[CheckpointRef]
) -> list[WritesListing]:
    """The LISTs that find the writes of ``refs``.

    One checkpoint: LIST its own folder. Several in one namespace: one LIST of
    the namespace starting after a prefix common to their folders, so the
    newest k checkpoints cost one LIST (a page per 1,000 writes), not k.
    """
    by_namespace: dict[tuple[str, str], list[CheckpointRef]] = defaultdict(list)
    for ref in refs:
        by_namespace[(ref.thread_id, ref.checkpoint_ns)].append(ref)
    listings = []
    for (thread_id, ns), group in by_namespace.items():
        if len(group) == 1:
            listings.append(WritesListing(layout.checkpoint_writes(group[0]), None))
            continue
        prefix = layout.namespace_writes(thread_id, ns)
        names = [layout.checkpoint_writes(ref)[len(prefix) : -1] for ref in group]
        # Start after a proper prefix of every folder name: each wanted key
        # sorts after it both in S3's byte order and in servers (SeaweedFS)
        # that walk folders and skip every folder name up to StartAfter's.
        common = os.path.commonprefix(names)[: min(map(len, names)) - 1]  # noqa: RUF071
        listings.append(WritesListing(prefix, prefix + common if common else None))
    return listings


def writes_by_checkpoint(
    layout: Layout, keys: Iterable[str], refs: Iterable[CheckpointRef]
) -> dict[CheckpointRef, list[tuple[str, WriteRef]]]:
    """Listed write keys grouped under the wanted checkpoints; others dropped."""
    found: dict[CheckpointRef, list[tuple[str, WriteRef]]] = {ref: [] for ref in refs}
    for key in keys:
        write = layout.parse_write_key(key)
        if write is not None and write.checkpoint in found:
            found[write.checkpoint].append((key, write))
    return found


def read_checkpoints(
    serde: SerializerProtocol,
    layout: Layout,
    refs: Sequence[CheckpointRef],
    bodies: Sequence[bytes | None],
) -> list[StoredCheckpoint]:
    """Decode fetched checkpoint objects; a missing one (None) is skipped."""
    return [
        decode_checkpoint(serde, layout.checkpoint_key(ref), body, ref)
        for ref, body in zip(refs, bodies, strict=True)
        if body is not None
    ]


def writes_to_fetch(
    layout: Layout, listed: Iterable[Iterable[str]], stored: Sequence[StoredCheckpoint]
) -> list[tuple[str, WriteRef]]:
    """The write objects to GET for ``stored``, from the results of their LISTs."""
    grouped = writes_by_checkpoint(
        layout, (key for keys in listed for key in keys), [s.ref for s in stored]
    )
    return [item for items in grouped.values() for item in items]


def assemble(
    serde: SerializerProtocol,
    stored: Sequence[StoredCheckpoint],
    writes: Sequence[tuple[str, WriteRef]],
    bodies: Sequence[bytes | None],
) -> Loaded:
    """Each checkpoint with its decoded writes; a write deleted since it was
    listed (None) is skipped."""
    by_ref: dict[CheckpointRef, list[StoredWrite]] = {s.ref: [] for s in stored}
    for (key, ref), body in zip(writes, bodies, strict=True):
        if body is not None:
            by_ref[ref.checkpoint].append(decode_write(serde, key, body, ref))
    return [(s, by_ref[s.ref]) for s in stored]


def is_bare_refusal(exc: S3AccessError) -> bool:
    """A 403 without an S3 error code (HEAD requests have no body)."""
    return exc.code in ("403", "Forbidden")


def check_rewrite(key: str, existing: bytes | None, body: bytes) -> None:
    """A checkpoint ``put`` found its key taken: fine when it is the same
    object (a retried request), an error when the content differs."""
    if existing != body:
        raise CheckpointConflictError(
            f"{key}: a different checkpoint with this id is stored already; "
            "checkpoints are never overwritten",
            operation="PutObject",
            key=key,
        )


def delete_failures(response: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (key, reason) of every key a DeleteObjects response did not delete."""
    return [
        (str(err.get("Key", "")), f"{err.get('Code', '')}: {err.get('Message', '')}")
        for err in response.get("Errors", [])
    ]


def chunks(keys: Sequence[str], size: int = 1000) -> list[list[str]]:
    """DeleteObjects takes at most 1,000 keys a request."""
    return [list(keys[i : i + size]) for i in range(0, len(keys), size)]


# -- versions -----------------------------------------------------------------


def next_version(current: str | int | float | None) -> str:
    """``f"{n:032}.{random:016}"``, as LangGraph's own savers make them."""
    if current is None:
        number = 0
    elif isinstance(current, (int, float)):
        number = int(current)
    else:
        number = int(current.split(".")[0])
    return f"{number + 1:032}.{random.random():016}"


# -- lifecycle ----------------------------------------------------------------


def retarget(
    layout: Layout, key: str, body: bytes, thread_id: str
) -> tuple[str, bytes]:
    """A stored object moved to another thread: its key and envelope rewritten,
    values left as stored (no serde round trip)."""
    if (ref := layout.parse_checkpoint_key(key)) is not None:
        env = _load_envelope(CheckpointEnvelope, key, body)
        _check_identity(key, [("thread_id", env.thread_id, ref.thread_id)])
        moved_ref = CheckpointRef(thread_id, ref.checkpoint_ns, ref.checkpoint_id)
        moved = env.model_copy(update={"thread_id": thread_id})
        return layout.checkpoint_key(moved_ref), _dump(moved)
    if (write := layout.parse_write_key(key)) is not None:
        wenv = _load_envelope(WriteEnvelope, key, body)
        _check_identity(
            key, [("thread_id", wenv.thread_id, write.checkpoint.thread_id)]
        )
        c = write.checkpoint
        moved_write = WriteRef(
            CheckpointRef(thread_id, c.checkpoint_ns, c.checkpoint_id),
            write.task_id,
            write.idx,
        )
        wmoved = wenv.model_copy(update={"thread_id": thread_id})
        return layout.write_key(moved_write), _dump(wmoved)
    raise CorruptObjectError(
        f"{key}: not a checkpoint or write key", operation="CopyThread", key=key
    )


def of_runs(
    layout: Layout,
    refs: Sequence[CheckpointRef],
    bodies: Sequence[bytes | None],
    run_ids: Iterable[str],
) -> list[CheckpointRef]:
    """The checkpoints whose metadata names one of the runs. Read from the
    envelope alone: run_id is plain JSON, so no value goes through the serde."""
    runs = set(run_ids)
    found = []
    for ref, body in zip(refs, bodies, strict=True):
        if body is None:
            continue
        env = _load_envelope(CheckpointEnvelope, layout.checkpoint_key(ref), body)
        if env.metadata.get("run_id") in runs:
            found.append(ref)
    return found


PRUNE_STRATEGIES = ("keep_latest", "delete")


def check_strategy(strategy: str) -> None:
    if strategy not in PRUNE_STRATEGIES:
        raise ValueError(
            f"unknown prune strategy {strategy!r}; use one of {PRUNE_STRATEGIES}"
        )


def newest_per_namespace(refs: Iterable[CheckpointRef]) -> list[CheckpointRef]:
    """The newest checkpoint of each (thread, namespace)."""
    newest: dict[tuple[str, str], CheckpointRef] = {}
    for ref in refs:
        group = (ref.thread_id, ref.checkpoint_ns)
        if group not in newest or ref.checkpoint_id > newest[group].checkpoint_id:
            newest[group] = ref
    return list(newest.values())


def _delta_counters(stored: StoredCheckpoint) -> dict[str, Any]:
    """``counters_since_delta_snapshot``: DeltaChannel -> (updates, supersteps)."""
    metadata: Mapping[str, Any] = stored.metadata
    counters = metadata.get("counters_since_delta_snapshot") or {}
    return counters if isinstance(counters, dict) else {}


def delta_channels(stored: StoredCheckpoint) -> list[str]:
    """The DeltaChannels whose value this checkpoint rebuilds from ancestors."""
    return sorted(_delta_counters(stored))


def _owner(layout: Layout, key: str) -> CheckpointRef | None:
    """The checkpoint a checkpoint or write key belongs to."""
    if (ref := layout.parse_checkpoint_key(key)) is not None:
        return ref
    write = layout.parse_write_key(key)
    return write.checkpoint if write else None


def keys_to_prune(
    layout: Layout, keys: Iterable[str], keep: Iterable[CheckpointRef]
) -> list[str]:
    """Every key except the kept checkpoints' and their writes'."""
    kept = set(keep)
    return [key for key in keys if _owner(layout, key) not in kept]


def keys_of(
    layout: Layout, refs: Iterable[CheckpointRef], keys: Iterable[str]
) -> list[str]:
    """The keys among ``keys`` that belong to ``refs``: checkpoints and writes."""
    wanted = set(refs)
    return [key for key in keys if _owner(layout, key) in wanted]


class DeltaWalk:
    """The parent chain of a checkpoint, fetched in concurrent batches.

    ``get_delta_channel_history`` walks ancestors until every channel has a
    stored value. Instead of one ``get_tuple`` per ancestor, this plan guesses
    the chain from the namespace's ids (newest first) and the target's
    ``counters_since_delta_snapshot``, fetches that many at once, and follows
    the parent ids through what arrived; a fork or a wrong guess costs one more
    batch, never a wrong answer.
    """

    _FALLBACK_BATCH = 16

    def __init__(self, ids: Sequence[CheckpointRef], channels: Sequence[str]) -> None:
        self.ids = sorted(ids, key=lambda r: r.checkpoint_id, reverse=True)
        self.channels = list(channels)
        self.fetched: dict[str, StoredCheckpoint] = {}
        self.gone: set[str] = set()
        self.write_keys: dict[CheckpointRef, list[tuple[str, WriteRef]]] = {}
        self.target: StoredCheckpoint | None = None
        self._batch = self._FALLBACK_BATCH

    def add(
        self,
        requested: Sequence[CheckpointRef],
        stored: Sequence[StoredCheckpoint],
        writes: Sequence[tuple[str, WriteRef]],
    ) -> None:
        """Take a fetched batch: checkpoints and the write keys listed for them.
        A requested checkpoint that did not come back is gone (deleted since it
        was listed): the walk ends there, as the base's does at a missing one."""
        self.gone.update(r.checkpoint_id for r in requested)
        for item in stored:
            self.gone.discard(item.ref.checkpoint_id)
            self.fetched[item.ref.checkpoint_id] = item
        for key, write in writes:
            self.write_keys.setdefault(write.checkpoint, []).append((key, write))

    def set_target(self, stored: StoredCheckpoint) -> None:
        self.target = stored
        ns = (stored.ref.thread_id, stored.ref.checkpoint_ns)
        self.ids = [r for r in self.ids if (r.thread_id, r.checkpoint_ns) == ns]
        counters = _delta_counters(stored)
        depths = [counters[c][1] for c in self.channels if c in counters]
        if depths and len(depths) == len(self.channels):
            self._batch = max(max(depths), 1)

    def chain(self) -> tuple[list[StoredCheckpoint], str | None]:
        """The ancestors fetched so far, nearest first, and the id of the next
        one needed (None when the walk is complete)."""
        if self.target is None:
            return [], None
        chain: list[StoredCheckpoint] = []
        remaining = set(self.channels)
        parent = self.target.parent_id
        while parent is not None and remaining:
            stored = self.fetched.get(parent)
            if stored is None:
                return chain, None if parent in self.gone else parent
            chain.append(stored)
            remaining -= stored.checkpoint["channel_values"].keys()
            parent = stored.parent_id
        return chain, None

    def next_batch(self) -> list[CheckpointRef]:
        """The checkpoints to fetch next: the needed one and those just older."""
        _, needed = self.chain()
        if needed is None:
            return []
        older = [r for r in self.ids if r.checkpoint_id <= needed]
        if not older or older[0].checkpoint_id != needed:
            return []  # the parent is gone: the walk ends there, as the base's
        batch = [r for r in older if r.checkpoint_id not in self.fetched][: self._batch]
        self._batch = self._FALLBACK_BATCH
        return batch

    def writes_to_fetch(self) -> list[tuple[str, WriteRef]]:
        chain, _ = self.chain()
        return [item for s in chain for item in self.write_keys.get(s.ref, [])]

    def history(self, loaded: Loaded) -> dict[str, DeltaChannelHistory]:
        return delta_history(loaded, self.channels)

    def chain_refs(self) -> list[CheckpointRef]:
        chain, _ = self.chain()
        return [s.ref for s in chain]


# -- delta channel history ----------------------------------------------------


def delta_history(
    chain: Sequence[tuple[StoredCheckpoint, Sequence[StoredWrite]]],
    channels: Sequence[str],
) -> dict[str, DeltaChannelHistory]:
    """Per-channel writes and seed along ``chain`` (the target's ancestors,
    nearest first), as ``BaseCheckpointSaver.get_delta_channel_history``."""
    collected: dict[str, list[PendingWrite]] = {c: [] for c in channels}
    seeds: dict[str, Any] = {}
    remaining = set(channels)
    for stored, writes in chain:
        if not remaining:
            break
        for write in sorted(writes, key=StoredWrite.sort_key, reverse=True):
            if write.channel in remaining:
                collected[write.channel].append(write.pending())
        values = stored.checkpoint["channel_values"]
        for channel in [c for c in remaining if c in values]:
            seeds[channel] = values[channel]
            remaining.discard(channel)
    result: dict[str, DeltaChannelHistory] = {}
    for channel in channels:
        entry: DeltaChannelHistory = {"writes": collected[channel][::-1]}
        if channel in seeds:
            entry["seed"] = seeds[channel]
        result[channel] = entry
    return result
