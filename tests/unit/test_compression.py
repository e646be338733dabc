"""Compressed objects: gzip with ``Content-Encoding: gzip`` above a small size,
plain JSON with compression off, and every reader takes both.

The rules (when a body is compressed, how a stored one is recognised and
decoded, what a corrupt one raises) are checked on the pure functions and the
in-memory bucket; what a server stores and returns, what a plain HTTP client
gets from a presigned URL, and the CLI, on moto and SeaweedFS.
"""

from __future__ import annotations

import gzip
import json
import random
from typing import TYPE_CHECKING

import pytest
from langgraph.checkpoint.base.id import uuid6

from langgraph_checkpoint_s3._compression import (
    DEFAULT_MIN_BYTES,
    GZIP,
    compress,
    decompress,
    is_compressed,
)
from langgraph_checkpoint_s3._keys import CheckpointRef
from langgraph_checkpoint_s3.errors import CheckpointConflictError, CorruptObjectError
from langgraph_checkpoint_s3.protocol import (
    Get,
    Put,
    RequestOptions,
    Tagged,
    call_of,
    result_of,
)
from tests.support.compressed import (
    PLAIN,
    assert_async_reads,
    assert_reads,
    checkpoint,
    document,
    write_thread,
)
from tests.support.histories import cfg
from tests.support.memory_bucket import MemoryBucket, MemorySaver, SeaweedFSBucket

if TYPE_CHECKING:
    pass


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
        lambda: saver.get_tuple(cfg(checkpoint_id, thread="t")),
        lambda: list(saver.list(cfg(thread="t"))),
    ):
        with pytest.raises(CorruptObjectError) as raised:
            call()
        assert raised.value.key == key
        assert f"{key}: not a valid gzip stream" in str(raised.value)
    assert saver.get_tuple(cfg(thread="other")) is None  # other threads unaffected


def test_copy_thread_keeps_compressing() -> None:
    saver = MemorySaver(prefix="p/")
    ids = write_thread(saver, "a")
    saver.copy_thread("a", "b")
    copied = {k: o for k, o in saver.bucket.objects.items() if "/b/" in k}
    assert len(copied) == 6
    assert sum(o.content_encoding == "gzip" for o in copied.values()) == 4
    assert_reads(saver, "b", ids)
