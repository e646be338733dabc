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
(deleting, copying, pruning) and ``_history`` (DeltaChannel history). The
rules they apply are the package's pure modules (:mod:`..keys`,
:mod:`..codec`, :mod:`..batches`, :mod:`..recency`, :mod:`..delta`, ...).
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
from ._reading import (
    check_bucket,
    fetch_checkpoints,
    get_tuple,
    list_checkpoints,
    thread_checkpoints,
    thread_ids,
    thread_keys,
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
    "PRUNE_STRATEGIES",
    "ConditionalWrites",
    "PlanContext",
    "RecentReads",
    "check_bucket",
    "concurrently",
    "copy_thread",
    "delete_for_runs",
    "delete_keys",
    "delete_thread",
    "fetch_checkpoints",
    "fetch_objects",
    "get_delta_channel_history",
    "get_tuple",
    "list_checkpoints",
    "list_keys",
    "list_objects",
    "newest",
    "perform",
    "prune",
    "put",
    "put_writes",
    "thread_checkpoints",
    "thread_ids",
    "thread_keys",
]
