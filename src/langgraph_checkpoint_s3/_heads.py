"""Heads: a hint per namespace that lets a latest read skip a long history.

A latest read lists the namespace from a floor (:mod:`._recency` states
which, in what order); a namespace not written for a day, or written more
than 1,000 times in one, needs a better place to start than a recent time.
Every :data:`HEAD_EVERY`-th step's ``put`` also writes the namespace's head,
naming that checkpoint, in the same round (``put`` of LangGraph's steps:
1.01 PUTs per checkpoint, exactly).
A reader lists from the head's id on, which holds about :data:`HEAD_EVERY`
checkpoints, and keeps the answer only when the listing proves it (an id at or
above where it started), so a head that is missing, stale, corrupt, names a
deleted or a future checkpoint, or lost a race costs requests, never an answer.
Pure: :mod:`.plans` performs the requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ._keys import CheckpointRef
from .envelopes import HEAD_FORMAT, HeadEnvelope

__all__ = ["HEAD_EVERY", "decode_head", "due", "encode_head"]

HEAD_EVERY = 100
"""A head is written with every step ``n`` where ``n % 100 == 99``: a thread
of fewer steps never pays for one."""


def due(metadata: Mapping[str, Any]) -> bool:
    """Whether the checkpoint with this metadata is written with a head."""
    step = metadata.get("step")
    return (
        isinstance(step, int)
        and not isinstance(step, bool)
        and step >= 0
        and step % HEAD_EVERY == HEAD_EVERY - 1
    )


def encode_head(ref: CheckpointRef, previous: str | None = None) -> bytes:
    """The head naming ``ref`` (and the checkpoint the head named before)."""
    envelope = HeadEnvelope(
        format=HEAD_FORMAT,
        version=1,
        thread_id=ref.thread_id,
        checkpoint_ns=ref.checkpoint_ns,
        checkpoint_id=ref.checkpoint_id,
        previous_checkpoint_id=previous,
    )
    return envelope.model_dump_json(exclude_none=True).encode("utf-8")


def decode_head(
    body: bytes | None, thread_id: str, checkpoint_ns: str
) -> HeadEnvelope | None:
    """The head in ``body``, or None for no head, or one that is not a valid
    head of this namespace (a hint: nothing to raise)."""
    if body is None:
        return None
    try:
        head = HeadEnvelope.model_validate_json(body)
    except ValidationError:
        return None
    if (head.thread_id, head.checkpoint_ns) != (thread_id, checkpoint_ns):
        return None
    return head
