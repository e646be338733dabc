"""A small graph for LangGraph's Agent Server: draft a reply, ask a person
to approve it (``interrupt``), then send it. No LLM: ``draft`` stands in for
one, and ``delay`` stands in for the time a model call takes."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class Ticket(TypedDict, total=False):
    request: str
    delay: float
    draft: str
    approved: bool
    sent: str


async def draft(state: Ticket) -> dict[str, Any]:
    await asyncio.sleep(state.get("delay", 0))
    return {"draft": f"Thanks for writing about {state['request']!r}."}


def review(state: Ticket) -> dict[str, Any]:
    answer = interrupt({"question": "Send this reply?", "draft": state["draft"]})
    return {"approved": bool(answer)}


def send(state: Ticket) -> dict[str, Any]:
    return {"sent": state["draft"] if state["approved"] else ""}


graph = (
    StateGraph(Ticket)
    .add_node("draft", draft)
    .add_node("review", review)
    .add_node("send", send)
    .add_edge(START, "draft")
    .add_edge("draft", "review")
    .add_edge("review", "send")
    .add_edge("send", END)
    .compile()
)
