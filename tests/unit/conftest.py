"""The unit tests: rules, and plans on the in-memory buckets, with no network.

Sockets are refused (pytest-socket) so that a test here that reaches for a
server fails instead of passing slowly; Unix sockets stay open for asyncio's
event loop.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket

from tests.support.histories import BUCKETS, PREFIX
from tests.support.memory_bucket import MemoryBucket, MemorySaver
from tests.support.memory_client import MemoryClient, use_memory_bucket


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(params=sorted(BUCKETS))
def bucket(request: pytest.FixtureRequest) -> MemoryBucket:
    """An empty memory bucket of each kind in turn."""
    return BUCKETS[request.param]()


@pytest.fixture
def saver(bucket: MemoryBucket) -> MemorySaver:
    """The sync saver's plans on ``bucket``, under ``PREFIX``."""
    return MemorySaver(bucket, prefix=PREFIX)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, bucket: MemoryBucket) -> MemoryClient:
    """``bucket`` as the boto3 client the CLI and the real savers make."""
    return use_memory_bucket(monkeypatch, bucket)
