"""LangChain messages as the CLI shows them: the dicts :func:`.rendering.to_json`
makes of the messages the strict serializer rebuilt. Telling a message list
from any other value, pairing tool calls with their results, and adding up
the tokens AI messages report.

Pure: it reads JSON values only, so it never needs the classes a bucket names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .rendering import JSON

__all__ = [
    "MESSAGE_TYPES",
    "Tokens",
    "is_message",
    "is_message_list",
    "message_lists",
    "tokens_of",
    "tool_pairs",
]

MESSAGE_TYPES = frozenset(
    {"human", "ai", "tool", "system", "function", "remove", "chat"}
    | {"AIMessageChunk", "HumanMessageChunk", "ToolMessageChunk"}
)
"""The ``type`` a LangChain message's dump carries."""


def is_message(value: JSON) -> bool:
    """Whether a rendered value is a LangChain message's dump: a ``type`` of
    a message and a ``content``, as ``BaseMessage.model_dump`` gives."""
    return (
        isinstance(value, dict)
        and value.get("type") in MESSAGE_TYPES
        and "content" in value
    )


def is_message_list(value: JSON) -> bool:
    """A non-empty list of messages only: what ``add_messages`` keeps."""
    return isinstance(value, list) and bool(value) and all(map(is_message, value))


def message_lists(channel_values: Mapping[str, JSON]) -> dict[str, list[JSON]]:
    """The channels that hold message lists."""
    return {
        name: value
        for name, value in channel_values.items()
        if isinstance(value, list) and is_message_list(value)
    }


@dataclass
class Tokens:
    """Tokens AI messages report in ``usage_metadata``."""

    input: int = 0
    output: int = 0
    total: int = 0

    def __iadd__(self, other: Tokens) -> Tokens:
        self.input += other.input
        self.output += other.output
        self.total += other.total
        return self

    def to_json(self) -> dict[str, JSON]:
        """``{"input", "output", "total"}``."""
        return {"input": self.input, "output": self.output, "total": self.total}


def _count(usage: Any, name: str) -> int:
    value = usage.get(name) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def tokens_of(
    states: Iterable[tuple[str, Mapping[str, JSON]]],
) -> dict[str, Tokens]:
    """Tokens per namespace, from the channel values of each namespace's
    newest state. A subgraph's state often repeats messages its parent
    holds; each message (by id) counts once, in the first namespace given
    that holds it, so the namespaces add up to the thread."""
    counted: set[str] = set()
    found: dict[str, Tokens] = {}
    for checkpoint_ns, channel_values in states:
        tokens = found.setdefault(checkpoint_ns, Tokens())
        for messages in message_lists(channel_values).values():
            for message in messages:
                if not isinstance(message, dict) or message.get("type") != "ai":
                    continue
                key = message.get("id")
                if isinstance(key, str):
                    if key in counted:
                        continue
                    counted.add(key)
                usage = message.get("usage_metadata")
                inputs, outputs = (
                    _count(usage, "input_tokens"),
                    _count(usage, "output_tokens"),
                )
                # A model that reports no total leaves it to the sum.
                total = _count(usage, "total_tokens") or inputs + outputs
                tokens += Tokens(inputs, outputs, total)
    return found


def tool_pairs(
    calls_from: Sequence[JSON], results_from: Sequence[JSON]
) -> list[dict[str, JSON]]:
    """Each tool call the AI messages of ``calls_from`` make, with the
    result a tool message of ``results_from`` gives it (None: not yet)."""
    results = {
        message["tool_call_id"]: message
        for message in results_from
        if isinstance(message, dict)
        and message.get("type") == "tool"
        and isinstance(message.get("tool_call_id"), str)
    }
    pairs: list[dict[str, JSON]] = []
    for message in calls_from:
        if not isinstance(message, dict) or message.get("type") != "ai":
            continue
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            if not isinstance(call, dict):
                continue
            result = results.get(call.get("id"))
            pairs.append(
                {
                    "id": call.get("id"),
                    "name": call.get("name"),
                    "args": call.get("args"),
                    "result": None if result is None else result.get("content"),
                    "status": None if result is None else result.get("status"),
                }
            )
    return pairs
