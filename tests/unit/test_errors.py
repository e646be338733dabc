"""Bad input gets a clear, typed error and loses nothing."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config

from langgraph_checkpoint_s3 import (
    AsyncS3CheckpointSaver,
    S3AccessError,
    S3CheckpointSaver,
)
from tests.support.memory_bucket import Cost, MemoryBucket
from tests.support.memory_client import MemoryClient


def test_unreachable_endpoint_is_an_access_error() -> None:
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(S3AccessError, match="HeadBucket"):
        S3CheckpointSaver("bucket", s3_client=client)


@pytest.mark.parametrize(
    ("bucket_name", "prefix", "meant"),
    [
        ("s3://bucket/app/", "checkpoints/", "('bucket', prefix='app/')"),
        ("S3://bucket", "checkpoints/", "('bucket')"),
        ("bucket", "s3://bucket/x/", "('bucket', prefix='x/')"),
    ],
)
def test_an_s3_uri_for_the_bucket_or_prefix_is_refused_before_any_request(
    bucket_name: str, prefix: str, meant: str
) -> None:
    """Not botocore's 300-character bucket regex after a HeadBucket, nor the
    layout's "empty segments": one line that says how to split the URI."""
    bucket = MemoryBucket()
    client: Any = MemoryClient(bucket)
    with bucket.measure() as cost, pytest.raises(ValueError) as sync_error:
        S3CheckpointSaver(bucket_name, prefix=prefix, s3_client=client)
    assert cost == Cost()
    with pytest.raises(ValueError) as async_error:
        AsyncS3CheckpointSaver(bucket_name, prefix=prefix)
    for error, saver in [
        (sync_error, S3CheckpointSaver),
        (async_error, AsyncS3CheckpointSaver),
    ]:
        message = str(error.value)
        assert "\n" not in message and "not an S3 URI" in message
        assert message.endswith(f"use {saver.__name__}{meant}")
