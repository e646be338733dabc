"""Ctrl-C ends a call at once: the requests a round still has queued are
dropped, the saver leaves without waiting for those in flight, and the CLI
exits 130 with one line. Counted in requests started, never in seconds."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from langgraph_checkpoint_s3 import S3CheckpointSaver, plans
from tests.support.cli import S3, invoke
from tests.support.graphs import approval_graph, thread
from tests.support.histories import PREFIX
from tests.support.memory_bucket import MemoryBucket, MemorySaver
from tests.support.memory_client import MemoryClient, use_memory_bucket

KEYS = [f"{PREFIX}k{i:03}" for i in range(40)]
WORKERS = 2


class Interrupted(MemoryClient):
    """A GET of ``KEYS[0]`` raises KeyboardInterrupt, as Ctrl-C does in the
    thread waiting for the round (which waits on that request first); every
    other GET holds until ``release`` is set."""

    def __init__(self, bucket: MemoryBucket) -> None:
        super().__init__(bucket)
        self.release = threading.Event()
        self.started = 0
        self.finished = 0
        self._counting = threading.Lock()

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        with self._counting:
            self.started += 1
        if kwargs["Key"] == KEYS[0]:
            raise KeyboardInterrupt
        self.release.wait()
        with self._counting:
            self.finished += 1
        return super().get_object(**kwargs)


def test_ctrl_c_drops_the_queued_requests_and_does_not_wait_for_the_rest() -> None:
    client: Any = Interrupted(MemoryBucket())
    saver = S3CheckpointSaver(
        "bucket", prefix=PREFIX, s3_client=client, max_concurrency=WORKERS
    )
    pool = saver._pool
    assert pool is not None
    # Should the saver wait for the held requests, this lets it go on (and
    # the count below fail) rather than hang.
    backstop = threading.Timer(30, client.release.set)
    backstop.start()
    try:
        with pytest.raises(KeyboardInterrupt), saver:
            saver.run(plans.fetch_objects(KEYS))
        finished_when_closed = client.finished
    finally:
        client.release.set()
        backstop.cancel()
        pool.shutdown(wait=True)
    # The interrupted one, one held per other worker, and at most one more
    # that a worker took before the queue was dropped: not the 40.
    assert client.started <= WORKERS + 1
    assert finished_when_closed == 0


def test_ctrl_c_in_the_cli_exits_130_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = MemoryBucket()
    approval_graph(MemorySaver(bucket, prefix=PREFIX)).invoke(
        {"messages": []}, thread("chat")
    )
    client = use_memory_bucket(monkeypatch, bucket)

    def interrupt(**kwargs: Any) -> dict[str, Any]:
        raise KeyboardInterrupt

    monkeypatch.setattr(client, "get_object", interrupt)
    result = invoke(["read", *S3, "--thread-id", "chat"])
    assert result.exit_code == 130
    assert result.stdout == ""
    # A new line first: the terminal shows ^C where the cursor was.
    assert result.stderr == "\nError: interrupted\n"
