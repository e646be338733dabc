"""What ``delete`` and ``prune`` report: the keys some threads hold, listed
before and after, and what went between the two.

Loaded by those commands only (it needs the saver's plans).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import plans
from .._keys import CheckpointRef, Layout
from .._selection import checkpoint_refs, owner_of
from ..errors import S3CheckpointError
from .rendering import JSON, emit

if TYPE_CHECKING:
    from ..saver import S3CheckpointSaver

__all__ = ["Holdings", "carry_out", "removal"]


@dataclass(frozen=True)
class Holdings:
    """The keys some threads have under the prefix, as listed: the checkpoints
    and writes a deletion is reported in (before minus after)."""

    layout: Layout
    keys: frozenset[str]

    @classmethod
    def of(cls, saver: S3CheckpointSaver, thread_ids: Sequence[str]) -> Holdings:
        """List the threads' keys exactly as ``delete_thread`` and ``prune``
        do: one LIST per 1,000 keys, no GET; the threads side by side."""
        layout = saver.layout
        listed = saver.run(
            plans.concurrently(
                *(plans.thread_keys(saver.context, t) for t in thread_ids)
            )
        )
        return cls(layout, frozenset(key for keys in listed for key in keys))

    @classmethod
    def nothing(cls, layout: Layout) -> Holdings:
        return cls(layout, frozenset())

    def __sub__(self, other: Holdings) -> Holdings:
        return Holdings(self.layout, self.keys - other.keys)

    def checkpoints(self) -> list[CheckpointRef]:
        """Newest first, as ``list`` shows them."""
        return checkpoint_refs(self.layout, self.keys)

    def writes(self) -> list[str]:
        return sorted(k for k in self.keys if self.layout.parse_write_key(k))

    def others(self) -> list[str]:
        """Keys that are neither a checkpoint, a write, a head nor a shared
        value (stray objects: a head is a hint and a shared value part of
        the checkpoints that refer to it; both go with their thread)."""
        layout = self.layout
        return sorted(
            k
            for k in self.keys
            if owner_of(layout, k) is None
            and not layout.parse_head_key(k)
            and not layout.parse_value_key(k)
        )

    def absent(self, thread_ids: Sequence[str]) -> list[str]:
        """The threads of ``thread_ids`` that hold no key at all: a misspelled
        id, which a scheduled job must not take for a thread cleaned up."""
        held = {self.layout.parse_thread(key) for key in self.keys}
        return [t for t in thread_ids if t not in held]

    def summary(self) -> str:
        """``3 checkpoints in 2 namespaces and 4 writes``, for the question."""
        checkpoints = self.checkpoints()
        namespaces = {(r.thread_id, r.checkpoint_ns) for r in checkpoints}
        text = (
            f"{_count(len(checkpoints), 'checkpoint')} in "
            f"{_count(len(namespaces), 'namespace')} and "
            f"{_count(len(self.writes()), 'write')}"
        )
        others = len(self.others())
        return text + (f" (and {_count(others, 'other object')})" if others else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _refs(refs: Sequence[CheckpointRef], with_thread: bool) -> list[JSON]:
    return [
        {
            **({"thread_id": ref.thread_id} if with_thread else {}),
            "checkpoint_ns": ref.checkpoint_ns,
            "checkpoint_id": ref.checkpoint_id,
        }
        for ref in refs
    ]


def removal(before: Holdings, after: Holdings, with_thread: bool) -> dict[str, JSON]:
    """What went (``before - after``) and which checkpoints remain."""
    gone = before - after
    return {
        "deleted": _refs(gone.checkpoints(), with_thread),
        "deleted_writes": len(gone.writes()),
        "deleted_other": [*gone.others()],
        "kept": _refs(after.checkpoints(), with_thread),
    }


def carry_out(
    saver: S3CheckpointSaver,
    thread_ids: Sequence[str],
    before: Holdings,
    action: Callable[[], None],
    header: dict[str, JSON],
    with_thread: bool,
) -> None:
    """Run ``action`` and print what it removed, from a listing after it. When
    it fails part-way, print what it did remove all the same, then fail."""
    failure: S3CheckpointError | None = None
    try:
        action()
    except S3CheckpointError as exc:
        failure = exc
    try:
        after = Holdings.of(saver, thread_ids)
    except S3CheckpointError:
        if failure is not None:
            raise failure from None
        raise
    emit({**header, **removal(before, after, with_thread)})
    if failure is not None:
        raise failure
