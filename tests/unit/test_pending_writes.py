"""Pending writes exactly as LangGraph's InMemorySaver keeps them.

Random sequences of ``put_writes`` calls (tasks, regular and special
channels mixed in a call, re-runs with more or fewer writes) go to
InMemorySaver and to a saver on the in-memory bucket; ``get_tuple``, ``list``
and the DeltaChannel history must return the same pending writes in the same
order. The same sequences run on moto and SeaweedFS.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver

from tests.support.histories import cfg
from tests.support.memory_bucket import Cost, MemoryBucket, MemorySaver
from tests.support.pending import (
    Call,
    calls,
    replay,
)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(calls)
def test_put_writes_keeps_what_in_memory_saver_keeps(sequence: list[Call]) -> None:
    assert replay(MemorySaver(MemoryBucket()), sequence) == replay(
        InMemorySaver(), sequence
    )


def test_a_rerun_keeps_the_first_value_and_adds_new_channels() -> None:
    saver = MemorySaver(MemoryBucket())
    parent = saver.put(cfg(thread="p"), empty_checkpoint(), {"step": 0}, {})
    saver.put_writes(parent, [("log", "done")], "t1")
    saver.put_writes(parent, [("log", "again"), ("extra", "new")], "t1")
    found = saver.get_tuple(parent)
    assert found is not None
    assert found.pending_writes == [("t1", "log", "done"), ("t1", "extra", "new")]


def test_what_a_put_writes_costs() -> None:
    """Uncontended: 1 PUT per write in 1 round. A re-run whose keys are taken:
    all its keys read back in one round, then one conditional PUT per idx it adds
    or overwrites; a regular idx held by an earlier complete call is skipped."""
    saver = MemorySaver(MemoryBucket())
    parent = saver.put(cfg(thread="p"), empty_checkpoint(), {"step": 0}, {})
    bucket = saver.bucket
    with bucket.measure() as cost:
        saver.put_writes(parent, [("a", 1), ("b", 2), ("c", 3)], "t1")
    assert cost == Cost(rounds=1, put=3)
    with bucket.measure() as cost:
        saver.put_writes(parent, [("a", 9), ("b", 9), ("c", 9), ("d", 4)], "t1")
    assert cost == Cost(rounds=2, put=4, get=4)
    with bucket.measure() as cost:
        saver.put_writes(parent, [("__interrupt__", "first")], "t1")
    assert cost == Cost(rounds=1, put=1)
    with bucket.measure() as cost:
        saver.put_writes(parent, [("__interrupt__", "second")], "t1")
    assert cost == Cost(rounds=3, put=2, get=1)
    found = saver.get_tuple(parent)
    assert found is not None
    assert found.pending_writes == [
        ("t1", "__interrupt__", "second"),
        ("t1", "a", 1),
        ("t1", "b", 2),
        ("t1", "c", 3),
        ("t1", "d", 4),
    ]


def test_repeated_overwrites_keep_at_most_two_writes_per_key() -> None:
    """Each overwrite keeps the write it replaced until the next call finds
    it superseded, so a key re-interrupted many times stays small."""
    import json

    saver = MemorySaver(MemoryBucket())
    parent = saver.put(cfg(thread="p"), empty_checkpoint(), {"step": 0}, {})
    for n in range(10):
        saver.put_writes(parent, [("__interrupt__", n), ("__resume__", n)], "t1")
    for key in saver.bucket.ordered_keys():
        if key.startswith(saver.layout.writes_prefix()):
            doc = json.loads(saver.bucket.objects[key].body)
            assert len(doc.get("earlier", [])) <= 1, key
    found = saver.get_tuple(parent)
    assert found is not None
    assert sorted(found.pending_writes or []) == [
        ("t1", "__interrupt__", 9),
        ("t1", "__resume__", 9),
    ]
