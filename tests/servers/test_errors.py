"""Bad input on a real server gets a clear, typed error and loses nothing:
missing buckets, wrong credentials, refused permissions, hostile and
over-long ids, corrupt objects, throttling, loops and closed savers."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aiobotocore.session import AioSession
from botocore.awsrequest import AWSResponse
from langgraph.checkpoint.base import Checkpoint, empty_checkpoint

from langgraph_checkpoint_s3 import (
    AsyncS3CheckpointSaver,
    BucketNotFoundError,
    CheckpointConflictError,
    CorruptObjectError,
    CredentialsError,
    DeleteFailedError,
    S3AccessError,
    S3CheckpointSaver,
)
from langgraph_checkpoint_s3._keys import CheckpointRef
from tests.support.counting import count_requests
from tests.support.histories import cfg
from tests.support.s3servers import S3Endpoint, limited_user
from tests.support.savers import (
    AsyncSaverFactory,
    SaverFactory,
    new_bucket,
    session_for,
)


def put_one(saver: S3CheckpointSaver, thread: str) -> Checkpoint:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"x": thread}
    saver.put(cfg(thread=thread), checkpoint, {"step": 0}, {})
    saver.put_writes(cfg(checkpoint["id"], thread=thread), [("x", 1)], "task")
    return checkpoint


def test_missing_bucket_fails_at_construction(endpoint: S3Endpoint) -> None:
    with pytest.raises(BucketNotFoundError, match="no-such-bucket-here"):
        S3CheckpointSaver("no-such-bucket-here", s3_client=endpoint.boto3_client())


async def test_missing_bucket_fails_on_entry(endpoint: S3Endpoint) -> None:
    saver = AsyncS3CheckpointSaver(
        "no-such-bucket-here", session=session_for(endpoint), endpoint_url=endpoint.url
    )
    with pytest.raises(BucketNotFoundError, match="no-such-bucket-here"):
        async with saver:
            pass


def test_wrong_credentials_fail_at_construction(seaweedfs: S3Endpoint) -> None:
    bucket = new_bucket(seaweedfs)
    client = boto3.client(
        "s3",
        endpoint_url=seaweedfs.url,
        aws_access_key_id=seaweedfs.access_key,
        aws_secret_access_key="wrong",
        region_name=seaweedfs.region,
    )
    with pytest.raises(CredentialsError, match="SignatureDoesNotMatch"):
        S3CheckpointSaver(bucket, s3_client=client)


async def test_wrong_credentials_fail_on_entry(seaweedfs: S3Endpoint) -> None:
    bucket = new_bucket(seaweedfs)
    session = AioSession()
    session.set_credentials("AKNOBODY", "x")
    session.set_config_variable("region", "us-east-1")
    saver = AsyncS3CheckpointSaver(bucket, session=session, endpoint_url=seaweedfs.url)
    with pytest.raises(CredentialsError, match="InvalidAccessKeyId"):
        async with saver:
            pass


def test_no_permission_fails_at_construction(seaweedfs: S3Endpoint) -> None:
    bucket = new_bucket(seaweedfs)
    stranger = limited_user(seaweedfs, "stranger")
    with pytest.raises(S3AccessError, match=bucket) as info:
        S3CheckpointSaver(bucket, s3_client=stranger.boto3_client())
    assert not isinstance(info.value, CredentialsError)
    assert info.value.code == "AccessDenied"


def test_read_only_user_gets_a_typed_error_naming_the_key(
    seaweedfs: S3Endpoint,
) -> None:
    bucket = new_bucket(seaweedfs)
    reader = S3CheckpointSaver(
        bucket, s3_client=limited_user(seaweedfs, "reader").boto3_client()
    )
    with pytest.raises(S3AccessError) as info:
        reader.put(cfg(thread="t"), empty_checkpoint(), {}, {})
    assert info.value.operation == "PutObject"
    assert info.value.key.startswith("checkpoints/checkpoints/t/__default__/")
    assert info.value.code == "AccessDenied"


def test_read_only_user_deleting_gets_one_short_access_error(
    seaweedfs: S3Endpoint,
) -> None:
    bucket = new_bucket(seaweedfs)
    put_one(S3CheckpointSaver(bucket, s3_client=seaweedfs.boto3_client()), "t")
    reader = S3CheckpointSaver(
        bucket, s3_client=limited_user(seaweedfs, "reader").boto3_client()
    )
    with pytest.raises(S3AccessError) as info:
        reader.delete_thread("t")
    assert info.value.code == "AccessDenied"
    assert str(info.value).startswith("DeleteObjects: AccessDenied on 2 keys (such as ")
    assert str(info.value).endswith(": does this identity have s3:DeleteObject?")


def test_hostile_thread_ids_never_reach_other_threads(make_saver: SaverFactory) -> None:
    saver = make_saver()
    threads = ["t1", "t1-b", "t1/x", "t1/../t2", "t2", "..", "__default__", ""]
    for thread in threads:
        put_one(saver, thread)
    for thread in threads:
        found = list(saver.list(cfg(thread=thread)))
        assert [t.checkpoint["channel_values"] for t in found] == [{"x": thread}]
        assert found[0].pending_writes == [("task", "x", 1)]
    saver.delete_thread("t1")
    assert saver.get_tuple(cfg(thread="t1")) is None
    assert all(saver.get_tuple(cfg(thread=t)) is not None for t in threads if t != "t1")


def test_over_long_id_is_refused_before_any_request(make_saver: SaverFactory) -> None:
    saver = make_saver()
    with (
        count_requests(saver.client) as counts,
        pytest.raises(ValueError, match="1024"),
    ):
        saver.put(cfg(thread="x" * 1100), empty_checkpoint(), {}, {})
    assert not counts


def test_corrupt_checkpoint_names_its_key_and_spares_other_threads(
    make_saver: SaverFactory,
) -> None:
    saver = make_saver()
    bad = put_one(saver, "bad")
    put_one(saver, "good")
    key = saver.layout.checkpoint_key(CheckpointRef("bad", "", bad["id"]))
    saver.client.put_object(Bucket=saver.bucket_name, Key=key, Body=b"{oops")
    with pytest.raises(CorruptObjectError, match="not a JSON document") as info:
        saver.get_tuple(cfg(thread="bad"))
    assert info.value.key == key
    with pytest.raises(CorruptObjectError):
        list(saver.list(cfg(thread="bad")))
    assert saver.get_tuple(cfg(thread="good")) is not None


def test_foreign_write_object_is_refused(make_saver: SaverFactory) -> None:
    saver = make_saver()
    checkpoint = put_one(saver, "t")
    prefix = saver.layout.checkpoint_writes_prefix(
        CheckpointRef("t", "", checkpoint["id"])
    )
    body = json.dumps({"format": "someone-else", "version": 1}).encode()
    saver.client.put_object(
        Bucket=saver.bucket_name, Key=prefix + "x_0.json", Body=body
    )
    with pytest.raises(CorruptObjectError, match="format='someone-else'"):
        saver.get_tuple(cfg(thread="t"))


def test_same_checkpoint_twice_is_idempotent_but_never_overwritten(
    make_saver: SaverFactory,
) -> None:
    saver = make_saver()
    checkpoint = put_one(saver, "t")
    saver.put(cfg(thread="t"), checkpoint, {"step": 0}, {})  # a retried request
    changed = {**checkpoint, "channel_values": {"x": "other"}}
    with pytest.raises(CheckpointConflictError):
        saver.put(cfg(thread="t"), changed, {"step": 0}, {})  # type: ignore[arg-type]
    found = saver.get_tuple(cfg(thread="t"))
    assert found is not None and found.checkpoint["channel_values"] == {"x": "t"}


async def test_async_saver_must_be_entered(make_async_saver: AsyncSaverFactory) -> None:
    saver = make_async_saver()
    with pytest.raises(RuntimeError, match="async with"):
        await saver.aget_tuple(cfg(thread="t"))


async def test_async_saver_sync_call_on_its_loop_is_refused(
    async_saver: AsyncS3CheckpointSaver,
) -> None:
    import asyncio

    with pytest.raises(asyncio.InvalidStateError, match="different thread"):
        async_saver.get_tuple(cfg(thread="t"))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self.body


def test_throttling_is_retried_by_botocore(make_saver: SaverFactory) -> None:
    saver = make_saver()
    refusals = iter(range(2))

    def slow_down(**kwargs: Any) -> AWSResponse | None:
        if next(refusals, None) is None:
            return None
        body = b"<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>"
        return AWSResponse("http://x", 503, {}, _Raw(body))  # type: ignore[arg-type]

    saver.client.meta.events.register(
        "before-send.s3.PutObject",
        slow_down,  # type: ignore[arg-type]
    )
    with count_requests(saver.client) as counts:
        put_one(saver, "throttled")
    # Two refused, then the checkpoint, the saver's one check of the store,
    # and the write.
    assert counts["PutObject"] == 5
    assert saver.get_tuple(cfg(thread="throttled")) is not None


def test_delete_errors_are_raised_with_their_keys(make_saver: SaverFactory) -> None:
    saver = make_saver()
    put_one(saver, "t")

    def refuse_first(parsed: dict[str, Any], **kwargs: Any) -> None:
        parsed["Errors"] = [
            {"Key": "k/one.json", "Code": "AccessDenied", "Message": "no"},
            {"Key": "k/two.json", "Code": "InternalError", "Message": "try again"},
        ]

    saver.client.meta.events.register("after-call.s3.DeleteObjects", refuse_first)
    with pytest.raises(DeleteFailedError, match=r"k/one\.json\).*k/two\.json") as info:
        saver.delete_thread("t")
    assert [key for key, _ in info.value.failures] == ["k/one.json", "k/two.json"]


def test_async_saver_reenters_under_another_loop(
    make_async_saver: AsyncSaverFactory,
) -> None:
    import asyncio

    saver = make_async_saver()

    async def use() -> None:
        async with saver:
            await asyncio.gather(
                *(saver.aget_tuple(cfg(thread=f"t{i}")) for i in range(40))
            )

    asyncio.run(use())
    asyncio.run(use())


async def test_async_reads_of_large_objects_do_not_starve_the_pool(
    make_saver: SaverFactory, make_async_saver: AsyncSaverFactory
) -> None:
    import asyncio

    saver = make_saver()
    checkpoint = empty_checkpoint()
    saver.put(cfg(thread="big"), checkpoint, {}, {})
    blob = b"x" * 2_000_000  # bodies far larger than one socket read
    writes = [(f"c{i}", blob) for i in range(8)]
    saver.put_writes(cfg(checkpoint["id"], thread="big"), writes, "t")
    async with make_async_saver(max_concurrency=2) as async_saver:
        found = await asyncio.wait_for(
            async_saver.aget_tuple(cfg(thread="big")), timeout=30
        )
    assert found is not None and len(found.pending_writes or []) == 8


def test_a_closed_saver_says_so(make_saver: SaverFactory) -> None:
    saver = make_saver()
    saver.close()
    with pytest.raises(RuntimeError, match="closed"):
        saver.get_tuple(cfg(thread="t"))
