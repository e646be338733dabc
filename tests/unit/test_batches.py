"""Pending writes under races and crashes: what LangGraph's rule leaves for
some serial order of the calls (see ``_batches.py``).

Every interleaving of two callers' requests is run on the in-memory bucket,
one request at a time, with and without crashes; what readers then see must
be what InMemorySaver keeps for the calls applied one after another in some
order: every call that returned, and a crashed call or not. A retry of a
crashed call then completes it. The same race runs on SeaweedFS, a real
server with conditional writes.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from langgraph_checkpoint_s3 import CheckpointConflictError, plans
from langgraph_checkpoint_s3._batches import OLD, Entry, complete, step
from langgraph_checkpoint_s3.protocol import Get, Plan, Put, Request
from tests.support.histories import cfg, history, pending
from tests.support.memory_bucket import MemoryBucket, MemorySaver
from tests.support.races import (
    RACES,
    Batches,
    Outcome,
    in_memory,
    two,
)

Move = tuple[str, int]
"""A step of a schedule: (caller, index of a request of its round) or
(caller, -1): the caller crashes and never sends another request."""


class Caller:
    """One plan driven a request at a time, as a shell with slow, reordered
    replies would drive it."""

    def __init__(self, name: str, plan: Plan[Any]) -> None:
        self.name, self.plan = name, plan
        self.done = self.crashed = self.gave_up = False
        self.round: list[Request] = []
        self.left: list[int] = []
        self.results: list[Any] = []
        self.answers: list[tuple[Any, ...]] = []
        self._advance(None)

    def _advance(self, results: list[Any] | None) -> None:
        if results is not None:
            self.answers.append(tuple(results))
        try:
            self.round = self.plan.send(results)  # type: ignore[arg-type]
        except StopIteration:
            self.done = True
            return
        except CheckpointConflictError:
            # Gave up, loudly: counted as a call that did not complete.
            self.crashed = self.gave_up = True
            return
        self.left, self.results = list(range(len(self.round))), [None] * len(self.round)

    def perform(self, bucket: MemoryBucket, i: int) -> None:
        self.results[i] = bucket.perform(self.round[i])
        self.left.remove(i)
        if not self.left:
            self._advance(self.results)

    @property
    def active(self) -> bool:
        return not (self.done or self.crashed)


@dataclass(frozen=True)
class Step:
    """A move, named so that it means the same request in every state where
    it can be made: the caller, its round, the request, and what it touches."""

    caller: str
    round: int
    index: int
    key: str = ""
    reads: bool = False

    def commutes(self, other: Step) -> bool:
        if self.caller == other.caller:
            # Requests of one round go out together; a crash ends them all.
            return self.round == other.round and min(self.index, other.index) >= 0
        if self.index < 0 or other.index < 0:
            return True
        return self.key != other.key or (self.reads and other.reads)


def _start() -> tuple[dict[str, Any], str]:
    saver = MemorySaver(MemoryBucket())
    (checkpoint_id,) = history(saver, 1, writes=0)
    return dict(saver.bucket.objects), checkpoint_id


_START = _start()


class World:
    """A bucket with one checkpoint (the same for every world), and a caller
    per batch. Tokens are handed out in call order, as uuid6 would order
    them, so that a schedule replays exactly."""

    def __init__(
        self,
        batches: Batches,
        monkeypatch: pytest.MonkeyPatch,
        before: Sequence[Sequence[tuple[str, Any]]] = (),
    ) -> None:
        self.saver = MemorySaver(MemoryBucket())
        self.saver.bucket.objects.update(_START[0])
        self.saver.context.conditions.verified = True
        self.checkpoint_id = _START[1]
        # Tokens in call order, as uuid6 would give them.
        tokens = itertools.count(1)
        self.saver._tokens = lambda: f"{next(tokens):04d}"
        for batch in before:
            self.saver.put_writes(cfg(self.checkpoint_id), batch, "t")
        self.batches = tuple(sorted((k, tuple(v)) for k, v in batches.items()))
        self.before = tuple(tuple(b) for b in before)
        self.callers = {
            name: Caller(name, self.put_writes(batch))
            for name, batch in sorted(batches.items())
        }

    def put_writes(self, batch: Sequence[tuple[str, Any]]) -> Plan[None]:
        return plans.put_writes(self.saver.context, cfg(self.checkpoint_id), batch, "t")

    def moves(self, crashes: int) -> list[Move]:
        steps = [(c.name, i) for c in self.callers.values() if c.active for i in c.left]
        crashed = sum(c.crashed for c in self.callers.values())
        if crashed < crashes:
            # A GET changes nothing, so crashing before one is crashing
            # before the caller's next PUT: crashes are tried before PUTs.
            steps += [
                (c.name, -1)
                for c in self.callers.values()
                if c.active and any(isinstance(c.round[i], Put) for i in c.left)
            ]
        return steps

    def step(self, move: Move) -> Step:
        caller = self.callers[move[0]]
        if move[1] < 0:
            return Step(caller.name, len(caller.answers), -1)
        request = caller.round[move[1]]
        key = getattr(request, "key", "")
        return Step(
            caller.name, len(caller.answers), move[1], key, isinstance(request, Get)
        )

    def play(self, move: Move) -> None:
        caller = self.callers[move[0]]
        if move[1] < 0:
            caller.crashed = True
        else:
            caller.perform(self.saver.bucket, move[1])

    def visible(self) -> Outcome:
        return tuple(pending(self.saver, self.checkpoint_id))

    def serial(self) -> frozenset[Outcome]:
        """What the calls leave applied one after another in some order:
        every call that returned, and each crashed one or not."""
        returned = frozenset(c.name for c in self.callers.values() if c.done)
        crashed = frozenset(c.name for c in self.callers.values() if not c.done)
        return serial_outcomes(self.batches, self.before, returned, crashed)


def schedules(
    batches: Batches,
    monkeypatch: pytest.MonkeyPatch,
    crashes: int,
    before: Sequence[Sequence[tuple[str, Any]]] = (),
) -> Iterator[tuple[tuple[Move, ...], World]]:
    """Every schedule up to the order of independent steps, with the world
    it leaves: depth first, each replayed from a fresh world. Steps on
    different keys (or two GETs of one key, or a crash and another caller's
    step) commute, so of the orders that differ only in those one is run
    (sleep sets: a step already explored from a state is not explored again
    after a step it commutes with)."""
    stack: list[tuple[tuple[Move, ...], frozenset[Step]]] = [((), frozenset())]
    while stack:
        prefix, asleep = stack.pop()
        world = World(batches, monkeypatch, before)
        for move in prefix:
            world.play(move)
        while True:  # the first child goes on in this world; others replay
            moves = world.moves(crashes)
            if not moves:
                yield prefix, world
                break
            explored: set[Step] = set()
            children = []
            for move in moves:
                step = world.step(move)
                if step in asleep:
                    continue
                sleep = frozenset(s for s in asleep | explored if s.commutes(step))
                children.append(((*prefix, move), sleep))
                explored.add(step)
            if not children:
                break
            stack += reversed(children[1:])
            prefix, asleep = children[0]
            world.play(prefix[-1])


CallsSpec = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]


@functools.cache
def serial_outcomes(
    batches: CallsSpec,
    before: tuple[tuple[tuple[str, Any], ...], ...],
    returned: frozenset[str],
    crashed: frozenset[str],
) -> frozenset[Outcome]:
    calls = dict(batches)
    found = set()
    for n in range(len(crashed) + 1):
        for extra in itertools.combinations(sorted(crashed), n):
            for order in itertools.permutations(sorted(returned | set(extra))):
                found.add(in_memory([*before, *(calls[name] for name in order)]))
    return frozenset(found)


EARLIER = [("a", "Z"), ("__interrupt__", "Z")]
"""A complete call already stored, for races on taken keys."""


def explore(
    batches: Batches,
    monkeypatch: pytest.MonkeyPatch,
    crashes: int,
    before: Sequence[Sequence[tuple[str, Any]]] = (),
) -> tuple[int, set[Outcome]]:
    """Every schedule checked against the serial outcomes; returns how many
    ran and what they left."""
    count, outcomes = 0, set()
    for schedule, world in schedules(batches, monkeypatch, crashes, before):
        seen = world.visible()
        assert seen in world.serial(), (schedule, seen)
        count += 1
        outcomes.add(seen)
    return count, outcomes


@pytest.mark.parametrize("earlier", [False, True], ids=["fresh", "taken"])
@pytest.mark.parametrize("race", sorted(RACES))
def test_every_interleaving_of_two_callers_is_some_serial_order(
    race: str, earlier: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = RACES[race]
    before = [EARLIER] if earlier else []
    count, outcomes = explore(batches, monkeypatch, 0, before)
    # The race really was explored: more than one schedule, and where the
    # two serial orders leave different writes, both show up.
    names = frozenset(batches)
    possible = serial_outcomes(
        tuple(sorted((k, tuple(v)) for k, v in batches.items())),
        tuple(tuple(b) for b in before),
        names,
        frozenset(),
    )
    assert outcomes <= possible
    assert count > 1
    if not earlier:
        assert outcomes == possible, outcomes


@pytest.mark.parametrize("earlier", [False, True], ids=["fresh", "taken"])
@pytest.mark.parametrize("race", sorted(RACES))
def test_crashes_leave_a_serial_order_and_a_retry_completes(
    race: str, earlier: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = RACES[race]
    before = [EARLIER] if earlier else []
    outcomes = set()
    for schedule, world in schedules(batches, monkeypatch, 1, before):
        seen = world.visible()
        assert seen in world.serial(), (schedule, seen)
        outcomes.add(seen)
        for caller in world.callers.values():
            if caller.crashed:
                world.saver.put_writes(
                    cfg(world.checkpoint_id), batches[caller.name], "t"
                )
                caller.crashed, caller.done = False, True
        assert world.visible() in world.serial(), ("retried", schedule)
    assert len(outcomes) > 1


def test_three_writes_with_crashes_of_both_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batches = two("a", "b", "__interrupt__")
    count, outcomes = explore(batches, monkeypatch, 2)
    assert () in outcomes  # both crashed before completing
    assert count > 500


def test_three_callers_race_to_a_serial_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batches: Batches = {
        "A": [("a", "A"), ("b", "A")],
        "B": [("a", "B"), ("__interrupt__", "B")],
        "C": [("__interrupt__", "C")],
    }
    count, outcomes = explore(batches, monkeypatch, 0)
    assert count > 100 and len(outcomes) > 1


def test_a_lone_caller_crashing_after_each_write_leaves_none_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = {"A": [("a", "A"), ("b", "A"), ("__error__", "A")]}
    for earlier in ([], [EARLIER]):
        outcomes = set()
        for schedule, world in schedules(batch, monkeypatch, 1, earlier):
            seen = world.visible()
            assert seen in {in_memory(earlier), in_memory([*earlier, batch["A"]])}, (
                schedule
            )
            outcomes.add(seen)
        assert outcomes == {in_memory(earlier), in_memory([*earlier, batch["A"]])}


def _entry(token: str, *members: int) -> Entry:
    return Entry(token, frozenset(members))


def test_a_call_is_complete_with_each_idx_held_or_skipped() -> None:
    a, b = _entry("1", 0, 1), _entry("2", 0, 1, 2)
    # B is missing at 2: incomplete.
    assert complete({0: [a, b], 1: [a]}) == {OLD, "1"}
    # B holds 2 and skips 1 (A, smaller and complete, holds it).
    assert complete({0: [a, b], 1: [a], 2: [b]}) == {OLD, "1", "2"}
    # A special idx is never skipped: B must hold -3 itself.
    c, d = _entry("1", -3), _entry("2", -3, 0)
    assert complete({-3: [c], 0: [d]}) == {OLD, "1"}
    # A skip leans only on a smaller token.
    assert complete({0: [_entry("2", 0)], 1: [_entry("1", 0, 1)]}) == {OLD, "2"}


def test_step_skips_appends_retokens_and_prunes() -> None:
    ours = frozenset({0, 1})
    own = frozenset({"5"})
    earlier = _entry("1", 0)
    # Regular idx 0 held by an earlier complete call: skipped; 1 is ours.
    assert step("5", own, ours, {0: [earlier], 1: [_entry("5", 0, 1)]}).done
    # Idx 0 held by an incomplete call: ours goes in beside it.
    partial = _entry("3", 0, 7)
    assert step("5", own, ours, {0: [partial], 1: [], 7: []}).write == {
        0: frozenset({"3"}),
        1: frozenset(),
    }
    # Its other idx are read before deciding.
    assert step("5", own, ours, {0: [partial], 1: []}).read == {7}
    # A complete call with a greater token: take a greater one first. Then
    # it orders before this call: a regular idx it holds is skipped, a
    # special one overwritten.
    later = _entry("9", 1, -3)
    moved = step("5", own, frozenset({0, 1, -3}), {0: [], 1: [later], -3: [later]})
    assert moved.token > "9"
    assert moved.write == {0: frozenset(), -3: frozenset({"9"})}
    # A special idx overwritten twice keeps only what a reader may still take.
    first, second = _entry("1", -3), _entry("2", -3)
    assert step("5", own, frozenset({-3}), {-3: [first, second]}).write == {
        -3: frozenset({"2"})
    }


def test_version_1_writes_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    world = World({}, monkeypatch)
    world.saver.put_writes(cfg(world.checkpoint_id), [("a", 1), ("b", 2)], "new")
    for key in [k for k in world.saver.bucket.ordered_keys() if "/new_" in k]:
        doc = json.loads(world.saver.bucket.objects[key].body)
        del doc["batch"]
        old_key = key.replace("/new_", "/old_")
        doc.update(version=1, task_id="old")
        world.saver.bucket.put_raw(old_key, json.dumps(doc).encode())
    # A later call of the old task finds its keys taken: first wins.
    later = [("a", 9), ("b", 9), ("c", 3)]
    world.saver.put_writes(cfg(world.checkpoint_id), later, "old")
    found = pending(world.saver, world.checkpoint_id)
    assert found == [
        ("new", "a", 1),
        ("new", "b", 2),
        ("old", "a", 1),
        ("old", "b", 2),
        ("old", "c", 3),
    ]
