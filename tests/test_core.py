"""The pure core's plans, without a server."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from langgraph_checkpoint_s3.core import (
    ListQuery,
    writes_by_checkpoint,
    writes_listings,
)
from langgraph_checkpoint_s3.keys import CheckpointRef, Layout, WriteRef

layout = Layout("p/")
ids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=8)
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
    listed = [
        key
        for listing in writes_listings(layout, wanted)
        for key in keys
        if key.startswith(listing.prefix)
        and (listing.start_after is None or key.encode() > listing.start_after.encode())
    ]
    found = writes_by_checkpoint(layout, listed, wanted)
    assert {ref: len(items) for ref, items in found.items()} == {
        ref: 2 for ref in wanted
    }
