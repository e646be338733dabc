"""Random sequences of saver calls against our savers and InMemorySaver side by
side: every read must give the same answer.

The machine runs on the plans' in-memory buckets (S3's semantics and
SeaweedFS's listing quirks) with many examples, in seconds, and there also
checks the request budget of every read; and, with few examples, on real
servers (moto and SeaweedFS) through both shells: the sync saver, and the
async saver on an event loop in another thread, called alternately through
its sync methods and its ``a*`` coroutines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.memory_bucket import MemoryBucket, MemorySaver, SeaweedFSBucket
from tests.support.stateful import (
    SaverFactory,
    check,
)

HOUR = 3600 * 10**9


def on_memory(kind: type[MemoryBucket], shared: int | None = None) -> SaverFactory:
    def make() -> tuple[Any, Callable[[], None]]:
        if shared is None:
            return MemorySaver(kind(), prefix="p/"), lambda: None
        saver = MemorySaver(kind(), prefix="p/", shared_value_bytes=shared)
        # An hour ahead: prune and delete_for_runs find every unused shared
        # value past its grace, so they delete them and must keep the rest.
        saver._clock = lambda: time.time_ns() + HOUR
        return saver, lambda: None

    return make


@pytest.mark.parametrize(
    "kind", [MemoryBucket, SeaweedFSBucket], ids=["s3", "seaweedfs"]
)
def test_plans_behave_like_in_memory_saver(kind: type[MemoryBucket]) -> None:
    check(on_memory(kind), examples=200, steps=20)


def test_with_every_value_shared_plans_behave_like_in_memory_saver() -> None:
    """Threshold 0: every value a later checkpoint holds again is stored
    once and referred to (docs/design.md §3)."""
    check(on_memory(MemoryBucket, shared=0), examples=100, steps=20)
