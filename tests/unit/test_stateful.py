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

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.memory_bucket import MemoryBucket, MemorySaver, SeaweedFSBucket
from tests.support.stateful import (
    SaverFactory,
    check,
)


def on_memory(kind: type[MemoryBucket]) -> SaverFactory:
    def make() -> tuple[Any, Callable[[], None]]:
        return MemorySaver(kind(), prefix="p/"), lambda: None

    return make


@pytest.mark.parametrize(
    "kind", [MemoryBucket, SeaweedFSBucket], ids=["s3", "seaweedfs"]
)
def test_plans_behave_like_in_memory_saver(kind: type[MemoryBucket]) -> None:
    check(on_memory(kind), examples=200, steps=20)
