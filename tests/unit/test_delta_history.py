"""``get_delta_channel_history`` meets the clauses of LangGraph's
``delta_channel_history`` conformance capability (on LangGraph's main branch,
not yet released): writes oldest first, the nearest stored value as seed, the
target's own writes left out, channels ending their walks independently, no
seed when the walk reaches the root, a plain (pre-delta) value as seed, and
the seed checkpoint's own writes replayed.

Each chain is built on the saver under test and on InMemorySaver; both must
answer as the clause says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot

from tests.support.delta_histories import (
    Saver,
    Step,
    both,
    chain,
    history,
    step_checkpoint,
)
from tests.support.memory_bucket import MemoryBucket, MemorySaver


def snapshot_chain(snapshots: set[int], steps: int) -> list[Step]:
    """A ``_DeltaSnapshot`` of ``ch`` at the steps named, a write of the
    step's number at every other step."""
    return [
        ({"ch": _DeltaSnapshot(n)}, []) if n in snapshots else ({}, [("ch", n)])
        for n in range(steps)
    ]


@both
def test_writes_come_oldest_first(make: Callable[[], Saver]) -> None:
    saver = make()
    head = chain(saver, snapshot_chain({0}, 5))[-1]
    assert history(saver, head, "ch") == {"ch": {"writes": [1, 2, 3], "seed": 0}}


@both
def test_the_seed_is_the_nearest_snapshot(make: Callable[[], Saver]) -> None:
    saver = make()
    head = chain(saver, snapshot_chain({0, 3}, 6))[-1]
    assert history(saver, head, "ch") == {"ch": {"writes": [4], "seed": 3}}


@both
def test_the_targets_own_writes_are_left_out(make: Callable[[], Saver]) -> None:
    saver = make()
    head = chain(saver, snapshot_chain({0}, 3))[-1]
    saver.put_writes(head, [("ch", "extra")], "late")
    assert history(saver, head, "ch") == {"ch": {"writes": [1], "seed": 0}}


@both
def test_channels_end_their_walks_independently(make: Callable[[], Saver]) -> None:
    saver = make()
    steps: list[Step] = []
    for n in range(5):
        values = {"a": _DeltaSnapshot("snap_a")} if n == 1 else {}
        if n == 3:
            values = {"b": _DeltaSnapshot("snap_b")}
        steps.append((values, [("a", n), ("b", n)]))
    head = chain(saver, steps)[-1]
    assert history(saver, head, "a", "b") == {
        "a": {"writes": [1, 2, 3], "seed": "snap_a"},
        "b": {"writes": [3], "seed": "snap_b"},
    }


@both
def test_no_channels_no_history(make: Callable[[], Saver]) -> None:
    saver = make()
    head = chain(saver, snapshot_chain({0}, 3))[-1]
    assert saver.get_delta_channel_history(config=head, channels=[]) == {}


@both
def test_a_walk_to_the_root_has_no_seed(make: Callable[[], Saver]) -> None:
    saver = make()
    head = chain(saver, snapshot_chain(set(), 4))[-1]
    assert history(saver, head, "ch") == {"ch": {"writes": [0, 1, 2]}}


@both
def test_a_plain_value_is_a_seed(make: Callable[[], Saver]) -> None:
    saver = make()
    steps: list[Step] = [
        ({}, [("ch", 0)]),
        ({"ch": [10, 20, 30]}, []),
        ({}, [("ch", 2)]),
        ({}, [("ch", 3)]),
    ]
    head = chain(saver, steps)[-1]
    assert history(saver, head, "ch") == {"ch": {"writes": [2], "seed": [10, 20, 30]}}


@both
def test_the_seed_checkpoints_own_writes_are_replayed(
    make: Callable[[], Saver],
) -> None:
    saver = make()
    steps: list[Step] = [
        ({"ch": [10]}, [("ch", "older-than-seed")]),
        ({"ch": [10, 20]}, [("ch", "at-seed")]),
        ({}, [("ch", "after-seed")]),
        ({}, [("ch", "pending-at-head")]),
    ]
    head = chain(saver, steps)[-1]
    assert history(saver, head, "ch") == {
        "ch": {"writes": ["at-seed", "after-seed"], "seed": [10, 20]}
    }


@pytest.mark.parametrize(
    "counters",
    [
        {"ch": 7},
        {"ch": [1, "x"]},
        {"ch": [1, True]},
        {"ch": [1, -3]},
        {"ch": None},
        "not a mapping",
    ],
)
def test_malformed_delta_counters_cost_requests_never_a_wrong_answer(
    counters: Any,
) -> None:
    """The counters live in metadata, which is the user's: whatever they
    hold, the history is exact and prune keeps the newest checkpoint."""
    answers = []
    for saver in (MemorySaver(MemoryBucket()), InMemorySaver()):
        configs = chain(saver, snapshot_chain({0}, 4))
        checkpoint, _, versions = step_checkpoint(4, {})
        metadata = {"step": 4, "counters_since_delta_snapshot": counters}
        head = saver.put(configs[-1], checkpoint, metadata, versions)  # type: ignore[arg-type]
        answers.append(history(saver, head, "ch"))
        if isinstance(saver, MemorySaver):
            saver.prune(["d"], strategy="keep_latest")
            kept = [t.config["configurable"]["checkpoint_id"] for t in saver.list(None)]
            assert head["configurable"]["checkpoint_id"] in kept
    assert answers[0] == answers[1] == {"ch": {"writes": [1, 2, 3], "seed": 0}}
