"""The pure rules of the core (selection, DeltaWalk, ids), without a server."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from langgraph_checkpoint_s3._codec import decode_checkpoint, encode_checkpoint
from langgraph_checkpoint_s3._delta import DeltaWalk
from langgraph_checkpoint_s3._keys import CheckpointRef, Layout, WriteRef
from langgraph_checkpoint_s3._selection import (
    writes_by_checkpoint,
    writes_listings,
)
from langgraph_checkpoint_s3.plans import list_keys
from tests.support.memory_bucket import MemoryBucket, SeaweedFSBucket

layout = Layout("p/")
# A small alphabet makes ids that prefix each other and escape, where key
# order and id order part ways.
ids = st.text("ab-./%_é", min_size=1, max_size=4) | st.text(
    st.characters(codec="utf-8"), min_size=1, max_size=8
)
refs = st.lists(
    st.builds(
        CheckpointRef, st.sampled_from(["t", "t-b"]), st.sampled_from(["", "a:1"]), ids
    ),
    unique=True,
    max_size=300,
)


@given(refs, st.data(), st.sampled_from([MemoryBucket, SeaweedFSBucket]))
def test_writes_listings_find_every_write_of_the_wanted_checkpoints(
    stored: list[CheckpointRef], data: st.DataObject, kind: type[MemoryBucket]
) -> None:
    """Whatever the ids, the planned LISTs (prefix and StartAfter) return every
    write key of the wanted checkpoints, on S3 and on SeaweedFS, whose
    StartAfter skips whole folders."""
    wanted = data.draw(st.lists(st.sampled_from(stored), unique=True)) if stored else []
    bucket = kind()
    for ref in stored:
        for task, idx in (("task", 0), ("task_x", -1)):
            bucket.put_raw(layout.write_key(WriteRef(ref, task, idx)), b"{}")
    listed = [
        key
        for listing in writes_listings(layout, wanted)
        for key in bucket.run(list_keys(listing.prefix, listing.start_after))
    ]
    found = writes_by_checkpoint(layout, listed, wanted)
    assert {ref: len(items) for ref, items in found.items()} == {
        ref: 2 for ref in wanted
    }


def test_delta_walk_ends_at_an_ancestor_deleted_since_listing() -> None:
    serde = JsonPlusSerializer()
    stored = []
    for i, parent in ((1, None), (2, "1"), (3, "2")):
        configurable = {"thread_id": "t", "checkpoint_ns": ""}
        if parent:
            configurable["checkpoint_id"] = parent
        checkpoint = empty_checkpoint()
        checkpoint["id"] = str(i)
        config: Any = {"configurable": configurable}
        ref, body = encode_checkpoint(serde, config, checkpoint, {})
        stored.append(decode_checkpoint(serde, "k", body, ref))
    walk = DeltaWalk([s.ref for s in stored], ["x"])
    walk.set_target(stored[2])
    batch = walk.next_batch()
    assert [r.checkpoint_id for r in batch] == ["2", "1"]
    walk.add(batch, [stored[0]], [])  # "2" came back 404
    assert walk.next_batch() == []
    assert walk.chain() == ([], None)


def test_unstorable_ids_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="cannot store"):
        encode_checkpoint(
            JsonPlusSerializer(),
            {"configurable": {"thread_id": "\ud800", "checkpoint_ns": ""}},
            empty_checkpoint(),
            {},
        )


@pytest.mark.parametrize("kind", [MemoryBucket, SeaweedFSBucket])
def test_writes_listing_of_ids_that_prefix_each_other(
    kind: type[MemoryBucket],
) -> None:
    """ "a" and "a-b": S3's smallest folder is "a-b/", SeaweedFS's "a/"; the
    one LIST finds both."""
    wanted = [CheckpointRef("t", "", "a"), CheckpointRef("t", "", "a-b")]
    keys = [layout.write_key(WriteRef(ref, "task", 0)) for ref in wanted]
    bucket = kind()
    for key in keys:
        bucket.put_raw(key, b"{}")
    (listing,) = writes_listings(layout, wanted)
    listed = bucket.run(list_keys(listing.prefix, listing.start_after))
    assert sorted(listed) == sorted(keys)
