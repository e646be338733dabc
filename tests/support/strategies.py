"""Hypothesis strategies for LangGraph values, checkpoints and metadata."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.base import Checkpoint
from pydantic import BaseModel


class Point(BaseModel):
    """A user's pydantic model stored in graph state."""

    x: int
    label: str


ids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)
names = st.text(st.characters(codec="utf-8"), max_size=8)
scalars = (
    st.none()
    | st.booleans()
    # msgpack, under LangGraph's serializer, holds 64-bit integers only.
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.datetimes(timezones=st.just(timezone.utc))
)
objects = (
    st.builds(HumanMessage, content=st.text(max_size=20), id=st.none() | ids)
    | st.builds(AIMessage, content=st.text(max_size=20))
    | st.builds(Point, x=st.integers(-(2**63), 2**63), label=st.text(max_size=10))
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars | objects,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
versions = st.one_of(st.integers(0, 10**6), st.text(max_size=40), st.floats(0, 1e6))
plain_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
metadata = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["input", "loop", "update", "fork"]),
        "step": st.integers(-1, 10_000),
        "parents": st.dictionaries(names, ids, max_size=2),
    },
    optional={
        "run_id": ids,
        "user": plain_json,
        "when": st.datetimes(timezones=st.just(timezone.utc)),
        "blob": st.binary(max_size=8),
    },
)


@st.composite
def checkpoints(draw: st.DrawFn, checkpoint_id: str | None = None) -> Checkpoint:
    channels = draw(st.dictionaries(names, values, max_size=4))
    return Checkpoint(
        v=4,
        id=checkpoint_id or draw(ids),
        ts=datetime.now(timezone.utc).isoformat(),
        channel_values=channels,
        channel_versions={k: draw(versions) for k in channels},
        versions_seen=draw(
            st.dictionaries(
                names, st.dictionaries(names, versions, max_size=2), max_size=3
            )
        ),
        updated_channels=draw(st.none() | st.lists(names, max_size=3)),
    )
