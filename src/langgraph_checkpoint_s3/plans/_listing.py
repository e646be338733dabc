"""``list`` a window at a time, newest first, so a caller that iterates gets
the first checkpoints after a few rounds, holds one window of checkpoints at
a time, and stops the requests by stopping the iteration.

A window is one plan run (:func:`list_window`) over a :class:`ListCursor`
that remembers where the walk is. The first window of one namespace is
found as ``list(limit=k)`` finds its newest (see :mod:`._latest`); a walk
that goes on lists the keys of the rest once (checkpoints and writes, one
LIST per 1,000), then fetches a window per run: its checkpoints and writes
in one round, and the shared values it lacks in another.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from langgraph.checkpoint.base import CheckpointTuple

from .._batches import visible
from .._codec import to_tuple
from .._keys import CheckpointRef
from .._selection import ListQuery, writes_by_checkpoint
from ..protocol import Plan
from ._context import PlanContext
from ._latest import newest
from ._reading import (
    WriteKey,
    _checkpoints_with_writes,
    _fetch_writes,
    decoded,
    fetch_envelopes,
    fetch_shared,
    matching,
)
from ._rounds import concurrently, list_keys

__all__ = ["FIRST_WINDOW", "WINDOW", "ListCursor", "list_rest", "list_window"]

FIRST_WINDOW = 10
"""Checkpoints in the first window: what ``get_state_history`` shows first,
found without listing the namespace whole (or, after a listing, read in
one round of a few dozen GETs)."""

WINDOW = 100
"""Checkpoints in every later window: the bound on what a walk holds."""


@dataclass
class ListCursor:
    """Where a ``list`` walk is: the query, how many tuples it handed out,
    and the candidates (with their writes' keys) not fetched yet, once
    listed."""

    query: ListQuery
    handed: int = 0
    below: str | None = None
    """The oldest id handed out by the first window of one namespace."""
    pending: list[CheckpointRef] | None = None
    writes: dict[CheckpointRef, list[WriteKey]] | None = None
    """The candidates' writes' keys, listed once for a walk of several
    windows; None: each window lists its own."""
    done: bool = False
    newest_first: bool = True
    """Find the first window of one namespace as ``list(limit=k)`` finds its
    newest; False: list the candidates first (a caller that wants them all,
    and their number, up front)."""

    def wanted(self) -> int | None:
        """How many more tuples the caller asked for (None: all)."""
        limit = self.query.limit
        return None if limit is None else max(limit - self.handed, 0)

    def skip(self) -> list[CheckpointRef]:
        """Leave out the next window, once listed (a caller that could not
        read it reads it another way): its checkpoints."""
        assert self.pending is not None
        size = _window_size(self.query, self.wanted(), self)
        skipped, self.pending = self.pending[:size], self.pending[size:]
        if self.writes is not None:
            for ref in skipped:
                self.writes.pop(ref, None)
        self.handed += len(skipped)
        self.done = not self.pending or self.wanted() == 0
        return skipped


def _one_namespace(query: ListQuery) -> bool:
    return (
        query.thread_id is not None
        and query.checkpoint_ns is not None
        and query.checkpoint_id is None
        and not query.filter
    )


def list_window(
    context: PlanContext, cursor: ListCursor
) -> Plan[list[CheckpointTuple]]:
    """The next window of ``list``, newest first; sets ``cursor.done`` when
    the walk is over (an empty window also means it is)."""
    query = cursor.query
    wanted = cursor.wanted()
    if cursor.done or wanted == 0:
        cursor.done = True
        return []
    if (
        cursor.newest_first
        and cursor.pending is None
        and cursor.below is None
        and _one_namespace(query)
    ):
        # The newest of one namespace, without listing it whole: all of a
        # limited list at once, else the first window.
        size = wanted if wanted is not None else FIRST_WINDOW
        assert query.thread_id is not None and query.checkpoint_ns is not None
        refs = yield from newest(
            context, query.thread_id, query.checkpoint_ns, size, query.before
        )
        loaded = yield from _checkpoints_with_writes(context, refs, query)
        first = [to_tuple(stored, writes) for stored, writes in loaded]
        cursor.handed += len(first)
        if len(refs) < size or wanted is not None:
            cursor.done = True
        else:
            cursor.below = refs[-1].checkpoint_id
        return first
    if cursor.pending is None:
        yield from list_rest(context, cursor)
    assert cursor.pending is not None
    found: list[CheckpointTuple] = []
    while cursor.pending and not found:
        size = _window_size(query, wanted, cursor)
        # Left pending until read, so that a caller can skip it on an error.
        found = yield from _fetch_window(context, cursor, cursor.pending[:size])
        cursor.pending = cursor.pending[size:]
    found = found[:wanted]
    cursor.handed += len(found)
    if not cursor.pending or cursor.wanted() == 0:
        cursor.done = True
    return found


def _window_size(
    query: ListQuery, wanted: int | None, cursor: ListCursor | None = None
) -> int:
    if wanted is None:
        # A listed walk (the CLI's) shows its first checkpoints after a small
        # window, unless a filter may reject the whole of it.
        if cursor is not None and not cursor.newest_first and not query.filter:
            return FIRST_WINDOW if cursor.handed == 0 else WINDOW
        return WINDOW
    return max(wanted, 16) if query.filter else wanted  # a filter rejects some


def list_rest(context: PlanContext, cursor: ListCursor) -> Plan[None]:
    """List the candidates left, newest first (a round per 1,000 keys), into
    ``cursor.pending``, and for a walk of more than one window their writes'
    keys too, once: beside them when the first window showed there are more
    or the caller walks them all (not ``newest_first``), else after."""
    layout, query, below = context.layout, cursor.query, cursor.below
    listings = [list_keys(query.prefix(layout))]
    if below is not None or not cursor.newest_first:
        listings.append(list_keys(query.writes_prefix(layout)))
    keys, *write_keys = yield from concurrently(*listings)
    candidates = query.candidates(layout, keys)
    if below is not None:
        candidates = [c for c in candidates if c.checkpoint_id < below]
    cursor.pending = candidates
    if not write_keys and len(candidates) > _window_size(query, cursor.wanted()):
        listed = yield from list_keys(query.writes_prefix(layout))
        write_keys = [listed]
    if write_keys:
        cursor.writes = writes_by_checkpoint(layout, write_keys[0], candidates)


def _fetch_window(
    context: PlanContext, cursor: ListCursor, batch: Sequence[CheckpointRef]
) -> Plan[list[CheckpointTuple]]:
    """A window's checkpoints with their writes (keys known): one round, or
    two with a metadata filter (the writes of those that pass); and the
    shared values they lack."""
    query, known = cursor.query, cursor.writes
    if known is None:
        loaded = yield from _checkpoints_with_writes(context, batch, query)
        return [to_tuple(stored, writes) for stored, writes in loaded]

    def writes_of(refs: Sequence[CheckpointRef]) -> list[WriteKey]:
        return list(itertools.chain(*(known.pop(r, []) for r in refs)))

    if query.filter:
        envelopes = yield from fetch_envelopes(context, batch)
        envelopes = matching(context, query, envelopes)
        matched = [ref for ref, _, _ in envelopes]
        kept = set(matched)
        writes_of([ref for ref in batch if ref not in kept])  # not wanted
        shared, by_ref = yield from concurrently(
            fetch_shared(context, envelopes), _fetch_writes(context, writes_of(matched))
        )
    else:
        envelopes, by_ref = yield from concurrently(
            fetch_envelopes(context, batch), _fetch_writes(context, writes_of(batch))
        )
        shared = yield from fetch_shared(context, envelopes)
    return [
        to_tuple(stored, visible(by_ref.get(stored.ref, [])))
        for stored in decoded(context, envelopes, shared)
    ]
