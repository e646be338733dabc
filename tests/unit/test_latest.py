"""The newest checkpoints of a namespace, found without listing it whole, and
exactly for every id (``_recency.py``).

Exactness is checked against InMemorySaver on buckets with tiny LIST pages, so
that a few dozen checkpoints take every path a long namespace takes, with ids
that percent-encoding reorders mixed into real uuid6 ids. Costs are asserted
exactly, as requests and rounds, on namespaces of 12, 1,000 and 10,000
checkpoints written recently, long ago, or in a tight loop. The clock is fixed
(every saver's ``_clock``), so every figure is deterministic.
"""

from __future__ import annotations

import itertools
import pickle
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint
from langgraph.checkpoint.base.id import UUID
from langgraph.checkpoint.memory import InMemorySaver

from langgraph_checkpoint_s3 import _heads as heads
from langgraph_checkpoint_s3 import _recency as recency
from langgraph_checkpoint_s3._keys import CheckpointRef, Layout, encode_checkpoint_id
from langgraph_checkpoint_s3._recency import (
    anchor,
    decode_prefix,
    may_hold,
    uuid6_prefix,
)
from langgraph_checkpoint_s3.errors import S3AccessError
from langgraph_checkpoint_s3.plans import RecentReads
from langgraph_checkpoint_s3.plans import _latest as newest_plans
from langgraph_checkpoint_s3.protocol import PAGE_SIZE, List
from tests.support.histories import cfg
from tests.support.latest import (
    DAY,
    HISTORIES,
    KINDS,
    LISTINGS,
    NOW,
    SECOND,
    history_ids,
    identity,
    ids,
    newest,
    store_history,
    stored,
    uuid6_at,
)
from tests.support.memory_bucket import (
    Cost,
    MemoryBucket,
    MemorySaver,
    SeaweedFSBucket,
    client_error,
)

pytestmark = pytest.mark.usefixtures("fixed_clock")

WRITES = 2  # on the newest checkpoint of every history


def test_uuid6_prefix_is_the_time_of_langgraph_ids() -> None:
    made = uuid6_at(NOW, seq=5, node=77)
    assert made.startswith(uuid6_prefix(NOW))
    assert uuid6_at(NOW - 1000) < uuid6_prefix(NOW) < uuid6_at(NOW + 100)
    assert UUID(made).version == 6


hex_text = st.text("0123456789abcdef-", max_size=6)

odd_chars = st.sampled_from(["/", "\\", "%", ".", "-", " ", "\x85", "\ufffe", "é"])

prefixes = st.builds(lambda a, c, b: a + c + b, hex_text, odd_chars, hex_text)


@given(prefixes, st.none() | prefixes, st.none() | prefixes, st.text(max_size=4))
def test_may_hold_is_never_false_when_one_could(
    id_prefix: str, above: str | None, below: str | None, rest: str
) -> None:
    candidate = id_prefix + rest
    between = (above is None or candidate > above) and (
        below is None or candidate < below
    )
    if between:
        assert may_hold(id_prefix, above, below)


def test_may_hold_rules_out_older_and_bounded_buckets() -> None:
    assert not may_hold("1f1e2-", "1f1e3", None)
    assert not may_hold("1f1e3-", None, "1f1e3")
    assert may_hold("1f1e3-", "1f1e3-0", None)
    assert not may_hold("1f1e3-", "1f1e3-0", "1f1e3-0")


@given(ids)
def test_decode_prefix_reads_back_the_beginning_of_ids(checkpoint_id: str) -> None:
    encoded = encode_checkpoint_id(checkpoint_id)
    for cut, ch in enumerate(encoded):
        if ch == "-":
            assert checkpoint_id.startswith(decode_prefix(encoded[: cut + 1]) or "\0")
    assert decode_prefix(encoded) == checkpoint_id
    assert decode_prefix("%G1") is None and decode_prefix("%C3") is None


def real_ids() -> st.SearchStrategy[str]:
    """uuid6 ids of the last few days: far apart, in one 27-second bucket, or
    a few ms apart (sharing most of their time fields with the clock's)."""
    offsets = (
        st.integers(0, 3 * DAY) | st.integers(0, 200 * SECOND) | st.integers(0, 10**7)
    )
    return st.builds(
        lambda back, seq: uuid6_at(NOW - back, seq), offsets, st.integers(0, 99)
    )


def near_ids() -> st.SearchStrategy[str]:
    """Ids that begin like a uuid6 id (or the clock's), then take a character
    that escapes or sorts before the suffix: the ids a StartAfter jump loses."""
    return st.builds(
        lambda real, cut, ch, tail: real[:cut] + ch + tail,
        real_ids() | st.just(uuid6_prefix(NOW)),
        st.integers(0, 20),
        odd_chars,
        st.text("0123456789abcdef-/\\%.", max_size=4),
    )


any_ids = (
    real_ids()
    | near_ids()
    | near_ids()
    | ids
    | st.sampled_from(["__default__", ".", ".."])
)

guesses = st.just(uuid6_prefix(NOW)) | real_ids() | near_ids() | any_ids


@settings(max_examples=300, deadline=None)
@given(st.lists(any_ids, min_size=1, max_size=30), guesses, st.data())
def test_the_anchor_skips_only_smaller_ids(
    placed: list[str], guess: str, data: st.DataObject
) -> None:
    """The rule the search rests on: once every key up to ``last`` is read,
    every key between ``last`` and the anchor holds an id below the anchor,
    and every id at or above the anchor has a key past it or was read."""
    layout = Layout("p/")
    keyed = sorted(
        (layout.checkpoint_key(CheckpointRef("t", "", i)), i) for i in set(placed)
    )
    prefix = layout.namespace_checkpoints_prefix("t", "")
    last = data.draw(st.sampled_from(keyed))[0]
    cut = anchor(last[len(prefix) :], encode_checkpoint_id(guess))
    if cut is None:
        return
    for key, checkpoint_id in keyed:
        if last < key <= prefix + cut:
            assert checkpoint_id < cut, (key, last, cut)
        if checkpoint_id >= cut:
            assert key > prefix + cut or key <= last


def test_a_guess_past_the_mark_sets_no_anchor() -> None:
    """An escaped id sits under the mark (DEL), below ``é``: an anchor at
    ``é`` would skip ``\ufffe``'s key, whose id is greater."""
    layout = Layout("p/")
    prefix = layout.namespace_checkpoints_prefix("t", "")
    escaped = layout.checkpoint_key(CheckpointRef("t", "", "\ufffe"))[len(prefix) :]
    assert "0.json" < escaped < "é" < "\ufffe"
    assert anchor("0.json", encode_checkpoint_id("é")) is None


def test_the_anchor_stops_at_the_first_difference() -> None:
    """The anchor is the guess cut one past its first difference with the
    last key read. An escaped id there, ``1f1e3402/x``, has its key under the
    layout's mark, ``\\x7f1f1e3402%2Fx``: above every ASCII key, so no anchor
    skips it."""
    last = uuid6_at(NOW - 30 * SECOND) + ".json"
    guess = uuid6_prefix(NOW)
    assert last[:7] == guess[:7] and last[7] < guess[7]
    assert anchor(last, guess) == guess[:8]
    assert encode_checkpoint_id(guess[:8] + "/x") > guess[:8] + "\x7e"
    assert anchor(uuid6_at(NOW) + ".json", guess) is None  # past the guess
    assert anchor(last, "1f 1") is None  # a space sorts before "%"


def test_recent_reads_forget_old_entries_and_copies_start_empty() -> None:
    reads = RecentReads(size=2)
    refs = [CheckpointRef("t", "", str(i)) for i in range(3)]
    for ref in refs:
        reads.saw_checkpoint(ref, "p", {"counters_since_delta_snapshot": {"a": [1, 1]}})
    assert reads.checkpoint(refs[0]) is None
    assert reads.checkpoint(refs[2]) == (
        "p",
        {"counters_since_delta_snapshot": {"a": [1, 1]}},
    )
    copied = pickle.loads(pickle.dumps(reads))
    assert copied.checkpoint(refs[2]) is None
    stale = RecentReads(max_age=-1)
    stale.saw_checkpoint(refs[0], None, {})
    assert stale.checkpoint(refs[0]) is None


def small_pages(kind: type[MemoryBucket], size: int) -> MemoryBucket:
    """A bucket of ``kind`` whose LIST pages hold ``size`` entries at most."""

    class Small(kind):  # type: ignore[valid-type,misc]
        def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
            kwargs["MaxKeys"] = min(kwargs.get("MaxKeys", PAGE_SIZE), size)
            page: dict[str, Any] = super().list_objects_v2(**kwargs)
            return page

    bucket: MemoryBucket = Small()
    return bucket


def put_both(
    savers: tuple[BaseCheckpointSaver[Any], ...], checkpoint_ids: list[str]
) -> None:
    for n, checkpoint_id in enumerate(checkpoint_ids):
        checkpoint = empty_checkpoint()
        checkpoint["id"] = checkpoint_id
        checkpoint["channel_values"] = {"n": n}
        for saver in savers:
            stored = saver.put(cfg(), checkpoint, {"step": n}, {})
            if n % 3 == 0:
                saver.put_writes(stored, [("x", n)], "task")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(any_ids, min_size=1, max_size=40, unique=True)
    | st.lists(ids, min_size=1, max_size=20, unique=True),
    st.integers(1, 12),
    st.none() | any_ids,
    st.sampled_from(sorted(LISTINGS)),
    st.sampled_from([2, 3, 7]),
    st.sampled_from([1, 2, 10]),
    st.sampled_from([100, 4]),
    st.data(),
)
def test_newest_is_the_highest_id_as_in_memory_saver_says(
    checkpoint_ids: list[str],
    limit: int,
    before: str | None,
    kind: str,
    page: int,
    spread_at: int,
    rolled_up_count: int,
    data: st.DataObject,
) -> None:
    """get_tuple and list(limit, before) on namespaces many pages long, read
    from a floor, in order, rolled up, anchored at the clock or at ``before``,
    with whatever head (none, one naming any listed or other id, with any
    previous one, or not a head at all): the same answers as InMemorySaver,
    whatever the ids."""
    theirs = InMemorySaver()
    ours = MemorySaver(small_pages(LISTINGS[kind], page), prefix="p/")
    if before is not None:  # ids just below ``before``: its beginning, then anything
        cut = st.integers(0, len(before))
        beside = st.builds(lambda n, tail: before[:n] + tail, cut, st.just("") | ids)
        beside = beside.filter(bool)
        checkpoint_ids = list(
            dict.fromkeys(checkpoint_ids + data.draw(st.lists(beside, max_size=4)))
        )
    put_both((ours, theirs), checkpoint_ids)
    named = st.sampled_from(checkpoint_ids) | any_ids
    planted = data.draw(
        st.none()
        | st.sampled_from([b"", b"{}", b"not json", b'{"format": "other"}'])
        | st.builds(
            heads.encode_head,
            st.builds(CheckpointRef, st.just("t"), st.just(""), named),
            st.none() | named,
        )
        | st.builds(
            heads.encode_head,
            st.builds(CheckpointRef, st.just("u"), st.just(""), named),
        )
    )
    if planted is not None:
        ours.bucket.put_raw(ours.layout.head_key("t", ""), planted)
    bound = None if before is None else cfg(before)
    with (
        mock.patch.object(recency, "SPREAD_BUCKETS", spread_at),
        mock.patch.object(newest_plans, "ROLLED_UP_COUNT", rolled_up_count),
    ):
        for reader in (ours, MemorySaver(ours.bucket, prefix="p/")):
            latest, expected = reader.get_tuple(cfg()), theirs.get_tuple(cfg())
            assert latest is not None and expected is not None
            assert identity(latest.config) == identity(expected.config)
            assert latest.pending_writes == expected.pending_writes
            assert newest(reader, limit=limit, before=bound) == newest(
                theirs, limit=limit, before=bound
            )


# get_tuple latest: (LISTs, GETs of the head) of the search, before the GET of
# the checkpoint beside the LIST of its writes, and the GETs of its 2 writes.
# Written in the last day, up to 1,000 in it: one LIST from a day ago. Recent
# 10,000 (5 a minute: 7,200 in the last day) and tight 10,000 (1 ms apart):
# that page is full, so the head (written every 100 steps), then one LIST from
# the checkpoint it names. Idle (40 days ago): the day's LIST is empty, then
# the head; 12 checkpoints have none, so the scan's one page.
LATEST = {
    **{(h, n): (1, 0) for h in ("recent", "tight") for n in (12, 1000)},
    **{(h, n): (2, 1) for h in ("idle",) for n in (12, 1000)},
    **{(h, 10000): (2, 1) for h in HISTORIES},
}


@pytest.mark.parametrize(
    ("kind", "history", "n"),
    # SeaweedFS lists one namespace (files of one folder) as S3 does, and
    # its model is slower: at 10,000 it runs the recent history only.
    [("s3", h, n) for h, n in sorted(LATEST)]
    + [("seaweedfs", h, n) for h, n in sorted(LATEST) if n < 10000 or h == "recent"],
)
def test_get_tuple_latest_costs(kind: str, history: str, n: int) -> None:
    saver, checkpoint_ids = stored(kind, history, n)
    lists, heads_read = LATEST[history, n]
    reader = MemorySaver(saver.bucket, prefix="p/")  # a new process
    with saver.bucket.measure() as cost:
        latest = reader.get_tuple(cfg())
    assert latest is not None and identity(latest.config) == checkpoint_ids[-1]
    assert len(latest.pending_writes or []) == WRITES
    assert cost == Cost(
        rounds=lists + heads_read + 2,
        list=lists + 1,
        get=heads_read + 1 + WRITES,
    )
    assert cost.requests <= (3 if history != "idle" and n <= 1000 else 5) + WRITES
    # Read again, it lists from the newest it found: 3 + W, however long idle.
    with saver.bucket.measure() as cost:
        again = reader.get_tuple(cfg())
    assert again is not None and again.config == latest.config
    assert cost == Cost(rounds=3, list=2, get=1 + WRITES)


# list(limit=k): (rounds, LISTs) of the whole call. Without ``before``: the
# head's GET, one LIST from the checkpoint the head before it named (100 to
# 199 steps back), then k GETs beside one LIST of their writes, then the
# writes' GETs. With ``before``: one LIST from an hour before it, up to where
# no smaller id can follow, beside one LIST of the escaped ids, then the k
# GETs beside the LIST of their writes. A tight loop puts all 10,000 within
# that hour: more than a page, so the scan (its pages are dense).
LIMITED = {
    ("recent", 10000, 1, None): (4, 2),
    ("recent", 10000, 10, None): (4, 2),
    ("recent", 10000, 10, 5000): (2, 3),
    ("idle", 10000, 10, None): (4, 2),
    ("tight", 10000, 10, None): (4, 2),
    ("tight", 10000, 10, 5000): (12, 13),
    ("recent", 1000, 10, 500): (2, 3),
}


@pytest.mark.parametrize(("history", "n", "limit", "before"), sorted(LIMITED, key=str))
def test_list_with_limit_costs(
    history: str, n: int, limit: int, before: int | None
) -> None:
    saver, checkpoint_ids = stored("s3", history, n)
    bound = None if before is None else cfg(checkpoint_ids[before])
    older = checkpoint_ids if before is None else checkpoint_ids[:before]
    with saver.bucket.measure() as cost:
        found = list(saver.list(cfg(), limit=limit, before=bound))
    assert [identity(t.config) for t in found] == list(older[::-1][:limit])
    writes = sum(len(t.pending_writes or []) for t in found)
    assert writes == (WRITES if before is None else 0)
    rounds, lists = LIMITED[history, n, limit, before]
    head = 1 if before is None else 0
    assert cost == Cost(rounds=rounds, list=lists, get=head + limit + writes)
    if (history, before) != ("tight", 5000):
        assert cost.requests <= limit + writes + 3 and cost.rounds <= 4


class DirectoryBucket(MemoryBucket):
    """S3 Express One Zone: keys listed in no order, StartAfter refused, and
    no delimiter but ``/``."""

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("StartAfter") or kwargs.get("Delimiter", "/") != "/":
            raise client_error("InvalidArgument", "not supported", status=400)
        page = super().list_objects_v2(**kwargs)
        page["Contents"] = page["Contents"][::-1]
        return page


def test_directory_bucket_reads_writes_of_uuid6_checkpoints() -> None:
    """S3 Express refuses StartAfter: once a read found that out, the writes
    of several checkpoints are listed from the namespace's start, so uuid6 ids
    (which share a beginning) read as InMemorySaver's."""
    theirs = InMemorySaver()
    ours = MemorySaver(DirectoryBucket(), prefix="p/")
    put_both((ours, theirs), list(history_ids("recent", 40)))
    for limit in (None, 3):
        assert [
            (t.config, t.pending_writes) for t in ours.list(cfg(), limit=limit)
        ] == [(t.config, t.pending_writes) for t in theirs.list(cfg(), limit=limit)]
    assert not ours._recent.lists_in_order


def test_a_refused_get_leaves_the_floors_on() -> None:
    """InvalidRequest on a GET (an SSE-C object, say) is that read's error,
    not a sign that the store refuses StartAfter."""

    class SealedBucket(MemoryBucket):
        def get_object(self, **kwargs: Any) -> dict[str, Any]:
            if "/writes/" not in kwargs["Key"] and "/heads/" not in kwargs["Key"]:
                raise client_error("InvalidRequest", "sealed", status=400)
            return super().get_object(**kwargs)

    ours = MemorySaver(SealedBucket(), prefix="p/")
    put_both((ours,), list(history_ids("recent", 12)))
    with pytest.raises(S3AccessError, match="InvalidRequest"):
        list(ours.list(cfg(), limit=5))
    assert ours._recent.lists_in_order


class RefusingBucket(MemoryBucket):
    """A store that lists in order but refuses delimiters other than ``/``."""

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("Delimiter", "/") != "/":
            raise client_error("InvalidArgument", "not supported", status=400)
        return super().list_objects_v2(**kwargs)


class RepeatingBucket(SeaweedFSBucket):
    """SeaweedFS with a delimiter other than ``/``: past the first page, the
    same page again and again."""

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("Delimiter") == "-":
            kwargs.pop("ContinuationToken", None)
        return super().list_objects_v2(**kwargs)


@pytest.mark.parametrize(
    ("kind", "latest_lists", "limited_lists"),
    # LISTs of get_tuple's search, then of list(limit=2)'s, with no head (the
    # floor of a day ago holds more than a page). Directory bucket: the floor
    # refused, then its 21 pages in order (the first is out of order); list
    # reads the 21 pages (the saver tries no floor again). Refusing: the floor
    # (get_tuple only), the first page, the refused rolled-up LIST, the 20
    # other pages. Repeating: the floor, the first page, two rolled-up pages
    # (the second repeats the first), the 20 other pages.
    [(DirectoryBucket, 22, 21), (RefusingBucket, 23, 22), (RepeatingBucket, 24, 23)],
)
def test_other_stores_read_on_in_order(
    kind: type[MemoryBucket], latest_lists: int, limited_lists: int
) -> None:
    checkpoint_ids = list(history_ids("recent", 1000))
    odd = "\\" + checkpoint_ids[-1]  # the highest id of all, listed last
    written = store_history(
        small_pages(kind, 50), [odd, *checkpoint_ids], with_heads=False
    )
    saver = MemorySaver(written.bucket, prefix="p/")
    # Spread from the first page on, and no anchor: everything after the
    # first page is rolled up (4 pages of 50 buckets, where allowed).
    with (
        mock.patch.object(recency, "SPREAD_BUCKETS", 2),
        mock.patch("langgraph_checkpoint_s3.plans._latest.anchor", lambda *_: None),
    ):
        with saver.bucket.measure() as cost:
            latest = saver.get_tuple(cfg())
        with saver.bucket.measure() as limited_cost:
            limited = list(saver.list(cfg(), limit=2))
    assert latest is not None and identity(latest.config) == odd
    assert [identity(t.config) for t in limited] == [odd, checkpoint_ids[-1]]
    # and one LIST of writes each
    assert (cost.list, limited_cost.list) == (latest_lists + 1, limited_lists + 1)
    if kind is DirectoryBucket:  # refused once: the saver tries no floor again
        assert limited_cost.get == 2 + 2  # no head's GET: 2 checkpoints, 2 writes
        with saver.bucket.measure() as again:
            assert saver.get_tuple(cfg()) is not None
        assert again.list == latest_lists - 1 + 1


def test_get_state_after_a_snapshot_reads_the_parent_only() -> None:
    from tests.support.graphs import delta_graph, thread

    bucket = MemoryBucket()
    saver = MemorySaver(bucket, prefix="p/")
    config = thread("delta")
    final = delta_graph(saver).invoke({"items": [], "n": 150}, config)
    with bucket.measure() as tuple_cost:
        latest = saver.get_tuple(config)
    assert latest is not None
    with bucket.measure() as cost:
        state = delta_graph(saver).get_state(config)
    assert state.values == final
    # get_tuple; then the parent that holds the snapshot, beside the LIST of
    # its writes; then its 2 writes. No LIST of the namespace, no second GET of
    # the target.
    assert cost == Cost(
        rounds=tuple_cost.rounds + 2,
        list=tuple_cost.list + 1,
        get=tuple_cost.get + 1 + 2,
    )
    namespace = saver.layout.namespace_checkpoints_prefix("delta", "")
    requests = list(itertools.chain(*cost.log[tuple_cost.rounds :]))
    assert not any(isinstance(r, List) and r.prefix == namespace for r in requests)
    # A saver that did not read the target reads it once first.
    cold = MemorySaver(bucket, prefix="p/")
    with bucket.measure() as cold_cost:
        found = cold.get_delta_channel_history(config=latest.config, channels=["items"])
    assert found == BaseCheckpointSaver.get_delta_channel_history(
        MemorySaver(bucket, prefix="p/"), config=latest.config, channels=["items"]
    )
    assert cold_cost == Cost(rounds=3, list=1, get=1 + 1 + 2)


def test_a_remembered_target_that_is_gone_walks_as_the_base() -> None:
    from tests.support.graphs import delta_graph, thread

    bucket = MemoryBucket()
    saver = MemorySaver(bucket, prefix="p/")
    config = thread("delta")
    delta_graph(saver).invoke({"items": [], "n": 150}, config)
    latest = saver.get_tuple(config)  # remembered
    assert latest is not None
    saver.delete_thread("delta")
    found = saver.get_delta_channel_history(config=latest.config, channels=["items"])
    assert found == {"items": {"writes": []}}
    assert found == BaseCheckpointSaver.get_delta_channel_history(
        MemorySaver(bucket, prefix="p/"), config=latest.config, channels=["items"]
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_long_walk_still_lists_the_namespace_once(kind: str) -> None:
    from tests.support.graphs import delta_graph, thread

    bucket = KINDS[kind]()
    saver = MemorySaver(bucket, prefix="p/")
    config = thread("delta")
    delta_graph(saver).invoke({"items": [], "n": 120}, config)
    deepest = max(
        saver.list(config),
        key=lambda t: t.metadata.get("counters_since_delta_snapshot", {}).get(
            "items", (0, 0)
        )[0],
    )
    expected = BaseCheckpointSaver.get_delta_channel_history(
        MemorySaver(bucket, prefix="p/"), config=deepest.config, channels=["items"]
    )
    cold = MemorySaver(bucket, prefix="p/")
    with bucket.measure() as cost:
        found = cold.get_delta_channel_history(
            config=deepest.config, channels=["items"]
        )
    assert found == expected
    # The target; the namespace; the chain beside its writes' LIST; the writes.
    assert (cost.rounds, cost.list) == (4, 2)
    with bucket.measure() as cost:  # now the target is remembered
        assert (
            cold.get_delta_channel_history(config=deepest.config, channels=["items"])
            == expected
        )
    assert (cost.rounds, cost.list) == (3, 2)


def test_an_id_that_is_a_prefix_of_before_is_found_past_its_bucket() -> None:
    """``1f1e7c6c`` is below ``1f1e7c6c-...`` ids, but its key sorts after all
    of them (``.`` above ``-``): the listing from the floor below ``before``
    reads on past ``before``'s bucket to it (its :func:`.recency.ceiling`)."""
    newer = [uuid6_at(NOW - 30 * SECOND + i * 1000, seq=i) for i in range(6)]
    bound, prefix_id = newer[1], newer[1][:8]
    theirs = InMemorySaver()
    ours = MemorySaver(small_pages(MemoryBucket, 3), prefix="p/")
    older = uuid6_at(NOW - 600 * SECOND)
    put_both((ours, theirs), [older, prefix_id, *newer])
    for limit in (1, 2):
        assert newest(ours, limit=limit, before=cfg(bound)) == newest(
            theirs, limit=limit, before=cfg(bound)
        )
    assert newest(ours, limit=1, before=cfg(bound))[0][0] == newer[0]
    assert [i for i, _ in newest(ours, limit=2, before=cfg(bound))] == [
        newer[0],
        prefix_id,
    ]
