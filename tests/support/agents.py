"""A tool-calling agent on a fake chat model: it searches, then asks to send
an email, which waits at an interrupt for a person's approval. Its messages
are kept by ``add_messages``, or by a DeltaChannel (LangGraph's message
reducer), which stores a snapshot only now and then."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import (
    FakeMessagesListChatModel,
)
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import _messages_delta_reducer, add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt

QUESTION = "what's the weather in sf?"
USAGE = [(12, 7), (30, 9), (41, 11)]
"""(input, output) tokens of the model's three answers."""


def _answers() -> list[BaseMessage]:
    calls = [
        {"name": "search", "args": {"query": "weather in sf"}, "id": "call-1"},
        {"name": "send_email", "args": {"to": "bob", "body": "60F"}, "id": "call-2"},
    ]
    contents = ["", "", "It is 60 degrees and foggy; I told Bob."]
    found: list[BaseMessage] = []
    for i, ((inputs, outputs), content) in enumerate(zip(USAGE, contents, strict=True)):
        found.append(
            AIMessage(
                content,
                id=f"ai-{i + 1}",
                tool_calls=calls[i : i + 1] if i < 2 else [],
                usage_metadata={
                    "input_tokens": inputs,
                    "output_tokens": outputs,
                    "total_tokens": inputs + outputs,
                },
            )
        )
    return found


class Agent(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


class DeltaAgent(TypedDict):
    messages: Annotated[
        list[AnyMessage], DeltaChannel(_messages_delta_reducer, snapshot_frequency=4)
    ]


def agent_graph(
    saver: BaseCheckpointSaver[Any], *, delta: bool = False
) -> CompiledStateGraph[Any]:
    model = FakeMessagesListChatModel(responses=_answers())

    def agent(state: dict[str, Any]) -> dict[str, Any]:
        answered = sum(1 for m in state["messages"] if isinstance(m, AIMessage))
        return {"messages": [model.responses[answered]]}

    def tools(state: dict[str, Any]) -> dict[str, Any]:
        last = state["messages"][-1]
        assert isinstance(last, AIMessage)
        results = []
        for call in last.tool_calls:
            if call["name"] == "send_email":
                answer = interrupt({"approve": call["args"]})
                content = "sent" if answer == "yes" else "not sent"
            else:
                content = "60 degrees and foggy"
            results.append(
                ToolMessage(
                    content,
                    tool_call_id=call["id"],
                    name=call["name"],
                    id=f"tool-{call['id']}",
                )
            )
        return {"messages": results}

    def route(state: dict[str, Any]) -> str:
        last = state["messages"][-1]
        return "tools" if isinstance(last, AIMessage) and last.tool_calls else END

    builder = StateGraph(DeltaAgent if delta else Agent)
    builder.add_node("agent", agent)  # type: ignore[type-var]
    builder.add_node("tools", tools)  # type: ignore[type-var]
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=saver)


def run_agent(
    saver: BaseCheckpointSaver[Any], thread_id: str, *, delta: bool = False
) -> tuple[CompiledStateGraph[Any], RunnableConfig]:
    """Ask, stop at the email's approval, approve: the whole conversation."""
    graph = agent_graph(saver, delta=delta)
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    graph.invoke({"messages": [HumanMessage(QUESTION, id="human-1")]}, config)
    graph.invoke(Command(resume="yes"), config)
    return graph, config


def interrupted_agent(
    saver: BaseCheckpointSaver[Any], thread_id: str, *, delta: bool = False
) -> tuple[CompiledStateGraph[Any], RunnableConfig]:
    """Ask, and stop at the email's approval."""
    graph = agent_graph(saver, delta=delta)
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    graph.invoke({"messages": [HumanMessage(QUESTION, id="human-1")]}, config)
    return graph, config
