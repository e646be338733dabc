"""The report of a run: the machine it ran on, every table in order, and the
README's "Benchmarks" section (markdown: date, command, tables)."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.checkpoints import WRITES_PER_CHECKPOINT
from benchmarks.graph_loop import print_graph
from benchmarks.history_sweep import SWEEP_OPS, print_sweep, sweep_cell
from benchmarks.options import options_in, the_command
from benchmarks.output import render_table
from benchmarks.pricing import cost_rows, print_cost
from benchmarks.requests_per_call import print_counts
from benchmarks.throughput import print_throughput
from benchmarks.wall_time import print_timing


def load_average() -> float | None:
    """The machine's 1-minute load average (other processes' load shows in
    every timing: the CPUs are shared)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def load_text(meta_: Mapping[str, Any]) -> str:
    before, after = meta_.get("load_before"), meta_.get("load_after")
    if before is None:
        return "load average unknown"
    end = "?" if after is None else f"{after:g}"
    return f"load average {before:g} at the start, {end} at the end"


def meta() -> dict[str, Any]:
    """The interpreter, machine and library versions the figures came from."""
    versions = {}
    dists = ("langgraph", "langgraph-checkpoint", "boto3", "aiobotocore", "moto")
    for dist in dists:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_before": load_average(),
    }


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


def _thousands(n: int) -> str:
    return f"{n:,}"


def readme_markdown(report: Mapping[str, Any], command: str) -> str:
    """The README's benchmark section body: date, command, machine, tables."""
    meta_ = report["meta"]
    versions = meta_["versions"]
    lines = [
        f"Measured on {meta_['time'][:10]} with this command, on {meta_['cpus']}"
        f" CPUs ({load_text(meta_)}), Python {meta_['python']}, moto"
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
                    requests, rounds, ms = sweep_cell(sized["ops"][op])
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


def print_report(report: Mapping[str, Any]) -> str:
    """Every table of a run (or of a ``--json`` file), then the README
    section, which is returned."""
    meta_, given = report["meta"], report["args"]
    parts = set(given["parts"])
    print(
        f"# langgraph-checkpoint-s3 benchmark, {meta_['time']}:"
        f" N = {', '.join(map(str, given['sizes']))}, repeat {given['repeat']},"
        f" moto {meta_['versions'].get('moto', '?')} on loopback,"
        f" Python {meta_['python']}, {meta_['cpus']} CPUs, {load_text(meta_)}"
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
    markdown = readme_markdown(report, the_command(options_in(report["command"])))
    print("\n## README (section Benchmarks)\n")
    print(markdown, end="")
    return markdown
