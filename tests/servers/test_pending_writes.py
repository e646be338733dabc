"""Random ``put_writes`` sequences on moto and SeaweedFS keep what
InMemorySaver keeps; the many-example property is in
``tests/unit/test_pending_writes.py``."""

from __future__ import annotations

import secrets

from hypothesis import HealthCheck, given, settings
from langgraph.checkpoint.memory import InMemorySaver

from langgraph_checkpoint_s3 import S3CheckpointSaver
from tests.support.pending import (
    Call,
    calls,
    replay,
)
from tests.support.s3servers import S3Endpoint


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sequence=calls)
def test_put_writes_on_real_servers(
    sequence: list[Call], endpoint: S3Endpoint, bucket: str
) -> None:
    # One bucket for every example: each gets a prefix of its own.
    prefix = f"p{secrets.token_hex(6)}/"
    saver = S3CheckpointSaver(bucket, prefix=prefix, s3_client=endpoint.boto3_client())
    assert replay(saver, sequence) == replay(InMemorySaver(), sequence)
