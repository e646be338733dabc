"""What ``history`` tells beyond a list of steps, on real graphs and the
in-memory bucket: racing writers (also ``validate``'s warnings), subgraphs
drawn under the step that ran them, lines fit to the terminal, and a thread
with a corrupt object shown whole but for it (also ``read``, ``list
--long``)."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt

from langgraph_checkpoint_s3._keys import CheckpointRef, Layout, WriteRef
from langgraph_checkpoint_s3.cli.history import CUT, cut
from tests.support.cli import S3, URI, invoke, invoke_json
from tests.support.graphs import (
    Chat,
    approval_graph,
    nested_graph,
    thread,
    time_travel,
)
from tests.support.histories import PREFIX
from tests.support.memory_bucket import MemoryBucket, MemorySaver, Stored
from tests.unit.test_cli_storage import normalized, page_samples, quick_start

pytestmark = pytest.mark.usefixtures("client")

LAYOUT = Layout(PREFIX)
ID = r"[0-9a-f]{8}-[0-9a-f-]{27}"


def racing_graph(
    saver: BaseCheckpointSaver[Any], barrier: threading.Barrier
) -> CompiledStateGraph[Any]:
    """The approval graph, whose resumed review waits for another run to
    have resumed too: both read the interrupted checkpoint before either
    writes, as a double-submitted resume does."""

    def draft(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage("draft reply")]}

    def review(state: Chat) -> dict[str, Any]:
        answer = interrupt("send it?")
        barrier.wait()
        return {"messages": [HumanMessage(answer)]}

    builder = StateGraph(Chat)
    builder.add_node("draft", draft)
    builder.add_node("review", review)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "review")
    return builder.compile(checkpointer=saver)


def race(saver: MemorySaver, thread_id: str) -> tuple[str, list[str]]:
    """Two resumes of one interrupted thread at once; the checkpoint they
    both went on from, and their two children of it, newest first."""
    config = thread(thread_id)
    barrier = threading.Barrier(2, timeout=30)
    graph = racing_graph(saver, barrier)
    graph.invoke({"messages": [HumanMessage("hi")]}, config)
    parent = graph.get_state(config).config["configurable"]["checkpoint_id"]
    runs = [
        threading.Thread(target=graph.invoke, args=(Command(resume=answer), config))
        for answer in ("yes", "no")
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    children = [
        t.config["configurable"]["checkpoint_id"]
        for t in saver.list(config)
        if (t.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        == parent
    ]
    return parent, children


def test_racing_resumes_are_flagged_and_time_travel_is_not(
    saver: MemorySaver,
) -> None:
    parent, children = race(saver, "race")
    time_travel(saver, "travel")
    assert len(children) == 2

    document = invoke_json("history", *S3, "--thread-id", "race", "--format", "json")
    flagged = {
        e["checkpoint_id"]: e["concurrent_children"]
        for e in document["checkpoints"]
        if e["concurrent_children"]
    }
    assert flagged == {parent: children}

    lines = invoke(["history", *S3, "--thread-id", "race"]).stdout.splitlines()
    marked = [line for line in lines if "!!" in line]
    assert len(marked) == 1
    assert re.search(rf"{parent}  !! 2 loop children  step ", marked[0])

    travel = invoke(["history", *S3, "--thread-id", "travel"]).stdout
    assert "!!" not in travel and "| *" in travel  # branches, none raced
    travel_json = invoke_json(
        "history", *S3, "--thread-id", "travel", "--format", "json"
    )
    assert all(e["concurrent_children"] == [] for e in travel_json["checkpoints"])

    result = invoke(["validate", *S3])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["failures"] == []
    assert report["warnings"] == [
        {
            "key": LAYOUT.checkpoint_key(CheckpointRef("race", "", parent)),
            "reason": "2 loop children: 2 runs went on from it at once "
            "(racing writers)",
            "concurrent_children": children,
        }
    ]
    one = invoke_json("validate", *S3, "--thread-id", "travel")
    assert one["warnings"] == []


# -- subgraphs --------------------------------------------------------------------


def test_a_subgraph_is_drawn_under_the_step_that_ran_it(saver: MemorySaver) -> None:
    config = thread("nested")
    nested_graph(saver).invoke({"log": []}, config)
    nested_graph(saver).invoke(Command(resume="ok"), config)
    result = invoke(["history", *S3, "--thread-id", "nested"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    document = invoke_json("history", *S3, "--thread-id", "nested", "--format", "json")
    by_id = {e["checkpoint_id"]: e for e in document["checkpoints"]}
    nodes = [line for line in lines if "subgraph " not in line]
    assert sorted(re.findall(ID, "\n".join(nodes))) == sorted(by_id)  # each once

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip("| "))

    headers = [i for i, line in enumerate(lines) if "subgraph " in line]
    assert len(headers) == 2  # middle, and inner inside it
    for at in headers:
        label = lines[at].split("subgraph ")[1]
        task = label.split(":")[1]
        # Right under the step that ran it: one of that step's tasks.
        (host,) = re.findall(ID, lines[at - 1])
        assert task in {w["task_id"] for w in by_id[host]["pending_writes"]}
        inside = []
        for line in lines[at + 1 :]:
            if indent(line) <= indent(lines[at]):
                break
            if "subgraph " not in line:
                inside += re.findall(ID, line)
        assert set(inside) == {
            found
            for found, entry in by_id.items()
            if label in entry["checkpoint_ns"].split("|")
        }
    # The namespace is said once, above its lines, never on each line; and
    # no lane beside the root graph's, which would read as time travel.
    assert not any("[" in line for line in lines)
    assert not any(re.match(r"^\| \*", line) for line in lines)


def test_a_subgraph_read_alone_is_named_once(saver: MemorySaver) -> None:
    """Its host not read (``--checkpoint-ns``), the subgraph is drawn apart,
    under one line naming it, though printed a piece at a time."""
    config = thread("nested")
    nested_graph(saver).invoke({"log": []}, config)
    nested_graph(saver).invoke(Command(resume="ok"), config)
    document = invoke_json("history", *S3, "--thread-id", "nested", "--format", "json")
    inner = next(
        e["checkpoint_ns"] for e in document["checkpoints"] if e["checkpoint_ns"]
    )
    result = invoke(["history", *S3, "--thread-id", "nested", "--checkpoint-ns", inner])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    shown = [e for e in document["checkpoints"] if e["checkpoint_ns"] == inner]
    assert len(shown) > 1 and len(lines) == len(shown) + 1
    assert lines[0].startswith(f"subgraph {inner}  run from ")


# -- width ------------------------------------------------------------------------


def test_history_fits_the_terminal_and_pipes_get_whole_lines(
    saver: MemorySaver,
) -> None:
    config = thread("nested")
    nested_graph(saver).invoke({"log": []}, config)
    whole = invoke(["history", *S3, "--thread-id", "nested"]).stdout.splitlines()
    assert max(len(line) for line in whole) > 80  # into a pipe: uncut
    narrow = invoke(
        ["history", *S3, "--thread-id", "nested"], env={"COLUMNS": "80"}
    ).stdout.splitlines()
    assert len(narrow) == len(whole)
    for full, shown in zip(whole, narrow, strict=True):
        if len(full) <= 80:
            assert shown == full
        else:
            assert len(shown) == 80
            assert shown == full[:79] + CUT


@pytest.mark.parametrize(
    ("width", "expected"),
    [(None, "abcdef"), (6, "abcdef"), (5, "abcd" + CUT), (1, CUT), (0, CUT)],
)
def test_cut(width: int | None, expected: str) -> None:
    assert cut("abcdef", width) == expected


# -- a corrupt object -------------------------------------------------------------


def corrupt(bucket: MemoryBucket, key: str, body: bytes) -> None:
    stored = bucket.objects[key]
    bucket.objects[key] = Stored(body, stored.last_modified, len(body))


NOT_JSON = b"{not json"
NOT_GZIP = b"\x1f\x8b\x08\x00 not gzip"


@pytest.mark.parametrize("body", [NOT_JSON, NOT_GZIP], ids=["not json", "not gzip"])
def test_a_corrupt_checkpoint_is_marked_and_the_rest_shown(
    saver: MemorySaver, bucket: MemoryBucket, body: bytes
) -> None:
    race(saver, "race")
    ids = [
        t.config["configurable"]["checkpoint_id"] for t in saver.list(thread("race"))
    ]
    bad = ids[3]
    key = LAYOUT.checkpoint_key(CheckpointRef("race", "", bad))
    corrupt(bucket, key, body)
    validate = f"run s3-checkpoint validate --s3-prefix {URI} --thread-id race"

    for command in (
        ["history", "--format", "json"],
        ["read"],
        ["list", "--long"],
        ["history"],
    ):
        result = invoke([command[0], *S3, "--thread-id", "race", *command[1:]])
        assert result.exit_code == 4, command
        assert result.stderr.startswith(f"Error: {key}: "), command
        assert result.stderr.endswith(
            f"; 1 of {len(ids)} checkpoints could not be "
            f"read (marked in the output): {validate} to "
            "check every object\n"
        ), command
        assert result.stderr.count("\n") == 1
        if command[0] == "history" and len(command) == 1:
            assert re.findall(ID, result.stdout) == ids
            assert f"{bad}  !! unreadable: " in result.stdout
            continue
        shown = json.loads(result.stdout)["checkpoints"]
        assert [e["checkpoint_id"] for e in shown] == ids
        (broken,) = [e for e in shown if "error" in e]
        assert broken["checkpoint_id"] == bad
        assert set(broken) == {"checkpoint_ns", "checkpoint_id", "error"}
        assert key not in broken["error"]
        assert all(set(e) != set(broken) for e in shown if e is not broken)

    # The checkpoints around it keep what they tell.
    entries = invoke(["history", *S3, "--thread-id", "race", "--format", "json"])
    raced = [
        e
        for e in json.loads(entries.stdout)["checkpoints"]
        if e.get("concurrent_children")
    ]
    assert len(raced) == 1


def test_a_corrupt_write_marks_its_checkpoint(
    saver: MemorySaver, bucket: MemoryBucket
) -> None:
    approval_graph(saver).invoke({"messages": []}, thread("chat"))
    count = len(list(saver.list(thread("chat"))))
    write_keys = sorted(k for k in bucket.objects if "/writes/" in k)
    key = write_keys[0]
    parsed = LAYOUT.parse_write_key(key)
    assert isinstance(parsed, WriteRef)
    corrupt(bucket, key, NOT_JSON)
    result = invoke(["read", *S3, "--thread-id", "chat"])
    assert result.exit_code == 4
    shown = json.loads(result.stdout)["checkpoints"]
    (broken,) = [e for e in shown if "error" in e]
    assert broken["checkpoint_id"] == parsed.checkpoint.checkpoint_id
    assert broken["error"].startswith(f"{key}: ")  # names the bad object
    assert len(shown) == count


# -- the CLI page's samples -------------------------------------------------------


def test_the_pages_samples_are_what_the_cli_prints(bucket: MemoryBucket) -> None:
    saver = MemorySaver(bucket, prefix="my-app/checkpoints/")
    prefix = ["--s3-prefix", f"s3://{bucket.name}/my-app/checkpoints/"]
    race(saver, "race")
    nested_graph(saver).invoke({"log": []}, thread("nested"))
    nested_graph(saver).invoke(Command(resume="ok"), thread("nested"))
    samples = page_samples("history")
    for thread_id, mark in (("race", "!! 2 loop children"), ("nested", "subgraph")):
        (sample,) = [s for s in samples if any(mark in line for line in s)]
        printed = invoke(["history", *prefix, "--thread-id", thread_id]).stdout
        assert normalized(printed.splitlines()) == normalized(sample)

    quick_start(saver)
    config: Any = {"configurable": {"thread_id": "thread-1"}}
    ids = [t.config["configurable"]["checkpoint_id"] for t in saver.list(config)]
    layout = Layout("my-app/checkpoints/")
    corrupt(
        bucket, layout.checkpoint_key(CheckpointRef("thread-1", "", ids[2])), NOT_JSON
    )
    (sample,) = page_samples("list")
    printed = invoke(["list", *prefix, "--thread-id", "thread-1", "--long"]).stderr
    # The page's bucket is the quick start's.
    printed = printed.replace(f"s3://{bucket.name}/", "s3://my-checkpoints-bucket/")
    assert normalized(printed.splitlines()) == normalized(sample)
