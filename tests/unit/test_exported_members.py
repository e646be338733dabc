"""The public names: what ``langgraph_checkpoint_s3`` exports is pinned here,
so that a name is added or removed on purpose, and each one resolves."""

from __future__ import annotations

import importlib
import pkgutil

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


# The modules the documentation promises; every other module of the package
# is private (a leading underscore), as are the plans' modules. The CLI's
# modules are its own: users run the command, they do not import them.
PUBLIC_MODULES = [
    "aio",
    "cli",
    "envelopes",
    "errors",
    "plans",
    "protocol",
    "saver",
    "security",
]


def test_every_other_module_is_private() -> None:
    top = [m.name for m in pkgutil.iter_modules(langgraph_checkpoint_s3.__path__)]
    assert sorted(m for m in top if not m.startswith("_")) == PUBLIC_MODULES
    plans = importlib.import_module("langgraph_checkpoint_s3.plans")
    assert all(m.name.startswith("_") for m in pkgutil.iter_modules(plans.__path__))
