"""Part 1: S3 requests per call of our sync saver at history lengths N,
counted with botocore hooks.

``before-send`` fires once per HTTP attempt, so retries count; ``before-call``
counts API calls, and the difference is shown as retries. The figures are
reported, not judged: the request budgets are asserted by the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from benchmarks.calls import OP_PUT, OP_PUT_WRITES, OPERATIONS, open_runner
from benchmarks.checkpoints import WRITES_PER_CHECKPOINT
from benchmarks.counting import REQUEST_TYPES, mean_counts, total
from benchmarks.moto_server import ServerCounter
from benchmarks.output import fmt_num, log, render_table
from benchmarks.savers import Env, SaverSpec
from benchmarks.wall_time import OpResult, run_size


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
                        "problems": result.problems,
                    }
                )
    return rows


def print_counts(rows: Sequence[dict[str, Any]]) -> None:
    print("\n## 1. S3 requests per call: S3CheckpointSaver (sync), botocore hooks")
    print(
        f"   {WRITES_PER_CHECKPOINT} pending writes per checkpoint; put and"
        " put_writes are the mean over all N+1 calls (max in brackets)"
    )
    headers = ["operation", "N", *REQUEST_TYPES, "total", "keys listed"]
    table = []
    for r in rows:
        if "error" in r:
            table.append([r["op"], str(r["n"]), *["-"] * 6, "ERR", "-"])
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
            ]
        )
    print(render_table(headers, table))
    for r in rows:
        if "error" in r:
            print(f"   ERROR {r['op']} N={r['n']}: {r['error']}")
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
