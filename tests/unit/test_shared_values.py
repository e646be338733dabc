"""Large values stored once per thread (``_shared``), on the memory bucket:
bytes and requests of a graph whose state holds a document that never
changes, and every operation that must keep, copy or drop shared values."""

from __future__ import annotations

import datetime
import gzip
import json
import os
import time
import uuid
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer

from langgraph_checkpoint_s3._keys import CheckpointRef
from langgraph_checkpoint_s3._shared import digest_of
from langgraph_checkpoint_s3.errors import (
    CheckpointConflictError,
    CorruptObjectError,
    S3AccessError,
)
from langgraph_checkpoint_s3.protocol import Put
from tests.support.cli import S3, invoke
from tests.support.graphs import doc_graph
from tests.support.histories import PREFIX, cfg
from tests.support.memory_bucket import MemoryBucket, MemorySaver

HOUR = 3600 * 10**9


def run(saver: Any, doc: Any, steps: int, thread: str = "t") -> dict[str, Any]:
    config = {
        "configurable": {"thread_id": thread},
        "recursion_limit": steps + 5,
        "run_id": uuid.uuid4(),
    }
    doc_graph(saver, steps).invoke({"doc": doc, "note": "", "counter": 0}, config)
    return config


def stored_bytes(bucket: MemoryBucket) -> int:
    return sum(len(obj.body) for obj in bucket.objects.values())


def serializer_bytes(memory: InMemorySaver) -> int:
    blobs = sum(len(b) for _, b in memory.blobs.values())
    checkpoints = sum(
        len(c[1]) + len(m[1])
        for namespaces in memory.storage.values()
        for stored in namespaces.values()
        for c, m, _ in stored.values()
    )
    writes = sum(len(w[2][1]) for ws in memory.writes.values() for w in ws.values())
    return blobs + checkpoints + writes


@pytest.mark.parametrize("kind", ["text", "binary"])
def test_an_unchanged_document_is_stored_once(kind: str) -> None:
    doc = (
        " ".join(f"word{i % 997}" for i in range(30_000))
        if kind == "text"
        else os.urandom(100_000)
    )
    shared, inline, memory = (
        MemorySaver(),
        MemorySaver(shared_value_bytes=None),
        InMemorySaver(),
    )
    with shared.bucket.measure() as cost:
        run(shared, doc, 50)
    run(inline, doc, 50)
    run(memory, doc, 50)
    checkpoints = len(list(shared.list(cfg(thread="t"))))
    writes = sum(1 for k in shared.bucket.objects if "/writes/" in k)
    heads = sum(1 for k in shared.bucket.objects if "/heads/" in k)
    values = [k for k in shared.bucket.objects if "/values/" in k]
    # One value object (the document, at the first checkpoint that would
    # have stored it again), one PUT more than the floor, one round more
    # once: every other put is one round.
    assert len(values) == 1
    # (and the one PUT a saver sends again, once, to see that the store
    # honours conditional writes)
    assert cost.put == checkpoints + writes + heads + 1 + 1
    # Text: at most what InMemorySaver's serializer produces. Binary: the
    # document three times (the input, its write, the value object), as
    # there; what is over is each step's envelopes (docs/benchmarks.md).
    limit = 1.0 if kind == "text" else 1.2
    assert stored_bytes(shared.bucket) <= limit * serializer_bytes(memory)
    assert stored_bytes(shared.bucket) * 3 < stored_bytes(inline.bucket)
    state = doc_graph(shared, 50).get_state({"configurable": {"thread_id": "t"}})
    assert state.values["doc"] == doc and state.values["counter"] == 50


def test_reads_of_shared_values_stay_short() -> None:
    writer = MemorySaver(prefix=PREFIX)
    run(writer, os.urandom(50_000), 5)
    # The writer holds the value it wrote: no GET for it.
    with writer.bucket.measure() as cost:
        writer.get_tuple(cfg(thread="t"))
    held = cost
    fresh = MemorySaver(writer.bucket, prefix=PREFIX)
    with fresh.bucket.measure() as cost:
        got = fresh.get_tuple(cfg(thread="t"))
    assert got is not None
    w = len(got.pending_writes or [])
    assert cost.rounds <= 3 and cost.requests <= 3 + w + 1
    assert cost.get == held.get + 1
    # list(limit=k) reads a value its checkpoints share once.
    other = MemorySaver(writer.bucket, prefix=PREFIX)
    with other.bucket.measure() as cost:
        listed = list(other.list(cfg(thread="t"), limit=4))
    assert len(listed) == 4
    value_gets = [r for r in cost.log if "/values/" in getattr(r[0], "key", "")]
    assert len(value_gets) == 1


def test_lifecycle_keeps_every_value_a_kept_checkpoint_uses() -> None:
    saver = MemorySaver(prefix=PREFIX)
    saver._clock = lambda: time.time_ns() + HOUR  # every value past its grace
    doc = os.urandom(40_000)
    run(saver, doc, 6)
    run(saver, doc, 3, thread="copy-me")
    saver.copy_thread("copy-me", "copied")
    saver.delete_thread("copy-me")
    assert not [k for k in saver.bucket.objects if "/values/copy-me/" in k]
    copied = saver.get_tuple(cfg(thread="copied"))
    assert copied is not None and copied.checkpoint["channel_values"]["doc"] == doc
    # keep_latest: the newest refers to the document, which stays.
    saver.prune(["t"])
    fresh = MemorySaver(saver.bucket, prefix=PREFIX)
    kept = list(fresh.list(cfg(thread="t")))
    assert len(kept) == 1 and kept[0].checkpoint["channel_values"]["doc"] == doc
    # delete_for_runs: a value goes with the last checkpoint that uses it.
    doc, other = os.urandom(40_000), os.urandom(40_000)
    config = cfg(thread="runs")
    for run_id, values in [
        ("r1", {"doc": doc}),
        ("r1", {"doc": doc}),
        ("r2", {"doc": other}),
        ("r2", {"doc": other}),
    ]:
        config = saver.put(config, _with(values), {"run_id": run_id}, {})
    assert len([k for k in saver.bucket.objects if "/values/runs/" in k]) == 2
    saver.delete_for_runs(["r1"])
    left = [k for k in saver.bucket.objects if "/values/runs/" in k]
    assert len(left) == 1
    got = MemorySaver(saver.bucket, prefix=PREFIX).get_tuple(config)
    assert got is not None and got.checkpoint["channel_values"] == {"doc": other}


def test_young_unused_values_are_kept_for_their_grace() -> None:
    saver = MemorySaver(prefix=PREFIX)
    run(saver, os.urandom(40_000), 3)
    saver.prune_keep_last(["t"], 1)
    # The kept checkpoint uses it anyway; and a value just written may be
    # about to be used by a checkpoint not yet stored.
    assert [k for k in saver.bucket.objects if "/values/t/" in k]


def test_a_missing_shared_value_names_its_key() -> None:
    saver = MemorySaver(prefix=PREFIX)
    run(saver, os.urandom(40_000), 3)
    (value_key,) = [k for k in saver.bucket.objects if "/values/" in k]
    del saver.bucket.objects[value_key]
    fresh = MemorySaver(saver.bucket, prefix=PREFIX)
    with pytest.raises(CorruptObjectError, match="not stored") as info:
        fresh.get_tuple(cfg(thread="t"))
    assert info.value.key == value_key


def test_validate_checks_values_and_references(saver: MemorySaver, client: Any) -> None:
    run(saver, os.urandom(40_000), 3)
    result = invoke(["validate", *S3])
    assert result.exit_code == 0, result.stderr
    (value_key,) = [k for k in saver.bucket.objects if "/values/" in k]
    document = json.loads(gzip.decompress(saver.bucket.objects[value_key].body))
    document["value"]["type"] = "json"
    saver.bucket.put_raw(value_key, json.dumps(document).encode())
    result = invoke(["validate", *S3])
    assert result.exit_code == 4
    reasons = {f["key"]: f["reason"] for f in json.loads(result.stdout)["failures"]}
    assert "SHA-256" in reasons[value_key]
    del saver.bucket.objects[value_key]
    result = invoke(["validate", *S3])
    assert result.exit_code == 4
    failures = json.loads(result.stdout)["failures"]
    assert failures and all(value_key in f["reason"] for f in failures)


def test_a_retried_put_finds_its_own_checkpoint() -> None:
    first = MemorySaver(prefix=PREFIX, shared_value_bytes=0)
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"doc": "the document"}
    config = first.put(cfg(thread="t"), checkpoint, {}, {"doc": "1"})
    key = first.layout.checkpoint_key(CheckpointRef("t", "", checkpoint["id"]))
    stored = first.bucket.objects[key].body
    assert b"sha256" not in stored  # new at this checkpoint: inline
    # A retry by a saver that knows the value is stored refers to it: the
    # same checkpoint all the same, so no conflict and nothing rewritten.
    retry = MemorySaver(first.bucket, prefix=PREFIX, shared_value_bytes=0)
    digest = digest_of(first.serde.dumps_typed("the document"))
    retry._shared.stored("t", digest, None)
    assert retry.put(cfg(thread="t"), checkpoint, {}, {"doc": "1"}) == config
    assert first.bucket.objects[key].body == stored
    other = dict(checkpoint, channel_values={"doc": "another document"})
    with pytest.raises(CheckpointConflictError):
        retry.put(cfg(thread="t"), other, {}, {"doc": "1"})  # type: ignore[arg-type]


def test_no_checkpoint_is_stored_when_its_value_is_not() -> None:
    saver = MemorySaver(prefix=PREFIX, shared_value_bytes=0)
    first = saver.put(cfg(thread="t"), _with({"doc": "kept"}), {}, {"doc": "1"})
    original = saver.bucket.perform

    def refuse_values(request: Any, options: Any = None) -> Any:
        if isinstance(request, Put) and "/values/" in request.key:
            raise S3AccessError("refused", operation="PutObject", code="SlowDown")
        return original(request, options)

    saver.bucket.perform = refuse_values  # type: ignore[method-assign]
    before = dict(saver.bucket.objects)
    # "kept" is unchanged at the child: it must go to a value object first.
    with pytest.raises(S3AccessError):
        saver.put(first, _with({"doc": "kept"}), {}, {})
    assert saver.bucket.objects == before
    saver.bucket.perform = original  # type: ignore[method-assign]
    child = saver.put(first, _with({"doc": "kept"}), {}, {})
    got = saver.get_tuple(child)
    assert got is not None and got.checkpoint["channel_values"] == {"doc": "kept"}


def _with(values: dict[str, Any]) -> Any:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = values
    return checkpoint


def test_stats_counts_a_threads_shared_values(saver: MemorySaver, client: Any) -> None:
    run(saver, os.urandom(40_000), 3)
    document = json.loads(invoke(["stats", *S3]).stdout)
    (thread,) = document["threads"]
    values = [k for k in saver.bucket.objects if "/values/" in k]
    assert thread["shared_values"] == document["total"]["shared_values"] == 1
    assert thread["objects"] == len(saver.bucket.objects)
    assert len(values) == 1
    table = invoke(["stats", *S3, "--format", "table"]).stdout
    assert any("(shared values)" in line for line in table.splitlines())


def test_a_serializer_whose_bytes_differ_each_call_still_stores_once() -> None:
    """EncryptedSerializer draws a new nonce per call: the same value never
    hashes alike twice. An unchanged channel version is referred to as it
    was, not serialized (and stored) again."""
    serde = EncryptedSerializer.from_pycryptodome_aes(key=b"k" * 16)
    saver = MemorySaver(prefix=PREFIX, serde=serde)
    doc = os.urandom(40_000)
    run(saver, doc, 20)
    assert len([k for k in saver.bucket.objects if "/values/" in k]) == 1
    # Resumed by another process: it learns the stored version as it reads.
    resumed = MemorySaver(saver.bucket, prefix=PREFIX, serde=serde)
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 50}
    graph = doc_graph(resumed, 30)
    assert graph.get_state(config).values["counter"] == 20
    graph.invoke({"note": "", "counter": 20}, config)  # 10 more steps
    assert len([k for k in saver.bucket.objects if "/values/" in k]) == 1
    state = graph.get_state(config).values
    assert (state["doc"], state["counter"]) == (doc, 30)


def test_expire_deletes_an_idle_thread_with_its_values() -> None:
    saver = MemorySaver(prefix=PREFIX)
    run(saver, os.urandom(40_000), 3, thread="idle")
    assert [k for k in saver.bucket.objects if "/values/idle/" in k]
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    expiry = saver.expire_idle(datetime.timedelta(days=1), now=later)
    assert [t.thread_id for t in expiry.expired] == ["idle"]
    assert saver.bucket.objects == {}
