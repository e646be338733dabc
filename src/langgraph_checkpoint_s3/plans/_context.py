"""The context every plan is given, and what a saver learns as it runs.

A plan's first argument is a :class:`PlanContext`: the key layout and the
serializer, and the saver's memory of the store: whether it honours
conditional writes (:class:`ConditionalWrites`) and what the saver read and
wrote lately (:class:`RecentReads`), and of the thread's shared values
(:class:`.._shared.SharedValues`). The memory holds hints only: an entry
that is missing or out of date costs requests, never an answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langgraph.checkpoint.serde.base import SerializerProtocol

from .._heads import HEAD_EVERY
from .._keys import CheckpointRef, Layout
from .._shared import SharedValues
from ..errors import ConditionalWritesError
from ..protocol import Put

__all__ = ["ConditionalWrites", "PlanContext", "RecentReads"]


@dataclass
class ConditionalWrites:
    """Whether a saver sends conditional writes, and whether its store has
    been seen to honour them. A saver checks once: the first conditional PUT
    that stores is sent again, and must now find the key taken."""

    enabled: bool = True
    verified: bool = False
    checking: bool = False
    """A check is under way: writes meanwhile do not start another."""
    refusal: ConditionalWritesError | None = None
    """Set when the store was found to ignore them: every write raises it."""


_K = TypeVar("_K")
_V = TypeVar("_V")

_KNOWN_NAMESPACES = 4096
"""Namespaces whose newest id a saver remembers (about 100 bytes each)."""


def _remember(entries: OrderedDict[_K, _V], key: _K, value: _V, size: int) -> None:
    """Store ``value`` as the most recently used entry; drop the least
    recently used beyond ``size``."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > size:
        entries.popitem(last=False)


@dataclass(frozen=True)
class _Read:
    parent_id: str | None
    counters: Mapping[str, Any]
    at: float


class RecentReads:
    """What one saver read and wrote lately: the parents (and DeltaChannel
    counters) of the checkpoints it read, so ``get_delta_channel_history``
    does not read its target again; the newest id it wrote or found per
    namespace, the first floor of its next latest read (a namespace this
    process keeps writing costs one short LIST, however fast it grows); and
    the last head it wrote per namespace.

    Bounded (least recently used entries go first) and safe to share between
    threads. A remembered parent is used for ``max_age`` seconds, the time
    between LangGraph's ``get_tuple`` and the ``get_delta_channel_history``
    that follows it: a checkpoint is never rewritten with other content, but
    one deleted and put again under the same id could be.
    """

    def __init__(self, *, size: int = 256, max_age: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._reads: OrderedDict[CheckpointRef, _Read] = OrderedDict()
        self._heads: OrderedDict[tuple[str, str], tuple[str, int]] = OrderedDict()
        self._newest: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._size = size
        self._max_age = max_age
        self.lists_in_order = True
        """False once the store refused StartAfter or listed out of order (S3
        Express One Zone): the saver's reads then skip the floors."""

    def saw_newest(self, ref: CheckpointRef) -> None:
        """Remember a checkpoint this saver wrote or found newest: the next
        latest read of its namespace lists from it first (a floor)."""
        where = (ref.thread_id, ref.checkpoint_ns)
        with self._lock:
            known = self._newest.get(where, "")
            _remember(
                self._newest, where, max(ref.checkpoint_id, known), _KNOWN_NAMESPACES
            )

    def newest(self, thread_id: str, checkpoint_ns: str) -> str | None:
        """The greatest id of the namespace this saver wrote or found."""
        with self._lock:
            return self._newest.get((thread_id, checkpoint_ns))

    def wrote_head(self, ref: CheckpointRef, step: int) -> str | None:
        """Remember that the namespace's head now names ``ref``, of ``step``;
        returns the checkpoint the head before it named, when this saver wrote
        that one too, ``HEAD_EVERY`` steps back (the head carries it: a floor
        far enough back for ``list(limit=k)``, and no further)."""
        where = (ref.thread_id, ref.checkpoint_ns)
        with self._lock:
            previous = self._heads.get(where)
            _remember(self._heads, where, (ref.checkpoint_id, step), self._size)
        if previous is None or previous[0] == ref.checkpoint_id:
            return None
        return previous[0] if step - previous[1] == HEAD_EVERY else None

    def saw_checkpoint(
        self, ref: CheckpointRef, parent_id: str | None, metadata: Mapping[str, Any]
    ) -> None:
        """Remember a checkpoint just read: its parent, and its DeltaChannel
        counters (``counters_since_delta_snapshot``; see :mod:`.._delta`)."""
        key = "counters_since_delta_snapshot"
        entry = _Read(
            parent_id,
            {key: metadata[key]} if key in metadata else {},
            time.monotonic(),
        )
        with self._lock:
            _remember(self._reads, ref, entry, self._size)

    def checkpoint(
        self, ref: CheckpointRef
    ) -> tuple[str | None, Mapping[str, Any]] | None:
        """The parent of a checkpoint read lately and its metadata's DeltaChannel
        counters (the rest left out), or None."""
        with self._lock:
            entry = self._reads.get(ref)
            if entry is None or time.monotonic() - entry.at > self._max_age:
                self._reads.pop(ref, None)
                return None
            return entry.parent_id, entry.counters

    def __getstate__(self) -> dict[str, Any]:
        # A copy of a saver starts with nothing remembered (and no lock to copy).
        return {"size": self._size, "max_age": self._max_age}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(
            _lock=threading.Lock(),
            _reads=OrderedDict(),
            _heads=OrderedDict(),
            _newest=OrderedDict(),
            lists_in_order=True,
            _size=state["size"],
            _max_age=state["max_age"],
        )


@dataclass(frozen=True)
class PlanContext:
    """What every plan is given: where and how the saver stores (its key
    layout, its serializer), what it has learnt (whether the store honours
    conditional writes, its recent reads), and where its call tokens come
    from. Shared by a saver's copies."""

    layout: Layout
    serde: SerializerProtocol
    conditions: ConditionalWrites
    recent: RecentReads
    """What the saver remembers of the checkpoints it just read."""
    tokens: Callable[[], str]
    """The token of each ``put_writes`` call (see :mod:`.._batches`)."""
    clock: Callable[[], int]
    """Nanoseconds since the Unix epoch: where a latest read starts listing
    (see :mod:`.._recency`)."""
    shared: SharedValues = field(default_factory=SharedValues)
    """Which values are stored once per thread, and what the saver knows of
    them (see :mod:`.._shared`)."""

    def put(self, key: str, body: bytes, *, if_absent: bool) -> Put:
        """A PUT, conditional only when the saver sends conditional writes."""
        return Put(key, body, if_absent=if_absent and self.conditions.enabled)
