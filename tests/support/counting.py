"""Count the S3 requests a client sends, by operation, retries included."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def count_requests(client: Any) -> Iterator[Counter[str]]:
    """Counts every HTTP attempt ``client`` makes while the block runs."""
    counts: Counter[str] = Counter()

    def on_send(event_name: str, **kwargs: Any) -> None:
        counts[event_name.rsplit(".", 1)[-1]] += 1

    client.meta.events.register("before-send.s3", on_send)
    try:
        yield counts
    finally:
        client.meta.events.unregister("before-send.s3", on_send)
