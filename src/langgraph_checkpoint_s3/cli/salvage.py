"""Reading a thread when some of its objects cannot be read: every
checkpoint that reads, and why each other one does not. Pure: plans, run
by the commands.

The saver's ``list`` plan reads a window of checkpoints in a round or two
and fails whole at the first object that does not decode, so ``read``,
``history`` and ``list --long`` would show nothing of it. Only then (it
costs a second read of the window) is each checkpoint read again on its
own, with the saver's ``get_tuple`` plan, side by side in chunks; a chunk
whose round fails whole (a body that does not even decompress) is read
again one checkpoint at a time, so only the bad ones are lost.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._configs import config_of
from .._keys import CheckpointRef, Layout
from ..errors import CorruptObjectError
from ..plans import (
    ListCursor,
    PlanContext,
    concurrently,
    fetch_objects,
    get_tuple,
    list_window,
)

if TYPE_CHECKING:
    from langgraph.checkpoint.base import CheckpointTuple

    from ..protocol import Plan

__all__ = [
    "CHUNK",
    "Unreadable",
    "each_checkpoint",
    "each_object",
    "next_window",
    "unreadable_error",
    "why_unreadable",
]

CHUNK = 256
"""Checkpoints read side by side: their bodies and writes are kept, so a
chunk bounds the round, not the memory."""


@dataclass(frozen=True)
class Unreadable:
    """A listed checkpoint that could not be read, and why."""

    ref: CheckpointRef
    reason: str
    message: str
    """The error as the saver raised it, naming the bad object's key."""

    @property
    def key(self) -> tuple[str, str]:
        """Its namespace and id, as a checkpoint read is known by."""
        return (self.ref.checkpoint_ns, self.ref.checkpoint_id)

    def entry(self) -> tuple[str, str, str]:
        """Its namespace, id and reason."""
        return (*self.key, self.reason)


def why_unreadable(layout: Layout, ref: CheckpointRef, exc: Exception) -> str:
    """The error's message without the checkpoint's own key, which the
    entry names; a write's key stays, it says which object is bad."""
    return str(exc).removeprefix(f"{layout.checkpoint_key(ref)}: ")


def _one(
    context: PlanContext, ref: CheckpointRef
) -> Plan[CheckpointTuple | Unreadable | None]:
    try:
        found: CheckpointTuple | None = yield from get_tuple(context, config_of(ref))
    except CorruptObjectError as exc:
        return Unreadable(ref, why_unreadable(context.layout, ref, exc), str(exc))
    return found


def each_checkpoint(
    context: PlanContext, refs: Sequence[CheckpointRef]
) -> Plan[list[CheckpointTuple | Unreadable]]:
    """Each checkpoint of ``refs`` with its writes, or why it cannot be
    read, in the order of ``refs``; one deleted since it was listed is left
    out."""
    found: list[CheckpointTuple | Unreadable | None] = []
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start : start + CHUNK]
        try:
            found += yield from concurrently(*(_one(context, ref) for ref in chunk))
        except CorruptObjectError:
            for ref in chunk:
                found.append((yield from _one(context, ref)))
    return [item for item in found if item is not None]


def next_window(
    context: PlanContext, cursor: ListCursor
) -> Plan[list[CheckpointTuple | Unreadable]]:
    """The next window of a ``list`` walk, or, when one of its objects
    cannot be read, each of its checkpoints on its own."""
    try:
        found: list[CheckpointTuple] = yield from list_window(context, cursor)
        return [*found]
    except CorruptObjectError:
        pass
    return (yield from each_checkpoint(context, cursor.skip()))


def each_object(keys: Sequence[str]) -> Plan[list[bytes | CorruptObjectError | None]]:
    """The bodies of ``keys`` in one round, as ``fetch_objects``; when the
    round fails on a body that does not decompress, one key at a time, that
    key's error in its place."""
    try:
        bodies: list[bytes | None] = yield from fetch_objects(keys)
        return [*bodies]
    except CorruptObjectError:
        pass
    found: list[bytes | CorruptObjectError | None] = []
    for key in keys:
        try:
            found += yield from fetch_objects([key])
        except CorruptObjectError as exc:
            found.append(exc)
    return found


def unreadable_error(first: str, bad: int, total: int, uri: str, thread_id: str) -> str:
    """The error a command ends with once it has shown what it could: the
    first bad object's error, how many checkpoints it could not read, and
    the command that checks every object of the thread."""
    validate = shlex.join(
        ["s3-checkpoint", "validate", "--s3-prefix", uri, "--thread-id", thread_id]
    )
    return (
        f"{first}; {bad} of {total} checkpoints could not be read (marked in the "
        f"output): run {validate} to check every object"
    )
