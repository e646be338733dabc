"""What every request carries, and retries a user can tune."""

from __future__ import annotations

import sys
import typing
from typing import Any

import aioboto3
import boto3
import pytest
from aiobotocore.session import AioSession
from botocore.config import Config

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver
from langgraph_checkpoint_s3._clients import (
    AIOBOTO3_EXTRA,
    DEFAULT_ATTEMPTS,
    client_settings,
)
from langgraph_checkpoint_s3.protocol import (
    Put,
    Request,
    RequestOptions,
    call_of,
)
from tests.support.clients import (
    EVERY_REQUEST,
    OPTIONS,
    OWNER,
)


def test_every_request_type_is_covered() -> None:
    assert set(typing.get_args(Request)) == {type(r) for r in EVERY_REQUEST}


@pytest.mark.parametrize("request_", EVERY_REQUEST, ids=repr)
def test_options_reach_every_request(request_: Request) -> None:
    _, args = call_of(request_, "b", OPTIONS)
    assert args["ExpectedBucketOwner"] == OWNER
    written = {"ServerSideEncryption": "AES256", "StorageClass": "STANDARD_IA"}
    if isinstance(request_, Put):
        assert written.items() <= args.items()
    else:
        assert not written.keys() & args.keys()
    _, plain = call_of(request_, "b")
    assert "ExpectedBucketOwner" not in plain


def test_no_options_add_nothing() -> None:
    _, args = call_of(Put("k", b"{}", True), "b", RequestOptions())
    assert set(args) == {"Bucket", "Key", "Body", "ContentType", "IfNoneMatch"}


def test_retry_defaults_are_total_attempts(clean_retry_env: Any) -> None:
    retries = client_settings(4)["retries"]
    assert retries == {"total_max_attempts": DEFAULT_ATTEMPTS, "mode": "standard"}


def test_retry_settings_from_the_config_file_win(
    clean_retry_env: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nretry_mode = adaptive\nmax_attempts = 3\n")
    clean_retry_env.setenv("AWS_CONFIG_FILE", str(config))
    assert "retries" not in client_settings(4)


def test_endpoints_cached_per_bucket_are_the_endpoints_botocore_resolves() -> None:
    import boto3

    from langgraph_checkpoint_s3._clients import cache_endpoints_per_bucket

    def client(**kwargs: Any) -> Any:
        return boto3.client("s3", region_name="eu-west-1", **kwargs)

    cases: list[dict[str, Any]] = [
        {},
        {"endpoint_url": "http://127.0.0.1:9000"},
        {"config": Config(s3={"addressing_style": "path"})},
        {"config": Config(s3={"addressing_style": "virtual"})},
    ]
    buckets = ["bucket", "arn:aws:s3:eu-west-1:123456789012:accesspoint/ap"]
    for kwargs in cases:
        plain, cached = client(**kwargs), client(**kwargs)
        cache_endpoints_per_bucket(cached)
        names = set(cached._ruleset_resolver._param_definitions)
        assert not names & {"Key", "Prefix", "CopySource"}
        for bucket in buckets:
            for operation, params in (
                ("PutObject", {"Bucket": bucket, "Key": "a/b.json", "Body": b""}),
                ("GetObject", {"Bucket": bucket, "Key": "x"}),
                ("ListObjectsV2", {"Bucket": bucket, "Prefix": "p/"}),
                ("HeadBucket", {"Bucket": bucket}),
            ):
                # The URL, headers and signing properties botocore resolves.
                resolved = [
                    c._resolve_endpoint_ruleset(
                        c.meta.service_model.operation_model(operation), params, {}
                    )
                    for c in (plain, cached)
                ]
                urls = [r[0] for r in resolved]
                assert resolved[0] == resolved[1], (kwargs, bucket, operation)
                assert urls[0].startswith(("http://", "https://"))


def test_the_async_saver_takes_aiobotocore_and_aioboto3_sessions() -> None:
    assert isinstance(AsyncS3CheckpointSaver("b").session, AioSession)
    for session in (AioSession(), aioboto3.Session(region_name="eu-west-1")):
        assert AsyncS3CheckpointSaver("b", session=session).session is session


def test_a_session_the_async_saver_cannot_use_is_refused_in_one_line() -> None:
    sync_session: Any = boto3.Session(region_name="eu-west-1")  # mypy refuses it
    with pytest.raises(TypeError) as info:
        AsyncS3CheckpointSaver("b", session=sync_session)
    message = str(info.value)
    assert message == (
        "AsyncS3CheckpointSaver: session= takes an aiobotocore AioSession or an "
        "aioboto3.Session; got a boto3.session.Session"
    )


def test_without_aioboto3_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As in a venv without the extra: importing aioboto3 fails. Only a
    # session the saver cannot use reaches for it (scripts/coinstall runs
    # the async saver in such a venv).
    monkeypatch.setitem(sys.modules, "aioboto3", None)
    assert isinstance(AsyncS3CheckpointSaver("b").session, AioSession)
    with pytest.raises(TypeError) as info:
        AsyncS3CheckpointSaver("b", session=typing.cast(Any, object()))
    message = str(info.value)
    assert AIOBOTO3_EXTRA in message and "\n" not in message
    assert message.endswith("got a builtins.object")
