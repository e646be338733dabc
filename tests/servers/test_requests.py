"""The shells spend what the plans ask, on real servers.

Every request budget is asserted in ``test_plans.py``, on the in-memory
buckets. What is left to check on a server is that the buckets are faithful
and the shells add nothing: the same LISTs return the same pages on moto (S3's
semantics) and SeaweedFS (its quirks) as on the matching in-memory bucket, and
the same calls cost each shell exactly the requests (botocore-counted) and
rounds the in-memory bucket counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver
from langgraph_checkpoint_s3.protocol import (
    List,
    Listing,
    call_of,
    result_of,
)
from tests.support.counting import count_requests
from tests.support.histories import cfg
from tests.support.memory_bucket import MemoryBucket, MemorySaver, SeaweedFSBucket
from tests.support.s3servers import S3Endpoint
from tests.support.savers import AsyncSaverFactory, SaverFactory


@pytest.fixture
def kind(request: pytest.FixtureRequest) -> type[MemoryBucket]:
    """The in-memory bucket that stands for this test's server."""
    assert isinstance(request.node, pytest.Function)
    server = request.node.callspec.params["endpoint"]
    return SeaweedFSBucket if server == "seaweedfs" else MemoryBucket


# -- the buckets list as the servers do ------------------------------------------

KEYS = [
    "p/t1/a.json",
    "p/t1/b/c.json",
    "p/t1/b/d.json",
    "p/t1-b/a.json",
    "p/t1.json",
    "p/t10/x.json",
    "p/u/v/w.json",
    "p/a/%2E/x",
    "p/a b/é.json",
]
LISTS = [
    List("p/"),
    List("p/t1"),
    List("p/t1/"),
    List("p/", max_keys=2),
    List("p/", delimiter="/"),
    List("p/", delimiter="/", max_keys=2),
    List("p/t1", delimiter="/"),
    *(
        List("p/", start_after=bound)
        for bound in (
            "p/t",
            "p/t1",
            "p/t1-",
            "p/t1/",
            "p/t1/a",
            "p/t1/b",
            "p/t1/b/c.json",
        )
    ),
    List("p/t1/", start_after="p/t1/a"),
]
GONE = ["p/t10/x.json", "p/u/v/w.json"]


def pages(list_page: Callable[[List], Listing], request: List) -> list[Any]:
    """Every page of a LIST: its keys, sizes and common prefixes."""
    found: list[Any] = []
    token = None
    while True:
        page = list_page(
            List(
                request.prefix,
                request.start_after,
                token,
                request.delimiter,
                request.max_keys,
            )
        )
        found.append(([(o.key, o.size) for o in page.objects], list(page.prefixes)))
        if page.continuation is None:
            return found
        token = page.continuation


def test_memory_buckets_list_like_the_servers(
    endpoint: S3Endpoint, bucket: str, kind: type[MemoryBucket]
) -> None:
    client = endpoint.boto3_client()
    memory = kind(bucket)

    def on_server(request: List) -> Listing:
        method, kwargs = call_of(request, bucket)
        page = result_of(request, getattr(client, method)(**kwargs))
        assert isinstance(page, Listing)
        return page

    def in_memory(request: List) -> Listing:
        page = memory.perform(request)
        assert isinstance(page, Listing)
        return page

    for i, key in enumerate(KEYS, 1):
        # Never an empty body: SeaweedFS then stalls the connection's next
        # request until the client's read timeout.
        client.put_object(Bucket=bucket, Key=key, Body=b"x" * i)
        memory.put_raw(key, b"x" * i)
    for request in LISTS:
        assert pages(in_memory, request) == pages(on_server, request), request
    client.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": key} for key in GONE]}
    )
    memory.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": key} for key in GONE]}
    )
    for request in LISTS:
        assert pages(in_memory, request) == pages(on_server, request), request


# -- the shells spend what the plans ask -----------------------------------------


@dataclass
class Step:
    """One saver call: its method (sync name) and arguments."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method}{self.args!r:.60}"


def scenario(n: int = 12) -> list[Step]:
    """A history of n checkpoints with two writes each, then every read and
    lifecycle call; the same objects for every saver."""
    steps: list[Step] = []
    ids: list[str] = []
    for i in range(n):
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"count": i}
        metadata = {"step": i, "source": "loop", "run_id": f"r{i % 3}"}
        steps.append(
            Step("put", (cfg(ids[-1] if ids else None), checkpoint, metadata, {}))
        )
        writes = [("a", i), ("b", i)]
        steps.append(Step("put_writes", (cfg(checkpoint["id"]), writes, "task")))
        ids.append(checkpoint["id"])
    retried = steps[-2].args
    return [
        *steps,
        Step("put", retried),  # a retried put: PUT, then GET to compare
        Step("put_writes", (cfg(ids[-1]), [("__error__", "boom")], "task")),
        Step("get_tuple", (cfg(ids[0]),)),
        Step("get_tuple", (cfg(),)),
        Step("get_tuple", (cfg(thread="nobody"),)),
        Step("list", (cfg(),), {"limit": 5}),
        Step("list", (cfg(),)),
        Step("list", (cfg(),), {"filter": {"step": 7}, "limit": 1}),
        Step("list", (None,)),
        Step("get_delta_channel_history", (), {"config": cfg(), "channels": ["count"]}),
        Step("copy_thread", ("t", "copy")),
        Step("prune", (["copy"],), {"strategy": "keep_latest"}),
        Step("delete_for_runs", (["r1"],)),
        Step("delete_thread", ("t",)),
        Step("prune", (["copy"],), {"strategy": "delete"}),
    ]


Spent = list[tuple[str, dict[str, int], int]]
"""Per step: the call, its requests by S3 operation, its rounds."""


def call(saver: Any, step: Step) -> Any:
    result = getattr(saver, step.method)(*step.args, **step.kwargs)
    return list(result) if step.method == "list" else result


async def acall(saver: Any, step: Step) -> Any:
    if step.method == "list":
        return [t async for t in saver.alist(*step.args, **step.kwargs)]
    return await getattr(saver, "a" + step.method)(*step.args, **step.kwargs)


def count_rounds(saver: S3CheckpointSaver | AsyncS3CheckpointSaver) -> list[int]:
    """Counts the shell's rounds: each is one sequential round trip."""
    rounds = [0]
    perform_round: Any = saver._round
    counted: Any

    if asyncio.iscoroutinefunction(perform_round):

        async def counted(*args: Any) -> Any:
            rounds[0] += 1
            return await perform_round(*args)

    else:

        def counted(*args: Any) -> Any:
            rounds[0] += 1
            return perform_round(*args)

    saver._round = counted  # type: ignore[method-assign]
    return rounds


def on_memory(kind: type[MemoryBucket], steps: list[Step]) -> tuple[Spent, list[Any]]:
    saver = MemorySaver(kind(), prefix="t/")
    spent: Spent = []
    answers = []
    for step in steps:
        with saver.bucket.measure() as cost:
            answers.append(call(saver, step))
        spent.append((str(step), cost.operations(), cost.rounds))
    return spent, answers


def test_sync_saver_spends_what_the_memory_bucket_counts(
    endpoint: S3Endpoint, bucket: str, kind: type[MemoryBucket]
) -> None:
    steps = scenario()
    client = endpoint.boto3_client()
    with count_requests(client) as counts:
        saver = S3CheckpointSaver(bucket, prefix="t/", s3_client=client)
    assert dict(counts) == {"HeadBucket": 1}
    rounds = count_rounds(saver)
    spent: Spent = []
    answers = []
    for step in steps:
        rounds[0] = 0
        with count_requests(client) as counts:
            answers.append(call(saver, step))
        spent.append((str(step), dict(counts), rounds[0]))
    saver.close()
    expected, expected_answers = on_memory(kind, steps)
    assert spent == expected
    assert answers == expected_answers


async def test_async_saver_spends_what_the_memory_bucket_counts(
    make_async_saver: AsyncSaverFactory, kind: type[MemoryBucket]
) -> None:
    steps = scenario()
    spent: Spent = []
    answers = []
    async with make_async_saver() as saver:
        rounds = count_rounds(saver)
        for step in steps:
            rounds[0] = 0
            with count_requests(saver.client) as counts:
                answers.append(await acall(saver, step))
            spent.append((str(step), dict(counts), rounds[0]))
    expected, expected_answers = on_memory(kind, steps)
    assert spent == expected
    assert answers == expected_answers


def test_sync_saver_runs_its_async_methods_on_the_same_plans(
    make_saver: SaverFactory, kind: type[MemoryBucket]
) -> None:
    """The sync saver's ``a*`` methods (a worker thread) spend the same."""
    steps = scenario(4)
    saver = make_saver()
    rounds = count_rounds(saver)
    spent: Spent = []

    async def run_all() -> None:
        for step in steps:
            rounds[0] = 0
            with count_requests(saver.client) as counts:
                await acall(saver, step)
            spent.append((str(step), dict(counts), rounds[0]))

    asyncio.run(run_all())
    assert spent == on_memory(kind, steps)[0]
