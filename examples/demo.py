#!/usr/bin/env python
"""A LangGraph graph checkpointing to S3, then its history read back with the CLI.

Everything runs locally: an embedded S3 server (moto) on 127.0.0.1, a small
support-reply graph with a human approval step (``interrupt()``), resumed with
``Command(resume=...)``. No LLM, no network. Run it from the repository root::

    python examples/demo.py
"""

from __future__ import annotations

import os

# Strict deserialization (docs/security.md): LangGraph reads this once, when it
# is first imported, so it is set before any import below.
os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")

import logging
import shlex
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, TypedDict

import boto3
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt

from langgraph_checkpoint_s3 import S3CheckpointSaver

BUCKET = "demo-checkpoints"
PREFIX = "support-bot/"
THREAD_ID = "ticket-1234"
# moto accepts any credentials; these only keep the SDK from looking for real ones.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


# -- an S3 server on loopback -------------------------------------------------


@contextmanager
def local_s3() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 and a free port; yields its URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        if server._server is not None:  # stop() leaves the socket open
            server._server.server_close()


# -- the graph ------------------------------------------------------------------


class Ticket(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    approved: bool


def draft_reply(state: Ticket) -> dict[str, Any]:
    """Stands in for an LLM call: drafts a reply to the customer."""
    return {
        "messages": [
            AIMessage("Sorry about the broken mug! I can refund order #1234 in full.")
        ]
    }


def human_review(state: Ticket) -> dict[str, Any]:
    """Stops the graph until a person approves or rejects the draft."""
    decision = interrupt(
        {"question": "Send this reply?", "draft": state["messages"][-1].content}
    )
    return {"approved": decision == "approve", "messages": [HumanMessage(decision)]}


def send_reply(state: Ticket) -> dict[str, Any]:
    outcome = "Reply sent." if state["approved"] else "Reply discarded."
    return {"messages": [AIMessage(outcome)]}


def build_graph(saver: S3CheckpointSaver) -> CompiledStateGraph[Any]:
    builder = StateGraph(Ticket)
    builder.add_node("draft_reply", draft_reply)
    builder.add_node("human_review", human_review)
    builder.add_node("send_reply", send_reply)
    builder.add_edge(START, "draft_reply")
    builder.add_edge("draft_reply", "human_review")
    builder.add_edge("human_review", "send_reply")
    builder.add_edge("send_reply", END)
    return builder.compile(checkpointer=saver)


# -- output -------------------------------------------------------------------


def heading(title: str) -> None:
    print(f"\n== {title}", flush=True)


def show_messages(messages: Sequence[AnyMessage]) -> None:
    for message in messages:
        print(f"  {message.type:>5}: {message.content}")


def run_graph(graph: CompiledStateGraph[Any], config: RunnableConfig) -> None:
    heading("Run 1: the graph drafts a reply and stops for human review")
    first = graph.invoke(
        {"messages": [HumanMessage("My mug arrived broken. Refund please?")]}, config
    )
    show_messages(first["messages"])
    for pending in first["__interrupt__"]:
        print(f"  interrupt: {pending.value}")

    heading('Run 2: resumed with Command(resume="approve")')
    final = graph.invoke(Command(resume="approve"), config)
    show_messages(final["messages"])
    print(f"  approved: {final['approved']}")


def show_stored(saver: S3CheckpointSaver, config: RunnableConfig) -> None:
    heading("Stored checkpoints (saver.list), newest first, with their pending writes")
    for item in saver.list(config):
        step = item.metadata["step"]
        checkpoint_id = item.config["configurable"]["checkpoint_id"]
        channels = ", ".join(channel for _, channel, _ in item.pending_writes or [])
        print(f"  step {step:>2}  {checkpoint_id}  writes: {channels or '-'}")


# -- the CLI, as a user would run it --------------------------------------------


def cli_env() -> dict[str, str]:
    """This environment without any AWS setting of the user's, plus moto's
    credentials, so the CLI can only reach the local server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, **CREDENTIALS}


def s3_checkpoint(*args: str) -> str:
    """Run ``s3-checkpoint ARGS``, show the command and its output; returns stdout."""
    heading("$ " + shlex.join(["s3-checkpoint", *args]))
    command = [sys.executable, "-m", "langgraph_checkpoint_s3.cli", *args]
    done = subprocess.run(
        command, env=cli_env(), capture_output=True, text=True, check=False
    )
    print(done.stdout, end="", flush=True)
    if done.returncode != 0:
        print(done.stderr, end="", file=sys.stderr)
        raise SystemExit(f"s3-checkpoint exited with code {done.returncode}")
    return done.stdout


def main() -> None:
    with local_s3() as endpoint_url:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        )
        client.create_bucket(Bucket=BUCKET)
        print(f"S3 server (moto) at {endpoint_url}; checkpoints go to ", end="")
        print(f"s3://{BUCKET}/{PREFIX}")

        config: RunnableConfig = {"configurable": {"thread_id": THREAD_ID}}
        with S3CheckpointSaver(BUCKET, prefix=PREFIX, s3_client=client) as saver:
            run_graph(build_graph(saver), config)
            show_stored(saver, config)

        where = ["--s3-prefix", f"s3://{BUCKET}/{PREFIX}"]
        where += ["--endpoint-url", endpoint_url]
        s3_checkpoint("threads", *where)
        s3_checkpoint("list", *where, "--thread-id", THREAD_ID)
        # What a person wants to see last: the thread's steps, as a graph log.
        s3_checkpoint("history", *where, "--thread-id", THREAD_ID)
    print("\nDone: the S3 server is stopped.")


if __name__ == "__main__":
    main()
