"""Messages as a person reads a chat: ``human: ...``, ``ai: ...`` with each
tool call as ``→ search(query="weather in sf")``, ``tool search: ...``; and
any other value as compact JSON. Long text is cut with a marker that says
how much is left out (``--full`` keeps it whole).

Pure: it renders the JSON values :mod:`.rendering` makes.
"""

from __future__ import annotations

import json

from .rendering import JSON

__all__ = ["SHOWN", "cut", "message_lines", "value_text"]

SHOWN = 100
"""Characters of a value or a message shown before it is cut."""


def cut(text: str, full: bool = False, limit: int = SHOWN) -> str:
    """``text`` on one line, cut at ``limit`` characters unless ``full``."""
    flat = " ".join(text.split()) if not full else text.replace("\n", "\\n")
    if full or len(flat) <= limit:
        return flat
    return f"{flat[:limit]}… (+{len(flat) - limit} chars)"


def value_text(value: JSON, full: bool = False, limit: int = SHOWN) -> str:
    """Any value as compact JSON, cut like text."""
    return cut(_compact(value), full, limit)


def _compact(value: JSON) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _content(content: JSON) -> str:
    """A message's content: its text, and each other block by its type (a
    multimodal message keeps images and files in blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and isinstance(block.get("text"), str):
                parts.append(str(block["text"]))
            elif isinstance(block, dict):
                parts.append(f"[{block.get('type', 'block')}]")
        return " ".join(parts)
    return _compact(content)


def _call(call: JSON, full: bool) -> str:
    if not isinstance(call, dict):
        return f"→ {value_text(call, full)}"
    args = call.get("args")
    shown = (
        ", ".join(f"{key}={_compact(item)}" for key, item in args.items())
        if isinstance(args, dict)
        else _compact(args)
    )
    return f"→ {call.get('name')}({cut(shown, full)})"


def message_lines(message: JSON, full: bool = False) -> list[str]:
    """A message as transcript lines: the first says who speaks; an AI
    message's further tool calls follow on lines of their own."""
    if not isinstance(message, dict):
        return [value_text(message, full)]
    kind = str(message.get("type"))
    text = cut(_content(message.get("content")), full)
    if kind == "tool":
        status = " (error)" if message.get("status") == "error" else ""
        return [f"tool {message.get('name') or '?'}{status}: {text}"]
    if kind == "remove":
        return [f"remove {message.get('id')}"]
    if kind in ("ai", "AIMessageChunk"):
        calls = message.get("tool_calls")
        shown = [_call(c, full) for c in calls] if isinstance(calls, list) else []
        if not text and shown:
            return [f"ai: {shown[0]}", *(f"    {line}" for line in shown[1:])]
        return [f"ai: {text}", *(f"    {line}" for line in shown)]
    return [f"{kind}: {text}"]
