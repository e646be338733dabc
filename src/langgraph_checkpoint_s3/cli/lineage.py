"""How a thread's checkpoints relate beyond their parent ids: racing
writers, and the step of the parent graph that ran a subgraph. Pure: it
takes ids, sources and metadata, as ``history`` and ``validate`` read them.

*Racing writers.* A run appends ``loop`` checkpoints, each the child of the
one before, so a checkpoint has at most one ``loop`` child unless two runs
started from it at once (a double-submitted resume: both return, both run,
and the newest id silently wins). Time travel branches too, but its
children are ``update`` (``update_state``) and ``fork`` (a replay) ones, so
only ``loop`` children count.

*Subgraphs.* A subgraph's checkpoints live in a namespace of their own,
``node:<task id>`` (nested: ``outer:<id>|inner:<id>``), and their metadata
``parents`` maps each enclosing namespace to the checkpoint its graph was
at, the step whose task ran the subgraph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "LOOP",
    "Key",
    "concurrent_children",
    "enclosing_namespace",
    "host_of",
    "subgraph_label",
]

LOOP = "loop"
"""The source of a checkpoint a run made as it stepped."""

Key = tuple[str, str]
"""A checkpoint of a thread: (namespace, id)."""


def concurrent_children(
    checkpoints: Iterable[tuple[Key, str | None, Any]],
) -> dict[Key, list[str]]:
    """The checkpoints with two or more ``loop`` children, each with the
    ids of those children, newest first. ``checkpoints`` gives each
    checkpoint's key, its parent id (same namespace) and its source."""
    children: dict[Key, list[str]] = {}
    for (ns, checkpoint_id), parent_id, source in checkpoints:
        if parent_id is not None and source == LOOP:
            children.setdefault((ns, parent_id), []).append(checkpoint_id)
    return {
        parent: sorted(ids, reverse=True)
        for parent, ids in children.items()
        if len(ids) > 1
    }


def enclosing_namespace(checkpoint_ns: str) -> str | None:
    """The namespace of the graph that ran this one's, or None for the
    root graph's."""
    if not checkpoint_ns:
        return None
    head, bar, _ = checkpoint_ns.rpartition("|")
    return head if bar else ""


def host_of(checkpoint_ns: str, metadata: Mapping[str, Any]) -> Key | None:
    """The checkpoint of the enclosing graph whose step ran the subgraph in
    ``checkpoint_ns``, as one of its checkpoints' metadata names it; None
    for the root graph, or when the metadata does not say."""
    outer = enclosing_namespace(checkpoint_ns)
    parents = metadata.get("parents")
    if outer is None or not isinstance(parents, Mapping):
        return None
    found = parents.get(outer)
    return (outer, found) if isinstance(found, str) and found else None


def subgraph_label(checkpoint_ns: str) -> str:
    """The part of a namespace its enclosing graph adds: ``node:<task id>``."""
    return checkpoint_ns.rpartition("|")[2]
