"""Deleting and copying: ``delete_thread``, ``delete_for_runs``,
``copy_thread`` and ``prune``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from .._codec import moved_to_thread, run_id_of
from .._keys import CheckpointRef
from .._selection import (
    checkpoint_refs,
    keys_not_owned_by,
    keys_owned_by,
    newest_per_namespace,
)
from ..protocol import Plan
from ._context import PlanContext
from ._history import delta_walk
from ._reading import thread_keys, thread_values, unused_values, with_write_keys
from ._rounds import concurrently, delete_keys, fetch_objects, list_keys, perform

PRUNE_STRATEGIES = ("keep_latest", "delete", "delete_all")
"""``"delete_all"`` is ``"delete"`` under the name LangGraph's Agent Server
sends (its PruneStrategy DELETE_ALL; its fallback for a saver without
``aprune`` deletes the threads)."""


def delete_thread(context: PlanContext, thread_id: str) -> Plan[None]:
    """``delete_thread``: list the thread's keys, delete them in batches."""
    keys = yield from thread_keys(context, thread_id)
    context.shared.forget(thread_id)
    yield from delete_keys(keys)


def delete_for_runs(context: PlanContext, run_ids: Sequence[str]) -> Plan[None]:
    """``delete_for_runs``: the layout has no index by run, so every
    checkpoint under the prefix is read (its envelope, no serde): 1 LIST per
    1,000 checkpoints, 1 GET per checkpoint, then the matches' writes LISTs and
    the DeleteObjects batches."""
    layout = context.layout
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
    gone = set(matched)
    touched = sorted({r.thread_id for r in gone})
    values, listed = yield from with_write_keys(
        context,
        lambda: concurrently(*(thread_values(context, t) for t in touched)),
        matched,
    )
    doomed = keys_owned_by(layout, matched, [*keys, *listed])
    # A namespace left with no checkpoint loses its head too (nothing else
    # would ever find it); another keeps it (a head is only a start).
    kept = {(r.thread_id, r.checkpoint_ns) for r in refs if r not in gone}
    emptied = {(r.thread_id, r.checkpoint_ns) for r in gone} - kept
    doomed += [layout.head_key(t, ns) for t, ns in sorted(emptied)]
    # Values the deleted checkpoints alone referred to go too.
    unused = yield from concurrently(
        *(
            unused_values(
                context,
                t,
                [r for r in refs if r.thread_id == t and r not in gone],
                listed_values,
            )
            for t, listed_values in zip(touched, values, strict=True)
        )
    )
    yield from delete_keys([*doomed, *itertools.chain(*unused)])


def copy_thread(context: PlanContext, source: str, target: str) -> Plan[None]:
    """``copy_thread``: every object of the source rewritten for the target,
    values untouched; objects the target has already are kept (first wins).
    Heads are hints of the source's own writes: the target writes its own."""
    layout = context.layout
    listed = yield from thread_keys(context, source)
    keys = [key for key in listed if layout.parse_head_key(key) is None]
    bodies = yield from fetch_objects(keys)
    moved = [
        moved_to_thread(layout, key, body, target)
        for key, body in zip(keys, bodies, strict=True)
        if body is not None
    ]
    yield from perform(context.put(key, body, if_absent=True) for key, body in moved)


def prune(context: PlanContext, thread_ids: Sequence[str], strategy: str) -> Plan[None]:
    """``prune``: ``"keep_latest"`` keeps the newest checkpoint of each
    namespace with its writes (and, for DeltaChannel state, the ancestors and
    writes it is rebuilt from); ``"delete"`` and ``"delete_all"`` remove
    everything, every thread listed in one round and deleted in the next."""
    if strategy not in PRUNE_STRATEGIES:
        raise ValueError(
            f"unknown prune strategy {strategy!r}; use one of {PRUNE_STRATEGIES}"
        )
    threads = list(dict.fromkeys(thread_ids))
    if strategy != "keep_latest":
        listed = yield from concurrently(*(thread_keys(context, t) for t in threads))
        for thread_id in threads:
            context.shared.forget(thread_id)
        yield from delete_keys([key for keys in listed for key in keys])
        return
    for thread_id in threads:
        keys, values = yield from concurrently(
            thread_keys(context, thread_id, values=False),
            thread_values(context, thread_id),
        )
        keep: list[CheckpointRef] = []
        refs = checkpoint_refs(context.layout, keys)
        for latest in newest_per_namespace(refs):
            walk = yield from delta_walk(context, latest, refs, None)
            keep += [*walk.chain_refs(), latest]
        unused = yield from unused_values(context, thread_id, keep, values)
        yield from delete_keys(
            [*keys_not_owned_by(context.layout, keep, keys), *unused]
        )
