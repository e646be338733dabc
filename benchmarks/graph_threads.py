"""Many LangGraph threads at once on one saver, metered: the runs of part 6
(:mod:`benchmarks.throughput`).

``T`` threads of ``S`` steps each run at the same time: on one
``AsyncS3CheckpointSaver`` as ``asyncio.gather`` of ``graph.ainvoke``, and on
one ``S3CheckpointSaver`` as ``graph.invoke`` on a pool of ``T`` threads, both
with their default settings, against the same server. Figures: node steps per
second, and the CPU time the client process spends per step (user and system,
``getrusage``: the server runs in another process).

Machine load is simulated with busy-loop processes (``--tp-load``), started
before and stopped after each measured run, so the savers compete for the CPU
as on a loaded host.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "GraphBuilder",
    "InitialState",
    "Server",
    "ThroughputRun",
    "async_body",
    "burners",
    "credentials",
    "run_async",
    "run_sync",
]

GraphBuilder = Callable[[int, Any], Any]
"""``build_graph(steps, checkpointer)``: a compiled graph of ``steps`` steps."""

InitialState = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class Server:
    """An S3 endpoint to measure against, and the credentials it takes."""

    name: str
    url: str
    access_key: str
    secret_key: str
    bucket: str
    requests: Callable[[], float] | None = None  # requests the server has seen


@dataclass
class ThroughputRun:
    """One measured run of ``threads`` x ``steps``."""

    saver: str  # "sync" | "async"
    server: str
    load: int
    threads: int
    steps: int
    wall_s: float
    user_s: float
    sys_s: float
    requests: float | None
    problems: list[str] = field(default_factory=list)

    @property
    def steps_per_s(self) -> float:
        return self.threads * self.steps / self.wall_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "saver": self.saver,
            "server": self.server,
            "load": self.load,
            "threads": self.threads,
            "steps": self.steps,
            "wall_s": self.wall_s,
            "steps_per_s": self.steps_per_s,
            "user_s": self.user_s,
            "sys_s": self.sys_s,
            "requests": self.requests,
            "problems": self.problems,
        }


@contextlib.contextmanager
def credentials(server: Server) -> Iterator[None]:
    """The server's credentials in the environment, where the savers' default
    clients find them; the previous values afterwards."""
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["AWS_ACCESS_KEY_ID"] = server.access_key
    os.environ["AWS_SECRET_ACCESS_KEY"] = server.secret_key
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def burners(count: int) -> Iterator[None]:
    """``count`` busy-loop processes for the duration of the block."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "while True: pass"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        if procs:
            time.sleep(0.2)  # let them reach the CPU before measuring
        yield
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def _cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def _configs(threads: int, steps: int) -> list[dict[str, Any]]:
    run = uuid.uuid4().hex[:8]
    return [
        {
            "configurable": {"thread_id": f"tp-{run}-{i}"},
            "recursion_limit": steps + 10,
        }
        for i in range(threads)
    ]


def _check(results: Sequence[Mapping[str, Any]], steps: int) -> list[str]:
    wrong = sum(1 for r in results if r.get("counter") != steps)
    return [f"{wrong} of {len(results)} threads ended wrong"] if wrong else []


@dataclass
class _Meter:
    """What one measured stretch cost: wall and CPU seconds, server requests."""

    wall: float = 0.0
    user: float = 0.0
    system: float = 0.0
    requests: float | None = None

    def run(
        self,
        saver: str,
        server: Server,
        load: int,
        threads: int,
        steps: int,
        results: Sequence[Mapping[str, Any]],
    ) -> ThroughputRun:
        return ThroughputRun(
            saver,
            server.name,
            load,
            threads,
            steps,
            self.wall,
            self.user,
            self.system,
            self.requests,
            _check(results, steps),
        )


@contextlib.contextmanager
def _metered(server: Server, load: int) -> Iterator[_Meter]:
    """Measure the block (sync or awaiting) with ``load`` burners beside it."""
    meter = _Meter()
    before = server.requests() if server.requests else None
    with burners(load):
        user0, sys0 = _cpu()
        start = time.perf_counter()
        yield meter
        meter.wall = time.perf_counter() - start
        user1, sys1 = _cpu()
    meter.user, meter.system = user1 - user0, sys1 - sys0
    after = server.requests() if server.requests else None
    if after is not None and before is not None:
        meter.requests = after - before


def run_sync(
    server: Server,
    threads: int,
    steps: int,
    load: int,
    build_graph: GraphBuilder,
    initial: InitialState,
) -> ThroughputRun:
    """``threads`` graph runs at once on one S3CheckpointSaver, a thread each."""
    from langgraph_checkpoint_s3 import S3CheckpointSaver

    prefix = f"tp-sync-{uuid.uuid4().hex[:8]}/"
    with (
        credentials(server),
        S3CheckpointSaver(server.bucket, prefix=prefix, endpoint_url=server.url) as cp,
    ):
        graph = build_graph(steps, cp)
        configs = _configs(threads, steps)

        def body() -> list[Mapping[str, Any]]:
            with ThreadPoolExecutor(threads, thread_name_prefix="graph") as pool:
                return list(pool.map(lambda c: graph.invoke(initial(), c), configs))

        with _metered(server, load) as meter:
            results = body()
        return meter.run("sync", server, load, threads, steps, results)


async def async_body(
    server: Server,
    threads: int,
    steps: int,
    build_graph: GraphBuilder,
    initial: InitialState,
    inner: Callable[[Callable[[], Any]], Any],
) -> Any:
    from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver

    prefix = f"tp-async-{uuid.uuid4().hex[:8]}/"
    async with AsyncS3CheckpointSaver(
        server.bucket, prefix=prefix, endpoint_url=server.url
    ) as cp:
        graph = build_graph(steps, cp)
        configs = _configs(threads, steps)

        async def everything() -> list[Mapping[str, Any]]:
            return list(
                await asyncio.gather(*(graph.ainvoke(initial(), c) for c in configs))
            )

        return await inner(everything)


def run_async(
    server: Server,
    threads: int,
    steps: int,
    load: int,
    build_graph: GraphBuilder,
    initial: InitialState,
) -> ThroughputRun:
    """``threads`` graph runs at once on one AsyncS3CheckpointSaver."""

    async def inner(everything: Callable[[], Any]) -> ThroughputRun:
        # The burners and the clock around the gather only: the saver's entry
        # (client creation, HeadBucket) is not part of the steady state.
        with _metered(server, load) as meter:
            results = await everything()
        return meter.run("async", server, load, threads, steps, results)

    with credentials(server):
        run: ThroughputRun = asyncio.run(
            async_body(server, threads, steps, build_graph, initial, inner)
        )
    return run
