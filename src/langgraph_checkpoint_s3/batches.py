"""A task's writes are stored whole: one caller's batch, or none of it.

``put_writes`` stores one object per write, and two callers can race on the
same (checkpoint, task): LangGraph's task ids are deterministic, so a
double-submitted resume or a retried task writes the same keys. Every write
object therefore names its call (a time-ordered token) and the idx of every
write of that call. Readers take a write only when its whole call is stored
(:func:`whole`); writers that find their batch mixed with another settle it
with conditional overwrites (:func:`settle`), so exactly one caller's batch
ends up whole. The rules are pure; :func:`.plans.put_writes` applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from langgraph.checkpoint.base.id import uuid6

from .codec import StoredWrite

__all__ = ["OLD", "Held", "Settle", "new_token", "settle", "whole"]

OLD = ""
"""The token of a version 1 write: it has no batch and counts as whole."""


def new_token() -> str:
    """A fresh call token. uuid6 strings sort in time order, so a later call
    (a retry after a crash) outranks an earlier one."""
    return str(uuid6())


def whole(writes: Iterable[StoredWrite]) -> list[StoredWrite]:
    """The writes readers take: version 1 writes, and version 2 writes whose
    every batch member is stored with the same token."""
    found = list(writes)
    token_at = {(w.task_id, w.idx): w.batch.id if w.batch else OLD for w in found}
    return [
        w
        for w in found
        if w.batch is None
        or all(token_at.get((w.task_id, i)) == w.batch.id for i in w.batch.idx)
    ]


@dataclass(frozen=True)
class Held:
    """What one write key of the task holds, as read back by a writer."""

    token: str | None
    """The batch token; None when the key is empty, :data:`OLD` for v1."""
    members: frozenset[int] = frozenset()
    etag: str | None = None


@dataclass(frozen=True)
class Settle:
    """The next step of a writer whose batch is not whole yet: ``done`` (its
    batch is whole, or another caller's is, or a newer caller is settling),
    ``read`` (more keys to read before judging), ``replace`` (the idx to
    overwrite with its own writes, each only if unchanged since read), or
    ``take_over`` (write the leader again under a new token, then go on)."""

    done: bool = False
    read: frozenset[int] = frozenset()
    replace: tuple[int, ...] = ()
    take_over: bool = False


def settle(
    token: str, ours: frozenset[int], held: Mapping[int, Held], *, overwrite: bool
) -> Settle:
    """Decide what a writer of batch ``token`` (idx ``ours``) does next, from
    what the keys hold. The leader key (the lowest idx) must have been read
    after the others: then a writer that sees itself holding the leader read
    every other key before anyone could take the leader over, so any
    replacement it makes of a key rewritten since fails its condition.

    A whole batch of another caller wins, unless ``overwrite`` (a batch of
    special channels) and it is older. Otherwise the token on the leader is
    settled: its writer replaces the other members. A writer newer than the
    leader's takes the leader over under a fresh token, so that every member
    it then writes differs from what a stale writer read; a retry after a
    crash finishes what the crashed call left half-written, and an older
    writer yields.
    """
    if all(held[i].token == token for i in ours):
        return Settle(done=True)
    others = {t for i in ours if (t := held[i].token) is not None and t != token}
    for other in sorted(others):
        superseded = overwrite and other < token
        if other == OLD:
            if superseded:
                continue
            return Settle(done=True)
        members = next(h.members for h in held.values() if h.token == other)
        if missing := members - held.keys():
            return Settle(read=frozenset(missing))
        if all(held[m].token == other for m in members) and not superseded:
            return Settle(done=True)
    holder = held[min(ours)].token
    if holder == token:
        return Settle(replace=tuple(i for i in sorted(ours) if held[i].token != token))
    if holder is None or holder < token:
        return Settle(take_over=True)
    return Settle(done=True)
