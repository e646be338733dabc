"""LangGraph checkpoint savers for Amazon S3 and S3-compatible stores.

Names are imported on first use, so ``import langgraph_checkpoint_s3`` (and the
``s3-checkpoint`` CLI) does not pay for aiobotocore unless the async saver is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .aio import AsyncS3CheckpointSaver
    from .envelopes import (
        CallWrite,
        CheckpointEnvelope,
        TypedValue,
        WriteBatch,
        WriteEnvelope,
    )
    from .errors import (
        BucketNotFoundError,
        CheckpointConflictError,
        ConditionalWritesError,
        CorruptObjectError,
        CredentialsError,
        DeleteFailedError,
        S3AccessError,
        S3CheckpointError,
    )
    from .plans import Expiry, IdleThread
    from .protocol import RequestOptions
    from .saver import S3CheckpointSaver

_HOMES = {
    "AsyncS3CheckpointSaver": "aio",
    "BucketNotFoundError": "errors",
    "CallWrite": "envelopes",
    "CheckpointConflictError": "errors",
    "CheckpointEnvelope": "envelopes",
    "ConditionalWritesError": "errors",
    "CorruptObjectError": "errors",
    "CredentialsError": "errors",
    "DeleteFailedError": "errors",
    "Expiry": "plans",
    "IdleThread": "plans",
    "S3AccessError": "errors",
    "S3CheckpointError": "errors",
    "RequestOptions": "protocol",
    "S3CheckpointSaver": "saver",
    "TypedValue": "envelopes",
    "WriteBatch": "envelopes",
    "WriteEnvelope": "envelopes",
}

__all__ = [
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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
