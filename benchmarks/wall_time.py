"""Part 2: the median wall time per call of every saver, at history lengths
N, with the requests the server saw for each S3-backed one.

A thread is seeded with N ``put`` + ``put_writes`` calls, then every read is
called up to ``--repeat`` times on the unchanged history; ``put`` and
``put_writes`` then add checkpoints, and ``delete_thread`` runs once. Part 1
(:mod:`benchmarks.requests_per_call`) runs the same calls, counted.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.calls import (
    LIST_LIMIT,
    OP_DELETE,
    OP_GET_ID,
    OP_GET_LATEST,
    OP_LIST_FILTER,
    OP_LIST_FULL,
    OP_LIST_LIMIT,
    OP_PUT,
    OP_PUT_WRITES,
    OPERATIONS,
    Call,
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
from benchmarks.checkpoints import WRITES_PER_CHECKPOINT, make_step, thread_config
from benchmarks.counting import Counts, mean_counts, total
from benchmarks.output import fmt_ms, fmt_num, render_table


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
