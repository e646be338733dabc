"""Reading: the building blocks that list a thread, and the plans of
``get_tuple`` and ``list``."""

from __future__ import annotations

import datetime
import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple

from .._batches import visible
from .._codec import (
    StoredCheckpoint,
    StoredWrite,
    decode_checkpoint,
    decode_metadata,
    decode_write,
    load_checkpoint,
    load_value,
    to_tuple,
)
from .._configs import CheckpointSelector
from .._delta import Loaded
from .._keys import CheckpointRef, Layout, WriteRef
from .._recency import refused
from .._selection import ListQuery, writes_by_checkpoint, writes_listings
from .._shared import ChannelVersion, channel_version
from ..envelopes import CheckpointEnvelope, SharedRef, TypedValue
from ..errors import S3AccessError
from ..protocol import HeadBucket, List, Listed, Plan, is_bare_refusal
from ._context import PlanContext
from ._latest import newest
from ._rounds import concurrently, fetch_objects, list_keys, list_objects, perform

T = TypeVar("T")

WriteKey = tuple[str, WriteRef]
"""A write object's key, and the write it names."""

Envelope = tuple[CheckpointRef, str, CheckpointEnvelope]
"""A checkpoint read but not yet decoded: its ref, key and envelope."""

SharedByThread = dict[str, dict[str, TypedValue]]
"""Shared values read, by thread and hash."""


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


def thread_keys(
    context: PlanContext, thread_id: str, *, values: bool = True
) -> Plan[list[str]]:
    """Every checkpoint, write and head key of a thread, in every namespace,
    and (``values``) its shared values'."""
    layout = context.layout
    listed = yield from concurrently(
        list_keys(layout.thread_checkpoints_prefix(thread_id)),
        list_keys(layout.thread_writes_prefix(thread_id)),
        list_keys(layout.thread_heads_prefix(thread_id)),
        *([list_keys(layout.thread_values_prefix(thread_id))] if values else []),
    )
    return [key for keys in listed for key in keys]


VALUE_GRACE = datetime.timedelta(minutes=15)
"""How old an unused shared value must be to be deleted: a writer stores a
value a round before the checkpoint that refers to it, so a younger one may
be about to be used."""


def thread_values(context: PlanContext, thread_id: str) -> Plan[list[Listed]]:
    """The thread's shared values as LIST shows them (one LIST per 1,000)."""
    listed, _ = yield from list_objects(context.layout.thread_values_prefix(thread_id))
    return listed


def unused_values(
    context: PlanContext,
    thread_id: str,
    kept: Sequence[CheckpointRef],
    listed: Sequence[Listed] | None = None,
) -> Plan[list[str]]:
    """The keys of the thread's shared values (``listed``, else listed now)
    that none of the ``kept`` checkpoints (the thread's every remaining one)
    refers to, and that are older than :data:`VALUE_GRACE`. If it has any
    values: one GET per kept checkpoint."""
    layout = context.layout
    if listed is None:
        listed = yield from thread_values(context, thread_id)
    if not listed:
        return []
    envelopes = yield from fetch_envelopes(context, kept)
    used = {ref.sha256 for _, _, env in envelopes for ref in env.shared().values()}
    now = datetime.datetime.fromtimestamp(context.clock() / 1e9, datetime.timezone.utc)
    unused: dict[str, str] = {}
    for obj in listed:
        value = layout.parse_value_key(obj.key)
        if value is None or value[1] in used:
            continue
        if obj.last_modified is not None and now - obj.last_modified < VALUE_GRACE:
            continue
        unused[value[1]] = obj.key
    context.shared.forget(thread_id, set(unused))
    return list(unused.values())


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
    """Checkpoints and, in the same round, the keys of their writes (the
    shared values they refer to in another round, if not held). A
    checkpoint deleted since it was listed is skipped."""
    stored, listed = yield from with_write_keys(
        context, lambda: fetch_checkpoints(context, refs), refs if with_writes else []
    )
    return stored, _write_keys(context.layout, listed, stored)


def with_write_keys(
    context: PlanContext,
    plan: Callable[[], Plan[T]],
    refs: Sequence[CheckpointRef],
) -> Plan[tuple[T, list[str]]]:
    """``plan()`` and, in the same rounds, the keys of the writes of ``refs``
    (and maybe of others, to be dropped); no LIST for no refs.

    The writes of several checkpoints are one LIST from just before the
    lowest, with StartAfter. A store that refuses it (S3 Express One Zone)
    is remembered, and both are run again, listing from the start: once in a
    saver's life, since this may be the first LIST it ever sends there.
    """
    try:
        return (yield from _with_write_keys(context, plan(), refs))
    except S3AccessError as exc:
        listing = exc.operation == "ListObjectsV2" and len(refs) > 1
        if not (listing and context.recent.lists_in_order and refused(exc.code)):
            raise
    context.recent.lists_in_order = False
    return (yield from _with_write_keys(context, plan(), refs))


def _with_write_keys(
    context: PlanContext, plan: Plan[T], refs: Sequence[CheckpointRef]
) -> Plan[tuple[T, list[str]]]:
    in_order = context.recent.lists_in_order
    listings = writes_listings(context.layout, refs, start_after=in_order)
    found, listed = yield from concurrently(
        plan, concurrently(*(list_keys(w.prefix, w.start_after) for w in listings))
    )
    return found, list(itertools.chain(*listed))


def fetch_envelopes(
    context: PlanContext, refs: Sequence[CheckpointRef]
) -> Plan[list[Envelope]]:
    """The checkpoints of ``refs``, checked but not decoded, in one round; one
    deleted since it was listed is skipped."""
    keys = [context.layout.checkpoint_key(ref) for ref in refs]
    bodies = yield from fetch_objects(keys)
    return [
        (ref, key, load_checkpoint(key, body, ref))
        for ref, key, body in zip(refs, keys, bodies, strict=True)
        if body is not None
    ]


def matching(
    context: PlanContext, query: ListQuery, envelopes: Sequence[Envelope]
) -> list[Envelope]:
    """The checkpoints whose metadata passes the query's filter (no shared
    value is needed for it)."""
    return [
        (ref, key, env)
        for ref, key, env in envelopes
        if query.matches(decode_metadata(context.serde, key, env))
    ]


def fetch_shared(
    context: PlanContext, envelopes: Sequence[Envelope]
) -> Plan[SharedByThread]:
    """The shared values the checkpoints refer to, each read once, in one
    round: none for the values the saver holds. A value object that is
    missing is left out (decoding then names it)."""
    found: SharedByThread = {}
    wanted: dict[str, tuple[str, str]] = {}
    seen: list[tuple[ChannelVersion, SharedRef]] = []
    for ref, _, env in envelopes:
        held = found.setdefault(ref.thread_id, {})
        versions = env.checkpoint.channel_versions
        for channel, shared in env.shared().items():
            version = channel_version(
                ref.thread_id, ref.checkpoint_ns, channel, versions
            )
            if version is not None:
                seen.append((version, shared))
            digest = shared.sha256
            if digest in held:
                continue
            if (value := context.shared.cached(ref.thread_id, digest)) is not None:
                held[digest] = value
            else:
                wanted[context.layout.value_key(ref.thread_id, digest)] = (
                    ref.thread_id,
                    digest,
                )
    bodies = yield from fetch_objects(list(wanted))
    for (key, (thread_id, digest)), body in zip(wanted.items(), bodies, strict=True):
        if body is not None:
            value = load_value(key, body, thread_id, digest)
            context.shared.stored(thread_id, digest, value)
            found[thread_id][digest] = value
    # A value read (or held) is stored: a child that keeps the channel as it
    # is refers to it without serializing it again.
    for version, shared in seen:
        if shared.sha256 in found[version[0]]:
            context.shared.saw_version(version, shared)
    return found


def decoded(
    context: PlanContext, envelopes: Sequence[Envelope], shared: SharedByThread
) -> list[StoredCheckpoint]:
    """The checkpoints decoded, with the shared values they refer to."""
    layout = context.layout
    return [
        decode_checkpoint(
            context.serde,
            key,
            env,
            ref,
            shared.get(ref.thread_id),
            value_key=functools.partial(layout.value_key, ref.thread_id),
        )
        for ref, key, env in envelopes
    ]


def fetch_checkpoints(
    context: PlanContext, refs: Sequence[CheckpointRef]
) -> Plan[list[StoredCheckpoint]]:
    """The checkpoints of ``refs``, decoded: one round, and one more for the
    shared values they refer to that the saver does not hold. One deleted
    since it was listed is skipped."""
    envelopes = yield from fetch_envelopes(context, refs)
    shared = yield from fetch_shared(context, envelopes)
    return decoded(context, envelopes, shared)


def _write_keys(
    layout: Layout, keys: Iterable[str], stored: Sequence[StoredCheckpoint]
) -> list[WriteKey]:
    grouped = writes_by_checkpoint(layout, keys, [s.ref for s in stored])
    return [item for items in grouped.values() for item in items]


def _fetch_writes(
    context: PlanContext, writes: Sequence[WriteKey]
) -> Plan[dict[CheckpointRef, list[StoredWrite]]]:
    """The writes of ``writes``, by checkpoint; one deleted since it was
    listed is skipped."""
    bodies = yield from fetch_objects([key for key, _ in writes])
    by_ref: dict[CheckpointRef, list[StoredWrite]] = {}
    for (key, ref), body in zip(writes, bodies, strict=True):
        if body is not None:
            stored = decode_write(context.serde, key, body, ref)
            by_ref.setdefault(ref.checkpoint, []).append(stored)
    return by_ref


def _attach_writes(
    context: PlanContext, stored: Sequence[StoredCheckpoint], writes: Sequence[WriteKey]
) -> Plan[Loaded]:
    """Fetch ``writes`` and attach each to its checkpoint."""
    by_ref = yield from _fetch_writes(context, writes)
    return [(s, visible(by_ref.get(s.ref, []))) for s in stored]


def _checkpoints_with_writes(
    context: PlanContext, refs: Sequence[CheckpointRef], query: ListQuery | None = None
) -> Plan[Loaded]:
    """Checkpoints with their writes, in two rounds (checkpoints and their
    writes' LISTs, then the writes and the shared values the checkpoints
    refer to), or three with a metadata filter: then only the checkpoints
    that pass it have their writes listed."""
    filtered = query is not None and bool(query.filter)
    envelopes, listed = yield from with_write_keys(
        context, lambda: fetch_envelopes(context, refs), [] if filtered else refs
    )
    if query is not None and filtered:
        envelopes = matching(context, query, envelopes)
        _, listed = yield from with_write_keys(
            context, lambda: perform([]), [ref for ref, _, _ in envelopes]
        )
    wanted = [ref for ref, _, _ in envelopes]
    grouped = writes_by_checkpoint(context.layout, listed, wanted)
    writes = [item for items in grouped.values() for item in items]
    shared, by_ref = yield from concurrently(
        fetch_shared(context, envelopes), _fetch_writes(context, writes)
    )
    return [
        (s, visible(by_ref.get(s.ref, []))) for s in decoded(context, envelopes, shared)
    ]


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
