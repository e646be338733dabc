"""Which keys a call wants: checkpoints in LangGraph's order, the arguments of
``list``, the LISTs that find a checkpoint's writes, the keys a checkpoint owns.

Pure rules over key names; the plans in :mod:`.plans` apply them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

from ._keys import CheckpointRef, Layout, WriteRef

__all__ = [
    "ListQuery",
    "WritesListing",
    "by_namespace",
    "checkpoint_refs",
    "keys_owned_by",
    "newest",
    "newest_per_namespace",
    "owner_of",
    "writes_by_checkpoint",
    "writes_listings",
]


def _newest_first_key(ref: CheckpointRef) -> tuple[str, str, str]:
    return (ref.checkpoint_id, ref.thread_id, ref.checkpoint_ns)


def checkpoint_refs(layout: Layout, keys: Iterable[str]) -> list[CheckpointRef]:
    """The checkpoints among listed keys, newest first.

    Ordered here, never by the server: ids are compared as strings (uuid6 ids
    sort in time order), then thread and namespace for a stable order.
    """
    refs = [ref for key in keys if (ref := layout.parse_checkpoint_key(key))]
    return sorted(refs, key=_newest_first_key, reverse=True)


def newest(refs: Iterable[CheckpointRef]) -> CheckpointRef | None:
    """The newest checkpoint: the highest id, as ``checkpoint_refs`` orders."""
    return max(refs, key=_newest_first_key, default=None)


def by_namespace(
    refs: Iterable[CheckpointRef],
) -> dict[tuple[str, str], list[CheckpointRef]]:
    """Checkpoints grouped per (thread, namespace), each group newest first."""
    groups: dict[tuple[str, str], list[CheckpointRef]] = defaultdict(list)
    for ref in sorted(refs, key=_newest_first_key, reverse=True):
        groups[(ref.thread_id, ref.checkpoint_ns)].append(ref)
    return dict(groups)


def newest_per_namespace(refs: Iterable[CheckpointRef]) -> list[CheckpointRef]:
    """The newest checkpoint of each (thread, namespace)."""
    return [group[0] for group in by_namespace(refs).values()]


def _bound(before: Mapping[str, Any] | None) -> str | None:
    """The checkpoint id that ``list``'s ``before`` names, if any.

    LangGraph's Agent Server passes on what its SDK was given, a bare
    ``{"thread_id", "checkpoint_ns", "checkpoint_id"}`` dict. InMemorySaver
    fails on one (KeyError: 'configurable'); ignoring it would list
    everything as if no bound were asked for, so it is refused, clearly."""
    if not before:
        return None
    if "configurable" not in before:
        raise ValueError(
            "list(before=...) takes a config, {'configurable': {'checkpoint_id': "
            f"...}}; got a dict with keys {sorted(before)}: pass "
            "before={'configurable': before}"
        )
    checkpoint_id = (before["configurable"] or {}).get("checkpoint_id")
    return str(checkpoint_id) if checkpoint_id else None


@dataclass(frozen=True)
class ListQuery:
    """The arguments of ``list``: where to LIST and what to keep."""

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
        """The query of one ``list(config, filter=, before=, limit=)`` call."""
        configurable = (config or {}).get("configurable") or {}
        thread_id = configurable.get("thread_id")
        return cls(
            thread_id=None if thread_id is None else str(thread_id),
            checkpoint_ns=configurable.get("checkpoint_ns"),
            checkpoint_id=configurable.get("checkpoint_id") or None,
            before=_bound(before),
            filter=dict(filter or {}),
            limit=limit,
        )

    def prefix(self, layout: Layout) -> str:
        """The narrowest prefix that holds every candidate."""
        if self.thread_id is None:
            return layout.checkpoints_prefix()
        if self.checkpoint_ns is None:
            return layout.thread_checkpoints_prefix(self.thread_id)
        return layout.namespace_checkpoints_prefix(self.thread_id, self.checkpoint_ns)

    def writes_prefix(self, layout: Layout) -> str:
        """The narrowest prefix that holds the writes of every candidate."""
        if self.thread_id is None:
            return layout.writes_prefix()
        if self.checkpoint_ns is None:
            return layout.thread_writes_prefix(self.thread_id)
        return layout.namespace_writes_prefix(self.thread_id, self.checkpoint_ns)

    def candidates(self, layout: Layout, keys: Iterable[str]) -> list[CheckpointRef]:
        """The checkpoints that pass every test but the metadata filter,
        newest first."""
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

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        """The metadata filter: every key equal; an absent key reads as None,
        as in LangGraph's InMemorySaver."""
        return all(metadata.get(key) == value for key, value in self.filter.items())


@dataclass(frozen=True)
class WritesListing:
    """One LIST that finds the writes of some checkpoints of one namespace."""

    prefix: str
    start_after: str | None


def writes_listings(
    layout: Layout, refs: Sequence[CheckpointRef], *, start_after: bool = True
) -> list[WritesListing]:
    """The LISTs that find the writes of ``refs``.

    One checkpoint: LIST its own folder. Several in one namespace: one LIST of
    the namespace starting just before the lowest of their folders, so the
    newest k checkpoints cost one LIST (a page per 1,000 writes), not k, and
    never a page of the older checkpoints' writes. ``start_after`` False (a
    store that refuses StartAfter: S3 Express One Zone) lists the namespace
    from its start.
    """
    by_namespace: dict[tuple[str, str], list[CheckpointRef]] = defaultdict(list)
    for ref in refs:
        by_namespace[(ref.thread_id, ref.checkpoint_ns)].append(ref)
    listings = []
    for (thread_id, ns), group in by_namespace.items():
        if len(group) == 1:
            prefix = layout.checkpoint_writes_prefix(group[0])
            listings.append(WritesListing(prefix, None))
            continue
        prefix = layout.namespace_writes_prefix(thread_id, ns)
        names = [layout.checkpoint_writes_prefix(r)[len(prefix) : -1] for r in group]
        # Start after the lowest folder name less its last character: every
        # wanted key sorts after it both in S3's byte order and in servers
        # (SeaweedFS) that walk folders and skip every folder name up to
        # StartAfter's. A prefix common to all of them would do too, but ids
        # made in one tight loop share one with a thousand older folders.
        # Encoded segments are ASCII: string order is S3's byte order.
        lowest = min(names)[:-1] if start_after else ""
        listings.append(WritesListing(prefix, prefix + lowest if lowest else None))
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


def owner_of(layout: Layout, key: str) -> CheckpointRef | None:
    """The checkpoint a checkpoint or write key belongs to (None for others)."""
    if (ref := layout.parse_checkpoint_key(key)) is not None:
        return ref
    write = layout.parse_write_key(key)
    return write.checkpoint if write else None


def keys_owned_by(
    layout: Layout, refs: Iterable[CheckpointRef], keys: Iterable[str]
) -> list[str]:
    """The keys among ``keys`` that belong to ``refs``: checkpoints and writes."""
    wanted = set(refs)
    return [key for key in keys if owner_of(layout, key) in wanted]


def keys_not_owned_by(
    layout: Layout, refs: Iterable[CheckpointRef], keys: Iterable[str]
) -> list[str]:
    """Every key but those of ``refs`` (what pruning deletes)."""
    kept = set(refs)
    return [key for key in keys if owner_of(layout, key) not in kept]
