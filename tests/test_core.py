"""The pure core's plans, without a server."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from langgraph_checkpoint_s3.codec import decode_checkpoint, encode_checkpoint
from langgraph_checkpoint_s3.delta import DeltaWalk
from langgraph_checkpoint_s3.keys import CheckpointRef, Layout, WriteRef
from langgraph_checkpoint_s3.selection import (
    ListQuery,
    writes_by_checkpoint,
    writes_listings,
)

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


@given(refs, st.none() | st.integers(1, 50), st.booleans())
def test_batches_cover_each_candidate_once(
    candidates: list[CheckpointRef], limit: int | None, filtered: bool
) -> None:
    query = ListQuery(None, None, None, None, {"step": 1} if filtered else {}, limit)
    batches = list(query.batches(candidates))
    flat = [ref for batch in batches for ref in batch]
    assert flat == (candidates if filtered else candidates[:limit])
    assert all(batches)


@given(refs, st.data())
def test_writes_listings_find_every_write_of_the_wanted_checkpoints(
    stored: list[CheckpointRef], data: st.DataObject
) -> None:
    """Whatever the ids, the planned LISTs (prefix and StartAfter, compared as S3
    compares keys) return every write key of the wanted checkpoints."""
    wanted = data.draw(st.lists(st.sampled_from(stored), unique=True)) if stored else []
    keys = sorted(
        layout.write_key(WriteRef(ref, task, idx))
        for ref in stored
        for task, idx in (("task", 0), ("task_x", -1))
    )
    for server_lists in (s3_lists, seaweedfs_lists):
        listed = [
            key
            for listing in writes_listings(layout, wanted)
            for key in keys
            if key.startswith(listing.prefix)
            and server_lists(key, listing.prefix, listing.start_after)
        ]
        found = writes_by_checkpoint(layout, listed, wanted)
        assert {ref: len(items) for ref, items in found.items()} == {
            ref: 2 for ref in wanted
        }


def s3_lists(key: str, prefix: str, start_after: str | None) -> bool:
    """S3 returns the keys after StartAfter in UTF-8 byte order."""
    return start_after is None or key.encode() > start_after.encode()


def seaweedfs_lists(key: str, prefix: str, start_after: str | None) -> bool:
    """SeaweedFS walks folders, skipping each name up to StartAfter's (a name
    equal to it included), whatever lies below it."""
    if start_after is None:
        return True
    folder = key[len(prefix) :].split("/", 1)[0]
    return folder.encode() > start_after[len(prefix) :].encode()


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


def test_writes_listing_of_ids_that_prefix_each_other() -> None:
    """ "a" and "a-b": the smallest folder is "a-b/", yet "a/" must be listed."""
    wanted = [CheckpointRef("t", "", "a"), CheckpointRef("t", "", "a-b")]
    keys = sorted(layout.write_key(WriteRef(ref, "task", 0)) for ref in wanted)
    for server_lists in (s3_lists, seaweedfs_lists):
        (listing,) = writes_listings(layout, wanted)
        listed = [
            key
            for key in keys
            if key.startswith(listing.prefix)
            and server_lists(key, listing.prefix, listing.start_after)
        ]
        assert listed == keys
