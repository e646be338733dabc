"""LangGraph's conformance suite as the tests run it: the sync saver behind a
thin async adapter, and the check that a report passed every test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES
from langgraph.checkpoint.conformance.report import CapabilityReport

from langgraph_checkpoint_s3 import S3CheckpointSaver

ALL_TEST_COUNT = 81
FORWARDED = ("put", "put_writes", "delete_thread", "delete_for_runs", "copy_thread")


def async_adapter(saver: S3CheckpointSaver) -> BaseCheckpointSaver[str]:
    """Wrap the sync saver's sync methods as the async ones the suite calls,
    offering only the methods the sync saver really implements, since the
    suite detects capabilities by which async methods a class overrides."""

    def implements(name: str) -> bool:
        return getattr(type(saver), name) is not getattr(BaseCheckpointSaver, name)

    def forward(name: str) -> Any:
        async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(getattr(saver, name), *args, **kwargs)

        return call

    async def aget_tuple(self: Any, config: RunnableConfig) -> CheckpointTuple | None:
        return await asyncio.to_thread(saver.get_tuple, config)

    async def alist(
        self: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[CheckpointTuple]:
        for item in await asyncio.to_thread(lambda: [*saver.list(config, **kwargs)]):
            yield item

    async def aprune(self: Any, thread_ids: Sequence[str], **kwargs: Any) -> None:
        await asyncio.to_thread(saver.prune, thread_ids, **kwargs)

    methods: dict[str, Any] = {
        f"a{name}": forward(name) for name in FORWARDED if implements(name)
    }
    methods["aget_tuple"] = aget_tuple
    methods["alist"] = alist
    if implements("prune"):
        methods["aprune"] = aprune
    methods["get_next_version"] = lambda self, current, channel: saver.get_next_version(
        current, channel
    )
    adapter = type("SyncSaverAdapter", (BaseCheckpointSaver,), methods)
    return adapter(serde=saver.serde)  # type: ignore[no-any-return]


def assert_conformant(report: CapabilityReport) -> None:
    failures = {
        name: result.failures
        for name, result in report.results.items()
        if result.detected and not result.passed
    }
    assert not failures, failures
    results = [report.results[cap.value] for cap in ALL_CAPABILITIES]
    assert all(result.detected for result in results)
    assert sum(result.tests_skipped for result in results) == 0
    assert sum(result.tests_passed for result in results) == ALL_TEST_COUNT
