"""AsyncS3CheckpointSaver: runs the plans of :mod:`.plans` on aiobotocore. It
only moves bytes: a round's requests are gathered under a semaphore."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import BotoCoreError, ClientError

from . import plans, protocol
from ._base import PlanSaver
from ._clients import (
    DEFAULT_CONCURRENCY,
    async_session,
    cache_endpoints_per_bucket,
    client_settings,
    open_async_client,
    retry_conditional_conflicts,
)
from .protocol import Get, Plan, Request, RequestOptions, Stepper

if TYPE_CHECKING:
    import aioboto3
    from types_aiobotocore_s3 import S3Client

__all__ = ["AsyncS3CheckpointSaver"]

_T = TypeVar("_T")
_NOT_OPEN = (
    "AsyncS3CheckpointSaver is not open: use it as "
    "`async with AsyncS3CheckpointSaver(...) as saver:`"
)


@dataclass
class _Opened:
    """What entering the saver opens. One object shared by the saver and its
    copies: LangGraph's ``with_allowlist`` (strict msgpack) makes a shallow
    copy when a graph is compiled, which may be before the saver is entered."""

    limit: asyncio.Semaphore  # renewed on each entry
    client: S3Client | None = None
    stack: AsyncExitStack | None = None
    loop: asyncio.AbstractEventLoop | None = None


class AsyncS3CheckpointSaver(PlanSaver):
    """A LangGraph checkpoint saver that stores checkpoints in Amazon S3, on
    aiobotocore. Use it as an async context manager: it holds one S3 client
    for its lifetime and checks the bucket when entered.

    Args:
        bucket_name: The bucket; it must exist (checked on entry with HeadBucket).
        prefix: Prefix of every key (default ``"checkpoints/"``).
        session: An aiobotocore ``AioSession``, or an ``aioboto3.Session``
            (the ``aioboto3`` extra); a default ``AioSession`` when omitted
            (honouring ``AWS_ENDPOINT_URL_S3`` and the standard credential
            chain). Any other object is a TypeError.
        endpoint_url: Endpoint of an S3-compatible store.
        max_concurrency: How many S3 requests one call may have in flight.
        s3_client: An open aiobotocore S3 client to use instead of creating
            one; the saver leaves it open on exit.
        client_config: An ``AioConfig`` for the created client, merged over
            the saver's (retries, timeouts, pool size).
        request_options: What every request carries: server-side encryption
            and storage class of written objects, the expected bucket owner.
        conditional_writes: True (default): writes that must not replace
            what is stored carry ``If-None-Match`` / ``If-Match``, and the
            first one is checked once to be honoured (ConditionalWritesError
            when the store ignores them). False: for stores without
            conditional writes; racing writers may then replace each other's
            objects (see docs/requests.md, Consistency and safety).
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
        session: AioSession | aioboto3.Session | None = None,
        endpoint_url: str | None = None,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        s3_client: S3Client | None = None,
        client_config: AioConfig | None = None,
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
        self.session = async_session(session)
        self.endpoint_url = endpoint_url
        self.max_concurrency = max_concurrency
        self.client_config = client_config
        self._given_client = s3_client
        self._opened = _Opened(asyncio.Semaphore(max_concurrency))

    async def __aenter__(self) -> AsyncS3CheckpointSaver:
        # A semaphore belongs to the loop it first waits on; the saver may be
        # entered again under another loop.
        opened = self._opened
        opened.limit = asyncio.Semaphore(self.max_concurrency)
        stack = AsyncExitStack()
        if self._given_client is not None:
            client = self._given_client
        else:
            config = AioConfig(**client_settings(self.max_concurrency))
            if self.client_config is not None:
                config = config.merge(self.client_config)
            client = await stack.enter_async_context(
                open_async_client(self.session, self.endpoint_url, config)
            )
            cache_endpoints_per_bucket(client)
        retry_conditional_conflicts(client.meta.events)
        opened.client = client
        try:
            await self.arun(plans.check_bucket(self.context))
        except BaseException:
            opened.client = None
            await stack.aclose()
            raise
        opened.stack = stack
        opened.loop = asyncio.get_running_loop()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        opened = self._opened
        stack, opened.stack, opened.loop, opened.client = opened.stack, None, None, None
        if stack is not None:
            await stack.aclose()

    @property
    def client(self) -> S3Client:
        """The aiobotocore S3 client, open while the saver is entered."""
        if self._opened.client is None:
            raise RuntimeError(_NOT_OPEN)
        return self._opened.client

    async def arun(self, plan: Plan[_T]) -> _T:
        """Run a plan of :mod:`.plans` to its answer on the saver's client."""
        stepper = Stepper(plan)
        while (requests := stepper.next_round()) is not None:
            try:
                stepper.send(await self._round(requests))
            except Exception as exc:  # handed to the plan, which may catch it
                stepper.throw(exc)
        result: _T = stepper.value
        return result

    def run(self, plan: Plan[_T]) -> _T:
        """Run a plan on the saver's loop, from a thread other than the loop's
        own (there it would block the loop it waits for)."""
        loop = self._opened.loop
        if loop is None:
            plan.close()
            raise RuntimeError(_NOT_OPEN)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            plan.close()
            raise asyncio.InvalidStateError(
                "Synchronous calls to AsyncS3CheckpointSaver are only allowed from a "
                "different thread. From the main thread, use the async interface "
                "(e.g. `await saver.aget_tuple(...)`, `await graph.ainvoke(...)`)."
            )
        future = asyncio.run_coroutine_threadsafe(self.arun(plan), loop)
        try:
            return future.result()
        except BaseException:
            # Ctrl-C in this thread: the plan's requests on the loop stop too.
            future.cancel()
            raise

    async def _round(self, requests: list[Request]) -> list[Any]:
        if len(requests) == 1:
            return [await self._perform(requests[0])]
        tasks = [asyncio.ensure_future(self._perform(r)) for r in requests]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            # Nothing may outlive the call that failed (or the client it uses).
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _perform(self, request: Request) -> Any:
        method, kwargs = protocol.call_of(
            request, self.bucket_name, self.request_options
        )
        try:
            # The body is read inside the semaphore: a response holds its
            # pooled connection until read, so reading outside could deadlock.
            async with self._opened.limit:
                response = await getattr(self.client, method)(**kwargs)
                if isinstance(request, Get):
                    async with response["Body"] as stream:
                        response["Body"] = await stream.read()
        except (ClientError, BotoCoreError) as exc:
            return protocol.result_of_error(request, exc, self.bucket_name)
        return protocol.result_of(request, response)
