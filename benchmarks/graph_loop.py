"""Part 3: a LangGraph loop (a counter node looping ``--graph-steps`` times,
plus an ``add_messages`` list channel) invoked once per saver: wall time, S3
requests per super-step, and whether the state read back is right.

Part 6 (:mod:`benchmarks.throughput`) runs the same graph, many threads at
once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph.message import add_messages

from benchmarks.calls import Op, Runner, op_list
from benchmarks.checkpoints import ANSWER
from benchmarks.counting import REQUEST_TYPES, total
from benchmarks.output import fmt_ms, fmt_num, render_table


class LoopState(TypedDict):
    """The graph's state: a counter and an add_messages list channel. At module
    level, so that LangGraph can resolve the annotations."""

    counter: int
    messages: Annotated[list[AnyMessage], add_messages]


def build_graph(steps: int, checkpointer: Any) -> Any:
    from langgraph.graph import END, START, StateGraph

    def count(state: LoopState) -> dict[str, Any]:
        n = state["counter"] + 1
        return {"counter": n, "messages": [AIMessage(content=f"step {n}: {ANSWER}")]}

    def route(state: LoopState) -> str:
        return "count" if state["counter"] < steps else END

    builder = StateGraph(LoopState)
    builder.add_node("count", count)
    builder.add_edge(START, "count")
    builder.add_conditional_edges("count", route)
    return builder.compile(checkpointer=checkpointer)


def run_graph(runner: Runner, steps: int) -> dict[str, Any]:
    graph = build_graph(steps, runner.saver)
    config = {
        "configurable": {"thread_id": f"graph-{uuid.uuid4().hex[:8]}"},
        "recursion_limit": steps + 10,
    }
    initial = {"counter": 0, "messages": [HumanMessage(content=f"count to {steps}")]}
    call = runner.call(
        Op(
            lambda _: graph.invoke(initial, config),
            lambda _: graph.ainvoke(initial, config),
        )
    )
    problems = []
    result = call.value
    if result.get("counter") != steps or len(result.get("messages", [])) != steps + 1:
        problems.append("wrong graph result")
    state = runner.call(
        Op(lambda _: graph.get_state(config), lambda _: graph.aget_state(config)),
        observe=False,
    ).value
    if state.values.get("counter") != steps:
        problems.append(f"state read back: counter={state.values.get('counter')!r}")
    listed = runner.call(op_list(config), observe=False).value
    checkpoints = len(listed)
    out: dict[str, Any] = {
        "wall_s": call.elapsed,
        "node_steps": steps,
        "checkpoints": checkpoints,
        "problems": problems,
        "server": call.server,
        "hooks": call.hooks,
    }
    for source in ("server", "hooks"):
        counts = out[source]
        if counts is not None:
            out[f"{source}_total"] = total(counts)
            out[f"{source}_per_checkpoint"] = (
                total(counts) / checkpoints if checkpoints else None
            )
    return out


def initial_state() -> dict[str, Any]:
    """The input of each graph thread of part 6."""
    return {"counter": 0, "messages": [HumanMessage(content="count")]}


def print_graph(savers: Sequence[dict[str, Any]], steps: int) -> None:
    graphs = [s for s in savers if s.get("graph")]
    if not graphs:
        return
    print(f"\n## 3. LangGraph loop of {steps} steps, one invoke per saver")
    print(
        "   supersteps = checkpoints written (the input, then one per step);"
        " S3 requests as the server saw them"
    )
    headers = [
        "saver",
        "wall ms",
        "supersteps",
        *REQUEST_TYPES,
        "S3 requests",
        "per superstep",
        "result",
    ]
    rows = []
    for s in graphs:
        g = s["graph"]
        if "error" in g:
            rows.append([s["label"], *["-"] * (len(headers) - 2), "ERROR"])
            continue
        counts = g.get("server") or {}
        rows.append(
            [
                s["label"],
                fmt_ms(g["wall_s"]),
                str(g["checkpoints"]),
                *(fmt_num(counts.get(t, 0)) if s["s3"] else "-" for t in REQUEST_TYPES),
                fmt_num(g.get("server_total")) if s["s3"] else "-",
                fmt_num(g.get("server_per_checkpoint")) if s["s3"] else "-",
                "ok" if not g["problems"] else "WRONG",
            ]
        )
    print(render_table(headers, rows))
    for s in graphs:
        g = s["graph"]
        if "error" in g:
            print(f"   ERROR {s['label']}: {g['error']}")
        for p in g.get("problems", []):
            print(f"   WRONG {s['label']}: {p}")
        if g.get("hooks_total") is not None:
            print(
                f"   {s['label']}: botocore hooks counted {g['hooks_total']:g} requests"
                f" ({g['hooks_per_checkpoint']:.2f} per superstep)"
            )
