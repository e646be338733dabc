"""S3CheckpointSaver: the saver on boto3. It only moves bytes; every rule is in
:mod:`.core`. Reads and writes that do not depend on each other run
concurrently on a thread pool."""

from __future__ import annotations

import asyncio
import builtins
import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config
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

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["S3CheckpointSaver"]

_A = TypeVar("_A")
_B = TypeVar("_B")
_T = TypeVar("_T")

DEFAULT_CONCURRENCY = 16
_PRECONDITION_FAILED = frozenset({"PreconditionFailed", "412"})
_NOT_FOUND = frozenset({"NoSuchKey", "404"})
_CLOSED = "S3CheckpointSaver is closed"


def client_settings(max_concurrency: int) -> dict[str, Any]:
    """botocore's standard retry mode (throttling, 5xx, timeouts) and a
    connection pool as large as the saver's concurrency; for both shells."""
    return {
        "retries": {"mode": "standard", "max_attempts": 5},
        "max_pool_connections": max_concurrency,
        "connect_timeout": 10,
        "read_timeout": 60,
    }


def client_config(max_concurrency: int) -> Config:
    """The botocore Config of a client the saver creates."""
    return Config(**client_settings(max_concurrency))


class S3CheckpointSaver(BaseCheckpointSaver[str]):
    """A LangGraph checkpoint saver that stores checkpoints in Amazon S3.

    Args:
        bucket_name: The bucket; it must exist (checked here with HeadBucket).
        prefix: Prefix of every key (default ``"checkpoints/"``).
        s3_client: A boto3 S3 client; one is created when omitted (honouring
            ``AWS_ENDPOINT_URL_S3`` and the standard credential chain).
        endpoint_url: Endpoint of an S3-compatible store, for the created client.
        max_concurrency: How many S3 requests one call may have in flight
            (default: the client's connection pool size, 16 for a created client).
        **kwargs: Passed to ``BaseCheckpointSaver`` (e.g. ``serde``).

    Raises:
        BucketNotFoundError, CredentialsError, S3AccessError: when the bucket
            cannot be reached.

    The ``a*`` methods run the sync ones in a worker thread, so an async graph
    can use this saver too.
    """

    def __init__(
        self,
        bucket_name: str,
        *,
        prefix: str = "checkpoints/",
        s3_client: S3Client | None = None,
        endpoint_url: str | None = None,
        max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bucket_name = bucket_name
        self.layout = Layout(prefix)
        if s3_client is None:
            s3_client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                config=client_config(max_concurrency or DEFAULT_CONCURRENCY),
            )
        self.client: S3Client = s3_client
        # More threads than the client has connections would only queue.
        pool_size: int = getattr(
            s3_client.meta.config, "max_pool_connections", DEFAULT_CONCURRENCY
        )
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(
            max_concurrency or pool_size, thread_name_prefix="s3-checkpoint"
        )
        self._check_bucket()

    def _check_bucket(self) -> None:
        try:
            self._call(
                "HeadBucket", "", self.client.head_bucket, Bucket=self.bucket_name
            )
        except S3AccessError as exc:
            if not core.is_bare_refusal(exc):
                raise
            # HEAD answers carry no body; a one-key LIST says whether the
            # credentials or the permissions are at fault.
            self._call(
                "ListObjectsV2",
                self.layout.prefix,
                self.client.list_objects_v2,
                Bucket=self.bucket_name,
                Prefix=self.layout.prefix,
                MaxKeys=1,
            )
            raise

    def close(self) -> None:
        """Release the worker threads; the saver cannot be used afterwards."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def __enter__(self) -> S3CheckpointSaver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- LangGraph API --------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint ``config`` names, or the newest of its namespace."""
        target = core.Target.of(config)
        if target.checkpoint_id is None:
            prefix = self.layout.namespace_checkpoints(
                target.thread_id, target.checkpoint_ns
            )
            refs = core.checkpoint_refs(self.layout, self._list(prefix))
            if not refs:
                return None
            target = core.Target.of(core.config_of(refs[0]))
        assert target.checkpoint_id is not None
        found = self._load([target.at(target.checkpoint_id)])
        return core.to_tuple(*found[0]) if found else None

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first; see LangGraph's ``BaseCheckpointSaver.list``."""
        query = core.ListQuery.of(config, filter=filter, before=before, limit=limit)
        prefix = query.prefix(self.layout)
        candidates = query.candidates(self.layout, self._list(prefix))
        remaining = query.limit
        for batch in query.batches(candidates):
            found = self._load(batch, query)[:remaining]
            for stored, writes in found:
                yield core.to_tuple(stored, writes)
            if remaining is not None:
                remaining -= len(found)
                if remaining <= 0:
                    return

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint (one PUT); returns the config that names it."""
        ref, body = core.encode_checkpoint(self.serde, config, checkpoint, metadata)
        key = self.layout.checkpoint_key(ref)
        if not self._put(key, body, if_absent=True):
            core.check_rewrite(key, self._get(key), body)
        return core.config_of(ref)

    def put_writes(
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
        self._run(
            [
                partial(self._put, self.layout.write_key(ref), body, not overwrite)
                for ref, body in objects
            ]
        )

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of a thread, in every namespace."""
        self._delete(self._thread_keys(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete every checkpoint (and its writes) whose metadata ``run_id`` is
        in ``run_ids``, in every thread and namespace.

        The layout has no index by run, so this reads every checkpoint under
        the prefix: 1 LIST per 1,000 checkpoints and 1 GET per checkpoint
        (concurrent), then the writes' LISTs and DeleteObjects batches.
        """
        if not run_ids:
            return
        keys = self._list(self.layout.all_checkpoints())
        refs = core.checkpoint_refs(self.layout, keys)
        bodies = self._run(
            [partial(self._get, self.layout.checkpoint_key(r)) for r in refs]
        )
        runs = core.of_runs(self.layout, refs, bodies, run_ids)
        listings = core.writes_listings(self.layout, runs)
        listed = self._run(
            [partial(self._list, w.prefix, w.start_after) for w in listings]
        )
        self._delete(
            core.keys_of(self.layout, runs, [*keys, *itertools.chain(*listed)])
        )

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a thread to another thread, in
        every namespace, parent chain intact. A missing source is a no-op;
        objects the target already has are kept (first wins)."""
        keys = self._thread_keys(source_thread_id)
        bodies = self._run([partial(self._get, key) for key in keys])
        moved = [
            core.retarget(self.layout, key, body, target_thread_id)
            for key, body in zip(keys, bodies, strict=True)
            if body is not None
        ]
        self._run([partial(self._put, key, body, True) for key, body in moved])

    def prune(
        self, thread_ids: Sequence[str], *, strategy: str = "keep_latest"
    ) -> None:
        """Prune threads: ``"keep_latest"`` keeps the newest checkpoint of each
        namespace with its writes (and, for DeltaChannel state, the ancestors
        and writes it is rebuilt from); ``"delete"`` removes everything."""
        core.check_strategy(strategy)
        for thread_id in thread_ids:
            keys = self._thread_keys(thread_id)
            keep: builtins.list[CheckpointRef] = []
            if strategy == "keep_latest":
                refs = core.checkpoint_refs(self.layout, keys)
                for latest in core.newest_per_namespace(refs):
                    walk = self._delta_walk(latest, refs, None)
                    keep += [*walk.chain_refs(), latest]
            self._delete(core.keys_to_prune(self.layout, keys, keep))

    def get_delta_channel_history(
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
        refs = core.checkpoint_refs(self.layout, self._list(prefix))
        ref = (
            target.at(target.checkpoint_id)
            if target.checkpoint_id
            else next(iter(refs), None)
        )
        walk = self._delta_walk(ref, refs, channels)
        writes = walk.writes_to_fetch()
        bodies = self._run([partial(self._get, key) for key, _ in writes])
        chain, _ = walk.chain()
        return walk.history(core.assemble(self.serde, chain, writes, bodies))

    def get_next_version(self, current: str | None, channel: None) -> str:
        """The next channel version: ``f"{n:032}.{random:016}"``."""
        return core.next_version(current)

    # -- async twins: the sync methods in a worker thread ---------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Async ``get_tuple`` (runs in a worker thread)."""
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Async ``list`` (runs in a worker thread)."""
        found = await asyncio.to_thread(
            lambda: [*self.list(config, filter=filter, before=before, limit=limit)]
        )
        for item in found:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Async ``put`` (runs in a worker thread)."""
        return await asyncio.to_thread(
            self.put, config, checkpoint, metadata, new_versions
        )

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Async ``put_writes`` (runs in a worker thread)."""
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """Async ``delete_thread`` (runs in a worker thread)."""
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Async ``delete_for_runs`` (runs in a worker thread)."""
        await asyncio.to_thread(self.delete_for_runs, run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Async ``copy_thread`` (runs in a worker thread)."""
        await asyncio.to_thread(self.copy_thread, source_thread_id, target_thread_id)

    async def aprune(
        self, thread_ids: Sequence[str], *, strategy: str = "keep_latest"
    ) -> None:
        """Async ``prune`` (runs in a worker thread)."""
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Async ``get_delta_channel_history`` (runs in a worker thread)."""
        return await asyncio.to_thread(
            lambda: self.get_delta_channel_history(config=config, channels=channels)
        )

    # -- reading plans --------------------------------------------------------

    def _thread_keys(self, thread_id: str) -> builtins.list[str]:
        listed = self._run(
            [
                partial(self._list, self.layout.thread_checkpoints(thread_id)),
                partial(self._list, self.layout.thread_writes(thread_id)),
            ]
        )
        return [key for keys in listed for key in keys]

    def _delta_walk(
        self,
        ref: CheckpointRef | None,
        refs: Sequence[CheckpointRef],
        channels: Sequence[str] | None,
    ) -> core.DeltaWalk:
        """Fetch a checkpoint's ancestors in batches until the walk over
        ``channels`` (default: the checkpoint's own DeltaChannels) is done."""
        stored, _ = self._fetch([ref] if ref else [], with_writes=False)
        if not stored:
            return core.DeltaWalk(refs, channels or [])
        if channels is None:
            channels = core.delta_channels(stored[0])
        walk = core.DeltaWalk(refs, channels)
        walk.set_target(stored[0])
        while batch := walk.next_batch():
            found, writes = self._fetch(batch)
            walk.add(batch, found, writes)
        return walk

    def _fetch(
        self, refs: Sequence[CheckpointRef], *, with_writes: bool = True
    ) -> tuple[builtins.list[core.StoredCheckpoint], builtins.list[core.WriteKey]]:
        """Checkpoints and, in the same round, the keys of their writes."""
        listings = core.writes_listings(self.layout, refs) if with_writes else []
        bodies, listed = self._both(
            [partial(self._get, self.layout.checkpoint_key(ref)) for ref in refs],
            [partial(self._list, w.prefix, w.start_after) for w in listings],
        )
        stored = core.read_checkpoints(self.serde, self.layout, refs, bodies)
        return stored, core.writes_to_fetch(self.layout, listed, stored)

    def _load(
        self, refs: Sequence[CheckpointRef], query: core.ListQuery | None = None
    ) -> core.Loaded:
        """Checkpoints with their writes, in two or three concurrent rounds:
        checkpoints and their writes' LISTs, then the writes. With a metadata
        filter the writes are listed only for the checkpoints that pass it."""
        filtered = query is not None and bool(query.filter)
        stored, writes = self._fetch(refs, with_writes=not filtered)
        if query is not None and filtered:
            stored = [s for s in stored if query.matches(s)]
            listings = core.writes_listings(self.layout, [s.ref for s in stored])
            listed = self._run(
                [partial(self._list, w.prefix, w.start_after) for w in listings]
            )
            writes = core.writes_to_fetch(self.layout, listed, stored)
        write_bodies = self._run([partial(self._get, key) for key, _ in writes])
        return core.assemble(self.serde, stored, writes, write_bodies)

    # -- bytes ----------------------------------------------------------------

    def _get(self, key: str) -> bytes | None:
        def fetch() -> bytes:
            response = self.client.get_object(Bucket=self.bucket_name, Key=key)
            return response["Body"].read()

        try:
            return self._call("GetObject", key, fetch)
        except S3AccessError as exc:
            if exc.code in _NOT_FOUND:
                return None
            raise

    def _put(self, key: str, body: bytes, if_absent: bool) -> bool:
        """PUT an object; with ``if_absent``, False when the key was taken."""
        try:
            self._call(
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

    def _list(self, prefix: str, start_after: str | None = None) -> builtins.list[str]:
        extra: dict[str, Any] = {"StartAfter": start_after} if start_after else {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket_name, Prefix=prefix, **extra
        )
        return self._call(
            "ListObjectsV2",
            prefix,
            lambda: [obj["Key"] for page in pages for obj in page.get("Contents", [])],
        )

    def _delete(self, keys: Sequence[str]) -> None:
        responses = self._run(
            [
                partial(
                    self._call,
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

    def _call(
        self, operation: str, key: str, fn: Callable[..., _T], **kwargs: Any
    ) -> _T:
        if self._pool is None:
            raise RuntimeError(_CLOSED)
        try:
            return fn(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise from_botocore(
                exc, operation=operation, bucket=self.bucket_name, key=key
            ) from exc

    def _run(self, jobs: Sequence[Callable[[], _T]]) -> builtins.list[_T]:
        return self._both(jobs, [])[0]

    def _both(
        self, first: Sequence[Callable[[], _A]], second: Sequence[Callable[[], _B]]
    ) -> tuple[builtins.list[_A], builtins.list[_B]]:
        if self._pool is None:
            raise RuntimeError(_CLOSED)
        if len(first) + len(second) == 1:  # no thread hop for a single request
            return [job() for job in first], [job() for job in second]
        futures_a = [self._pool.submit(job) for job in first]
        futures_b = [self._pool.submit(job) for job in second]
        return [f.result() for f in futures_a], [f.result() for f in futures_b]
