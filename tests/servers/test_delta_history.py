"""``get_delta_channel_history`` through the async saver on a server answers
as the clauses in ``tests/unit/test_delta_history.py`` say."""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver
from tests.support.delta_histories import (
    Step,
    chain,
    history,
    shape,
    step_checkpoint,
)
from tests.support.savers import AsyncSaverFactory


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
    assert shape(found) == expected


async def _achain(saver: AsyncS3CheckpointSaver, steps: list[Step]) -> RunnableConfig:
    config: RunnableConfig = {"configurable": {"thread_id": "d", "checkpoint_ns": ""}}
    for n, (values, writes) in enumerate(steps):
        checkpoint, metadata, versions = step_checkpoint(n, values)
        config = await saver.aput(config, checkpoint, metadata, versions)
        if writes:
            await saver.aput_writes(config, writes, f"task-{n}")
    return config
