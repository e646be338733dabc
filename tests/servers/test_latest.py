"""The newest checkpoint of a long namespace on a real server: the same answer
and cost as the matching memory bucket, both shells. The floors and their
exactness are in ``tests/unit/test_latest.py``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver

from langgraph_checkpoint_s3 import S3CheckpointSaver
from tests.support.counting import count_requests
from tests.support.histories import cfg
from tests.support.latest import (
    history_ids,
    identity,
    store_history,
)
from tests.support.memory_bucket import (
    MemoryBucket,
    MemorySaver,
    SeaweedFSBucket,
)
from tests.support.s3servers import S3Endpoint

pytestmark = pytest.mark.usefixtures("fixed_clock")


def test_latest_on_a_server_as_in_memory(
    endpoint: S3Endpoint, bucket: str, request: pytest.FixtureRequest
) -> None:
    """1,200 checkpoints spread over buckets, the highest id an escaped one
    listed first: the server and the matching in-memory bucket answer alike,
    at the same cost, both shells."""
    checkpoint_ids = [*history_ids("recent", 1200)]
    odd = checkpoint_ids[-1][:5] + "\\"
    assert isinstance(request.node, pytest.Function)
    server = request.node.callspec.params["endpoint"]
    kind = SeaweedFSBucket if server == "seaweedfs" else MemoryBucket
    written = store_history(kind(bucket), [*checkpoint_ids, odd])
    memory = MemorySaver(written.bucket, prefix="p/")  # a reader, as the server's
    client = endpoint.boto3_client()

    def put(item: tuple[str, Any]) -> None:
        client.put_object(Bucket=bucket, Key=item[0], Body=item[1].body)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, memory.bucket.objects.items()))
    saver = S3CheckpointSaver(bucket, prefix="p/", s3_client=client)

    def latest(saver: BaseCheckpointSaver[Any]) -> list[Any]:
        return [saver.get_tuple(cfg())]

    def newest_three(saver: BaseCheckpointSaver[Any]) -> list[Any]:
        return list(saver.list(cfg(), limit=3))

    def two_before(saver: BaseCheckpointSaver[Any]) -> list[Any]:
        return list(saver.list(cfg(), limit=2, before=cfg(checkpoint_ids[700])))

    for read in (latest, newest_three, two_before):
        with memory.bucket.measure() as expected:
            ours = read(memory)
        with count_requests(client) as counted:
            theirs = read(saver)
        assert [identity(t.config) for t in theirs] == [
            identity(t.config) for t in ours
        ]
        assert dict(counted) == expected.operations()
    assert identity(saver.get_tuple(cfg()).config) == odd  # type: ignore[union-attr]
    saver.close()
