"""A task's writes are stored whole (DESIGN §5): exactly one caller's batch,
never a mix, and a crash midway leaves nothing that reads as complete.

Every interleaving of two callers' requests is run on the in-memory bucket,
one request at a time, with and without a crash of either caller before any
of its requests; a third caller (a retry) then always stores a whole batch.
The same race runs on SeaweedFS, a real server with conditional writes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langgraph_checkpoint_s3 import S3CheckpointSaver, plans
from langgraph_checkpoint_s3.batches import OLD, Held, settle, whole
from langgraph_checkpoint_s3.codec import StoredWrite
from langgraph_checkpoint_s3.envelopes import WriteBatch
from langgraph_checkpoint_s3.protocol import Get, Plan, Put, Request
from memory_bucket import MemoryBucket, MemorySaver
from test_plans import cfg, history, pending

from conftest import new_bucket
from s3servers import S3Endpoint

Move = tuple[str, int]
"""A step of a schedule: (caller, index of a request of its round) or
(caller, -1): the caller crashes and never sends another request."""


class Caller:
    """One plan driven a request at a time, as a shell with slow, reordered
    replies would drive it."""

    def __init__(self, name: str, plan: Plan[Any]) -> None:
        self.name, self.plan = name, plan
        self.done = self.crashed = False
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
        self.left, self.results = list(range(len(self.round))), [None] * len(self.round)

    def perform(self, bucket: MemoryBucket, i: int) -> None:
        self.results[i] = bucket.perform(self.round[i])
        self.left.remove(i)
        if not self.left:
            self._advance(self.results)

    @property
    def active(self) -> bool:
        return not (self.done or self.crashed)


Batches = dict[str, list[tuple[str, Any]]]


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

    def __init__(self, batches: Batches, monkeypatch: pytest.MonkeyPatch) -> None:
        self.saver = MemorySaver(MemoryBucket())
        self.saver.bucket.objects.update(_START[0])
        self.saver.store.conditions.verified = True
        self.checkpoint_id = _START[1]
        # Tokens in call order, as uuid6 would give them.
        tokens = itertools.count(1)
        monkeypatch.setattr(plans, "new_token", lambda: f"{next(tokens):04d}")
        self.callers = {
            name: Caller(name, self.put_writes(batch))
            for name, batch in sorted(batches.items())
        }

    def put_writes(self, batch: Sequence[tuple[str, Any]]) -> Plan[None]:
        return plans.put_writes(self.saver.store, cfg(self.checkpoint_id), batch, "t")

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

    def visible(self) -> set[tuple[str, Any]]:
        return {
            (channel, value)
            for _, channel, value in pending(self.saver, self.checkpoint_id)
        }


def schedules(
    batches: Batches, monkeypatch: pytest.MonkeyPatch, crashes: int
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
        world = World(batches, monkeypatch)
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


def whole_batches(batches: Batches) -> list[set[tuple[str, Any]]]:
    """What readers may see of each caller: its batch, whole (the last write
    to a special channel standing for the channel)."""
    return [set(dict(batch).items()) for batch in batches.values()]


RACES = {
    "insert": {name: [("a", name), ("b", name)] for name in "AB"},
    "overwrite": {
        name: [("__error__", name), ("__interrupt__", name)] for name in "AB"
    },
    "different sizes": {"A": [("a", "A"), ("b", "A")], "B": [("a", "B")]},
}


@pytest.mark.parametrize("race", sorted(RACES))
def test_every_interleaving_of_two_callers_leaves_one_whole_batch(
    race: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = RACES[race]
    winners = []
    for schedule, world in schedules(batches, monkeypatch, crashes=0):
        assert world.visible() in whole_batches(batches), schedule
        winners.append(frozenset(world.visible()))
    # The race really was explored: each caller wins in some schedules, but
    # an overwrite always ends with the newer caller's batch.
    expected = (
        whole_batches(batches)[1:] if race == "overwrite" else whole_batches(batches)
    )
    assert set(winners) == {frozenset(b) for b in expected}


@pytest.mark.parametrize("race", sorted(RACES))
def test_a_crash_before_any_request_leaves_no_part_and_a_retry_finishes(
    race: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = RACES[race]
    retry = (
        [("a", "C"), ("b", "C")]
        if race != "overwrite"
        else [
            ("__error__", "C"),
            ("__interrupt__", "C"),
        ]
    )
    outcomes = set()
    for schedule, world in schedules(batches, monkeypatch, crashes=1):
        seen = world.visible()
        assert seen == set() or seen in whole_batches(batches), schedule
        if any(step < 0 for _, step in schedule):
            outcomes.add(frozenset(seen))
            world.saver.put_writes(cfg(world.checkpoint_id), retry, "t")
            after = world.visible()
            assert after in [*whole_batches(batches), set(retry)], schedule
            if seen and race != "overwrite":
                assert after == seen, "a whole batch was replaced: first wins"
    # Crashes were explored that leave different outcomes (for two batches
    # of two writes, also nothing at all).
    assert len(outcomes) > 1
    assert frozenset() in outcomes or race == "different sizes"


def test_batches_of_three_with_crashes_of_both_callers_never_mix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batches = {name: [("a", name), ("b", name), ("c", name)] for name in "AB"}
    outcomes = set()
    for schedule, world in schedules(batches, monkeypatch, crashes=2):
        seen = world.visible()
        assert seen == set() or seen in whole_batches(batches), schedule
        outcomes.add(frozenset(seen))
    assert outcomes == {frozenset(), *(frozenset(b) for b in whole_batches(batches))}


def test_a_lone_caller_crashing_after_each_write_leaves_none_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = {"A": [("a", "A"), ("b", "A"), ("c", "A")]}
    outcomes = set()
    for schedule, world in schedules(batch, monkeypatch, crashes=1):
        seen = frozenset(world.visible())
        assert seen in (frozenset(), frozenset(batch["A"])), schedule
        outcomes.add(seen)
    assert outcomes == {frozenset(), frozenset(batch["A"])}


# -- the pure rules ------------------------------------------------------------


def stored(task: str, idx: int, token: str | None, members: set[int]) -> StoredWrite:
    batch = WriteBatch(id=token, idx=sorted(members)) if token else None
    return StoredWrite("", task, idx, f"ch{idx}", token, batch)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 3),
        st.tuples(st.sampled_from(["x", "y", None]), st.sets(st.integers(0, 3))),
    )
)
def test_readers_take_a_write_only_with_its_whole_batch(
    slots: dict[int, tuple[str | None, set[int]]],
) -> None:
    writes = [
        stored("t", idx, token, members | {idx})
        for idx, (token, members) in slots.items()
    ]
    kept = whole(writes)
    token_at = {w.idx: (w.batch.id if w.batch else OLD) for w in writes}
    for w in writes:
        complete = w.batch is None or all(
            token_at.get(i) == w.batch.id for i in w.batch.idx
        )
        assert (w in kept) == complete
    # Two batches can never both be whole over a shared key.
    tokens = {w.batch.id for w in kept if w.batch}
    for token in tokens:
        members = next(
            set(w.batch.idx) for w in kept if w.batch and w.batch.id == token
        )
        assert all(token_at[i] == token for i in members)


def test_settle_yields_to_a_whole_batch_and_to_a_newer_leader() -> None:
    ours = frozenset({0, 1})
    theirs = Held("1-A", frozenset({0, 1}), '"a"')
    assert settle("2-B", ours, {0: theirs, 1: theirs}, overwrite=False).done
    newer = Held("3-C", frozenset({0, 1}), '"c"')
    mine = Held("2-B", frozenset({0, 1}), '"b"')
    assert settle("2-B", ours, {0: newer, 1: mine}, overwrite=False).done
    assert settle("2-B", ours, {0: mine, 1: newer}, overwrite=False).replace == (1,)
    assert settle("2-B", ours, {0: theirs, 1: mine}, overwrite=False).take_over
    assert settle("2-B", ours, {0: Held(None), 1: mine}, overwrite=False).take_over
    partial = Held("1-A", frozenset({0, 1, 2}), '"a"')
    assert settle("2-B", ours, {0: partial, 1: partial}, overwrite=False).read == {2}
    assert settle(
        "2-B", ours, {0: Held(OLD, frozenset({0})), 1: mine}, overwrite=False
    ).done
    # An overwrite supersedes an older whole batch, never a newer one.
    assert settle("2-B", ours, {0: theirs, 1: theirs}, overwrite=True).take_over
    assert settle("2-B", ours, {0: newer, 1: newer}, overwrite=True).done
    old = Held(OLD, frozenset({0}))
    assert settle("2-B", ours, {0: old, 1: mine}, overwrite=True).take_over


# -- on a real server ------------------------------------------------------------


def racing(
    endpoint: S3Endpoint, bucket: str, rounds: int
) -> Iterator[tuple[list[list[tuple[str, Any]]], set[tuple[str, Any]]]]:
    savers = [
        S3CheckpointSaver(bucket, s3_client=endpoint.boto3_client()) for _ in "AB"
    ]
    for n in range(rounds):
        parent = savers[0].put(cfg(thread=f"race-{n}"), _checkpoint(n), {"step": n}, {})
        barrier = threading.Barrier(2)
        batches = [[(ch, f"{name}{n}") for ch in "abcd"] for name in "AB"]
        threads = [
            threading.Thread(target=_write, args=(s, barrier, parent, b))
            for s, b in zip(savers, batches, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        found = savers[0].get_tuple(parent)
        assert found is not None
        yield batches, {(ch, v) for _, ch, v in found.pending_writes or []}


def _write(
    saver: S3CheckpointSaver,
    barrier: threading.Barrier,
    config: Any,
    batch: list[tuple[str, Any]],
) -> None:
    barrier.wait()
    saver.put_writes(config, batch, "task")


def _checkpoint(n: int) -> Any:
    from langgraph.checkpoint.base import empty_checkpoint

    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"n": n}
    return checkpoint


def test_racing_savers_on_seaweedfs_leave_one_whole_batch(
    seaweedfs: S3Endpoint,
) -> None:
    for batches, seen in racing(seaweedfs, new_bucket(seaweedfs), rounds=20):
        assert seen in [set(b) for b in batches]


def test_version_1_writes_still_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    world = World({}, monkeypatch)
    world.saver.put_writes(cfg(world.checkpoint_id), [("a", 1), ("b", 2)], "new")
    for key in [k for k in world.saver.bucket.ordered_keys() if "/new_" in k]:
        doc = json.loads(world.saver.bucket.objects[key].body)
        del doc["batch"]
        old_key = key.replace("/new_", "/old_")
        doc.update(version=1, task_id="old")
        world.saver.bucket.put_raw(old_key, json.dumps(doc).encode())
    found = pending(world.saver, world.checkpoint_id)
    assert sorted(found) == [
        ("new", "a", 1),
        ("new", "b", 2),
        ("old", "a", 1),
        ("old", "b", 2),
    ]
