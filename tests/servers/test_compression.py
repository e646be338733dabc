"""Compressed objects on real servers: the bytes and ``Content-Encoding`` kept
as the memory bucket keeps them, a plain HTTP client reading them, both
savers reading old plain and new compressed objects, and the CLI on both.
The rules are in ``tests/unit/test_compression.py``."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from click.testing import CliRunner, Result
from langgraph.checkpoint.base.id import uuid6

from langgraph_checkpoint_s3 import S3CheckpointSaver
from langgraph_checkpoint_s3._compression import (
    compress,
    is_compressed,
)
from langgraph_checkpoint_s3._keys import CheckpointRef
from langgraph_checkpoint_s3.cli import cli
from langgraph_checkpoint_s3.protocol import (
    RequestOptions,
)
from tests.support import ROOT
from tests.support.compressed import (
    LONG,
    PLAIN,
    assert_async_reads,
    assert_reads,
    checkpoint,
    document,
    write_thread,
)
from tests.support.histories import cfg
from tests.support.memory_bucket import MemoryBucket
from tests.support.s3servers import S3Endpoint
from tests.support.savers import AsyncSaverFactory, SaverFactory

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SCHEMAS = ROOT / "schemas"


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


def test_a_shared_value_read_by_a_presigned_url_is_its_schemas_json(
    make_saver: SaverFactory, client: S3Client, bucket: str
) -> None:
    saver = make_saver(prefix="v/", shared_value_bytes=1024)
    first, second = checkpoint(str(uuid6(clock_seq=1))), checkpoint(str(uuid6()))
    config = saver.put(cfg(thread="v"), first, {}, {"messages": "1", "turn": "1"})
    saver.put(config, second, {}, {})  # the messages again: stored once
    (value,) = client.list_objects_v2(Bucket=bucket, Prefix="v/values/")["Contents"]
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": value["Key"]}
    )
    for accept_gzip in (True, False):
        body, encoding = fetch(url, accept_gzip)
        assert encoding == "gzip"
        doc = json.loads(gzip.decompress(body))
        jsonschema.Draft202012Validator(schema_for(doc)).validate(doc)
    assert saver.get_tuple(cfg(thread="v")) is not None


async def test_both_savers_read_old_plain_and_new_compressed_objects(
    make_saver: SaverFactory, make_async_saver: AsyncSaverFactory, client: S3Client
) -> None:
    old_ids = write_thread(make_saver(request_options=PLAIN), "old")
    new_ids = write_thread(make_saver(), "new")
    async with make_async_saver() as writer:
        async_ids = [str(uuid6(clock_seq=9))]
        config = await writer.aput(
            cfg(thread="async"), checkpoint(async_ids[0]), {}, {}
        )
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
        found = reader.get_tuple(cfg(thread="async"))
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
    assert json.loads(result.stdout) == {
        "checked": 12,
        "failed": 0,
        "failures": [],
        "warnings": [],
    }

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
