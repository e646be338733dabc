"""Real LangGraph graphs on both savers, read back through a new saver instance
as a restarted process would, and compared with InMemorySaver."""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Send, interrupt

from conftest import AsyncSaverFactory, SaverFactory

# -- graphs -------------------------------------------------------------------


class Chat(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    approved: bool


def approval_graph(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any]:
    def draft(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage("draft reply")]}

    def review(state: Chat) -> dict[str, Any]:
        answer = interrupt({"question": "send it?", "draft": state["messages"][-1]})
        return {"approved": answer == "yes", "messages": [HumanMessage(answer)]}

    builder = StateGraph(Chat)
    builder.add_node("draft", draft)
    builder.add_node("review", review)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "review")
    builder.add_edge("review", END)
    return builder.compile(checkpointer=saver)


def concat(state: list[int], writes: Sequence[list[int]]) -> list[int]:
    return [*state, *(x for batch in writes for x in batch)]


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


class FanOut(TypedDict):
    topics: list[str]
    results: Annotated[list[str], operator.add]


def nested_graph(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any]:
    """An interrupt two subgraphs deep: namespaces like ``outer:<id>|inner:<id>``."""

    def ask(state: Log) -> dict[str, Any]:
        return {"log": [f"answer={interrupt('deep question')}"]}

    inner = StateGraph(Log)
    inner.add_node("ask", ask)
    inner.add_edge(START, "ask")
    middle = StateGraph(Log)
    middle.add_node("inner", inner.compile())
    middle.add_node("after", lambda s: {"log": ["middle done"]})
    middle.add_edge(START, "inner")
    middle.add_edge("inner", "after")
    outer = StateGraph(Log)
    outer.add_node("before", lambda s: {"log": ["start"]})
    outer.add_node("middle", middle.compile())
    outer.add_edge(START, "before")
    outer.add_edge("before", "middle")
    return outer.compile(checkpointer=saver)


def fan_out_graph(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any]:
    def route(state: FanOut) -> list[Send]:
        return [Send("work", {"topic": t}) for t in state["topics"]]

    def work(item: dict[str, str]) -> dict[str, Any]:
        return {"results": [item["topic"].upper()]}

    builder = StateGraph(FanOut)
    builder.add_node("work", work)  # type: ignore[arg-type]
    builder.add_conditional_edges(START, route, ["work"])
    builder.add_edge("work", END)
    return builder.compile(checkpointer=saver)


class Delta(TypedDict):
    items: Annotated[list[int], DeltaChannel(concat, snapshot_frequency=50)]
    n: int


def delta_graph(
    saver: BaseCheckpointSaver[Any], steps: int = 200
) -> CompiledStateGraph[Any]:
    def step(state: Delta) -> dict[str, Any]:
        return {"items": [state["n"]], "n": state["n"] + 1}

    builder = StateGraph(Delta)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", lambda s: END if s["n"] >= steps else "step")
    return builder.compile(checkpointer=saver)


def thread(name: str) -> RunnableConfig:
    return {"configurable": {"thread_id": name}, "recursion_limit": 1000}


def history(graph: CompiledStateGraph[Any], config: RunnableConfig) -> list[Any]:
    return [(s.values, s.next, s.metadata) for s in graph.get_state_history(config)]


# -- tests --------------------------------------------------------------------


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
    ours = [(len(v["messages"]), n, m["step"]) for v, n, m in history(graph, config)]
    theirs = [(len(v["messages"]), n, m["step"]) for v, n, m in history(memory, config)]
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


def test_delta_channel_200_steps_reads_back_exactly(make_saver: SaverFactory) -> None:
    config = thread("delta")
    delta_graph(make_saver()).invoke({"items": [], "n": 0}, config)
    ours = delta_graph(make_saver()).get_state(config)
    memory = delta_graph(InMemorySaver())
    memory.invoke({"items": [], "n": 0}, config)
    assert ours.values["items"] == list(range(200))
    assert ours.values == memory.get_state(config).values


async def test_async_graph_on_sync_saver(make_saver: SaverFactory) -> None:
    config = thread("async-on-sync")
    graph = approval_graph(make_saver())
    await graph.ainvoke({"messages": [HumanMessage("hi")]}, config)
    final = await approval_graph(make_saver()).ainvoke(Command(resume="no"), config)
    assert final["approved"] is False
    states = [s async for s in graph.aget_state_history(config)]
    assert len(states) == len(history(graph, config)) >= 4


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
