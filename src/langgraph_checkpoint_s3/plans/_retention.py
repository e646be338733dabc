"""Bounded storage: what a prefix holds (from LIST alone), idle threads expired
whole, and each namespace pruned to its newest checkpoints.

Plans over the building blocks of :mod:`._rounds`, run by any saver
(``saver.run(plan)``) or the CLI.

**Idle expiry deletes whole threads, never a part**, so no resume ever
breaks. A thread is idle when the newest ``LastModified`` over all its keys
(checkpoints and writes, every namespace, as LIST reports them: no GET) is
older than the cutoff. A sweep lists the prefix once, then, a few threads at a
time, lists each idle thread again right before deleting it and keeps it whole
when anything in it was written since the cutoff: a thread written while the
sweep runs survives. What remains is the time between that last LIST of a
thread and its DeleteObjects (one round trip): a write landing exactly then is
not in the deletion, so it survives alone while the rest of its thread goes.

**Keep-last pruning** keeps the newest N checkpoints of each namespace with
their pending writes and, for DeltaChannel state, the ancestors (and their
writes) those checkpoints are rebuilt from, so every kept checkpoint reads
back exactly as before.
"""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .._delta import DeltaWalk, delta_channels
from .._keys import CheckpointRef, Layout
from .._selection import by_namespace, checkpoint_refs, keys_not_owned_by
from ..protocol import List, Listed, Plan
from ._context import PlanContext
from ._reading import fetch_checkpoints, thread_keys, thread_values, unused_values
from ._rounds import concurrently, delete_keys, list_keys, perform

__all__ = [
    "EXPIRE_CHUNK",
    "PRUNE_CHUNK",
    "Expiry",
    "IdleThread",
    "Tally",
    "Usage",
    "cutoff",
    "expire_idle",
    "expire_threads",
    "idle_threads",
    "prune_keep_last",
    "rebuilt_from",
    "tally",
    "usage",
]

EXPIRE_CHUNK = 32
"""Idle threads re-listed and deleted together: small, so the time between a
thread's last LIST and its deletion stays one round trip, not a whole sweep."""

PRUNE_CHUNK = 32
"""Threads ``prune_keep_last`` works on side by side."""


# -- usage, from LIST alone ---------------------------------------------------------


@dataclass
class Tally:
    """Objects LIST showed: how many of each kind, their bytes, and the oldest
    and newest ``LastModified`` (None when the store gave none)."""

    checkpoints: int = 0
    writes: int = 0
    other: int = 0
    values: int = 0
    """Shared values (see :mod:`..._shared`): counted per thread."""
    bytes: int = 0
    oldest: datetime.datetime | None = None
    newest: datetime.datetime | None = None

    @property
    def objects(self) -> int:
        """Every object counted, whatever its kind."""
        return self.checkpoints + self.writes + self.other + self.values

    def count(self, listed: Listed, kind: str) -> None:
        """Count one listed object of ``kind`` (checkpoints, writes, values,
        other)."""
        setattr(self, kind, getattr(self, kind) + 1)
        self.bytes += listed.size
        when = listed.last_modified
        if when is not None:
            self.oldest = when if self.oldest is None else min(self.oldest, when)
            self.newest = when if self.newest is None else max(self.newest, when)

    def __add__(self, other: Tally) -> Tally:
        times = [t for t in (self.oldest, other.oldest) if t is not None]
        latest = [t for t in (self.newest, other.newest) if t is not None]
        return Tally(
            self.checkpoints + other.checkpoints,
            self.writes + other.writes,
            self.other + other.other,
            self.values + other.values,
            self.bytes + other.bytes,
            min(times, default=None),
            max(latest, default=None),
        )


@dataclass
class Usage:
    """What a prefix holds, per thread and namespace.

    ``namespaces`` maps ``(thread_id, checkpoint_ns)`` to the tally of its
    checkpoints and writes; ``shared`` a thread to its shared values' (they
    belong to no namespace); ``strays`` maps a thread to the keys under its
    folders that are neither (``None``: keys under ``checkpoints/`` or
    ``writes/`` that name no thread).
    """

    namespaces: dict[tuple[str, str], Tally] = field(default_factory=dict)
    shared: dict[str, Tally] = field(default_factory=dict)
    strays: dict[str | None, Tally] = field(default_factory=dict)

    def threads(self) -> dict[str, Tally]:
        """Each thread's tally, over its namespaces and stray keys, by id."""
        found: dict[str, Tally] = defaultdict(Tally)
        for (thread_id, _), counted in self.namespaces.items():
            found[thread_id] += counted
        for thread_id, counted in self.shared.items():
            found[thread_id] += counted
        for stray_thread, counted in self.strays.items():
            if stray_thread is not None:
                found[stray_thread] += counted
        return dict(sorted(found.items()))

    def total(self) -> Tally:
        """Everything counted."""
        everything = [
            *self.namespaces.values(),
            *self.shared.values(),
            *self.strays.values(),
        ]
        return sum(everything, Tally())


def tally(
    layout: Layout, objects: Iterable[Listed], into: Usage | None = None
) -> Usage:
    """Count listed objects into a :class:`Usage` (pure)."""
    usage_ = into if into is not None else Usage()
    for listed in objects:
        key = listed.key
        if (ref := layout.parse_checkpoint_key(key)) is not None:
            where, kind = (ref.thread_id, ref.checkpoint_ns), "checkpoints"
        elif (write := layout.parse_write_key(key)) is not None:
            checkpoint = write.checkpoint
            where, kind = (checkpoint.thread_id, checkpoint.checkpoint_ns), "writes"
        elif (value := layout.parse_value_key(key)) is not None:
            usage_.shared.setdefault(value[0], Tally()).count(listed, "values")
            continue
        else:
            thread_id = layout.parse_thread(key)
            usage_.strays.setdefault(thread_id, Tally()).count(listed, "other")
            continue
        usage_.namespaces.setdefault(where, Tally()).count(listed, kind)
    return usage_


def _tally_pages(layout: Layout, prefix: str, into: Usage) -> Plan[None]:
    """Every page of a LIST, counted as it arrives, so a sweep of millions of
    keys holds one tally per namespace, not the keys."""
    token: str | None = None
    while True:
        (page,) = yield from perform([List(prefix, None, token)])
        tally(layout, page.objects, into)
        if page.continuation is None:
            return
        token = page.continuation


def usage(context: PlanContext, thread_id: str | None = None) -> Plan[Usage]:
    """What the prefix (or one thread) holds, from LIST alone: one LIST per
    1,000 keys, the checkpoints', the writes' and the shared values' listings
    side by side (rounds: the longest of the three), no GET."""
    layout = context.layout
    if thread_id is None:
        prefixes = [
            layout.checkpoints_prefix(),
            layout.writes_prefix(),
            layout.values_prefix(),
        ]
    else:
        prefixes = [
            layout.thread_checkpoints_prefix(thread_id),
            layout.thread_writes_prefix(thread_id),
            layout.thread_values_prefix(thread_id),
        ]
    found = Usage()
    yield from concurrently(*(_tally_pages(layout, p, found) for p in prefixes))
    return found


# -- idle expiry --------------------------------------------------------------------


def cutoff(
    idle: datetime.timedelta, now: datetime.datetime | None = None
) -> datetime.datetime:
    """The time before which a thread's newest write makes it idle: ``now``
    (default: this machine's clock, in UTC) minus ``idle``. S3 stamps
    ``LastModified`` with its own clock; a skew between the two shifts the
    cutoff by as much."""
    if idle <= datetime.timedelta(0):
        raise ValueError(f"the idle time must be positive, not {idle}")
    moment = now if now is not None else datetime.datetime.now(datetime.timezone.utc)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware (LastModified is in UTC)")
    return moment - idle


@dataclass(frozen=True)
class IdleThread:
    """A thread not written since the cutoff: its newest write (LastModified),
    and the objects and bytes it holds."""

    thread_id: str
    last_write: datetime.datetime
    objects: int
    bytes: int


@dataclass(frozen=True)
class Expiry:
    """What an idle sweep found and did.

    Attributes:
        cutoff: Threads whose newest write is older than this are idle.
        expired: The idle threads deleted whole (with ``dry_run``: the idle
            threads that would be).
        revived: Threads idle at the sweep's first listing but written since
            the cutoff when listed again right before deletion: kept whole.
        active: How many threads the first listing found written since the
            cutoff (kept).
        dry_run: Whether nothing was deleted.
    """

    cutoff: datetime.datetime
    expired: tuple[IdleThread, ...]
    revived: tuple[str, ...] = ()
    active: int = 0
    dry_run: bool = False


def _is_idle(counted: Tally, before: datetime.datetime) -> bool:
    # A thread whose LIST gave no LastModified cannot be judged: it is kept.
    return (
        counted.objects > 0 and counted.newest is not None and counted.newest < before
    )


def _idle(thread_id: str, counted: Tally) -> IdleThread:
    assert counted.newest is not None
    return IdleThread(thread_id, counted.newest, counted.objects, counted.bytes)


def idle_threads(context: PlanContext, before: datetime.datetime) -> Plan[Expiry]:
    """The threads whose newest object is older than ``before``, from one
    listing of the prefix (LIST only; see :func:`usage`). Deletes nothing:
    the result is an :class:`Expiry` with ``dry_run`` set."""
    found = yield from usage(context)
    threads = found.threads()
    idle = [_idle(t, c) for t, c in threads.items() if _is_idle(c, before)]
    return Expiry(before, tuple(idle), (), len(threads) - len(idle), dry_run=True)


def _thread_objects(layout: Layout, thread_id: str) -> Plan[tuple[list[str], Tally]]:
    """A thread's keys and their tally, listed now."""
    found = Usage()
    keys: list[str] = []

    def pages(prefix: str) -> Plan[None]:
        token: str | None = None
        while True:
            (page,) = yield from perform([List(prefix, None, token)])
            keys.extend(listed.key for listed in page.objects)
            tally(layout, page.objects, found)
            if page.continuation is None:
                return
            token = page.continuation

    _, heads, _, _ = yield from concurrently(
        pages(layout.thread_checkpoints_prefix(thread_id)),
        list_keys(layout.thread_heads_prefix(thread_id)),
        pages(layout.thread_writes_prefix(thread_id)),
        pages(layout.thread_values_prefix(thread_id)),
    )
    return [*keys, *heads], found.threads().get(thread_id, Tally())


def expire_threads(
    context: PlanContext, thread_ids: Sequence[str], before: datetime.datetime
) -> Plan[Expiry]:
    """Delete the given threads whole, each only if it is still idle: listed
    again (two LISTs per thread, one more per 1,000 keys), then deleted with
    the keys that listing showed (one DeleteObjects per 1,000 keys), a few
    threads at a time (:data:`EXPIRE_CHUNK`). A thread with anything written
    since ``before`` is kept whole and reported as revived; one with no keys
    left (deleted meanwhile) is neither."""
    layout = context.layout
    expired: list[IdleThread] = []
    revived: list[str] = []
    unique = list(dict.fromkeys(thread_ids))
    for start in range(0, len(unique), EXPIRE_CHUNK):
        chunk = unique[start : start + EXPIRE_CHUNK]
        listed = yield from concurrently(*(_thread_objects(layout, t) for t in chunk))
        doomed: list[str] = []
        for thread_id, (keys, counted) in zip(chunk, listed, strict=True):
            if counted.objects == 0:
                continue
            if _is_idle(counted, before):
                expired.append(_idle(thread_id, counted))
                context.shared.forget(thread_id)
                doomed += keys
            else:
                revived.append(thread_id)
        yield from delete_keys(doomed)
    return Expiry(before, tuple(expired), tuple(revived))


def expire_idle(
    context: PlanContext, before: datetime.datetime, *, dry_run: bool = False
) -> Plan[Expiry]:
    """Delete, whole, every thread not written since ``before``.

    Requests: the sweep's listing (one LIST per 1,000 keys under the prefix),
    then per idle thread two LISTs (one more per 1,000 of its keys) and its
    share of the DeleteObjects (one per 1,000 keys). No GET. With ``dry_run``
    only the listing.
    """
    swept = yield from idle_threads(context, before)
    if dry_run:
        return swept
    done = yield from expire_threads(
        context, [t.thread_id for t in swept.expired], before
    )
    return Expiry(before, done.expired, done.revived, swept.active)


# -- keep the newest N --------------------------------------------------------------


def rebuilt_from(
    context: PlanContext,
    targets: Sequence[CheckpointRef],
    namespace: Sequence[CheckpointRef],
) -> Plan[list[CheckpointRef]]:
    """The ancestors the DeltaChannel state of ``targets`` (checkpoints of one
    namespace, whose every checkpoint is ``namespace``) is rebuilt from.

    One GET per target (its DeltaChannel counters), then the walks of
    :class:`.delta.DeltaWalk` side by side, sharing what they fetch: an
    ancestor several targets need is read once. Without DeltaChannels: the
    targets' GETs only.
    """
    stored = yield from fetch_checkpoints(context, targets)
    walks: list[DeltaWalk] = []
    for target in stored:
        walk = DeltaWalk(namespace, delta_channels(target.metadata))
        walk.set_target(target)
        walks.append(walk)
    asked = set(targets)
    for walk in walks:
        walk.add(targets, stored, [])
    while batch := list(
        dict.fromkeys(
            ref for walk in walks for ref in walk.next_batch() if ref not in asked
        )
    ):
        asked.update(batch)
        found = yield from fetch_checkpoints(context, batch)
        for walk in walks:
            walk.add(batch, found, [])
    return list(dict.fromkeys(ref for walk in walks for ref in walk.chain_refs()))


def _keep_last_of_thread(context: PlanContext, thread_id: str, keep: int) -> Plan[None]:
    layout = context.layout
    keys, values = yield from concurrently(
        thread_keys(context, thread_id, values=False),
        thread_values(context, thread_id),
    )
    groups = by_namespace(checkpoint_refs(layout, keys))
    # A namespace with no more than ``keep`` checkpoints keeps them all: no
    # checkpoint of it needs reading.
    pruned = [refs for refs in groups.values() if len(refs) > keep]
    chains = yield from concurrently(
        *(rebuilt_from(context, refs[:keep], refs) for refs in pruned)
    )
    kept = [
        *itertools.chain.from_iterable(refs[:keep] for refs in groups.values()),
        *itertools.chain.from_iterable(chains),
    ]
    unused = yield from unused_values(context, thread_id, kept, values)
    yield from delete_keys([*keys_not_owned_by(layout, kept, keys), *unused])


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def prune_keep_last(
    context: PlanContext, thread_ids: Sequence[str], keep: int
) -> Plan[None]:
    """Keep the newest ``keep`` checkpoints of each namespace of each thread,
    with their pending writes and the DeltaChannel ancestors (with theirs)
    they are rebuilt from; delete the rest of the threads' keys.

    Requests per thread: its two LISTs (one more per 1,000 keys), one GET per
    kept checkpoint of each namespace that has more than ``keep`` (none for
    the others), the DeltaChannel ancestors' GETs, and one DeleteObjects per
    1,000 deleted keys. Threads are pruned side by side, :data:`PRUNE_CHUNK`
    at a time.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1, not {keep}")
    unique = list(dict.fromkeys(thread_ids))
    for chunk in _chunks(unique, PRUNE_CHUNK):
        yield from concurrently(
            *(_keep_last_of_thread(context, t, keep) for t in chunk)
        )
