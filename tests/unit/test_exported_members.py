"""The public names: what ``langgraph_checkpoint_s3`` exports is pinned here,
so that a name is added or removed on purpose, and each one resolves."""

from __future__ import annotations

import langgraph_checkpoint_s3

PUBLIC = [
    "AsyncS3CheckpointSaver",
    "BucketNotFoundError",
    "CallWrite",
    "CheckpointConflictError",
    "CheckpointEnvelope",
    "ConditionalWritesError",
    "CorruptObjectError",
    "CredentialsError",
    "DeleteFailedError",
    "Expiry",
    "IdleThread",
    "RequestOptions",
    "S3AccessError",
    "S3CheckpointError",
    "S3CheckpointSaver",
    "TypedValue",
    "WriteBatch",
    "WriteEnvelope",
]


def test_the_public_names_are_pinned() -> None:
    assert langgraph_checkpoint_s3.__all__ == PUBLIC


def test_every_public_name_resolves_to_a_member_of_its_own() -> None:
    for name in PUBLIC:
        member = getattr(langgraph_checkpoint_s3, name)
        assert member.__name__ == name
        assert member.__module__.startswith("langgraph_checkpoint_s3.")
        assert name in dir(langgraph_checkpoint_s3)
