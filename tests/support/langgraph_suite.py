"""The savers as options of LangGraph's own ``sync_checkpointer`` and
``async_checkpointer`` fixtures, for ``scripts/langgraph-suite``.

That script appends ``from langgraph_suite import *`` to the ``conftest.py``
of the tests shipped in the langgraph sdist, so these fixtures replace
LangGraph's. ``LANGGRAPH_SUITE_SAVERS`` names the options (default
``s3,s3_async``; ``memory`` adds LangGraph's own InMemorySaver, for a side by
side run). Each test gets a fresh prefix in one bucket of a moto server
started in its own process.

Two of LangGraph's tests' mocks reach into any stack beneath a saver:
``deterministic_uuids`` patches ``uuid.uuid4``, which botocore calls once per
request (the invocation id and idempotency tokens), so botocore is given a
``uuid`` of its own that the patch does not touch; the moto server runs in a
subprocess, out of the mock's reach.
"""

from __future__ import annotations

import importlib
import os
import secrets
import socket
import subprocess
import sys
import time
import types
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from typing import Any

import botocore.endpoint
import botocore.handlers
import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver

from .s3servers import S3Endpoint, create_bucket
from .savers import session_for

__all__ = ["async_checkpointer", "s3_suite_endpoint", "sync_checkpointer"]

_OWN_UUID = types.SimpleNamespace(**vars(uuid))
for _module in (botocore.endpoint, botocore.handlers):
    _module.uuid = _OWN_UUID  # type: ignore[attr-defined]

SAVERS = os.environ.get("LANGGRAPH_SUITE_SAVERS", "s3,s3_async").split(",")
SYNC = [name for name in SAVERS if name in ("s3", "memory")]
ASYNC = [name for name in SAVERS if name in ("s3_async", "memory")]
STRICT = os.getenv("LANGGRAPH_STRICT_MSGPACK", "false").lower() in ("1", "true", "yes")
BUCKET = "langgraph-suite"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def s3_suite_endpoint() -> Iterator[S3Endpoint]:
    """A moto server in a process of its own, with the suite's bucket."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = S3Endpoint(f"http://127.0.0.1:{port}", "testing", "testing")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                create_bucket(endpoint, BUCKET)
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(10)


def _serde() -> dict[str, Any]:
    return {"serde": JsonPlusSerializer(allowed_msgpack_modules=None)} if STRICT else {}


def _langgraphs_memory_saver() -> AbstractContextManager[BaseCheckpointSaver[Any]]:
    """LangGraph's own option: its InMemorySaver that asserts immutability."""
    module = importlib.import_module("tests.conftest_checkpointer")
    made: AbstractContextManager[BaseCheckpointSaver[Any]] = (
        module._checkpointer_memory()
    )
    return made


def _prefix() -> str:
    # Not uuid4: some tests patch it.
    return f"t{secrets.token_hex(8)}/"


@pytest.fixture(params=SYNC)
def sync_checkpointer(
    request: pytest.FixtureRequest,
) -> Iterator[BaseCheckpointSaver[Any]]:
    if request.param == "memory":
        with _langgraphs_memory_saver() as memory:
            yield memory
        return
    endpoint: S3Endpoint = request.getfixturevalue("s3_suite_endpoint")
    # Threshold 0: every value a later checkpoint holds again is stored once
    # and referred to, so LangGraph's tests run through the shared values.
    saver = S3CheckpointSaver(
        BUCKET,
        prefix=_prefix(),
        s3_client=endpoint.boto3_client(),
        shared_value_bytes=0,
        **_serde(),
    )
    try:
        yield saver
    finally:
        saver.close()


@pytest.fixture(params=ASYNC)
async def async_checkpointer(
    request: pytest.FixtureRequest,
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    if request.param == "memory":
        with _langgraphs_memory_saver() as memory:
            yield memory
        return
    endpoint: S3Endpoint = request.getfixturevalue("s3_suite_endpoint")
    async with AsyncS3CheckpointSaver(
        BUCKET,
        prefix=_prefix(),
        session=session_for(endpoint),
        endpoint_url=endpoint.url,
        shared_value_bytes=0,
        **_serde(),
    ) as saver:
        yield saver
