"""Two callers' pending-write calls raced request by request, and what
InMemorySaver keeps for them in some serial order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver

from tests.support.histories import cfg

Batches = dict[str, list[tuple[str, Any]]]


Outcome = tuple[tuple[str, str, Any], ...]
"""The pending writes readers see, in order."""


def in_memory(sequence: Sequence[Sequence[tuple[str, Any]]]) -> Outcome:
    saver = InMemorySaver()
    parent = saver.put(cfg(), empty_checkpoint(), {"step": 0}, {})
    for batch in sequence:
        saver.put_writes(parent, batch, "t")
    found = saver.get_tuple(parent)
    assert found is not None
    return tuple(found.pending_writes or ())


def two(*writes: str) -> dict[str, list[tuple[str, Any]]]:
    return {name: [(ch, name) for ch in writes] for name in "AB"}


RACES: dict[str, Batches] = {
    "insert": two("a", "b"),
    "overwrite": two("__error__", "__interrupt__"),
    "mixed": two("a", "__interrupt__"),
    "different sizes": {"A": [("a", "A"), ("b", "A")], "B": [("a", "B")]},
    "a rerun adds": {"A": [("a", "A")], "B": [("a", "B"), ("b", "B")]},
}
