"""What changed between two checkpoints, as LangGraph means it: channels
added, removed and changed; in message lists, messages added, removed and
edited by id, each tool call with the result it got; the pending writes,
interrupts and errors; the metadata and the nodes that ran. ``diff`` prints
it, and ``history --patch`` prints it under each step.

Pure: it compares two checkpoints as :func:`.rendering.render_tuple` shows
them (their DeltaChannel values already in), and draws the text a reviewer
reads: the changed parts only, a label column aligned.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .messages import is_message_list, tool_pairs
from .rendering import JSON
from .transcript import message_lines, value_text

__all__ = ["diff", "diff_lines", "patch_lines", "side", "woven"]

_INTERRUPT = "__interrupt__"
_ERROR = "__error__"
_ROUTING = "branch:"
"""LangGraph's routing channels (``branch:to:node``): which node runs next,
already said by "ran"; the text leaves them out."""


def side(rendered: Mapping[str, Any]) -> dict[str, JSON]:
    """A checkpoint's identity in a diff: namespace, id, step, source."""
    metadata = rendered.get("metadata") or {}
    return {
        "checkpoint_ns": rendered.get("checkpoint_ns"),
        "checkpoint_id": rendered.get("checkpoint_id"),
        "step": metadata.get("step"),
        "source": metadata.get("source"),
    }


def _values(rendered: Mapping[str, Any] | None) -> dict[str, JSON]:
    if rendered is None:
        return {}
    found = dict((rendered.get("checkpoint") or {}).get("channel_values") or {})
    # A DeltaChannel the CLI cannot rebuild is compared by what is stored.
    for name, how in (rendered.get("delta_channels") or {}).items():
        if isinstance(how, dict) and how.get("reducer") == "unknown":
            found[name] = how
    return found


def _same(a: JSON, b: JSON) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _ran(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """The nodes that ran between the two: those whose consumed channel
    versions (``versions_seen``) changed, or that metadata's ``writes``
    names (older LangGraph records it); none for a ``fork``, a copy."""
    metadata = after.get("metadata") or {}
    if metadata.get("source") == "fork":
        return []
    writes = metadata.get("writes")
    named = set(writes) if isinstance(writes, dict) else set()
    seen = (after.get("checkpoint") or {}).get("versions_seen") or {}
    earlier = ((before or {}).get("checkpoint") or {}).get("versions_seen") or {}
    named |= {
        node
        for node, versions in seen.items()
        if node != _INTERRUPT and versions and versions != earlier.get(node)
    }
    return sorted(named)


def _message_diff(before: JSON, after: JSON) -> dict[str, JSON]:
    """Messages added, removed and edited (same id, other content)."""
    old = before if isinstance(before, list) else []
    new = after if isinstance(after, list) else []
    by_id = {m.get("id"): m for m in old if isinstance(m, dict) and m.get("id")}
    new_ids = {m.get("id") for m in new if isinstance(m, dict) and m.get("id")}
    added: list[JSON] = []
    edited: list[JSON] = []
    for message in new:
        if not isinstance(message, dict) or not message.get("id"):
            # Without an id a message is known by its content alone.
            if not any(_same(message, m) for m in old):
                added.append(message)
            continue
        previous = by_id.get(message["id"])
        if previous is None:
            added.append(message)
        elif not _same(previous, message):
            edited.append({"id": message["id"], "before": previous, "after": message})
    removed: list[JSON] = [
        m
        for m in old
        if (isinstance(m, dict) and m.get("id") and m.get("id") not in new_ids)
        or ((not isinstance(m, dict) or not m.get("id")) and m not in new)
    ]
    return {"added": added, "removed": removed, "edited": edited}


def _writes(rendered: Mapping[str, Any] | None) -> list[JSON]:
    return list((rendered or {}).get("pending_writes") or [])


def _added_removed(old: Sequence[JSON], new: Sequence[JSON]) -> dict[str, JSON]:
    return {
        "added": [w for w in new if not any(_same(w, o) for o in old)],
        "removed": [o for o in old if not any(_same(o, w) for w in new)],
    }


def _interrupts(writes: Sequence[JSON]) -> list[JSON]:
    """The values of ``__interrupt__`` writes (each a list of Interrupt)."""
    shown: list[JSON] = []
    for write in writes:
        if not isinstance(write, dict) or write.get("channel") != _INTERRUPT:
            continue
        value = write.get("value")
        for item in value if isinstance(value, list) else [value]:
            shown.append(
                item["value"] if isinstance(item, dict) and "value" in item else item
            )
    return shown


def _errors(writes: Sequence[JSON]) -> list[JSON]:
    return [
        w.get("value")
        for w in writes
        if isinstance(w, dict) and w.get("channel") == _ERROR
    ]


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, JSON]:
    """What changed from ``before`` (None: nothing, as for a thread's first
    checkpoint) to ``after``, both as ``render_tuple`` shows a checkpoint."""
    old, new = _values(before), _values(after)
    channels: dict[str, dict[str, JSON]] = {"added": {}, "removed": {}, "changed": {}}
    messages: dict[str, JSON] = {}
    tools: list[JSON] = []
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name), new.get(name)
        if name in old and name in new and _same(a, b):
            continue
        if is_message_list(a) or is_message_list(b):
            found = _message_diff(a, b)
            messages[name] = found
            tools += _tool_pairs(found, b)
        elif name not in old:
            channels["added"][name] = b
        elif name not in new:
            channels["removed"][name] = a
        else:
            channels["changed"][name] = {"before": a, "after": b}
    meta_old = dict((before or {}).get("metadata") or {})
    meta_new = dict(after.get("metadata") or {})
    metadata: dict[str, JSON] = {
        key: {"before": meta_old.get(key), "after": meta_new.get(key)}
        for key in sorted(meta_old.keys() | meta_new.keys())
        if not _same(meta_old.get(key), meta_new.get(key))
    }
    old_writes, new_writes = _writes(before), _writes(after)
    return {
        "from": None if before is None else side(before),
        "to": side(after),
        "ran": [*_ran(before, after)],
        "metadata": metadata,
        "channels": {kind: dict(found) for kind, found in channels.items()},
        "messages": messages,
        "tool_calls": tools,
        "pending_writes": _added_removed(old_writes, new_writes),
        "interrupts": _added_removed(_interrupts(old_writes), _interrupts(new_writes)),
        "errors": _added_removed(_errors(old_writes), _errors(new_writes)),
    }


def _tool_pairs(found: Mapping[str, JSON], after: JSON) -> list[JSON]:
    """Calls the added AI messages make, and calls whose result was added."""
    everything = after if isinstance(after, list) else []
    added = found["added"] if isinstance(found["added"], list) else []
    pairs: list[JSON] = [*tool_pairs(added, everything)]
    called = {p["id"] for p in pairs if isinstance(p, dict)}
    answered = {
        m.get("tool_call_id")
        for m in added
        if isinstance(m, dict) and m.get("type") == "tool"
    }
    pairs += [
        p
        for p in tool_pairs(everything, everything)
        if p["id"] in answered and p["id"] not in called
    ]
    return pairs


# -- text -------------------------------------------------------------------------


def _header(mark: str, found: JSON, ran: Sequence[str]) -> str:
    if not isinstance(found, dict):
        return f"{mark} (nothing: the thread's first checkpoint)"
    parts = [mark, str(found.get("checkpoint_id"))]
    if found.get("checkpoint_ns"):
        parts.append(f"[{found['checkpoint_ns']}]")
    parts += [f"step {found.get('step')}", str(found.get("source"))]
    if ran:
        parts.append("ran " + ",".join(ran))
    return "  ".join(parts)


def _change(change: Mapping[str, Any], full: bool) -> str:
    return f"{value_text(change['before'], full)} → {value_text(change['after'], full)}"


def _rows(found: Mapping[str, Any], full: bool) -> list[tuple[str, str, str]]:
    """(mark, label, text) per changed part, in a reviewer's order."""
    rows: list[tuple[str, str, str]] = []
    for key, change in found["metadata"].items():
        if key in ("step", "source", "parents", "counters_since_delta_snapshot"):
            continue  # in the headers, or LangGraph's bookkeeping
        rows.append(("~", f"metadata.{key}", _change(change, full)))
    channels = found["channels"]
    for name, value in channels["removed"].items():
        if not name.startswith(_ROUTING):
            rows.append(("-", name, value_text(value, full)))
    for name, value in channels["added"].items():
        if not name.startswith(_ROUTING):
            rows.append(("+", name, value_text(value, full)))
    for name, change in channels["changed"].items():
        if not name.startswith(_ROUTING):
            rows.append(("~", name, _change(change, full)))
    for name, change in found["messages"].items():
        for message in change["removed"]:
            rows += [("-", name, line) for line in message_lines(message, full)]
        for edit in change["edited"]:
            rows += [
                ("~", name, "- " + line) for line in message_lines(edit["before"], full)
            ]
            rows += [
                ("~", name, "+ " + line) for line in message_lines(edit["after"], full)
            ]
        for message in change["added"]:
            rows += [("+", name, line) for line in message_lines(message, full)]
    writes = found["pending_writes"]["added"]
    for write in writes:
        channel = write.get("channel")
        if channel in (_INTERRUPT, _ERROR) or str(channel).startswith(_ROUTING):
            continue
        rows += _write_rows(write, full)
    for kind in ("interrupts", "errors"):
        label = kind[:-1]
        for value in found[kind]["removed"]:
            rows.append(("-", label, value_text(value, full)))
        for value in found[kind]["added"]:
            rows.append(("+", label, value_text(value, full)))
    return rows


def _write_rows(write: Mapping[str, Any], full: bool) -> list[tuple[str, str, str]]:
    value = write.get("value")
    label = f"write {write.get('channel')}"
    if is_message_list(value) or is_message_list([value]):
        items = value if isinstance(value, list) else [value]
        return [("+", label, line) for m in items for line in message_lines(m, full)]
    return [("+", label, value_text(value, full))]


def patch_lines(found: Mapping[str, Any], full: bool = False) -> list[str]:
    """The changed parts, one per line: a mark (``+`` added, ``-`` removed,
    ``~`` changed), the channel or what else changed, aligned, and the
    value or the message as a transcript line."""
    rows = _rows(found, full)
    width = max((len(label) for _, label, _ in rows), default=0)
    lines = []
    for mark, label, text in rows:
        lines.append(f"{mark} {label.ljust(width)}  {text}".rstrip())
    return lines


def diff_lines(found: Mapping[str, Any], full: bool = False) -> list[str]:
    """``diff --format text``: the two checkpoints, then the changed parts
    (or a line saying there are none)."""
    lines = [
        _header("---", found["from"], []),
        _header("+++", found["to"], found["ran"]),
    ]
    changes = patch_lines(found, full)
    return lines + (changes or ["  (no change)"])


def woven(
    lines: Sequence[str],
    patches: Mapping[str, Mapping[str, Any] | None],
    full: bool = False,
) -> list[str]:
    """``history --patch``: under each checkpoint's line (the first line
    naming its id), what its step changed, indented past the graph, whose
    lane carries on beside it when the checkpoint has a parent drawn."""
    woven_lines: list[str] = []
    for line in lines:
        woven_lines.append(line)
        words = line.split()
        named = next((w for w in words if w in patches), None)
        if named is None:
            continue
        found = patches[named]
        graph = line[: line.index(named)]
        lane = "|" if found is not None and found["from"] is not None else " "
        indent = graph.replace("*", lane).rstrip().ljust(len(graph)) + "    "
        shown = (
            ["(its parent is gone: nothing to compare with)"]
            if found is None
            else patch_lines(found, full) or ["(no change)"]
        )
        woven_lines += [(indent + text).rstrip() for text in shown]
    return woven_lines
