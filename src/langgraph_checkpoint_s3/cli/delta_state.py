"""The values of DeltaChannel channels, which a checkpoint does not store:
LangGraph keeps a snapshot now and then and rebuilds the value in between
by replaying the ancestors' writes through the channel's reducer.

The history (the nearest snapshot, the writes after it) comes from the
saver's ``get_delta_channel_history`` for one checkpoint, or, when the
checkpoints of a namespace are read anyway (``read``, ``history --patch``,
``diff``), from LangGraph's own parent walk over them, which costs no
request: a checkpoint is shown once its walk back to the snapshot is read.
The replay is LangGraph's ``DeltaChannel`` with LangGraph's message
reducer: the reducer itself is graph code, never stored, so it is used only
where every value is a LangChain message. Any other channel is shown as its
snapshot and ordered writes, labelled as such, for a person to read.

Pure: no request. It imports LangGraph, so the commands import it only
when they read checkpoints.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.serde.types import _DeltaSnapshot

from .lineage import Key
from .rendering import JSON, to_json

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from .salvage import Unreadable

__all__ = [
    "UNKNOWN_REDUCER",
    "Rebuilt",
    "channels_to_rebuild",
    "rebuild",
    "walk_loaded",
    "walk_stream",
    "with_values",
]

UNKNOWN_REDUCER = (
    "not rebuilt: its reducer is the graph's own code; the snapshot and "
    "the writes after it, oldest first"
)
"""What an unknown reducer's channel says in place of its value."""


def channels_to_rebuild(item: CheckpointTuple) -> list[str]:
    """The DeltaChannels the checkpoint does not store: those its metadata
    counts updates of since their snapshot."""
    from .._delta import delta_channels

    stored = item.checkpoint["channel_values"]
    return [c for c in delta_channels(item.metadata or {}) if c not in stored]


@dataclass(frozen=True)
class Rebuilt:
    """A DeltaChannel's value at a checkpoint, or why it could not be had."""

    channel: str
    value: Any = None
    rebuilt: bool = False
    snapshot: Any = None
    writes: list[Any] = field(default_factory=list)

    def to_json(self) -> dict[str, JSON]:
        """How the value was had: ``dump``'s ``delta_channels`` entry."""
        if self.rebuilt:
            return {
                "rebuilt_from": "snapshot" if self.snapshot is not None else "start",
                "writes": len(self.writes),
                "reducer": "messages",
            }
        return {
            "reducer": "unknown",
            "note": UNKNOWN_REDUCER,
            "snapshot": to_json(self.snapshot),
            "writes": [to_json(write) for write in self.writes],
        }


def _is_messages(value: Any) -> bool:
    if isinstance(value, BaseMessage):
        return True
    return isinstance(value, list) and all(isinstance(v, BaseMessage) for v in value)


def _messages_reducer() -> Any:
    try:
        from langgraph.graph.message import _messages_delta_reducer
    except ImportError:  # a LangGraph older than its batch reducer
        from functools import reduce

        from langgraph.graph.message import add_messages

        return lambda state, writes: reduce(add_messages, writes, state)
    return _messages_delta_reducer


def rebuild(channel: str, history: DeltaChannelHistory) -> Rebuilt:
    """Replay a channel's writes on its seed, when the writes are messages
    (LangGraph's message reducer); else keep both for a person to read."""
    seed = history.get("seed")
    if isinstance(seed, _DeltaSnapshot):
        seed = seed.value
    writes = [value for _, _, value in history["writes"]]
    if not writes:
        return Rebuilt(channel, seed, True, seed, [])
    if not all(map(_is_messages, writes)) or not _is_messages(seed or []):
        return Rebuilt(channel, None, False, seed, writes)
    # Imported here: LangGraph's channels bring its runtime (about a second
    # of start-up), which only a thread with messages to replay needs.
    from langgraph.channels.delta import DeltaChannel

    replay = DeltaChannel(_messages_reducer(), list).from_checkpoint(seed)
    replay.replay_writes(history["writes"])
    return Rebuilt(channel, replay.get(), True, seed, writes)


def with_values(
    item: CheckpointTuple, rebuilt: Mapping[str, Rebuilt]
) -> tuple[CheckpointTuple, dict[str, JSON]]:
    """The checkpoint with its DeltaChannel values in ``channel_values``
    (a stored snapshot shown as its value, a rebuilt value added), and how
    each was had (empty for a checkpoint without DeltaChannels)."""
    values = dict(item.checkpoint["channel_values"])
    how: dict[str, JSON] = {}
    for name, value in list(values.items()):
        if isinstance(value, _DeltaSnapshot):
            values[name] = value.value
            how[name] = {
                "rebuilt_from": "stored snapshot",
                "writes": 0,
                "reducer": None,
            }
    for name, found in rebuilt.items():
        if found.rebuilt and found.value is not None:
            values[name] = found.value
        how[name] = found.to_json()
    if not how:
        return item, how
    checkpoint = {**item.checkpoint, "channel_values": values}
    return item._replace(checkpoint=checkpoint), how  # type: ignore[arg-type]


def walk_loaded(
    items: Iterable[CheckpointTuple],
) -> list[tuple[CheckpointTuple, dict[str, JSON]]]:
    """Every checkpoint with its DeltaChannel values, rebuilt from the
    checkpoints given (each namespace whole, as ``diff`` has it) by
    LangGraph's parent walk: no request."""
    loaded = list(items)
    every = {_key(item.config) for item in loaded}
    return [
        (item, how)
        for item, how in walk_stream(loaded, every)
        if isinstance(item, CheckpointTuple)
    ]


def walk_stream(
    items: Iterable[CheckpointTuple | Unreadable],
    listed: Container[Key],
    fetch: Callable[[RunnableConfig], CheckpointTuple | None] | None = None,
) -> Iterator[tuple[CheckpointTuple | Unreadable, dict[str, JSON]]]:
    """As :func:`walk_loaded`, for checkpoints coming newest first as they
    are read (``read``, ``history --patch``): each is handed on, in order,
    once the walk to its DeltaChannels' snapshot meets no checkpoint that is
    ``listed`` (keys ``(namespace, id)``) and still to come; anything else
    (an unreadable checkpoint) as it is. It holds the checkpoints between
    one and its snapshot, and drops one once handed on: a parent is older
    than its child, so only checkpoints handed on before it walk through
    it. Should ids not sort so, ``fetch`` reads a dropped one again."""
    held: deque[CheckpointTuple | Unreadable] = deque()
    arrived: set[Key] = set()
    walker = _Loaded((), fetch)
    for item in items:
        held.append(item)
        if isinstance(item, CheckpointTuple):
            arrived.add(_key(item.config))
            walker.items[_key(item.config)] = item
        else:
            arrived.add(item.key)
        while held and (done := _ready(walker, held[0], listed, arrived)) is not None:
            yield done
            _drop(walker, held.popleft())
    for rest in held:
        done = _ready(walker, rest, (), arrived)
        assert done is not None  # nothing is to come: every walk is whole
        yield done


def _ready(
    walker: _Loaded,
    item: CheckpointTuple | Unreadable,
    listed: Container[Key],
    arrived: Container[Key],
) -> tuple[CheckpointTuple | Unreadable, dict[str, JSON]] | None:
    if not isinstance(item, CheckpointTuple):
        return item, {}
    wanted = channels_to_rebuild(item)
    if not wanted:
        return with_values(item, {})
    walker.missed = []
    histories = walker.get_delta_channel_history(config=item.config, channels=wanted)
    if any(key in listed and key not in arrived for key in walker.missed):
        return None  # an ancestor is still to come
    return with_values(item, {name: rebuild(name, h) for name, h in histories.items()})


def _drop(walker: _Loaded, item: CheckpointTuple | Unreadable) -> None:
    if isinstance(item, CheckpointTuple):
        walker.items.pop(_key(item.config), None)
        walker.dropped.add(_key(item.config))


def _key(config: RunnableConfig) -> tuple[str, str]:
    configurable = config.get("configurable", {})
    return (configurable.get("checkpoint_ns", ""), configurable["checkpoint_id"])


class _Loaded(BaseCheckpointSaver[str]):
    """Checkpoints already read, as a saver LangGraph's walk can ask; it
    notes each one asked for and not held, and reads one again with
    ``fetch`` when it was held once (in ``dropped``)."""

    def __init__(
        self,
        items: Iterable[CheckpointTuple],
        fetch: Callable[[RunnableConfig], CheckpointTuple | None] | None = None,
    ) -> None:
        super().__init__()
        self.items = {_key(item.config): item for item in items}
        self.missed: list[Key] = []
        self.dropped: set[Key] = set()
        self._fetch = fetch

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        key = _key(config)
        found = self.items.get(key)
        if found is None and self._fetch is not None and key in self.dropped:
            found = self._fetch(config)
        if found is None:
            self.missed.append(key)
        return found
