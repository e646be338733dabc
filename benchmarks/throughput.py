"""Graph throughput: many LangGraph threads at once on one saver.

``T`` threads of ``S`` steps each run at the same time: on one
``AsyncS3CheckpointSaver`` as ``asyncio.gather`` of ``graph.ainvoke``, and on
one ``S3CheckpointSaver`` as ``graph.invoke`` on a pool of ``T`` threads, both
with their default settings, against the same server. Figures: node steps per
second, and the CPU time the client process spends per step (user and system,
``getrusage``: the server runs in another process).

Machine load is simulated with busy-loop processes (``--tp-load``), started
before and stopped after each measured run, so the savers compete for the CPU
as on a loaded host. Runs alternate between the savers, so a change in
background load hits both.

``profile_async`` runs the async case under a profiler (yappi when importable,
else cProfile) and sums the time by library and module.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import importlib
import os
import pstats
import re
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Server",
    "ThroughputRun",
    "burners",
    "profile_async",
    "run_async",
    "run_sync",
    "summarize",
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


async def _async_body(
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
            _async_body(server, threads, steps, build_graph, initial, inner)
        )
    return run


def summarize(runs: Sequence[ThroughputRun]) -> list[dict[str, Any]]:
    """Median figures per (server, load, saver), in the order first seen."""
    groups: dict[tuple[str, int, str], list[ThroughputRun]] = {}
    for run in runs:
        groups.setdefault((run.server, run.load, run.saver), []).append(run)
    rows = []
    for (server, load, saver), found in groups.items():
        steps = found[0].threads * found[0].steps
        requests = [r.requests for r in found if r.requests is not None]
        rows.append(
            {
                "server": server,
                "load": load,
                "saver": saver,
                "runs": len(found),
                "threads": found[0].threads,
                "steps": found[0].steps,
                "steps_per_s": statistics.median(r.steps_per_s for r in found),
                "steps_per_s_all": [r.steps_per_s for r in found],
                "cpu_ms_per_step": statistics.median(
                    1000 * (r.user_s + r.sys_s) / steps for r in found
                ),
                "sys_ms_per_step": statistics.median(
                    1000 * r.sys_s / steps for r in found
                ),
                "requests_per_step": statistics.median(requests) / steps
                if requests
                else None,
                "problems": sorted({p for r in found for p in r.problems}),
            }
        )
    return rows


# -- where the async path spends its CPU ---------------------------------------

_SITE = re.compile(r"site-packages/([^/]+)/(.*)$")
_DETAILED = ("botocore", "aiobotocore", "aiohttp")


def _where(filename: str) -> str:
    """A frame's file as a group: our modules and the AWS/HTTP stack by module,
    other libraries by package, the standard library by top-level module."""
    if "langgraph_checkpoint_s3/" in filename:
        return (
            "langgraph_checkpoint_s3/" + filename.rsplit("langgraph_checkpoint_s3/")[-1]
        )
    found = _SITE.search(filename)
    if found:
        package, rest = found.groups()
        return f"{package}/{rest}" if package in _DETAILED else package
    stdlib = re.search(r"python3\.\d+/(.*)$", filename)
    if stdlib:
        return "stdlib " + stdlib.group(1).split("/")[0].removesuffix(".py")
    return filename.strip("<>") or "?"


def group_stats(stats: pstats.Stats) -> tuple[float, list[tuple[str, float]]]:
    """Self time by group (see ``_where``), largest first, and the total."""
    table: Any = stats.stats  # type: ignore[attr-defined]
    by_group: dict[str, float] = {}
    for (filename, _line, _name), (
        _cc,
        _nc,
        self_time,
        _cum,
        _callers,
    ) in table.items():
        group = _where(filename)
        by_group[group] = by_group.get(group, 0.0) + self_time
    ranked = sorted(by_group.items(), key=lambda item: -item[1])
    return sum(by_group.values()), ranked


CATEGORIES: tuple[tuple[str, str], ...] = (
    ("langgraph_checkpoint_s3", r"^langgraph_checkpoint_s3/"),
    ("botocore: endpoint ruleset", r"^(aio)?botocore/(endpoint_provider|regions)\.py"),
    ("botocore: SigV4 signing", r"^(aio)?botocore/(auth|signers)\.py|^stdlib hmac"),
    ("botocore: user agent", r"^botocore/useragent\.py"),
    (
        "botocore: checksums",
        r"^(aio)?botocore/httpchecksum\.py|^stdlib (zlib|binascii)",
    ),
    (
        "botocore: serialize, validate, parse",
        r"^(aio)?botocore/(serialize|validate|parsers)\.py",
    ),
    ("botocore/aiobotocore: the rest (hooks, client, endpoint)", r"^(aio)?botocore/"),
    (
        "aiohttp, yarl, multidict (HTTP)",
        r"^(aiohttp|yarl|multidict|aiohappyeyeballs|propcache)",
    ),
    ("stdlib: email, http, urllib (headers, URLs)", r"^stdlib (email|http|urllib)"),
    ("stdlib: asyncio, selectors, socket", r"^stdlib (asyncio|selectors|socket|ssl)"),
    ("langgraph, langchain_core", r"^(langgraph|langchain_core)$"),
)


def categorize(groups: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Self time of ``group_stats`` groups summed into a few categories."""
    found: dict[str, float] = {}
    for group, seconds in groups:
        name = next((name for name, rx in CATEGORIES if re.search(rx, group)), "other")
        found[name] = found.get(name, 0.0) + seconds
    return sorted(found.items(), key=lambda item: -item[1])


def profile_async(
    server: Server,
    threads: int,
    steps: int,
    build_graph: GraphBuilder,
    initial: InitialState,
    out_path: str | None,
) -> dict[str, Any]:
    """One async run under a CPU profiler; self time summed by group."""
    try:
        yappi: Any = importlib.import_module("yappi")
    except ImportError:
        yappi = None

    async def inner(everything: Callable[[], Any]) -> Any:
        if yappi is not None:
            yappi.set_clock_type("cpu")
            yappi.clear_stats()
            yappi.start()
            try:
                await everything()
            finally:
                yappi.stop()
            path = out_path or f"/tmp/bench-async-{uuid.uuid4().hex[:8]}.pstat"
            yappi.get_func_stats().save(path, type="pstat")
            return "yappi (CPU clock)", pstats.Stats(path), path
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            await everything()
        finally:
            profiler.disable()
        if out_path:
            profiler.dump_stats(out_path)
        return "cProfile (wall clock)", pstats.Stats(profiler), out_path

    with credentials(server):
        tool, stats, path = asyncio.run(
            _async_body(server, threads, steps, build_graph, initial, inner)
        )
    total, groups = group_stats(stats)
    return {
        "tool": tool,
        "server": server.name,
        "threads": threads,
        "steps": steps,
        "total_s": total,
        "groups": groups,
        "categories": categorize(groups),
        "path": path,
    }
