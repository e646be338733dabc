"""The server tests: both savers over HTTP. A test that takes ``endpoint`` (or
a fixture built on it) runs once on moto and once on SeaweedFS."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver
from tests.support.s3servers import S3Endpoint
from tests.support.savers import (
    AsyncSaverFactory,
    SaverFactory,
    new_bucket,
    session_for,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture(params=["moto", "seaweedfs"])
def endpoint(request: pytest.FixtureRequest) -> S3Endpoint:
    """Each S3 server in turn."""
    server: S3Endpoint = request.getfixturevalue(request.param)
    return server


@pytest.fixture
def bucket(endpoint: S3Endpoint) -> str:
    """A fresh, empty bucket on ``endpoint``."""
    return new_bucket(endpoint)


@pytest.fixture
def client(endpoint: S3Endpoint) -> S3Client:
    """A boto3 client for ``endpoint``."""
    return endpoint.boto3_client()


@pytest.fixture
def make_saver(endpoint: S3Endpoint, bucket: str) -> Iterator[SaverFactory]:
    """New sync savers on the test's bucket, as a restarted process would make."""
    made: list[S3CheckpointSaver] = []

    def make(**kwargs: Any) -> S3CheckpointSaver:
        saver = S3CheckpointSaver(
            bucket, s3_client=endpoint.boto3_client(), **{"prefix": "t/", **kwargs}
        )
        made.append(saver)
        return saver

    yield make
    for saver in made:
        saver.close()


@pytest.fixture
def make_async_saver(endpoint: S3Endpoint, bucket: str) -> AsyncSaverFactory:
    """New async savers (async context managers) on the test's bucket."""

    def make(**kwargs: Any) -> AsyncS3CheckpointSaver:
        return AsyncS3CheckpointSaver(
            bucket,
            session=session_for(endpoint),
            endpoint_url=endpoint.url,
            **{"prefix": "t/", **kwargs},
        )

    return make


@pytest.fixture
async def async_saver(
    make_async_saver: AsyncSaverFactory,
) -> AsyncIterator[AsyncS3CheckpointSaver]:
    async with make_async_saver() as saver:
        yield saver
