"""S3 requests per call, against the budgets of DESIGN §4. Counts are
deterministic, so they are asserted exactly; wall time never is."""

from __future__ import annotations

from collections import Counter

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver

from conftest import AsyncSaverFactory, SaverFactory
from counting import count_requests

WRITES_PER_CHECKPOINT = 2


def cfg(checkpoint_id: str | None = None, thread: str = "t") -> RunnableConfig:
    configurable = {"thread_id": thread, "checkpoint_ns": ""}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def history(saver: S3CheckpointSaver, n: int) -> list[str]:
    """n checkpoints in a parent chain, each with two pending writes."""
    ids: list[str] = []
    for step in range(n):
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"count": step}
        parent = cfg(ids[-1] if ids else None)
        saver.put(parent, checkpoint, {"step": step, "source": "loop"}, {})
        saver.put_writes(cfg(checkpoint["id"]), [("a", step), ("b", step)], "task")
        ids.append(checkpoint["id"])
    return ids


def only(counts: Counter[str], **expected: int) -> None:
    assert dict(counts) == {k: v for k, v in expected.items() if v}


@pytest.fixture
def saver(make_saver: SaverFactory) -> S3CheckpointSaver:
    return make_saver()


def test_put_is_one_put(saver: S3CheckpointSaver) -> None:
    with count_requests(saver.client) as counts:
        saver.put(cfg(), empty_checkpoint(), {}, {})
    only(counts, PutObject=1)


def test_put_writes_is_one_put_per_write(saver: S3CheckpointSaver) -> None:
    with count_requests(saver.client) as counts:
        saver.put_writes(cfg("c1"), [("a", 1), ("b", 2), ("c", 3)], "task")
    only(counts, PutObject=3)


@pytest.mark.parametrize("n", [1, 30])
def test_get_tuple_cost_does_not_grow_with_history(
    saver: S3CheckpointSaver, n: int
) -> None:
    ids = history(saver, n)
    with count_requests(saver.client) as counts:
        found = saver.get_tuple(cfg(ids[0]))
    assert found is not None and len(found.pending_writes or []) == 2
    only(counts, GetObject=1 + WRITES_PER_CHECKPOINT, ListObjectsV2=1)
    with count_requests(saver.client) as counts:
        latest = saver.get_tuple(cfg())
    assert latest is not None and latest.config == cfg(ids[-1])
    only(counts, GetObject=1 + WRITES_PER_CHECKPOINT, ListObjectsV2=2)


def test_list_with_limit_reads_only_what_it_returns(saver: S3CheckpointSaver) -> None:
    ids = history(saver, 30)
    with count_requests(saver.client) as counts:
        found = list(saver.list(cfg(), limit=5))
    assert [t.config for t in found] == [cfg(i) for i in reversed(ids[-5:])]
    assert all(len(t.pending_writes or []) == 2 for t in found)
    only(counts, GetObject=5 * (1 + WRITES_PER_CHECKPOINT), ListObjectsV2=2)


def test_full_list_is_one_get_per_object(saver: S3CheckpointSaver) -> None:
    ids = history(saver, 30)
    with count_requests(saver.client) as counts:
        found = list(saver.list(cfg()))
    assert len(found) == len(ids)
    only(counts, GetObject=30 * (1 + WRITES_PER_CHECKPOINT), ListObjectsV2=2)


def test_filtered_list_lists_writes_of_matches_only(saver: S3CheckpointSaver) -> None:
    history(saver, 30)
    with count_requests(saver.client) as counts:
        found = list(saver.list(cfg(), filter={"step": 7}, limit=1))
    assert [t.metadata["step"] for t in found] == [7]
    # Growing batches from the newest: 16 checkpoints, then the next 14.
    only(counts, GetObject=30 + WRITES_PER_CHECKPOINT, ListObjectsV2=2)


def test_delete_thread_is_two_lists_and_one_batch(saver: S3CheckpointSaver) -> None:
    history(saver, 30)
    with count_requests(saver.client) as counts:
        saver.delete_thread("t")
    only(counts, ListObjectsV2=2, DeleteObjects=1)
    assert saver.get_tuple(cfg()) is None


async def test_async_saver_spends_the_same(
    saver: S3CheckpointSaver, make_async_saver: AsyncSaverFactory
) -> None:
    ids = history(saver, 10)
    async with make_async_saver() as async_saver:
        assert isinstance(async_saver, AsyncS3CheckpointSaver)
        with count_requests(async_saver.client) as counts:
            await async_saver.aget_tuple(cfg())
            _ = [t async for t in async_saver.alist(cfg(), limit=3)]
            await async_saver.aput(cfg(ids[-1]), empty_checkpoint(), {}, {})
    only(counts, GetObject=3 + 3 * 3, ListObjectsV2=2 + 2, PutObject=1)
