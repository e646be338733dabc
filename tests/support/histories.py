"""Checkpoint configs and histories for the plans' tests: one config builder,
a parent chain of checkpoints with pending writes, and the memory bucket kinds
a plan is run on."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint

from .memory_bucket import MemoryBucket, MemorySaver, SeaweedFSBucket

PREFIX = "p/"
"""The prefix of the unit tests' savers."""

BUCKETS: dict[str, type[MemoryBucket]] = {
    "s3": MemoryBucket,
    "seaweedfs": SeaweedFSBucket,
}
"""The memory buckets: S3's listing, and SeaweedFS's (folders that linger)."""
both_buckets = pytest.mark.parametrize(
    "kind", list(BUCKETS.values()), ids=list(BUCKETS)
)
WRITES = 2  # per checkpoint, in ``history``


def cfg(
    checkpoint_id: str | None = None, thread: str = "t", ns: str = ""
) -> RunnableConfig:
    configurable = {"thread_id": thread, "checkpoint_ns": ns}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def history(
    saver: MemorySaver,
    n: int,
    *,
    writes: int | None = WRITES,
    thread: str = "t",
    ns: str = "",
    run_id: str = "r1",
) -> list[str]:
    """n checkpoints in a parent chain; checkpoint i has ``writes`` pending
    writes (None: ``i % 4`` of them)."""
    ids: list[str] = []
    for step in range(n):
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"count": step}
        parent = cfg(ids[-1] if ids else None, thread, ns)
        metadata: Any = {"step": step, "source": "loop", "run_id": run_id}
        saver.put(parent, checkpoint, metadata, {})
        count = step % 4 if writes is None else writes
        if count:
            batch = [(f"c{j}", step) for j in range(count)]
            saver.put_writes(cfg(checkpoint["id"], thread, ns), batch, "task")
        ids.append(checkpoint["id"])
    return ids


def pending(saver: MemorySaver, checkpoint_id: str) -> list[Any]:
    found = saver.get_tuple(cfg(checkpoint_id))
    assert found is not None
    return list(found.pending_writes or [])
