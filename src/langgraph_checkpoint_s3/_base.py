"""LangGraph's saver API, each method written once on top of a plan runner.

The two savers differ only in how they run a plan: :class:`.S3CheckpointSaver`
performs its rounds on boto3 (``run`` native, ``arun`` in a worker thread),
:class:`.AsyncS3CheckpointSaver` on aiobotocore (``arun`` native, ``run`` on its
loop from another thread). Everything else is here, one line per method.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)

from . import plans
from ._batches import new_token
from ._configs import next_version
from ._keys import Layout
from ._selection import ListQuery
from ._shared import DEFAULT_CACHE_BYTES, DEFAULT_SHARE_BYTES, SharedValues
from .protocol import Plan, RequestOptions
from .security import warn_if_permissive

__all__ = ["PlanSaver"]

_T = TypeVar("_T")


def _refuse_s3_uris(saver: str, bucket_name: str, prefix: str) -> None:
    """An S3 URI given for the bucket or the prefix fails here, before any
    request, with the call that was meant; else botocore would refuse the
    bucket by a 300-character regex, or the layout the prefix's empty segment."""
    for given in (bucket_name, prefix):
        if given[:5].lower() != "s3://":
            continue
        bucket, _, key_prefix = given[5:].partition("/")
        meant = f"{saver}({bucket!r}" + (
            f", prefix={key_prefix!r})" if key_prefix else ")"
        )
        raise ValueError(
            f"{saver} takes the bucket name and prefix= apart, not an S3 URI: "
            f"for {given!r} use {meant}"
        )


class PlanSaver(BaseCheckpointSaver[str]):
    """A saver whose every call is a plan of :mod:`.plans`; subclasses say how
    a plan runs, synchronously (``run``) and asynchronously (``arun``)."""

    def __init__(
        self,
        bucket_name: str,
        *,
        prefix: str,
        request_options: RequestOptions | None,
        conditional_writes: bool = True,
        shared_value_bytes: int | None = DEFAULT_SHARE_BYTES,
        value_cache_bytes: int = DEFAULT_CACHE_BYTES,
        **kwargs: Any,
    ) -> None:
        _refuse_s3_uris(type(self).__name__, bucket_name, prefix)
        super().__init__(**kwargs)
        self.bucket_name = bucket_name
        self.layout = Layout(prefix)
        warn_if_permissive(self.serde, f"s3://{bucket_name}/{self.layout.prefix}")
        self.request_options = request_options or RequestOptions()
        self.conditional_writes = conditional_writes
        self._conditions = plans.ConditionalWrites(enabled=conditional_writes)
        self._recent = plans.RecentReads()
        self._shared = SharedValues(
            threshold=shared_value_bytes, cache_bytes=value_cache_bytes
        )

    # What the plans take from the world; tests give a saver their own.
    _tokens: Callable[[], str] = staticmethod(new_token)
    _clock: Callable[[], int] = staticmethod(time.time_ns)

    def run(self, plan: Plan[_T]) -> _T:
        """Run a plan to its answer, blocking."""
        raise NotImplementedError

    async def arun(self, plan: Plan[_T]) -> _T:
        """Run a plan to its answer, awaiting."""
        raise NotImplementedError

    @property
    def context(self) -> plans.PlanContext:
        """The layout and serializer the plans use (``with_allowlist`` copies
        the saver with another serde, so this is read on every call)."""
        return plans.PlanContext(
            self.layout,
            self.serde,
            self._conditions,
            self._recent,
            self._tokens,
            self._clock,
            self._shared,
        )

    # -- sync API -------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint ``config`` names, or the newest of its namespace."""
        return self.run(plans.get_tuple(self.context, config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first, a window at a time (requests stop when
        the iteration does); see LangGraph's ``BaseCheckpointSaver.list``."""
        cursor = self._cursor(config, filter, before, limit)
        while not cursor.done:
            yield from self.run(plans.list_window(self.context, cursor))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint (one PUT); returns the config that names it."""
        return self.run(
            plans.put(self.context, config, checkpoint, metadata, new_versions)
        )

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes: one PUT each, concurrently."""
        self.run(plans.put_writes(self.context, config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of a thread, in every namespace."""
        self.run(plans.delete_thread(self.context, thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete every checkpoint (and its writes) whose metadata ``run_id`` is
        in ``run_ids``, in every thread and namespace. The layout has no index
        by run: this reads every checkpoint under the prefix (1 LIST per 1,000
        checkpoints, 1 GET per checkpoint, concurrent)."""
        self.run(plans.delete_for_runs(self.context, run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a thread to another thread, in
        every namespace, parent chain intact. A missing source is a no-op;
        objects the target already has are kept (first wins)."""
        self.run(plans.copy_thread(self.context, source_thread_id, target_thread_id))

    def prune(
        self, thread_ids: Sequence[str], *, strategy: str = "keep_latest"
    ) -> None:
        """Prune threads: ``"keep_latest"`` keeps the newest checkpoint of each
        namespace with its writes (and, for DeltaChannel state, the ancestors
        and writes it is rebuilt from); ``"delete"`` removes everything, and so
        does ``"delete_all"``, the name LangGraph's Agent Server sends."""
        self.run(plans.prune(self.context, thread_ids, strategy))

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Each channel's writes and seed along the checkpoint's ancestors,
        fetched in a few concurrent rounds instead of one read per ancestor."""
        return self.run(self._history(config, channels))

    def get_next_version(self, current: str | None, channel: None) -> str:
        """The next channel version: ``f"{n:032}.{random:016}"``."""
        return next_version(current)

    # -- async API ------------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Async ``get_tuple``."""
        return await self.arun(plans.get_tuple(self.context, config))

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Async ``list``, a window at a time."""
        cursor = self._cursor(config, filter, before, limit)
        while not cursor.done:
            for item in await self.arun(plans.list_window(self.context, cursor)):
                yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Async ``put``."""
        plan = plans.put(self.context, config, checkpoint, metadata, new_versions)
        return await self.arun(plan)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Async ``put_writes``."""
        plan = plans.put_writes(self.context, config, writes, task_id, task_path)
        await self.arun(plan)

    async def adelete_thread(self, thread_id: str) -> None:
        """Async ``delete_thread``."""
        await self.arun(plans.delete_thread(self.context, thread_id))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Async ``delete_for_runs``."""
        await self.arun(plans.delete_for_runs(self.context, run_ids))

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Async ``copy_thread``."""
        plan = plans.copy_thread(self.context, source_thread_id, target_thread_id)
        await self.arun(plan)

    async def aprune(
        self, thread_ids: Sequence[str], *, strategy: str = "keep_latest"
    ) -> None:
        """Async ``prune``."""
        await self.arun(plans.prune(self.context, thread_ids, strategy))

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Async ``get_delta_channel_history``."""
        return await self.arun(self._history(config, channels))

    # -- shared argument handling ---------------------------------------------

    @staticmethod
    def _cursor(
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> plans.ListCursor:
        query = ListQuery.of(config, filter=filter, before=before, limit=limit)
        return plans.ListCursor(query)

    def _history(
        self, config: RunnableConfig, channels: Sequence[str]
    ) -> Plan[dict[str, DeltaChannelHistory]]:
        return plans.get_delta_channel_history(self.context, config, channels)

    # -- bounded storage (plans of :mod:`.plans`) -------------------------

    def expire_idle(
        self,
        idle: datetime.timedelta,
        *,
        dry_run: bool = False,
        now: datetime.datetime | None = None,
    ) -> plans.Expiry:
        """Delete, whole, every thread not written for ``idle``: its newest
        checkpoint or write (LIST's LastModified, no GET) is older than ``now``
        (default: the clock, UTC) minus ``idle``. Each idle thread is listed
        again right before deletion and kept when written since. Returns what
        went (with ``dry_run``: what would go, nothing deleted)."""
        return self.run(self._expiry(idle, now, dry_run))

    async def aexpire_idle(
        self,
        idle: datetime.timedelta,
        *,
        dry_run: bool = False,
        now: datetime.datetime | None = None,
    ) -> plans.Expiry:
        """Async ``expire_idle``."""
        return await self.arun(self._expiry(idle, now, dry_run))

    def prune_keep_last(self, thread_ids: Sequence[str], keep: int) -> None:
        """Keep the newest ``keep`` checkpoints of each namespace of each thread,
        with their pending writes and the DeltaChannel ancestors they are
        rebuilt from; delete the rest. Every kept checkpoint reads back as
        before."""
        self.run(plans.prune_keep_last(self.context, thread_ids, keep))

    async def aprune_keep_last(self, thread_ids: Sequence[str], keep: int) -> None:
        """Async ``prune_keep_last``."""
        await self.arun(plans.prune_keep_last(self.context, thread_ids, keep))

    def _expiry(
        self,
        idle: datetime.timedelta,
        now: datetime.datetime | None,
        dry_run: bool,
    ) -> Plan[plans.Expiry]:
        before = plans.cutoff(idle, now)
        return plans.expire_idle(self.context, before, dry_run=dry_run)
