"""One plan per saver operation: every decision about what to read or write.

A plan is a generator (see :data:`..protocol.Plan`): it yields a round of
requests that do not depend on each other, receives their results in order,
decides what to fetch next, and returns the call's answer. It does no I/O, so
the sync saver, the async saver, the CLI and the tests' in-memory bucket all
run the same plan, and every rule is written once.

Every plan takes a :class:`PlanContext` first. The modules, by concern:
``_context`` (the context and the saver's memory), ``_rounds`` (building
blocks: a round, plans side by side, listings, batch GETs and deletes),
``_reading`` (``get_tuple``, ``list``), ``_latest`` (a namespace's newest
checkpoints), ``_writing`` (``put``, ``put_writes``), ``_lifecycle``
(deleting, copying, pruning), ``_history`` (DeltaChannel history) and
``_retention`` (what a prefix holds, idle threads expired, keep-last pruning). The
rules they apply are the package's private pure modules (:mod:`.._keys`,
:mod:`.._codec`, :mod:`.._batches`, :mod:`.._recency`, :mod:`.._delta`, ...).
"""

from ._context import ConditionalWrites, PlanContext, RecentReads
from ._history import get_delta_channel_history
from ._latest import newest
from ._lifecycle import (
    PRUNE_STRATEGIES,
    copy_thread,
    delete_for_runs,
    delete_thread,
    prune,
)
from ._listing import FIRST_WINDOW, WINDOW, ListCursor, list_rest, list_window
from ._reading import (
    VALUE_GRACE,
    check_bucket,
    decoded,
    fetch_checkpoints,
    fetch_envelopes,
    fetch_shared,
    get_tuple,
    thread_checkpoints,
    thread_ids,
    thread_keys,
    unused_values,
)
from ._retention import (
    EXPIRE_CHUNK,
    PRUNE_CHUNK,
    Expiry,
    IdleThread,
    Tally,
    Usage,
    cutoff,
    expire_idle,
    expire_threads,
    idle_threads,
    prune_keep_last,
    rebuilt_from,
    tally,
    usage,
)
from ._rounds import (
    concurrently,
    delete_keys,
    fetch_objects,
    list_keys,
    list_objects,
    perform,
)
from ._writing import put, put_writes

__all__ = [
    "EXPIRE_CHUNK",
    "FIRST_WINDOW",
    "PRUNE_CHUNK",
    "PRUNE_STRATEGIES",
    "VALUE_GRACE",
    "WINDOW",
    "ConditionalWrites",
    "Expiry",
    "IdleThread",
    "ListCursor",
    "PlanContext",
    "RecentReads",
    "Tally",
    "Usage",
    "check_bucket",
    "concurrently",
    "copy_thread",
    "cutoff",
    "decoded",
    "delete_for_runs",
    "delete_keys",
    "delete_thread",
    "expire_idle",
    "expire_threads",
    "fetch_checkpoints",
    "fetch_envelopes",
    "fetch_objects",
    "fetch_shared",
    "get_delta_channel_history",
    "get_tuple",
    "idle_threads",
    "list_keys",
    "list_objects",
    "list_rest",
    "list_window",
    "newest",
    "perform",
    "prune",
    "prune_keep_last",
    "put",
    "put_writes",
    "rebuilt_from",
    "tally",
    "thread_checkpoints",
    "thread_ids",
    "thread_keys",
    "unused_values",
    "usage",
]
