"""Counting S3 requests from the client side: botocore hooks (requests and
retries) and our savers' rounds (sequential round trips)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

REQUEST_TYPES = ("GET", "PUT", "LIST", "HEAD", "DELETE", "OTHER")


_TYPE_OF_OPERATION = {
    "GetObject": "GET",
    "PutObject": "PUT",
    "ListObjectsV2": "LIST",
    "ListObjects": "LIST",
    "HeadObject": "HEAD",
    "HeadBucket": "HEAD",
    "DeleteObject": "DELETE",
    "DeleteObjects": "DELETE",
}


Counts = dict[str, int]


class BotocoreCounter:
    """Counts a botocore client's requests: ``before-send`` once per HTTP
    attempt (retries included), ``before-call`` once per API call, and the
    keys returned by every ListObjectsV2 page."""

    def __init__(self, client: Any) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        events = client.meta.events
        events.register("before-send.s3", self._on_send)
        events.register("before-call.s3", self._on_call)
        events.register("after-call.s3.ListObjectsV2", self._on_list)

    # Handlers return None: a value returned from before-send or before-call
    # would replace the request.
    def _on_send(self, event_name: str = "", **kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self._counts[_TYPE_OF_OPERATION.get(operation, "OTHER")] += 1
            self._counts[f"op:{operation}"] += 1

    def _on_call(self, **kwargs: Any) -> None:
        with self._lock:
            self._counts["api_calls"] += 1

    def _on_list(self, parsed: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        found = len((parsed or {}).get("Contents", []))
        with self._lock:
            self._counts["keys_listed"] += found

    def snapshot(self) -> Counts:
        with self._lock:
            return dict(self._counts)


class RoundCounter:
    """Counts the rounds (sequential round trips) one of our savers performs,
    by wrapping its shell's round runner: exact, where the server's "busy"
    periods are an estimate."""

    def __init__(self, saver: Any) -> None:
        self.rounds = 0
        self._lock = threading.Lock()
        inner = saver._round
        if asyncio.iscoroutinefunction(inner):

            async def counted_async(*args: Any) -> Any:
                self._count()
                return await inner(*args)

            saver._round = counted_async
        else:

            def counted(*args: Any) -> Any:
                self._count()
                return inner(*args)

            saver._round = counted

    def _count(self) -> None:
        with self._lock:
            self.rounds += 1


def delta(before: Counts, after: Counts) -> Counts:
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}


def total(counts: Mapping[str, float]) -> float:
    return sum(counts.get(t, 0) for t in REQUEST_TYPES)


def mean_counts(samples: Sequence[Mapping[str, int]]) -> dict[str, float]:
    keys = {k for s in samples for k in s}
    return {k: sum(s.get(k, 0) for s in samples) / len(samples) for k in sorted(keys)}
