"""DeltaChannel state: the ancestors a checkpoint is rebuilt from, and the
history ``get_delta_channel_history`` returns. Pure; :mod:`.plans` fetches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langgraph.checkpoint.base import DeltaChannelHistory, PendingWrite

from ._codec import StoredCheckpoint, StoredWrite
from ._keys import CheckpointRef, WriteRef

__all__ = ["DeltaWalk", "delta_channels", "delta_history", "walk_depth"]

Loaded = list[tuple[StoredCheckpoint, list[StoredWrite]]]
"""Checkpoints as read, each with its pending writes."""


def _counters(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    """``counters_since_delta_snapshot`` as stored: DeltaChannel -> (updates,
    supersteps since its snapshot). Metadata is the user's: anything else
    there reads as no counters."""
    counters = metadata.get("counters_since_delta_snapshot")
    return counters if isinstance(counters, Mapping) else {}


def delta_channels(metadata: Mapping[str, Any]) -> list[str]:
    """The DeltaChannels whose value a checkpoint with this metadata rebuilds
    from its ancestors."""
    return sorted(str(channel) for channel in _counters(metadata))


def walk_depth(metadata: Mapping[str, Any], channels: Sequence[str]) -> int | None:
    """How many ancestors the walk for ``channels`` reaches, from the
    supersteps each counter holds; None when a channel has no well-formed
    counter (an (updates, supersteps) pair of integers): the walk then does
    not guess, which costs requests, never a wrong answer. This is the one
    reader of the counters."""
    counters = _counters(metadata)
    depths = []
    for channel in channels:
        counter = counters.get(channel)
        if not isinstance(counter, (list, tuple)) or len(counter) != 2:
            return None
        steps = counter[1]
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            return None
        depths.append(steps)
    return max(depths, default=None)


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
        """Start the walk at ``stored``; its counters size the first batch."""
        self.target = stored
        ns = (stored.ref.thread_id, stored.ref.checkpoint_ns)
        self.ids = [r for r in self.ids if (r.thread_id, r.checkpoint_ns) == ns]
        depth = walk_depth(stored.metadata, self.channels)
        if depth is not None:
            self._batch = max(depth, 1)

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
        """The write keys listed for the chain's checkpoints."""
        chain, _ = self.chain()
        return [item for s in chain for item in self.write_keys.get(s.ref, [])]

    def chain_refs(self) -> list[CheckpointRef]:
        """The chain's checkpoints: what pruning must keep besides the target."""
        chain, _ = self.chain()
        return [s.ref for s in chain]


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
