"""Bad input gets a clear, typed error and loses nothing."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from langgraph_checkpoint_s3 import (
    S3AccessError,
    S3CheckpointSaver,
)


def test_unreachable_endpoint_is_an_access_error() -> None:
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(S3AccessError, match="HeadBucket"):
        S3CheckpointSaver("bucket", s3_client=client)
