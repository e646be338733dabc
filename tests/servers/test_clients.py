"""The options and retries of the clients the savers create, on a server:
settings from the environment and the config file, a given client's config
merged over ours, both kinds of async session, and 409 conflicts retried.
What every request carries is in ``tests/unit/test_clients.py``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from aiobotocore.config import AioConfig
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from langgraph.checkpoint.base import empty_checkpoint

from langgraph_checkpoint_s3 import (
    AsyncS3CheckpointSaver,
    ConditionalWritesError,
    S3CheckpointSaver,
)
from langgraph_checkpoint_s3._clients import DEFAULT_ATTEMPTS, client_settings
from tests.support.clients import (
    OPTIONS,
    OWNER,
)
from tests.support.counting import count_requests
from tests.support.histories import cfg
from tests.support.s3servers import S3Endpoint
from tests.support.savers import aioboto3_session_for, new_bucket, session_for


def test_retry_settings_from_the_environment_win(
    clean_retry_env: pytest.MonkeyPatch, moto: S3Endpoint
) -> None:
    clean_retry_env.setenv("AWS_MAX_ATTEMPTS", "2")
    clean_retry_env.setenv("AWS_RETRY_MODE", "adaptive")
    clean_retry_env.setenv("AWS_ENDPOINT_URL_S3", moto.url)
    assert "retries" not in client_settings(4)
    with S3CheckpointSaver(new_bucket(moto)) as saver:
        config: Any = saver.client.meta.config
        assert config.retries == {
            "total_max_attempts": 2,
            "mode": "adaptive",
        }


def test_client_config_is_merged_over_ours(moto: S3Endpoint) -> None:
    with S3CheckpointSaver(
        new_bucket(moto),
        endpoint_url=moto.url,
        max_concurrency=3,
        client_config=Config(read_timeout=7),
    ) as saver:
        config: Any = saver.client.meta.config
        assert config.read_timeout == 7 and config.max_pool_connections == 3


def _stored_keys(endpoint: S3Endpoint, bucket: str) -> list[str]:
    listed = endpoint.boto3_client().list_objects_v2(Bucket=bucket)
    return [obj["Key"] for obj in listed.get("Contents", [])]


def _assert_written_with_options(endpoint: S3Endpoint, bucket: str) -> None:
    client = endpoint.boto3_client()
    keys = _stored_keys(endpoint, bucket)
    assert len(keys) == 3  # a checkpoint and two writes
    for key in keys:
        head = client.head_object(Bucket=bucket, Key=key)
        assert head["ServerSideEncryption"] == "AES256", key
        assert head["StorageClass"] == "STANDARD_IA", key


def _record(client: Any, seen: list[str | None]) -> None:
    def remember(params: dict[str, Any], **_: Any) -> None:
        seen.append(params.get("ExpectedBucketOwner"))

    client.meta.events.register("provide-client-params.s3", remember)


def test_sync_saver_sends_the_options(moto: S3Endpoint) -> None:
    bucket = new_bucket(moto)
    client = moto.boto3_client()
    seen: list[str | None] = []
    _record(client, seen)
    with S3CheckpointSaver(bucket, s3_client=client, request_options=OPTIONS) as saver:
        checkpoint = empty_checkpoint()
        saver.put(cfg(), checkpoint, {}, {})
        saver.put_writes(cfg(checkpoint["id"]), [("a", 1), ("b", 2)], "task")
        assert saver.get_tuple(cfg()) is not None
    _assert_written_with_options(moto, bucket)
    assert len(seen) >= 6 and set(seen) == {OWNER}


async def test_async_saver_sends_the_options_on_a_given_client(
    moto: S3Endpoint,
) -> None:
    bucket = new_bucket(moto)
    seen: list[str | None] = []
    session = session_for(moto)
    async with session.create_client("s3", endpoint_url=moto.url) as client:
        _record(client, seen)
        saver = AsyncS3CheckpointSaver(
            bucket, s3_client=client, request_options=OPTIONS
        )
        async with saver:
            checkpoint = empty_checkpoint()
            await saver.aput(cfg(), checkpoint, {}, {})
            await saver.aput_writes(cfg(checkpoint["id"]), [("a", 1), ("b", 2)], "t")
            assert await saver.aget_tuple(cfg()) is not None
        sent = list(seen)
        # The saver leaves a client it was given open.
        assert (await client.list_objects_v2(Bucket=bucket))["KeyCount"] == 3
    _assert_written_with_options(moto, bucket)
    assert len(sent) >= 6 and set(sent) == {OWNER}


async def test_async_client_config_is_merged_over_ours(moto: S3Endpoint) -> None:
    saver = AsyncS3CheckpointSaver(
        new_bucket(moto),
        session=session_for(moto),
        endpoint_url=moto.url,
        client_config=AioConfig(read_timeout=7),
    )
    async with saver:
        config: Any = saver.client.meta.config
        assert config.read_timeout == 7


async def _requests_of_a_short_run(saver: AsyncS3CheckpointSaver) -> Any:
    async with saver:
        config: Any = saver.client.meta.config
        settings = {
            name: getattr(config, name)
            for name in ("retries", "max_pool_connections", "read_timeout")
        }
        with count_requests(saver.client) as counts:
            checkpoint = empty_checkpoint()
            stored = await saver.aput(cfg(), checkpoint, {"step": 0}, {})
            await saver.aput_writes(stored, [("a", 1), ("b", 2)], "task")
            found = await saver.aget_tuple(cfg())
            assert found is not None and len(found.pending_writes or []) == 2
            assert len([c async for c in saver.alist(cfg())]) == 1
    return settings, dict(counts)


async def test_an_aioboto3_session_makes_the_same_client(moto: S3Endpoint) -> None:
    """The aioboto3 extra: its session gives the client aiobotocore's gives,
    with the same settings and the same requests."""
    runs = [
        await _requests_of_a_short_run(
            AsyncS3CheckpointSaver(
                new_bucket(moto),
                session=session,
                endpoint_url=moto.url,
                max_concurrency=5,
            )
        )
        for session in (session_for(moto), aioboto3_session_for(moto))
    ]
    assert runs[0] == runs[1]
    settings, counts = runs[0]
    assert settings["max_pool_connections"] == 5
    assert counts["PutObject"] == 4  # a checkpoint, its check and two writes


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self.body


def _conflict_first(times: int) -> Any:
    left = iter(range(times))

    def conflict(**kwargs: Any) -> AWSResponse | None:
        if next(left, None) is None:
            return None
        body = (
            b"<Error><Code>ConditionalRequestConflict</Code>"
            b"<Message>A conflicting operation is in progress</Message></Error>"
        )
        return AWSResponse("http://x", 409, {}, _Raw(body))  # type: ignore[arg-type]

    return conflict


def test_conditional_conflict_409_is_retried(moto: S3Endpoint) -> None:
    client = moto.boto3_client()
    client.meta.events.register("before-send.s3.PutObject", _conflict_first(2))
    with S3CheckpointSaver(new_bucket(moto), s3_client=client) as saver:
        with count_requests(client) as counts:
            saver.put(cfg(), empty_checkpoint(), {}, {})
        # Two conflicts, then stored, then the saver's one check of the store.
        assert counts["PutObject"] == 4
        assert saver.get_tuple(cfg()) is not None


def test_conditional_conflict_gives_up_after_the_attempts(moto: S3Endpoint) -> None:
    client = moto.boto3_client()
    client.meta.events.register("before-send.s3.PutObject", _conflict_first(99))
    with S3CheckpointSaver(new_bucket(moto), s3_client=client) as saver:
        with (
            count_requests(client) as counts,
            pytest.raises(Exception, match=r"409|Conflict"),
        ):
            saver.put(cfg(), empty_checkpoint(), {}, {})
        assert counts["PutObject"] == DEFAULT_ATTEMPTS


async def test_async_client_retries_conditional_conflicts(moto: S3Endpoint) -> None:
    """aiobotocore cannot take an injected response, so ask its retry event
    directly what it does with a 409 on the saver's client."""
    conflict = {
        "Error": {"Code": "ConditionalRequestConflict"},
        "ResponseMetadata": {"HTTPStatusCode": 409},
    }
    http = SimpleNamespace(status_code=409, headers={})
    async with AsyncS3CheckpointSaver(
        new_bucket(moto), session=session_for(moto), endpoint_url=moto.url
    ) as saver:
        events = saver.client.meta.events
        context: dict[str, Any] = {
            "operation": saver.client.meta.service_model.operation_model("PutObject"),
            "caught_exception": None,
            "request_dict": {"context": {}},
        }
        delays = await events.emit(
            "needs-retry.s3.PutObject",
            response=(http, conflict),
            attempts=1,
            **context,
        )
        assert any(delay is not None for _, delay in delays)
        last = await events.emit(
            "needs-retry.s3.PutObject",
            response=(http, conflict),
            attempts=DEFAULT_ATTEMPTS,
            **context,
        )
        assert all(delay is None for _, delay in last)


def _drop_conditions(client: Any) -> list[str]:
    """Make the client behave like a store (or proxy) that ignores
    conditional writes: the headers never reach the server."""
    dropped: list[str] = []

    def drop(params: dict[str, Any], **_: Any) -> None:
        for name in ("IfNoneMatch", "IfMatch"):
            if params.pop(name, None) is not None:
                dropped.append(name)

    client.meta.events.register("provide-client-params.s3.PutObject", drop)
    return dropped


def test_sync_saver_refuses_a_store_that_ignores_conditional_writes(
    endpoint: S3Endpoint,
) -> None:
    client = endpoint.boto3_client()
    dropped = _drop_conditions(client)
    saver = S3CheckpointSaver(new_bucket(endpoint), s3_client=client)
    with pytest.raises(ConditionalWritesError, match="ignores conditional writes"):
        saver.put(cfg(), empty_checkpoint(), {"step": 0}, {})
    assert dropped == ["IfNoneMatch", "IfNoneMatch"]  # the PUT and its check
    with pytest.raises(ConditionalWritesError):
        saver.put_writes(cfg("c1"), [("a", 1)], "task")


def test_sync_saver_checks_an_honest_store_once(endpoint: S3Endpoint) -> None:
    client = endpoint.boto3_client()
    with (
        S3CheckpointSaver(new_bucket(endpoint), s3_client=client) as saver,
        count_requests(client) as counted,
    ):
        for step in range(3):
            saver.put(cfg(), empty_checkpoint(), {"step": step}, {})
    assert counted == {"PutObject": 4}


async def test_async_saver_refuses_a_store_that_ignores_conditional_writes(
    moto: S3Endpoint,
) -> None:
    bucket = new_bucket(moto)
    async with session_for(moto).create_client("s3", endpoint_url=moto.url) as client:
        _drop_conditions(client)
        async with AsyncS3CheckpointSaver(bucket, s3_client=client) as saver:
            with pytest.raises(ConditionalWritesError):
                await saver.aput_writes(cfg("c1"), [("a", 1), ("b", 2)], "task")


def test_without_conditional_writes_the_saver_runs_on_such_a_store(
    moto: S3Endpoint,
) -> None:
    client = moto.boto3_client()
    dropped = _drop_conditions(client)
    saver = S3CheckpointSaver(
        new_bucket(moto), s3_client=client, conditional_writes=False
    )
    stored = saver.put(cfg(), empty_checkpoint(), {"step": 0}, {})
    saver.put_writes(stored, [("a", 1), ("b", 2)], "task")
    found = saver.get_tuple(cfg())
    assert found is not None and len(found.pending_writes or []) == 2
    assert dropped == []  # nothing conditional was sent


def test_the_cli_sends_the_expected_bucket_owner(
    moto: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from langgraph_checkpoint_s3.cli import cli
    from langgraph_checkpoint_s3.cli.connection import Connection

    bucket = new_bucket(moto)
    with S3CheckpointSaver(bucket, s3_client=moto.boto3_client()) as saver:
        saver.put(cfg(), empty_checkpoint(), {}, {})
    seen: list[str | None] = []
    made = Connection.client

    def recorded(self: Connection) -> Any:
        client = made(self)
        _record(client, seen)
        return client

    monkeypatch.setattr(Connection, "client", recorded)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.url)
    uri = f"s3://{bucket}/checkpoints/"
    for command in (["threads"], ["list", "--thread-id", "t"]):
        result = CliRunner().invoke(
            cli, [*command, "--s3-prefix", uri, "--expected-bucket-owner", OWNER]
        )
        assert result.exit_code == 0, result.output
    assert len(seen) >= 4 and set(seen) == {OWNER}
