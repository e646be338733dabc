"""Histories for the latest-checkpoint read: ids at chosen times, listings with
their quirks, and the clock a plan is given."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from unittest import mock

import pytest
from hypothesis import strategies as st
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint
from langgraph.checkpoint.base.id import UUID

from langgraph_checkpoint_s3 import _heads as heads
from langgraph_checkpoint_s3._base import PlanSaver
from langgraph_checkpoint_s3._keys import CheckpointRef
from tests.support.memory_bucket import (
    MemoryBucket,
    MemorySaver,
    SeaweedFSBucket,
)

from .histories import cfg

NOW = 1_795_000_000 * 10**9  # the fixed clock: 2026-11-18, in ns


SECOND = 10**9


DAY = 86_400 * SECOND


KINDS: dict[str, type[MemoryBucket]] = {
    "s3": MemoryBucket,
    "seaweedfs": SeaweedFSBucket,
}


@pytest.fixture
def fixed_clock() -> Iterator[None]:
    """Plans see the clock stand at ``NOW``."""
    with mock.patch.object(PlanSaver, "_clock", staticmethod(lambda: NOW)):
        yield


def uuid6_at(unix_ns: int, seq: int = 0, node: int = 0) -> str:
    """The uuid6 id LangGraph makes at ``unix_ns`` (``langgraph...id.uuid6``)."""
    stamp = unix_ns // 100 + 0x01B21DD213814000
    value = ((stamp >> 12) & 0xFFFFFFFFFFFF) << 80 | (stamp & 0xFFF) << 64
    value |= (seq & 0x3FFF) << 48 | (node & 0xFFFFFFFFFFFF)
    return str(UUID(int=value, version=6))


def identity(config: RunnableConfig) -> str:
    checkpoint_id: str = config["configurable"]["checkpoint_id"]
    return checkpoint_id


ids = st.text(
    st.sampled_from(list("0123456789abcdef-/\\%. é\x85\ufffe_")),
    min_size=1,
    max_size=12,
)


class StrictBucket(MemoryBucket):
    """S3's listing, but a common prefix that sorts before StartAfter is not
    returned even when keys under it come after (as moto does)."""

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        page: dict[str, Any] = super().list_objects_v2(**kwargs)
        after = (kwargs.get("StartAfter") or "").encode()
        page["CommonPrefixes"] = [
            p for p in page["CommonPrefixes"] if p["Prefix"].encode() > after
        ]
        return page


LISTINGS: dict[str, type[MemoryBucket]] = {**KINDS, "strict": StrictBucket}


def newest(saver: BaseCheckpointSaver[Any], **kwargs: Any) -> list[tuple[str, Any]]:
    return [(identity(t.config), t.pending_writes) for t in saver.list(cfg(), **kwargs)]


def bursts(n: int, end: int) -> list[str]:
    """LangGraph's ids for n checkpoints written 5 a minute (one invocation
    of 5 steps a second apart, each minute), oldest first, the newest at
    ``end``."""
    back = [(j // 5) * 60 * SECOND + (j % 5) * SECOND for j in range(n)]
    return [uuid6_at(end - b, seq=j % 5) for j, b in reversed(list(enumerate(back)))]


def tight(n: int, end: int) -> list[str]:
    """n checkpoints written 1 ms apart (a tight loop), the newest at ``end``."""
    return [uuid6_at(end - (n - 1 - i) * 10**6, seq=i) for i in range(n)]


HISTORIES: dict[str, Callable[[int], list[str]]] = {
    "recent": lambda n: bursts(n, NOW - 30 * SECOND),
    "idle": lambda n: bursts(n, NOW - 40 * DAY),
    "tight": lambda n: tight(n, NOW - 2 * SECOND),
}


@functools.cache
def history_ids(history: str, n: int) -> tuple[str, ...]:
    return tuple(HISTORIES[history](n))


def store_history(
    bucket: MemoryBucket, checkpoint_ids: Sequence[str], *, with_heads: bool = True
) -> MemorySaver:
    """The checkpoints stored as ``put`` stores them (one template body with
    its id replaced: 10,000 in milliseconds; the i-th as step i, with its
    head when one is due), two writes on the last one."""
    saver = MemorySaver(bucket, prefix="p/")
    template = "00000000-0000-6000-8000-000000000000"
    checkpoint = empty_checkpoint()
    checkpoint["id"] = template
    saver.put(cfg(), checkpoint, {"step": 0}, {})
    key = saver.layout.checkpoint_key(CheckpointRef("t", "", template))
    body = bucket.objects.pop(key).body
    previous = None
    for step, checkpoint_id in enumerate(checkpoint_ids):
        ref = CheckpointRef("t", "", checkpoint_id)
        bucket.put_raw(
            saver.layout.checkpoint_key(ref),
            body.replace(template.encode(), json.dumps(checkpoint_id)[1:-1].encode()),
        )
        if with_heads and heads.due({"step": step}):
            head = heads.encode_head(ref, previous)
            bucket.put_raw(saver.layout.head_key("t", ""), head)
            previous = checkpoint_id
    saver.put_writes(cfg(checkpoint_ids[-1]), [("a", 1), ("b", 2)], "task")
    return saver


BUILT: dict[tuple[str, str, int], MemorySaver] = {}


def stored(kind: str, history: str, n: int) -> tuple[MemorySaver, tuple[str, ...]]:
    """A bucket holding one history, built once per module run."""
    checkpoint_ids = history_ids(history, n)
    if (kind, history, n) not in BUILT:
        BUILT[kind, history, n] = store_history(KINDS[kind](), checkpoint_ids)
    return BUILT[kind, history, n], checkpoint_ids
