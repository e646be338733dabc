"""DeltaChannel history: the ancestors a checkpoint's DeltaChannel values are
rebuilt from, fetched in a few concurrent rounds (the rules are in
:mod:`.._delta`)."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import DeltaChannelHistory

from .._codec import StoredCheckpoint
from .._delta import DeltaWalk, Loaded, delta_channels, delta_history, walk_depth
from .._keys import CheckpointRef
from .._selection import checkpoint_refs
from ..protocol import Plan
from ._context import PlanContext
from ._reading import WriteKey, _attach_writes, _checkpoints_and_write_keys, _target
from ._rounds import concurrently, list_keys


def delta_walk(
    context: PlanContext,
    ref: CheckpointRef | None,
    refs: Sequence[CheckpointRef],
    channels: Sequence[str] | None,
) -> Plan[DeltaWalk]:
    """Fetch a checkpoint's ancestors in batches until the walk over
    ``channels`` (default: the checkpoint's own DeltaChannels) is done."""
    stored, _ = yield from _checkpoints_and_write_keys(
        context, [ref] if ref else [], with_writes=False
    )
    if not stored:
        return DeltaWalk(refs, channels or [])
    delta = delta_channels(stored[0].metadata) if channels is None else channels
    walk = DeltaWalk(refs, delta)
    walk.set_target(stored[0])
    while batch := walk.next_batch():
        found, writes = yield from _checkpoints_and_write_keys(context, batch)
        walk.add(batch, found, writes)
    return walk


_SHORT_WALK = 2
"""Ancestors a DeltaChannel walk follows one by one (a GET and its writes'
LIST each) rather than listing the namespace to fetch them in a batch."""


def _parent_walk(
    context: PlanContext,
    target: CheckpointRef,
    parent_id: str | None,
    channels: Sequence[str],
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
        stored, keys = yield from _checkpoints_and_write_keys(context, [ref])
        if not stored:
            break
        chain.append(stored[0])
        writes += keys
        remaining -= stored[0].checkpoint["channel_values"].keys()
        parent_id = stored[0].parent_id
    return (yield from _attach_writes(context, chain, writes))


def _batch_walk(
    context: PlanContext,
    target: StoredCheckpoint,
    refs: Sequence[CheckpointRef],
    channels: Sequence[str],
) -> Plan[Loaded]:
    """The target's ancestors in concurrent batches guessed from the
    namespace's ids (see :class:`..delta.DeltaWalk`)."""
    walk = DeltaWalk(refs, channels)
    walk.set_target(target)
    while batch := walk.next_batch():
        found, writes = yield from _checkpoints_and_write_keys(context, batch)
        walk.add(batch, found, writes)
    chain, _ = walk.chain()
    return (yield from _attach_writes(context, chain, walk.writes_to_fetch()))


def get_delta_channel_history(
    context: PlanContext, config: RunnableConfig, channels: Sequence[str]
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
    layout = context.layout
    ref = yield from _target(context, config)
    if ref is None:
        return delta_history([], channels)
    prefix = layout.namespace_checkpoints_prefix(ref.thread_id, ref.checkpoint_ns)
    remembered = context.recent.checkpoint(ref)
    if remembered is None:
        stored, _ = yield from _checkpoints_and_write_keys(
            context, [ref], with_writes=False
        )
        if not stored:
            return delta_history([], channels)
        target = stored[0]
        context.recent.saw_checkpoint(ref, target.parent_id, target.metadata)
        depth = walk_depth(target.metadata, channels)
        if depth is not None and depth <= _SHORT_WALK:
            loaded = yield from _parent_walk(context, ref, target.parent_id, channels)
            return delta_history(loaded, channels)
        keys = yield from list_keys(prefix)
    else:
        parent_id, metadata = remembered
        depth = walk_depth(metadata, channels)
        if depth is not None and depth <= _SHORT_WALK:
            loaded = yield from _parent_walk(context, ref, parent_id, channels)
            return delta_history(loaded, channels)
        keys, bodies = yield from concurrently(
            list_keys(prefix),
            _checkpoints_and_write_keys(context, [ref], with_writes=False),
        )
        stored, _ = bodies
        if not stored:
            return delta_history([], channels)
        target = stored[0]
    refs = checkpoint_refs(layout, keys)
    loaded = yield from _batch_walk(context, target, refs, channels)
    return delta_history(loaded, channels)
