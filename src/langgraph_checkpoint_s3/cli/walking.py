"""Reading a whole thread for ``read`` and ``history``: its checkpoints
listed once (their number, for the progress bar), then read a window at a
time, newest first, as the saver's ``list`` reads them, so the first are
shown after a few rounds and what is held stays about a window, whatever
the thread's length. A window with an object that cannot be read is read
again checkpoint by checkpoint (:mod:`.salvage`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .progress import checkpoint_gets, progress_bar

if TYPE_CHECKING:
    from langgraph.checkpoint.base import CheckpointTuple

    from ..saver import S3CheckpointSaver
    from .lineage import Key
    from .salvage import Unreadable

__all__ = ["Listed", "ThreadWalk", "item_key"]


class ThreadWalk:
    """The checkpoints of a thread (or of one of its namespaces), newest
    first; the listing is done on creation."""

    def __init__(
        self, saver: S3CheckpointSaver, thread_id: str, checkpoint_ns: str | None
    ) -> None:
        from .. import plans
        from .._configs import thread_config
        from .._selection import ListQuery

        self.saver = saver
        query = ListQuery.of(
            thread_config(thread_id, checkpoint_ns),
            filter=None,
            before=None,
            limit=None,
        )
        self.cursor = plans.ListCursor(query, newest_first=False)
        saver.run(plans.list_rest(saver.context, self.cursor))
        pending = self.cursor.pending or []
        self.total = len(pending)
        self.listed = Listed(
            frozenset((r.checkpoint_ns, r.checkpoint_id) for r in pending)
        )
        """Every checkpoint listed and not found gone since: one asked for (a
        parent, a host) that has not come yet is still to come when in it."""

    def items(self, shown: bool) -> Iterator[CheckpointTuple | Unreadable]:
        """Every checkpoint, newest first, each as read or as why it could
        not be; a bar on stderr when ``shown``."""
        from .salvage import next_window

        saver = self.saver
        with progress_bar(self.total, "Reading checkpoints", shown) as tick:
            on_done = checkpoint_gets(saver.layout, tick)
            while not self.cursor.done:
                before = self.cursor.pending or []
                window = saver.run(
                    next_window(saver.context, self.cursor), on_done=on_done
                )
                passed = before[: len(before) - len(self.cursor.pending or [])]
                returned = {item_key(item) for item in window}
                # Deleted since the listing: never to come.
                self.listed.gone.update(
                    key
                    for ref in passed
                    if (key := (ref.checkpoint_ns, ref.checkpoint_id)) not in returned
                )
                yield from window


class Listed:
    """The keys of a listing, less those found gone since (a container)."""

    def __init__(self, keys: frozenset[Key]) -> None:
        self.keys = keys
        self.gone: set[Key] = set()

    def __contains__(self, key: object) -> bool:
        return key in self.keys and key not in self.gone


def item_key(item: CheckpointTuple | Unreadable) -> Key:
    """The (namespace, id) of a checkpoint, read or not."""
    from .changes import key_of
    from .salvage import Unreadable

    return item.key if isinstance(item, Unreadable) else key_of(item)
