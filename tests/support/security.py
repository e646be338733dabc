"""Values planted in stored checkpoints, the serializers that plant them, and the
audit hook that records what loading them ran."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph._internal import _serde as lg_serde
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.serde import _msgpack as lg_msgpack
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import (
    JsonPlusSerializer,
)
from pydantic import BaseModel, Field

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver, security
from langgraph_checkpoint_s3.cli.rendering import TolerantSerializer
from langgraph_checkpoint_s3.security import (
    PermissiveSerializerWarning,
)
from tests.support.s3servers import S3Endpoint
from tests.support.savers import session_for

PREFIX = "app/"


THREAD = "victim"


PLANTED_TASK = "planted-task"


class Profile(BaseModel):
    name: str
    tags: list[str] = Field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


FIRST_INPUT: dict[str, Any] = {
    "profile": Profile(name="ada"),
    "point": Point(1, 2),
    "visits": 0,
}


CONFIG: RunnableConfig = {"configurable": {"thread_id": THREAD}}


def set_mode(monkeypatch: pytest.MonkeyPatch, *, strict: bool) -> None:
    """What importing LangGraph with the variable set (or not) leaves: the
    serializer's flag, the flag compile reads, and the default serializer
    built from the first."""
    monkeypatch.setattr(lg_msgpack, "STRICT_MSGPACK_ENABLED", strict)
    monkeypatch.setattr(lg_serde, "STRICT_MSGPACK_ENABLED", strict)
    monkeypatch.setattr(BaseCheckpointSaver, "serde", JsonPlusSerializer())


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    set_mode(monkeypatch, strict=True)


@pytest.fixture
def permissive(monkeypatch: pytest.MonkeyPatch) -> None:
    set_mode(monkeypatch, strict=False)


SPAWNS = ("os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn")


recorders: list[list[tuple[str, str]]] = []


recorders_lock = threading.Lock()


def audit(event: str, args: tuple[Any, ...]) -> None:
    # Installed for the whole process (audit hooks cannot be removed); costs a
    # list check unless a test is recording.
    if recorders and event in SPAWNS:
        with recorders_lock:
            for recorder in recorders:
                recorder.append((event, repr(args)))


sys.addaudithook(audit)


@contextmanager
def recording() -> Iterator[list[tuple[str, str]]]:
    """The processes spawned and ``os.system`` calls made, from any thread,
    while the block runs."""
    events: list[tuple[str, str]] = []
    with recorders_lock:
        recorders.append(events)
    try:
        yield events
    finally:
        with recorders_lock:
            recorders.remove(events)


class Planted:
    """Stands for the planted value in what :func:`plant` stores."""


PLANTED = Planted()


@dataclasses.dataclass(frozen=True)
class Sealed:
    """An encrypted value the planter has no key for, copied as stored."""

    typed: tuple[str, bytes]


class PlantingSerializer(JsonPlusSerializer):
    """Stores :data:`PLANTED` as the payload's bytes, anything else as usual;
    encrypted values are carried over unread."""

    def __init__(self, tag: str, payload: bytes) -> None:
        super().__init__(allowed_msgpack_modules=[Profile, Point])
        self.planted = (tag, payload)

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        if obj is PLANTED:
            return self.planted
        if isinstance(obj, Sealed):
            return obj.typed
        return super().dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        if "+" in data[0]:  # e.g. msgpack+aes
            return Sealed(data)
        return super().loads_typed(data)


def plant(
    endpoint: S3Endpoint,
    bucket: str,
    payload: bytes,
    *,
    write: bool = True,
    tag: str = "msgpack",
) -> str:
    """Store a new newest checkpoint on the thread, its ``profile`` replaced
    by ``payload``, and with ``write`` a pending write of it: objects in the
    saver's own format, as anyone with PutObject on the prefix can store.
    Returns the checkpoint's id."""
    with S3CheckpointSaver(
        bucket,
        prefix=PREFIX,
        s3_client=endpoint.boto3_client(),
        serde=PlantingSerializer(tag, payload),
    ) as saver:
        newest = saver.get_tuple(CONFIG)
        assert newest is not None
        step = newest.metadata.get("step", 0) + 1
        checkpoint: Checkpoint = {
            **newest.checkpoint,
            "id": str(uuid6(clock_seq=step)),
            "channel_values": {
                **newest.checkpoint["channel_values"],
                "profile": PLANTED,
            },
        }
        metadata: CheckpointMetadata = {**newest.metadata, "step": step}
        config = saver.put(newest.config, checkpoint, metadata, {})
        if write:
            saver.put_writes(config, [("profile", PLANTED)], PLANTED_TASK)
    checkpoint_id: str = config["configurable"]["checkpoint_id"]
    return checkpoint_id


Make = Callable[[], Awaitable[BaseCheckpointSaver[Any]]]


@asynccontextmanager
async def savers(kind: str, endpoint: S3Endpoint, bucket: str) -> AsyncIterator[Make]:
    """Makes open savers of ``kind`` on ``bucket``; the shared-client kind
    gives every saver the same aiobotocore client."""
    async with AsyncExitStack() as stack:
        client: Any = None
        if kind == "async on a shared client":
            client = await stack.enter_async_context(
                session_for(endpoint).create_client("s3", endpoint_url=endpoint.url)
            )

        async def make() -> BaseCheckpointSaver[Any]:
            if kind == "sync":
                return stack.enter_context(
                    S3CheckpointSaver(
                        bucket, prefix=PREFIX, s3_client=endpoint.boto3_client()
                    )
                )
            if client is not None:
                saver = AsyncS3CheckpointSaver(bucket, prefix=PREFIX, s3_client=client)
            else:
                saver = AsyncS3CheckpointSaver(
                    bucket,
                    prefix=PREFIX,
                    session=session_for(endpoint),
                    endpoint_url=endpoint.url,
                )
            return await stack.enter_async_context(saver)

        yield make


async def get_tuple(
    kind: str, saver: BaseCheckpointSaver[Any]
) -> CheckpointTuple | None:
    if kind == "sync":
        return await asyncio.to_thread(saver.get_tuple, CONFIG)
    return await saver.aget_tuple(CONFIG)


AES_KEY = b"0123456789abcdef"


@pytest.fixture
def not_warned_yet(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """A process that has not warned yet; every warning recorded."""
    monkeypatch.setattr(security, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def permissive_warnings(caught: list[Any]) -> list[Any]:
    return [w for w in caught if issubclass(w.category, PermissiveSerializerWarning)]


class OwnSerializer:
    """A serializer of the user's own, with rules the saver cannot judge."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return "json", json.dumps(obj).encode()

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        return json.loads(data[1])


def encrypted(inner: JsonPlusSerializer) -> EncryptedSerializer:
    return EncryptedSerializer.from_pycryptodome_aes(inner, key=AES_KEY)


SERIALIZERS: dict[str, tuple[Callable[[], SerializerProtocol], bool, bool]] = {
    # name: (make it, runs names when strict mode is off, ... when it is on)
    "the default": (lambda: BaseCheckpointSaver.serde, True, False),
    "JsonPlusSerializer()": (JsonPlusSerializer, True, False),
    "allowed_msgpack_modules=True": (
        lambda: JsonPlusSerializer(allowed_msgpack_modules=True),
        True,
        True,
    ),
    "allowed_msgpack_modules=[...]": (
        lambda: JsonPlusSerializer(allowed_msgpack_modules=[Profile]),
        False,
        False,
    ),
    "pickle_fallback=True": (
        lambda: JsonPlusSerializer(pickle_fallback=True),
        True,
        True,
    ),
    "encrypted JsonPlusSerializer()": (
        lambda: encrypted(JsonPlusSerializer()),
        True,
        False,
    ),
    "encrypted with allowed_msgpack_modules=[...]": (
        lambda: encrypted(JsonPlusSerializer(allowed_msgpack_modules=[Profile])),
        False,
        False,
    ),
    "the CLI's": (TolerantSerializer, False, False),
    "the user's own": (OwnSerializer, False, False),
}
