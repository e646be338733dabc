"""Real LangGraph graphs on both savers, read back through a new saver instance
as a restarted process would, and compared with InMemorySaver."""

from __future__ import annotations

import asyncio

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from tests.support.graphs import (
    approval_graph,
    delta_graph,
    fan_out_graph,
    nested_graph,
    state_history,
    thread,
)
from tests.support.savers import AsyncSaverFactory, SaverFactory


def test_interrupt_then_resume_after_restart(make_saver: SaverFactory) -> None:
    config = thread("user@example.com/chat 1")
    first = approval_graph(make_saver()).invoke(
        {"messages": [HumanMessage("hi")]}, config
    )
    assert first["__interrupt__"][0].value["question"] == "send it?"

    graph = approval_graph(make_saver())  # a new process
    pending = graph.get_state(config)
    assert pending.next == ("review",)
    assert pending.interrupts[0].value["draft"].content == "draft reply"
    final = graph.invoke(Command(resume="yes"), config)
    assert final["approved"] is True
    assert [m.content for m in final["messages"]] == ["hi", "draft reply", "yes"]

    memory = approval_graph(InMemorySaver())
    memory.invoke({"messages": [HumanMessage("hi")]}, config)
    memory.invoke(Command(resume="yes"), config)
    ours = [
        (len(v["messages"]), n, m["step"]) for v, n, m in state_history(graph, config)
    ]
    theirs = [
        (len(v["messages"]), n, m["step"]) for v, n, m in state_history(memory, config)
    ]
    assert ours == theirs


def test_interrupt_in_nested_subgraphs_resumes_after_restart(
    make_saver: SaverFactory,
) -> None:
    config = thread("nested")
    nested_graph(make_saver()).invoke({"log": []}, config)

    graph = nested_graph(make_saver())
    state = graph.get_state(config, subgraphs=True)
    middle = state.tasks[0].state
    assert middle is not None and not isinstance(middle, dict)
    inner_ns = middle.tasks[0].state.config["configurable"]["checkpoint_ns"]  # type: ignore[union-attr]
    assert inner_ns.count("|") == 1 and inner_ns.startswith("middle:")
    assert state.interrupts[0].value == "deep question"

    final = graph.invoke(Command(resume=42), config)
    memory = nested_graph(InMemorySaver())
    memory.invoke({"log": []}, config)
    assert final == memory.invoke(Command(resume=42), config)
    assert "answer=42" in final["log"]
    saver = make_saver()
    namespaces = {t.config["configurable"]["checkpoint_ns"] for t in saver.list(config)}
    assert "" in namespaces and any("|" in ns for ns in namespaces)


def test_send_fan_out(make_saver: SaverFactory) -> None:
    config = thread("fan-out")
    topics = [f"topic-{i}" for i in range(8)]
    fan_out_graph(make_saver()).invoke({"topics": topics, "results": []}, config)
    state = fan_out_graph(make_saver()).get_state(config)
    assert sorted(state.values["results"]) == sorted(t.upper() for t in topics)
    memory = fan_out_graph(InMemorySaver())
    memory.invoke({"topics": topics, "results": []}, config)
    assert state.values == memory.get_state(config).values


def test_delta_channel_past_two_snapshots_reads_back_exactly(
    make_saver: SaverFactory,
) -> None:
    # 120 steps: two snapshots (every 50 updates) and 20 writes past the last.
    config = thread("delta")
    delta_graph(make_saver(), steps=120).invoke({"items": [], "n": 0}, config)
    ours = delta_graph(make_saver(), steps=120).get_state(config)
    memory = delta_graph(InMemorySaver(), steps=120)
    memory.invoke({"items": [], "n": 0}, config)
    assert ours.values["items"] == list(range(120))
    assert ours.values == memory.get_state(config).values


async def test_async_graph_on_sync_saver(make_saver: SaverFactory) -> None:
    config = thread("async-on-sync")
    graph = approval_graph(make_saver())
    await graph.ainvoke({"messages": [HumanMessage("hi")]}, config)
    final = await approval_graph(make_saver()).ainvoke(Command(resume="no"), config)
    assert final["approved"] is False
    states = [s async for s in graph.aget_state_history(config)]
    assert len(states) == len(state_history(graph, config)) >= 4


async def test_sync_graph_on_async_saver_from_another_thread(
    make_async_saver: AsyncSaverFactory,
) -> None:
    config = thread("sync-on-async")
    async with make_async_saver() as saver:
        graph = approval_graph(saver)
        await asyncio.to_thread(
            graph.invoke, {"messages": [HumanMessage("hi")]}, config
        )
        final = await asyncio.to_thread(graph.invoke, Command(resume="yes"), config)
        assert final["approved"] is True
    async with make_async_saver() as saver:
        restored = await approval_graph(saver).aget_state(config)
        assert restored.values["approved"] is True


async def test_async_graph_on_async_saver_matches_memory(
    make_async_saver: AsyncSaverFactory,
) -> None:
    config = thread("async")
    async with make_async_saver() as saver:
        await delta_graph(saver).ainvoke({"items": [], "n": 190}, config)
    async with make_async_saver() as saver:
        state = await delta_graph(saver).aget_state(config)
    assert state.values == {"items": list(range(190, 200)), "n": 200}
