"""Parts 2 to 4 for one saver (timing, sweep, graph), here or under another
interpreter.

``--other-python PY`` runs ``PY -m benchmarks --worker-out ...`` from the
repository root against the same moto server; the worker measures the savers
importable there (the PyPI package with this one's import name, say) and
writes its figures to a file the parent merges.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import ROOT
from benchmarks.calls import open_runner
from benchmarks.graph_loop import run_graph
from benchmarks.history_sweep import Captures, bucket_bytes, sweep_size
from benchmarks.moto_server import ServerCounter, aws_env, set_aws_env
from benchmarks.options import select_specs
from benchmarks.output import log
from benchmarks.report import meta
from benchmarks.savers import Env, SaverSpec
from benchmarks.wall_time import run_size


def bench_saver(
    spec: SaverSpec,
    env: Env,
    server: ServerCounter | None,
    args: argparse.Namespace,
    captures: Captures,
) -> dict[str, Any]:
    """The parts asked for on one saver. An error is recorded in the figures,
    not raised: one saver that fails does not end the run."""
    out: dict[str, Any] = {
        "label": spec.label,
        "title": spec.title,
        "kind": spec.kind,
        "package": spec.version(),
        "s3": spec.s3,
        "ours": spec.ours,
        "compression": None if not spec.ours else spec.stores_as(env),
        "note": spec.note,
        "where": sys.executable,
        "sizes": {},
        "sweep": {},
        "graph": None,
        "error": None,
    }
    parts = args.parts
    # Our sync saver also counts with botocore hooks (microseconds a request),
    # a cross-check of the server's count.
    hooks = spec.ours and spec.kind == "sync"
    try:
        with open_runner(spec, env, server, hooks) as runner:
            if "timing" in parts:
                for n in args.sizes:
                    log(f"[timing] {spec.label}, N={n}")
                    sized = run_size(
                        runner, n, env.run_id, args.repeat, args.op_budget, False
                    )
                    out["sizes"][str(n)] = {
                        "seed_s": sized["seed_s"],
                        "ops": {k: v.summary() for k, v in sized["ops"].items()},
                    }
            if "sweep" in parts:
                for n in args.sweep_sizes:
                    log(f"[sweep] {spec.label}, N={n}")
                    try:
                        out["sweep"][str(n)] = sweep_size(
                            runner,
                            spec,
                            env,
                            n,
                            args.sweep_repeat,
                            args.sweep_interval,
                            captures,
                        )
                    except Exception as exc:
                        out["sweep"][str(n)] = {
                            "error": f"{type(exc).__name__}: {exc}"[:300]
                        }
            if "graph" in parts:
                log(f"[graph] {spec.label}")
                try:
                    before = bucket_bytes(env, spec)
                    out["graph"] = run_graph(runner, args.graph_steps)
                    after = bucket_bytes(env, spec)
                    if before is not None and after is not None:
                        out["graph"]["stored"] = {
                            "objects": after[0] - before[0],
                            "bytes": after[1] - before[1],
                        }
                except Exception as exc:
                    out["graph"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
        log(f"[error] {spec.label}: {out['error']}")
    return out


def run_other_python(
    python: str, args: argparse.Namespace, endpoint: str, run_id: str, done: set[str]
) -> dict[str, Any]:
    """Run the savers of another interpreter (``--worker-out``) against the
    same server."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "worker.json"
        command = [
            python,
            "-m",
            "benchmarks",
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
            "--sweep-sizes",
            ",".join(map(str, args.sweep_sizes)),
            "--sweep-interval",
            str(args.sweep_interval),
            "--sweep-repeat",
            str(args.sweep_repeat),
            "--parts",
            ",".join(sorted(args.parts & {"timing", "sweep", "graph"})) or "none",
            "--exclude",
            ",".join(sorted(done)) or "none",
        ]
        if args.savers:
            command += ["--savers", ",".join(sorted(args.savers))]
        log(f"[other python] {python}")
        try:
            proc = subprocess.run(
                command,
                env={**os.environ, **aws_env(endpoint)},
                cwd=ROOT,
                timeout=args.worker_timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"python": python, "error": f"{type(exc).__name__}: {exc}"}
        if proc.returncode != 0 or not out.exists():
            return {"python": python, "error": f"exited with {proc.returncode}"}
        data: dict[str, Any] = json.loads(out.read_text())
        return data


def worker_main(args: argparse.Namespace) -> int:
    """Time this interpreter's savers against a server the parent runs."""
    set_aws_env(args.endpoint)
    specs, skipped = select_specs(args, worker=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = Env(args.endpoint, args.run_id, Path(tmp))
        server = ServerCounter(args.endpoint)
        captures: Captures = {}
        savers = [bench_saver(spec, env, server, args, captures) for spec in specs]
    args.worker_out.write_text(
        json.dumps({"meta": meta(), "savers": savers, "skipped": skipped}, default=str)
    )
    return 0
