"""The workload: a chat-like thread of checkpoints, each with the pending
writes of its task, as LangGraph would put them."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

# langchain-core comes with langgraph-checkpoint; langgraph (the dev extra) is
# needed for the graph run and for every saver.
from langchain_core.messages import AIMessage, HumanMessage

WRITES_PER_CHECKPOINT = 2


@dataclass(frozen=True)
class Step:
    """One checkpoint to put, with the pending writes of its task."""

    checkpoint: Any
    metadata: Any
    versions: dict[str, Any]
    writes: list[tuple[str, Any]]
    task_id: str


ANSWER = (
    "Here is a short answer with a little detail, about the size of a chat turn"
    " in a real agent: a sentence or two, some numbers (42, 3.14) and a link."
)


def checkpoint_id_at(seconds: float, seq: int) -> str:
    """A uuid6 checkpoint id, as LangGraph makes them, for a given time: a
    history can then span hours, as a real one does, though made in seconds."""
    timestamp = int(seconds * 1e7) + 0x01B21DD213814000  # 100 ns since 1582
    value = ((timestamp >> 12) & 0xFFFFFFFFFFFF) << 80
    value |= (timestamp & 0x0FFF) << 64
    value |= (seq & 0x3FFF) << 48
    value |= uuid.uuid4().int & 0xFFFFFFFFFFFF
    value &= ~(0xC000 << 48)
    value |= 0x8000 << 48  # RFC 4122 variant
    value &= ~(0xF000 << 64)
    value |= 6 << 76  # version 6
    return str(uuid.UUID(int=value))


def make_step(
    saver: Any,
    step: int,
    versions: dict[str, Any],
    run_id: str,
    at: float | None = None,
) -> Step:
    """Checkpoint ``step`` of a chat-like thread; ``versions`` is updated.
    ``at``: the time (epoch seconds) of the checkpoint, default now."""
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.base.id import uuid6

    seen = dict(versions)
    updated = ["counter", "messages"] + (["context"] if step == 0 else [])
    new_versions = {
        name: saver.get_next_version(versions.get(name), None) for name in updated
    }
    versions.update(new_versions)
    checkpoint = empty_checkpoint()
    if at is None:
        checkpoint["id"] = str(uuid6(clock_seq=step))
    else:
        checkpoint["id"] = checkpoint_id_at(at, step)
        checkpoint["ts"] = datetime.datetime.fromtimestamp(
            at, datetime.timezone.utc
        ).isoformat()
    checkpoint["channel_values"] = {
        "messages": [
            HumanMessage(content=f"question {step}", id=f"h-{step}"),
            AIMessage(content=f"answer {step}. {ANSWER}", id=f"a-{step}"),
        ],
        "counter": step,
        "context": {"user_id": "user-42", "locale": "en-GB", "tags": ["bench"]},
    }
    checkpoint["channel_versions"] = dict(versions)
    checkpoint["versions_seen"] = {"agent": seen, "__input__": {}}
    checkpoint["updated_channels"] = updated
    metadata: dict[str, Any] = {
        "source": "input" if step == 0 else "loop",
        "step": step,
        "parents": {},
        "run_id": run_id,
    }
    writes: list[tuple[str, Any]] = [
        ("messages", [AIMessage(content=f"partial {step}", id=f"p-{step}")]),
        ("counter", step + 1),
    ]
    return Step(checkpoint, metadata, new_versions, writes, str(uuid.uuid4()))


def thread_config(thread_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}
