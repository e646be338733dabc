"""AsyncS3CheckpointSaver: the saver on aioboto3. It reads the same as
:mod:`.saver`, line for line, but for ``await``; every rule is in :mod:`.core`."""

from __future__ import annotations

import asyncio
import builtins
import itertools
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, TypeVar, cast

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)

from . import core
from .errors import DeleteFailedError, S3AccessError, from_botocore
from .keys import CheckpointRef, Layout
from .saver import (
    _NOT_FOUND,
    _PRECONDITION_FAILED,
    DEFAULT_CONCURRENCY,
    client_settings,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

__all__ = ["AsyncS3CheckpointSaver"]

_NOT_OPEN = (
    "AsyncS3CheckpointSaver is not open: use it as "
    "`async with AsyncS3CheckpointSaver(...) as saver:`"
)
_A = TypeVar("_A")
_B = TypeVar("_B")
_T = TypeVar("_T")


class AsyncS3CheckpointSaver(BaseCheckpointSaver[str]):
    """A LangGraph checkpoint saver that stores checkpoints in Amazon S3, on
    aioboto3. Use it as an async context manager: it holds one S3 client for
    its lifetime and checks the bucket when entered.

    Args:
        bucket_name: The bucket; it must exist (checked on entry with HeadBucket).
        prefix: Prefix of every key (default ``"checkpoints/"``).
        session: An ``aioboto3.Session``; a default one when omitted (honouring
            ``AWS_ENDPOINT_URL_S3`` and the standard credential chain).
        endpoint_url: Endpoint of an S3-compatible store.
        max_concurrency: How many S3 requests one call may have in flight.
        **kwargs: Passed to ``BaseCheckpointSaver`` (e.g. ``serde``).

    The sync methods work from threads other than the saver's event loop (a
    sync graph run in a worker thread, for instance); on the loop's own thread
    they raise, since they would block the loop they wait for.
    """

    def __init__(
        self,
        bucket_name: str,
        *,
        prefix: str = "checkpoints/",
        session: aioboto3.Session | None = None,
        endpoint_url: str | None = None,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bucket_name = bucket_name
        self.layout = Layout(prefix)
        self.session = session or aioboto3.Session()
        self.endpoint_url = endpoint_url
        self.max_concurrency = max_concurrency
        self._client: S3Client | None = None
        self._stack: AsyncExitStack | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limit = asyncio.Semaphore(max_concurrency)  # renewed on each entry

    async def __aenter__(self) -> AsyncS3CheckpointSaver:
        # A semaphore belongs to the loop it first waits on; the saver may be
        # entered again under another loop.
        self._limit = asyncio.Semaphore(self.max_concurrency)
        stack = AsyncExitStack()
        config = AioConfig(**client_settings(self.max_concurrency))
        self._client = await stack.enter_async_context(
            self.session.client("s3", endpoint_url=self.endpoint_url, config=config)
        )
        try:
            await self._check_bucket()
        except BaseException:
            self._client = None
            await stack.aclose()
            raise
        self._stack = stack
        self._loop = asyncio.get_running_loop()
        return self

    async def _check_bucket(self) -> None:
        try:
            await self._call(
                "HeadBucket", "", self.client.head_bucket, Bucket=self.bucket_name
            )
        except S3AccessError as exc:
            if not core.is_bare_refusal(exc):
                raise
            # HEAD answers carry no body; a one-key LIST says whether the
            # credentials or the permissions are at fault.
            await self._call(
                "ListObjectsV2",
                self.layout.prefix,
                self.client.list_objects_v2,
                Bucket=self.bucket_name,
                Prefix=self.layout.prefix,
                MaxKeys=1,
            )
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        stack, self._stack, self._loop, self._client = self._stack, None, None, None
        if stack is not None:
            await stack.aclose()

    @property
    def client(self) -> S3Client:
        """The aioboto3 S3 client, open while the saver is entered."""
        if self._client is None:
            raise RuntimeError(_NOT_OPEN)
        return self._client

    # -- LangGraph API --------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint ``config`` names, or the newest of its namespace."""
        target = core.Target.of(config)
        if target.checkpoint_id is None:
            prefix = self.layout.namespace_checkpoints(
                target.thread_id, target.checkpoint_ns
            )
            refs = core.checkpoint_refs(self.layout, await self._list(prefix))
            if not refs:
                return None
            target = core.Target.of(core.config_of(refs[0]))
        assert target.checkpoint_id is not None
        found = await self._load([target.at(target.checkpoint_id)])
        return core.to_tuple(*found[0]) if found else None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints newest first; see LangGraph's ``BaseCheckpointSaver.list``."""
        query = core.ListQuery.of(config, filter=filter, before=before, limit=limit)
        prefix = query.prefix(self.layout)
        candidates = query.candidates(self.layout, await self._list(prefix))
        remaining = query.limit
        for batch in query.batches(candidates):
            found = (await self._load(batch, query))[:remaining]
            for stored, writes in found:
                yield core.to_tuple(stored, writes)
            if remaining is not None:
                remaining -= len(found)
                if remaining <= 0:
                    return

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint (one PUT); returns the config that names it."""
        ref, body = core.encode_checkpoint(self.serde, config, checkpoint, metadata)
        key = self.layout.checkpoint_key(ref)
        if not await self._put(key, body, if_absent=True):
            core.check_rewrite(key, await self._get(key), body)
        return core.config_of(ref)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes: one PUT each, concurrently."""
        objects, overwrite = core.encode_writes(
            self.serde, config, writes, task_id, task_path
        )
        await self._run(
            [
                self._put(self.layout.write_key(ref), body, not overwrite)
                for ref, body in objects
            ]
        )

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of a thread, in every namespace."""
        await self._delete(await self._thread_keys(thread_id))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete every checkpoint (and its writes) whose metadata ``run_id`` is
        in ``run_ids``, in every thread and namespace.

        The layout has no index by run, so this reads every checkpoint under
        the prefix: 1 LIST per 1,000 checkpoints and 1 GET per checkpoint
        (concurrent), then the writes' LISTs and DeleteObjects batches.
        """
        if not run_ids:
            return
        keys = await self._list(self.layout.all_checkpoints())
        refs = core.checkpoint_refs(self.layout, keys)
        bodies = await self._run(
            [self._get(self.layout.checkpoint_key(r)) for r in refs]
        )
        runs = core.of_runs(self.layout, refs, bodies, run_ids)
        listings = core.writes_listings(self.layout, runs)
        listed = await self._run(
            [self._list(w.prefix, w.start_after) for w in listings]
        )
        await self._delete(
            core.keys_of(self.layout, runs, [*keys, *itertools.chain(*listed)])
        )

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a thread to another thread, in
        every namespace, parent chain intact. A missing source is a no-op;
        objects the target already has are kept (first wins)."""
        keys = await self._thread_keys(source_thread_id)
        bodies = await self._run([self._get(key) for key in keys])
        moved = [
            core.retarget(self.layout, key, body, target_thread_id)
            for key, body in zip(keys, bodies, strict=True)
            if body is not None
        ]
        await self._run([self._put(key, body, True) for key, body in moved])

    async def aprune(
        self, thread_ids: Sequence[str], *, strategy: str = "keep_latest"
    ) -> None:
        """Prune threads: ``"keep_latest"`` keeps the newest checkpoint of each
        namespace with its writes (and, for DeltaChannel state, the ancestors
        and writes it is rebuilt from); ``"delete"`` removes everything."""
        core.check_strategy(strategy)
        for thread_id in thread_ids:
            keys = await self._thread_keys(thread_id)
            keep: builtins.list[CheckpointRef] = []
            if strategy == "keep_latest":
                refs = core.checkpoint_refs(self.layout, keys)
                for latest in core.newest_per_namespace(refs):
                    walk = await self._delta_walk(latest, refs, None)
                    keep += [*walk.chain_refs(), latest]
            await self._delete(core.keys_to_prune(self.layout, keys, keep))

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Each channel's writes and seed along the checkpoint's ancestors,
        fetched in a few concurrent rounds instead of one read per ancestor."""
        if not channels:
            return {}
        target = core.Target.of(config)
        prefix = self.layout.namespace_checkpoints(
            target.thread_id, target.checkpoint_ns
        )
        refs = core.checkpoint_refs(self.layout, await self._list(prefix))
        ref = (
            target.at(target.checkpoint_id)
            if target.checkpoint_id
            else next(iter(refs), None)
        )
        walk = await self._delta_walk(ref, refs, channels)
        writes = walk.writes_to_fetch()
        bodies = await self._run([self._get(key) for key, _ in writes])
        chain, _ = walk.chain()
        return walk.history(core.assemble(self.serde, chain, writes, bodies))

    def get_next_version(self, current: str | None, channel: None) -> str:
        """The next channel version: ``f"{n:032}.{random:016}"``."""
        return core.next_version(current)

    # -- sync twins: the async methods on the saver's loop --------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Sync ``aget_tuple``, from a thread other than the saver's loop."""
        return self._sync(self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Sync ``alist``, from a thread other than the saver's loop."""

        async def collect() -> builtins.list[CheckpointTuple]:
            found = self.alist(config, filter=filter, before=before, limit=limit)
            return [item async for item in found]

        yield from self._sync(collect())

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Sync ``aput``, from a thread other than the saver's loop."""
        return self._sync(self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Sync ``aput_writes``, from a thread other than the saver's loop."""
        self._sync(self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        """Sync ``adelete_thread``, from a thread other than the saver's loop."""
        self._sync(self.adelete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Sync ``adelete_for_runs``, from a thread other than the saver's loop."""
        self._sync(self.adelete_for_runs(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Sync ``acopy_thread``, from a thread other than the saver's loop."""
        self._sync(self.acopy_thread(source_thread_id, target_thread_id))

    def prune(
        self, thread_ids: Sequence[str], *, strategy: str = "keep_latest"
    ) -> None:
        """Sync ``aprune``, from a thread other than the saver's loop."""
        self._sync(self.aprune(thread_ids, strategy=strategy))

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Sync ``aget_delta_channel_history``, from another thread."""
        return self._sync(
            self.aget_delta_channel_history(config=config, channels=channels)
        )

    def _sync(self, coro: Coroutine[Any, Any, _T]) -> _T:
        loop = self._loop
        if loop is None:
            coro.close()
            raise RuntimeError(_NOT_OPEN)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise asyncio.InvalidStateError(
                "Synchronous calls to AsyncS3CheckpointSaver are only allowed from a "
                "different thread. From the main thread, use the async interface "
                "(e.g. `await saver.aget_tuple(...)`, `await graph.ainvoke(...)`)."
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    # -- reading plans --------------------------------------------------------

    async def _thread_keys(self, thread_id: str) -> builtins.list[str]:
        listed = await self._run(
            [
                self._list(self.layout.thread_checkpoints(thread_id)),
                self._list(self.layout.thread_writes(thread_id)),
            ]
        )
        return [key for keys in listed for key in keys]

    async def _delta_walk(
        self,
        ref: CheckpointRef | None,
        refs: Sequence[CheckpointRef],
        channels: Sequence[str] | None,
    ) -> core.DeltaWalk:
        """Fetch a checkpoint's ancestors in batches until the walk over
        ``channels`` (default: the checkpoint's own DeltaChannels) is done."""
        stored, _ = await self._fetch([ref] if ref else [], with_writes=False)
        if not stored:
            return core.DeltaWalk(refs, channels or [])
        if channels is None:
            channels = core.delta_channels(stored[0])
        walk = core.DeltaWalk(refs, channels)
        walk.set_target(stored[0])
        while batch := walk.next_batch():
            found, writes = await self._fetch(batch)
            walk.add(batch, found, writes)
        return walk

    async def _fetch(
        self, refs: Sequence[CheckpointRef], *, with_writes: bool = True
    ) -> tuple[builtins.list[core.StoredCheckpoint], builtins.list[core.WriteKey]]:
        """Checkpoints and, in the same round, the keys of their writes."""
        listings = core.writes_listings(self.layout, refs) if with_writes else []
        bodies, listed = await self._both(
            [self._get(self.layout.checkpoint_key(ref)) for ref in refs],
            [self._list(w.prefix, w.start_after) for w in listings],
        )
        stored = core.read_checkpoints(self.serde, self.layout, refs, bodies)
        return stored, core.writes_to_fetch(self.layout, listed, stored)

    async def _load(
        self, refs: Sequence[CheckpointRef], query: core.ListQuery | None = None
    ) -> core.Loaded:
        """Checkpoints with their writes, in two or three concurrent rounds:
        checkpoints and their writes' LISTs, then the writes. With a metadata
        filter the writes are listed only for the checkpoints that pass it."""
        filtered = query is not None and bool(query.filter)
        stored, writes = await self._fetch(refs, with_writes=not filtered)
        if query is not None and filtered:
            stored = [s for s in stored if query.matches(s)]
            listings = core.writes_listings(self.layout, [s.ref for s in stored])
            listed = await self._run(
                [self._list(w.prefix, w.start_after) for w in listings]
            )
            writes = core.writes_to_fetch(self.layout, listed, stored)
        write_bodies = await self._run([self._get(key) for key, _ in writes])
        return core.assemble(self.serde, stored, writes, write_bodies)

    # -- bytes ----------------------------------------------------------------

    async def _get(self, key: str) -> bytes | None:
        async def fetch() -> bytes:
            response = await self.client.get_object(Bucket=self.bucket_name, Key=key)
            async with response["Body"] as stream:
                return await stream.read()

        try:
            return await self._call("GetObject", key, fetch)
        except S3AccessError as exc:
            if exc.code in _NOT_FOUND:
                return None
            raise

    async def _put(self, key: str, body: bytes, if_absent: bool) -> bool:
        """PUT an object; with ``if_absent``, False when the key was taken."""
        try:
            await self._call(
                "PutObject",
                key,
                self.client.put_object,
                Bucket=self.bucket_name,
                Key=key,
                Body=body,
                ContentType="application/json",
                **({"IfNoneMatch": "*"} if if_absent else {}),
            )
        except S3AccessError as exc:
            if if_absent and exc.code in _PRECONDITION_FAILED:
                return False
            raise
        return True

    async def _list(
        self, prefix: str, start_after: str | None = None
    ) -> builtins.list[str]:
        extra: dict[str, Any] = {"StartAfter": start_after} if start_after else {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket_name, Prefix=prefix, **extra
        )

        async def collect() -> builtins.list[str]:
            return [
                obj["Key"] async for page in pages for obj in page.get("Contents", [])
            ]

        return await self._call("ListObjectsV2", prefix, collect)

    async def _delete(self, keys: Sequence[str]) -> None:
        responses = await self._run(
            [
                self._call(
                    "DeleteObjects",
                    chunk[0],
                    self.client.delete_objects,
                    Bucket=self.bucket_name,
                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
                )
                for chunk in core.chunks(keys)
            ]
        )
        failures = [f for response in responses for f in core.delete_failures(response)]
        if failures:
            raise DeleteFailedError(failures, bucket=self.bucket_name)

    async def _call(
        self, operation: str, key: str, fn: Callable[..., Awaitable[_T]], **kwargs: Any
    ) -> _T:
        try:
            async with self._limit:
                return await fn(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise from_botocore(
                exc, operation=operation, bucket=self.bucket_name, key=key
            ) from exc

    async def _run(self, jobs: Sequence[Awaitable[_T]]) -> builtins.list[_T]:
        tasks = [asyncio.ensure_future(job) for job in jobs]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            # Nothing may outlive the call that failed (or the client it uses).
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _both(
        self, first: Sequence[Awaitable[_A]], second: Sequence[Awaitable[_B]]
    ) -> tuple[builtins.list[_A], builtins.list[_B]]:
        both = await self._run([self._run(first), self._run(second)])
        return cast(tuple[builtins.list[_A], builtins.list[_B]], tuple(both))
