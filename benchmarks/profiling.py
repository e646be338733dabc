"""Where the async path spends its CPU: one run of part 6 under a profiler
(yappi when importable, else cProfile), its self time summed by library and
module, then into a few categories."""

from __future__ import annotations

import asyncio
import cProfile
import importlib
import pstats
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from benchmarks.graph_threads import (
    GraphBuilder,
    InitialState,
    Server,
    async_body,
    credentials,
)
from benchmarks.output import render_table

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
            async_body(server, threads, steps, build_graph, initial, inner)
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


def print_profile(profile: Mapping[str, Any]) -> None:
    """The tables of :func:`profile_async`'s figures."""
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
