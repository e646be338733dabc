"""Reading: the building blocks that list a thread, and the plans of
``get_tuple`` and ``list``."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple

from .._batches import visible
from .._codec import (
    StoredCheckpoint,
    StoredWrite,
    decode_checkpoint,
    decode_write,
    to_tuple,
)
from .._configs import CheckpointSelector
from .._delta import Loaded
from .._keys import CheckpointRef, Layout, WriteRef
from .._selection import ListQuery, writes_by_checkpoint, writes_listings
from ..errors import S3AccessError
from ..protocol import HeadBucket, List, Plan, is_bare_refusal
from ._context import PlanContext
from ._latest import newest
from ._rounds import concurrently, fetch_objects, list_keys, list_objects, perform

WriteKey = tuple[str, WriteRef]
"""A write object's key, and the write it names."""


def check_bucket(context: PlanContext) -> Plan[None]:
    """HeadBucket; a bare 403 is followed by a one-key LIST, whose answer
    carries a body that tells bad credentials from missing rights."""
    layout = context.layout
    try:
        yield from perform([HeadBucket()])
    except S3AccessError as exc:
        if not is_bare_refusal(exc):
            raise
        yield from perform([List(layout.prefix, max_keys=1)])
        raise


def thread_keys(context: PlanContext, thread_id: str) -> Plan[list[str]]:
    """Every checkpoint, write and head key of a thread, in every namespace."""
    layout = context.layout
    listed = yield from concurrently(
        list_keys(layout.thread_checkpoints_prefix(thread_id)),
        list_keys(layout.thread_writes_prefix(thread_id)),
        list_keys(layout.thread_heads_prefix(thread_id)),
    )
    return [key for keys in listed for key in keys]


def thread_checkpoints(
    context: PlanContext, thread_id: str, checkpoint_ns: str | None = None
) -> Plan[list[CheckpointRef]]:
    """A thread's checkpoints (or one namespace's), newest first, from key
    listings alone."""
    layout = context.layout
    query = ListQuery(thread_id, checkpoint_ns, None, None, {}, None)
    keys = yield from list_keys(query.prefix(layout))
    return query.candidates(layout, keys)


def thread_ids(context: PlanContext) -> Plan[list[str]]:
    """The threads under the prefix, sorted: the folders of one delimited
    LIST, so the cost is per thread, not per checkpoint."""
    layout = context.layout
    _, prefixes = yield from list_objects(layout.checkpoints_prefix(), delimiter="/")
    found = {layout.parse_thread(prefix) for prefix in prefixes}
    return sorted(thread for thread in found if thread is not None)


def _checkpoints_and_write_keys(
    context: PlanContext, refs: Sequence[CheckpointRef], *, with_writes: bool = True
) -> Plan[tuple[list[StoredCheckpoint], list[WriteKey]]]:
    """Checkpoints and, in the same round, the keys of their writes. A
    checkpoint deleted since it was listed is skipped."""
    layout = context.layout
    listings = writes_listings(layout, refs) if with_writes else []
    stored, listed = yield from concurrently(
        fetch_checkpoints(context, refs),
        concurrently(*(list_keys(w.prefix, w.start_after) for w in listings)),
    )
    return stored, _write_keys(layout, itertools.chain(*listed), stored)


def fetch_checkpoints(
    context: PlanContext, refs: Sequence[CheckpointRef]
) -> Plan[list[StoredCheckpoint]]:
    """The checkpoints of ``refs``, decoded, in one round; one deleted since
    it was listed is skipped."""
    keys = [context.layout.checkpoint_key(ref) for ref in refs]
    bodies = yield from fetch_objects(keys)
    return [
        decode_checkpoint(context.serde, key, body, ref)
        for ref, key, body in zip(refs, keys, bodies, strict=True)
        if body is not None
    ]


def _write_keys(
    layout: Layout, keys: Iterable[str], stored: Sequence[StoredCheckpoint]
) -> list[WriteKey]:
    grouped = writes_by_checkpoint(layout, keys, [s.ref for s in stored])
    return [item for items in grouped.values() for item in items]


def _attach_writes(
    context: PlanContext, stored: Sequence[StoredCheckpoint], writes: Sequence[WriteKey]
) -> Plan[Loaded]:
    """Fetch ``writes`` and attach each to its checkpoint; a write deleted
    since it was listed is skipped."""
    bodies = yield from fetch_objects([key for key, _ in writes])
    by_ref: dict[CheckpointRef, list[StoredWrite]] = {s.ref: [] for s in stored}
    for (key, ref), body in zip(writes, bodies, strict=True):
        if body is not None:
            by_ref[ref.checkpoint].append(decode_write(context.serde, key, body, ref))
    return [(s, visible(by_ref[s.ref])) for s in stored]


def _checkpoints_with_writes(
    context: PlanContext, refs: Sequence[CheckpointRef], query: ListQuery | None = None
) -> Plan[Loaded]:
    """Checkpoints with their writes, in two rounds (checkpoints and their
    writes' LISTs, then the writes), or three with a metadata filter: then
    only the checkpoints that pass it have their writes listed."""
    filtered = query is not None and bool(query.filter)
    stored, writes = yield from _checkpoints_and_write_keys(
        context, refs, with_writes=not filtered
    )
    if query is not None and filtered:
        stored = [s for s in stored if query.matches(s)]
        listings = writes_listings(context.layout, [s.ref for s in stored])
        listed = yield from concurrently(
            *(list_keys(w.prefix, w.start_after) for w in listings)
        )
        writes = _write_keys(context.layout, itertools.chain(*listed), stored)
    return (yield from _attach_writes(context, stored, writes))


def _target(context: PlanContext, config: RunnableConfig) -> Plan[CheckpointRef | None]:
    """The checkpoint the config names, or the newest of its namespace."""
    selector = CheckpointSelector.of(config)
    if selector.checkpoint_id:
        return selector.at(selector.checkpoint_id)
    found = yield from newest(
        context, selector.thread_id, selector.checkpoint_ns, 1, None, recent_first=True
    )
    if found:
        context.recent.saw_newest(found[0])
    return found[0] if found else None


def get_tuple(
    context: PlanContext, config: RunnableConfig
) -> Plan[CheckpointTuple | None]:
    """``get_tuple``: the checkpoint the config names, or the newest of its
    namespace, with its pending writes."""
    ref = yield from _target(context, config)
    if ref is None:
        return None
    found = yield from _checkpoints_with_writes(context, [ref])
    if not found:
        return None
    stored = found[0][0]
    context.recent.saw_checkpoint(stored.ref, stored.parent_id, stored.metadata)
    return to_tuple(*found[0])


def list_checkpoints(
    context: PlanContext,
    config: RunnableConfig | None,
    *,
    filter: Mapping[str, Any] | None = None,
    before: RunnableConfig | None = None,
    limit: int | None = None,
) -> Plan[list[CheckpointTuple]]:
    """``list``: checkpoints newest first, the filter applied before the limit.
    The newest ``limit`` of one namespace are found without listing it whole."""
    query = ListQuery.of(config, filter=filter, before=before, limit=limit)
    if (
        query.limit is not None
        and query.limit > 0
        and query.thread_id is not None
        and query.checkpoint_ns is not None
        and query.checkpoint_id is None
        and not query.filter
    ):
        refs = yield from newest(
            context, query.thread_id, query.checkpoint_ns, query.limit, query.before
        )
        loaded = yield from _checkpoints_with_writes(context, refs, query)
        return [to_tuple(stored, writes) for stored, writes in loaded]
    keys = yield from list_keys(query.prefix(context.layout))
    found: list[CheckpointTuple] = []
    for batch in query.batches(query.candidates(context.layout, keys)):
        loaded = yield from _checkpoints_with_writes(context, batch, query)
        found += [to_tuple(stored, writes) for stored, writes in loaded]
        if query.limit is not None and len(found) >= query.limit:
            return found[: query.limit]
    return found
