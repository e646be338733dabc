"""Heads: one more PUT every 100 steps (1.01 per checkpoint), and only ever a
hint: a head that fails to be written or read, is stale, raced, or names a
checkpoint that is gone costs requests, never a write or an answer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from langgraph.checkpoint.base import empty_checkpoint

from langgraph_checkpoint_s3 import _heads as heads
from langgraph_checkpoint_s3._base import PlanSaver
from langgraph_checkpoint_s3._keys import CheckpointRef
from langgraph_checkpoint_s3.protocol import Get, Put, Request
from tests.support.histories import cfg, history
from tests.support.memory_bucket import Cost, MemoryBucket, MemorySaver, client_error

WRITES = 2

DAY = 86_400 * 10**9


@pytest.fixture
def saver() -> MemorySaver:
    return MemorySaver(MemoryBucket(), prefix="p/")


@pytest.fixture
def days_later() -> Iterator[None]:
    """Two days after the histories were written: the LIST from a day ago
    finds nothing, so a latest read goes to the head."""
    now = time.time_ns()
    with mock.patch.object(PlanSaver, "_clock", staticmethod(lambda: now + 2 * DAY)):
        yield


def head_of(saver: MemorySaver, thread: str = "t") -> dict[str, Any] | None:
    stored = saver.bucket.objects.get(saver.layout.head_key(thread, ""))
    return None if stored is None else dict(json.loads(stored.body))


def test_a_head_every_hundred_steps(saver: MemorySaver) -> None:
    with saver.bucket.measure() as cost:
        ids = history(saver, 250, writes=0)
    # Steps 99 and 199, and the saver's one check of conditional writes.
    assert cost.put == 250 + 2 + 1
    assert cost.rounds == 250 + 1  # beside the checkpoint, never a round of its own
    assert head_of(saver) == {
        "format": "langgraph-checkpoint-s3/head",
        "version": 1,
        "thread_id": "t",
        "checkpoint_ns": "",
        "checkpoint_id": ids[199],
        "previous_checkpoint_id": ids[99],
    }


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDenied", "no", status=403),
        client_error("SlowDown", "slow", status=503),
    ],
)
def test_a_head_that_cannot_be_written_loses_no_checkpoint(error: Exception) -> None:
    def refuse_heads(request: Request) -> None:
        if isinstance(request, Put) and "/heads/" in request.key:
            raise error

    saver = MemorySaver(MemoryBucket(fault=refuse_heads), prefix="p/")
    ids = history(saver, 120)
    assert head_of(saver) is None
    assert [c.config["configurable"]["checkpoint_id"] for c in saver.list(cfg())] == (
        ids[::-1]
    )
    latest = saver.get_tuple(cfg())
    assert latest is not None and latest.config == cfg(ids[-1])


@pytest.mark.usefixtures("days_later")
def test_an_idle_thread_is_read_from_its_head(saver: MemorySaver) -> None:
    ids = history(saver, 1000)
    reader = MemorySaver(saver.bucket, prefix="p/")
    with saver.bucket.measure() as cost:
        latest = reader.get_tuple(cfg())
    assert latest is not None and latest.config == cfg(ids[-1])
    # The empty LIST from a day ago, the head's GET, the LIST from step 899,
    # then the checkpoint beside its writes' LIST, then the writes: 5 + W.
    assert cost == Cost(rounds=5, list=3, get=1 + 1 + WRITES)


@pytest.mark.usefixtures("days_later")
@pytest.mark.parametrize(
    "spoil",
    ["deleted", "not json", "wrong schema", "other thread", "future id", "gone id"],
)
def test_a_spoilt_head_costs_requests_not_answers(
    saver: MemorySaver, spoil: str
) -> None:
    ids = history(saver, 300, writes=0)
    key = saver.layout.head_key("t", "")
    body = {
        "deleted": None,
        "not json": b"\x00{",
        "wrong schema": b'{"format": "langgraph-checkpoint-s3/head", "version": 7}',
        "other thread": heads.encode_head(CheckpointRef("u", "", ids[-1])),
        "future id": heads.encode_head(CheckpointRef("t", "", "2" + ids[-1][1:])),
        "gone id": heads.encode_head(CheckpointRef("t", "", ids[-1])),
    }[spoil]
    if spoil == "gone id":  # the head names the newest, deleted since
        del saver.bucket.objects[
            saver.layout.checkpoint_key(CheckpointRef("t", "", ids[-1]))
        ]
        ids.pop()
    saver.bucket.objects.pop(key)
    if body is not None:
        saver.bucket.put_raw(key, body)
    reader = MemorySaver(saver.bucket, prefix="p/")
    latest = reader.get_tuple(cfg())
    assert latest is not None and latest.config == cfg(ids[-1])
    found = [t.config for t in reader.list(cfg(), limit=3)]
    assert found == [cfg(i) for i in ids[::-1][:3]]


@pytest.mark.usefixtures("days_later")
def test_a_stale_head_from_a_racing_writer_reads_on(saver: MemorySaver) -> None:
    ids = history(saver, 400, writes=0)
    # Another process, late, writes the head of step 99 over that of step 399.
    stale = heads.encode_head(CheckpointRef("t", "", ids[99]))
    saver.bucket.put_raw(saver.layout.head_key("t", ""), stale)
    reader = MemorySaver(saver.bucket, prefix="p/")
    with saver.bucket.measure() as cost:
        latest = reader.get_tuple(cfg())
    assert latest is not None and latest.config == cfg(ids[-1])
    assert cost == Cost(rounds=4, list=3, get=2)  # 300 keys from it: one page


@pytest.mark.usefixtures("days_later")
def test_a_head_that_cannot_be_read_costs_a_scan(saver: MemorySaver) -> None:
    ids = history(saver, 150, writes=0)

    def refuse_head_reads(request: Request) -> None:
        if isinstance(request, Get) and "/heads/" in request.key:
            raise client_error("AccessDenied", "no", status=403)

    saver.bucket.fault = refuse_head_reads
    reader = MemorySaver(saver.bucket, prefix="p/")
    with saver.bucket.measure() as cost:
        latest = reader.get_tuple(cfg())
    assert latest is not None and latest.config == cfg(ids[-1])
    assert cost == Cost(rounds=4, list=3, get=2)  # the day, the scan's page


def test_deleting_a_thread_deletes_its_heads(saver: MemorySaver) -> None:
    history(saver, 120, writes=0)
    history(saver, 120, writes=0, ns="child:1")
    assert len([k for k in saver.bucket.objects if "/heads/" in k]) == 2
    saver.delete_thread("t")
    assert saver.bucket.objects == {}


def test_a_head_names_its_predecessor_only_one_head_back(saver: MemorySaver) -> None:
    """Two workers taking turns on a thread: a head carries the head before it
    only when its writer wrote that one, 100 steps back; never an older one,
    which would send list(limit=k) through the history between."""
    other = MemorySaver(saver.bucket, prefix="p/")
    ids: list[str] = []
    for step in range(500):
        writer = saver if step // 100 in (0, 1, 4) else other
        checkpoint = empty_checkpoint()
        writer.put(cfg(ids[-1] if ids else None), checkpoint, {"step": step}, {})
        ids.append(checkpoint["id"])
        if heads.due({"step": step}):
            head = head_of(saver)
            assert head is not None and head["checkpoint_id"] == checkpoint["id"]
            previous = ids[step - 100] if step in (199, 399) else None
            assert head.get("previous_checkpoint_id") == previous, step
    reader = MemorySaver(saver.bucket, prefix="p/")
    with saver.bucket.measure() as cost:
        found = list(reader.list(cfg(), limit=10))
    assert [t.config for t in found] == [cfg(i) for i in ids[::-1][:10]]
    assert cost.requests <= 10 + 3 and cost.rounds <= 4


def test_deleting_a_namespaces_last_run_deletes_its_head(saver: MemorySaver) -> None:
    history(saver, 120, writes=0, run_id="gone")
    history(saver, 120, writes=0, thread="u", run_id="gone")
    history(saver, 5, writes=0, thread="u", run_id="stays")
    saver.delete_for_runs(["gone"])
    assert head_of(saver) is None  # thread t: nothing left
    assert head_of(saver, "u") is not None  # u keeps checkpoints, and its head
    latest = saver.get_tuple(cfg(thread="u"))
    assert latest is not None and latest.metadata["run_id"] == "stays"
