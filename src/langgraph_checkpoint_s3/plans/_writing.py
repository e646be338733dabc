"""Writing: the plans of ``put`` and ``put_writes``, and the check that
the store honours conditional writes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import Checkpoint, CheckpointMetadata

from .._batches import Entry
from .._batches import step as next_step
from .._codec import (
    encode_checkpoint,
    encode_writes,
    held_writes,
    same_checkpoint,
    value_object,
    with_token,
    write_object,
)
from .._configs import CheckpointSelector, config_of
from .._heads import due, encode_head
from .._keys import WriteRef
from .._shared import ChannelVersion, channel_version
from ..envelopes import CallWrite, SharedRef, TypedValue
from ..errors import CheckpointConflictError, ConditionalWritesError
from ..protocol import Get, Plan, Put, Tagged
from ._context import PlanContext
from ._rounds import fetch_objects, perform


def put(
    context: PlanContext,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    new_versions: Mapping[str, Any] | None = None,
) -> Plan[RunnableConfig]:
    """``put``: one conditional PUT (every 100th step with the namespace's
    head beside it, in the same round; see :mod:`.._heads`), after a round
    that stores the shared values it is the first to refer to, if any (see
    :mod:`.._shared`). A taken key is fine when it holds the same checkpoint
    (a retried request), a conflict when it holds another."""
    _refuse_if_unconditional(context)
    selector = CheckpointSelector.of(config)
    thread_id, ns = selector.thread_id, selector.checkpoint_ns
    changed = set(
        checkpoint["channel_values"] if new_versions is None else new_versions
    )
    versions = checkpoint["channel_versions"]
    new_values: dict[str, TypedValue] = {}
    placed: list[tuple[ChannelVersion, SharedRef]] = []

    def place(
        channel: str, serialized: Callable[[], tuple[str, bytes]]
    ) -> TypedValue | SharedRef:
        version = channel_version(thread_id, ns, channel, versions)
        if (
            version is not None
            and channel not in changed
            and (known := context.shared.known(version))
        ):
            return known  # stored, and unchanged since: not serialized again
        typed = serialized()
        where, digest = context.shared.place(
            thread_id, typed, channel in changed, version
        )
        if digest is not None and isinstance(where, SharedRef):
            new_values[digest] = TypedValue.of(typed)
            if version is not None:
                placed.append((version, where))
        return where

    ref, body = encode_checkpoint(context.serde, config, checkpoint, metadata, place)
    key = context.layout.checkpoint_key(ref)
    yield from _store_values(context, thread_id, new_values)
    for version, shared in placed:
        context.shared.saw_version(version, shared)
    request = context.put(key, body, if_absent=True)
    requests = [request]
    if due(metadata):
        head_key = context.layout.head_key(ref.thread_id, ref.checkpoint_ns)
        head = encode_head(ref, context.recent.wrote_head(ref, metadata["step"]))
        requests.append(Put(head_key, head, if_absent=False, hint=True))
    stored, *_ = yield from perform(requests)
    yield from _check_conditions(context, [request], [stored])
    context.recent.saw_newest(ref)
    if not stored:
        (existing,) = yield from fetch_objects([key])
        if existing is None or not same_checkpoint(existing, body):
            raise CheckpointConflictError(
                f"{key}: a different checkpoint with this id is stored already; "
                "checkpoints are never overwritten",
                operation="PutObject",
                key=key,
            )
    return config_of(ref)


def _store_values(
    context: PlanContext, thread_id: str, values: Mapping[str, TypedValue]
) -> Plan[None]:
    """One round of PUTs of shared values, before anything refers to them.
    Not conditional: a key holds one content only, so a PUT over an existing
    value object stores what is there."""
    requests = []
    for value in values.values():
        digest, body = value_object(thread_id, value)
        key = context.layout.value_key(thread_id, digest)
        requests.append(Put(key, body, if_absent=False))
    yield from perform(requests)
    for digest, value in values.items():
        context.shared.stored(thread_id, digest, value)


def put_writes(
    context: PlanContext,
    config: RunnableConfig,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str = "",
) -> Plan[None]:
    """``put_writes``: one PUT per write, in one round, each only where its
    key is free. A call that finds keys taken (a task run again, a racing
    caller) reads its keys back and settles them by LangGraph's rule (see
    :mod:`.._batches`)."""
    _refuse_if_unconditional(context)
    token = context.tokens()
    objects = encode_writes(context.serde, config, writes, task_id, task_path, token)
    for ref, write in objects:
        context.shared.met(ref.checkpoint.thread_id, write.value.typed())
    requests = [
        context.put(
            context.layout.write_key(ref), write_object(ref, write), if_absent=True
        )
        for ref, write in objects
    ]
    stored = yield from perform(requests)
    yield from _check_conditions(context, requests, stored)
    if all(stored) or not context.conditions.enabled:
        return
    yield from _settle_writes(context, token, objects)


def _check_conditions(
    context: PlanContext, requests: Sequence[Put], stored: Sequence[bool]
) -> Plan[None]:
    """Once per saver, send again a conditional PUT that stored: a store that
    honours ``If-None-Match`` now finds the key taken."""
    _refuse_if_unconditional(context)
    conditions = context.conditions
    if conditions.verified or conditions.checking or not conditions.enabled:
        return
    done = [r for r, ok in zip(requests, stored, strict=True) if ok and r.if_absent]
    if not done:
        return
    conditions.checking = True
    try:
        (again,) = yield from perform(done[:1])
    finally:
        conditions.checking = False
    if again:
        conditions.refusal = ConditionalWritesError(
            f"{done[0].key}: the store accepted If-None-Match: * for a key that "
            "exists, so it ignores conditional writes; first-wins writes and "
            "checkpoints that are never replaced cannot be kept there. Use a "
            "store that supports them, or pass conditional_writes=False to run "
            "without (see docs/requests.md, Consistency and safety)",
            operation="PutObject",
            key=done[0].key,
        )
        raise conditions.refusal
    conditions.verified = True


def _refuse_if_unconditional(context: PlanContext) -> None:
    if context.conditions.refusal is not None:
        raise context.conditions.refusal


_SETTLE_ATTEMPTS = 8


def _settle_writes(
    context: PlanContext, token: str, objects: Sequence[tuple[WriteRef, CallWrite]]
) -> Plan[None]:
    """Read the call's keys back (and the other idx of the calls found there)
    and store, each only if unchanged since read, what :func:`..batches.step`
    says, until the call is complete."""
    first = objects[0][0]
    ours = {ref.idx: write for ref, write in objects}
    own = frozenset({token})
    scope = set(ours)
    refs: dict[int, WriteRef] = {}

    def ref_of(idx: int) -> WriteRef:
        return refs.setdefault(idx, WriteRef(first.checkpoint, first.task_id, idx))

    def key(idx: int) -> str:
        return context.layout.write_key(ref_of(idx))

    for _ in range(_SETTLE_ATTEMPTS):
        order = sorted(scope)
        results = yield from perform(Get(key(i), tagged=True) for i in order)
        found: dict[int, Tagged | None] = dict(zip(order, results, strict=True))
        held = {
            i: held_writes(key(i), tagged.body, ref_of(i)) if tagged else []
            for i, tagged in found.items()
        }
        slots = {i: [Entry.of(w.batch) for w in held[i]] for i in held}
        step = next_step(token, own, frozenset(ours), slots)
        if step.read:
            scope |= step.read
            continue
        if step.done:
            return
        token, own = step.token, own | {step.token}
        requests = [
            _replace(
                key(i),
                write_object(
                    ref_of(i),
                    with_token(ours[i], token),
                    [w for w in held[i] if w.batch.id in kept],
                ),
                found[i],
            )
            for i, kept in sorted(step.write.items())
        ]
        replaced = yield from perform(requests)
        if all(replaced):
            return
    raise CheckpointConflictError(
        f"{context.layout.checkpoint_writes_prefix(first.checkpoint)}: the writes of "
        f"task {first.task_id!r} could not be stored; other callers kept "
        "changing them",
        operation="PutObject",
        key=key(first.idx),
    )


def _replace(key: str, body: bytes, held: Tagged | None) -> Put:
    """A PUT that stores only if the key still holds what was read."""
    if held is None:
        return Put(key, body, if_absent=True)
    return Put(key, body, if_absent=False, if_match=held.etag)
