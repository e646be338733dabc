"""Two savers racing put_writes on SeaweedFS, a real server with conditional
writes, leave what some serial order of their calls leaves. The rule, every
interleaving and the crashes are in ``tests/unit/test_batches.py``."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

from langgraph.checkpoint.base import empty_checkpoint

from langgraph_checkpoint_s3 import S3CheckpointSaver
from tests.support.histories import cfg
from tests.support.races import (
    Outcome,
    in_memory,
)
from tests.support.s3servers import S3Endpoint
from tests.support.savers import new_bucket


def racing(
    endpoint: S3Endpoint, bucket: str, rounds: int
) -> Iterator[tuple[dict[str, list[tuple[str, Any]]], Outcome]]:
    """Two savers writing one task's writes at once, ``rounds`` times; what
    they wrote, and what a reader sees (task ids as InMemorySaver's ``t``)."""
    savers = [
        S3CheckpointSaver(bucket, s3_client=endpoint.boto3_client()) for _ in "AB"
    ]
    for n in range(rounds):
        parent = savers[0].put(cfg(thread=f"race-{n}"), _checkpoint(n), {"step": n}, {})
        barrier = threading.Barrier(2)
        batches = {
            name: [(ch, f"{name}{n}") for ch in ("a", "b", "__interrupt__", "c")]
            for name in "AB"
        }
        threads = [
            threading.Thread(target=_write, args=(s, barrier, parent, b))
            for s, b in zip(savers, batches.values(), strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        found = savers[0].get_tuple(parent)
        assert found is not None
        yield batches, tuple(("t", ch, v) for _, ch, v in found.pending_writes or [])


def _write(
    saver: S3CheckpointSaver,
    barrier: threading.Barrier,
    config: Any,
    batch: list[tuple[str, Any]],
) -> None:
    barrier.wait()
    saver.put_writes(config, batch, "task")


def _checkpoint(n: int) -> Any:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"n": n}
    return checkpoint


def test_racing_savers_on_seaweedfs_leave_a_serial_order(
    seaweedfs: S3Endpoint,
) -> None:
    for batches, seen in racing(seaweedfs, new_bucket(seaweedfs), rounds=20):
        orders = [
            in_memory(order) for order in itertools.permutations(batches.values())
        ]
        assert seen in orders
