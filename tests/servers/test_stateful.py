"""The state machine of ``tests/support/stateful.py`` on real servers, sync and
async, with few examples; many run on the memory buckets in
``tests/unit/test_stateful.py``."""

from __future__ import annotations

import asyncio
import builtins
import itertools
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    CheckpointTuple,
)

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver
from tests.support.s3servers import S3Endpoint
from tests.support.savers import new_bucket, session_for
from tests.support.stateful import (
    SaverFactory,
    check,
)

_T = TypeVar("_T")


class LoopThread:
    """An event loop running in a thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.call(self.loop.shutdown_asyncgens())
        self.call(asyncio.sleep(0.1))  # aiohttp closes connections soon after
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class OnItsLoop:
    """An AsyncS3CheckpointSaver entered on a loop in another thread, called
    from this thread: alternately through its sync methods (which run on its
    loop) and by running its ``a*`` coroutines there."""

    def __init__(self, saver: AsyncS3CheckpointSaver, loop: LoopThread) -> None:
        self.saver = saver
        self.loop = loop
        self._turn = itertools.count()
        loop.call(saver.__aenter__())

    def close(self) -> None:
        self.loop.call(self.saver.__aexit__(None, None, None))

    def _sync_turn(self) -> bool:
        return next(self._turn) % 2 == 0

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self._sync_turn():
            return getattr(self.saver, name)(*args, **kwargs)
        return self.loop.call(getattr(self.saver, "a" + name)(*args, **kwargs))

    def put(self, *args: Any) -> Any:
        return self._call("put", *args)

    def put_writes(self, *args: Any) -> None:
        self._call("put_writes", *args)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        found: CheckpointTuple | None = self._call("get_tuple", config)
        return found

    def list(self, config: Any, **kwargs: Any) -> Iterator[CheckpointTuple]:
        if self._sync_turn():
            return iter([*self.saver.list(config, **kwargs)])

        async def collect() -> builtins.list[CheckpointTuple]:
            return [t async for t in self.saver.alist(config, **kwargs)]

        return iter(self.loop.call(collect()))

    def copy_thread(self, source: str, target: str) -> None:
        self._call("copy_thread", source, target)

    def prune(self, threads: Sequence[str], *, strategy: str) -> None:
        self._call("prune", threads, strategy=strategy)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._call("delete_for_runs", run_ids)

    def delete_thread(self, thread: str) -> None:
        self._call("delete_thread", thread)


def on_server(endpoint: S3Endpoint, bucket: str) -> SaverFactory:
    def make() -> tuple[Any, Callable[[], None]]:
        saver = S3CheckpointSaver(
            bucket, prefix=f"{uuid.uuid4().hex}/", s3_client=endpoint.boto3_client()
        )
        return saver, saver.close

    return make


def on_server_async(
    endpoint: S3Endpoint, bucket: str, loop: LoopThread
) -> SaverFactory:
    def make() -> tuple[Any, Callable[[], None]]:
        saver = AsyncS3CheckpointSaver(
            bucket,
            prefix=f"{uuid.uuid4().hex}/",
            session=session_for(endpoint),
            endpoint_url=endpoint.url,
        )
        bridge = OnItsLoop(saver, loop)
        return bridge, bridge.close

    return make


def test_sync_saver_behaves_like_in_memory_saver(endpoint: S3Endpoint) -> None:
    check(on_server(endpoint, new_bucket(endpoint)), examples=10, steps=20)


def test_async_saver_behaves_like_in_memory_saver(endpoint: S3Endpoint) -> None:
    loop = LoopThread()
    try:
        check(
            on_server_async(endpoint, new_bucket(endpoint), loop), examples=10, steps=20
        )
    finally:
        loop.close()
