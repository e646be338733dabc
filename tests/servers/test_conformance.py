"""LangGraph's own conformance suite, on both savers, over HTTP: on moto
with every value a later checkpoint holds again stored once (threshold 0),
on SeaweedFS with the default threshold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate

from tests.support.conformance import assert_conformant, async_adapter
from tests.support.s3servers import S3Endpoint
from tests.support.savers import AsyncSaverFactory, SaverFactory


def _threshold(endpoint: S3Endpoint) -> dict[str, Any]:
    return {} if endpoint.access_key != "testing" else {"shared_value_bytes": 0}


async def test_async_saver_conforms(
    make_async_saver: AsyncSaverFactory, endpoint: S3Endpoint
) -> None:
    @checkpointer_test(name="AsyncS3CheckpointSaver")
    async def factory() -> AsyncIterator[BaseCheckpointSaver[str]]:
        async with make_async_saver(**_threshold(endpoint)) as saver:
            yield saver

    assert_conformant(await validate(factory))


async def test_sync_saver_conforms(
    make_saver: SaverFactory, endpoint: S3Endpoint
) -> None:
    @checkpointer_test(name="S3CheckpointSaver")
    async def factory() -> AsyncIterator[BaseCheckpointSaver[str]]:
        yield async_adapter(make_saver(**_threshold(endpoint)))

    assert_conformant(await validate(factory))
