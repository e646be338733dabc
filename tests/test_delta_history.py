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

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, Checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver
from memory_bucket import MemoryBucket, MemorySaver

from conftest import AsyncSaverFactory

Saver = BaseCheckpointSaver[Any]
Step = tuple[Mapping[str, Any], list[tuple[str, Any]]]
"""One checkpoint of a chain: the values it stores, and the writes put on it."""

SAVERS: dict[str, Callable[[], Saver]] = {
    "s3": lambda: MemorySaver(MemoryBucket()),
    "in_memory": InMemorySaver,
}


def chain(saver: Saver, steps: list[Step], thread: str = "d") -> list[RunnableConfig]:
    """A parent chain, oldest first: each checkpoint stores its values (with
    new versions) and then gets its writes, from a task of its own."""
    configs: list[RunnableConfig] = []
    for n, (values, writes) in enumerate(steps):
        parent: RunnableConfig = {
            "configurable": {"thread_id": thread, "checkpoint_ns": ""}
        }
        if configs:
            parent["configurable"]["checkpoint_id"] = configs[-1]["configurable"][
                "checkpoint_id"
            ]
        checkpoint, metadata, versions = _checkpoint(n, values)
        config = saver.put(parent, checkpoint, metadata, versions)
        if writes:
            saver.put_writes(config, writes, f"task-{n}")
        configs.append(config)
    return configs


def _checkpoint(n: int, values: Mapping[str, Any]) -> tuple[Checkpoint, Any, Any]:
    """Step ``n``'s checkpoint storing ``values`` (each at a new version),
    its metadata and its new versions."""
    versions = {channel: n + 1 for channel in values}
    checkpoint = Checkpoint(
        v=1,
        id=str(uuid6(clock_seq=-1)),
        ts="",
        channel_values=dict(values),
        channel_versions=dict(versions),
        versions_seen={},
        updated_channels=None,
    )
    return checkpoint, {"step": n, "source": "loop", "parents": {}}, versions


def snapshot_chain(snapshots: set[int], steps: int) -> list[Step]:
    """A ``_DeltaSnapshot`` of ``ch`` at the steps named, a write of the
    step's number at every other step."""
    return [
        ({"ch": _DeltaSnapshot(n)}, []) if n in snapshots else ({}, [("ch", n)])
        for n in range(steps)
    ]


def history(saver: Saver, config: RunnableConfig, *channels: str) -> dict[str, Any]:
    found = saver.get_delta_channel_history(config=config, channels=list(channels))
    return _shape(found)


def _shape(found: Mapping[str, Any]) -> dict[str, Any]:
    """The written values and the seed of each channel's history."""
    return {
        channel: {
            "writes": [value for _, _, value in entry["writes"]],
            **({"seed": _plain(entry["seed"])} if "seed" in entry else {}),
        }
        for channel, entry in found.items()
    }


def _plain(seed: Any) -> Any:
    return seed.value if isinstance(seed, _DeltaSnapshot) else seed


both = pytest.mark.parametrize("make", SAVERS.values(), ids=SAVERS.keys())


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


async def test_the_async_saver_on_a_server_answers_the_same(
    make_async_saver: AsyncSaverFactory,
) -> None:
    """One chain with every clause in it, through the async saver."""
    steps: list[Step] = [
        ({"a": [1]}, [("a", "a-at-seed"), ("b", "b0")]),
        ({}, [("a", "a1"), ("b", "b1")]),
        ({"b": _DeltaSnapshot(["b"])}, [("a", "a2"), ("b", "b-at-seed")]),
        ({}, [("a", "a3"), ("b", "b3")]),
    ]
    memory = InMemorySaver()
    expected = history(memory, chain(memory, steps)[-1], "a", "b", "c")
    assert expected == {
        "a": {"writes": ["a-at-seed", "a1", "a2"], "seed": [1]},
        "b": {"writes": ["b-at-seed"], "seed": ["b"]},
        "c": {"writes": []},
    }
    saver: AsyncS3CheckpointSaver
    async with make_async_saver() as saver:
        head = await _achain(saver, steps)
        found = await saver.aget_delta_channel_history(
            config=head, channels=["a", "b", "c"]
        )
    assert _shape(found) == expected


async def _achain(saver: AsyncS3CheckpointSaver, steps: list[Step]) -> RunnableConfig:
    config: RunnableConfig = {"configurable": {"thread_id": "d", "checkpoint_ns": ""}}
    for n, (values, writes) in enumerate(steps):
        checkpoint, metadata, versions = _checkpoint(n, values)
        config = await saver.aput(config, checkpoint, metadata, versions)
        if writes:
            await saver.aput_writes(config, writes, f"task-{n}")
    return config


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
        checkpoint, _, versions = _checkpoint(4, {})
        metadata = {"step": 4, "counters_since_delta_snapshot": counters}
        head = saver.put(configs[-1], checkpoint, metadata, versions)  # type: ignore[arg-type]
        answers.append(history(saver, head, "ch"))
        if isinstance(saver, MemorySaver):
            saver.prune(["d"], strategy="keep_latest")
            kept = [t.config["configurable"]["checkpoint_id"] for t in saver.list(None)]
            assert head["configurable"]["checkpoint_id"] in kept
    assert answers[0] == answers[1] == {"ch": {"writes": [1, 2, 3], "seed": 0}}
