"""What ``stats`` and ``expire`` print: storage in objects, bytes and dollars
from LIST alone, the bytes per channel (from the objects), what an idle sweep
removed; as JSON, and ``stats`` also as a table.

Pure: it takes the tallies of :mod:`..plans` and the decoded objects.

Prices are S3 Standard's (us-east-1, first 50 TB): $0.023 per GB-month,
where a GB is 2^30 bytes, as AWS bills storage. Requests are not included.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .messages import Tokens
from .rendering import JSON

if TYPE_CHECKING:
    from .._codec import StoredCheckpoint, StoredWrite
    from ..plans import Expiry, Tally, Usage

__all__ = [
    "GB",
    "USD_PER_GB_MONTH",
    "ChannelBytes",
    "Channels",
    "SizeSerde",
    "Sized",
    "channel_bytes",
    "expiry_document",
    "human_bytes",
    "monthly_cost",
    "stats_document",
    "stats_table",
]

USD_PER_GB_MONTH = 0.023
"""S3 Standard storage, us-east-1, first 50 TB per month."""
GB = 2**30
"""Bytes in the GB of S3's storage prices."""

_PRICING: dict[str, JSON] = {
    "storage_class": "S3 Standard",
    "usd_per_gb_month": USD_PER_GB_MONTH,
    "bytes_per_gb": GB,
}


def monthly_cost(size: int) -> float:
    """What ``size`` bytes cost per month in S3 Standard, in US dollars."""
    return round(size / GB * USD_PER_GB_MONTH, 12)


def human_bytes(size: int) -> str:
    """``1.5 KiB``-style sizes, binary units as the price's GB."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _iso(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _totals(counted: Tally) -> dict[str, JSON]:
    return {
        "objects": counted.objects,
        "checkpoints": counted.checkpoints,
        "writes": counted.writes,
        "other_objects": counted.other,
        "shared_values": counted.values,
        "bytes": counted.bytes,
        "oldest_write": _iso(counted.oldest),
        "newest_write": _iso(counted.newest),
        "monthly_cost_usd": monthly_cost(counted.bytes),
    }


# -- bytes per channel (from the objects) ---------------------------------------


@dataclass(frozen=True)
class Sized:
    """A stored value, not decoded: only the length of its serialized bytes."""

    size: int


class SizeSerde:
    """A serializer for reading sizes only: every value comes back as
    :class:`Sized`, so nothing is decoded (encrypted values are measured too)."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        raise NotImplementedError("stats never writes")

    def loads_typed(self, data: tuple[str, bytes]) -> Sized:
        return Sized(len(data[1]))


@dataclass
class ChannelBytes:
    """The serialized bytes of one channel's values in one namespace."""

    checkpoint_bytes: int = 0
    write_bytes: int = 0

    @property
    def bytes(self) -> int:
        """In checkpoints and in writes together."""
        return self.checkpoint_bytes + self.write_bytes


@dataclass
class Channels:
    """Bytes per channel, per (thread, namespace)."""

    by_namespace: dict[tuple[str, str], dict[str, ChannelBytes]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(ChannelBytes))
    )

    def add_checkpoint(self, stored: StoredCheckpoint) -> None:
        """Count a checkpoint read through :class:`SizeSerde`."""
        ref = stored.ref
        channels = self.by_namespace[(ref.thread_id, ref.checkpoint_ns)]
        for name, value in stored.checkpoint["channel_values"].items():
            if isinstance(value, Sized):
                channels[name].checkpoint_bytes += value.size

    def add_write(self, thread_id: str, checkpoint_ns: str, write: StoredWrite) -> None:
        """Count a write read through :class:`SizeSerde`."""
        if isinstance(write.value, Sized):
            channels = self.by_namespace[(thread_id, checkpoint_ns)]
            channels[write.channel].write_bytes += write.value.size

    def of(self, thread_id: str, checkpoint_ns: str) -> list[JSON]:
        """The namespace's channels, largest first."""
        found = self.by_namespace.get((thread_id, checkpoint_ns), {})
        ranked = sorted(found.items(), key=lambda item: (-item[1].bytes, item[0]))
        return [
            {
                "channel": name,
                "bytes": sizes.bytes,
                "checkpoint_bytes": sizes.checkpoint_bytes,
                "write_bytes": sizes.write_bytes,
            }
            for name, sizes in ranked
        ]


def channel_bytes(
    checkpoints: Iterable[StoredCheckpoint],
    writes: Iterable[tuple[str, str, StoredWrite]],
    into: Channels | None = None,
) -> Channels:
    """Add decoded (:class:`SizeSerde`) checkpoints and ``(thread_id,
    checkpoint_ns, write)`` writes to the bytes per channel."""
    found = into if into is not None else Channels()
    for stored in checkpoints:
        found.add_checkpoint(stored)
    for thread_id, checkpoint_ns, write in writes:
        found.add_write(thread_id, checkpoint_ns, write)
    return found


# -- stats ----------------------------------------------------------------------


def stats_document(
    uri: str,
    usage: Usage,
    channels: Channels | None = None,
    tokens: Mapping[str, Mapping[str, Tokens]] | None = None,
) -> dict[str, JSON]:
    """``stats`` as JSON: the total, then each thread and its namespaces;
    with ``tokens`` (``--tokens``), each thread's and the total's."""
    threads: list[JSON] = []
    everything = Tokens()
    for thread_id, counted in usage.threads().items():
        namespaces: list[JSON] = []
        for (owner, ns), part in sorted(usage.namespaces.items()):
            if owner != thread_id:
                continue
            entry: dict[str, JSON] = {"checkpoint_ns": ns, **_totals(part)}
            del entry["other_objects"], entry["shared_values"]
            if channels is not None:
                entry["channels"] = channels.of(thread_id, ns)
            namespaces.append(entry)
        entry = {"thread_id": thread_id, **_totals(counted)}
        if tokens is not None:
            spent = _spent(tokens.get(thread_id, {}))
            everything += spent
            entry["tokens"] = spent.to_json()
        threads.append({**entry, "namespaces": namespaces})
    total: dict[str, JSON] = {"threads": len(threads), **_totals(usage.total())}
    if tokens is not None:
        total["tokens"] = everything.to_json()
    return {
        "s3_prefix": uri,
        "pricing": dict(_PRICING),
        "total": total,
        "threads": threads,
    }


def _spent(by_namespace: Mapping[str, Tokens]) -> Tokens:
    spent = Tokens()
    for found in by_namespace.values():
        spent += found
    return spent


def _when(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns as wide as their widest cell; numbers right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    numeric = [
        bool(rows) and all(_is_number(row[i]) for row in rows)
        for i in range(len(header))
    ]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.rjust(width) if right and row is not header else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _is_number(cell: str) -> bool:
    return cell.replace(",", "").replace(".", "", 1).isdigit() or cell.endswith(
        ("B", "KiB", "MiB", "GiB", "TiB")
    )


def _cost(size: int) -> str:
    return f"{monthly_cost(size):.3g}"


def _row(
    thread: str, ns: str, counted: Tally, tokens: Tokens | None = None
) -> list[str]:
    return [
        thread,
        ns,
        str(counted.checkpoints),
        str(counted.writes),
        human_bytes(counted.bytes),
        _when(counted.oldest),
        _when(counted.newest),
        _cost(counted.bytes),
        *([] if tokens is None else [f"{tokens.total:,}"]),
    ]


def stats_table(
    usage: Usage,
    channels: Channels | None = None,
    tokens: Mapping[str, Mapping[str, Tokens]] | None = None,
) -> list[str]:
    """``stats --format table``: a row per thread and namespace (``""`` is
    the default one; ``(shared values)``: the thread's values stored once;
    ``(other)``: keys that are neither checkpoints, writes nor shared
    values), then the total; with channels, a second table of them; with
    tokens, a TOKENS column (total tokens; a message counted once, in the
    first namespace that holds it)."""
    header = [
        "THREAD",
        "NAMESPACE",
        "CHECKPOINTS",
        "WRITES",
        "BYTES",
        "OLDEST WRITE (UTC)",
        "NEWEST WRITE (UTC)",
        "USD/MONTH",
    ]
    none = None if tokens is None else Tokens()
    if tokens is not None:
        header.append("TOKENS")
    rows = [
        _row(t, _ns(ns), c, _of(tokens, t, ns))
        for (t, ns), c in sorted(usage.namespaces.items())
    ]
    rows += [
        _row(t, "(shared values)", c, none) for t, c in sorted(usage.shared.items())
    ]
    rows += [
        _row(t if t is not None else "(no thread)", "(other)", c, none)
        for t, c in sorted(usage.strays.items(), key=lambda item: item[0] or "")
    ]
    count = len(usage.threads())
    label = f"TOTAL ({count} thread{'' if count == 1 else 's'})"
    spent = None
    if tokens is not None:
        spent = Tokens()
        for by_namespace in tokens.values():
            spent += _spent(by_namespace)
    rows.append(_row(label, "", usage.total(), spent))
    lines = _table(header, rows)
    lines.insert(len(lines) - 1, "")
    if channels is not None:
        lines += ["", *_channel_table(channels)]
    return lines


def _of(
    tokens: Mapping[str, Mapping[str, Tokens]] | None, thread_id: str, ns: str
) -> Tokens | None:
    if tokens is None:
        return None
    return tokens.get(thread_id, {}).get(ns, Tokens())


def _ns(checkpoint_ns: str) -> str:
    return checkpoint_ns or '""'


def _channel_table(channels: Channels) -> list[str]:
    rows = [
        [
            thread_id,
            _ns(ns),
            name,
            human_bytes(sizes.bytes),
            human_bytes(sizes.checkpoint_bytes),
            human_bytes(sizes.write_bytes),
        ]
        for (thread_id, ns), found in sorted(channels.by_namespace.items())
        for name, sizes in sorted(
            found.items(), key=lambda item: (-item[1].bytes, item[0])
        )
    ]
    header = ["THREAD", "NAMESPACE", "CHANNEL", "BYTES", "IN CHECKPOINTS", "IN WRITES"]
    return _table(header, rows)


# -- expire ---------------------------------------------------------------------


def expiry_document(idle: str, expiry: Expiry) -> dict[str, JSON]:
    """``expire`` as JSON."""
    return {
        "idle": idle,
        "cutoff": expiry.cutoff.isoformat(),
        "dry_run": expiry.dry_run,
        "expired": [
            {
                "thread_id": t.thread_id,
                "last_write": t.last_write.isoformat(),
                "objects": t.objects,
                "bytes": t.bytes,
            }
            for t in expiry.expired
        ],
        "expired_objects": sum(t.objects for t in expiry.expired),
        "expired_bytes": sum(t.bytes for t in expiry.expired),
        "revived": [*expiry.revived],
        "active_threads": expiry.active,
    }
