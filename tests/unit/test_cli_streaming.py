"""``read`` and ``history`` show a long thread as they read it: the newest
checkpoints after the listing and one window, and what they hold is about a
window (``cli/walking.py``, ``history.pieces``, ``delta_state.walk_stream``).
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langgraph.checkpoint.base import CheckpointTuple

from langgraph_checkpoint_s3._configs import thread_config
from langgraph_checkpoint_s3._keys import CheckpointRef, Layout
from langgraph_checkpoint_s3.cli.changes import rendered
from langgraph_checkpoint_s3.cli.delta_state import walk_loaded
from langgraph_checkpoint_s3.cli.history import entries, pieces
from langgraph_checkpoint_s3.cli.rendering import emit, emit_streamed
from langgraph_checkpoint_s3.cli.walking import Listed
from langgraph_checkpoint_s3.plans import FIRST_WINDOW, WINDOW
from tests.support.cli import S3, invoke
from tests.support.graphs import delta_graph, thread
from tests.support.histories import PREFIX, WRITES, history
from tests.support.memory_bucket import MemoryBucket, MemorySaver, Stored
from tests.support.memory_client import MemoryClient

Key = tuple[str, str]
LONG = 1001
"""Checkpoints of the long thread: more than a LIST page, ten windows."""


@pytest.mark.parametrize(
    "command",
    [["read"], ["history"], ["history", "--format", "json"], ["history", "--patch"]],
    ids=" ".join,
)
def test_the_newest_show_before_the_rest_is_read(
    bucket: MemoryBucket,
    client: MemoryClient,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    ids = history(MemorySaver(bucket, prefix=PREFIX), LONG)
    gets = client.calls
    printed: list[tuple[str, int]] = []  # what was printed, and the GETs by then
    echo = click.echo

    def counting(message: Any = None, **options: Any) -> None:
        printed.append((str(message), gets["GetObject"]))
        echo(message, **options)

    monkeypatch.setattr(click, "echo", counting)
    result = invoke([*command, *S3, "--thread-id", "t"])
    assert result.exit_code == 0, result.stderr
    first = next(done for text, done in printed if ids[-1] in text)
    # One window of checkpoints and their writes, not the thread's.
    assert 0 < first <= FIRST_WINDOW * (1 + WRITES)
    assert gets["GetObject"] == LONG * (1 + WRITES)
    shown = [ids.index(i) for i in _ids(result.stdout, ids)]
    assert shown == sorted(shown, reverse=True) and len(set(shown)) == LONG


def _ids(text: str, ids: list[str]) -> list[str]:
    known = set(ids)
    if text.lstrip().startswith("{"):
        document = json.loads(text)
        return [c["checkpoint_id"] for c in document["checkpoints"]]
    return [w for line in text.splitlines() for w in line.split()[:2] if w in known]


def _tuple(
    key: Key, parent: str | None, seen: int, source: str, host: str | None
) -> CheckpointTuple:
    ns, checkpoint_id = key
    checkpoint: Any = {  # not empty_checkpoint(): its id is random
        "v": 4,
        "id": checkpoint_id,
        "ts": "2026-12-07T00:00:00+00:00",
        "channel_values": {},
        "channel_versions": {},
        "versions_seen": {"node": {"x": seen}},
    }
    metadata: Any = {"source": source, "step": 0}
    if host is not None:
        metadata["parents"] = {"": host}
    config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ns}}
    config["configurable"]["checkpoint_id"] = checkpoint_id
    parent_config: Any = None
    if parent is not None:
        parent_config = {
            "configurable": {
                "thread_id": "t",
                "checkpoint_ns": ns,
                "checkpoint_id": parent,
            }
        }
    return CheckpointTuple(config, checkpoint, metadata, parent_config, [])


@st.composite
def threads(draw: st.DrawFn) -> tuple[list[CheckpointTuple], set[Key]]:
    """A thread newest first (ids in time order) with branches, subgraph
    namespaces run from root steps, and some checkpoints pruned (listed
    nowhere, still named as parents and hosts); and the keys listed."""
    made: list[CheckpointTuple] = []
    keys: list[Key] = []
    roots: list[str] = []
    hosts: dict[str, str] = {}
    for n in range(draw(st.integers(1, 25))):
        ns = draw(st.sampled_from(["", "", "", "sub:a", "sub:b"]))
        if ns and not roots:
            ns = ""
        same = [k[1] for k in keys if k[0] == ns]
        parent = draw(st.none() | st.sampled_from(same)) if same else None
        if ns and ns not in hosts:  # a namespace is one run of a subgraph
            hosts[ns] = draw(st.sampled_from(roots))
        host = hosts.get(ns)
        source = draw(st.sampled_from(["loop", "loop", "update", "fork", "input"]))
        key = (ns, f"{n:04d}")
        made.append(_tuple(key, parent, draw(st.integers(0, 2)), source, host))
        keys.append(key)
        if not ns:
            roots.append(key[1])
    pruned = draw(st.sets(st.sampled_from(keys), max_size=len(keys) // 3))
    kept = [t for t, k in zip(made, keys, strict=True) if k not in pruned]
    return kept[::-1], set(keys) - pruned


def _node(item: CheckpointTuple) -> tuple[Key, Key | None, Key | None]:
    configurable = item.config["configurable"]
    ns = configurable["checkpoint_ns"]
    parent = (item.parent_config or {}).get("configurable", {}).get("checkpoint_id")
    host = (item.metadata or {}).get("parents", {}).get("")
    return (
        (ns, configurable["checkpoint_id"]),
        None if parent is None else (ns, parent),
        None if host is None else ("", host),
    )


@settings(max_examples=300, deadline=None)
@given(threads())
def test_pieces_show_every_entry_as_the_whole_thread_shows_it(
    thread: tuple[list[CheckpointTuple], set[Key]],
) -> None:
    items, listed = thread
    whole = [e.to_json() for e in entries(items)]
    cut = list(pieces(items, _node, listed))
    assert [t for piece, _ in cut for t in piece] == items
    piecewise = [
        e.to_json()
        for piece, after in cut
        for e in entries(piece, beyond=[after] if after else [])
    ]
    assert piecewise == whole
    for piece, _ in cut:  # a subgraph is drawn under its host's line
        keys = {_node(t)[0] for t in piece}
        hosts = {host for t in piece if (host := _node(t)[2]) in listed}
        assert hosts <= keys


def test_a_straight_thread_is_shown_one_checkpoint_at_a_time() -> None:
    chain = [
        _tuple(("", f"{n:04d}"), f"{n - 1:04d}" if n else None, n, "loop", None)
        for n in range(50)
    ][::-1]
    listed = {_node(t)[0] for t in chain}
    assert [len(piece) for piece, _ in pieces(chain, _node, listed)] == [1] * 50


@pytest.mark.usefixtures("client")
def test_delta_channels_read_as_they_read_whole(bucket: MemoryBucket) -> None:
    """A DeltaChannel walk that spans windows: each checkpoint is shown once
    its walk is read, as when every checkpoint is in hand."""
    saver = MemorySaver(bucket, prefix=PREFIX)
    delta_graph(saver, steps=250).invoke({"items": [], "n": 0}, thread("items"))
    whole = [
        rendered(item, how)
        for item, how in walk_loaded(saver.list(thread_config("items")))
    ]
    result = invoke(["read", *S3, "--thread-id", "items"])
    streamed = json.loads(result.stdout)["checkpoints"]
    assert len(streamed) > 2 * WINDOW
    assert streamed == json.loads(json.dumps(whole))
    assert any("delta_channels" in entry for entry in streamed)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    st.lists(json_values, max_size=4),
)
def test_a_streamed_document_prints_as_the_whole_one(
    head: dict[str, Any], entries_: list[Any]
) -> None:
    """Byte for byte, whatever the strings hold (U+2028 splits lines for
    ``str.splitlines``, not for JSON)."""
    head = {**head, "thread_id": "t\u2028"}
    head.pop("checkpoints", None)
    whole, streamed = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(whole):
        emit({**head, "checkpoints": entries_})
    with contextlib.redirect_stdout(streamed):
        emit_streamed(head, "checkpoints", iter(entries_))
    assert streamed.getvalue() == whole.getvalue()


def test_a_checkpoint_gone_since_the_listing_is_not_waited_for() -> None:
    """A checkpoint deleted between the listing and its read (a prune
    running beside): its child is drawn on, the rest still a line at a
    time."""
    chain = [
        _tuple(("", f"{n:04d}"), f"{n - 1:04d}" if n else None, n, "loop", None)
        for n in range(50)
    ][::-1]
    listed = Listed(frozenset(_node(t)[0] for t in chain))
    listed.gone.add(("", "0040"))
    kept = [t for t in chain if _node(t)[0] != ("", "0040")]
    assert [len(piece) for piece, _ in pieces(kept, _node, listed)] == [1] * 49


def test_an_unreadable_checkpoint_holds_back_nothing_after_it(
    bucket: MemoryBucket, client: MemoryClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a DeltaChannel thread whose walks pass through it: what comes
    after is printed as it is read, not at the end."""
    saver = MemorySaver(bucket, prefix=PREFIX)
    delta_graph(saver, steps=250).invoke({"items": [], "n": 0}, thread("items"))
    ids = [identity(t) for t in saver.list(thread_config("items"))]
    key = Layout(PREFIX).checkpoint_key(CheckpointRef("items", "", ids[30]))
    bucket.objects[key] = Stored(b"{not json", bucket.objects[key].last_modified, 9)
    printed: list[tuple[str, int]] = []
    echo = click.echo
    calls = client.calls

    def counting(message: Any = None, **options: Any) -> None:
        printed.append((str(message), calls["GetObject"]))
        echo(message, **options)

    monkeypatch.setattr(click, "echo", counting)
    for command in (["read"], ["history", "--patch"]):
        printed.clear()
        result = invoke([*command, *S3, "--thread-id", "items"])
        assert result.exit_code == 4, result.stderr
        done = calls["GetObject"]
        shown_at = {i: next(g for text, g in printed if i in text) for i in ids[31:120]}
        assert max(shown_at.values()) < done, command


def identity(item: CheckpointTuple) -> str:
    checkpoint_id: str = item.config["configurable"]["checkpoint_id"]
    return checkpoint_id
