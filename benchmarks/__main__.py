"""``python -m benchmarks [options]``: every part, then the tables and the
README section. The moto child (``--serve-moto``) and a worker under another
interpreter (``--worker-out``) run this same entry point."""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import compression_setting
from benchmarks.checkpoints import WRITES_PER_CHECKPOINT
from benchmarks.history_sweep import Captures
from benchmarks.moto_server import ServerCounter, moto_child, serve_moto, set_aws_env
from benchmarks.options import compression_specs, parse_args, select_specs, the_command
from benchmarks.output import log
from benchmarks.per_saver import bench_saver, run_other_python, worker_main
from benchmarks.report import load_average, meta, print_report
from benchmarks.requests_per_call import count_ours
from benchmarks.savers import Env
from benchmarks.throughput import run_throughput


def main(argv: Sequence[str] | None = None) -> int:
    """Run the parts asked for, print the report and write the files asked
    for; or serve moto (``--serve-moto``), measure as a worker
    (``--worker-out``), or print the report of a ``--json`` file again
    (``--render``)."""
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
    set_aws_env(None)
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
        set_aws_env(endpoint)
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
    report["meta"]["load_after"] = load_average()
    markdown = print_report(report)
    if args.readme is not None:
        args.readme.write_text(markdown)
        log(f"README tables written to {args.readme}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
        log(f"raw figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
