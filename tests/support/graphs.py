"""Real LangGraph graphs the tests run: an approval with an interrupt, nested
subgraphs, a Send fan-out and a DeltaChannel, and their thread configs."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Send, interrupt


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


def state_history(graph: CompiledStateGraph[Any], config: RunnableConfig) -> list[Any]:
    return [(s.values, s.next, s.metadata) for s in graph.get_state_history(config)]


class Doc(TypedDict):
    doc: Any
    note: str
    counter: int


def doc_graph(saver: Any, steps: int) -> Any:
    """A document given at the input and never changed; a ~150-byte note and
    a counter changed by every step, for ``steps`` steps."""

    def step(state: Doc) -> dict[str, Any]:
        n = state["counter"] + 1
        return {
            "note": f"step {n}: " + "looked at the document again " * 5,
            "counter": n,
        }

    builder = StateGraph(Doc)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges(
        "step", lambda s: END if s["counter"] >= steps else "step"
    )
    return builder.compile(checkpointer=saver)


def time_travel(saver: BaseCheckpointSaver[Any], thread_id: str = "chat") -> None:
    """The approval graph: interrupted, resumed, then its state updated at
    the first loop step, and run again from the input (a fork): children
    made by ``update_state`` and by a replay, beside loop ones."""
    config = thread(thread_id)
    graph = approval_graph(saver)
    graph.invoke({"messages": [HumanMessage("hi")]}, config)
    graph.invoke(Command(resume="yes"), config)
    past = list(graph.get_state_history(config))
    graph.update_state(past[-2].config, {"approved": False})
    graph.invoke(None, past[-1].config)
