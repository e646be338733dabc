"""Text-heavy checkpoints, stored compressed or plain, and the checks that a saver
reads them back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.checkpoint.base import Checkpoint, CheckpointTuple, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6

from langgraph_checkpoint_s3.protocol import (
    RequestOptions,
)

from .histories import cfg

PLAIN = RequestOptions(compress_min_bytes=None)


TEXT = (
    "A long answer, as a chat model gives it: a few sentences on the question, "
    "some figures (42, 3.14), a list of steps and a closing remark. "
)


LONG = TEXT * 8
"""A write value whose object is compressed."""


def document(size: int) -> bytes:
    """A JSON document of exactly ``size`` bytes that compresses well."""
    head = b'{"text": "'
    filler = (TEXT.encode() * (size // len(TEXT) + 1))[: size - len(head) - 2]
    made = head + filler + b'"}'
    assert len(made) == size
    return made


def checkpoint(checkpoint_id: str, turns: int = 20) -> Checkpoint:
    """A text-heavy checkpoint: its JSON envelope is a few KB."""
    made = empty_checkpoint()
    made["id"] = checkpoint_id
    made["channel_values"] = {
        "messages": [f"{i}: {TEXT}" for i in range(turns)],
        "turn": turns,
    }
    made["channel_versions"] = {"messages": 1, "turn": 1}
    return made


def write_thread(saver: Any, thread: str) -> list[str]:
    """Two checkpoints, each with a long write (compressed) and a short one
    (stored as it is); returns the checkpoint ids, oldest first."""
    ids = [str(uuid6(clock_seq=i)) for i in range(2)]
    config = cfg(thread=thread)
    for i, checkpoint_id in enumerate(ids):
        config = saver.put(config, checkpoint(checkpoint_id, 10 + i), {"step": i}, {})
        saver.put_writes(config, [("messages", LONG), ("turn", i)], f"task-{i}")
    return ids


def assert_thread(found: CheckpointTuple | None, checkpoint_id: str, i: int) -> None:
    assert found is not None
    assert found.config["configurable"]["checkpoint_id"] == checkpoint_id
    assert (
        found.checkpoint["channel_values"]
        == checkpoint(checkpoint_id, 10 + i)["channel_values"]
    )
    assert found.pending_writes == [
        (f"task-{i}", "messages", LONG),
        (f"task-{i}", "turn", i),
    ]


def assert_reads(saver: Any, thread: str, ids: Sequence[str]) -> None:
    for i, checkpoint_id in enumerate(ids):
        assert_thread(
            saver.get_tuple(cfg(checkpoint_id, thread=thread)), checkpoint_id, i
        )
    listed = list(saver.list(cfg(thread=thread)))
    assert [t.config["configurable"]["checkpoint_id"] for t in listed] == ids[::-1]


async def assert_async_reads(saver: Any, thread: str, ids: Sequence[str]) -> None:
    for i, checkpoint_id in enumerate(ids):
        found = await saver.aget_tuple(cfg(checkpoint_id, thread=thread))
        assert_thread(found, checkpoint_id, i)
    listed = [t async for t in saver.alist(cfg(thread=thread))]
    assert [t.config["configurable"]["checkpoint_id"] for t in listed] == ids[::-1]
