"""LangGraph configs: what one names, and the configs the savers hand back."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

from ._keys import CheckpointRef

__all__ = ["CheckpointSelector", "config_of", "next_version", "thread_config"]


@dataclass(frozen=True)
class CheckpointSelector:
    """The checkpoint a config selects: a thread, a namespace, and an id, or
    None for the newest of that namespace."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str | None

    @classmethod
    def of(cls, config: RunnableConfig) -> CheckpointSelector:
        """Read ``config["configurable"]``; a thread_id is required."""
        configurable = config.get("configurable") or {}
        thread_id = configurable.get("thread_id")
        if thread_id is None:
            raise ValueError("config['configurable'] needs a 'thread_id'")
        return cls(
            str(thread_id),
            str(configurable.get("checkpoint_ns") or ""),
            configurable.get("checkpoint_id") or None,
        )

    def at(self, checkpoint_id: str) -> CheckpointRef:
        """The checkpoint with this id in the selected namespace."""
        return CheckpointRef(self.thread_id, self.checkpoint_ns, checkpoint_id)


def config_of(ref: CheckpointRef) -> RunnableConfig:
    """The config LangGraph uses to name one checkpoint."""
    return {
        "configurable": {
            "thread_id": ref.thread_id,
            "checkpoint_ns": ref.checkpoint_ns,
            "checkpoint_id": ref.checkpoint_id,
        }
    }


def thread_config(thread_id: str, checkpoint_ns: str | None = None) -> RunnableConfig:
    """A config for ``list``: a whole thread, or one namespace of it."""
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if checkpoint_ns is not None:
        configurable["checkpoint_ns"] = checkpoint_ns
    return {"configurable": configurable}


def next_version(current: str | int | float | None) -> str:
    """``f"{n:032}.{random:016}"``, as LangGraph's own savers make them."""
    if current is None:
        number = 0
    elif isinstance(current, (int, float)):
        number = int(current)
    else:
        number = int(current.split(".")[0])
    return f"{number + 1:032}.{random.random():016}"
