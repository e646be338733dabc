"""A state machine of saver calls, each checked against InMemorySaver, for any
saver factory."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointTuple,
)
from langgraph.checkpoint.memory import InMemorySaver

from tests.support.memory_bucket import Cost, MemorySaver
from tests.support.strategies import values

THREADS = ["t1", "t1-b", "user@example.com/chat 1"]


NAMESPACES = ["", "__default__", "graph:1|child:2"]


REGULAR = ["a", "b", "messages"]


SPECIAL = ["__error__", "__interrupt__", "__resume__", "__scheduled__"]


checkpoint_ids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=6)


# Mostly cheap scalars (drawing is most of the machine's time), now and then
# any LangGraph value (messages, pydantic models, nested containers).
state_values = (
    st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8) | st.none() | values
)


def comparable(tup: CheckpointTuple) -> tuple[Any, ...]:
    """A tuple's content; InMemorySaver echoes the caller's config object."""
    configurable = tup.config["configurable"]
    return (
        (configurable["thread_id"], configurable["checkpoint_ns"]),
        configurable["checkpoint_id"],
        tup.checkpoint,
        tup.metadata,
        tup.parent_config,
        tup.pending_writes,
    )


def by_identity(item: tuple[Any, ...]) -> tuple[Any, ...]:
    return item[:2]


def listed(saver: Any, config: Any, **kwargs: Any) -> list[Any]:
    return [comparable(t) for t in saver.list(config, **kwargs)]


SaverFactory = Callable[[], tuple[Any, Callable[[], None]]]
"""Makes the saver under test for one example, and what closes it."""


class SaverComparison(RuleBasedStateMachine):
    @staticmethod
    def make() -> tuple[Any, Callable[[], None]]:
        """The saver under test and what closes it; set by each test."""
        raise NotImplementedError

    def __init__(self) -> None:
        super().__init__()
        self.s3, self._close = self.make()
        self.shares = getattr(self.s3, "_shared", None) is not None and (
            self.s3._shared.threshold == 0
        )
        self.memory = InMemorySaver()
        self.known: dict[tuple[str, str], list[str]] = {}
        self.version = itertools.count(1)

    def teardown(self) -> None:
        self._close()

    @contextmanager
    def _measured(self) -> Iterator[Cost | None]:
        """What the block costs, on an in-memory bucket (None on a server)."""
        if not isinstance(self.s3, MemorySaver):
            yield None
            return
        with self.s3.bucket.measure() as cost:
            yield cost

    def _ids(self, thread: str, ns: str) -> list[str]:
        return self.known.setdefault((thread, ns), [])

    @rule(
        thread=st.sampled_from(THREADS),
        ns=st.sampled_from(NAMESPACES),
        checkpoint_id=checkpoint_ids,
        channels=st.dictionaries(st.sampled_from(REGULAR), state_values, max_size=3),
        step=st.integers(-1, 3),
        source=st.sampled_from(["input", "loop"]),
        run_id=st.sampled_from(["r1", "r2"]),
        data=st.data(),
    )
    def put(
        self,
        thread: str,
        ns: str,
        checkpoint_id: str,
        channels: dict[str, Any],
        step: int,
        source: str,
        run_id: str,
        data: st.DataObject,
    ) -> None:
        ids = self._ids(thread, ns)
        assume(checkpoint_id not in ids)
        parent = data.draw(st.none() | st.sampled_from(ids)) if ids else None
        configurable = {"thread_id": thread, "checkpoint_ns": ns}
        if parent is not None:
            configurable["checkpoint_id"] = parent
        # Versions unique per put: InMemorySaver keys its blobs by version.
        versions: ChannelVersions = {
            name: f"{next(self.version):032}.0" for name in channels
        }
        checkpoint = Checkpoint(
            v=4,
            id=checkpoint_id,
            ts="2026-11-24T00:00:00+00:00",
            channel_values=channels,
            channel_versions=versions,
            versions_seen={"node": dict(versions)},
            updated_channels=sorted(channels),
        )
        metadata: Any = {
            "source": source,
            "step": step,
            "parents": {},
            "run_id": run_id,
        }
        config: RunnableConfig = {"configurable": configurable}
        results = [
            saver.put(config, checkpoint, metadata, versions)
            for saver in (self.s3, self.memory)
        ]
        assert results[0] == results[1]
        ids.append(checkpoint_id)

    @rule(
        thread=st.sampled_from(THREADS),
        ns=st.sampled_from(NAMESPACES),
        special=st.booleans(),
        task_id=st.sampled_from(["task-1", "task_2", ""]),
        task_path=st.sampled_from(["", "~__pregel_pull, a", "~__pregel_push, 0"]),
        data=st.data(),
    )
    def put_writes(
        self,
        thread: str,
        ns: str,
        special: bool,
        task_id: str,
        task_path: str,
        data: st.DataObject,
    ) -> None:
        ids = self._ids(thread, ns)
        # Writes may arrive before their checkpoint: target unknown ids too.
        checkpoint_id = data.draw(st.sampled_from([*ids, "future"]))
        channels = st.sampled_from(SPECIAL if special else REGULAR)
        writes = data.draw(st.lists(st.tuples(channels, state_values), max_size=3))
        config: RunnableConfig = {
            "configurable": {
                "thread_id": thread,
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint_id,
            }
        }
        for saver in (self.s3, self.memory):
            saver.put_writes(config, writes, task_id, task_path)

    @rule(
        thread=st.sampled_from(THREADS),
        ns=st.sampled_from(NAMESPACES),
        data=st.data(),
    )
    def get_tuple(self, thread: str, ns: str, data: st.DataObject) -> None:
        ids = self._ids(thread, ns)
        configurable = {"thread_id": thread, "checkpoint_ns": ns}
        pick: bool = data.draw(st.booleans())
        if ids and pick:
            configurable["checkpoint_id"] = data.draw(st.sampled_from([*ids, "nope"]))
        config: RunnableConfig = {"configurable": configurable}
        with self._measured() as cost:
            ours = self.s3.get_tuple(config)
        theirs = self.memory.get_tuple(config)
        assert (None if ours is None else comparable(ours)) == (
            None if theirs is None else comparable(theirs)
        )
        if cost is not None:
            by_id = "checkpoint_id" in configurable
            if ours is None:
                # By id: the GET beside the LIST of its writes. The newest of
                # an empty root namespace: the LIST from a day ago, the head's
                # GET, the scan's page (and a LIST from the newest id the saver
                # wrote there, when it wrote one since deleted); of another
                # namespace, its first page.
                if by_id:
                    assert cost == Cost(rounds=1, get=1, list=1)
                elif ns == "":
                    assert cost.get == 1 and cost.list in (2, 3), cost
                    assert cost.rounds == cost.list + 1, cost
                else:
                    assert cost == Cost(rounds=1, list=1)
            else:
                # docs/design.md §4: by id, GET and LIST then the W writes; the
                # newest, a LIST first.
                w = len(ours.pending_writes or [])
                # Shared values the saver does not hold: a GET each, in the
                # writes' round (docs/design.md §4).
                v = cost.get - 1 - w if self.shares else 0
                assert 0 <= v <= len(ours.checkpoint["channel_values"]), cost
                if by_id or ns != "":
                    lists, rounds = (1, 1) if by_id else (2, 2)
                    assert cost == Cost(
                        rounds=rounds + (w + v > 0), get=1 + w + v, list=lists
                    )
                else:  # any text as ids: some below the floor of a day ago
                    assert cost.requests <= 5 + w + v, cost

    @rule(
        thread=st.none() | st.sampled_from(THREADS),
        ns=st.none() | st.sampled_from(NAMESPACES),
        filter=st.sampled_from(
            [None, {}, {"step": 1}, {"source": "loop", "run_id": "r2"}, {"x": None}]
        ),
        limit=st.none() | st.integers(0, 4),
        data=st.data(),
    )
    def list_checkpoints(
        self,
        thread: str | None,
        ns: str | None,
        filter: dict[str, Any] | None,
        limit: int | None,
        data: st.DataObject,
    ) -> None:
        config: Any = None
        if thread is not None:
            config = {"configurable": {"thread_id": thread}}
            if ns is not None:
                config["configurable"]["checkpoint_ns"] = ns
        every_id = sorted({i for ids in self.known.values() for i in ids})
        before: Any = None
        pick: bool = data.draw(st.booleans())
        if every_id and pick:
            before = {
                "configurable": {"checkpoint_id": data.draw(st.sampled_from(every_id))}
            }
        kwargs = {"filter": filter, "before": before}
        ours = listed(self.s3, config, **kwargs)
        theirs = listed(self.memory, config, **kwargs)
        one_group = thread is not None and ns is not None
        if one_group:
            assert ours == theirs
        else:
            # Across threads or namespaces InMemorySaver's order is its dicts'
            # insertion order; ours is newest id first throughout.
            assert sorted(ours, key=by_identity) == sorted(theirs, key=by_identity)
            assert [t[1] for t in ours] == sorted((t[1] for t in ours), reverse=True)
        if limit is not None:
            with self._measured() as cost:
                limited = listed(self.s3, config, limit=limit, **kwargs)
            assert limited == ours[:limit]
            if cost is not None and one_group and not filter:
                # docs/design.md §4: k + W + 3 requests in 4 rounds.
                w = sum(len(t[-1]) for t in limited)
                assert cost.requests <= limit + w + 3, cost
                assert cost.rounds <= 4, cost

    @rule(pair=st.permutations(THREADS))
    def copy_thread(self, pair: list[str]) -> None:
        source, to = pair[:2]
        # Both keep what the target has: the copy never overwrites.
        self.s3.copy_thread(source, to)
        model_copy_thread(self.memory, source, to)
        for ns in NAMESPACES:
            ids = self._ids(to, ns)
            ids += [i for i in self._ids(source, ns) if i not in ids]

    @rule(
        threads=st.lists(st.sampled_from(THREADS), max_size=2, unique=True),
        strategy=st.sampled_from(["keep_latest", "delete"]),
    )
    def prune(self, threads: list[str], strategy: str) -> None:
        self.s3.prune(threads, strategy=strategy)
        model_prune(self.memory, threads, strategy)
        for thread in threads:
            for ns in NAMESPACES:
                ids = self._ids(thread, ns)
                ids[:] = [max(ids)] if ids and strategy == "keep_latest" else []

    @rule(run_ids=st.lists(st.sampled_from(["r1", "r2", "r3"]), max_size=2))
    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self.s3.delete_for_runs(run_ids)
        model_delete_for_runs(self.memory, run_ids)
        for (thread, ns), ids in self.known.items():
            alive = self.memory.storage.get(thread, {}).get(ns, {})
            ids[:] = [i for i in ids if i in alive]

    @rule(thread=st.sampled_from(THREADS))
    def delete_thread(self, thread: str) -> None:
        for saver in (self.s3, self.memory):
            saver.delete_thread(thread)
        for ns in NAMESPACES:
            self.known.pop((thread, ns), None)


def model_copy_thread(memory: InMemorySaver, source: str, target: str) -> None:
    for ns, checkpoints in list(memory.storage.get(source, {}).items()):
        for checkpoint_id, saved in checkpoints.items():
            memory.storage[target][ns].setdefault(checkpoint_id, saved)
    for (thread, ns, checkpoint_id), writes in list(memory.writes.items()):
        if thread == source:
            copied = memory.writes[(target, ns, checkpoint_id)]
            for inner, write in writes.items():
                copied.setdefault(inner, write)
    for (thread, ns, channel, version), blob in list(memory.blobs.items()):
        if thread == source:
            memory.blobs.setdefault((target, ns, channel, version), blob)


def model_drop(memory: InMemorySaver, thread: str, ns: str, checkpoint_id: str) -> None:
    del memory.storage[thread][ns][checkpoint_id]
    memory.writes.pop((thread, ns, checkpoint_id), None)


def model_prune(memory: InMemorySaver, threads: list[str], strategy: str) -> None:
    for thread in threads:
        if strategy == "delete":
            memory.delete_thread(thread)
            continue
        for ns, checkpoints in memory.storage.get(thread, {}).items():
            newest = max(checkpoints, default=None)
            for checkpoint_id in [c for c in checkpoints if c != newest]:
                model_drop(memory, thread, ns, checkpoint_id)
        for key in [k for k in memory.writes if k[0] == thread]:
            if key[2] not in memory.storage[thread][key[1]]:
                del memory.writes[key]


def model_delete_for_runs(memory: InMemorySaver, run_ids: Sequence[str]) -> None:
    for thread, namespaces in memory.storage.items():
        for ns, checkpoints in namespaces.items():
            for checkpoint_id, (_, metadata, _) in list(checkpoints.items()):
                if memory.serde.loads_typed(metadata).get("run_id") in run_ids:
                    model_drop(memory, thread, ns, checkpoint_id)


def check(make: SaverFactory, examples: int, steps: int) -> None:
    machine = type("Comparison", (SaverComparison,), {"make": staticmethod(make)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
