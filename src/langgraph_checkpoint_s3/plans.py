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
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from .batches import Entry, new_token, visible
from .batches import step as next_step
from .codec import (
    StoredCheckpoint,
    StoredWrite,
    decode_checkpoint,
    decode_write,
    encode_checkpoint,
    encode_writes,
    held_writes,
    moved_to_thread,
    run_id_of,
    to_tuple,
    with_token,
    write_object,
)
from .configs import CheckpointSelector, config_of
from .delta import DeltaWalk, Loaded, delta_channels, delta_history, walk_depth
from .envelopes import CallWrite
from .errors import (
    CheckpointConflictError,
    ConditionalWritesError,
    S3AccessError,
)
from .heads import due, encode_head
from .keys import CheckpointRef, Layout, WriteRef
from .newest import newest
from .protocol import (
    Get,
    HeadBucket,
    List,
    Plan,
    Put,
    Tagged,
    is_bare_refusal,
)
from .recency import (
    RecentReads,
)
from .rounds import (
    concurrently,
    delete_keys,
    fetch_objects,
    list_keys,
    list_objects,
    perform,
)
from .selection import (
    ListQuery,
    checkpoint_refs,
    keys_not_owned_by,
    keys_owned_by,
    newest_per_namespace,
    writes_by_checkpoint,
    writes_listings,
)

__all__ = [
    "PRUNE_STRATEGIES",
    "ConditionalWrites",
    "Store",
    "check_bucket",
    "concurrently",
    "copy_thread",
    "delete_for_runs",
    "delete_keys",
    "delete_thread",
    "fetch_checkpoints",
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


@dataclass
class ConditionalWrites:
    """Whether a saver sends conditional writes, and whether its store has
    been seen to honour them. A saver checks once: the first conditional PUT
    that stores is sent again, and must now find the key taken."""

    enabled: bool = True
    verified: bool = False
    checking: bool = False
    """A check is under way: writes meanwhile do not start another."""
    refusal: ConditionalWritesError | None = None
    """Set when the store was found to ignore them: every write raises it."""


@dataclass(frozen=True)
class Store:
    """Where and how a saver stores: its key layout, its serializer, and what
    it has learnt (the store's conditional writes, its recent reads), shared
    by a saver's copies."""

    layout: Layout
    serde: SerializerProtocol
    conditions: ConditionalWrites = field(
        default_factory=lambda: ConditionalWrites(verified=True)
    )
    recent: RecentReads = field(default_factory=RecentReads)
    """What the saver remembers of the checkpoints it just read."""

    def put(self, key: str, body: bytes, *, if_absent: bool) -> Put:
        """A PUT, conditional only when the saver sends conditional writes."""
        return Put(key, body, if_absent=if_absent and self.conditions.enabled)


# -- building blocks (see also .rounds) ------------------------------------------


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
    """Every checkpoint, write and head key of a thread, in every namespace."""
    listed = yield from concurrently(
        list_keys(layout.thread_checkpoints_prefix(thread_id)),
        list_keys(layout.thread_writes_prefix(thread_id)),
        list_keys(layout.thread_heads_prefix(thread_id)),
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
    stored, listed = yield from concurrently(
        fetch_checkpoints(store, refs),
        concurrently(*(list_keys(w.prefix, w.start_after) for w in listings)),
    )
    return stored, _write_keys(layout, itertools.chain(*listed), stored)


def fetch_checkpoints(
    store: Store, refs: Sequence[CheckpointRef]
) -> Plan[list[StoredCheckpoint]]:
    """The checkpoints of ``refs``, decoded, in one round; one deleted since
    it was listed is skipped."""
    keys = [store.layout.checkpoint_key(ref) for ref in refs]
    bodies = yield from fetch_objects(keys)
    return [
        decode_checkpoint(store.serde, key, body, ref)
        for ref, key, body in zip(refs, keys, bodies, strict=True)
        if body is not None
    ]


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
    return [(s, visible(by_ref[s.ref])) for s in stored]


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


def _target(store: Store, config: RunnableConfig) -> Plan[CheckpointRef | None]:
    """The checkpoint the config names, or the newest of its namespace."""
    selector = CheckpointSelector.of(config)
    if selector.checkpoint_id:
        return selector.at(selector.checkpoint_id)
    found = yield from newest(
        store, selector.thread_id, selector.checkpoint_ns, 1, None, recent_first=True
    )
    if found:
        store.recent.saw_newest(found[0])
    return found[0] if found else None


def get_tuple(store: Store, config: RunnableConfig) -> Plan[CheckpointTuple | None]:
    """``get_tuple``: the checkpoint the config names, or the newest of its
    namespace, with its pending writes."""
    ref = yield from _target(store, config)
    if ref is None:
        return None
    found = yield from _checkpoints_with_writes(store, [ref])
    if not found:
        return None
    stored = found[0][0]
    store.recent.saw_checkpoint(stored.ref, stored.parent_id, stored.metadata)
    return to_tuple(*found[0])


def list_checkpoints(
    store: Store,
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
            store, query.thread_id, query.checkpoint_ns, query.limit, query.before
        )
        loaded = yield from _checkpoints_with_writes(store, refs, query)
        return [to_tuple(stored, writes) for stored, writes in loaded]
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
    """``put``: one conditional PUT (every 100th step with the namespace's
    head beside it, in the same round; see :mod:`.heads`). A taken key is
    fine when it holds the same bytes (a retried request), a conflict when it
    holds others."""
    _refuse_if_unconditional(store)
    ref, body = encode_checkpoint(store.serde, config, checkpoint, metadata)
    key = store.layout.checkpoint_key(ref)
    request = store.put(key, body, if_absent=True)
    requests = [request]
    if due(metadata):
        head_key = store.layout.head_key(ref.thread_id, ref.checkpoint_ns)
        head = encode_head(ref, store.recent.wrote_head(ref, metadata["step"]))
        requests.append(Put(head_key, head, if_absent=False, hint=True))
    stored, *_ = yield from perform(requests)
    yield from _check_conditions(store, [request], [stored])
    store.recent.saw_newest(ref)
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
    """``put_writes``: one PUT per write, in one round, each only where its
    key is free. A call that finds keys taken (a task run again, a racing
    caller) reads its keys back and settles them by LangGraph's rule (see
    :mod:`.batches`)."""
    _refuse_if_unconditional(store)
    token = new_token()
    objects = encode_writes(store.serde, config, writes, task_id, task_path, token)
    requests = [
        store.put(store.layout.write_key(ref), write_object(ref, write), if_absent=True)
        for ref, write in objects
    ]
    stored = yield from perform(requests)
    yield from _check_conditions(store, requests, stored)
    if all(stored) or not store.conditions.enabled:
        return
    yield from _settle_writes(store, token, objects)


def _check_conditions(
    store: Store, requests: Sequence[Put], stored: Sequence[bool]
) -> Plan[None]:
    """Once per saver, send again a conditional PUT that stored: a store that
    honours ``If-None-Match`` now finds the key taken."""
    _refuse_if_unconditional(store)
    conditions = store.conditions
    if conditions.verified or conditions.checking or not conditions.enabled:
        return
    done = [r for r, ok in zip(requests, stored, strict=True) if ok and r.if_absent]
    if not done:
        return
    conditions.checking = True
    try:
        (again,) = yield from perform(done[:1])
    finally:
        conditions.checking = False
    if again:
        conditions.refusal = ConditionalWritesError(
            f"{done[0].key}: the store accepted If-None-Match: * for a key that "
            "exists, so it ignores conditional writes; first-wins writes and "
            "checkpoints that are never replaced cannot be kept there. Use a "
            "store that supports them, or pass conditional_writes=False to run "
            "without (see the README, Consistency and safety)",
            operation="PutObject",
            key=done[0].key,
        )
        raise conditions.refusal
    conditions.verified = True


def _refuse_if_unconditional(store: Store) -> None:
    if store.conditions.refusal is not None:
        raise store.conditions.refusal


_SETTLE_ATTEMPTS = 8


def _settle_writes(
    store: Store, token: str, objects: Sequence[tuple[WriteRef, CallWrite]]
) -> Plan[None]:
    """Read the call's keys back (and the other idx of the calls found there)
    and store, each only if unchanged since read, what :func:`.batches.step`
    says, until the call is complete."""
    first = objects[0][0]
    ours = {ref.idx: write for ref, write in objects}
    own = frozenset({token})
    scope = set(ours)
    refs: dict[int, WriteRef] = {}

    def ref_of(idx: int) -> WriteRef:
        return refs.setdefault(idx, WriteRef(first.checkpoint, first.task_id, idx))

    def key(idx: int) -> str:
        return store.layout.write_key(ref_of(idx))

    for _ in range(_SETTLE_ATTEMPTS):
        order = sorted(scope)
        results = yield from perform(Get(key(i), tagged=True) for i in order)
        found: dict[int, Tagged | None] = dict(zip(order, results, strict=True))
        held = {
            i: held_writes(key(i), tagged.body, ref_of(i)) if tagged else []
            for i, tagged in found.items()
        }
        slots = {i: [Entry.of_batch(w.batch) for w in held[i]] for i in held}
        step = next_step(token, own, frozenset(ours), slots)
        if step.read:
            scope |= step.read
            continue
        if step.done:
            return
        token, own = step.token, own | {step.token}
        requests = [
            _replace(
                key(i),
                write_object(
                    ref_of(i),
                    with_token(ours[i], token),
                    [w for w in held[i] if w.batch.id in kept],
                ),
                found[i],
            )
            for i, kept in sorted(step.write.items())
        ]
        replaced = yield from perform(requests)
        if all(replaced):
            return
    raise CheckpointConflictError(
        f"{store.layout.checkpoint_writes_prefix(first.checkpoint)}: the writes of "
        f"task {first.task_id!r} could not be stored; other callers kept "
        "changing them",
        operation="PutObject",
        key=key(first.idx),
    )


def _replace(key: str, body: bytes, held: Tagged | None) -> Put:
    """A PUT that stores only if the key still holds what was read."""
    if held is None:
        return Put(key, body, if_absent=True)
    return Put(key, body, if_absent=False, if_match=held.etag)


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
    # A namespace left with no checkpoint loses its head too (nothing else
    # would ever find it); another keeps it (a head is only a start).
    gone = set(matched)
    kept = {(r.thread_id, r.checkpoint_ns) for r in refs if r not in gone}
    emptied = {(r.thread_id, r.checkpoint_ns) for r in gone} - kept
    doomed += [layout.head_key(t, ns) for t, ns in sorted(emptied)]
    yield from delete_keys(doomed)


def copy_thread(store: Store, source: str, target: str) -> Plan[None]:
    """``copy_thread``: every object of the source rewritten for the target,
    values untouched; objects the target has already are kept (first wins).
    Heads are hints of the source's own writes: the target writes its own."""
    layout = store.layout
    listed = yield from thread_keys(layout, source)
    keys = [key for key in listed if layout.parse_head_key(key) is None]
    bodies = yield from fetch_objects(keys)
    moved = [
        moved_to_thread(layout, key, body, target)
        for key, body in zip(keys, bodies, strict=True)
        if body is not None
    ]
    yield from perform(store.put(key, body, if_absent=True) for key, body in moved)


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
    delta = delta_channels(stored[0].metadata) if channels is None else channels
    walk = DeltaWalk(refs, delta)
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


_SHORT_WALK = 2
"""Ancestors a DeltaChannel walk follows one by one (a GET and its writes'
LIST each) rather than listing the namespace to fetch them in a batch."""


def _parent_walk(
    store: Store, target: CheckpointRef, parent_id: str | None, channels: Sequence[str]
) -> Plan[Loaded]:
    """The target's ancestors, one per round, until every channel has a stored
    value or the chain ends (a missing parent ends it, as in the base)."""
    chain: list[StoredCheckpoint] = []
    writes: list[WriteKey] = []
    remaining = set(channels)
    seen: set[str] = set()
    while parent_id is not None and remaining and parent_id not in seen:
        seen.add(parent_id)
        ref = CheckpointRef(target.thread_id, target.checkpoint_ns, parent_id)
        stored, keys = yield from _checkpoints_and_write_keys(store, [ref])
        if not stored:
            break
        chain.append(stored[0])
        writes += keys
        remaining -= stored[0].checkpoint["channel_values"].keys()
        parent_id = stored[0].parent_id
    return (yield from _attach_writes(store, chain, writes))


def _batch_walk(
    store: Store,
    target: StoredCheckpoint,
    refs: Sequence[CheckpointRef],
    channels: Sequence[str],
) -> Plan[Loaded]:
    """The target's ancestors in concurrent batches guessed from the
    namespace's ids (see :class:`.delta.DeltaWalk`)."""
    walk = DeltaWalk(refs, channels)
    walk.set_target(target)
    while batch := walk.next_batch():
        found, writes = yield from _checkpoints_and_write_keys(store, batch)
        walk.add(batch, found, writes)
    chain, _ = walk.chain()
    return (yield from _attach_writes(store, chain, walk.writes_to_fetch()))


def get_delta_channel_history(
    store: Store, config: RunnableConfig, channels: Sequence[str]
) -> Plan[dict[str, DeltaChannelHistory]]:
    """``get_delta_channel_history``: each channel's writes and seed along the
    checkpoint's ancestors, fetched in a few concurrent rounds instead of one
    read per ancestor.

    A target this saver has just read (``get_tuple``, as LangGraph's
    ``get_state`` does first) is not read again. A walk of at most
    :data:`_SHORT_WALK` ancestors follows parents directly; a longer one lists
    the namespace and fetches the chain in batches.
    """
    if not channels:
        return {}
    layout = store.layout
    ref = yield from _target(store, config)
    if ref is None:
        return delta_history([], channels)
    prefix = layout.namespace_checkpoints_prefix(ref.thread_id, ref.checkpoint_ns)
    remembered = store.recent.checkpoint(ref)
    if remembered is None:
        stored, _ = yield from _checkpoints_and_write_keys(
            store, [ref], with_writes=False
        )
        if not stored:
            return delta_history([], channels)
        target = stored[0]
        store.recent.saw_checkpoint(ref, target.parent_id, target.metadata)
        depth = walk_depth(target.metadata, channels)
        if depth is not None and depth <= _SHORT_WALK:
            loaded = yield from _parent_walk(store, ref, target.parent_id, channels)
            return delta_history(loaded, channels)
        keys = yield from list_keys(prefix)
    else:
        parent_id, metadata = remembered
        depth = walk_depth(metadata, channels)
        if depth is not None and depth <= _SHORT_WALK:
            loaded = yield from _parent_walk(store, ref, parent_id, channels)
            return delta_history(loaded, channels)
        keys, bodies = yield from concurrently(
            list_keys(prefix),
            _checkpoints_and_write_keys(store, [ref], with_writes=False),
        )
        stored, _ = bodies
        if not stored:
            return delta_history([], channels)
        target = stored[0]
    refs = checkpoint_refs(layout, keys)
    loaded = yield from _batch_walk(store, target, refs, channels)
    return delta_history(loaded, channels)
