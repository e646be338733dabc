"""What changed, on real graphs and the in-memory bucket: ``diff``, ``history
--patch``, DeltaChannel values in ``dump``, ``read`` and ``diff``, and
``stats --tokens``. The agent (``tests/support/agents.py``) calls tools on a
fake chat model and waits at an interrupt; its DeltaChannel twin stores a
snapshot of its messages only now and then."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from langgraph_checkpoint_s3.cli.rendering import to_json
from tests.support.agents import USAGE, interrupted_agent, run_agent
from tests.support.cli import S3, invoke, invoke_json
from tests.support.graphs import delta_graph, thread
from tests.support.memory_bucket import MemoryBucket, MemorySaver
from tests.support.memory_client import MemoryClient

from .test_cli_storage import normalized, page_samples, quick_start

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture
def bucket() -> MemoryBucket:
    """S3's listing only: these tests are about what is shown, not listed."""
    return MemoryBucket()


def ids(messages: Any) -> list[str]:
    return [m["id"] for m in messages]


def test_diff_shows_the_step_that_asked_for_approval(
    saver: MemorySaver, client: MemoryClient
) -> None:
    interrupted_agent(saver, "agent")
    client.calls.clear()

    found = invoke_json("diff", *S3, "--thread-id", "agent")

    assert (found["from"]["step"], found["to"]["step"]) == (2, 3)
    assert found["ran"] == ["agent"]
    change = found["messages"]["messages"]
    assert (ids(change["added"]), change["removed"], change["edited"]) == (
        ["ai-2"],
        [],
        [],
    )
    assert found["tool_calls"] == [
        {
            "id": "call-2",
            "name": "send_email",
            "args": {"to": "bob", "body": "60F"},
            "result": None,
            "status": None,
        }
    ]
    assert found["interrupts"] == {
        "added": [{"approve": {"to": "bob", "body": "60F"}}],
        "removed": [],
    }
    assert found["metadata"] == {"step": {"before": 2, "after": 3}}
    # The newest as get_tuple reads it, then its parent by id (with their
    # writes): no walk, no full listing.
    assert client.calls == {"HeadBucket": 1, "ListObjectsV2": 3, "GetObject": 5}


def test_diff_pairs_each_tool_call_with_its_result(saver: MemorySaver) -> None:
    graph, config = run_agent(saver, "agent")
    history = list(graph.get_state_history(config))
    first, last = history[-1].config, history[0].config

    args = ["--thread-id", "agent", "--from", first["configurable"]["checkpoint_id"]]
    found = invoke_json("diff", *S3, *args)

    assert found["to"]["checkpoint_id"] == last["configurable"]["checkpoint_id"]
    added = found["messages"]["messages"]["added"]
    assert ids(added) == [
        "human-1",
        "ai-1",
        "tool-call-1",
        "ai-2",
        "tool-call-2",
        "ai-3",
    ]
    assert [(p["name"], p["result"]) for p in found["tool_calls"]] == [
        ("search", "60 degrees and foggy"),
        ("send_email", "sent"),
    ]
    text = invoke(["diff", *S3, *args, "--format", "text"]).stdout.splitlines()
    assert text[0].startswith("---  ") and "step -1  input" in text[0]
    said = [line.split("  ", 1)[1].strip() for line in text[2:]]
    assert [
        line
        for line, raw in zip(said, text[2:], strict=True)
        if raw.startswith("+ messages")
    ] == [
        "human: what's the weather in sf?",
        'ai: → search(query="weather in sf")',
        "tool search: 60 degrees and foggy",
        'ai: → send_email(to="bob", body="60F")',
        "tool send_email: sent",
        "ai: It is 60 degrees and foggy; I told Bob.",
    ]


def test_diff_shows_an_edited_message_and_the_update(saver: MemorySaver) -> None:
    graph, config = run_agent(saver, "agent")
    graph.update_state(config, {"messages": [AIMessage("It is 61.", id="ai-3")]})

    found = invoke_json("diff", *S3, "--thread-id", "agent")
    text = invoke(["diff", *S3, "--thread-id", "agent", "--format", "text"]).stdout

    (edit,) = found["messages"]["messages"]["edited"]
    assert edit["id"] == "ai-3"
    assert (edit["before"]["content"], edit["after"]["content"]) == (
        "It is 60 degrees and foggy; I told Bob.",
        "It is 61.",
    )
    assert found["metadata"]["source"] == {"before": "loop", "after": "update"}
    assert text.splitlines()[2:] == [
        "~ messages  - ai: It is 60 degrees and foggy; I told Bob.",
        "~ messages  + ai: It is 61.",
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--thread-id", "agent", "--to", "nope"],
            "Error: checkpoint not found: --to 'nope' is not in thread 'agent'",
        ),
        (
            ["--thread-id", "other", "--from", "FIRST"],
            "Error: checkpoint not found: --from 'FIRST' is not in thread 'other'",
        ),
        (
            ["--thread-id", "agent", "--checkpoint-ns", "x", "--to", "FIRST"],
            "Error: checkpoint not found: --to 'FIRST' is not in thread 'agent', "
            "namespace 'x'",
        ),
        (
            ["--thread-id", "agent", "--to", "FIRST"],
            "Error: checkpoint 'FIRST' is the first of its line in thread 'agent'",
        ),
        (
            ["--thread-id", "nobody"],
            "Error: thread 'nobody' has no checkpoints in namespace ''",
        ),
    ],
)
def test_diff_refuses_bad_input_in_one_line(
    saver: MemorySaver, args: list[str], error: str
) -> None:
    interrupted_agent(saver, "agent")
    interrupted_agent(saver, "other")  # its ids are not the agent's
    first = list(saver.list(thread("agent")))[-1].config["configurable"]
    args = [a.replace("FIRST", first["checkpoint_id"]) for a in args]
    error = error.replace("FIRST", first["checkpoint_id"])

    result = invoke(["diff", *S3, *args])

    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr.startswith(error), result.stderr
    assert result.stderr.count("\n") == 1


def test_history_patch_tells_the_story_as_a_transcript(saver: MemorySaver) -> None:
    interrupted_agent(saver, "agent")

    lines = invoke(["history", *S3, "--thread-id", "agent", "--patch"]).stdout
    steps = [line for line in lines.splitlines() if "  step " in line]
    patches = [line[1:].strip() for line in lines.splitlines() if line[:3] == "|  "]

    assert len(steps) == 5
    assert [line for line in patches if line.startswith("+ messages ")] == [
        '+ messages   ai: → send_email(to="bob", body="60F")',
        "+ messages        tool search: 60 degrees and foggy",
        '+ messages        ai: → search(query="weather in sf")',
        "+ messages        human: what's the weather in sf?",
    ]
    assert '+ interrupt  {"approve": {"to": "bob", "body": "60F"}}' in patches
    short = next(line for line in lines.splitlines() if "+ __start__ " in line)
    assert short.endswith("chars)")  # cut, and says by how much
    whole = invoke(["history", *S3, "--thread-id", "agent", "--patch", "--full"])
    assert not [x for x in whole.stdout.splitlines() if x.endswith("chars)")]

    entries = invoke_json(
        "history", *S3, "--thread-id", "agent", "--patch", "--format", "json"
    )["checkpoints"]
    assert entries[-1]["patch"]["from"] is None  # the first: against nothing
    assert ids(entries[0]["patch"]["messages"]["messages"]["added"]) == ["ai-2"]


def test_delta_channel_messages_are_rebuilt_everywhere(
    saver: MemorySaver, client: MemoryClient
) -> None:
    graph, config = run_agent(saver, "delta", delta=True)
    state = graph.get_state(config).values["messages"]
    client.calls.clear()

    dumped = invoke_json("dump", *S3, "--thread-id", "delta", "--brief")

    assert dumped["checkpoint"]["channel_values"]["messages"] == to_json(state)
    assert dumped["delta_channels"] == {
        "messages": {"rebuilt_from": "snapshot", "writes": 2, "reducer": "messages"}
    }
    # get_tuple (a LIST, a GET), then the ancestors back to the snapshot.
    assert client.calls == {"HeadBucket": 1, "ListObjectsV2": 4, "GetObject": 9}

    client.calls.clear()
    read = invoke_json("read", *S3, "--thread-id", "delta", "--brief")
    for shown, past in zip(
        read["checkpoints"], graph.get_state_history(config), strict=True
    ):
        values = shown["checkpoint"]["channel_values"]
        assert values.get("messages", []) == to_json(past.values.get("messages", []))
    # What read always read (each checkpoint, each write), and no more.
    stored = [*saver.list(config)]
    assert client.calls["GetObject"] == len(stored) + sum(
        len(t.pending_writes or []) for t in stored
    )

    found = invoke_json("diff", *S3, "--thread-id", "delta")
    assert ids(found["messages"]["messages"]["added"]) == ["ai-3"]
    patch = invoke(["history", *S3, "--thread-id", "delta", "--patch"]).stdout
    assert "+ messages  ai: It is 60 degrees and foggy; I told Bob." in patch


def test_an_unknown_reducer_shows_its_snapshot_and_writes(saver: MemorySaver) -> None:
    delta_graph(saver, steps=3).invoke({"items": [], "n": 0}, thread("items"))

    dumped = invoke_json("dump", *S3, "--thread-id", "items")

    assert "items" not in dumped["checkpoint"]["channel_values"]
    shown = dumped["delta_channels"]["items"]
    assert shown["reducer"] == "unknown"
    assert "the graph's own code" in shown["note"]
    assert (shown["snapshot"], shown["writes"]) == (None, [[], [0], [1], [2]])
    found = invoke_json("diff", *S3, "--thread-id", "items")
    changed = found["channels"]["changed"]["items"]
    assert (changed["before"]["writes"], changed["after"]["writes"]) == (
        [[], [0], [1]],
        [[], [0], [1], [2]],
    )


def test_stats_tokens_adds_up_the_ai_messages(
    saver: MemorySaver, client: MemoryClient
) -> None:
    run_agent(saver, "plain")
    run_agent(saver, "delta", delta=True)
    interrupted_agent(saver, "waiting")
    client.calls.clear()

    found = invoke_json("stats", *S3, "--tokens")

    spent = {t["thread_id"]: t["tokens"] for t in found["threads"]}
    every = {
        "input": sum(i for i, _ in USAGE),
        "output": sum(o for _, o in USAGE),
        "total": sum(i + o for i, o in USAGE),
    }
    two = {"input": 42, "output": 16, "total": 58}
    assert spent == {"delta": every, "plain": every, "waiting": two}
    assert found["total"]["tokens"] == {
        k: 2 * every[k] + two[k] for k in ("input", "output", "total")
    }
    # Per thread the newest state, as dump reads it: "plain" one GET,
    # "waiting" two (its interrupt), "delta" nine (the walk to its snapshot).
    assert client.calls["GetObject"] == 1 + 2 + 9

    table = invoke(["stats", *S3, "--tokens", "--format", "table"]).stdout
    header, *rows = table.splitlines()
    assert header.split()[-1] == "TOKENS"
    assert [r.split()[-1] for r in rows if r] == ["110", "110", "58", "278"]


# -- the samples of docs/cli.md ----------------------------------------------------


def test_diff_samples_are_what_diff_and_history_patch_print(
    bucket: MemoryBucket,
) -> None:
    saver = MemorySaver(bucket, prefix="my-app/checkpoints/")
    quick_start(saver)
    prefix = ["--s3-prefix", "s3://bucket/my-app/checkpoints/"]
    text, patch = page_samples("diff")
    printed = invoke(["diff", *prefix, "--thread-id", "thread-1", "--format", "text"])
    assert normalized(printed.stdout.splitlines()) == normalized(text)
    args = ["history", *prefix, "--thread-id", "thread-1", "--patch"]
    printed = invoke(args)
    assert normalized(printed.stdout.splitlines()) == normalized(patch)


def test_history_patch_json_is_json(saver: MemorySaver) -> None:
    quick_start(saver)
    out = invoke(["history", *S3, "--thread-id", "thread-1", "-p", "--format", "json"])
    assert all("patch" in e for e in json.loads(out.stdout)["checkpoints"])
