"""delete_for_runs, copy_thread, prune and the fast DeltaChannel history, on
real graphs; requests and round trips counted against docs/design.md §4 and issue #5."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    empty_checkpoint,
)

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver
from tests.support.counting import count_requests
from tests.support.graphs import approval_graph, delta_graph, thread
from tests.support.savers import AsyncSaverFactory, SaverFactory


def run_delta(
    saver: BaseCheckpointSaver[Any], name: str, steps: int = 0
) -> RunnableConfig:
    config = thread(name)
    delta_graph(saver).invoke({"items": [], "n": steps}, config)
    return config


async def test_async_delta_history_matches(
    make_saver: SaverFactory, make_async_saver: AsyncSaverFactory
) -> None:
    sync_saver = make_saver()
    config = run_delta(sync_saver, "delta-async", steps=120)
    expected = sync_saver.get_delta_channel_history(config=config, channels=["items"])
    async with make_async_saver() as saver:
        assert isinstance(saver, AsyncS3CheckpointSaver)
        found = await saver.aget_delta_channel_history(
            config=config, channels=["items"]
        )
        state = await delta_graph(saver).aget_state(config)
    assert found == expected
    assert state.values["items"] == list(range(120, 200))


def test_prune_keep_latest_keeps_delta_state_rebuildable(
    make_saver: SaverFactory,
) -> None:
    # 80 steps: past one snapshot (every 50 updates) and 30 beyond it.
    config = run_delta(make_saver(), "prune-delta", steps=120)
    before = delta_graph(make_saver()).get_state(config).values
    saver = make_saver()
    total = len(list(saver.list(config)))
    saver.prune(["prune-delta"], strategy="keep_latest")
    remaining = list(saver.list(config))
    assert 1 < len(remaining) < total  # the latest and its chain to a snapshot
    assert delta_graph(make_saver()).get_state(config).values == before


def test_prune_keep_latest_per_namespace_and_delete(make_saver: SaverFactory) -> None:
    saver = make_saver()
    for ns in ("", "child:1"):
        parent: str | None = None
        for _ in range(3):
            configurable = {"thread_id": "p", "checkpoint_ns": ns}
            if parent:
                configurable["checkpoint_id"] = parent
            checkpoint = empty_checkpoint()
            saver.put({"configurable": configurable}, checkpoint, {}, {})
            stored = {
                "configurable": {**configurable, "checkpoint_id": checkpoint["id"]}
            }
            saver.put_writes(stored, [("x", ns)], "task")  # type: ignore[arg-type]
            parent = checkpoint["id"]
    saver.prune(["p", "absent"])
    kept = list(saver.list({"configurable": {"thread_id": "p"}}))
    assert sorted(t.config["configurable"]["checkpoint_ns"] for t in kept) == [
        "",
        "child:1",
    ]
    assert all(
        t.pending_writes == [("task", "x", t.config["configurable"]["checkpoint_ns"])]
        for t in kept
    )
    saver.prune(["p"], strategy="delete")
    assert list(saver.list({"configurable": {"thread_id": "p"}})) == []
    with pytest.raises(ValueError, match="unknown prune strategy"):
        saver.prune(["p"], strategy="oldest")


def test_copy_thread_then_continue_on_the_copy(make_saver: SaverFactory) -> None:
    source, target = thread("source"), thread("copy")
    approval_graph(make_saver()).invoke({"messages": [("user", "hi")]}, source)
    saver = make_saver()
    saver.copy_thread("source", "copy")
    saver.copy_thread("missing", "elsewhere")  # a no-op
    copied = list(saver.list(target))
    original = list(saver.list(source))
    assert [t.checkpoint for t in copied] == [t.checkpoint for t in original]
    assert [t.pending_writes for t in copied] == [t.pending_writes for t in original]
    parents = [t.parent_config for t in copied if t.parent_config]
    assert all(p["configurable"]["thread_id"] == "copy" for p in parents)

    from langgraph.types import Command

    final = approval_graph(make_saver()).invoke(Command(resume="yes"), target)
    assert final["approved"] is True
    assert approval_graph(saver).get_state(source).next == ("review",)


def test_delete_for_runs_across_threads_and_namespaces(
    make_saver: SaverFactory,
) -> None:
    saver = make_saver()
    placed = []
    for thread_id, ns, run_id in [
        ("a", "", "run-1"),
        ("a", "sub:1", "run-1"),
        ("b", "", "run-1"),
        ("b", "", "run-2"),
        ("c", "", "run-3"),
    ]:
        checkpoint = empty_checkpoint()
        config: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns}}
        stored = saver.put(config, checkpoint, {"run_id": run_id}, {})
        saver.put_writes(stored, [("x", 1)], "task")
        placed.append((stored, run_id))
    with count_requests(saver.client) as counts:
        saver.delete_for_runs(["run-1", "run-3"])
    for stored, run_id in placed:
        assert (saver.get_tuple(stored) is None) == (run_id != "run-2")
    keys = saver.client.list_objects_v2(
        Bucket=saver.bucket_name, Prefix=saver.layout.prefix
    )
    assert len(keys.get("Contents", [])) == 2  # run-2's checkpoint and write
    assert counts["GetObject"] == len(placed) and counts["DeleteObjects"] == 1
    saver.delete_for_runs([])
