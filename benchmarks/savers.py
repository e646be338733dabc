"""The savers measured: how to open each one against the moto server (or a
temp file), and what it needs to be importable.

Each saver gets its own bucket. The savers of other packages are imported by
name when opened, so a saver that is not installed is skipped, not fatal.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import compression_setting
from benchmarks.moto_server import create_bucket


@dataclass(frozen=True)
class Env:
    endpoint: str | None
    run_id: str
    tmp: Path
    compression: compression_setting.CompressionSetting | None = None
    buckets: dict[str, str] = field(default_factory=dict)  # by saver label

    def bucket(self, label: str) -> str:
        assert self.endpoint is not None
        name = f"bench-{self.run_id}-{label}".lower().replace("_", "-")[:63]
        create_bucket(self.endpoint, name)
        self.buckets[label] = name
        return name

    def ours_kwargs(self, compressed: bool | None) -> dict[str, Any]:
        """Constructor arguments of our savers: the compression setting on or
        off, or left at its default (None, or no setting found)."""
        if compressed is None or self.compression is None:
            return {}
        return self.compression.saver_kwargs(compressed, {})


@dataclass(frozen=True)
class SaverSpec:
    label: str
    title: str
    kind: str  # "sync" | "async"
    distribution: str  # for the version shown
    s3: bool
    ours: bool
    requires: tuple[str, ...]  # modules that must be importable
    open: Callable[[Env], Any]  # a context manager (async one for kind "async")
    note: str = ""
    compressed: bool | None = None  # ours: compression on/off; None: default

    def stores_as(self, env: Env) -> str:
        """What our savers' objects look like: "plain" or "gzip" (the capture
        of a history is shared by the savers that store alike)."""
        setting = env.compression
        if setting is None:
            return "plain"
        on = setting.default_on if self.compressed is None else self.compressed
        return "gzip" if on else "plain"

    def missing(self) -> str | None:
        """Why this saver cannot run here, or None."""
        for module in self.requires:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                return (
                    f"module {module} not importable (pip install {self.distribution})"
                )
        return None

    def version(self) -> str:
        try:
            return (
                f"{self.distribution} {importlib.metadata.version(self.distribution)}"
            )
        except importlib.metadata.PackageNotFoundError:
            return self.distribution


@contextlib.contextmanager
def _open_memory(env: Env) -> Iterator[Any]:
    from langgraph.checkpoint.memory import InMemorySaver

    yield InMemorySaver()


def ours_sync(
    label: str, compressed: bool | None = None
) -> Callable[[Env], contextlib.AbstractContextManager[Any]]:
    @contextlib.contextmanager
    def opener(env: Env) -> Iterator[Any]:
        from langgraph_checkpoint_s3 import S3CheckpointSaver

        saver = S3CheckpointSaver(
            env.bucket(label),
            prefix="bench/",
            endpoint_url=env.endpoint,
            **env.ours_kwargs(compressed),
        )
        with saver:
            yield saver

    return opener


def ours_async(
    label: str, compressed: bool | None = None
) -> Callable[[Env], contextlib.AbstractAsyncContextManager[Any]]:
    @contextlib.asynccontextmanager
    async def opener(env: Env) -> AsyncIterator[Any]:
        from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver

        saver = AsyncS3CheckpointSaver(
            env.bucket(label),
            prefix="bench/",
            endpoint_url=env.endpoint,
            **env.ours_kwargs(compressed),
        )
        async with saver:
            yield saver

    return opener


@contextlib.contextmanager
def _open_sqlite(env: Env) -> Iterator[Any]:
    module = importlib.import_module("langgraph.checkpoint.sqlite")
    path = env.tmp / f"sqlite-{uuid.uuid4().hex}.db"
    with module.SqliteSaver.from_conn_string(str(path)) as saver:
        saver.setup()
        yield saver


@contextlib.asynccontextmanager
async def _open_sqlite_async(env: Env) -> AsyncIterator[Any]:
    module = importlib.import_module("langgraph.checkpoint.sqlite.aio")
    path = env.tmp / f"asqlite-{uuid.uuid4().hex}.db"
    async with module.AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        await saver.setup()
        yield saver


def _boto3_client(env: Env) -> Any:
    boto3 = importlib.import_module("boto3")
    return boto3.client("s3", endpoint_url=env.endpoint, region_name="us-east-1")


def _serde_with_json_dumps() -> Any:
    """JsonPlusSerializer plus the ``dumps``/``loads`` that langgraph-checkpoint
    2.x had and 4.x dropped; langgraph-checkpoint-s3 0.1.3 (PyPI) still calls
    them, for metadata only (plain JSON)."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    class Serde(JsonPlusSerializer):
        def dumps(self, obj: Any) -> bytes:
            return json.dumps(obj, default=str).encode()

        def loads(self, data: bytes) -> Any:
            return json.loads(data)

    return Serde()


@contextlib.contextmanager
def _open_pypi_s3(env: Env) -> Iterator[Any]:
    module = importlib.import_module("langgraph_checkpoint_s3.checkpoint")
    yield module.S3CheckpointSaver(
        env.bucket("pypi-s3"),
        prefix="bench/",
        s3_client=_boto3_client(env),
        serde=_serde_with_json_dumps(),
    )


@contextlib.asynccontextmanager
async def _open_pypi_s3_async(env: Env) -> AsyncIterator[Any]:
    # It opens an aioboto3 client per call from a default session, which
    # finds moto through AWS_ENDPOINT_URL_S3.
    module = importlib.import_module("langgraph_checkpoint_s3.aio")
    yield module.AsyncS3CheckpointSaver(
        env.bucket("pypi-s3-async"), prefix="bench/", serde=_serde_with_json_dumps()
    )


@contextlib.contextmanager
def _open_tigris(env: Env) -> Iterator[Any]:
    module = importlib.import_module("langgraph.checkpoint.tigris")
    saver = module.TigrisSaver(
        env.bucket("tigris"), prefix="bench/", client=_boto3_client(env)
    )
    saver.setup()
    yield saver


@contextlib.asynccontextmanager
async def _open_tigris_async(env: Env) -> AsyncIterator[Any]:
    module = importlib.import_module("langgraph.checkpoint.tigris.aio")
    saver = module.AsyncTigrisSaver(
        env.bucket("tigris-async"),
        prefix="bench/",
        endpoint_url=env.endpoint,
        region_name="us-east-1",
    )
    await saver.setup()
    yield saver


@contextlib.contextmanager
def _open_objectstorage(env: Env) -> Iterator[Any]:
    module = importlib.import_module("langgraph_checkpoint_objectstorage")
    yield module.ObjectStorageSaver.from_conn_string(
        f"s3://{env.bucket('objectstorage')}/bench",
        endpoint_url=env.endpoint,
        key="testing",
        secret="testing",
        # s3fs caches listings by default: a list after a put would be stale.
        use_listings_cache=False,
    )


@contextlib.contextmanager
def _open_s3_checkpointer(env: Env) -> Iterator[Any]:
    # boto3.client("s3") inside: it finds moto through AWS_ENDPOINT_URL_S3.
    module = importlib.import_module("s3checkpointer.s3saver")
    yield module.S3CheckpointSaver(env.bucket("s3-checkpointer"), prefix="bench")


def _spec(
    label: str,
    title: str,
    kind: str,
    distribution: str,
    requires: tuple[str, ...],
    opener: Callable[[Env], Any],
    *,
    s3: bool = True,
    ours: bool = False,
    note: str = "",
) -> SaverSpec:
    return SaverSpec(label, title, kind, distribution, s3, ours, requires, opener, note)


_PYPI_S3_NOTE = "only under --other-python; serde given dumps/loads (2.x API)"
SPECS: tuple[SaverSpec, ...] = (
    _spec(
        "memory",
        "InMemorySaver",
        "sync",
        "langgraph-checkpoint",
        ("langgraph.checkpoint.memory",),
        _open_memory,
        s3=False,
    ),
    _spec(
        "ours",
        "S3CheckpointSaver (this repo)",
        "sync",
        "langgraph-checkpoint-s3",
        ("langgraph_checkpoint_s3.plans",),
        ours_sync("ours"),
        ours=True,
    ),
    _spec(
        "ours-async",
        "AsyncS3CheckpointSaver (this repo)",
        "async",
        "langgraph-checkpoint-s3",
        ("langgraph_checkpoint_s3.plans",),
        ours_async("ours-async"),
        ours=True,
    ),
    _spec(
        "sqlite",
        "SqliteSaver (temp file)",
        "sync",
        "langgraph-checkpoint-sqlite",
        ("langgraph.checkpoint.sqlite",),
        _open_sqlite,
        s3=False,
    ),
    _spec(
        "sqlite-async",
        "AsyncSqliteSaver (temp file)",
        "async",
        "langgraph-checkpoint-sqlite",
        ("langgraph.checkpoint.sqlite", "aiosqlite"),
        _open_sqlite_async,
        s3=False,
    ),
    _spec(
        "pypi-s3",
        "S3CheckpointSaver (PyPI langgraph-checkpoint-s3)",
        "sync",
        "langgraph-checkpoint-s3",
        ("langgraph_checkpoint_s3.checkpoint", "boto3"),
        _open_pypi_s3,
        note=_PYPI_S3_NOTE,
    ),
    _spec(
        "pypi-s3-async",
        "AsyncS3CheckpointSaver (PyPI langgraph-checkpoint-s3)",
        "async",
        "langgraph-checkpoint-s3",
        ("langgraph_checkpoint_s3.checkpoint", "aioboto3"),
        _open_pypi_s3_async,
        note=_PYPI_S3_NOTE,
    ),
    _spec(
        "tigris",
        "TigrisSaver (langgraph-checkpoint-tigris)",
        "sync",
        "langgraph-checkpoint-tigris",
        ("langgraph.checkpoint.tigris", "boto3"),
        _open_tigris,
    ),
    _spec(
        "tigris-async",
        "AsyncTigrisSaver (langgraph-checkpoint-tigris)",
        "async",
        "langgraph-checkpoint-tigris",
        ("langgraph.checkpoint.tigris", "aioboto3"),
        _open_tigris_async,
    ),
    _spec(
        "objstore",
        "ObjectStorageSaver on s3fs (langgraph-checkpoint-objectstorage)",
        "sync",
        "langgraph-checkpoint-objectstorage",
        ("langgraph_checkpoint_objectstorage", "s3fs"),
        _open_objectstorage,
        note="s3fs listing cache off",
    ),
    _spec(
        "s3-checkpointer",
        "S3CheckpointSaver (langgraph-s3-checkpointer)",
        "sync",
        "langgraph-s3-checkpointer",
        ("s3checkpointer.s3saver", "boto3"),
        _open_s3_checkpointer,
    ),
)
