"""Which pending writes readers take, and what a writer stores to get there.

LangGraph's rule (``InMemorySaver.put_writes``) is per key, (task, idx): a
regular channel keeps the first call's write at its idx, a special channel
(``__error__``, ``__interrupt__``, ... whose idx is fixed) the last call's.
A later call of a task may add writes at new idx.

On S3 one call stores one object per write, so three more things must hold:
a crash midway must not leave part of a call that readers take, a retry must
finish it, and racing callers must leave what some serial order of their
calls leaves. The rules:

- Every write carries its call's *token* and the idx of all the call's
  writes. A key is shared by the calls that wrote it: a writer that finds
  the key taken keeps what is there and adds its own write (version 3
  objects carry the other calls' writes as ``earlier``).
- A call is *complete* when each of its idx holds its write, or (regular
  channels) holds a complete call's write with a smaller token: that call
  came first, so this one's write there is skipped, as LangGraph skips it.
  Readers take only complete calls' writes (:func:`visible`).
- Tokens are the serial order. At a regular idx readers take the complete
  write with the smallest token, at a special one the greatest. A writer
  that finds a complete call with a greater token than its own (a clock
  behind another worker's) takes a greater token first, so a later call
  always orders after the calls it saw.

These rules are pure; :func:`.plans.put_writes` applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from langgraph.checkpoint.base.id import uuid6

from ._codec import StoredWrite
from .envelopes import V1_CALL, WriteBatch

__all__ = ["OLD", "Entry", "Step", "complete", "new_token", "step", "visible"]

OLD = V1_CALL
"""The token of a version 1 write: it has no call, is complete, and orders
before every call."""


def new_token() -> str:
    """A fresh call token. uuid6 strings sort in time order, so a later call
    of one process orders after an earlier one."""
    return str(uuid6())


def successor(newer: str, token: str) -> str:
    """A token that orders right after ``newer``, unique to the call whose
    own token is ``token`` (so a replayed call gets the same one)."""
    return f"{newer}+{token}"


@dataclass(frozen=True)
class Entry:
    """One call's write at a key: the call's token and its idx."""

    token: str
    members: frozenset[int]

    @classmethod
    def of(cls, batch: WriteBatch) -> Entry:
        return cls(batch.id, frozenset(batch.idx))


def _takes_first(idx: int) -> bool:
    """Regular channels (idx >= 0) keep the first write, special ones the last."""
    return idx >= 0


def complete(slots: Mapping[int, Sequence[Entry]]) -> set[str]:
    """The tokens of the complete calls, from what each idx of one task holds.
    An idx missing from ``slots`` holds nothing, as far as the caller knows."""
    members: dict[str, frozenset[int]] = {}
    for entries in slots.values():
        for entry in entries:
            members.setdefault(entry.token, entry.members)
    done = {OLD}

    def satisfied(idx: int, token: str) -> bool:
        held = slots.get(idx, ())
        return any(e.token == token for e in held) or (
            _takes_first(idx) and any(e.token in done and e.token < token for e in held)
        )

    # A call's skips lean only on calls with smaller tokens: one pass in token
    # order decides every call.
    for token in sorted(members.keys() - {OLD}):
        if all(satisfied(i, token) for i in members[token]):
            done.add(token)
    return done


def chosen(idx: int, entries: Sequence[Entry], done: set[str]) -> Entry | None:
    """The write readers take at ``idx``: of the complete calls' writes, the
    first call's (regular channel) or the last call's (special channel)."""
    candidates = [e for e in entries if e.token in done]
    if not candidates:
        return None
    pick = min if _takes_first(idx) else max
    return pick(candidates, key=lambda e: e.token)


def visible(writes: Iterable[StoredWrite]) -> list[StoredWrite]:
    """The writes readers take, from the objects of one checkpoint (each with
    the other calls' writes it keeps)."""
    by_task: dict[str, dict[int, list[StoredWrite]]] = {}
    for stored in writes:
        slot = by_task.setdefault(stored.task_id, {}).setdefault(stored.idx, [])
        slot.extend([stored, *stored.earlier])
    taken = []
    for slots in by_task.values():
        entries = {
            idx: [Entry.of(w.batch) for w in held] for idx, held in slots.items()
        }
        done = complete(entries)
        for idx, held in slots.items():
            pick = chosen(idx, entries[idx], done)
            taken += [w for w, e in zip(held, entries[idx], strict=True) if e == pick]
    return taken


@dataclass(frozen=True)
class Step:
    """What a writer does next: read the idx of ``read`` too (other calls'
    idx, to judge whether they are complete), or carry ``token`` from now on
    and, at each idx of ``write``, store an object with its own write that
    keeps the other calls' writes whose tokens are listed. Neither: done."""

    token: str
    read: frozenset[int] = frozenset()
    write: Mapping[int, frozenset[str]] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return not self.read and not self.write


def step(
    token: str,
    own: frozenset[str],
    ours: frozenset[int],
    slots: Mapping[int, Sequence[Entry]],
) -> Step:
    """The next step of a call whose idx are ``ours`` and whose token is
    ``token`` (``own``: every token it carried), given what the idx read hold.

    Its write goes in at every idx of its own where it is missing, unless a
    complete call with a smaller token holds a regular idx (first wins). A
    complete call with a greater token makes it take a greater token first.
    What it keeps of the others leaves out writes no reader can choose again
    (superseded at every idx of their call by complete calls); a token it
    carried before is left out where it writes anyway.
    """
    unread = {i for held in slots.values() for e in held for i in e.members} - set(
        slots
    )
    if unread:
        return Step(token, read=frozenset(unread))
    done = complete(slots)
    if token in done:
        return Step(token)
    seen = [e.token for held in slots.values() for e in held if e.token not in own]
    newer = [t for t in seen if t in done and t > token]
    if newer:
        token = successor(max(newer), min(own))
    writes: dict[int, frozenset[str]] = {}
    for idx in ours:
        held = slots.get(idx, ())
        others = [e for e in held if e.token not in own]
        skipped = _takes_first(idx) and any(
            e.token in done and e.token < token for e in others
        )
        if skipped or any(e.token == token for e in held):
            continue
        writes[idx] = frozenset(
            e.token for e in others if not _superseded(e, own, slots, done)
        )
    return Step(token, write=writes)


def _superseded(
    entry: Entry,
    own: frozenset[str],
    slots: Mapping[int, Sequence[Entry]],
    done: set[str],
) -> bool:
    """No reader can choose ``entry``'s writes again: at each idx of its call
    another complete call's write wins over it."""
    for idx in entry.members:
        rivals = [
            e.token
            for e in slots.get(idx, ())
            if e.token in done and e.token not in own and e != entry
        ]
        wins = (
            any(t < entry.token for t in rivals)
            if _takes_first(idx)
            else any(t > entry.token for t in rivals)
        )
        if not wins:
            return False
    return True
