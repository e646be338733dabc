"""What the savers really write: valid against the committed JSON Schemas
(checked with a generic validator, as a consumer in another language would),
reachable through endpoint_url or AWS_ENDPOINT_URL_S3."""

from __future__ import annotations

import jsonschema
import pytest

from tests.support.schemas import (
    committed_validator,
)


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
