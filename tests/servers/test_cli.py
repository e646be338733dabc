"""The ``s3-checkpoint`` CLI against real S3 servers, and against stores that
refuse, fail or stall.

Fast cases run in-process through click's CliRunner (the same ``main`` and exit
code mapping as the script); the script itself runs as a subprocess, both as
``python -m langgraph_checkpoint_s3.cli`` and as the installed ``s3-checkpoint``,
and on a real terminal for the confirmation of ``delete``/``prune``. Data comes
from real LangGraph graphs and from the saver directly.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ormsgpack
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.base import Checkpoint, CheckpointMetadata
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import (
    EXT_CONSTRUCTOR_POS_ARGS,
    JsonPlusSerializer,
)
from langgraph.graph import END, START, MessagesState, StateGraph

from langgraph_checkpoint_s3 import S3CheckpointSaver, plans
from langgraph_checkpoint_s3 import saver as saver_module
from langgraph_checkpoint_s3._compression import decompress
from langgraph_checkpoint_s3._configs import config_of
from langgraph_checkpoint_s3._keys import CheckpointRef, Layout, WriteRef
from langgraph_checkpoint_s3.cli import cleanup as cli_cleanup
from langgraph_checkpoint_s3.cli import commands as cli_commands
from langgraph_checkpoint_s3.cli import connection as cli_connection
from langgraph_checkpoint_s3.errors import DeleteFailedError
from tests.support import ROOT
from tests.support.cli import (
    DIRECT_THREAD,
    MODULE,
    at,
    checkpoint,
    closed_port,
    invoke,
    invoke_json,
    run_script,
)
from tests.support.s3servers import S3Endpoint, create_bucket

if TYPE_CHECKING:
    from botocore.model import OperationModel
    from mypy_boto3_s3 import S3Client

PREFIX = "app/"

GRAPH_THREAD = "user@example.com/chat 1"


NAMESPACE = "a:1|b:2"

WHEN = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)

SECRET = b"\x00ciphertext"


class Sealed:
    """A value the test serde stores under a tag the CLI cannot decode."""


class SealingSerializer(JsonPlusSerializer):
    """Stores :class:`Sealed` as ``msgpack+aes``, like an encrypting serde."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        if isinstance(obj, Sealed):
            return "msgpack+aes", SECRET
        return super().dumps_typed(obj)


@dataclass(frozen=True)
class Store:
    """A bucket with data, and how to reach it."""

    endpoint: S3Endpoint
    bucket: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{PREFIX}"

    def s3(self) -> list[str]:
        """The connection options for an in-process run."""
        return ["--s3-prefix", self.uri, "--endpoint-url", self.endpoint.url]

    def saver(self) -> S3CheckpointSaver:
        """A saver that writes what the CLI reads."""
        return S3CheckpointSaver(
            self.bucket,
            prefix=PREFIX,
            s3_client=self.endpoint.boto3_client(),
            serde=SealingSerializer(),
        )

    def keys(self, prefix: str = "") -> list[str]:
        pages = (
            self.endpoint.boto3_client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def fresh_bucket(endpoint: S3Endpoint) -> str:
    name = f"cli-{uuid.uuid4().hex[:16]}"
    create_bucket(endpoint, name)
    return name


def put(
    saver: S3CheckpointSaver,
    ref: CheckpointRef,
    made: Checkpoint,
    metadata: CheckpointMetadata,
    parent: str | None = None,
) -> None:
    configurable = {"thread_id": ref.thread_id, "checkpoint_ns": ref.checkpoint_ns}
    if parent:
        configurable["checkpoint_id"] = parent
    saver.put({"configurable": configurable}, made, metadata, {})


def write_direct(saver: S3CheckpointSaver) -> None:
    """Three checkpoints in two namespaces, with values of every kind."""
    first = CheckpointRef(DIRECT_THREAD, "", "cp-1")
    values = {
        "messages": [HumanMessage("hi", id="m1")],
        "blob": b"\x00\x01",
        "when": WHEN,
        "tags": {"b", "a"},
        "sealed": Sealed(),
    }
    metadata: Any = {"step": 0, "source": "input", "owner": "alice", "on": WHEN.date()}
    put(saver, first, checkpoint("cp-1", **values), metadata)
    saver.put_writes(
        config_of(first),
        [("blob", b"xyz"), ("reply", AIMessage("yo", id="m2"))],
        "task-1",
    )
    second = CheckpointRef(DIRECT_THREAD, "", "cp-2")
    put(saver, second, checkpoint("cp-2", n=2), {"step": 1}, parent="cp-1")
    put(saver, CheckpointRef(DIRECT_THREAD, NAMESPACE, "cp-3"), checkpoint("cp-3"), {})


def run_graph(saver: S3CheckpointSaver) -> None:
    def bot(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("hello back")]}

    builder = StateGraph(MessagesState)
    builder.add_node("bot", bot)
    builder.add_edge(START, "bot")
    builder.add_edge("bot", END)
    graph = builder.compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": GRAPH_THREAD}}
    graph.invoke({"messages": [HumanMessage("hi")]}, config)


@pytest.fixture(scope="module")
def cli_store(moto: S3Endpoint) -> Store:
    """One bucket for the read-only tests: a graph's thread and a direct one."""
    store = Store(moto, fresh_bucket(moto))
    with store.saver() as saver:
        write_direct(saver)
        run_graph(saver)
    return store


@pytest.fixture
def cli_bucket(moto: S3Endpoint) -> Store:
    """An empty bucket of its own, for tests that add odd objects."""
    return Store(moto, fresh_bucket(moto))


SCRIPT = Path(sys.executable).parent / "s3-checkpoint"


@pytest.fixture
def cli_requests(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the S3 API calls of the CLI's client, by operation name."""
    calls: Counter[str] = Counter()

    def record(model: OperationModel, **_: Any) -> None:
        calls[model.name] += 1

    class CountingSaver(S3CheckpointSaver):
        def __init__(self, bucket_name: str, **kwargs: Any) -> None:
            client: S3Client = kwargs["s3_client"]
            client.meta.events.register("before-call.s3.*", record)
            super().__init__(bucket_name, **kwargs)

    monkeypatch.setattr(saver_module, "S3CheckpointSaver", CountingSaver)
    return calls


def test_list_covers_every_namespace_newest_first(cli_store: Store) -> None:
    listed = invoke_json("list", *cli_store.s3(), "--thread-id", DIRECT_THREAD)
    assert listed == {
        "thread_id": DIRECT_THREAD,
        "checkpoints": [
            {"checkpoint_ns": NAMESPACE, "checkpoint_id": "cp-3"},
            {"checkpoint_ns": "", "checkpoint_id": "cp-2"},
            {"checkpoint_ns": "", "checkpoint_id": "cp-1"},
        ],
    }


def test_list_one_namespace_and_an_unknown_thread(cli_store: Store) -> None:
    default = invoke_json(
        "list", *cli_store.s3(), "--thread-id", DIRECT_THREAD, "--checkpoint-ns", ""
    )
    assert [c["checkpoint_id"] for c in default["checkpoints"]] == ["cp-2", "cp-1"]
    unknown = invoke_json("list", *cli_store.s3(), "--thread-id", "nobody")
    assert unknown == {"thread_id": "nobody", "checkpoints": []}


def test_dump_decodes_values_into_readable_json(cli_store: Store) -> None:
    dumped = invoke_json("dump", *cli_store.s3(), *at("", "cp-1"))
    assert dumped["thread_id"] == DIRECT_THREAD
    assert (dumped["checkpoint_ns"], dumped["checkpoint_id"]) == ("", "cp-1")
    assert dumped["parent_checkpoint_id"] is None
    values = dumped["checkpoint"]["channel_values"]
    assert values["messages"] == [
        HumanMessage("hi", id="m1").model_dump()  # the message's dict form
    ]
    assert values["messages"][0]["type"] == "human"
    assert values["blob"] == base64.b64encode(b"\x00\x01").decode()
    assert values["when"] == "2024-01-02T03:04:05+00:00"
    assert values["tags"] == ["a", "b"]
    # Undecodable (e.g. encrypted) values are shown as stored, not an error.
    assert values["sealed"] == {
        "type": "msgpack+aes",
        "data": base64.b64encode(SECRET).decode(),
    }
    assert dumped["checkpoint"]["id"] == "cp-1"
    assert dumped["metadata"] == {
        "step": 0,
        "source": "input",
        "owner": "alice",
        "on": "2024-01-02",
    }
    assert dumped["pending_writes"] == [
        {
            "task_id": "task-1",
            "channel": "blob",
            "value": base64.b64encode(b"xyz").decode(),
        },
        {
            "task_id": "task-1",
            "channel": "reply",
            "value": AIMessage("yo", id="m2").model_dump(),
        },
    ]


def test_dump_in_a_nested_namespace_names_its_parent(cli_store: Store) -> None:
    nested = invoke_json("dump", *cli_store.s3(), *at(NAMESPACE, "cp-3"))
    assert (nested["checkpoint_ns"], nested["checkpoint"]["id"]) == (NAMESPACE, "cp-3")
    child = invoke_json("dump", *cli_store.s3(), *at("", "cp-2"))
    assert child["parent_checkpoint_id"] == "cp-1"
    assert child["checkpoint"]["channel_values"] == {"n": 2}


def test_read_returns_a_graphs_history_newest_first(
    cli_store: Store, cli_requests: Counter[str]
) -> None:
    listed = invoke_json("list", *cli_store.s3(), "--thread-id", GRAPH_THREAD)
    cli_requests.clear()
    read = invoke_json("read", *cli_store.s3(), "--thread-id", GRAPH_THREAD)

    assert read["thread_id"] == GRAPH_THREAD
    found = [
        {"checkpoint_ns": c["checkpoint_ns"], "checkpoint_id": c["checkpoint_id"]}
        for c in read["checkpoints"]
    ]
    assert found == listed["checkpoints"]
    assert len(found) == 3  # input, before "bot", after "bot"
    newest = read["checkpoints"][0]
    assert [
        (m["type"], m["content"])
        for m in newest["checkpoint"]["channel_values"]["messages"]
    ] == [
        ("human", "hi"),
        ("ai", "hello back"),
    ]
    assert newest["metadata"]["source"] == "loop"
    # The step before "bot" ran holds bot's write, decoded like a value.
    writes_found = [w for c in read["checkpoints"] for w in c["pending_writes"]]
    bot_writes = [
        w
        for w in writes_found
        if w["channel"] == "messages" and w["value"][0]["type"] == "ai"
    ]
    assert len(bot_writes) == 1
    assert set(bot_writes[0]) == {"task_id", "channel", "value"}
    # Every checkpoint and write is one GET; the LISTs do not grow with them.
    writes = cli_store.keys(Layout(PREFIX).thread_writes_prefix(GRAPH_THREAD))
    assert cli_requests["GetObject"] == len(found) + len(writes)
    assert cli_requests["ListObjectsV2"] <= 2


def test_read_one_namespace(cli_store: Store) -> None:
    read = invoke_json(
        "read",
        *cli_store.s3(),
        "--thread-id",
        DIRECT_THREAD,
        "--checkpoint-ns",
        NAMESPACE,
    )
    assert [c["checkpoint_id"] for c in read["checkpoints"]] == ["cp-3"]


def test_read_progress_goes_to_stderr_only(cli_store: Store) -> None:
    env = {**os.environ, **cli_store.endpoint.env()}
    done = run_script(
        [
            *MODULE,
            "read",
            "--s3-prefix",
            cli_store.uri,
            "--thread-id",
            GRAPH_THREAD,
            "--progress",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["checkpoints"]) == 3
    assert "Reading checkpoints" in done.stderr
    assert "100%" in done.stderr


def test_stored_objects_cannot_run_code(cli_bucket: Store, tmp_path: Path) -> None:
    # An object naming a callable: LangGraph's permissive default would call
    # os.system(...) while decoding it; the CLI reads buckets others write.
    marker = tmp_path / "pwned"
    call = ormsgpack.packb(["os", "system", [f"touch {marker}"]])
    payload = ormsgpack.packb(ormsgpack.Ext(EXT_CONSTRUCTOR_POS_ARGS, call))

    class Planting(SealingSerializer):
        def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
            return ("msgpack", payload) if obj == "plant" else super().dumps_typed(obj)

    client = cli_bucket.endpoint.boto3_client()
    with S3CheckpointSaver(
        cli_bucket.bucket, prefix=PREFIX, s3_client=client, serde=Planting()
    ) as saver:
        put(saver, CheckpointRef("t", "", "cp-1"), checkpoint("cp-1", x="plant"), {})

    for args in (["read", "--thread-id", "t"], ["dump", *at("", "cp-1", "t")]):
        result = invoke([*args, *cli_bucket.s3()])
        assert result.exit_code == 0, result.stderr
        assert "cp-1" in result.stdout
        assert f"touch {marker}" in result.stdout  # shown as the data it holds
        assert result.stderr == ""
    assert not marker.exists()


def test_threads_decodes_thread_ids(cli_store: Store) -> None:
    assert invoke_json("threads", *cli_store.s3()) == {
        "threads": sorted([GRAPH_THREAD, DIRECT_THREAD])
    }


def test_validate_passes_clean_data(cli_store: Store) -> None:
    everything = invoke_json("validate", *cli_store.s3())
    assert everything == {
        "checked": len(cli_store.keys(PREFIX)),
        "failed": 0,
        "failures": [],
        "warnings": [],
    }
    layout = Layout(PREFIX)
    one = invoke_json("validate", *cli_store.s3(), "--thread-id", DIRECT_THREAD)
    expected = cli_store.keys(
        layout.thread_checkpoints_prefix(DIRECT_THREAD)
    ) + cli_store.keys(layout.thread_writes_prefix(DIRECT_THREAD))
    assert one == {
        "checked": len(expected),
        "failed": 0,
        "failures": [],
        "warnings": [],
    }


def test_validate_in_small_chunks_checks_the_same(
    cli_store: Store, cli_requests: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = invoke(["validate", *cli_store.s3()])
    gets = cli_requests["GetObject"]
    cli_requests.clear()
    monkeypatch.setattr(cli_commands, "VALIDATE_CHUNK", 3)
    chunked = invoke(["validate", *cli_store.s3()])
    assert (chunked.exit_code, chunked.stdout) == (whole.exit_code, whole.stdout)
    assert cli_requests["GetObject"] == gets == len(cli_store.keys(PREFIX))


def test_validate_progress_counts_every_object(cli_store: Store) -> None:
    env = {**os.environ, **cli_store.endpoint.env()}
    done = run_script(
        [*MODULE, "validate", "--s3-prefix", cli_store.uri, "--progress"], env
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["checked"] == len(cli_store.keys(PREFIX))
    assert "Validating objects" in done.stderr
    assert "100%" in done.stderr


def test_validate_reports_every_bad_object(cli_bucket: Store) -> None:
    client = cli_bucket.endpoint.boto3_client()
    with cli_bucket.saver() as saver:
        write_direct(saver)
    layout = Layout(PREFIX)

    def body(key: str) -> bytes:
        return client.get_object(Bucket=cli_bucket.bucket, Key=key)["Body"].read()

    good = layout.checkpoint_key(CheckpointRef(DIRECT_THREAD, "", "cp-1"))
    good_write = layout.write_key(
        WriteRef(CheckpointRef(DIRECT_THREAD, "", "cp-1"), "task-1", 0)
    )
    bad = {
        layout.checkpoint_key(CheckpointRef("t", "", "corrupt")): b"not json {",
        layout.checkpoint_key(CheckpointRef("t", "", "foreign")): b'{"hello": "world"}',
        layout.checkpoint_key(CheckpointRef("other", "", "cp-1")): body(good),
        layout.write_key(
            WriteRef(CheckpointRef(DIRECT_THREAD, "", "cp-1"), "task-9", 0)
        ): body(good_write),
        f"{PREFIX}notes.txt": b"hello",
        f"{PREFIX}index/t/__default__.json": b"{}",  # no index: unexpected too
    }
    fine = {"elsewhere/notes.txt": b"x"}
    for key, data in {**bad, **fine}.items():
        client.put_object(Bucket=cli_bucket.bucket, Key=key, Body=data)

    result = invoke(["validate", *cli_bucket.s3()])

    assert result.exit_code == 4
    summary = json.loads(result.stdout)
    reasons = {f["key"]: f["reason"] for f in summary["failures"]}
    assert sorted(reasons) == sorted(bad)
    keys = list(bad)
    assert reasons[keys[0]] == "not a JSON document"
    assert reasons[keys[1]].startswith("does not match checkpoint.v3.json")
    assert reasons[keys[2]].startswith("misplaced: envelope says thread_id='t-direct'")
    assert reasons[keys[3]].startswith("misplaced: envelope says task_id='task-1'")
    assert reasons[keys[4]].startswith("unexpected key")
    assert reasons[keys[5]].startswith("unexpected key")
    total = len(cli_bucket.keys(PREFIX))
    assert summary["checked"] == total
    assert summary["failed"] == len(bad)
    assert result.stderr == f"Error: {len(bad)} of {total} objects failed validation\n"

    one = invoke(["validate", *cli_bucket.s3(), "--thread-id", "other"])
    assert one.exit_code == 4
    assert [f["key"] for f in json.loads(one.stdout)["failures"]] == [keys[2]]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_validate_decodes_every_stored_value(cli_bucket: Store, tmp_path: Path) -> None:
    client = cli_bucket.endpoint.boto3_client()
    layout = Layout(PREFIX)
    ref = CheckpointRef("t", "", "cp-1")
    with cli_bucket.saver() as saver:
        write_direct(saver)  # valid, with an undecodable msgpack+aes value
        dated: Any = {"on": WHEN.date()}  # not plain JSON: metadata_typed
        put(saver, ref, checkpoint("cp-1", v=1, ok="fine"), dated)
        channels = [("json", 0), ("pickle", 1), ("fine", 2), ("planted", 3), ("aes", 4)]
        saver.put_writes(config_of(ref), channels, "task-1")

    def rewrite(key: str, edit: Any) -> None:
        raw = client.get_object(Bucket=cli_bucket.bucket, Key=key)["Body"].read()
        document = json.loads(decompress(key, raw))
        edit(document)
        client.put_object(
            Bucket=cli_bucket.bucket, Key=key, Body=json.dumps(document).encode()
        )

    def set_value(value: dict[str, str]) -> Any:
        return lambda document: document.update(value=value)

    def break_checkpoint(document: dict[str, Any]) -> None:
        document["checkpoint"]["channel_values"]["v"] = {
            "type": "msgpack",
            "data": "wQ==",
        }
        document["metadata_typed"]["on"]["data"] = b64(b"\xc7")  # truncated

    checkpoint_key = layout.checkpoint_key(ref)
    rewrite(checkpoint_key, break_checkpoint)
    write = [layout.write_key(WriteRef(ref, "task-1", i)) for i in range(5)]
    rewrite(write[0], set_value({"type": "json", "data": b64(b"{not json")}))
    rewrite(write[1], set_value({"type": "pickle", "data": b64(b"\x80\x05junk")}))
    # Well-formed, and unpickling it would run a command: parsed, never run.
    marker = tmp_path / "pwned"
    planted = pickle.dumps(Planted(f"touch {marker}"))
    rewrite(write[3], set_value({"type": "pickle", "data": b64(planted)}))
    # Another serializer's tag: not this CLI's to judge.
    rewrite(write[4], set_value({"type": "msgpack+aes", "data": b64(b"?")}))
    assert invoke(["dump", *cli_bucket.s3(), *at("", "cp-1", "t")]).exit_code == 0

    result = invoke(["validate", *cli_bucket.s3()])

    assert result.exit_code == 4
    summary = json.loads(result.stdout)
    reasons = {f["key"]: f["reason"] for f in summary["failures"]}
    assert sorted(reasons) == sorted([checkpoint_key, write[0], write[1]])
    first, second = reasons[checkpoint_key].split("; ")
    assert first.startswith("channel 'v': cannot decode its 'msgpack' value (")
    assert second.startswith("metadata 'on': cannot decode its 'msgpack' value (")
    assert reasons[write[0]].startswith(
        "write to channel 'json': cannot decode its 'json' value (JSONDecodeError: "
    )
    assert reasons[write[1]].startswith(
        "write to channel 'pickle': cannot decode its 'pickle' value "
        "(ValueError: not a well-formed pickle stream: "
    )
    total = len(cli_bucket.keys(PREFIX))
    assert summary["checked"] == total
    assert result.stderr == f"Error: 3 of {total} objects failed validation\n"
    assert not marker.exists()
    # Every other value, the msgpack+aes ones included, passed.
    one = invoke_json("validate", *cli_bucket.s3(), "--thread-id", DIRECT_THREAD)
    assert one["failed"] == 0


class Planted:
    """Pickles to a call of os.system."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (self.command,))


def test_validate_passes_an_encrypted_bucket(cli_bucket: Store) -> None:
    serde = EncryptedSerializer.from_pycryptodome_aes(key=b"k" * 16)
    client = cli_bucket.endpoint.boto3_client()
    with S3CheckpointSaver(
        cli_bucket.bucket, prefix=PREFIX, s3_client=client, serde=serde
    ) as saver:
        run_graph(saver)
        ref = CheckpointRef(DIRECT_THREAD, "", "cp-1")
        dated: Any = {"on": WHEN.date()}
        put(saver, ref, checkpoint("cp-1", b=b"x", n=None), dated)
        saver.put_writes(config_of(ref), [("x", 1), ("y", b"z")], "task-1")
    assert invoke_json("validate", *cli_bucket.s3()) == {
        "checked": len(cli_bucket.keys(PREFIX)),
        "failed": 0,
        "failures": [],
        "warnings": [],
    }
    dumped = invoke_json("dump", *cli_bucket.s3(), *at("", "cp-1"))
    assert dumped["checkpoint"]["channel_values"]["b"]["type"] == "bytes+aes"


# Thread "t1": cp-1 <- cp-2 in the default namespace, cp-3 in NAMESPACE; "t1-b"
# shares its first letters (and sorts next to it on some servers).
T1_WRITES = {"cp-1": 2, "cp-2": 1, "cp-3": 1}


def write_threads(saver: S3CheckpointSaver) -> None:
    refs = {
        "cp-1": CheckpointRef("t1", "", "cp-1"),
        "cp-2": CheckpointRef("t1", "", "cp-2"),
        "cp-3": CheckpointRef("t1", NAMESPACE, "cp-3"),
    }
    put(saver, refs["cp-1"], checkpoint("cp-1", n=1), {"step": 0})
    put(saver, refs["cp-2"], checkpoint("cp-2", n=2), {"step": 1}, parent="cp-1")
    put(saver, refs["cp-3"], checkpoint("cp-3"), {"step": 0})
    for name, ref in refs.items():
        writes = [(f"ch{i}", i) for i in range(T1_WRITES[name])]
        saver.put_writes(config_of(ref), writes, f"task-{name}")
    other = CheckpointRef("t1-b", "", "cp-1")
    put(saver, other, checkpoint("cp-1", n=9), {"step": 0})
    saver.put_writes(config_of(other), [("ch", 9)], "task-b")


@pytest.fixture
def threads_store(cli_bucket: Store) -> Store:
    with cli_bucket.saver() as saver:
        write_threads(saver)
    return cli_bucket


def thread_keys(store: Store, thread_id: str) -> list[str]:
    layout = Layout(PREFIX)
    return store.keys(layout.thread_checkpoints_prefix(thread_id)) + store.keys(
        layout.thread_writes_prefix(thread_id)
    )


def entry(checkpoint_ns: str, checkpoint_id: str, **extra: str) -> dict[str, str]:
    return {**extra, "checkpoint_ns": checkpoint_ns, "checkpoint_id": checkpoint_id}


ALL_OF_T1 = [entry(NAMESPACE, "cp-3"), entry("", "cp-2"), entry("", "cp-1")]


def test_delete_with_yes_removes_only_that_thread(threads_store: Store) -> None:
    other = thread_keys(threads_store, "t1-b")
    result = invoke(["delete", *threads_store.s3(), "--thread-id", "t1", "--yes"])

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # --yes: no question asked
    assert json.loads(result.stdout) == {
        "thread_id": "t1",
        "dry_run": False,
        "deleted": ALL_OF_T1,
        "deleted_writes": sum(T1_WRITES.values()),
        "deleted_other": [],
        "kept": [],
    }
    assert thread_keys(threads_store, "t1") == []
    assert thread_keys(threads_store, "t1-b") == other
    listed = invoke_json("list", *threads_store.s3(), "--thread-id", "t1-b")
    assert listed["checkpoints"] == [entry("", "cp-1")]
    # Deleted already: a scheduled job that misspells or repeats it hears so.
    nobody = invoke(["delete", *threads_store.s3(), "--thread-id", "t1", "-y"])
    assert nobody.exit_code == 4 and "not found" in nobody.stderr


def test_delete_dry_run_deletes_nothing_and_needs_no_terminal(
    threads_store: Store,
) -> None:
    stray = f"{Layout(PREFIX).thread_checkpoints_prefix('t1')}notes.txt"
    client = threads_store.endpoint.boto3_client()
    client.put_object(Bucket=threads_store.bucket, Key=stray, Body=b"x")
    everything = threads_store.keys()

    planned = invoke_json(
        "delete", *threads_store.s3(), "--thread-id", "t1", "--dry-run"
    )

    assert planned == {
        "thread_id": "t1",
        "dry_run": True,
        "deleted": ALL_OF_T1,
        "deleted_writes": sum(T1_WRITES.values()),
        "deleted_other": [stray],
        "kept": [],
    }
    assert threads_store.keys() == everything
    # The real run removes what the dry run announced, the stray object too.
    done = invoke_json("delete", *threads_store.s3(), "--thread-id", "t1", "--yes")
    assert done == {**planned, "dry_run": False}
    assert thread_keys(threads_store, "t1") == []


def test_prune_keep_latest_keeps_newest_per_namespace_with_writes(
    threads_store: Store,
) -> None:
    other = thread_keys(threads_store, "t1-b")
    pruned = invoke_json("prune", *threads_store.s3(), "--thread-id", "t1", "--yes")

    assert pruned == {
        "thread_ids": ["t1"],
        "strategy": "keep_latest",
        "deleted": [entry("", "cp-1", thread_id="t1")],
        "deleted_writes": T1_WRITES["cp-1"],
        "deleted_other": [],
        "kept": [
            entry(NAMESPACE, "cp-3", thread_id="t1"),
            entry("", "cp-2", thread_id="t1"),
        ],
    }
    layout = Layout(PREFIX)
    writes = threads_store.keys(layout.thread_writes_prefix("t1"))
    owners = Counter(
        ref.checkpoint.checkpoint_id
        for k in writes
        if (ref := layout.parse_write_key(k))
    )
    assert owners == {"cp-2": T1_WRITES["cp-2"], "cp-3": T1_WRITES["cp-3"]}
    kept = invoke_json("dump", *threads_store.s3(), *at("", "cp-2", "t1"))
    assert [w["channel"] for w in kept["pending_writes"]] == ["ch0"]
    assert thread_keys(threads_store, "t1-b") == other


def test_prune_all_removes_everything_of_the_threads(threads_store: Store) -> None:
    threads = ["--thread-id", "t1", "--thread-id", "t1-b", "--thread-id", "t1"]
    pruned = invoke_json("prune", *threads_store.s3(), *threads, "--all", "--yes")

    assert pruned == {
        "thread_ids": ["t1", "t1-b"],
        "strategy": "delete",
        "deleted": [
            entry(NAMESPACE, "cp-3", thread_id="t1"),
            entry("", "cp-2", thread_id="t1"),
            entry("", "cp-1", thread_id="t1-b"),
            entry("", "cp-1", thread_id="t1"),
        ],
        "deleted_writes": sum(T1_WRITES.values()) + 1,
        "deleted_other": [],
        "kept": [],
    }
    assert threads_store.keys() == []


def test_expire_judges_idleness_from_the_servers_last_modified(
    cli_bucket: Store, cli_requests: Counter[str]
) -> None:
    with cli_bucket.saver() as saver:
        put(saver, CheckpointRef("old", "", "cp-1"), checkpoint("cp-1"), {})
        time.sleep(4)  # LastModified has one-second steps
        put(saver, CheckpointRef("new", "", "cp-1"), checkpoint("cp-1"), {})
    cli_requests.clear()
    done = invoke_json("expire", *cli_bucket.s3(), "--idle", "3s", "--yes")
    assert [t["thread_id"] for t in done["expired"]] == ["old"]
    assert done["active_threads"] == 1
    # The sweep's 3 LISTs (checkpoints, writes, shared values), the idle
    # thread's 4 (and its heads').
    assert cli_requests == {"HeadBucket": 1, "ListObjectsV2": 7, "DeleteObjects": 1}
    assert thread_keys(cli_bucket, "old") == []
    assert len(thread_keys(cli_bucket, "new")) == 1


def test_threads_one_level_up_names_the_prefix_on_a_server(
    cli_bucket: Store,
) -> None:
    client = cli_bucket.endpoint.boto3_client()
    with S3CheckpointSaver(cli_bucket.bucket, s3_client=client) as saver:
        run_graph(saver)  # the default prefix, checkpoints/
    top = f"s3://{cli_bucket.bucket}/"
    args = ["--s3-prefix", top, "--endpoint-url", cli_bucket.endpoint.url]
    result = invoke(["threads", *args])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"threads": []}
    assert result.stderr == (
        f"note: no threads under {top}; a saver's data is under "
        f"{top}checkpoints/ (pass --s3-prefix {top}checkpoints/)\n"
    )


@pytest.mark.server
def test_local_s3_script_starts_a_server_with_the_bucket() -> None:
    port = str(closed_port())
    script = ROOT / "scripts" / "local-s3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["LOCAL_S3_PORT"] = port
    started = run_script(["bash", str(script)], env)
    try:
        assert started.returncode == 0, started.stderr
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in started.stdout.splitlines()
        )
        assert exports["AWS_ENDPOINT_URL_S3"] == f"http://127.0.0.1:{port}"
        listed = run_script(
            [str(SCRIPT), "threads", "--s3-prefix", "s3://my-checkpoints-bucket/p/"],
            {**env, **exports},
        )
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == {"threads": []}
        again = run_script(["bash", str(script)], env)  # the running one, reused
        assert again.stdout == started.stdout
        status = run_script(["bash", str(script), "status"], env)
        assert status.returncode == 0
        assert status.stderr.startswith(
            f"local-s3: running on {exports['AWS_ENDPOINT_URL_S3']} (pid "
        )
    finally:
        stopped = run_script(["bash", str(script), "stop"], env)
    assert stopped.returncode == 0
    assert "stopped the server" in stopped.stderr
    status = run_script(["bash", str(script), "status"], env)
    assert (status.returncode, status.stderr) == (
        1,
        f"local-s3: not running on http://127.0.0.1:{port}\n",
    )


def test_local_s3_script_names_a_port_another_program_holds() -> None:
    script = ROOT / "scripts" / "local-s3"
    with socket.socket() as holder:  # listens and never answers, as a stranger
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["LOCAL_S3_PORT"] = str(port)
        taken = run_script(["bash", str(script)], env)
    assert taken.returncode == 1
    assert taken.stdout == ""
    assert taken.stderr == (
        f"local-s3: port {port} on 127.0.0.1 is in use by another program; pick "
        f"a free one, e.g. LOCAL_S3_PORT=9100 {script}\n"
    )


@pytest.mark.parametrize(
    "command",
    [["delete", "--thread-id", "t1"], ["prune", "--thread-id", "t1", "--all"]],
)
def test_refuses_without_yes_when_stdin_is_not_a_terminal(
    threads_store: Store, cli_requests: Counter[str], command: list[str]
) -> None:
    everything = threads_store.keys()
    result = invoke([*command, *threads_store.s3()], input="y\n")

    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr == (
        "Error: refusing to delete: stdin is not a terminal to confirm on; "
        "pass --yes to confirm (nothing was deleted)\n"
    )
    assert threads_store.keys() == everything
    assert cli_requests == {}  # refused before connecting


def test_refusal_never_waits_on_an_open_pipe(threads_store: Store) -> None:
    env = {**os.environ, **threads_store.endpoint.env()}
    args = ["delete", "--s3-prefix", threads_store.uri, "--thread-id", "t1"]
    with subprocess.Popen(
        [*MODULE, *args],
        env=env,
        stdin=subprocess.PIPE,  # open, never written, never closed
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.wait(timeout=60) == 4
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read() == ""
        assert proc.stderr.read().startswith("Error: refusing to delete")
    assert len(thread_keys(threads_store, "t1")) == 3 + sum(T1_WRITES.values())


@pytest.mark.parametrize("answer", ["y", "n"])
def test_confirmation_on_a_terminal(
    threads_store: Store, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    monkeypatch.setattr(cli_cleanup, "stdin_is_terminal", lambda: True)
    everything = threads_store.keys()
    result = invoke(
        ["prune", *threads_store.s3(), "--thread-id", "t1"], input=f"{answer}\n"
    )

    assert result.stderr.startswith(
        f"Prune thread 't1' in {threads_store.uri} (3 checkpoints in 2 namespaces "
        "and 4 writes): keep the newest checkpoint of each namespace (and the "
        "DeltaChannel ancestors it needs) and delete the rest? [y/N]: "
    )
    # CliRunner echoes the typed answer on stdout; a terminal shows it itself.
    output = result.stdout.removeprefix(f"{answer}\n")
    if answer == "y":
        assert result.exit_code == 0, result.stderr
        assert json.loads(output)["deleted"] == [entry("", "cp-1", thread_id="t1")]
        assert len(threads_store.keys()) < len(everything)
    else:
        assert result.exit_code == 4
        assert output == ""
        assert result.stderr.endswith("Error: not confirmed: nothing was deleted\n")
        assert threads_store.keys() == everything


def test_confirmation_on_a_real_terminal(threads_store: Store) -> None:
    pty = pytest.importorskip("pty")
    env = {**os.environ, **threads_store.endpoint.env()}
    args = ["delete", "--s3-prefix", threads_store.uri, "--thread-id", "t1"]
    controller, terminal = pty.openpty()
    try:
        with subprocess.Popen(
            [*MODULE, *args],
            env=env,
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as proc:
            os.write(controller, b"y\n")
            out, err = proc.communicate(timeout=60)
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 0, err
    assert "Delete thread 't1' from" in err
    assert "[y/N]" in err
    assert json.loads(out)["deleted"] == ALL_OF_T1
    assert thread_keys(threads_store, "t1") == []


def test_failed_delete_still_reports_what_went(
    threads_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FailingSaver(S3CheckpointSaver):
        def delete_thread(self, thread_id: str) -> None:
            key = Layout(PREFIX).checkpoint_key(CheckpointRef(thread_id, "", "cp-1"))
            self.client.delete_object(Bucket=self.bucket_name, Key=key)
            raise DeleteFailedError([("some/key", "AccessDenied")])

    monkeypatch.setattr(saver_module, "S3CheckpointSaver", FailingSaver)
    result = invoke(["delete", *threads_store.s3(), "--thread-id", "t1", "--yes"])

    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert (report["deleted"], report["deleted_writes"]) == ([entry("", "cp-1")], 0)
    assert report["kept"] == ALL_OF_T1[:2]
    assert result.stderr.startswith(
        "Error: DeleteObjects: AccessDenied on 1 key (such as some/key): "
        "does this identity have s3:DeleteObject?"
    )
    assert result.stderr.count("\n") == 1


def test_prune_has_no_dry_run(threads_store: Store) -> None:
    everything = threads_store.keys()
    args = ["prune", *threads_store.s3(), "--thread-id", "t1", "--dry-run"]
    result = invoke(args)
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: prune has no --dry-run")
    assert result.stderr.count("\n") == 1
    assert threads_store.keys() == everything


def test_missing_checkpoint_exits_4(cli_store: Store) -> None:
    result = invoke(["dump", *cli_store.s3(), *at("", "cp-404")])
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr == (
        "Error: checkpoint not found: thread 't-direct', namespace '', id 'cp-404'\n"
    )


def test_corrupt_object_exits_4_naming_the_key_after_the_rest(
    cli_bucket: Store,
) -> None:
    with cli_bucket.saver() as saver:
        put(saver, CheckpointRef("t", "", "cp-2"), checkpoint("cp-2"), {"step": 0})
    key = Layout(PREFIX).checkpoint_key(CheckpointRef("t", "", "cp-1"))
    client = cli_bucket.endpoint.boto3_client()
    client.put_object(Bucket=cli_bucket.bucket, Key=key, Body=b"garbage")
    result = invoke(["read", *cli_bucket.s3(), "--thread-id", "t"])
    assert result.exit_code == 4
    assert result.stderr.startswith(f"Error: {key}: not a JSON document; ")
    assert "run s3-checkpoint validate --s3-prefix " in result.stderr
    shown = json.loads(result.stdout)["checkpoints"]
    assert [c["checkpoint_id"] for c in shown] == ["cp-2", "cp-1"]
    assert shown[1] == {
        "checkpoint_ns": "",
        "checkpoint_id": "cp-1",
        "error": "not a JSON document",
    }


def test_missing_bucket_exits_3(moto: S3Endpoint) -> None:
    result = invoke(
        [
            "threads",
            "--s3-prefix",
            "s3://no-such-bucket-here/p/",
            "--endpoint-url",
            moto.url,
        ]
    )
    assert result.exit_code == 3
    assert (
        result.stderr
        == "Error: bucket 'no-such-bucket-here' does not exist (HeadBucket: 404)\n"
    )


def test_usage_error_exits_4_in_one_line(cli_store: Store) -> None:
    result = invoke(["dump", *cli_store.s3()])
    assert result.exit_code == 4
    assert result.stderr == (
        "Error: Missing option '--thread-id'. (see 's3-checkpoint dump --help')\n"
    )
    assert (
        invoke(
            ["list", "--endpoint-url", "ftp://x", "--s3-prefix", "s3://b/p"]
        ).exit_code
        == 4
    )
    assert invoke(["nosuchcommand"]).exit_code == 4


def test_missing_credentials_exit_2(cli_store: Store) -> None:
    no_credentials: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = invoke(["threads", *cli_store.s3()], env=no_credentials)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: HeadBucket")
    assert "Unable to locate credentials" in result.stderr
    profile = invoke(["threads", *cli_store.s3(), "--profile", "nope"])
    assert profile.exit_code == 2
    assert "nope" in profile.stderr


def test_unexpected_error_exits_5_with_traceback_only_on_debug(
    cli_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(plans, "thread_checkpoints", boom)
    args = ["list", *cli_store.s3(), "--thread-id", "t"]
    quiet = invoke(args)
    assert quiet.exit_code == 5
    assert quiet.stderr == "Error: unexpected RuntimeError: boom\n"
    loud = invoke(["--debug", *args])
    assert loud.exit_code == 5
    assert "Traceback (most recent call last)" in loud.stderr
    assert loud.stderr.endswith("Error: unexpected RuntimeError: boom\n")


def test_rejected_credentials_exit_2(seaweedfs: S3Endpoint) -> None:
    bucket = fresh_bucket(seaweedfs)
    env = {
        **os.environ,
        **seaweedfs.env(),
        "AWS_ACCESS_KEY_ID": "AKIDWRONG",
        "AWS_SECRET_ACCESS_KEY": "wrong",
    }
    done = run_script([*MODULE, "threads", "--s3-prefix", f"s3://{bucket}/p/"], env)
    assert done.returncode == 2, done.stderr
    assert "InvalidAccessKeyId" in done.stderr
    assert done.stderr.count("\n") == 1
    good = run_script(
        [*MODULE, "threads", "--s3-prefix", f"s3://{bucket}/p/"],
        {**os.environ, **seaweedfs.env()},
    )
    assert (good.returncode, json.loads(good.stdout)) == (0, {"threads": []})


def test_module_entry_point_uses_aws_endpoint_url_s3(cli_store: Store) -> None:
    env = {**os.environ, **cli_store.endpoint.env()}
    done = run_script(
        [*MODULE, "list", "--s3-prefix", cli_store.uri, "--thread-id", DIRECT_THREAD],
        env,
    )
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout
        == invoke(["list", *cli_store.s3(), "--thread-id", DIRECT_THREAD]).stdout
    )
    assert done.stderr == ""


def test_installed_script_with_endpoint_url_option(cli_store: Store) -> None:
    env = {**os.environ, **cli_store.endpoint.env()}
    del env["AWS_ENDPOINT_URL_S3"]
    done = run_script(
        [
            str(SCRIPT),
            "threads",
            "--s3-prefix",
            cli_store.uri,
            "--endpoint-url",
            cli_store.endpoint.url,
        ],
        env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"threads": sorted([GRAPH_THREAD, DIRECT_THREAD])}


@pytest.mark.parametrize("how", ["option", "variable", "debug"])
def test_unreachable_store_retries_aloud_and_hides_the_password(
    tmp_path: Path, how: str
) -> None:
    port = closed_port()
    url = f"http://user:PASS@127.0.0.1:{port}"
    env = offline_env(tmp_path)
    args = ["threads", "--s3-prefix", "s3://some-bucket/p/"]
    if how == "variable":
        env["AWS_ENDPOINT_URL_S3"] = url
    else:
        args += ["--endpoint-url", url]
    debug = ["--debug"] if how == "debug" else []

    started = time.monotonic()
    done = run_script([*MODULE, *debug, *args], env)
    took = time.monotonic() - started

    assert done.returncode == 3, done.stderr
    assert took < 15
    assert done.stdout == ""
    shown = f"http://***@127.0.0.1:{port}"
    lines = done.stderr.splitlines()
    assert lines[:2] == [
        f"retrying: cannot reach {shown} (attempt 2 of 3)",
        f"retrying: cannot reach {shown} (attempt 3 of 3)",
    ]
    assert lines[-1] == (
        "Error: HeadBucket s3://some-bucket failed: Could not connect to the "
        f'endpoint URL: "{shown}/some-bucket"'
    )
    assert ("Traceback (most recent call last)" in done.stderr) == bool(debug)
    assert len(lines) > 3 if debug else len(lines) == 3
    assert "PASS" not in done.stderr
    assert "user" not in done.stderr


class Counted(ThreadingHTTPServer):
    """A loopback HTTP server that counts the connections it takes."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.taken = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        self.taken += 1
        super().process_request(request, client_address)

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[Counted]:
    server = Counted(handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class Silent(BaseHTTPRequestHandler):
    """Accepts a request and never answers (until the server shuts down)."""

    def do_HEAD(self) -> None:
        self.server_stopping.wait()  # type: ignore[attr-defined]

    def log_message(self, *args: Any) -> None:
        pass


class WebServer(BaseHTTPRequestHandler):
    """A web server, not S3: 404 for any path, without S3's request id."""

    def do_HEAD(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_silent_store_is_waited_on_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A store that accepts connections and never answers: 3 attempts cost
    # 3 read timeouts, where the documentation promises one.
    monkeypatch.setattr(cli_connection, "READ_TIMEOUT", 0.3)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    stopping = threading.Event()
    monkeypatch.setattr(Silent, "server_stopping", stopping, raising=False)
    with serving(Silent) as server:
        url = server.url()
        result = invoke(
            ["threads", "--s3-prefix", "s3://some-bucket/p/", "--endpoint-url", url]
        )
        stopping.set()
    assert result.exit_code == 3
    assert server.taken == 1
    assert result.stderr == (
        "Error: HeadBucket s3://some-bucket failed: Read timeout on endpoint "
        f'URL: "{url}/some-bucket"\n'
    )


def test_plain_http_at_an_https_url_is_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    with serving(WebServer) as server:
        url = server.url("https")
        result = invoke(
            ["threads", "--s3-prefix", "s3://some-bucket/p/", "--endpoint-url", url]
        )
    assert result.exit_code == 3
    assert server.taken == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: HeadBucket s3://some-bucket failed: SSL ")
    assert "WRONG_VERSION_NUMBER" in line
    assert line.endswith(" (plain HTTP at an https:// URL?)")


def test_a_web_server_is_not_taken_for_a_missing_bucket() -> None:
    with serving(WebServer) as server:
        result = invoke(
            [
                "threads",
                "--s3-prefix",
                "s3://some-bucket/p/",
                "--endpoint-url",
                server.url(),
            ]
        )
    assert result.exit_code == 3
    assert result.stderr == (
        "Error: HeadBucket s3://some-bucket: the endpoint does not look like S3: "
        "it answered 404 without S3's request id (x-amz-request-id); a web "
        "server, or a wrong port?\n"
    )


def test_a_failing_store_is_retried_aloud() -> None:
    class Busy(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = invoke(
            ["threads", "--s3-prefix", "s3://some-bucket/p/", "--endpoint-url", url]
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 3
    assert result.stderr.splitlines()[:-1] == [
        f"retrying: {url} answered HeadBucket with 503 (attempt 2 of 3)",
        f"retrying: {url} answered HeadBucket with 503 (attempt 3 of 3)",
    ]


def test_retries_follow_aws_max_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    url = f"http://127.0.0.1:{closed_port()}"
    result = invoke(
        ["threads", "--s3-prefix", "s3://some-bucket/p/", "--endpoint-url", url]
    )
    assert result.exit_code == 3
    assert result.stderr.splitlines()[:-1] == [
        f"retrying: cannot reach {url} (attempt 2 of 2)"
    ]


def offline_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "AWS_CONFIG_FILE": str(tmp_path / "none")}
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS"):
        env.pop(name, None)
    return env


def test_diff_and_dump_rebuild_a_delta_agent_over_http(cli_bucket: Store) -> None:
    """The tool-calling agent whose messages are a DeltaChannel: over a real
    server, dump shows the state the graph has, and diff the last answer."""
    from tests.support.agents import run_agent

    with cli_bucket.saver() as saver:
        graph, config = run_agent(saver, "delta-agent", delta=True)
        state = graph.get_state(config).values["messages"]
    args = [*cli_bucket.s3(), "--thread-id", "delta-agent"]

    dumped = invoke_json("dump", *args, "--brief")
    found = invoke_json("diff", *args)

    values = dumped["checkpoint"]["channel_values"]
    assert [m["id"] for m in values["messages"]] == [m.id for m in state]
    added = found["messages"]["messages"]["added"]
    assert [m["content"] for m in added] == [state[-1].content]
