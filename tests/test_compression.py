"""Compressed objects: gzip with ``Content-Encoding: gzip`` above a small size,
plain JSON with compression off, and every reader takes both.

The rules (when a body is compressed, how a stored one is recognised and
decoded, what a corrupt one raises) are checked on the pure functions and the
in-memory bucket; what a server stores and returns, what a plain HTTP client
gets from a presigned URL, and the CLI, on moto and SeaweedFS.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import random
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from click.testing import CliRunner, Result
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import Checkpoint, CheckpointTuple, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6

from langgraph_checkpoint_s3 import S3CheckpointSaver
from langgraph_checkpoint_s3.cli import cli
from langgraph_checkpoint_s3.compression import (
    DEFAULT_MIN_BYTES,
    GZIP,
    compress,
    decompress,
    is_compressed,
)
from langgraph_checkpoint_s3.errors import CheckpointConflictError, CorruptObjectError
from langgraph_checkpoint_s3.keys import CheckpointRef
from langgraph_checkpoint_s3.protocol import (
    Get,
    Put,
    RequestOptions,
    Tagged,
    call_of,
    result_of,
)
from memory_bucket import MemoryBucket, MemorySaver, SeaweedFSBucket

from conftest import AsyncSaverFactory, SaverFactory
from s3servers import S3Endpoint

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
PLAIN = RequestOptions(compress_min_bytes=None)
TEXT = (
    "A long answer, as a chat model gives it: a few sentences on the question, "
    "some figures (42, 3.14), a list of steps and a closing remark. "
)
LONG = TEXT * 8
"""A write value whose object is compressed."""


def document(size: int) -> bytes:
    """A JSON document of exactly ``size`` bytes that compresses well."""
    head = b'{"text": "'
    filler = (TEXT.encode() * (size // len(TEXT) + 1))[: size - len(head) - 2]
    made = head + filler + b'"}'
    assert len(made) == size
    return made


def cfg(thread: str = "t", checkpoint_id: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ""}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def checkpoint(checkpoint_id: str, turns: int = 20) -> Checkpoint:
    """A text-heavy checkpoint: its JSON envelope is a few KB."""
    made = empty_checkpoint()
    made["id"] = checkpoint_id
    made["channel_values"] = {
        "messages": [f"{i}: {TEXT}" for i in range(turns)],
        "turn": turns,
    }
    made["channel_versions"] = {"messages": 1, "turn": 1}
    return made


def write_thread(saver: Any, thread: str) -> list[str]:
    """Two checkpoints, each with a long write (compressed) and a short one
    (stored as it is); returns the checkpoint ids, oldest first."""
    ids = [str(uuid6(clock_seq=i)) for i in range(2)]
    config = cfg(thread)
    for i, checkpoint_id in enumerate(ids):
        config = saver.put(config, checkpoint(checkpoint_id, 10 + i), {"step": i}, {})
        saver.put_writes(config, [("messages", LONG), ("turn", i)], f"task-{i}")
    return ids


def assert_thread(found: CheckpointTuple | None, checkpoint_id: str, i: int) -> None:
    assert found is not None
    assert found.config["configurable"]["checkpoint_id"] == checkpoint_id
    assert (
        found.checkpoint["channel_values"]
        == checkpoint(checkpoint_id, 10 + i)["channel_values"]
    )
    assert found.pending_writes == [
        (f"task-{i}", "messages", LONG),
        (f"task-{i}", "turn", i),
    ]


def assert_reads(saver: Any, thread: str, ids: Sequence[str]) -> None:
    for i, checkpoint_id in enumerate(ids):
        assert_thread(saver.get_tuple(cfg(thread, checkpoint_id)), checkpoint_id, i)
    listed = list(saver.list(cfg(thread)))
    assert [t.config["configurable"]["checkpoint_id"] for t in listed] == ids[::-1]


async def assert_async_reads(saver: Any, thread: str, ids: Sequence[str]) -> None:
    for i, checkpoint_id in enumerate(ids):
        found = await saver.aget_tuple(cfg(thread, checkpoint_id))
        assert_thread(found, checkpoint_id, i)
    listed = [t async for t in saver.alist(cfg(thread))]
    assert [t.config["configurable"]["checkpoint_id"] for t in listed] == ids[::-1]


# -- when a body is compressed ----------------------------------------------------


def test_a_body_below_the_threshold_is_stored_as_given() -> None:
    body = document(DEFAULT_MIN_BYTES - 1)
    assert compress(body) == compress(body, DEFAULT_MIN_BYTES)
    stored = compress(body)
    assert stored.body == body and stored.content_encoding is None


def test_a_body_from_the_threshold_on_is_gzip() -> None:
    for size in (DEFAULT_MIN_BYTES, 10 * DEFAULT_MIN_BYTES, 1 << 20):
        body = document(size)
        stored = compress(body)
        assert stored.content_encoding == GZIP
        assert is_compressed(stored.body)
        assert len(stored.body) < len(body) / 2
        assert gzip.decompress(stored.body) == body


def test_compression_turned_off_stores_every_body_as_given() -> None:
    body = document(1 << 16)
    assert compress(body, None).body == body
    assert compress(body, None).content_encoding is None
    assert compress(b"{}", 0).content_encoding is None  # gzip would be larger


def test_a_body_gzip_cannot_shrink_is_stored_as_given() -> None:
    noise = random.Random(0).randbytes(4096)
    assert compress(noise) == compress(noise, 0)
    assert compress(noise).body == noise
    assert compress(noise).content_encoding is None


def test_compression_is_deterministic() -> None:
    body = document(5000)
    first, again = compress(body).body, compress(body).body
    assert first == again
    assert first[4:8] == b"\x00\x00\x00\x00"  # gzip's MTIME: none


def test_a_negative_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="compress_min_bytes"):
        RequestOptions(compress_min_bytes=-1)


# -- how a stored body is read ---------------------------------------------------


def test_a_plain_body_is_read_as_it_is() -> None:
    for body in (b"", b"{}", b" {}", document(4096), b"\x1f"):
        assert decompress("k", body) == body
        assert not is_compressed(body)


def test_a_gzip_body_is_read_decompressed() -> None:
    body = document(4096)
    assert decompress("k", gzip.compress(body)) == body  # with a timestamp too
    assert decompress("k", compress(body).body) == body
    two_members = gzip.compress(body[:100]) + gzip.compress(body[100:])
    assert decompress("k", two_members) == body


def _corruptions() -> dict[str, bytes]:
    packed = compress(document(4096)).body
    flipped = bytearray(packed)
    flipped[-6] ^= 0xFF  # inside the CRC-32 of the trailer
    return {
        "magic only": packed[:2],
        "truncated": packed[: len(packed) // 2],
        "no trailer": packed[:-8],
        "bad checksum": bytes(flipped),
        "garbage after the magic": b"\x1f\x8b" + b"not deflate at all" * 3,
        "garbage after the stream": packed + b"trailing",
    }


@pytest.mark.parametrize("body", _corruptions().values(), ids=_corruptions().keys())
def test_a_corrupt_gzip_body_is_a_corrupt_object_naming_the_key(body: bytes) -> None:
    key = "p/checkpoints/t/__default__/cp.json"
    with pytest.raises(CorruptObjectError) as raised:
        decompress(key, body)
    assert raised.value.key == key
    assert raised.value.operation == "GetObject"
    assert str(raised.value).startswith(f"{key}: not a valid gzip stream")


# -- the requests ----------------------------------------------------------------


def test_a_put_carries_the_compressed_body_and_its_encoding() -> None:
    body = document(4096)
    options = RequestOptions(storage_class="STANDARD_IA")
    method, args = call_of(Put("k", body, if_absent=True), "b", options)
    assert method == "put_object"
    assert args["ContentEncoding"] == "gzip"
    assert args["ContentType"] == "application/json"
    assert args["IfNoneMatch"] == "*"
    assert args["StorageClass"] == "STANDARD_IA"
    assert gzip.decompress(args["Body"]) == body
    _, default = call_of(Put("k", body, if_absent=True), "b")
    assert default["Body"] == args["Body"]


def test_a_small_put_and_a_put_with_compression_off_carry_the_body_as_given() -> None:
    small = document(DEFAULT_MIN_BYTES - 1)
    _, args = call_of(Put("k", small, if_absent=False), "b")
    assert args["Body"] == small and "ContentEncoding" not in args
    large = document(4096)
    _, args = call_of(Put("k", large, if_absent=False, if_match='"e"'), "b", PLAIN)
    assert args["Body"] == large and "ContentEncoding" not in args
    assert args["IfMatch"] == '"e"'
    _, args = call_of(Put("k", large, False), "b", RequestOptions(compress_min_bytes=1))
    assert args["ContentEncoding"] == "gzip"


def test_a_get_result_is_the_decompressed_document() -> None:
    body = document(4096)
    stored = compress(body).body
    response = {"Body": stored, "ContentEncoding": "gzip", "ETag": '"abc"'}
    assert result_of(Get("k"), response) == body
    assert result_of(Get("k", tagged=True), response) == Tagged(body, '"abc"')
    assert result_of(Get("k"), {"Body": body, "ETag": '"x"'}) == body
    # A body a proxy has decoded already, the header still on it.
    assert result_of(Get("k"), {"Body": body, "ContentEncoding": "gzip"}) == body


def test_a_corrupt_get_result_names_the_key() -> None:
    response = {"Body": b"\x1f\x8bnot gzip", "ContentEncoding": "gzip", "ETag": '"e"'}
    for request in (Get("p/x.json"), Get("p/x.json", tagged=True)):
        with pytest.raises(CorruptObjectError, match=r"^p/x\.json: not a valid gzip"):
            result_of(request, response)


# -- the savers on the in-memory bucket -------------------------------------------


def test_a_saver_stores_compressed_objects_and_reads_them_back() -> None:
    saver = MemorySaver(prefix="p/")
    ids = write_thread(saver, "t")
    objects = saver.bucket.objects
    compressed = {k: o for k, o in objects.items() if o.content_encoding == "gzip"}
    plain = {k: o for k, o in objects.items() if o.content_encoding is None}
    assert set(compressed) | set(plain) == set(objects)
    # Both checkpoints and the long writes are compressed; the short ones not.
    assert len(compressed) == 4 and len(plain) == 2
    for key, stored in compressed.items():
        assert is_compressed(stored.body) and stored.size == len(stored.body)
        assert json.loads(gzip.decompress(stored.body))["format"].endswith(
            "checkpoint" if "/checkpoints/" in key else "write"
        )
    for stored in plain.values():
        assert len(stored.body) < DEFAULT_MIN_BYTES
        json.loads(stored.body)
    assert_reads(saver, "t", ids)


def test_with_compression_off_every_object_is_plain_json() -> None:
    saver = MemorySaver(prefix="p/", request_options=PLAIN)
    ids = write_thread(saver, "t")
    assert len(saver.bucket.objects) == 6
    for stored in saver.bucket.objects.values():
        assert stored.content_encoding is None
        assert json.loads(stored.body)["version"] in (1, 2)
    assert_reads(saver, "t", ids)


@pytest.mark.parametrize("kind", [MemoryBucket, SeaweedFSBucket])
async def test_readers_take_plain_and_compressed_objects(
    kind: type[MemoryBucket],
) -> None:
    bucket = kind()
    old, new = (
        MemorySaver(bucket, prefix="p/", request_options=PLAIN),
        MemorySaver(bucket, prefix="p/"),
    )
    old_ids, new_ids = write_thread(old, "old"), write_thread(new, "new")
    for reader in (old, new):
        assert_reads(reader, "old", old_ids)
        assert_reads(reader, "new", new_ids)
        await assert_async_reads(reader, "new", new_ids)
    everything = list(new.list(None))
    assert len(everything) == 4


def test_a_compressed_object_is_read_without_its_header_too() -> None:
    """A tool that copied the bytes and dropped ``Content-Encoding``."""
    saver = MemorySaver(prefix="p/")
    ids = write_thread(saver, "t")
    for key, stored in list(saver.bucket.objects.items()):
        saver.bucket.put_raw(key, stored.body)
        assert saver.bucket.objects[key].content_encoding is None
    assert_reads(saver, "t", ids)


def test_a_retried_put_is_no_conflict_whatever_the_stored_encoding() -> None:
    """The conditional put compares documents, not stored bytes: a checkpoint
    stored plain (compression off, or an older version) and put again
    compressed is the same checkpoint."""
    bucket = MemoryBucket()
    old, new = MemorySaver(bucket, request_options=PLAIN), MemorySaver(bucket)
    made = checkpoint(str(uuid6(clock_seq=7)))
    stored = old.put(cfg(), made, {"step": 1}, {})
    assert new.put(cfg(), made, {"step": 1}, {}) == stored
    assert new.put(cfg(), made, {"step": 1}, {}) == stored
    (key,) = bucket.objects
    assert bucket.objects[key].content_encoding is None  # the first one stays
    with pytest.raises(CheckpointConflictError):
        new.put(cfg(), made, {"step": 2}, {})
    bucket.objects.clear()
    new.put(cfg(), made, {"step": 1}, {})
    assert bucket.objects[key].content_encoding == "gzip"
    assert old.put(cfg(), made, {"step": 1}, {}) == stored
    with pytest.raises(CheckpointConflictError):
        old.put(cfg(), made, {"step": 2}, {})


def test_a_corrupt_gzip_object_is_a_corrupt_object_error_naming_its_key() -> None:
    saver = MemorySaver(prefix="p/")
    (checkpoint_id, _) = write_thread(saver, "t")
    key = saver.layout.checkpoint_key(CheckpointRef("t", "", checkpoint_id))
    saver.bucket.put_raw(key, compress(document(4096)).body[:50], "gzip")
    for call in (
        lambda: saver.get_tuple(cfg("t", checkpoint_id)),
        lambda: list(saver.list(cfg("t"))),
    ):
        with pytest.raises(CorruptObjectError) as raised:
            call()
        assert raised.value.key == key
        assert f"{key}: not a valid gzip stream" in str(raised.value)
    assert saver.get_tuple(cfg("other")) is None  # other threads unaffected


def test_copy_thread_keeps_compressing() -> None:
    saver = MemorySaver(prefix="p/")
    ids = write_thread(saver, "a")
    saver.copy_thread("a", "b")
    copied = {k: o for k, o in saver.bucket.objects.items() if "/b/" in k}
    assert len(copied) == 6
    assert sum(o.content_encoding == "gzip" for o in copied.values()) == 4
    assert_reads(saver, "b", ids)


# -- on real servers -------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", None])
def test_servers_keep_the_bytes_and_the_header_as_the_memory_bucket_does(
    endpoint: S3Endpoint, client: S3Client, bucket: str, encoding: str | None
) -> None:
    memory = MemoryBucket(bucket)
    body = compress(document(4096)).body
    extra: Any = {"ContentEncoding": encoding} if encoding else {}
    seen = []
    for target in (client, memory):
        target.put_object(Bucket=bucket, Key="k.json", Body=body, **extra)
        got = target.get_object(Bucket=bucket, Key="k.json")
        raw = got["Body"] if isinstance(got["Body"], bytes) else got["Body"].read()
        seen.append((raw, got.get("ContentEncoding")))
    assert seen[0] == seen[1] == (body, encoding)


def schema_for(doc: dict[str, Any]) -> dict[str, Any]:
    """The committed schema of a stored document's format."""
    found = []
    for path in sorted(SCHEMAS.glob("*.json")):
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if schema["properties"]["format"].get("const") == doc["format"]:
            found.append(schema)
    assert len(found) == 1, doc["format"]
    return found[0]


def fetch(url: str, accept_gzip: bool) -> tuple[bytes, str | None]:
    """GET a URL with http.client (no decoding at all), or with urllib."""
    if accept_gzip:
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.netloc, timeout=10)
        try:
            connection.request(
                "GET",
                f"{parts.path}?{parts.query}",
                headers={"Accept-Encoding": "gzip"},
            )
            response = connection.getresponse()
            assert response.status == 200
            return response.read(), response.getheader("Content-Encoding")
        finally:
            connection.close()
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.status == 200
        return answer.read(), answer.headers.get("Content-Encoding")


def test_stored_objects_carry_their_encoding_and_a_presigned_url_gives_json(
    make_saver: SaverFactory, client: S3Client, bucket: str
) -> None:
    saver = make_saver()
    write_thread(saver, "t")
    listed = client.list_objects_v2(Bucket=bucket, Prefix="t/")["Contents"]
    assert len(listed) == 6
    encodings: list[str | None] = []
    for entry in listed:
        key = entry["Key"]
        head = client.head_object(Bucket=bucket, Key=key)
        assert head["ContentType"] == "application/json"
        encodings.append(head.get("ContentEncoding"))
        raw = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert entry["Size"] == head["ContentLength"] == len(raw)
        assert is_compressed(raw) == (head.get("ContentEncoding") == "gzip")
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}
        )
        for accept_gzip in (True, False):
            body, encoding = fetch(url, accept_gzip)
            assert body == raw
            assert encoding == head.get("ContentEncoding")
            text = gzip.decompress(body) if encoding == "gzip" else body
            doc = json.loads(text)
            jsonschema.Draft202012Validator(schema_for(doc)).validate(doc)
    assert sorted(str(e) for e in encodings) == ["None"] * 2 + ["gzip"] * 4


async def test_both_savers_read_old_plain_and_new_compressed_objects(
    make_saver: SaverFactory, make_async_saver: AsyncSaverFactory, client: S3Client
) -> None:
    old_ids = write_thread(make_saver(request_options=PLAIN), "old")
    new_ids = write_thread(make_saver(), "new")
    async with make_async_saver() as writer:
        async_ids = [str(uuid6(clock_seq=9))]
        config = await writer.aput(cfg("async"), checkpoint(async_ids[0]), {}, {})
        await writer.aput_writes(config, [("messages", LONG)], "task-a")
    keys = [
        o["Key"] for o in client.list_objects_v2(Bucket=writer.bucket_name)["Contents"]
    ]
    assert {"gzip", None} == {
        client.head_object(Bucket=writer.bucket_name, Key=k).get("ContentEncoding")
        for k in keys
    }
    for options in (None, PLAIN):
        reader = make_saver(request_options=options)
        assert_reads(reader, "old", old_ids)
        assert_reads(reader, "new", new_ids)
        found = reader.get_tuple(cfg("async"))
        assert found is not None
        assert found.pending_writes == [("task-a", "messages", LONG)]
        async with make_async_saver(request_options=options) as areader:
            await assert_async_reads(areader, "old", old_ids)
            await assert_async_reads(areader, "new", new_ids)


def run_cli(endpoint: S3Endpoint, *args: str) -> Result:
    env: dict[str, str | None] = {**endpoint.env(), "AWS_ENDPOINT_URL_S3": None}
    return CliRunner().invoke(
        cli, [*args, "--endpoint-url", endpoint.url], env=env, catch_exceptions=False
    )


def test_the_cli_validates_and_dumps_compressed_and_plain_objects(
    endpoint: S3Endpoint, bucket: str
) -> None:
    def saver(options: RequestOptions | None = None) -> S3CheckpointSaver:
        return S3CheckpointSaver(
            bucket,
            prefix="app/",
            s3_client=endpoint.boto3_client(),
            request_options=options,
        )

    with saver(PLAIN) as old, saver() as new:
        old_ids, new_ids = write_thread(old, "old"), write_thread(new, "new")
    uri = ["--s3-prefix", f"s3://{bucket}/app/"]

    result = run_cli(endpoint, "validate", *uri, "--no-progress")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"checked": 12, "failed": 0, "failures": []}

    for thread, ids in (("old", old_ids), ("new", new_ids)):
        for i, checkpoint_id in enumerate(ids):
            result = run_cli(
                endpoint,
                "dump",
                *uri,
                "--thread-id",
                thread,
                "--checkpoint-ns",
                "",
                "--checkpoint-id",
                checkpoint_id,
            )
            assert result.exit_code == 0, result.stderr
            dumped = json.loads(result.stdout)
            assert dumped["checkpoint_id"] == checkpoint_id
            expected = checkpoint(checkpoint_id, 10 + i)["channel_values"]
            assert dumped["checkpoint"]["channel_values"] == expected
            assert [w["value"] for w in dumped["pending_writes"]] == [LONG, i]


def test_the_cli_names_a_corrupt_gzip_object(
    endpoint: S3Endpoint, bucket: str, client: S3Client
) -> None:
    with S3CheckpointSaver(
        bucket, prefix="app/", s3_client=endpoint.boto3_client()
    ) as saver:
        (checkpoint_id, _) = write_thread(saver, "t")
        key = saver.layout.checkpoint_key(CheckpointRef("t", "", checkpoint_id))
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=base64.b64decode("H4sIAAAAAAAA/w=="),  # a gzip header, no stream
        ContentEncoding="gzip",
    )
    uri = ["--s3-prefix", f"s3://{bucket}/app/"]
    dump = ["--thread-id", "t", "--checkpoint-ns", "", "--checkpoint-id"]
    for args in (
        ["validate", *uri, "--no-progress"],
        ["dump", *uri, *dump, checkpoint_id],
    ):
        result = run_cli(endpoint, *args)
        assert result.exit_code == 4, result.output
        assert key in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    # validate goes on past it and lists it among the failures, once
    report = json.loads(run_cli(endpoint, "validate", *uri, "--no-progress").stdout)
    assert report["checked"] > 1
    assert [f["key"] for f in report["failures"]] == [key]
    assert report["failures"][0]["reason"].startswith("not a valid gzip stream")
