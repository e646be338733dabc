"""Calling a saver, sync or async, and timing each call with the requests
the server saw and the rounds our savers ran."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from typing import Any, TypeVar

from benchmarks.checkpoints import WRITES_PER_CHECKPOINT, Step
from benchmarks.counting import BotocoreCounter, Counts, RoundCounter, delta
from benchmarks.moto_server import ServerCounter
from benchmarks.savers import Env, SaverSpec

LIST_LIMIT = 5

OP_GET_ID = "get_tuple(id)"
OP_GET_LATEST = "get_tuple(latest)"
OP_LIST_LIMIT = f"list(limit={LIST_LIMIT})"
OP_LIST_FULL = "list(full)"
OP_LIST_FILTER = "list(filter,limit=1)"
OP_PUT = "put"
OP_PUT_WRITES = f"put_writes({WRITES_PER_CHECKPOINT})"
OP_DELETE = "delete_thread"
OPERATIONS = (
    OP_PUT,
    OP_PUT_WRITES,
    OP_GET_ID,
    OP_GET_LATEST,
    OP_LIST_LIMIT,
    OP_LIST_FULL,
    OP_LIST_FILTER,
    OP_DELETE,
)


_T = TypeVar("_T")


@dataclass(frozen=True)
class Op:
    """One saver call, in both styles."""

    sync: Callable[[Any], Any]
    aio: Callable[[Any], Awaitable[Any]]


async def _collect(items: AsyncIterator[_T]) -> list[_T]:
    return [item async for item in items]


def op_put(config: Mapping[str, Any], step: Step) -> Op:
    args = (config, step.checkpoint, step.metadata, step.versions)
    return Op(lambda s: s.put(*args), lambda s: s.aput(*args))


def op_put_writes(config: Mapping[str, Any], step: Step) -> Op:
    # No task_path: not every saver's put_writes takes one.
    args = (config, step.writes, step.task_id)
    return Op(lambda s: s.put_writes(*args), lambda s: s.aput_writes(*args))


def op_get_tuple(config: Mapping[str, Any]) -> Op:
    return Op(lambda s: s.get_tuple(config), lambda s: s.aget_tuple(config))


def op_list(config: Mapping[str, Any], **kwargs: Any) -> Op:
    return Op(
        lambda s: list(s.list(config, **kwargs)),
        lambda s: _collect(s.alist(config, **kwargs)),
    )


def op_delete_thread(thread_id: str) -> Op:
    return Op(
        lambda s: s.delete_thread(thread_id), lambda s: s.adelete_thread(thread_id)
    )


@dataclass
class Call:
    elapsed: float
    value: Any
    hooks: Counts | None
    server: Counts | None
    rounds: int | None = None  # exact, for our savers


async def _timed(awaitable: Awaitable[_T]) -> tuple[float, _T]:
    start = time.perf_counter()
    value = await awaitable
    return time.perf_counter() - start, value


class Runner:
    """Calls one saver and times each call: directly for a sync saver, on an
    event loop this runner owns for an async one (timed inside the loop)."""

    def __init__(
        self,
        saver: Any,
        kind: str,
        loop: asyncio.AbstractEventLoop | None,
        server: ServerCounter | None,
        hooks: BotocoreCounter | None = None,
        rounds: RoundCounter | None = None,
    ) -> None:
        self.saver = saver
        self.kind = kind
        self.loop = loop
        self.server = server
        self.hooks = hooks
        self.rounds = rounds

    def call(self, op: Op, observe: bool = True) -> Call:
        hooks0 = self.hooks.snapshot() if observe and self.hooks else None
        server0 = self.server.snapshot() if observe and self.server else None
        rounds0 = self.rounds.rounds if self.rounds else 0
        if self.loop is None:
            start = time.perf_counter()
            value = op.sync(self.saver)
            elapsed = time.perf_counter() - start
        else:
            elapsed, value = self.loop.run_until_complete(_timed(op.aio(self.saver)))
        return Call(
            elapsed,
            value,
            delta(hooks0, self.hooks.snapshot())
            if hooks0 is not None and self.hooks
            else None,
            delta(server0, self.server.snapshot())
            if server0 is not None and self.server
            else None,
            self.rounds.rounds - rounds0 if self.rounds else None,
        )

    def run(
        self, work: Callable[[Any], Any], awork: Callable[[Any], Awaitable[Any]]
    ) -> Any:
        """Unmeasured work on the saver (seeding), in its own call style."""
        if self.loop is None:
            return work(self.saver)
        return self.loop.run_until_complete(awork(self.saver))


@contextlib.contextmanager
def open_runner(
    spec: SaverSpec, env: Env, server: ServerCounter | None, hooks: bool = False
) -> Iterator[Runner]:
    """Open the saver of ``spec`` and a Runner for it; close both after."""
    counter = server if spec.s3 else None
    if spec.kind == "sync":
        with spec.open(env) as saver:
            found = BotocoreCounter(saver.client) if hooks else None
            rounds = RoundCounter(saver) if spec.ours else None
            yield Runner(saver, "sync", None, counter, found, rounds)
        return
    loop = asyncio.new_event_loop()
    try:
        manager = spec.open(env)
        saver = loop.run_until_complete(manager.__aenter__())
        try:
            rounds = RoundCounter(saver) if spec.ours else None
            yield Runner(saver, "async", loop, counter, None, rounds)
        finally:
            loop.run_until_complete(manager.__aexit__(None, None, None))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _tuple_id(value: Any) -> str | None:
    return None if value is None else value.config["configurable"].get("checkpoint_id")


def check_tuple(value: Any, expected: str, writes: int) -> str | None:
    if value is None:
        return "returned None"
    if _tuple_id(value) != expected:
        return f"returned checkpoint {_tuple_id(value)}, expected {expected}"
    found = len(value.pending_writes or [])
    if found != writes:
        return f"{found} pending writes, expected {writes}"
    return None


def check_ids(value: Any, expected: Sequence[str]) -> str | None:
    got = [_tuple_id(v) for v in value]
    if got == list(expected):
        return None
    if len(got) != len(expected):
        return f"{len(got)} checkpoints, expected {len(expected)}"
    return "checkpoints in the wrong order or not the expected ones"
