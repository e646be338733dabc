"""One plan per saver operation: every decision about what to read or write.

A plan is a generator (see :data:`.protocol.Plan`): it yields a round of
requests that do not depend on each other, receives their results in order,
decides what to fetch next, and returns the call's answer. It does no I/O, so
the sync saver, the async saver, the CLI and the tests' in-memory bucket all
run the same plan, and every rule here is written once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from .codec import (
    StoredCheckpoint,
    StoredWrite,
    decode_checkpoint,
    decode_write,
    encode_checkpoint,
    encode_writes,
    moved_to_thread,
    run_id_of,
    to_tuple,
)
from .configs import CheckpointSelector, config_of
from .delta import DeltaWalk, Loaded, delta_channels, delta_history
from .errors import CheckpointConflictError, DeleteFailedError, S3AccessError
from .keys import CheckpointRef, Layout, WriteRef
from .protocol import (
    Get,
    HeadBucket,
    List,
    Listed,
    Plan,
    Put,
    Request,
    batches_of,
    is_bare_refusal,
)
from .selection import (
    ListQuery,
    checkpoint_refs,
    keys_not_owned_by,
    keys_owned_by,
    newest,
    newest_per_namespace,
    writes_by_checkpoint,
    writes_listings,
)

__all__ = [
    "PRUNE_STRATEGIES",
    "Store",
    "check_bucket",
    "concurrently",
    "copy_thread",
    "delete_for_runs",
    "delete_keys",
    "delete_thread",
    "fetch_objects",
    "get_delta_channel_history",
    "get_tuple",
    "list_checkpoints",
    "list_keys",
    "list_objects",
    "perform",
    "prune",
    "put",
    "put_writes",
    "thread_checkpoints",
    "thread_ids",
    "thread_keys",
]

PRUNE_STRATEGIES = ("keep_latest", "delete")

WriteKey = tuple[str, WriteRef]
"""A write object's key, and the write it names."""


@dataclass(frozen=True)
class Store:
    """Where and how a saver stores: its key layout and its serializer."""

    layout: Layout
    serde: SerializerProtocol


# -- building blocks ------------------------------------------------------------


def perform(requests: Iterable[Request]) -> Plan[list[Any]]:
    """One round of ``requests``; their results in order. No round at all
    when there is nothing to ask, so round counts stay honest."""
    batch = list(requests)
    if not batch:
        return []
    results: list[Any] = yield batch
    return results


def concurrently(*plans: Plan[Any]) -> Plan[list[Any]]:
    """Run plans side by side: each round carries the next requests of every
    plan still running. Returns their answers in order."""
    answers: list[Any] = [None] * len(plans)
    pending: dict[int, list[Request]] = {}
    for i, plan in enumerate(plans):
        try:
            pending[i] = next(plan)
        except StopIteration as stop:
            answers[i] = stop.value
    while pending:
        results = yield [request for batch in pending.values() for request in batch]
        start, advanced = 0, {}
        for i, batch in pending.items():
            part, start = results[start : start + len(batch)], start + len(batch)
            try:
                advanced[i] = plans[i].send(part)
            except StopIteration as stop:
                answers[i] = stop.value
        pending = advanced
    return answers


def list_objects(
    prefix: str, start_after: str | None = None, delimiter: str | None = None
) -> Plan[tuple[list[Listed], list[str]]]:
    """Every page of a LIST: the objects, and the common prefixes when a
    delimiter is given. One round per 1,000 keys."""
    objects: list[Listed] = []
    prefixes: list[str] = []
    token: str | None = None
    while True:
        (page,) = yield from perform([List(prefix, start_after, token, delimiter)])
        objects += page.objects
        prefixes += page.prefixes
        if page.continuation is None:
            return objects, prefixes
        token = page.continuation


def list_keys(prefix: str, start_after: str | None = None) -> Plan[list[str]]:
    """Every key under ``prefix`` (after ``start_after``), in listing order."""
    objects, _ = yield from list_objects(prefix, start_after)
    return [obj.key for obj in objects]


def fetch_objects(keys: Sequence[str]) -> Plan[list[bytes | None]]:
    """The bodies of ``keys`` in one round; None for a key that is gone."""
    bodies: list[bytes | None] = yield from perform(Get(key) for key in keys)
    return bodies


def delete_keys(keys: Sequence[str]) -> Plan[None]:
    """Delete ``keys`` in one round of 1,000-key batches; raise with every key
    S3 said it did not delete."""
    results = yield from perform(batches_of(keys))
    failures = [failure for result in results for failure in result]
    if failures:
        raise DeleteFailedError(failures)


def check_bucket(layout: Layout) -> Plan[None]:
    """HeadBucket; a bare 403 is followed by a one-key LIST, whose answer
    carries a body that tells bad credentials from missing rights."""
    try:
        yield from perform([HeadBucket()])
    except S3AccessError as exc:
        if not is_bare_refusal(exc):
            raise
        yield from perform([List(layout.prefix, max_keys=1)])
        raise


def thread_keys(layout: Layout, thread_id: str) -> Plan[list[str]]:
    """Every checkpoint and write key of a thread, in every namespace."""
    listed = yield from concurrently(
        list_keys(layout.thread_checkpoints_prefix(thread_id)),
        list_keys(layout.thread_writes_prefix(thread_id)),
    )
    return [key for keys in listed for key in keys]


def thread_checkpoints(
    layout: Layout, thread_id: str, checkpoint_ns: str | None = None
) -> Plan[list[CheckpointRef]]:
    """A thread's checkpoints (or one namespace's), newest first, from key
    listings alone."""
    query = ListQuery(thread_id, checkpoint_ns, None, None, {}, None)
    keys = yield from list_keys(query.prefix(layout))
    return query.candidates(layout, keys)


def thread_ids(layout: Layout) -> Plan[list[str]]:
    """The threads under the prefix, sorted: the folders of one delimited
    LIST, so the cost is per thread, not per checkpoint."""
    _, prefixes = yield from list_objects(layout.checkpoints_prefix(), delimiter="/")
    found = {layout.parse_thread(prefix) for prefix in prefixes}
    return sorted(thread for thread in found if thread is not None)


# -- reading checkpoints ------------------------------------------------------------


def _checkpoints_and_write_keys(
    store: Store, refs: Sequence[CheckpointRef], *, with_writes: bool = True
) -> Plan[tuple[list[StoredCheckpoint], list[WriteKey]]]:
    """Checkpoints and, in the same round, the keys of their writes. A
    checkpoint deleted since it was listed is skipped."""
    layout = store.layout
    listings = writes_listings(layout, refs) if with_writes else []
    bodies, listed = yield from concurrently(
        fetch_objects([layout.checkpoint_key(ref) for ref in refs]),
        concurrently(*(list_keys(w.prefix, w.start_after) for w in listings)),
    )
    stored = [
        decode_checkpoint(store.serde, layout.checkpoint_key(ref), body, ref)
        for ref, body in zip(refs, bodies, strict=True)
        if body is not None
    ]
    return stored, _write_keys(layout, itertools.chain(*listed), stored)


def _write_keys(
    layout: Layout, keys: Iterable[str], stored: Sequence[StoredCheckpoint]
) -> list[WriteKey]:
    grouped = writes_by_checkpoint(layout, keys, [s.ref for s in stored])
    return [item for items in grouped.values() for item in items]


def _attach_writes(
    store: Store, stored: Sequence[StoredCheckpoint], writes: Sequence[WriteKey]
) -> Plan[Loaded]:
    """Fetch ``writes`` and attach each to its checkpoint; a write deleted
    since it was listed is skipped."""
    bodies = yield from fetch_objects([key for key, _ in writes])
    by_ref: dict[CheckpointRef, list[StoredWrite]] = {s.ref: [] for s in stored}
    for (key, ref), body in zip(writes, bodies, strict=True):
        if body is not None:
            by_ref[ref.checkpoint].append(decode_write(store.serde, key, body, ref))
    return [(s, by_ref[s.ref]) for s in stored]


def _checkpoints_with_writes(
    store: Store, refs: Sequence[CheckpointRef], query: ListQuery | None = None
) -> Plan[Loaded]:
    """Checkpoints with their writes, in two rounds (checkpoints and their
    writes' LISTs, then the writes), or three with a metadata filter: then
    only the checkpoints that pass it have their writes listed."""
    filtered = query is not None and bool(query.filter)
    stored, writes = yield from _checkpoints_and_write_keys(
        store, refs, with_writes=not filtered
    )
    if query is not None and filtered:
        stored = [s for s in stored if query.matches(s)]
        listings = writes_listings(store.layout, [s.ref for s in stored])
        listed = yield from concurrently(
            *(list_keys(w.prefix, w.start_after) for w in listings)
        )
        writes = _write_keys(store.layout, itertools.chain(*listed), stored)
    return (yield from _attach_writes(store, stored, writes))


def get_tuple(store: Store, config: RunnableConfig) -> Plan[CheckpointTuple | None]:
    """``get_tuple``: the checkpoint the config names, or the newest of its
    namespace, with its pending writes."""
    selector = CheckpointSelector.of(config)
    if selector.checkpoint_id is not None:
        ref: CheckpointRef | None = selector.at(selector.checkpoint_id)
    else:
        prefix = store.layout.namespace_checkpoints_prefix(
            selector.thread_id, selector.checkpoint_ns
        )
        keys = yield from list_keys(prefix)
        ref = newest(r for k in keys if (r := store.layout.parse_checkpoint_key(k)))
    if ref is None:
        return None
    found = yield from _checkpoints_with_writes(store, [ref])
    return to_tuple(*found[0]) if found else None


def list_checkpoints(
    store: Store,
    config: RunnableConfig | None,
    *,
    filter: Mapping[str, Any] | None = None,
    before: RunnableConfig | None = None,
    limit: int | None = None,
) -> Plan[list[CheckpointTuple]]:
    """``list``: checkpoints newest first, the filter applied before the limit."""
    query = ListQuery.of(config, filter=filter, before=before, limit=limit)
    keys = yield from list_keys(query.prefix(store.layout))
    found: list[CheckpointTuple] = []
    for batch in query.batches(query.candidates(store.layout, keys)):
        loaded = yield from _checkpoints_with_writes(store, batch, query)
        found += [to_tuple(stored, writes) for stored, writes in loaded]
        if query.limit is not None and len(found) >= query.limit:
            return found[: query.limit]
    return found


# -- writing ----------------------------------------------------------------------


def put(
    store: Store,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
) -> Plan[RunnableConfig]:
    """``put``: one conditional PUT. A taken key is fine when it holds the
    same bytes (a retried request), a conflict when it holds others."""
    ref, body = encode_checkpoint(store.serde, config, checkpoint, metadata)
    key = store.layout.checkpoint_key(ref)
    (stored,) = yield from perform([Put(key, body, if_absent=True)])
    if not stored:
        (existing,) = yield from fetch_objects([key])
        if existing != body:
            raise CheckpointConflictError(
                f"{key}: a different checkpoint with this id is stored already; "
                "checkpoints are never overwritten",
                operation="PutObject",
                key=key,
            )
    return config_of(ref)


def put_writes(
    store: Store,
    config: RunnableConfig,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str = "",
) -> Plan[None]:
    """``put_writes``: one PUT per write, in one round."""
    objects, overwrite = encode_writes(store.serde, config, writes, task_id, task_path)
    yield from perform(
        Put(store.layout.write_key(ref), body, if_absent=not overwrite)
        for ref, body in objects
    )


# -- lifecycle ----------------------------------------------------------------------


def delete_thread(layout: Layout, thread_id: str) -> Plan[None]:
    """``delete_thread``: list the thread's keys, delete them in batches."""
    keys = yield from thread_keys(layout, thread_id)
    yield from delete_keys(keys)


def delete_for_runs(layout: Layout, run_ids: Sequence[str]) -> Plan[None]:
    """``delete_for_runs``: the layout has no index by run, so every
    checkpoint under the prefix is read (its envelope, no serde): 1 LIST per
    1,000 checkpoints, 1 GET per checkpoint, then the matches' writes LISTs and
    the DeleteObjects batches."""
    if not run_ids:
        return
    runs = set(run_ids)
    keys = yield from list_keys(layout.checkpoints_prefix())
    refs = checkpoint_refs(layout, keys)
    bodies = yield from fetch_objects([layout.checkpoint_key(r) for r in refs])
    matched = [
        ref
        for ref, body in zip(refs, bodies, strict=True)
        if body is not None and run_id_of(layout.checkpoint_key(ref), body) in runs
    ]
    listed = yield from concurrently(
        *(list_keys(w.prefix, w.start_after) for w in writes_listings(layout, matched))
    )
    doomed = keys_owned_by(layout, matched, [*keys, *itertools.chain(*listed)])
    yield from delete_keys(doomed)


def copy_thread(layout: Layout, source: str, target: str) -> Plan[None]:
    """``copy_thread``: every object of the source rewritten for the target,
    values untouched; objects the target has already are kept (first wins)."""
    keys = yield from thread_keys(layout, source)
    bodies = yield from fetch_objects(keys)
    moved = [
        moved_to_thread(layout, key, body, target)
        for key, body in zip(keys, bodies, strict=True)
        if body is not None
    ]
    yield from perform(Put(key, body, if_absent=True) for key, body in moved)


def _delta_walk(
    store: Store,
    ref: CheckpointRef | None,
    refs: Sequence[CheckpointRef],
    channels: Sequence[str] | None,
) -> Plan[DeltaWalk]:
    """Fetch a checkpoint's ancestors in batches until the walk over
    ``channels`` (default: the checkpoint's own DeltaChannels) is done."""
    stored, _ = yield from _checkpoints_and_write_keys(
        store, [ref] if ref else [], with_writes=False
    )
    if not stored:
        return DeltaWalk(refs, channels or [])
    walk = DeltaWalk(refs, delta_channels(stored[0]) if channels is None else channels)
    walk.set_target(stored[0])
    while batch := walk.next_batch():
        found, writes = yield from _checkpoints_and_write_keys(store, batch)
        walk.add(batch, found, writes)
    return walk


def prune(store: Store, thread_ids: Sequence[str], strategy: str) -> Plan[None]:
    """``prune``: ``"keep_latest"`` keeps the newest checkpoint of each
    namespace with its writes (and, for DeltaChannel state, the ancestors and
    writes it is rebuilt from); ``"delete"`` removes everything."""
    if strategy not in PRUNE_STRATEGIES:
        raise ValueError(
            f"unknown prune strategy {strategy!r}; use one of {PRUNE_STRATEGIES}"
        )
    for thread_id in thread_ids:
        keys = yield from thread_keys(store.layout, thread_id)
        keep: list[CheckpointRef] = []
        if strategy == "keep_latest":
            refs = checkpoint_refs(store.layout, keys)
            for latest in newest_per_namespace(refs):
                walk = yield from _delta_walk(store, latest, refs, None)
                keep += [*walk.chain_refs(), latest]
        yield from delete_keys(keys_not_owned_by(store.layout, keep, keys))


def get_delta_channel_history(
    store: Store, config: RunnableConfig, channels: Sequence[str]
) -> Plan[dict[str, DeltaChannelHistory]]:
    """``get_delta_channel_history``: each channel's writes and seed along the
    checkpoint's ancestors, fetched in a few concurrent rounds instead of one
    read per ancestor."""
    if not channels:
        return {}
    selector = CheckpointSelector.of(config)
    prefix = store.layout.namespace_checkpoints_prefix(
        selector.thread_id, selector.checkpoint_ns
    )
    refs = checkpoint_refs(store.layout, (yield from list_keys(prefix)))
    ref = (
        selector.at(selector.checkpoint_id)
        if selector.checkpoint_id
        else next(iter(refs), None)
    )
    walk = yield from _delta_walk(store, ref, refs, channels)
    chain, _ = walk.chain()
    loaded = yield from _attach_writes(store, chain, walk.writes_to_fetch())
    return delta_history(loaded, walk.channels)
