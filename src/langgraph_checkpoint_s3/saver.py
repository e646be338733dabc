"""S3CheckpointSaver: runs the plans of :mod:`.plans` on boto3. It only moves
bytes: a round's requests go out concurrently on a thread pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from . import plans, protocol
from ._base import PlanSaver
from ._clients import (
    DEFAULT_CONCURRENCY,
    cache_endpoints_per_bucket,
    client_settings,
    retry_conditional_conflicts,
)
from .protocol import Get, Plan, Request, RequestOptions, Stepper

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["DEFAULT_CONCURRENCY", "S3CheckpointSaver", "default_client_config"]

_T = TypeVar("_T")

_CLOSED = "S3CheckpointSaver is closed"


def default_client_config(max_concurrency: int) -> Config:
    """The botocore Config of a client the saver creates (see :mod:`._clients`)."""
    return Config(**client_settings(max_concurrency))


class S3CheckpointSaver(PlanSaver):
    """A LangGraph checkpoint saver that stores checkpoints in Amazon S3.

    Args:
        bucket_name: The bucket; it must exist (checked here with HeadBucket).
        prefix: Prefix of every key (default ``"checkpoints/"``).
        s3_client: A boto3 S3 client; one is created when omitted (honouring
            ``AWS_ENDPOINT_URL_S3`` and the standard credential chain).
        endpoint_url: Endpoint of an S3-compatible store, for the created client.
        max_concurrency: How many S3 requests one call may have in flight
            (default: the client's connection pool size, 16 for a created client).
        client_config: A botocore ``Config`` for the created client, merged
            over the saver's (retries, timeouts, pool size).
        request_options: What every request carries: server-side encryption
            and storage class of written objects, the expected bucket owner.
        conditional_writes: True (default): writes that must not replace
            what is stored carry ``If-None-Match`` / ``If-Match``, and the
            first one is checked once to be honoured (ConditionalWritesError
            when the store ignores them). False: for stores without
            conditional writes; racing writers may then replace each other's
            objects (see docs/requests.md, Consistency and safety).
        **kwargs: Passed to ``BaseCheckpointSaver`` (e.g. ``serde``).

    Raises:
        BucketNotFoundError, CredentialsError, S3AccessError: when the bucket
            cannot be reached.

    The ``a*`` methods run the same plans in a worker thread, so an async
    graph can use this saver too.
    """

    def __init__(
        self,
        bucket_name: str,
        *,
        prefix: str = "checkpoints/",
        s3_client: S3Client | None = None,
        endpoint_url: str | None = None,
        max_concurrency: int | None = None,
        client_config: Config | None = None,
        request_options: RequestOptions | None = None,
        conditional_writes: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            bucket_name,
            prefix=prefix,
            request_options=request_options,
            conditional_writes=conditional_writes,
            **kwargs,
        )
        if s3_client is None:
            import boto3

            config = Config(**client_settings(max_concurrency or DEFAULT_CONCURRENCY))
            s3_client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                config=config.merge(client_config) if client_config else config,
            )
            cache_endpoints_per_bucket(s3_client)
        retry_conditional_conflicts(s3_client.meta.events)
        self.client: S3Client = s3_client
        # More threads than the client has connections would only queue.
        pool_size: int = getattr(
            s3_client.meta.config, "max_pool_connections", DEFAULT_CONCURRENCY
        )
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(
            max_concurrency or pool_size, thread_name_prefix="s3-checkpoint"
        )
        self.run(plans.check_bucket(self.context))

    def close(self, *, wait: bool = True) -> None:
        """Release the worker threads; the saver cannot be used afterwards.
        Requests not yet started are dropped; ``wait=False`` returns without
        waiting for those in flight (their threads end with them)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> S3CheckpointSaver:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        # Leaving on Ctrl-C: nothing the requests in flight answer is wanted.
        self.close(wait=kind is not KeyboardInterrupt)

    def run(
        self, plan: Plan[_T], on_done: Callable[[Request], None] | None = None
    ) -> _T:
        """Run a plan of :mod:`.plans` to its answer. ``on_done`` is called as
        each request completes (the CLI's progress bars)."""
        stepper = Stepper(plan)
        while (requests := stepper.next_round()) is not None:
            try:
                stepper.send(self._round(requests, on_done))
            except Exception as exc:  # handed to the plan, which may catch it
                stepper.throw(exc)
        result: _T = stepper.value
        return result

    async def arun(self, plan: Plan[_T]) -> _T:
        """Run a plan in a worker thread."""
        return await asyncio.to_thread(self.run, plan)

    def _round(
        self, requests: list[Request], on_done: Callable[[Request], None] | None
    ) -> list[Any]:
        pool = self._pool
        if pool is None:
            raise RuntimeError(_CLOSED)

        def perform(request: Request) -> Any:
            result = self._perform(request)
            if on_done is not None:
                on_done(request)
            return result

        if len(requests) == 1:  # no thread hop for a single request
            return [perform(requests[0])]
        futures = [pool.submit(perform, r) for r in requests]
        try:
            return [future.result() for future in futures]
        except BaseException:
            # A failure or Ctrl-C ends the round: the requests still queued
            # would only delay the caller (a round may queue hundreds).
            for future in futures:
                future.cancel()
            raise

    def _perform(self, request: Request) -> Any:
        method, kwargs = protocol.call_of(
            request, self.bucket_name, self.request_options
        )
        try:
            response = getattr(self.client, method)(**kwargs)
            if isinstance(request, Get):
                response["Body"] = response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            return protocol.result_of_error(request, exc, self.bucket_name)
        return protocol.result_of(request, response)
