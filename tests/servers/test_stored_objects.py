"""What the savers really write on a server: valid against the committed JSON
Schemas (checked with a generic validator, as a consumer in another language
would), reachable through endpoint_url or AWS_ENDPOINT_URL_S3."""

from __future__ import annotations

import json

import pytest
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver, plans
from tests.support.graphs import approval_graph, nested_graph, thread
from tests.support.s3servers import S3Endpoint
from tests.support.savers import SaverFactory, new_bucket
from tests.support.schemas import (
    committed_validator,
)


def stored_objects(saver: S3CheckpointSaver) -> dict[str, bytes]:
    keys = saver.run(plans.list_keys(saver.layout.prefix))
    bodies = saver.run(plans.fetch_objects(keys))
    return {key: body or b"" for key, body in zip(keys, bodies, strict=True)}


@pytest.mark.parametrize(
    "serde", [None, EncryptedSerializer.from_pycryptodome_aes(key=b"k" * 16)]
)
def test_real_objects_validate_against_committed_schemas(
    make_saver: SaverFactory, serde: EncryptedSerializer | None
) -> None:
    # Threshold 0: every value a later checkpoint holds again is shared.
    saver = make_saver(shared_value_bytes=0, **({"serde": serde} if serde else {}))
    approval_graph(saver).invoke({"messages": [("user", "hi")]}, thread("a"))
    nested_graph(saver).invoke({"log": []}, thread("user@example.com/n 1"))
    validators = {
        "checkpoint": committed_validator("checkpoint.v3.json"),
        "write": committed_validator("write.v3.json"),
        "value": committed_validator("value.v1.json"),
    }
    objects = stored_objects(saver)
    kinds = {"checkpoint": 0, "write": 0, "value": 0}
    layout = saver.layout
    for key, body in objects.items():
        if layout.parse_checkpoint_key(key):
            kind = "checkpoint"
        elif layout.parse_value_key(key):
            kind = "value"
        else:
            kind = "write"
            assert layout.parse_write_key(key), key
        validators[kind].validate(json.loads(body))
        kinds[kind] += 1
    assert kinds["checkpoint"] >= 5 and kinds["write"] >= 5
    # Encrypted bytes differ at every call: a value met in a write is not
    # known again in the checkpoint, and these graphs keep no channel as is.
    assert kinds["value"] >= (0 if serde else 1)


def test_endpoint_from_argument_and_from_environment(
    moto: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = new_bucket(moto)
    by_argument = S3CheckpointSaver(bucket, endpoint_url=moto.url)
    approval_graph(by_argument).invoke({"messages": [("user", "hi")]}, thread("e"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.url)
    by_environment = S3CheckpointSaver(bucket)
    assert by_environment.get_tuple(thread("e")) is not None


async def test_async_endpoint_from_environment(
    moto: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = new_bucket(moto)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.url)
    async with AsyncS3CheckpointSaver(bucket) as saver:
        await approval_graph(saver).ainvoke({"messages": [("user", "hi")]}, thread("e"))
    with S3CheckpointSaver(bucket, endpoint_url=moto.url) as reader:
        assert reader.get_tuple(thread("e")) is not None
