"""A boto3 S3 client on a :class:`MemoryBucket`, so the CLI (which builds an
``S3CheckpointSaver`` on a client) runs without a server.

The client answers the saver's five calls through the bucket, with boto3's
shapes (a GET's body is a stream), registers event handlers as botocore does
(they are never fired: no HTTP happens), and counts calls by operation name
as ``before-call`` handlers would. ``use_memory_bucket`` points every
``s3-checkpoint`` command at a bucket.
"""

from __future__ import annotations

import io
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.config import Config
from botocore.hooks import HierarchicalEmitter

from langgraph_checkpoint_s3.cli import connection as cli_connection

from .memory_bucket import MemoryBucket

__all__ = ["MemoryClient", "use_memory_bucket"]

_OPERATIONS = {
    "get_object": "GetObject",
    "put_object": "PutObject",
    "list_objects_v2": "ListObjectsV2",
    "delete_objects": "DeleteObjects",
    "head_bucket": "HeadBucket",
}


class MemoryClient:
    """The S3 client calls the saver makes, answered by a MemoryBucket."""

    def __init__(self, bucket: MemoryBucket) -> None:
        self.bucket = bucket
        self.calls: Counter[str] = Counter()
        self.meta = SimpleNamespace(
            events=HierarchicalEmitter(), config=Config(max_pool_connections=4)
        )

    def _call(self, method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        with self.bucket._lock:
            self.calls[_OPERATIONS[method]] += 1
            answer: dict[str, Any] = getattr(self.bucket, method)(**kwargs)
            return answer

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        answer = self._call("get_object", kwargs)
        return {**answer, "Body": io.BytesIO(answer["Body"])}

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("put_object", kwargs)

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("list_objects_v2", kwargs)

    def delete_objects(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("delete_objects", kwargs)

    def head_bucket(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("head_bucket", kwargs)


def use_memory_bucket(
    monkeypatch: pytest.MonkeyPatch, bucket: MemoryBucket
) -> MemoryClient:
    """Every command of this test opens its saver on ``bucket``."""
    client = MemoryClient(bucket)
    monkeypatch.setattr(cli_connection.Connection, "client", lambda self: client)
    return client
