"""Bounded storage (``plans.py``) on the in-memory bucket: what a prefix
holds from LIST alone, idle threads expired whole, keep-last pruning that
leaves every kept checkpoint reading back as before, on real graphs.

Budgets are exact (see ``test_plans.py``): requests per kind and rounds.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from langgraph_checkpoint_s3 import plans
from langgraph_checkpoint_s3._keys import CheckpointRef, Layout
from langgraph_checkpoint_s3.plans import Expiry, IdleThread, Tally
from langgraph_checkpoint_s3.protocol import Delete, Get, List, Request
from tests.support.graphs import approval_graph, delta_graph, nested_graph, thread
from tests.support.histories import WRITES, cfg, history
from tests.support.memory_bucket import (
    Cost,
    MemoryBucket,
    MemorySaver,
    SeaweedFSBucket,
    Stored,
)

SECOND = datetime.timedelta(seconds=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture(params=[MemoryBucket, SeaweedFSBucket], ids=["s3", "seaweedfs"])
def bucket(request: pytest.FixtureRequest) -> MemoryBucket:
    made: MemoryBucket = request.param()
    return made


@pytest.fixture
def saver(bucket: MemoryBucket) -> MemorySaver:
    return MemorySaver(bucket, prefix="p/")


def thread_keys(saver: MemorySaver, thread_id: str) -> list[str]:
    layout = saver.layout
    roots = (
        layout.thread_checkpoints_prefix(thread_id),
        layout.thread_writes_prefix(thread_id),
    )
    return sorted(k for k in saver.bucket.objects if k.startswith(roots))


def latest(bucket: MemoryBucket) -> datetime.datetime:
    return max(stored.last_modified for stored in bucket.objects.values())


def expected_tally(saver: MemorySaver, keys: list[str]) -> Tally:
    stored = [saver.bucket.objects[k] for k in keys]
    return Tally(
        checkpoints=sum(1 for k in keys if saver.layout.parse_checkpoint_key(k)),
        writes=sum(1 for k in keys if saver.layout.parse_write_key(k)),
        other=sum(
            1
            for k in keys
            if not saver.layout.parse_checkpoint_key(k)
            and not saver.layout.parse_write_key(k)
        ),
        bytes=sum(s.size for s in stored),
        oldest=min(s.last_modified for s in stored),
        newest=max(s.last_modified for s in stored),
    )


# -- usage ------------------------------------------------------------------------


def test_usage_tallies_each_namespace_from_list_alone(saver: MemorySaver) -> None:
    history(saver, 3)
    history(saver, 2, ns="child:1")
    history(saver, 1, thread="t-b")
    stray = saver.layout.thread_checkpoints_prefix("t") + "notes.txt"
    saver.bucket.put_raw(stray, b"not a checkpoint")
    orphan = saver.layout.checkpoints_prefix() + "%ZZ/x.json"  # no thread
    saver.bucket.put_raw(orphan, b"{}")

    with saver.bucket.measure() as cost:
        found = saver.run(plans.usage(saver.context))

    assert cost == Cost(rounds=1, list=3)  # checkpoints, writes, shared values
    default = [k for k in thread_keys(saver, "t") if "/__default__/" in k]
    assert found.namespaces[("t", "")] == expected_tally(saver, default)
    assert found.namespaces[("t", "")].checkpoints == 3
    assert found.namespaces[("t", "")].writes == 3 * WRITES
    assert found.namespaces[("t", "child:1")].objects == 2 * (1 + WRITES)
    assert found.strays == {
        "t": expected_tally(saver, [stray]),
        None: expected_tally(saver, [orphan]),
    }
    threads = found.threads()
    assert list(threads) == ["t", "t-b"]
    assert threads["t"] == expected_tally(saver, thread_keys(saver, "t"))
    assert found.total() == expected_tally(saver, sorted(saver.bucket.objects))

    with saver.bucket.measure() as cost:
        one = saver.run(plans.usage(saver.context, "t-b"))
    assert cost == Cost(rounds=1, list=3)
    assert one.threads() == {"t-b": expected_tally(saver, thread_keys(saver, "t-b"))}


def test_usage_pages_through_a_thousand_keys(saver: MemorySaver) -> None:
    layout = saver.layout
    for i in range(1001):
        ref = CheckpointRef("big", "", f"{i:05d}")
        saver.bucket.put_raw(layout.checkpoint_key(ref), b"{}")
    with saver.bucket.measure() as cost:
        found = saver.run(plans.usage(saver.context))
    # Two pages of checkpoints beside one of writes and one of values: two rounds.
    assert cost == Cost(rounds=2, list=4)
    assert found.threads()["big"].checkpoints == 1001
    assert found.threads()["big"].bytes == 2 * 1001


# -- idle expiry ------------------------------------------------------------------


def setup_threads(saver: MemorySaver) -> datetime.datetime:
    """Threads "old" and "old-2" written first, then the others; returns a
    cutoff between the two times. "busy" has old checkpoints but a write
    stored after the cutoff; "nested" is old in its root namespace only;
    "old-b" shares its first letters with "old" and is fresh."""
    history(saver, 3, thread="old")
    history(saver, 2, thread="old-2", ns="child:1")
    busy = history(saver, 2, thread="busy")
    history(saver, 2, thread="nested")
    before = latest(saver.bucket) + SECOND
    saver.put_writes(cfg(busy[0], "busy"), [("late", 1)], "late-task")
    history(saver, 1, thread="nested", ns="child:1")
    history(saver, 1, thread="old-b")
    return before


def test_expire_idle_deletes_whole_threads_idle_in_every_key(
    saver: MemorySaver,
) -> None:
    before = setup_threads(saver)
    doomed = {t: thread_keys(saver, t) for t in ("old", "old-2")}
    kept = sorted(set(saver.bucket.objects) - {k for ks in doomed.values() for k in ks})
    idle = datetime.timedelta(days=30)
    expired = tuple(
        IdleThread(
            t,
            max(saver_time(saver, k) for k in doomed[t]),
            len(doomed[t]),
            sum(len(body(saver, k)) for k in doomed[t]),
        )
        for t in ("old", "old-2")
    )

    with saver.bucket.measure() as cost:
        expiry = saver.expire_idle(idle, now=before + idle)

    # The sweep's three LISTs; each idle thread's four (checkpoints, writes,
    # heads, shared values); one DeleteObjects.
    assert cost == Cost(rounds=3, list=3 + 2 * 4, delete=1)
    assert expiry == Expiry(cutoff=before, expired=expired, revived=(), active=3)
    assert sorted(saver.bucket.objects) == kept
    assert len(list(saver.list(cfg(thread="busy")))) == 2  # not a checkpoint less


def saver_time(saver: MemorySaver, key: str) -> datetime.datetime:
    return saver.bucket.objects[key].last_modified


def body(saver: MemorySaver, key: str) -> bytes:
    return saver.bucket.objects[key].body


def test_expire_dry_run_only_lists(saver: MemorySaver) -> None:
    before = setup_threads(saver)
    everything = dict(saver.bucket.objects)
    with saver.bucket.measure() as cost:
        planned = saver.expire_idle(DAY, dry_run=True, now=before + DAY)
    assert cost == Cost(rounds=1, list=3)
    assert saver.bucket.objects == everything
    assert planned.dry_run and planned.active == 3
    done = saver.expire_idle(DAY, now=before + DAY)
    assert done.expired == planned.expired
    assert [t.thread_id for t in done.expired] == ["old", "old-2"]


def test_a_thread_written_during_the_sweep_survives_whole(
    bucket: MemoryBucket,
) -> None:
    saver = MemorySaver(bucket, prefix="p/")
    ids = history(saver, 3, thread="old")
    history(saver, 1, thread="old-too")
    before = latest(bucket) + SECOND
    history(saver, 1, thread="fresh")
    old_keys = thread_keys(saver, "old")
    relist = saver.layout.thread_checkpoints_prefix("old")

    def resume_on_relist(request: Request) -> None:
        # The thread is written after the sweep listed it, before its
        # re-listing: a graph resumed in the middle of the sweep.
        if isinstance(request, List) and request.prefix == relist:
            bucket.fault = None
            saver.put_writes(cfg(ids[-1], "old"), [("resumed", 1)], "resume-task")

    bucket.fault = resume_on_relist
    expiry = saver.expire_idle(DAY, now=before + DAY)

    assert expiry.revived == ("old",)
    assert [t.thread_id for t in expiry.expired] == ["old-too"]
    assert set(old_keys) < set(thread_keys(saver, "old"))
    assert thread_keys(saver, "old-too") == []
    state = saver.get_tuple(cfg(thread="old"))
    assert state is not None and state.checkpoint["channel_values"] == {"count": 2}


def test_a_write_landing_between_the_last_list_and_the_delete_survives_alone(
    saver: MemorySaver,
) -> None:
    """The documented window: a write that lands after a thread's last LIST
    and before its DeleteObjects is not in the deletion."""
    ids = history(saver, 2, thread="old")
    before = latest(saver.bucket) + SECOND
    bucket = saver.bucket

    def write_now(request: Request) -> None:
        if isinstance(request, Delete):
            bucket.fault = None
            saver.put_writes(cfg(ids[-1], "old"), [("late", 1)], "late-task")

    bucket.fault = write_now
    expiry = saver.expire_idle(DAY, now=before + DAY)
    assert [t.thread_id for t in expiry.expired] == ["old"]
    (survivor,) = thread_keys(saver, "old")
    assert saver.layout.parse_write_key(survivor) is not None


def test_expire_works_a_few_threads_at_a_time(saver: MemorySaver) -> None:
    count = 2 * plans.EXPIRE_CHUNK + 6
    for i in range(count):
        history(saver, 1, writes=0, thread=f"t{i:03d}")
    before = latest(saver.bucket) + SECOND
    with saver.bucket.measure() as cost:
        expiry = saver.expire_idle(DAY, now=before + DAY)
    chunks = 3
    assert cost == Cost(rounds=1 + 2 * chunks, list=3 + 4 * count, delete=chunks)
    assert len(expiry.expired) == count
    assert saver.bucket.objects == {}
    # Each chunk's deletion comes right after its own re-listing.
    kinds = [type(r[0]).__name__ for r in cost.log]
    assert kinds == ["List", *["List", "Delete"] * chunks]


def test_expire_lists_a_large_thread_again_page_by_page(saver: MemorySaver) -> None:
    layout = saver.layout
    for i in range(1001):
        ref = CheckpointRef("big", "", f"{i:05d}")
        saver.bucket.put_raw(layout.checkpoint_key(ref), b"{}")
    before = latest(saver.bucket) + SECOND
    with saver.bucket.measure() as cost:
        expiry = saver.expire_idle(DAY, now=before + DAY)
    # Sweep and re-listing: two pages of checkpoints each (and the writes',
    # the values' and the heads' LISTs); two DeleteObjects.
    assert cost == Cost(rounds=2 + 2 + 1, list=4 + 5, delete=2)
    assert expiry.expired[0].objects == 1001
    assert saver.bucket.objects == {}


def test_a_thread_listed_without_last_modified_is_kept(saver: MemorySaver) -> None:
    history(saver, 1, thread="old")
    everything = dict(saver.bucket.objects)
    for key, stored in everything.items():
        saver.bucket.objects[key] = Stored(
            stored.body,
            None,  # type: ignore[arg-type]
            stored.size,
        )
    expiry = saver.expire_idle(DAY, now=latest_or_now() + 400 * DAY)
    assert expiry.expired == () and expiry.active == 1
    assert set(saver.bucket.objects) == set(everything)


def latest_or_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def test_expire_refuses_a_bad_idle_time_before_any_request(
    saver: MemorySaver,
) -> None:
    history(saver, 1)
    with saver.bucket.measure() as cost:
        with pytest.raises(ValueError, match="positive"):
            saver.expire_idle(datetime.timedelta(0))
        with pytest.raises(ValueError, match="timezone-aware"):
            saver.expire_idle(DAY, now=datetime.datetime(2026, 1, 1))
    assert cost == Cost()


async def test_aexpire_idle_is_the_same_plan(saver: MemorySaver) -> None:
    before = setup_threads(saver)
    planned = await saver.aexpire_idle(DAY, dry_run=True, now=before + DAY)
    done = await saver.aexpire_idle(DAY, now=before + DAY)
    assert done.expired == planned.expired
    assert thread_keys(saver, "old") == []


def test_expire_idle_with_the_real_clock(saver: MemorySaver) -> None:
    # The bucket's clock starts 2026-01-01: a year of idleness covers it.
    history(saver, 1, thread="t")
    year = datetime.timedelta(days=365)
    now = datetime.datetime.now(datetime.timezone.utc)
    expiry = saver.expire_idle(year, dry_run=True)
    assert abs(expiry.cutoff - (now - year)) < datetime.timedelta(minutes=1)
    idle = latest(saver.bucket) < expiry.cutoff
    assert [t.thread_id for t in expiry.expired] == (["t"] if idle else [])


# -- keep the newest N ------------------------------------------------------------


def kept_ids(saver: MemorySaver, thread_id: str, ns: str | None = None) -> list[str]:
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    if ns is not None:
        config["configurable"]["checkpoint_ns"] = ns
    return [t.config["configurable"]["checkpoint_id"] for t in saver.list(config)]


def test_prune_keep_last_keeps_the_newest_n_of_each_namespace(
    saver: MemorySaver,
) -> None:
    root = history(saver, 5)
    child = history(saver, 2, ns="child:1")
    history(saver, 4, thread="t-b")
    other_keys = thread_keys(saver, "t-b")

    with saver.bucket.measure() as cost:
        saver.prune_keep_last(["t"], 3)

    # The thread's four LISTs; the namespace with more than 3 has its newest 3
    # read (the DeltaChannel counters; none here); one DeleteObjects. The
    # child namespace, with 2, reads nothing; no shared values, no more GETs.
    assert cost == Cost(rounds=3, list=4, get=3, delete=1)
    assert kept_ids(saver, "t", "") == root[:-4:-1]
    assert kept_ids(saver, "t", "child:1") == child[::-1]
    assert all(len(t.pending_writes or []) == WRITES for t in saver.list(cfg()))
    assert thread_keys(saver, "t-b") == other_keys


def test_prune_keep_last_works_threads_side_by_side(saver: MemorySaver) -> None:
    for name in ("a", "b"):
        history(saver, 4, thread=name)
    with saver.bucket.measure() as cost:
        saver.prune_keep_last(["a", "b", "a"], 2)
    assert cost == Cost(rounds=3, list=8, get=4, delete=2)
    assert [len(kept_ids(saver, name)) for name in ("a", "b")] == [2, 2]


def test_prune_keep_last_with_nothing_to_delete_only_lists(
    saver: MemorySaver,
) -> None:
    history(saver, 3)
    everything = dict(saver.bucket.objects)
    with saver.bucket.measure() as cost:
        saver.prune_keep_last(["t", "absent"], 3)
    assert cost == Cost(rounds=1, list=8)
    assert saver.bucket.objects == everything
    with saver.bucket.measure() as cost, pytest.raises(ValueError, match="at least 1"):
        saver.prune_keep_last(["t"], 0)
    assert cost == Cost()


async def test_aprune_keep_last(saver: MemorySaver) -> None:
    ids = history(saver, 4)
    await saver.aprune_keep_last(["t"], 1)
    assert kept_ids(saver, "t") == ids[-1:]


def snapshots(
    graph: CompiledStateGraph[Any], config: RunnableConfig, ids: list[str]
) -> dict[str, Any]:
    """The state at each checkpoint, as get_state shows it."""
    configurable = config["configurable"]
    return {
        checkpoint_id: graph.get_state(
            {"configurable": {**configurable, "checkpoint_id": checkpoint_id}}
        )
        for checkpoint_id in ids
    }


def test_keep_last_on_a_graph_with_an_interrupt_and_time_travel() -> None:
    saver = MemorySaver(prefix="p/")
    config = thread("chat")
    graph = approval_graph(saver)
    graph.invoke({"messages": [HumanMessage("hi")]}, config)
    graph.invoke(Command(resume="yes"), config)
    past = list(graph.get_state_history(config))
    graph.invoke(None, past[-1].config)  # time travel: a branch from the input
    newest = kept_ids(saver, "chat")[:3]
    state = graph.get_state(config)
    before = snapshots(graph, config, newest)
    assert state.next == ("review",) and state.interrupts

    saver.prune_keep_last(["chat"], 3)

    assert kept_ids(saver, "chat") == newest
    assert graph.get_state(config) == state
    assert snapshots(graph, config, newest) == before
    final = graph.invoke(Command(resume="no"), config)
    memory = approval_graph(InMemorySaver())
    memory.invoke({"messages": [HumanMessage("hi")]}, config)
    expected = memory.invoke(Command(resume="no"), config)
    assert final["approved"] is expected["approved"] is False
    assert [m.content for m in final["messages"]] == [
        m.content for m in expected["messages"]
    ]


def test_keep_last_on_nested_subgraphs_keeps_each_namespace_resumable() -> None:
    saver = MemorySaver(prefix="p/")
    config = thread("nested")
    graph = nested_graph(saver)
    graph.invoke({"log": []}, config)
    namespaces = {t.config["configurable"]["checkpoint_ns"] for t in saver.list(config)}
    assert len(namespaces) == 3
    state = graph.get_state(config, subgraphs=True)

    saver.prune_keep_last(["nested"], 1)

    assert len(kept_ids(saver, "nested")) == len(namespaces)
    assert graph.get_state(config, subgraphs=True) == state
    final = graph.invoke(Command(resume=42), config)
    memory = nested_graph(InMemorySaver())
    memory.invoke({"log": []}, config)
    assert final == memory.invoke(Command(resume=42), config)


def test_keep_last_keeps_what_delta_channel_state_is_rebuilt_from(
    bucket: MemoryBucket,
) -> None:
    saver = MemorySaver(bucket, prefix="p/")
    config = thread("delta")
    graph = delta_graph(saver)
    graph.invoke({"items": [], "n": 0}, config)
    every = kept_ids(saver, "delta")
    newest = every[:3]
    before = snapshots(graph, config, newest)
    expected_chain = set()
    for checkpoint_id in newest:
        walk = saver.run(
            plans_walk(saver, CheckpointRef("delta", "", checkpoint_id), every)
        )
        expected_chain |= {ref.checkpoint_id for ref in walk.chain_refs()}

    with bucket.measure() as cost:
        saver.prune_keep_last(["delta"], 3)

    kept = kept_ids(saver, "delta")
    assert set(kept) == set(newest) | expected_chain
    assert 3 < len(kept) < len(every)
    assert snapshots(graph, config, newest) == before
    assert graph.get_state(config).values == {"items": list(range(200)), "n": 200}
    # The walks share what they fetch: no checkpoint is read twice.
    reads = Counter(
        request.key
        for batch in cost.log
        for request in batch
        if isinstance(request, Get)
    )
    assert reads and max(reads.values()) == 1
    assert all(Layout("p/").parse_checkpoint_key(key) for key in reads)


def plans_walk(saver: MemorySaver, ref: CheckpointRef, ids: list[str]) -> Any:
    """The DeltaChannel walk ``prune`` and ``get_delta_channel_history`` use."""
    from langgraph_checkpoint_s3.plans._history import delta_walk

    refs = [CheckpointRef(ref.thread_id, ref.checkpoint_ns, i) for i in ids]
    return delta_walk(saver.context, ref, refs, None)


def test_keep_last_one_keeps_what_keep_latest_keeps() -> None:
    kept: list[list[Any]] = []
    for how in ("keep_latest", "keep_last"):
        saver = MemorySaver(prefix="p/")
        config = thread("delta")
        delta_graph(saver).invoke({"items": [], "n": 30}, config)
        if how == "keep_latest":
            saver.prune(["delta"])
        else:
            saver.prune_keep_last(["delta"], 1)
        kept.append(
            [t.checkpoint["channel_values"].get("n") for t in saver.list(config)]
        )
    assert kept[0] == kept[1] and len(kept[0]) > 1
