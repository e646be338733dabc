"""The command line: its options, the command a README shows, and the
savers the options select."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import compression_setting
from benchmarks.savers import SPECS, SaverSpec, ours_async, ours_sync

PARTS = ("counts", "timing", "sweep", "graph", "throughput")

COMMAND = ("python", "-m", "benchmarks")
"""The bench's command, as its usage line and the README show it."""


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=shlex.join(COMMAND),
        description="S3 request counts, round trips, timings, stored bytes,"
        " dollars and graph throughput of LangGraph checkpoint savers.",
    )
    parser.add_argument("--sizes", help="history lengths N of parts 1-2 (10,100,1000)")
    parser.add_argument("--repeat", type=int, help="calls per operation (default 5)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="about 30 s: --sizes 10 --repeat 2 --sweep-sizes 10,1000"
        " --sweep-repeat 1 --tp-repeat 1 --tp-servers moto --tp-load 0, unless"
        " given",
    )
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"any of {','.join(PARTS)} (default all)",
    )
    parser.add_argument("--savers", help="labels of the savers to time (default all)")
    parser.add_argument(
        "--other-python",
        action="append",
        default=[],
        metavar="PYTHON",
        help="also time the savers importable by this interpreter (repeatable)",
    )
    parser.add_argument(
        "--op-budget",
        type=float,
        default=20.0,
        help="stop repeating an operation after this many seconds (default 20)",
    )
    parser.add_argument("--graph-steps", type=int, default=20)
    parser.add_argument(
        "--sweep-sizes", help="history lengths of the sweep (default 10,1000,10000)"
    )
    parser.add_argument(
        "--sweep-repeat", type=int, help="calls per sweep read (default 3)"
    )
    parser.add_argument(
        "--sweep-interval",
        type=float,
        default=5.0,
        help="seconds between the checkpoints of a sweep history (default 5)",
    )
    parser.add_argument(
        "--compression",
        choices=("both", "on", "off", "default"),
        default="both",
        help="our savers with compression: both (default: ours and ours-async at"
        " the default, one more sync saver with the other value), on, off, or"
        " default; ignored when the savers have no compression setting",
    )
    parser.add_argument(
        "--tp-threads", type=int, default=50, help="graph threads at once (50)"
    )
    parser.add_argument(
        "--tp-steps", type=int, default=10, help="steps per graph thread (10)"
    )
    parser.add_argument(
        "--tp-repeat", type=int, help="runs per saver, alternating (default 3)"
    )
    parser.add_argument(
        "--tp-servers", help="moto and/or seaweedfs (default both, if weed is found)"
    )
    parser.add_argument(
        "--tp-load",
        help="busy-loop processes during the runs, one set of runs per value"
        " (default 0,2: quiet, then loaded)",
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="also profile one async throughput run on moto (yappi if importable,"
        " else cProfile); the pstats file goes to PATH if given",
    )
    parser.add_argument(
        "--readme",
        type=Path,
        metavar="PATH",
        help="write the README tables (markdown, with date and command) here",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="print the tables and README section of a --json file; run nothing",
    )
    parser.add_argument("--worker-timeout", type=float, default=3600.0)
    # Internal modes.
    parser.add_argument("--serve-moto", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--run-id", help=argparse.SUPPRESS)
    parser.add_argument("--exclude", default="none", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = _ints(args.sizes or ("10" if quick else "10,100,1000"))
    args.sweep_sizes = _ints(
        args.sweep_sizes or ("10,1000" if quick else "10,1000,10000")
    )
    if any(n < 1 for n in [*args.sizes, *args.sweep_sizes]):
        parser.error("--sizes and --sweep-sizes must be positive")
    args.repeat = args.repeat or (2 if quick else 5)
    args.sweep_repeat = args.sweep_repeat or (1 if quick else 3)
    args.tp_repeat = args.tp_repeat or (1 if quick else 3)
    args.tp_load = _ints(args.tp_load or ("0" if quick else "0,2"))
    servers = args.tp_servers or ("moto" if quick else "moto,seaweedfs")
    args.tp_servers = [x.strip() for x in servers.split(",") if x.strip()]
    if set(args.tp_servers) - {"moto", "seaweedfs"}:
        parser.error("--tp-servers: moto and/or seaweedfs")
    args.parts = {p.strip() for p in args.parts.split(",")} - {"", "none"}
    unknown = args.parts - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    args.savers = {s.strip() for s in args.savers.split(",")} if args.savers else None
    args.exclude = {s for s in args.exclude.split(",") if s and s != "none"}
    return args


_OUTPUT_ONLY = ("--json", "--readme")
"""Options that say where figures go, not what is measured."""


def the_command(argv: Sequence[str] | None) -> str:
    """The command line of this run as the README shows it: without the
    options that only name output files, and ``--profile`` without its path."""
    given = list(sys.argv[1:] if argv is None else argv)
    shown: list[str] = []
    skip = False
    for i, arg in enumerate(given):
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in _OUTPUT_ONLY:
            skip = "=" not in arg
            continue
        if name == "--profile":
            shown.append("--profile")
            following = given[i + 1] if i + 1 < len(given) else ""
            skip = "=" not in arg and bool(following) and not following.startswith("-")
            continue
        shown.append(arg)
    return shlex.join([*COMMAND, *shown])


def options_in(command: str) -> list[str]:
    """The options of a command line :func:`the_command` made, also of one
    made before the bench was a package (``python benchmarks/bench.py``), as a
    ``--json`` file may hold."""
    words = shlex.split(command)
    if tuple(words[: len(COMMAND)]) == COMMAND:
        return words[len(COMMAND) :]
    return words[2:]


def compression_specs(
    mode: str, setting: compression_setting.CompressionSetting | None
) -> tuple[list[SaverSpec], str]:
    """Our savers as ``--compression`` asks: at the setting's default, both
    on, both off; "both" adds a sync saver with the other value. A note says
    what was run."""
    base = [s for s in SPECS if s.ours]
    if setting is None:
        return base, ""
    if mode in ("on", "off"):
        compressed = mode == "on"
        return [
            dataclasses.replace(
                s,
                open=(ours_sync if s.kind == "sync" else ours_async)(
                    s.label, compressed
                ),
                compressed=compressed,
            )
            for s in base
        ], f"compression {mode} ({setting.describe()})"
    if mode == "default":
        return base, f"compression at its default ({setting.describe()})"
    other = not setting.default_on
    label = "ours-gzip" if other else "ours-plain"
    variant = SaverSpec(
        label,
        "S3CheckpointSaver (this repo), compression " + ("on" if other else "off"),
        "sync",
        "langgraph-checkpoint-s3",
        s3=True,
        ours=True,
        requires=("langgraph_checkpoint_s3.plans",),
        open=ours_sync(label, other),
        compressed=other,
    )
    return [*base, variant], (
        f"{label}: compression {'on' if other else 'off'}; ours, ours-async at the"
        f" default ({setting.describe()})"
    )


def select_specs(
    args: argparse.Namespace,
    worker: bool,
    setting: compression_setting.CompressionSetting | None = None,
) -> tuple[list[SaverSpec], list[dict[str, Any]]]:
    chosen, skipped = [], []
    ours, _ = compression_specs(args.compression, setting) if not worker else ([], "")
    specs = [s for s in SPECS if not s.ours]
    specs[1:1] = ours  # after InMemorySaver, as in SPECS
    for spec in specs:
        if args.savers is not None and spec.label not in args.savers:
            continue
        if spec.label in args.exclude:
            continue
        if worker and (spec.ours or spec.label == "memory"):
            continue  # measured by the parent
        if not worker and spec.label.startswith("pypi-s3"):
            reason: str | None = (
                "same import name as this repo's package: install it in another"
                " venv and pass --other-python (see benchmarks/README.md)"
            )
        else:
            reason = spec.missing()
        if reason:
            skipped.append({"label": spec.label, "title": spec.title, "reason": reason})
        else:
            chosen.append(spec)
    return chosen, skipped
