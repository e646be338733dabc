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
import importlib
import importlib.metadata
import importlib.util
import json
import logging
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
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
    """WSGI middleware: counts requests by type; answers COUNTS_PATH itself."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path == COUNTS_PATH:
            with self.lock:
                body = json.dumps(dict(self.counts)).encode()
            start_response(
                "200 OK",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body]
        kind = classify_http(
            str(environ.get("REQUEST_METHOD", "")),
            path,
            str(environ.get("QUERY_STRING", "")),
        )
        with self.lock:
            self.counts[kind] += 1
        return self.app(environ, start_response)


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


def make_step(saver: Any, step: int, versions: dict[str, Any], run_id: str) -> Step:
    """Checkpoint ``step`` of a chat-like thread; ``versions`` is updated."""
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.base.id import uuid6

    seen = dict(versions)
    updated = ["counter", "messages"] + (["context"] if step == 0 else [])
    new_versions = {
        name: saver.get_next_version(versions.get(name), None) for name in updated
    }
    versions.update(new_versions)
    checkpoint = empty_checkpoint()
    checkpoint["id"] = str(uuid6(clock_seq=step))
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


async def _timed(awaitable: Awaitable[_T]) -> tuple[float, _T]:
    start = time.perf_counter()
    value = await awaitable
    return time.perf_counter() - start, value


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
    ) -> None:
        self.saver = saver
        self.kind = kind
        self.loop = loop
        self.server = server
        self.hooks = hooks

    def call(self, op: Op, observe: bool = True) -> Call:
        hooks0 = self.hooks.snapshot() if observe and self.hooks else None
        server0 = self.server.snapshot() if observe and self.server else None
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
        )


# -- savers --------------------------------------------------------------------


@dataclass(frozen=True)
class Env:
    endpoint: str | None
    run_id: str
    tmp: Path

    def bucket(self, label: str) -> str:
        assert self.endpoint is not None
        name = f"bench-{self.run_id}-{label}".lower().replace("_", "-")[:63]
        create_bucket(self.endpoint, name)
        return name


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


@contextlib.contextmanager
def _open_ours(env: Env) -> Iterator[Any]:
    from langgraph_checkpoint_s3 import S3CheckpointSaver

    saver = S3CheckpointSaver(
        env.bucket("ours"), prefix="bench/", endpoint_url=env.endpoint
    )
    with saver:
        yield saver


@contextlib.asynccontextmanager
async def _open_ours_async(env: Env) -> AsyncIterator[Any]:
    from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver

    saver = AsyncS3CheckpointSaver(
        env.bucket("ours-async"), prefix="bench/", endpoint_url=env.endpoint
    )
    async with saver:
        yield saver


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
        _open_ours,
        ours=True,
    ),
    _spec(
        "ours-async",
        "AsyncS3CheckpointSaver (this repo)",
        "async",
        "langgraph-checkpoint-s3",
        ("langgraph_checkpoint_s3.plans",),
        _open_ours_async,
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
            yield Runner(saver, "sync", None, counter, found)
        return
    loop = asyncio.new_event_loop()
    try:
        manager = spec.open(env)
        saver = loop.run_until_complete(manager.__aenter__())
        try:
            yield Runner(saver, "async", loop, counter)
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
    env: Env, server: ServerCounter, sizes: Sequence[int]
) -> list[dict[str, Any]]:
    """Part 1: one call of each operation per N, counted by botocore hooks;
    put and put_writes are averaged over all N+1 calls (the seeding too)."""
    spec = next(s for s in SPECS if s.label == "ours")
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
    """§4: get_tuple(latest) and list(limit) may not grow with N."""
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
    sizes: Sequence[int],
    repeat: int,
    op_budget: float,
    parts: set[str],
    graph_steps: int,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "label": spec.label,
        "title": spec.title,
        "kind": spec.kind,
        "package": spec.version(),
        "s3": spec.s3,
        "note": spec.note,
        "where": sys.executable,
        "sizes": {},
        "graph": None,
        "error": None,
    }
    # Our sync saver also counts with botocore hooks (microseconds a request),
    # a cross-check of the server's count.
    hooks = spec.ours and spec.kind == "sync"
    try:
        with open_runner(spec, env, server, hooks) as runner:
            if "timing" in parts:
                for n in sizes:
                    log(f"[timing] {spec.label}, N={n}")
                    sized = run_size(runner, n, env.run_id, repeat, op_budget, False)
                    out["sizes"][str(n)] = {
                        "seed_s": sized["seed_s"],
                        "ops": {k: v.summary() for k, v in sized["ops"].items()},
                    }
            if "graph" in parts:
                log(f"[graph] {spec.label}")
                try:
                    out["graph"] = run_graph(runner, graph_steps)
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
            "--parts",
            ",".join(sorted(args.parts - {"counts"})) or "none",
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
        "budget (§4)",
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


# -- main ----------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="S3 request counts and timings of LangGraph checkpoint savers."
    )
    parser.add_argument("--sizes", help="history lengths N (default 10,100,1000)")
    parser.add_argument("--repeat", type=int, help="calls per operation (default 5)")
    parser.add_argument(
        "--quick", action="store_true", help="sizes 10,100 and repeat 2"
    )
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument(
        "--parts",
        default="counts,timing,graph",
        help="any of counts,timing,graph (default all)",
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
    parser.add_argument("--worker-timeout", type=float, default=3600.0)
    # Internal modes.
    parser.add_argument("--serve-moto", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--run-id", help=argparse.SUPPRESS)
    parser.add_argument("--exclude", default="none", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = args.sizes or ("10,100" if args.quick else "10,100,1000")
    args.sizes = [int(s) for s in sizes.split(",") if s.strip()]
    if any(n < 1 for n in args.sizes):
        parser.error("--sizes must be positive")
    args.repeat = args.repeat or (2 if args.quick else 5)
    args.parts = {p.strip() for p in args.parts.split(",")} - {"", "none"}
    unknown = args.parts - {"counts", "timing", "graph"}
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    args.savers = {s.strip() for s in args.savers.split(",")} if args.savers else None
    args.exclude = {s for s in args.exclude.split(",") if s and s != "none"}
    return args


def select_specs(
    args: argparse.Namespace, worker: bool
) -> tuple[list[SaverSpec], list[dict[str, Any]]]:
    chosen, skipped = [], []
    for spec in SPECS:
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
    }


def worker_main(args: argparse.Namespace) -> int:
    """Time this interpreter's savers against a server the parent runs."""
    _set_aws_env(args.endpoint)
    specs, skipped = select_specs(args, worker=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = Env(args.endpoint, args.run_id, Path(tmp))
        server = ServerCounter(args.endpoint)
        savers = [
            bench_saver(
                spec,
                env,
                server,
                args.sizes,
                args.repeat,
                args.op_budget,
                args.parts,
                args.graph_steps,
            )
            for spec in specs
        ]
    args.worker_out.write_text(
        json.dumps({"meta": meta(), "savers": savers, "skipped": skipped}, default=str)
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_moto:
        return serve_moto()
    if args.worker_out is not None:
        return worker_main(args)
    # This repo's package, also when run from a checkout that is not installed.
    sys.path.insert(0, str(REPO / "src"))
    _set_aws_env(None)
    run_id = uuid.uuid4().hex[:8]
    specs, skipped = select_specs(args, worker=False)
    report: dict[str, Any] = {
        "meta": meta(),
        "args": {
            "sizes": args.sizes,
            "repeat": args.repeat,
            "parts": sorted(args.parts),
            "op_budget_s": args.op_budget,
            "graph_steps": args.graph_steps,
            "writes_per_checkpoint": WRITES_PER_CHECKPOINT,
        },
        "counts": [],
        "savers": [],
        "skipped": skipped,
        "other_python": [],
    }
    started = time.perf_counter()
    with moto_child() as endpoint, tempfile.TemporaryDirectory() as tmp:
        _set_aws_env(endpoint)
        log(f"moto server at {endpoint}")
        env = Env(endpoint, run_id, Path(tmp))
        server = ServerCounter(endpoint)
        if "counts" in args.parts:
            report["counts"] = count_ours(env, server, args.sizes)
        if args.parts & {"timing", "graph"}:
            for spec in specs:
                report["savers"].append(
                    bench_saver(
                        spec,
                        env,
                        server,
                        args.sizes,
                        args.repeat,
                        args.op_budget,
                        args.parts,
                        args.graph_steps,
                    )
                )
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
        # A saver skipped here but measured by another interpreter is not skipped.
        measured = {s["label"] for s in report["savers"]}
        report["skipped"] = [s for s in report["skipped"] if s["label"] not in measured]
        for other in report["other_python"]:
            if other.get("error"):
                log(f"[other python] {other['python']}: {other['error']}")
    report["elapsed_s"] = time.perf_counter() - started

    print(
        f"# langgraph-checkpoint-s3 benchmark: N = {', '.join(map(str, args.sizes))},"
        f" repeat {args.repeat}, moto {report['meta']['versions'].get('moto', '?')}"
        f" on loopback, Python {report['meta']['python']}"
    )
    if report["counts"]:
        print_counts(report["counts"])
    if args.parts & {"timing", "graph"}:
        print_savers(report["savers"], report["skipped"])
        print_timing(report["savers"], args.sizes, args.repeat)
        print_graph(report["savers"], args.graph_steps)
    print(f"\n(total run time {report['elapsed_s']:.0f} s)")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
        log(f"raw figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
