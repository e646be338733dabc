"""LangGraph's own conformance suite, on both savers, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate

from tests.support.conformance import assert_conformant, async_adapter
from tests.support.savers import AsyncSaverFactory, SaverFactory


async def test_async_saver_conforms(make_async_saver: AsyncSaverFactory) -> None:
    @checkpointer_test(name="AsyncS3CheckpointSaver")
    async def factory() -> AsyncIterator[BaseCheckpointSaver[str]]:
        async with make_async_saver() as saver:
            yield saver

    assert_conformant(await validate(factory))


async def test_sync_saver_conforms(make_saver: SaverFactory) -> None:
    @checkpointer_test(name="S3CheckpointSaver")
    async def factory() -> AsyncIterator[BaseCheckpointSaver[str]]:
        yield async_adapter(make_saver())

    assert_conformant(await validate(factory))
