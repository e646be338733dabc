"""Plans that find a namespace's newest checkpoints, exactly, from a few key
listings: from floors first, in the order :mod:`.._recency` states, else a
scan. The rules are there; this module performs them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from .._heads import decode_head
from .._keys import ODD_MARK, CheckpointRef, Layout
from .._recency import (
    BUCKET_DELIMITER,
    Region,
    anchor,
    ascending,
    ceiling,
    floor_below,
    floor_of,
    may_hold,
    newest_ids,
    now_prefix,
    recent_floor,
    refused,
    regions_after,
    settled,
    spread,
)
from ..errors import S3AccessError
from ..protocol import Get, List, Listing, Plan
from ._context import PlanContext
from ._rounds import concurrently, list_keys, perform

__all__ = ["ROLLED_UP_COUNT", "newest"]


def _parsed(layout: Layout, keys: Iterable[str]) -> Iterator[CheckpointRef]:
    """The checkpoints the keys name (other keys skipped)."""
    return (ref for key in keys if (ref := layout.parse_checkpoint_key(key)))


def _rest_of(prefix: str, token: str | None) -> Plan[list[str]]:
    """The keys of the remaining pages of a listing, from its continuation
    token (no StartAfter: what every store accepts)."""
    keys: list[str] = []
    while token is not None:
        (page,) = yield from perform([List(prefix, continuation=token)])
        keys += [obj.key for obj in page.objects]
        token = page.continuation
    return keys


def _buckets(
    prefix: str, after: str | None
) -> Plan[tuple[list[str], list[str]] | None]:
    """The keys and common prefixes of a listing after ``after`` rolled up at
    ``-`` (see :mod:`.._recency`). None when the store refuses it (S3 Express
    One Zone) or its pages stop advancing (SeaweedFS can repeat a page for a
    delimiter other than ``/``)."""
    keys: list[str] = []
    folders: list[str] = []
    seen: set[str] = set()
    token: str | None = None
    while True:
        request = List(prefix, after, token, BUCKET_DELIMITER)
        try:
            (page,) = yield from perform([request])
        except S3AccessError as exc:
            if refused(exc.code):
                return None
            raise
        new_keys = [o.key for o in page.objects if o.key not in seen]
        new_folders = [f for f in page.prefixes if f not in seen]
        if token is not None and not new_keys and not new_folders:
            return None
        seen.update(new_keys, new_folders)
        keys += new_keys
        folders += new_folders
        if page.continuation is None:
            return keys, folders
        token = page.continuation


ROLLED_UP_COUNT = 100
"""Past this many newest checkpoints wanted, the pages are read in order: the
buckets holding them would cost as many LISTs."""


class _Unordered(Exception):
    """The store refuses StartAfter or lists in no order (S3 Express One
    Zone): no floor can work there, only a scan."""


def _from_floor(
    context: PlanContext,
    prefix: str,
    floor: str,
    count: int,
    below: str | None,
    pages: int | None,
) -> Plan[tuple[list[CheckpointRef] | None, bool]]:
    """The ``count`` newest of a namespace from a listing that starts at
    ``floor`` (see :mod:`.._recency`), or None when it does not prove them or
    runs past ``pages`` pages; and whether it listed everything from the
    floor on. Below ``below``, the listing stops at its
    :func:`..recency.ceiling`, and the escaped ids are listed beside it."""
    layout = context.layout
    refs: set[CheckpointRef] = set()
    stop = prefix + ceiling(below) if below is not None else None
    first = [List(prefix, prefix + floor)]
    if below is not None:
        first.append(List(prefix + ODD_MARK))
    try:
        listed = yield from perform(first)
    except S3AccessError as exc:
        if refused(exc.code):
            raise _Unordered from exc
        raise
    page = listed[0]
    if below is not None:
        escaped = [obj.key for obj in listed[1].objects]
        escaped += yield from _rest_of(prefix + ODD_MARK, listed[1].continuation)
        refs.update(_parsed(layout, escaped))
    read = 1
    while True:
        keys = [obj.key for obj in page.objects]
        if not ascending(keys):
            raise _Unordered
        refs.update(_parsed(layout, keys))
        done = page.continuation is None or (
            stop is not None and bool(keys) and keys[-1] >= stop
        )
        if done:
            return settled(refs, floor, count, below), True
        if pages is not None and read >= pages:
            return None, False
        (page,) = yield from perform([List(prefix, continuation=page.continuation)])
        read += 1


def newest(
    context: PlanContext,
    thread_id: str,
    checkpoint_ns: str,
    count: int,
    below: str | None,
    *,
    recent_first: bool = False,
) -> Plan[list[CheckpointRef]]:
    """The ``count`` newest checkpoints of one namespace (ids below ``below``),
    newest first, exact for every id: from the floors :mod:`.._recency` lists,
    in its order (``recent_first`` for ``get_tuple``'s), else a scan."""
    layout = context.layout
    prefix = layout.namespace_checkpoints_prefix(thread_id, checkpoint_ns)
    first: Listing | None = None
    if checkpoint_ns != "":
        (first,) = yield from perform([List(prefix)])
        if first.continuation is None:
            keys = [obj.key for obj in first.objects]
            return newest_ids(_parsed(layout, keys), count, below)
    try:
        if not context.recent.lists_in_order:
            raise _Unordered
        if below is not None:
            if (floor := floor_below(below)) is not None:
                found, _ = yield from _from_floor(
                    context, prefix, floor, count, below, 1
                )
                if found is not None:
                    return found
            return (yield from _scan(context, prefix, count, below, first))
        if recent_first:
            known = context.recent.newest(thread_id, checkpoint_ns)
            listed_from: str | None = None  # a floor listed to the end
            for floor in (known and floor_of(known), recent_floor(context.clock())):
                if not floor or (listed_from is not None and floor >= listed_from):
                    continue  # nothing that listing did not show
                found, whole = yield from _from_floor(
                    context, prefix, floor, count, None, 1
                )
                if found is not None:
                    return found
                listed_from = floor if whole else listed_from
        head_key = layout.head_key(thread_id, checkpoint_ns)
        (body,) = yield from perform([Get(head_key, hint=True)])
        head = decode_head(body, thread_id, checkpoint_ns)
        if head is not None:
            # The newest k: the head before it (100 steps back, when its
            # writer knew it), else an hour before the head; one page each,
            # as a head can lie. Then the head itself, as far as it takes.
            floors: list[tuple[str | None, int | None]] = []
            if count > 1:
                back = head.previous_checkpoint_id
                earlier = floor_of(back) if back else floor_below(head.checkpoint_id)
                floors.append((earlier, 1))
            floors.append((floor_of(head.checkpoint_id), None))
            for floor, pages in floors:
                if floor is not None:
                    found, _ = yield from _from_floor(
                        context, prefix, floor, count, None, pages
                    )
                    if found is not None:
                        return found
    except _Unordered:
        context.recent.lists_in_order = False  # no floor works there: never again
    return (yield from _scan(context, prefix, count, below, first))


def _scan(
    context: PlanContext,
    prefix: str,
    count: int,
    below: str | None,
    first: Listing | None,
) -> Plan[list[CheckpointRef]]:
    """The ``count`` newest of a namespace without a floor, exact for every id
    (see :mod:`.._recency`): 1 LIST for up to 1,000 checkpoints (``first``, when
    given, is its first page). Past that, pages are read in order while they
    are dense (a few 27-second buckets each: reading on costs no more); past
    the first spread page, the keys are rolled up into buckets from an anchor
    toward the guess (the current time, or ``below``), or from that page if
    the anchor's block holds fewer than ``count``, and only the newest buckets
    are read."""
    layout = context.layout
    refs: set[CheckpointRef] = set()

    def learn(keys: Iterable[str]) -> None:
        refs.update(_parsed(layout, keys))

    token: str | None = None
    while True:
        if first is not None:
            page, first = first, None
        else:
            (page,) = yield from perform([List(prefix, continuation=token)])
        keys = [obj.key for obj in page.objects]
        learn(keys)
        if page.continuation is None:
            return newest_ids(refs, count, below)
        token = page.continuation
        if not ascending(keys):  # a store that lists in no order: read it all
            learn((yield from _rest_of(prefix, token)))
            return newest_ids(refs, count, below)
        if spread(prefix, keys) and count <= ROLLED_UP_COUNT:
            break
    last = keys[-1]
    guess = (
        below if below is not None and floor_of(below) else now_prefix(context.clock())
    )
    cut = anchor(last[len(prefix) :], guess)
    read: set[Region] = set()
    for start, floor in ((prefix + cut, cut), (last, None)) if cut else ((last, None),):
        rolled = yield from _buckets(prefix, start)
        if rolled is None:  # refused, or SeaweedFS looping: read on in order
            learn((yield from _rest_of(prefix, token)))
            return newest_ids(refs, count, below)
        keys, folders = rolled
        learn(keys)
        unread = [r for r in regions_after(prefix, start, folders) if r not in read]
        # Buckets listed one a round (the k newest are mostly in one or two),
        # then side by side, doubling: a few rounds for any k.
        widths = itertools.chain((1, 1), (2**i for i in itertools.count(1)))
        while True:
            best = newest_ids(refs, count, below)
            worst = best[-1].checkpoint_id if len(best) == count else None
            wanted = [r for r in unread if may_hold(r.id_prefix, worst, below)]
            if not wanted:
                break
            wanted.sort(key=lambda r: r.id_prefix, reverse=True)
            batch = wanted[: next(widths)]
            listed = yield from concurrently(
                *(list_keys(r.prefix, r.start_after) for r in batch)
            )
            learn(itertools.chain(*listed))
            unread = [r for r in unread if r not in batch]
            read.update(batch)
        if floor is None or (
            len(best) == count and all(r.checkpoint_id >= floor for r in best)
        ):
            return best
    return newest_ids(refs, count, below)
