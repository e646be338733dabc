"""The package's functions and modules on the path of one call: what a reader
of the code walks through. ``get_tuple`` of the newest checkpoint by default,
on the in-memory bucket, by a saver that has not read the thread before (a
restarted process), of a thread of 5 checkpoints with a pending write each.

    python -m benchmarks.call_path [--calls get_tuple,list,put,put_writes]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from types import FrameType
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint

from tests.support.memory_bucket import MemoryBucket, MemorySaver

PACKAGE = "langgraph_checkpoint_s3"
THREAD: RunnableConfig = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}


def history(saver: MemorySaver, steps: int = 5) -> RunnableConfig:
    parent = THREAD
    for step in range(steps):
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"n": step}
        parent = saver.put(parent, checkpoint, {"step": step}, {})
        saver.put_writes(parent, [("a", step)], "task")
    return parent


def traced(call: Callable[[], Any]) -> dict[str, set[str]]:
    """The functions of the package ``call`` entered, by module."""
    seen: dict[str, set[str]] = {}

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        module = frame.f_globals.get("__name__", "")
        if event == "call" and module.startswith(PACKAGE):
            seen.setdefault(module, set()).add(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return seen


def calls(saver: MemorySaver, newest: RunnableConfig) -> dict[str, Callable[[], Any]]:
    def put() -> Any:
        return saver.put(newest, empty_checkpoint(), {"step": 9}, {})

    return {
        "get_tuple": lambda: saver.get_tuple(THREAD),
        "list": lambda: list(saver.list(THREAD, limit=3)),
        "put": put,
        "put_writes": lambda: saver.put_writes(newest, [("b", 1)], "other-task"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.call_path")
    parser.add_argument("--calls", default="get_tuple")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # the permissive-serializer warning
    for name in args.calls.split(","):
        bucket = MemoryBucket()
        newest = history(MemorySaver(bucket, prefix="p/"))
        fresh = MemorySaver(bucket, prefix="p/")  # as a restarted process
        seen = traced(calls(fresh, newest)[name])
        functions = sum(len(names) for names in seen.values())
        print(f"{name}: {functions} functions in {len(seen)} modules")
        for module in sorted(seen):
            print(f"  {module:<40} {len(seen[module])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
