"""The CLI for people, without a server: ``history``, ``stats``, ``expire``,
``prune --keep-last``, and the rough edges a new user meets (a prefix off by
one level, empty results, ``dump`` defaults, ``list --long``, ``--brief``,
``--debug`` after the command, ``--version``).

Every command runs in-process through click's CliRunner on an in-memory
bucket (``memory_client.py``): the real ``S3CheckpointSaver`` on a client
that answers from a dict, so the requests each command makes are counted.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.types import Command

from langgraph_checkpoint_s3 import plans
from langgraph_checkpoint_s3._keys import CheckpointRef
from langgraph_checkpoint_s3.cli import cleanup as cli_cleanup
from langgraph_checkpoint_s3.cli import cli
from langgraph_checkpoint_s3.cli.history import graph_lines
from langgraph_checkpoint_s3.cli.options import parse_duration
from langgraph_checkpoint_s3.cli.reports import GB, USD_PER_GB_MONTH, monthly_cost
from tests.support import ROOT
from tests.support.cli import S3, URI, invoke, invoke_json
from tests.support.graphs import (
    approval_graph,
    delta_graph,
    nested_graph,
    thread,
    time_travel,
)
from tests.support.memory_bucket import MemoryBucket, MemorySaver, Stored
from tests.support.memory_client import MemoryClient

NOW = datetime.datetime.now(datetime.timezone.utc)
# Every command here reads the memory bucket through the patched client.
pytestmark = pytest.mark.usefixtures("client")


def stamp(bucket: MemoryBucket, keys: Sequence[str], when: datetime.datetime) -> None:
    """Make ``keys`` look last modified at ``when``."""
    for key in keys:
        stored = bucket.objects[key]
        bucket.objects[key] = Stored(stored.body, when, stored.size)


def keys_of(bucket: MemoryBucket, thread_id: str) -> list[str]:
    return sorted(k for k in bucket.objects if f"/{thread_id}/" in k)


# -- history ----------------------------------------------------------------------

_NODE = re.compile(
    r"^(?P<graph>[*|/_ ]+?)\s+(?P<id>[0-9a-f-]{36})  "
    r"(?P<rest>.*?)  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  (?P<after>.*)$"
)


def test_history_draws_the_branches_of_time_travel(saver: MemorySaver) -> None:
    time_travel(saver)
    result = invoke(["history", *S3, "--thread-id", "chat"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    shown = []
    for line in result.stdout.splitlines():
        found = _NODE.match(line)
        if found is None:
            assert set(line) <= set("|/_ "), line
            shown.append((line.rstrip(), "", ""))
        else:
            shown.append(
                (found["graph"].rstrip(), found["rest"], _without_ids(found["after"]))
            )
    ask = 'interrupt {"question": "send it?", "draft": {"content": "draft repl...'
    assert shown == [
        ("*", "step 2  loop", f"ran draft  1 write  {ask}"),
        ("*", "step 1  loop", "ran __start__  2 writes"),
        ("*", "step 0  fork", "2 writes"),
        ("| *", "step 1  update", "0 writes"),
        ("| | *", "step 2  loop", "ran review  0 writes"),
        ("| | *", "step 1  loop", f"ran draft  5 writes  {ask}"),
        ("| |/", "", ""),
        ("| *", "step 0  loop", "ran __start__  2 writes"),
        ("|/", "", ""),
        ("*", "step -1  input", "2 writes"),
    ]
    listed = [
        t.config["configurable"]["checkpoint_id"] for t in saver.list(thread("chat"))
    ]
    ids = re.findall(r"[0-9a-f]{8}-[0-9a-f-]{27}", result.stdout)
    assert ids == listed


def _without_ids(text: str) -> str:
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", text)


def test_history_json_has_each_checkpoints_story(
    saver: MemorySaver, client: MemoryClient
) -> None:
    time_travel(saver)
    client.calls.clear()
    document = invoke_json("history", *S3, "--thread-id", "chat", "--format", "json")
    tuples = list(saver.list(thread("chat")))
    assert document["thread_id"] == "chat"
    entries = document["checkpoints"]
    assert [e["checkpoint_id"] for e in entries] == [
        t.config["configurable"]["checkpoint_id"] for t in tuples
    ]
    for entry, item in zip(entries, tuples, strict=True):
        parent = (item.parent_config or {}).get("configurable", {})
        assert entry["parent_checkpoint_id"] == parent.get("checkpoint_id")
        assert entry["step"] == item.metadata["step"]
        assert entry["source"] == item.metadata["source"]
        assert entry["ts"] == item.checkpoint["ts"]
        assert entry["pending_writes"] == [
            {"task_id": task, "channel": channel}
            for task, channel, _ in item.pending_writes or []
        ]
    assert [e["ran"] for e in entries] == [
        ["draft"],
        ["__start__"],
        [],
        [],
        ["review"],
        ["draft"],
        ["__start__"],
        [],
    ]
    asked = [e["interrupts"] for e in entries]
    assert [len(a) for a in asked] == [1, 0, 0, 0, 0, 1, 0, 0]
    assert asked[0][0]["question"] == "send it?"
    assert asked[0][0]["draft"]["content"] == "draft reply"
    # Read as `read` reads: the checkpoints and writes, no more.
    checkpoints, writes = len(tuples), sum(len(t.pending_writes or []) for t in tuples)
    assert client.calls == {
        "HeadBucket": 1,
        "ListObjectsV2": 2,
        "GetObject": checkpoints + writes,
    }


def test_history_of_nested_subgraphs_names_namespaces_and_pruned_parents(
    saver: MemorySaver,
) -> None:
    config = thread("nested")
    nested_graph(saver).invoke({"log": []}, config)
    nested_graph(saver).invoke(Command(resume="ok"), config)
    saver.prune_keep_last(["nested"], 1)
    lines = invoke(["history", *S3, "--thread-id", "nested"]).stdout.splitlines()
    # The steps that ran the subgraphs are pruned: each namespace is drawn
    # apart, named whole, with the id of the step that ran it.
    assert len(lines) == 3 + 2
    namespaces = [
        re.match(r"subgraph (\S+)  run from \S+, not shown$", line) for line in lines
    ]
    shown = [found[1] for found in namespaces if found]
    assert len(shown) == 2 and shown[1].startswith(shown[0] + "|")
    node_lines = [line for line in lines if "step" in line]
    assert all("ran ?" in line for line in node_lines)  # parents pruned


def test_history_of_an_unknown_thread_says_so(saver: MemorySaver) -> None:
    approval_graph(saver).invoke({"messages": []}, thread("chat"))
    result = invoke(["history", *S3, "--thread-id", "nobody"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"note: thread 'nobody' has no checkpoints under {URI}\n"
    document = invoke_json("history", *S3, "--thread-id", "nobody", "--format", "json")
    assert document == {"thread_id": "nobody", "checkpoints": []}


def k(name: str) -> tuple[str, str]:
    return ("", name)


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        pytest.param(
            [("C", "B"), ("B", "A"), ("A", None)], ["*", "*", "*"], id="a line"
        ),
        pytest.param(
            [("E", "A"), ("D", "B"), ("C", "B"), ("B", "A"), ("A", None)],
            ["*", "| *", "| | *", "| |/", "| *", "|/", "*"],
            id="two forks",
        ),
        pytest.param(
            [("D", "A"), ("X", None), ("C", "A"), ("B", "A"), ("A", None)],
            ["*", "| *", "|", "| *", "| | *", "|_|/", "|/", "*"],
            id="three children and a root between",
        ),
        pytest.param(
            [("D", "A"), ("Y", "Z"), ("C", "A"), ("A", None), ("Z", None)],
            ["*", "| *", "| | *", "|_|/", "* |", " /", "*"],
            id="two trees",
        ),
        pytest.param(
            [("B", "gone"), ("A", None)], ["*", "", "*"], id="a pruned parent"
        ),
    ],
)
def test_graph_lines(nodes: list[tuple[str, str | None]], expected: list[str]) -> None:
    keyed = [(k(node), None if parent is None else k(parent)) for node, parent in nodes]
    drawn = graph_lines(keyed)
    assert [graph for graph, _ in drawn] == expected
    shown = [index for _, index in drawn if index is not None]
    assert shown == list(range(len(nodes)))


# -- stats ------------------------------------------------------------------------


def test_stats_from_list_alone(saver: MemorySaver, client: MemoryClient) -> None:
    time_travel(saver)
    nested_graph(saver).invoke({"log": []}, thread("nested"))
    client.calls.clear()
    document = invoke_json("stats", *S3)
    assert client.calls == {"HeadBucket": 1, "ListObjectsV2": 3}
    objects = saver.bucket.objects
    total = sum(s.size for s in objects.values())
    assert document["s3_prefix"] == URI
    assert document["pricing"] == {
        "storage_class": "S3 Standard",
        "usd_per_gb_month": 0.023,
        "bytes_per_gb": 2**30,
    }
    assert document["total"] == {
        "threads": 2,
        "objects": len(objects),
        "checkpoints": sum(1 for key in objects if "/checkpoints/" in key),
        "writes": sum(1 for key in objects if "/writes/" in key),
        "other_objects": 0,
        "shared_values": 0,
        "bytes": total,
        "oldest_write": min(s.last_modified for s in objects.values()).isoformat(),
        "newest_write": max(s.last_modified for s in objects.values()).isoformat(),
        "monthly_cost_usd": pytest.approx(total / 2**30 * 0.023),
    }
    chat, nested = document["threads"]
    assert (chat["thread_id"], nested["thread_id"]) == ("chat", "nested")
    assert chat["bytes"] == sum(s.size for k, s in objects.items() if "/chat/" in k)
    assert [ns["checkpoint_ns"] for ns in chat["namespaces"]] == [""]
    assert len(nested["namespaces"]) == 3
    assert sum(ns["objects"] for ns in nested["namespaces"]) == nested["objects"]
    assert sum(ns["bytes"] for ns in nested["namespaces"]) == nested["bytes"]

    one = invoke_json("stats", *S3, "--thread-id", "nested")
    assert one["threads"] == [nested]
    assert one["total"]["bytes"] == nested["bytes"]


def test_monthly_cost_is_s3_standard_per_binary_gb() -> None:
    assert (GB, USD_PER_GB_MONTH) == (2**30, 0.023)
    assert monthly_cost(2**30) == 0.023
    assert monthly_cost(100 * 2**30) == pytest.approx(2.3)
    assert monthly_cost(0) == 0.0


def test_stats_table_for_a_person(saver: MemorySaver) -> None:
    nested_graph(saver).invoke({"log": []}, thread("nested"))
    result = invoke(["stats", *S3, "--format", "table"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "THREAD",
        "NAMESPACE",
        "CHECKPOINTS",
        "WRITES",
        "BYTES",
        "OLDEST",
        "WRITE",
        "(UTC)",
        "NEWEST",
        "WRITE",
        "(UTC)",
        "USD/MONTH",
    ]
    rows = [line.split() for line in lines[1:] if line.startswith("nested")]
    assert len(rows) == 3 and rows[0][1] == '""'
    counted = invoke_json("stats", *S3)
    assert [int(row[2]) for row in rows] == [
        ns["checkpoints"] for ns in counted["threads"][0]["namespaces"]
    ]
    assert lines[-1].startswith("TOTAL (1 thread)")
    assert lines[-1].split()[3:5] == [
        str(counted["total"]["checkpoints"]),
        str(counted["total"]["writes"]),
    ]


def test_stats_channels_reads_every_object_and_says_so(
    saver: MemorySaver, client: MemoryClient
) -> None:
    time_travel(saver)
    serde = JsonPlusSerializer()
    expected: dict[str, list[int]] = {}
    for item in saver.list(thread("chat")):
        for name, value in item.checkpoint["channel_values"].items():
            expected.setdefault(name, [0, 0])[0] += len(serde.dumps_typed(value)[1])
        for _, channel, value in item.pending_writes or []:
            expected.setdefault(channel, [0, 0])[1] += len(serde.dumps_typed(value)[1])
    client.calls.clear()
    result = invoke(["stats", *S3, "--channels", "--progress"])
    assert result.exit_code == 0, result.stderr
    objects = len(saver.bucket.objects)
    assert result.stderr.startswith(
        f"--channels: reading {objects} objects (one GET each)\n"
    )
    assert "Reading objects" in result.stderr and "100%" in result.stderr
    assert client.calls == {"HeadBucket": 1, "ListObjectsV2": 3, "GetObject": objects}
    (namespace,) = json.loads(result.stdout)["threads"][0]["namespaces"]
    found = {
        c["channel"]: [c["checkpoint_bytes"], c["write_bytes"]]
        for c in namespace["channels"]
    }
    assert found == expected
    sizes = [c["bytes"] for c in namespace["channels"]]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 0
    table = invoke(["stats", *S3, "--channels", "--format", "table"]).stdout
    assert "CHANNEL" in table and "messages" in table


def test_stats_of_an_empty_prefix_says_so(saver: MemorySaver) -> None:
    result = invoke(["stats", *S3])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total"]["objects"] == 0
    assert result.stderr == f"note: no checkpoints or writes under {URI}\n"


# -- expire -----------------------------------------------------------------------


def idle_and_active(saver: MemorySaver) -> None:
    """ "old" last written 40 days ago; "busy" has old checkpoints and a write
    of an hour ago; "fresh" was written now."""
    bucket = saver.bucket
    for name in ("old", "busy", "fresh"):
        approval_graph(saver).invoke({"messages": []}, thread(name))
    stamp(bucket, keys_of(bucket, "old"), NOW - datetime.timedelta(days=40))
    busy = keys_of(bucket, "busy")
    stamp(bucket, busy, NOW - datetime.timedelta(days=40))
    stamp(
        bucket,
        [k for k in busy if "/writes/" in k][:1],
        NOW - datetime.timedelta(hours=1),
    )
    stamp(bucket, keys_of(bucket, "fresh"), NOW)


def test_expire_dry_run_then_yes(saver: MemorySaver, client: MemoryClient) -> None:
    idle_and_active(saver)
    old = keys_of(saver.bucket, "old")
    everything = dict(saver.bucket.objects)
    client.calls.clear()

    before = datetime.datetime.now(datetime.timezone.utc)
    planned = invoke_json("expire", *S3, "--idle", "30d", "--dry-run")
    after = datetime.datetime.now(datetime.timezone.utc)

    assert client.calls == {"HeadBucket": 1, "ListObjectsV2": 3}
    assert saver.bucket.objects == everything
    assert planned["idle"] == "30d" and planned["dry_run"] is True
    cutoff = datetime.datetime.fromisoformat(planned["cutoff"])
    thirty = datetime.timedelta(days=30)
    assert before - thirty <= cutoff <= after - thirty
    assert planned["expired"] == [
        {
            "thread_id": "old",
            "last_write": (NOW - datetime.timedelta(days=40)).isoformat(),
            "objects": len(old),
            "bytes": sum(everything[k].size for k in old),
        }
    ]
    assert (planned["expired_objects"], planned["active_threads"]) == (len(old), 2)

    client.calls.clear()
    done = invoke_json("expire", *S3, "--idle", "30d", "--yes")
    assert {**done, "dry_run": True, "cutoff": ""} == {**planned, "cutoff": ""}
    assert client.calls == {
        "HeadBucket": 1,
        "ListObjectsV2": 3 + 4,
        "DeleteObjects": 1,
    }
    assert keys_of(saver.bucket, "old") == []
    assert sorted(saver.bucket.objects) == sorted(set(everything) - set(old))


def test_expire_asks_on_a_terminal_and_refuses_without_one(
    saver: MemorySaver, client: MemoryClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle_and_active(saver)
    everything = dict(saver.bucket.objects)
    client.calls.clear()
    refused = invoke(["expire", *S3, "--idle", "30d"], input="y\n")
    assert refused.exit_code == 4 and refused.stdout == ""
    assert refused.stderr.startswith("Error: refusing to delete")
    assert client.calls == {}  # refused before connecting

    monkeypatch.setattr(cli_cleanup, "stdin_is_terminal", lambda: True)
    declined = invoke(["expire", *S3, "--idle", "30d"], input="n\n")
    assert declined.exit_code == 4
    assert declined.stderr.startswith(
        f"Expire thread 'old' from {URI}, not written since "
    )
    assert f"({len(keys_of(saver.bucket, 'old'))} objects, " in declined.stderr
    assert declined.stderr.endswith("Error: not confirmed: nothing was deleted\n")
    assert saver.bucket.objects == everything
    accepted = invoke(["expire", *S3, "--idle", "30d"], input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert keys_of(saver.bucket, "old") == []


def test_expire_with_nothing_idle_says_so(saver: MemorySaver) -> None:
    idle_and_active(saver)
    result = invoke(["expire", *S3, "--idle", "90d", "--yes"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["expired"] == []
    assert re.fullmatch(
        rf"note: no thread under {re.escape(URI)} is idle since "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n",
        result.stderr,
    )


@pytest.mark.parametrize("idle", ["30", "3 days", "1y", "0d", "-5m", ""])
def test_expire_refuses_a_bad_duration(
    saver: MemorySaver, client: MemoryClient, idle: str
) -> None:
    result = invoke(["expire", *S3, "--idle", idle, "--dry-run"])
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: Invalid value for '--idle'")
    assert result.stderr.count("\n") == 1
    assert client.calls == {}


def test_parse_duration() -> None:
    assert parse_duration("90s") == datetime.timedelta(seconds=90)
    assert parse_duration("15m") == datetime.timedelta(minutes=15)
    assert parse_duration("12h") == datetime.timedelta(hours=12)
    assert parse_duration("30d") == datetime.timedelta(days=30)
    assert parse_duration("2w") == datetime.timedelta(days=14)
    assert parse_duration("1d12h") == datetime.timedelta(hours=36)
    assert parse_duration(" 7D ") == datetime.timedelta(days=7)
    for bad in ("30", "d", "1.5d", "1d 2h", "5x", "0s"):
        with pytest.raises(ValueError):
            parse_duration(bad)


# -- prune --keep-last ------------------------------------------------------------


def test_prune_keep_last_on_a_delta_channel_graph(saver: MemorySaver) -> None:
    config = thread("delta")
    graph = delta_graph(saver)
    graph.invoke({"items": [], "n": 0}, config)
    every = [t.config["configurable"]["checkpoint_id"] for t in saver.list(config)]
    states = {i: graph.get_state(at_id(config, i)) for i in every[:5]}

    pruned = invoke_json(
        "prune", *S3, "--thread-id", "delta", "--keep-last", "5", "--yes"
    )

    assert (pruned["strategy"], pruned["keep_last"]) == ("keep_last", 5)
    kept = [c["checkpoint_id"] for c in pruned["kept"]]
    assert kept[:5] == every[:5] and 5 < len(kept) < len(every)
    assert len(kept) + len(pruned["deleted"]) == len(every)
    for checkpoint_id, state in states.items():
        assert graph.get_state(at_id(config, checkpoint_id)) == state


def at_id(config: RunnableConfig, checkpoint_id: str) -> RunnableConfig:
    return {"configurable": {**config["configurable"], "checkpoint_id": checkpoint_id}}


def test_prune_every_thread_keeping_the_last(saver: MemorySaver) -> None:
    for name in ("a", "b"):
        graph = approval_graph(saver)
        graph.invoke({"messages": []}, thread(name))
        graph.invoke(Command(resume="yes"), thread(name))
    pruned = invoke_json("prune", *S3, "--all-threads", "--keep-last", "2", "-y")
    assert pruned["thread_ids"] == ["a", "b"]
    assert sorted(c["thread_id"] for c in pruned["kept"]) == ["a", "a", "b", "b"]
    assert all(len(list(saver.list(thread(name)))) == 2 for name in ("a", "b"))


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--thread-id", "t", "--all", "--keep-last", "2"], "--all deletes every"),
        (["--all-threads", "--all"], "--all deletes every"),
        ([], "name the threads with --thread-id"),
        (["--thread-id", "t", "--all-threads"], "name the threads with --thread-id"),
        (["--thread-id", "t", "--keep-last", "0"], "Invalid value for '--keep-last'"),
    ],
)
def test_prune_refuses_contradictions(
    client: MemoryClient, args: list[str], why: str
) -> None:
    result = invoke(["prune", *S3, *args, "--yes"])
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: ") and why in result.stderr
    assert result.stderr.count("\n") == 1
    assert client.calls == {}


# -- a prefix off by one level, and empty results ---------------------------------


def test_threads_one_level_too_high_says_where_the_data_is(
    bucket: MemoryBucket, client: MemoryClient
) -> None:
    saver = MemorySaver(bucket)  # the default prefix, checkpoints/
    approval_graph(saver).invoke({"messages": []}, thread("chat"))
    result = invoke(["threads", "--s3-prefix", "s3://bucket/"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"threads": []}
    assert result.stderr == (
        "note: no threads under s3://bucket/; a saver's data is under "
        "s3://bucket/checkpoints/ (pass --s3-prefix s3://bucket/checkpoints/)\n"
    )
    right = invoke_json("threads", "--s3-prefix", "s3://bucket/checkpoints/")
    assert right == {"threads": ["chat"]}
    listed = invoke(["list", "--s3-prefix", "s3://bucket/", "--thread-id", "chat"])
    assert "a saver's data is under s3://bucket/checkpoints/" in listed.stderr
    dumped = invoke(["dump", "--s3-prefix", "s3://bucket/", "--thread-id", "chat"])
    assert dumped.exit_code == 4
    assert dumped.stderr == (
        "Error: thread 'chat' has no checkpoints in namespace ''; a saver's data "
        "is under s3://bucket/checkpoints/ (pass --s3-prefix s3://bucket/checkpoints/)\n"
    )


def test_a_prefix_one_level_too_deep_names_the_one_above(
    bucket: MemoryBucket, client: MemoryClient
) -> None:
    saver = MemorySaver(bucket, prefix="")  # data at checkpoints/... directly
    approval_graph(saver).invoke({"messages": []}, thread("chat"))
    result = invoke(["threads", "--s3-prefix", "s3://bucket/checkpoints/"])
    assert result.stderr == (
        "note: no threads under s3://bucket/checkpoints/; a saver's data is under "
        "s3://bucket/ (pass --s3-prefix s3://bucket/)\n"
    )


def test_an_empty_result_in_the_right_prefix_costs_one_list(
    saver: MemorySaver, client: MemoryClient
) -> None:
    approval_graph(saver).invoke({"messages": []}, thread("chat"))
    client.calls.clear()
    result = invoke(["list", *S3, "--thread-id", "nobody"])
    assert json.loads(result.stdout) == {"thread_id": "nobody", "checkpoints": []}
    assert result.stderr == f"note: thread 'nobody' has no checkpoints under {URI}\n"
    # The thread's LIST, and one to see the prefix holds a saver's data.
    assert client.calls == {"HeadBucket": 1, "ListObjectsV2": 2}
    result = invoke(["threads", "--s3-prefix", "s3://bucket/elsewhere/"])
    assert result.stderr == "note: no threads under s3://bucket/elsewhere/\n"


def test_a_real_thread_named_checkpoints_is_a_thread(
    bucket: MemoryBucket, client: MemoryClient
) -> None:
    saver = MemorySaver(bucket, prefix="")
    approval_graph(saver).invoke({"messages": []}, thread("checkpoints"))
    result = invoke(["threads", "--s3-prefix", "s3://bucket/"])
    assert json.loads(result.stdout) == {"threads": ["checkpoints"]}
    assert result.stderr == ""


# -- dump, list --long, --brief, --debug, --version ---------------------------------


def test_dump_defaults_to_the_newest_of_the_default_namespace(
    saver: MemorySaver,
) -> None:
    time_travel(saver)
    newest = next(iter(saver.list(thread("chat"))))
    dumped = invoke_json("dump", *S3, "--thread-id", "chat")
    assert dumped["checkpoint_id"] == newest.config["configurable"]["checkpoint_id"]
    assert dumped["checkpoint_ns"] == ""
    explicit = invoke_json(
        "dump", *S3, "--thread-id", "chat", "--checkpoint-id", dumped["checkpoint_id"]
    )
    assert explicit == dumped
    missing = invoke(["dump", *S3, "--thread-id", "nobody"])
    assert missing.exit_code == 4
    assert missing.stderr == (
        "Error: thread 'nobody' has no checkpoints in namespace ''\n"
    )


def test_brief_leaves_out_channel_versions(saver: MemorySaver) -> None:
    time_travel(saver)
    full = invoke_json("dump", *S3, "--thread-id", "chat")
    brief = invoke_json("dump", *S3, "--thread-id", "chat", "--brief")
    assert {"channel_versions", "versions_seen"} <= set(full["checkpoint"])
    assert set(full["checkpoint"]) - set(brief["checkpoint"]) == {
        "channel_versions",
        "versions_seen",
    }
    for name in ("channel_versions", "versions_seen"):
        del full["checkpoint"][name]
    assert brief == full
    read = invoke_json("read", *S3, "--thread-id", "chat", "--brief")
    assert read["checkpoints"][0] == {
        k: v for k, v in brief.items() if k != "thread_id"
    }
    assert all("versions_seen" not in c["checkpoint"] for c in read["checkpoints"])


def test_list_long_shows_step_source_and_time(
    saver: MemorySaver, client: MemoryClient
) -> None:
    time_travel(saver)
    tuples = list(saver.list(thread("chat")))
    client.calls.clear()
    listed = invoke_json("list", *S3, "--thread-id", "chat", "--long")
    assert listed["checkpoints"] == [
        {
            "checkpoint_ns": "",
            "checkpoint_id": t.config["configurable"]["checkpoint_id"],
            "step": t.metadata["step"],
            "source": t.metadata["source"],
            "ts": t.checkpoint["ts"],
        }
        for t in tuples
    ]
    # One GET per checkpoint, no writes read.
    assert client.calls == {
        "HeadBucket": 1,
        "ListObjectsV2": 1,
        "GetObject": len(tuples),
    }


def test_debug_works_after_the_command(
    saver: MemorySaver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(plans, "thread_checkpoints", boom)
    quiet = invoke(["list", *S3, "--thread-id", "t"])
    assert quiet.stderr == "Error: unexpected RuntimeError: boom\n"
    for args in (
        ["list", *S3, "--thread-id", "t", "--debug"],
        ["list", "--debug", *S3, "--thread-id", "t"],
    ):
        loud = invoke(args)
        assert loud.exit_code == 5
        assert "Traceback (most recent call last)" in loud.stderr
        assert loud.stderr.endswith("Error: unexpected RuntimeError: boom\n")


def test_version() -> None:
    from importlib.metadata import version

    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"s3-checkpoint {version('langgraph-checkpoint-s3')}\n"


def test_help_names_every_command() -> None:
    text = invoke(["--help"]).stdout
    commands = set(cli.commands)
    assert commands == {
        "threads",
        "list",
        "dump",
        "read",
        "history",
        "diff",
        "stats",
        "validate",
        "delete",
        "prune",
        "expire",
    }
    assert all(re.search(rf"^  {name}\b", text, re.M) for name in commands)


# -- the CLI page's samples of text output -----------------------------------------

CLI_PAGE = ROOT / "docs" / "cli.md"


def page_samples(section: str) -> list[list[str]]:
    """The indented (text output) blocks under a heading of the CLI's page."""
    lines = CLI_PAGE.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"### {section}") + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("#"))
    blocks: list[list[str]] = []
    current: list[str] = []
    fenced = False
    for line in [*lines[start:end], "end"]:
        if line.startswith("```"):
            fenced = not fenced
        if fenced or line.startswith("```"):
            continue
        if line.startswith("    "):
            current.append(line[4:])
        elif line == "" and current:
            current.append("")
        else:
            if current:
                while current and current[-1] == "":
                    current.pop()
                blocks.append(current)
            current = []
    return blocks


def normalized(lines: Sequence[str]) -> list[str]:
    """Ids, times and numbers masked, runs of spaces made one: the shape of
    a text output, whatever the run."""
    masked = []
    for line in lines:
        line = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", line)
        line = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "<time>", line)
        line = re.sub(r"\d+(\.\d+)?(e-\d+)?", "N", line)
        masked.append(re.sub(r" +", " ", line).rstrip())
    return masked


def quick_start(saver: MemorySaver) -> None:
    """The README's synchronous quick start, on the in-memory bucket."""
    from langgraph.graph import StateGraph

    builder = StateGraph(dict)  # type: ignore[type-var]
    builder.add_node("step1", lambda x: {"value": x["value"] + 1})
    builder.set_entry_point("step1")
    builder.set_finish_point("step1")
    graph = builder.compile(checkpointer=saver)
    config: RunnableConfig = {"configurable": {"thread_id": "thread-1"}}
    graph.invoke({"value": 1}, config)
    graph.invoke({"value": 10}, config)


def test_history_samples_are_what_history_prints(
    bucket: MemoryBucket, client: MemoryClient
) -> None:
    saver = MemorySaver(bucket, prefix="my-app/checkpoints/")
    quick_start(saver)
    time_travel(saver)
    prefix = ["--s3-prefix", "s3://bucket/my-app/checkpoints/"]
    linear, branches = page_samples("history")[:2]
    for sample, thread_id in ((linear, "thread-1"), (branches, "chat")):
        printed = invoke(["history", *prefix, "--thread-id", thread_id]).stdout
        assert normalized(printed.splitlines()) == normalized(sample)


def test_stats_table_sample_is_what_stats_prints(
    bucket: MemoryBucket, client: MemoryClient
) -> None:
    saver = MemorySaver(bucket, prefix="my-app/checkpoints/")
    quick_start(saver)
    (sample,) = page_samples("stats")
    args = ["stats", "--s3-prefix", "s3://bucket/my-app/checkpoints/"]
    printed = invoke([*args, "--format", "table", "--channels"]).stdout
    assert normalized(printed.splitlines()) == normalized(sample)


@pytest.mark.parametrize(
    "command",
    [
        ["prune", "--all-threads", "--keep-last", "1", "--yes"],
        ["prune", "--thread-id", "checkpoints", "--yes"],
        ["delete", "--thread-id", "checkpoints", "--yes"],
        ["expire", "--idle", "1s", "--yes"],
        ["expire", "--idle", "1s", "--dry-run"],
    ],
)
def test_deleting_one_level_too_high_is_refused(
    bucket: MemoryBucket, client: MemoryClient, command: list[str]
) -> None:
    """There the saver's folders look like threads: deleting "checkpoints"
    would delete every thread at once."""
    saver = MemorySaver(bucket)  # the default prefix, checkpoints/
    approval_graph(saver).invoke({"messages": []}, thread("chat"))
    everything = dict(bucket.objects)
    result = invoke([command[0], "--s3-prefix", "s3://bucket/", *command[1:]])
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr.startswith("Error: refusing to delete: 'checkpoints'")
    assert "pass --s3-prefix s3://bucket/checkpoints/" in result.stderr
    assert result.stderr.count("\n") == 1
    assert bucket.objects == everything


def test_a_failed_expiry_still_reports_what_went(
    saver: MemorySaver, client: MemoryClient
) -> None:
    for i in range(40):  # two chunks of threads
        approval_graph(saver).invoke({"messages": []}, thread(f"t{i:02d}"))
    stamp(saver.bucket, sorted(saver.bucket.objects), NOW - datetime.timedelta(days=9))
    saver.bucket.refuse_delete = lambda key: (
        ("AccessDenied", "Access Denied") if "/t39/" in key else None
    )
    result = invoke(["expire", *S3, "--idle", "1w", "--yes"])
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: DeleteObjects: AccessDenied on ")
    assert result.stderr.count("\n") == 1
    went = [t["thread_id"] for t in json.loads(result.stdout)["expired"]]
    assert went == [f"t{i:02d}" for i in range(39)]  # all but the refused one
    left = {k.split("/")[2] for k in saver.bucket.objects}
    assert left == {"t39"}  # the second chunk went but for the refused keys


def test_list_reads_keys_only(saver: MemorySaver, client: MemoryClient) -> None:
    layout = saver.layout
    ids = [f"{i:05d}" for i in range(1001)]
    for checkpoint_id in ids:
        ref = CheckpointRef("big", "", checkpoint_id)
        saver.bucket.put_raw(layout.checkpoint_key(ref), b"{}")
    client.calls.clear()

    listed = invoke_json("list", *S3, "--thread-id", "big")

    assert [c["checkpoint_id"] for c in listed["checkpoints"]] == ids[::-1]
    # 1,001 keys: two pages of LIST, the bucket check, and not one GET.
    assert client.calls == {"HeadBucket": 1, "ListObjectsV2": 2}


def test_prune_keep_latest_reports_the_delta_ancestors_it_kept(
    saver: MemorySaver,
) -> None:
    config = thread("delta")
    delta_graph(saver).invoke({"items": [], "n": 140}, config)
    state = delta_graph(saver).get_state(config).values
    total = len(list(saver.list(config)))

    pruned = invoke_json("prune", *S3, "--thread-id", "delta", "--yes")

    kept = [c["checkpoint_id"] for c in pruned["kept"]]
    assert 1 < len(kept) < total  # the newest and the chain it is rebuilt from
    assert len(kept) + len(pruned["deleted"]) == total
    listed = invoke_json("list", *S3, "--thread-id", "delta")
    assert [c["checkpoint_id"] for c in listed["checkpoints"]] == kept
    assert delta_graph(saver).get_state(config).values == state
