"""Heads on a real server, through both savers, with ids that need escaping.
What a head costs and why it is only a hint is in ``tests/unit/test_heads.py``."""

from __future__ import annotations

import json
import time
from unittest import mock

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver

from langgraph_checkpoint_s3._base import PlanSaver
from tests.support.counting import count_requests
from tests.support.histories import cfg
from tests.support.memory_bucket import MemoryBucket, MemorySaver
from tests.support.savers import AsyncSaverFactory, SaverFactory

DAY = 86_400 * 10**9


@pytest.fixture
def saver() -> MemorySaver:
    return MemorySaver(MemoryBucket(), prefix="p/")


ODD_IDS = ["1f\\x", "a/b", "\x01", "%41", ".", "__default__", "é", "1f-9"]


def test_escaped_ids_and_heads_on_a_real_server(make_saver: SaverFactory) -> None:
    """Keys under the DEL mark and heads through botocore to moto and
    SeaweedFS: stored, listed in order, and the newest found as InMemorySaver
    finds it, by a reader that has the head and one that cannot use it."""
    saver, theirs = make_saver(), InMemorySaver()
    ids = []
    for step in range(110):
        checkpoint = empty_checkpoint()
        if step < len(ODD_IDS):
            checkpoint["id"] = ODD_IDS[step]
        for target in (saver, theirs):
            target.put(cfg(), checkpoint, {"step": step}, {})
        ids.append(checkpoint["id"])
    stored = saver.client.get_object(
        Bucket=saver.bucket_name, Key=saver.layout.head_key("t", "")
    )
    assert json.loads(stored["Body"].read())["checkpoint_id"] == ids[99]
    expected = theirs.get_tuple(cfg())
    assert expected is not None
    now = time.time_ns()
    for when in (now, now + 2 * DAY):
        reader = make_saver()
        with (
            mock.patch.object(
                PlanSaver, "_clock", staticmethod(lambda when=when: when)
            ),
            count_requests(reader.client) as counts,
        ):
            latest = reader.get_tuple(cfg())
            listed = [t.config for t in reader.list(cfg(), limit=4)]
        assert latest is not None and latest.config == expected.config
        assert listed == [t.config for t in theirs.list(cfg(), limit=4)]
        # An id of ODD_IDS sorts above every uuid6 id ("é", "a/b"): the
        # floors' listings reach the escaped keys at the end.
        assert counts["ListObjectsV2"] <= 3 + 2


async def test_escaped_ids_and_heads_through_the_async_saver(
    make_async_saver: AsyncSaverFactory,
) -> None:
    theirs = InMemorySaver()
    async with make_async_saver() as saver:
        for step in range(105):
            checkpoint = empty_checkpoint()
            if step < len(ODD_IDS):
                checkpoint["id"] = ODD_IDS[step]
            await saver.aput(cfg(), checkpoint, {"step": step}, {})
            theirs.put(cfg(), checkpoint, {"step": step}, {})
    expected = theirs.get_tuple(cfg())
    assert expected is not None
    now = time.time_ns()
    with mock.patch.object(PlanSaver, "_clock", staticmethod(lambda: now + 2 * DAY)):
        async with make_async_saver() as reader:
            latest = await reader.aget_tuple(cfg())
            listed = [t.config async for t in reader.alist(cfg(), limit=3)]
    assert latest is not None and latest.config == expected.config
    assert listed == [t.config for t in theirs.list(cfg(), limit=3)]
