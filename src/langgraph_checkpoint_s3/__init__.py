"""LangGraph checkpoint savers for Amazon S3 and S3-compatible stores."""

from .aio import AsyncS3CheckpointSaver
from .envelopes import CheckpointEnvelope, TypedValue, WriteEnvelope
from .errors import (
    BucketNotFoundError,
    CheckpointConflictError,
    CorruptObjectError,
    CredentialsError,
    DeleteFailedError,
    S3AccessError,
    S3CheckpointError,
)
from .saver import S3CheckpointSaver

__all__ = [
    "AsyncS3CheckpointSaver",
    "BucketNotFoundError",
    "CheckpointConflictError",
    "CheckpointEnvelope",
    "CorruptObjectError",
    "CredentialsError",
    "DeleteFailedError",
    "S3AccessError",
    "S3CheckpointError",
    "S3CheckpointSaver",
    "TypedValue",
    "WriteEnvelope",
]
