"""Part 4: the history sweep. One thread of N checkpoints (2 pending writes
each) per saver; ``get_tuple`` of the latest checkpoint, ``list(limit=10)``
and ``delete_thread``, each with its requests, its rounds (sequential round
trips) and its median time; the bytes the history occupies.

Through HTTP moto stores a few hundred objects a second, so our savers'
histories are written to a :class:`~benchmarks.seeding.CaptureClient` and
stored in moto in bulk; other savers write theirs through their own calls.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from benchmarks import seeding
from benchmarks.calls import (
    OP_DELETE,
    OP_GET_LATEST,
    Op,
    Runner,
    check_ids,
    check_tuple,
    op_delete_thread,
    op_get_tuple,
    op_list,
    op_put,
    op_put_writes,
)
from benchmarks.checkpoints import (
    WRITES_PER_CHECKPOINT,
    Step,
    make_step,
    thread_config,
)
from benchmarks.counting import REQUEST_TYPES, total
from benchmarks.output import fmt_ms, fmt_num, render_table
from benchmarks.savers import Env, SaverSpec
from benchmarks.wall_time import OpResult

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


def bucket_bytes(env: Env, spec: SaverSpec) -> tuple[int, int] | None:
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
    before = bucket_bytes(env, spec)
    start = time.perf_counter()
    if spec.ours and spec.s3 and env.endpoint is not None:
        ids = seed_by_capture(env, spec, thread_id, n, interval, captures)
        seeded_by = "capture"
    else:
        ids = seed_through_saver(runner, thread_id, n, env.run_id, interval)
        seeded_by = "saver"
    seed_s = time.perf_counter() - start
    after = bucket_bytes(env, spec)
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


def sweep_cell(op: Mapping[str, Any]) -> tuple[str, str, str]:
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
                requests, rounds, ms = sweep_cell(r)
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
