"""Envelopes: exact round-trips through the serde, committed schemas, and
objects the savers really wrote validated with a generic JSON Schema validator."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from langgraph.checkpoint.base import (
    Checkpoint,
    CheckpointMetadata,
    empty_checkpoint,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from langgraph_checkpoint_s3 import CorruptObjectError
from langgraph_checkpoint_s3._codec import (
    decode_checkpoint,
    decode_write,
    encode_checkpoint,
    encode_writes,
    write_object,
)
from langgraph_checkpoint_s3._keys import CheckpointRef, Layout, WriteRef
from langgraph_checkpoint_s3.envelopes import envelope_schemas, render_schema
from tests.support import ROOT
from tests.support.histories import cfg
from tests.support.strategies import checkpoints, ids, metadata, values

SCHEMAS = ROOT / "schemas"
serde = JsonPlusSerializer()
layout = Layout()


@given(ids, ids, st.none() | ids, checkpoints(), metadata)
def test_checkpoint_round_trip_is_exact(
    thread: str, ns: str, parent: str | None, cp: Checkpoint, md: CheckpointMetadata
) -> None:
    config = cfg(parent, thread=thread, ns=ns)
    ref, body = encode_checkpoint(serde, config, cp, md)
    stored = decode_checkpoint(serde, "k", body, ref)
    assert stored.checkpoint == cp
    assert stored.metadata == get_checkpoint_metadata(config, md)
    assert stored.parent_id == parent
    assert ref == CheckpointRef(thread, ns, cp["id"])


@given(
    ids,
    st.lists(st.tuples(st.sampled_from(["a", "b", "__error__"]), values), max_size=4),
    ids,
    st.text(max_size=10),
)
def test_write_round_trip_is_exact(
    thread: str, writes: list[tuple[str, Any]], task_id: str, task_path: str
) -> None:
    objects = encode_writes(
        serde, cfg("c1", thread=thread, ns=""), writes, task_id, task_path, "token"
    )
    decoded = [
        decode_write(serde, "k", write_object(ref, write), ref)
        for ref, write in objects
    ]
    # Every regular write is kept at its position; of several writes to the
    # special channel (one idx, -1) the last is kept, as InMemorySaver does.
    errors = [w for w in writes if w[0] == "__error__"]
    expected = {i: w for i, w in enumerate(writes) if w[0] != "__error__"}
    expected.update({-1: errors[-1]} if errors else {})
    assert {w.idx: (w.channel, w.value) for w in decoded} == expected
    assert len(decoded) == len(expected)
    assert all(w.task_path == task_path and w.task_id == task_id for w in decoded)
    assert all(
        w.batch is not None
        and w.batch.id == "token"
        and w.batch.idx == sorted(expected)
        for w in decoded
    )


def test_structural_fields_are_plain_json() -> None:
    cp = Checkpoint(
        v=4,
        id="c1",
        ts="2026-01-01T00:00:00+00:00",
        channel_values={"x": b"\x00"},
        channel_versions={"x": "00001.5"},
        versions_seen={"node": {"x": 1}},
        updated_channels=["x"],
    )
    md: CheckpointMetadata = {"source": "loop", "step": 3, "parents": {}, "run_id": "r"}
    _, body = encode_checkpoint(serde, cfg(thread="t"), cp, md)
    doc = json.loads(body)
    assert doc["format"] == "langgraph-checkpoint-s3/checkpoint"
    assert doc["version"] == 2
    assert doc["metadata"] == {
        "source": "loop",
        "step": 3,
        "parents": {},
        "run_id": "r",
    }
    assert doc["checkpoint"]["channel_versions"] == {"x": "00001.5"}
    assert doc["checkpoint"]["versions_seen"] == {"node": {"x": 1}}
    assert doc["checkpoint"]["channel_values"]["x"]["type"] == "bytes"


def test_custom_serde_is_used_for_every_value() -> None:
    encrypted = EncryptedSerializer.from_pycryptodome_aes(key=b"0" * 16)
    cp = Checkpoint(
        v=4,
        id="c1",
        ts="t",
        channel_values={"secret": "hunter2"},
        channel_versions={},
        versions_seen={},
        updated_channels=None,
    )
    md: CheckpointMetadata = {
        "step": 1,
        "when": datetime(2026, 1, 1, tzinfo=timezone.utc),
    }  # type: ignore[typeddict-unknown-key]
    ref, body = encode_checkpoint(encrypted, cfg(thread="t"), cp, md)
    assert b"hunter2" not in body
    assert json.loads(body)["checkpoint"]["channel_values"]["secret"]["type"].endswith(
        "+aes"
    )
    stored = decode_checkpoint(encrypted, "k", body, ref)
    assert stored.checkpoint["channel_values"] == {"secret": "hunter2"}
    assert stored.metadata == md


def _stored() -> tuple[CheckpointRef, bytes]:
    cp = Checkpoint(
        v=4,
        id="c1",
        ts="t",
        channel_values={},
        channel_versions={},
        versions_seen={},
        updated_channels=None,
    )
    return encode_checkpoint(serde, cfg(thread="t"), cp, {})


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda doc: b"{not json", "not a JSON document"),
        (
            lambda doc: json.dumps({"hello": 1}).encode(),
            "not a langgraph-checkpoint-s3/checkpoint object",
        ),
        (
            lambda doc: json.dumps({**doc, "version": 99}).encode(),
            "unsupported .* version 99",
        ),
        (
            lambda doc: json.dumps({**doc, "thread_id": "other"}).encode(),
            "envelope says thread_id='other'",
        ),
        (lambda doc: json.dumps({**doc, "metadata": 5}).encode(), "invalid .*metadata"),
    ],
)
def test_bad_objects_raise_naming_their_key(mutate: Any, reason: str) -> None:
    ref, body = _stored()
    with pytest.raises(CorruptObjectError, match=f"^the/key: {reason}") as info:
        decode_checkpoint(serde, "the/key", mutate(json.loads(body)), ref)
    assert info.value.key == "the/key"


def test_write_at_wrong_key_is_refused() -> None:
    objects = encode_writes(
        serde, cfg("c1", thread="t", ns=""), [("a", 1)], "task", "", "tok"
    )
    ref, body = objects[0][0], write_object(*objects[0])
    moved = WriteRef(ref.checkpoint, ref.task_id, 7)
    with pytest.raises(CorruptObjectError, match="idx"):
        decode_write(serde, "k", body, moved)


def test_committed_schemas_match_the_models() -> None:
    for name, schema in envelope_schemas().items():
        committed = SCHEMAS / name
        assert committed.exists(), (
            f"{name} missing: run python scripts/export_schemas.py"
        )
        assert committed.read_text(encoding="utf-8") == render_schema(schema), (
            f"schemas/{name} is stale: run python scripts/export_schemas.py"
        )
        jsonschema.Draft202012Validator.check_schema(schema)


UNDECODABLE = [
    pytest.param(serde, {"type": "msgpack", "data": "wQ=="}, id="msgpack-reserved"),
    pytest.param(serde, {"type": "rot13", "data": "YWJj"}, id="unknown-tag"),
    pytest.param(
        EncryptedSerializer.from_pycryptodome_aes(key=b"1" * 16),
        None,  # a value encrypted under another key
        id="wrong-aes-key",
    ),
]


def _bad_value(reader: Any, bad: dict[str, str] | None) -> dict[str, str]:
    if bad is not None:
        return bad
    other = EncryptedSerializer.from_pycryptodome_aes(key=b"2" * 16)
    kind, data = other.dumps_typed({"secret": 1})
    return {"type": kind, "data": base64.b64encode(data).decode()}


@pytest.mark.parametrize(("reader", "bad"), UNDECODABLE)
@pytest.mark.parametrize(
    ("path", "named"),
    [
        (("checkpoint", "channel_values", "v"), "channel 'v'"),
        (("checkpoint", "extra", "pending_sends"), "checkpoint field 'pending_sends'"),
        (("metadata_typed", "when"), "metadata 'when'"),
    ],
)
def test_undecodable_checkpoint_value_names_key_and_field(
    reader: Any, bad: dict[str, str] | None, path: tuple[str, ...], named: str
) -> None:
    cp: Any = {**empty_checkpoint(), "pending_sends": []}
    cp["channel_values"] = {"v": 1}
    md: Any = {"when": datetime(2026, 1, 1, tzinfo=timezone.utc)}
    ref, body = encode_checkpoint(reader, cfg(thread="t"), cp, md)
    doc = json.loads(body)
    parent = doc
    for name in path[:-1]:
        parent = parent[name]
    parent[path[-1]] = _bad_value(reader, bad)
    with pytest.raises(CorruptObjectError, match=f"the/key: {named}: cannot decode"):
        decode_checkpoint(reader, "the/key", json.dumps(doc).encode(), ref)


@pytest.mark.parametrize(("reader", "bad"), UNDECODABLE)
def test_undecodable_write_value_names_key_and_channel(
    reader: Any, bad: dict[str, str] | None
) -> None:
    [(ref, write)] = encode_writes(
        reader, cfg("c", thread="t"), [("ch", 1)], "tk", "", "tok"
    )
    body = write_object(ref, write)
    doc = {**json.loads(body), "value": _bad_value(reader, bad)}
    with pytest.raises(CorruptObjectError, match="w/key: write to channel 'ch'"):
        decode_write(reader, "w/key", json.dumps(doc).encode(), ref)


@given(st.binary(max_size=300), st.text(max_size=8))
def test_a_value_round_trips_in_whichever_form_is_shorter(
    data: bytes, tag: str
) -> None:
    from langgraph_checkpoint_s3.envelopes import TypedValue

    value = TypedValue.of((tag, data))
    stored = value.model_dump_json()
    back = TypedValue.model_validate_json(stored)
    assert back.typed() == (tag, data)
    other = TypedValue(type=tag, data=base64.b64encode(data).decode())
    assert len(stored) <= len(other.model_dump_json())
    assert ("text" in json.loads(stored)) != ("data" in json.loads(stored))


def test_text_heavy_values_are_stored_as_text() -> None:
    from langgraph_checkpoint_s3.envelopes import TypedValue

    value = TypedValue.of(serde.dumps_typed({"note": "plain words " * 20}))
    assert value.text is not None and "plain words" in value.text
