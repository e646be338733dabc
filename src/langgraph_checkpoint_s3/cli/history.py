"""What ``history`` shows: one entry per checkpoint, newest first, and the
branches that time travel makes drawn as a tree, as ``git log --graph`` does;
each subgraph's checkpoints drawn under the step that ran it.

Pure: it takes checkpoint tuples as the saver read them.

- *ran*: the nodes whose run made the checkpoint, found by comparing its
  ``versions_seen`` with its parent's (LangGraph records there which channel
  versions each node has consumed, when it runs; ``update_state`` records
  the node it writes as); none for a ``fork`` (a copy of its parent made by
  time travel); None when the parent is not there to compare with (pruned);
- *pending writes*: the ``(task_id, channel)`` of each write stored for the
  checkpoint (the writes of the tasks run from it, or being run);
- *interrupts*: the values of the ``__interrupt__`` writes among them;
- *concurrent children*: its ``loop`` children when there are two or more,
  the mark of racing writers (:mod:`.lineage`);
- *error*: why a checkpoint that is listed could not be read; the entry
  holds nothing else.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .lineage import Key, concurrent_children, host_of, subgraph_label
from .rendering import JSON, to_json

if TYPE_CHECKING:
    from langgraph.checkpoint.base import CheckpointTuple

__all__ = [
    "CUT",
    "MARK",
    "Entry",
    "Node",
    "cut",
    "draw",
    "entries",
    "graph_lines",
    "pieces",
]

_T = TypeVar("_T")

_INTERRUPT = "__interrupt__"
_ERROR = "__error__"
_SHOWN = 60
"""Characters of an interrupt's value shown on its line."""

MARK = "!!"
"""Starts what needs a look: racing writers' children, an unreadable
checkpoint; easy to find by eye or with grep."""
CUT = "…"
"""Ends a line cut to the terminal's width."""


@dataclass(frozen=True)
class Entry:
    """One checkpoint as ``history`` shows it."""

    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str | None
    step: JSON
    source: JSON
    ts: str
    ran: list[str] | None
    pending_writes: list[tuple[str, str]]
    interrupts: list[JSON]
    errors: list[JSON]
    concurrent_children: list[str] = field(default_factory=list)
    host: Key | None = None
    """The step of the enclosing graph that ran this subgraph (see
    :func:`.lineage.host_of`); None in the root graph."""
    error: str | None = None

    @classmethod
    def unreadable(cls, checkpoint_ns: str, checkpoint_id: str, why: str) -> Entry:
        """A checkpoint that is listed but could not be read."""
        return cls(
            checkpoint_ns,
            checkpoint_id,
            None,
            None,
            None,
            "",
            None,
            [],
            [],
            [],
            error=why,
        )

    @property
    def key(self) -> Key:
        """The checkpoint, as the graph knows it."""
        return (self.checkpoint_ns, self.checkpoint_id)

    @property
    def parent_key(self) -> Key | None:
        """Its parent, in the same namespace."""
        parent = self.parent_checkpoint_id
        return None if parent is None else (self.checkpoint_ns, parent)

    def to_json(self) -> dict[str, JSON]:
        """The entry of ``history --format json``."""
        if self.error is not None:
            return {
                "checkpoint_ns": self.checkpoint_ns,
                "checkpoint_id": self.checkpoint_id,
                "error": self.error,
            }
        return {
            "checkpoint_ns": self.checkpoint_ns,
            "checkpoint_id": self.checkpoint_id,
            "parent_checkpoint_id": self.parent_checkpoint_id,
            "step": self.step,
            "source": self.source,
            "ts": self.ts,
            "ran": None if self.ran is None else [*self.ran],
            "pending_writes": [
                {"task_id": task_id, "channel": channel}
                for task_id, channel in self.pending_writes
            ],
            "interrupts": [*self.interrupts],
            "errors": [*self.errors],
            "concurrent_children": [*self.concurrent_children],
        }

    def text(self) -> str:
        """The entry's line, after its graph; its namespace is said once,
        above its subgraph's lines. Marks come right after the id, so a
        line cut to the terminal's width keeps them."""
        parts = [self.checkpoint_id]
        if self.error is not None:
            return f"{self.checkpoint_id}  {MARK} unreadable: {self.error}"
        if self.concurrent_children:
            count = len(self.concurrent_children)
            parts.append(f"{MARK} {count} loop children")
        parts += [f"step {self.step}", str(self.source), _when(self.ts)]
        if self.ran is None:
            parts.append("ran ?")
        elif self.ran:
            parts.append("ran " + ",".join(self.ran))
        count = len(self.pending_writes)
        parts.append(f"{count} write{'' if count == 1 else 's'}")
        parts += [f"interrupt {_short(value)}" for value in self.interrupts]
        parts += [f"error {_short(value)}" for value in self.errors]
        return "  ".join(parts)


def _when(ts: str) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    try:
        moment = datetime.datetime.fromisoformat(ts)
    except ValueError:
        return ts
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _short(value: JSON) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _ran(seen: Mapping[str, Any], parent: Mapping[str, Any] | None) -> list[str]:
    """The nodes whose consumed versions changed from the parent's (not
    ``__interrupt__``: LangGraph's record of interrupt_before/after)."""
    before = parent or {}
    return sorted(
        node
        for node, versions in seen.items()
        if node != _INTERRUPT
        and versions
        and dict(versions) != dict(before.get(node) or {})
    )


def _interrupt_values(value: Any) -> list[JSON]:
    """An ``__interrupt__`` write holds a sequence of Interrupt(value, id)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    shown: list[JSON] = []
    for item in items:
        rendered = to_json(item)
        if isinstance(rendered, dict) and "value" in rendered:
            rendered = rendered["value"]
        shown.append(rendered)
    return shown


def entries(
    tuples: Iterable[CheckpointTuple],
    unreadable: Iterable[tuple[str, str, str]] = (),
    beyond: Iterable[CheckpointTuple] = (),
) -> list[Entry]:
    """The history entries of checkpoints, newest first (ids sort in time);
    ``unreadable`` adds the ``(namespace, id, why)`` of those listed but not
    read; ``beyond`` gives parents shown elsewhere, to say what ran."""
    items = sorted(
        tuples,
        key=lambda t: (
            t.config["configurable"]["checkpoint_id"],
            t.config["configurable"].get("checkpoint_ns", ""),
        ),
        reverse=True,
    )
    seen_by_key: dict[Key, Mapping[str, Any]] = {
        (
            t.config["configurable"].get("checkpoint_ns", ""),
            t.config["configurable"]["checkpoint_id"],
        ): t.checkpoint.get("versions_seen", {})
        for t in [*items, *beyond]
    }
    racing = concurrent_children(
        (
            (
                t.config["configurable"].get("checkpoint_ns", ""),
                t.config["configurable"]["checkpoint_id"],
            ),
            (t.parent_config or {}).get("configurable", {}).get("checkpoint_id"),
            (t.metadata or {}).get("source"),
        )
        for t in items
    )
    found = [Entry.unreadable(*bad) for bad in unreadable]
    for item in items:
        configurable = item.config["configurable"]
        ns = configurable.get("checkpoint_ns", "")
        parent_id = (
            (item.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        )
        seen = item.checkpoint.get("versions_seen", {})
        metadata: Mapping[str, Any] = item.metadata or {}
        if metadata.get("source") == "fork":
            ran: list[str] | None = []  # a copy of its parent: nothing ran
        elif parent_id is None:
            ran = _ran(seen, None)
        elif (ns, parent_id) in seen_by_key:
            ran = _ran(seen, seen_by_key[(ns, parent_id)])
        else:
            ran = None
        writes = item.pending_writes or []
        found.append(
            Entry(
                checkpoint_ns=ns,
                checkpoint_id=configurable["checkpoint_id"],
                parent_checkpoint_id=parent_id,
                step=to_json(metadata.get("step")),
                source=to_json(metadata.get("source")),
                ts=str(item.checkpoint.get("ts", "")),
                ran=ran,
                pending_writes=[(task_id, channel) for task_id, channel, _ in writes],
                interrupts=[
                    shown
                    for _, channel, value in writes
                    if channel == _INTERRUPT
                    for shown in _interrupt_values(value)
                ],
                errors=[
                    to_json(value) for _, channel, value in writes if channel == _ERROR
                ],
                concurrent_children=racing.get((ns, configurable["checkpoint_id"]), []),
                host=host_of(ns, metadata),
            )
        )
    return sorted(found, key=lambda e: (e.checkpoint_id, e.checkpoint_ns), reverse=True)


# -- the graph ----------------------------------------------------------------------


def _cells(marks: dict[int, str], width: int) -> str:
    line = [" "] * width
    for at, mark in marks.items():
        line[at] = mark
    return "".join(line).rstrip()


def graph_lines(
    nodes: Sequence[tuple[Key, Key | None]], later: Container[Key] = ()
) -> list[tuple[str, int | None]]:
    """The graph of ``nodes`` (``(key, parent key)``, newest first, so each
    child comes before its parent), as ``git log --graph`` draws it: one
    column per open branch, ``*`` for a node, ``|`` for a branch passing by,
    ``/`` and ``_`` where branches join at the checkpoint they forked from or
    move left when one ends.

    Returns ``(graph, index)`` pairs: ``index`` is the node a line shows, None
    for a line that only joins or moves branches. A parent in ``later`` is
    drawn after these lines: its branch goes on.
    """
    order = {key: i for i, (key, _) in enumerate(nodes)}
    columns: list[Key] = []
    lines: list[tuple[str, int | None]] = []
    for index, (key, parent) in enumerate(nodes):
        matches = [c for c, wanted in enumerate(columns) if wanted == key]
        if not matches:
            columns.append(key)
            col = len(columns) - 1
        else:
            col = matches[0]
            for j in reversed(matches[1:]):
                lines.append((_join(len(columns), col, j), None))
                del columns[j]
        width = 2 * len(columns)
        marks = {2 * c: ("*" if c == col else "|") for c in range(len(columns))}
        lines.append((_cells(marks, width), index))
        # A parent that is not listed (pruned), or not older, ends the branch.
        if parent is not None and (order.get(parent, -1) > index or parent in later):
            columns[col] = parent
        else:
            del columns[col]
            if col < len(columns):
                lines.append((_shift(len(columns) + 1, col), None))
            elif index + 1 < len(nodes) and nodes[index + 1][0] not in columns:
                # The next node opens a column where this branch just ended:
                # a gap, so it does not read as this one's parent.
                marks = {2 * c: "|" for c in range(len(columns))}
                lines.append((_cells(marks, 2 * len(columns)), None))
    return lines


def _join(count: int, col: int, j: int) -> str:
    """Column ``j`` joins column ``col``; the columns right of it move left."""
    marks: dict[int, str] = {2 * c: "|" for c in range(j)}
    for at in range(2 * col + 1, 2 * j - 1):
        marks.setdefault(at, "_")
    marks[2 * j - 1] = "/"
    for c in range(j + 1, count):
        marks[2 * c - 1] = "/"
    return _cells(marks, 2 * count)


def _shift(count: int, gone: int) -> str:
    """Column ``gone`` has ended; the columns right of it move left."""
    marks: dict[int, str] = {2 * c: "|" for c in range(gone)}
    for c in range(gone + 1, count):
        marks[2 * c - 1] = "/"
    return _cells(marks, 2 * count)


Below = Callable[[Entry], Sequence[str]]
"""Lines to show under a checkpoint's own, drawn inside its graph."""


def draw(
    found: Sequence[Entry],
    width: int | None = None,
    below: Below | None = None,
    later: Container[Key] = (),
    headed: list[str] | None = None,
) -> list[str]:
    """The lines of ``history``: each namespace's checkpoints as a graph,
    the text aligned after its widest graph, and each subgraph's namespace
    drawn under the checkpoint whose step ran it, indented inside the
    enclosing graph. A namespace whose host is not shown (pruned, or not
    read) is drawn apart, under a line naming it whole. ``below`` adds
    lines under a checkpoint's; ``width`` cuts every line to it (see
    :func:`cut`); ``later`` names checkpoints drawn after these (see
    :func:`graph_lines`). ``headed``, for lines drawn piece by piece, holds
    the namespace drawn apart last: its line is not said again when the
    next piece goes on with it."""
    by_ns: dict[str, list[Entry]] = {}
    for entry in found:
        by_ns.setdefault(entry.checkpoint_ns, []).append(entry)
    shown = {entry.key for entry in found}
    hosted: dict[Key, list[str]] = {}
    apart: list[tuple[str, Key | None]] = []
    for ns, items in by_ns.items():  # newest first: by_ns keeps that order
        host = next((e.host for e in items if e.host is not None), None)
        if host is not None and host in shown:
            hosted.setdefault(host, []).append(ns)
        else:
            apart.append((ns, host))

    def block(ns: str, prefix: str) -> list[str]:
        items = by_ns[ns]
        rows = graph_lines([(e.key, e.parent_key) for e in items], later)
        at = {e.key: i for i, e in enumerate(items)}
        pad = max(len(graph) for graph, _ in rows)
        lines = []
        for graph, index in rows:
            if index is None:
                lines.append(prefix + graph)
                continue
            entry = items[index]
            lines.append(f"{prefix}{graph.ljust(pad)}  {entry.text()}")
            parent = entry.parent_key
            goes_on = parent is not None and (
                at.get(parent, -1) > index or parent in later
            )
            under = prefix + graph.replace("*", "|" if goes_on else " ").ljust(pad)
            lines += [f"{under}  {line}" for line in (below or _nothing)(entry)]
            for inner in hosted.get(entry.key, []):
                lines.append(f"{under}  subgraph {subgraph_label(inner)}")
                lines += block(inner, f"{under}    ")
        return lines

    lines = []
    last = headed if headed is not None else []
    for ns, host in apart:
        if last[-1:] != [ns]:
            if host is not None:
                lines.append(f"subgraph {ns}  run from {host[1]}, not shown")
            elif ns:
                lines.append(f"subgraph {ns}")
        last[:] = [ns]
        lines += block(ns, "")
    return [cut(line.rstrip(), width) for line in lines]


Node = tuple[Key, Key | None, Key | None]
"""A checkpoint as :func:`pieces` sees it: its key, its parent's, and its
host's (the step that ran its subgraph)."""


def pieces(
    items: Iterable[_T], node: Callable[[_T], Node], listed: Container[Key]
) -> Iterator[tuple[list[_T], _T | None]]:
    """Checkpoints coming newest first, cut where the graph drawn so far
    can end: one branch goes on, to the next checkpoint, and every subgraph
    is under its host. Yields each piece with the checkpoint after it (its
    last one's parent, often; None at the end), so that ``history`` draws a
    long thread as it reads it. A parent or host that is not ``listed``
    (pruned) or has come already (ids that do not sort in time) is not
    waited for; a branch still open (time travel from far back) keeps the
    piece growing until its parent comes."""
    piece: list[_T] = []
    arrived: set[Key] = set()
    waiting: dict[Key, int] = {}  # parent -> children in the piece
    hosts: set[Key] = set()
    namespaces: set[str] = set()

    def to_come(key: Key) -> bool:
        return key in listed and key not in arrived

    def add(item: _T) -> None:
        key, parent, host = node(item)
        piece.append(item)
        waiting.pop(key, None)
        hosts.discard(key)
        if parent is not None and to_come(parent):
            waiting[parent] = waiting.get(parent, 0) + 1
        if host is not None and key[0] not in namespaces and to_come(host):
            hosts.add(host)
        namespaces.add(key[0])

    previous: _T | None = None
    for item in items:
        key = node(item)[0]
        if previous is not None:
            add(previous)
            open_branches = sum(waiting.values())
            if not hosts and (
                open_branches == 0 or (open_branches == 1 and key in waiting)
            ):
                yield piece, item
                piece, waiting, namespaces = [], {}, set()
        arrived.add(key)
        previous = item
    if previous is not None:
        add(previous)
        yield piece, None


def _nothing(entry: Entry) -> Sequence[str]:
    return ()


def cut(line: str, width: int | None) -> str:
    """``line`` cut to ``width`` characters, ending in :data:`CUT` when it
    was longer; None keeps it whole."""
    if width is None or len(line) <= width:
        return line
    return line[: max(width - len(CUT), 0)] + CUT
