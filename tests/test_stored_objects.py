"""What the savers really write: valid against the committed JSON Schemas
(checked with a generic validator, as a consumer in another language would),
reachable through endpoint_url or AWS_ENDPOINT_URL_S3."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver, plans
from test_graphs import approval_graph, nested_graph, thread

from conftest import SaverFactory, new_bucket
from s3servers import S3Endpoint

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def committed_validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


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
    saver = make_saver(**({"serde": serde} if serde else {}))
    approval_graph(saver).invoke({"messages": [("user", "hi")]}, thread("a"))
    nested_graph(saver).invoke({"log": []}, thread("user@example.com/n 1"))
    validators = {
        "checkpoint": committed_validator("checkpoint.v2.json"),
        "write": committed_validator("write.v3.json"),
    }
    objects = stored_objects(saver)
    kinds = {"checkpoint": 0, "write": 0}
    for key, body in objects.items():
        kind = "checkpoint" if saver.layout.parse_checkpoint_key(key) else "write"
        assert kind == "checkpoint" or saver.layout.parse_write_key(key), key
        validators[kind].validate(json.loads(body))
        kinds[kind] += 1
    assert kinds["checkpoint"] >= 5 and kinds["write"] >= 5


def test_schema_rejects_what_the_models_reject() -> None:
    validator = committed_validator("write.v3.json")
    good = {
        "format": "langgraph-checkpoint-s3/write",
        "version": 1,
        "thread_id": "t",
        "checkpoint_ns": "",
        "checkpoint_id": "c",
        "task_id": "task",
        "task_path": "",
        "idx": 0,
        "channel": "x",
        "value": {"type": "msgpack", "data": "kQ=="},
    }
    batch = {"id": "1f0", "idx": [0, 1]}
    validator.validate(good)
    validator.validate({**good, "version": 2, "batch": batch})
    for bad in (
        {**good, "version": 2},
        {**good, "version": 3, "batch": batch},
        {**good, "batch": batch},
        {**good, "version": 2, "batch": {"id": "1f0", "idx": []}},
        {**good, "format": "other"},
        {**good, "extra": 1},
        {**good, "value": {"type": "msgpack", "data": "not base64!"}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(bad)


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
