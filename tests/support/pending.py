"""Sequences of put_writes calls, and what a saver keeps for them replayed."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from langgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint

from tests.support.histories import cfg

SPECIAL = ["__error__", "__scheduled__", "__interrupt__", "__resume__"]


REGULAR = ["a", "b", "c"]


Call = tuple[str, list[tuple[str, Any]], str]
"""One put_writes call: task id, writes, task path."""


calls: st.SearchStrategy[list[Call]] = st.lists(
    st.tuples(
        st.sampled_from(["t1", "t2", "t3"]),
        st.lists(
            st.tuples(st.sampled_from(REGULAR + SPECIAL), st.integers(0, 99)),
            min_size=1,
            max_size=4,
        ),
        st.sampled_from(["", "~p"]),
    ),
    min_size=1,
    max_size=6,
)


def replay(saver: BaseCheckpointSaver[Any], sequence: list[Call]) -> dict[str, Any]:
    """Two checkpoints (the calls go to the first, then one to the second),
    and what the saver returns of them."""
    first = empty_checkpoint()
    first["channel_values"] = {"a": [0]}
    first["channel_versions"] = {"a": 1}
    root = saver.put(cfg(thread="p"), first, {"step": 0}, {"a": 1})
    for task, writes, path in sequence:
        saver.put_writes(root, writes, task, path)
    child = empty_checkpoint()
    saver.put(root, child, {"step": 1}, {})
    tuple_ = saver.get_tuple(root)
    assert tuple_ is not None
    return {
        "get_tuple": tuple_.pending_writes,
        "list": [t.pending_writes for t in saver.list(cfg(thread="p"))],
        "delta": saver.get_delta_channel_history(
            config=cfg(thread="p"), channels=[*REGULAR, *SPECIAL]
        ),
    }
