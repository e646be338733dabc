"""``s3-checkpoint validate`` on heads (see :mod:`langgraph_checkpoint_s3._heads`):
a head is an expected object, checked against ``head.v1.json`` and against
the namespace its key names; a bad one fails alone, as any other object does.

Runs on the in-memory bucket, through click's CliRunner.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from langgraph_checkpoint_s3._heads import encode_head
from langgraph_checkpoint_s3._keys import CheckpointRef, Layout
from langgraph_checkpoint_s3.cli.validation import UNEXPECTED_KEY
from tests.support.cli import S3, invoke, invoke_json
from tests.support.histories import PREFIX, history
from tests.support.memory_bucket import MemoryBucket, MemorySaver
from tests.support.memory_client import use_memory_bucket

LAYOUT = Layout(PREFIX)
STEPS = 151  # steps 0..150: the head of step 99, and 51 checkpoints after it


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch) -> MemoryBucket:
    """The bucket every command of the test opens."""
    bucket = MemoryBucket("bucket")
    use_memory_bucket(monkeypatch, bucket)
    return bucket


@pytest.fixture
def saver(bucket: MemoryBucket) -> MemorySaver:
    return MemorySaver(bucket, prefix=PREFIX)


def keys_of(bucket: MemoryBucket, thread_id: str) -> list[str]:
    return sorted(k for k in bucket.objects if LAYOUT.parse_thread(k) == thread_id)


def failures(summary: Any) -> dict[str, str]:
    return {failure["key"]: failure["reason"] for failure in summary["failures"]}


def test_threads_with_heads_validate_clean(
    saver: MemorySaver, bucket: MemoryBucket
) -> None:
    history(saver, STEPS, writes=1)
    history(saver, 100, writes=0, ns="child:1|x")  # a head of step 99, escaped
    history(saver, 3, thread="u")  # too short for a head
    heads = sorted(k for k in bucket.objects if LAYOUT.parse_head_key(k))
    assert heads == [LAYOUT.head_key("t", ""), LAYOUT.head_key("t", "child:1|x")]

    assert invoke_json("validate", *S3) == {
        "checked": len(bucket.objects),
        "failed": 0,
        "failures": [],
        "warnings": [],
    }
    one = invoke_json("validate", *S3, "--thread-id", "t")
    assert one == {
        "checked": len(keys_of(bucket, "t")),
        "failed": 0,
        "failures": [],
        "warnings": [],
    }


def test_each_bad_head_fails_alone_and_validation_goes_on(
    saver: MemorySaver, bucket: MemoryBucket
) -> None:
    first = history(saver, STEPS, writes=1)[0]
    good = bucket.objects[LAYOUT.head_key("t", "")].body
    no_id = json.loads(encode_head(CheckpointRef("v", "", first)))
    del no_id["checkpoint_id"]
    bad = {
        LAYOUT.head_key("u", ""): b"not json {",
        LAYOUT.head_key("v", ""): json.dumps(no_id).encode(),
        LAYOUT.head_key("w", ""): good,  # says thread t
        LAYOUT.head_key("t", "inner"): good,  # says namespace ''
        f"{PREFIX}heads/stray.json": b"{}",  # no namespace: not a head key
        # After every head in key order: checked once the heads have failed.
        f"{PREFIX}writes/t/__default__/corrupt/task_0.json": b"not json {",
    }
    for key, body in bad.items():
        bucket.put_raw(key, body)

    result = invoke(["validate", *S3])

    assert result.exit_code == 4
    summary = json.loads(result.stdout)
    keys = list(bad)
    # Only these: t's own head and everything else it wrote passed.
    assert failures(summary) == {
        keys[0]: "not a JSON document",
        keys[1]: "does not match head.v1.json: $: "
        "'checkpoint_id' is a required property",
        keys[2]: "misplaced: envelope says thread_id='t' but the key says 'w'",
        keys[3]: "misplaced: envelope says checkpoint_ns='' but the key says 'inner'",
        keys[4]: UNEXPECTED_KEY,
        keys[5]: "not a JSON document",
    }
    total = len(bucket.objects)
    assert summary["checked"] == total
    assert result.stderr == f"Error: {len(bad)} of {total} objects failed validation\n"


def test_validate_one_thread_checks_its_head(
    saver: MemorySaver, bucket: MemoryBucket
) -> None:
    ids = history(saver, STEPS, writes=1)
    history(saver, 2, thread="u")
    head = LAYOUT.head_key("t", "")
    bucket.put_raw(head, encode_head(CheckpointRef("u", "", ids[99])))

    result = invoke(["validate", *S3, "--thread-id", "t"])

    assert result.exit_code == 4
    summary = json.loads(result.stdout)
    assert summary["checked"] == len(keys_of(bucket, "t"))
    assert failures(summary) == {
        head: "misplaced: envelope says thread_id='u' but the key says 't'"
    }
    # Another thread's validation does not read t's head, whatever it says.
    assert invoke_json("validate", *S3, "--thread-id", "u")["failed"] == 0


def test_deleting_a_thread_takes_its_head_and_calls_it_no_stray(
    saver: MemorySaver, bucket: MemoryBucket
) -> None:
    history(saver, STEPS, writes=0)
    assert LAYOUT.head_key("t", "") in bucket.objects
    done = invoke_json("delete", *S3, "--thread-id", "t", "--yes")
    assert done["deleted_other"] == []
    assert len(done["deleted"]) == STEPS
    assert keys_of(bucket, "t") == []


def test_a_prefix_one_level_too_high_is_named_when_threads_have_heads(
    bucket: MemoryBucket,
) -> None:
    saver = MemorySaver(bucket)  # the default prefix, checkpoints/
    history(saver, 120, writes=0)  # long enough for a head
    result = invoke(["threads", "--s3-prefix", "s3://bucket/"])
    assert json.loads(result.stdout) == {"threads": []}
    assert "a saver's data is under s3://bucket/checkpoints/" in result.stderr
    refused = invoke(["delete", "--s3-prefix", "s3://bucket/", "--thread-id", "heads"])
    assert refused.exit_code == 4
    assert LAYOUT.head_key("t", "").replace(PREFIX, "checkpoints/") in bucket.objects
