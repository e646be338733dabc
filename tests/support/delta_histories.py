"""DeltaChannel histories: the call sequences that build them and the savers that
answer get_delta_channel_history."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, Checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot

from tests.support.memory_bucket import MemoryBucket, MemorySaver

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
        checkpoint, metadata, versions = step_checkpoint(n, values)
        config = saver.put(parent, checkpoint, metadata, versions)
        if writes:
            saver.put_writes(config, writes, f"task-{n}")
        configs.append(config)
    return configs


def step_checkpoint(n: int, values: Mapping[str, Any]) -> tuple[Checkpoint, Any, Any]:
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


def history(saver: Saver, config: RunnableConfig, *channels: str) -> dict[str, Any]:
    found = saver.get_delta_channel_history(config=config, channels=list(channels))
    return shape(found)


def shape(found: Mapping[str, Any]) -> dict[str, Any]:
    """The written values and the seed of each channel's history."""
    return {
        channel: {
            "writes": [value for _, _, value in entry["writes"]],
            **({"seed": plain(entry["seed"])} if "seed" in entry else {}),
        }
        for channel, entry in found.items()
    }


def plain(seed: Any) -> Any:
    return seed.value if isinstance(seed, _DeltaSnapshot) else seed


both = pytest.mark.parametrize("make", SAVERS.values(), ids=SAVERS.keys())
