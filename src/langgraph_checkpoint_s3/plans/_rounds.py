"""The building blocks of every plan: one round, plans side by side, a whole
listing, a batch of GETs or of deletes. Pure, like the plans (see
:mod:`..plans`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import DeleteFailedError
from ..protocol import Get, List, Listed, Plan, Request, batches_of

__all__ = [
    "concurrently",
    "delete_keys",
    "fetch_objects",
    "list_keys",
    "list_objects",
    "perform",
]


def perform(requests: Iterable[Request]) -> Plan[list[Any]]:
    """One round of ``requests``; their results in order. No round at all
    when there is nothing to ask, so round counts stay honest."""
    batch = list(requests)
    if not batch:
        return []
    results: list[Any] = yield batch
    return results


def concurrently(*plans: Plan[Any]) -> Plan[list[Any]]:
    """Run plans side by side: each round carries the next requests of every
    plan still running. Returns their answers in order."""
    answers: list[Any] = [None] * len(plans)
    pending: dict[int, list[Request]] = {}
    for i, plan in enumerate(plans):
        try:
            pending[i] = next(plan)
        except StopIteration as stop:
            answers[i] = stop.value
    while pending:
        results = yield [request for batch in pending.values() for request in batch]
        start, advanced = 0, {}
        for i, batch in pending.items():
            part, start = results[start : start + len(batch)], start + len(batch)
            try:
                advanced[i] = plans[i].send(part)
            except StopIteration as stop:
                answers[i] = stop.value
        pending = advanced
    return answers


def list_objects(
    prefix: str, start_after: str | None = None, delimiter: str | None = None
) -> Plan[tuple[list[Listed], list[str]]]:
    """Every page of a LIST: the objects, and the common prefixes when a
    delimiter is given. One round per 1,000 keys."""
    objects: list[Listed] = []
    prefixes: list[str] = []
    token: str | None = None
    while True:
        (page,) = yield from perform([List(prefix, start_after, token, delimiter)])
        objects += page.objects
        prefixes += page.prefixes
        if page.continuation is None:
            return objects, prefixes
        token = page.continuation


def list_keys(prefix: str, start_after: str | None = None) -> Plan[list[str]]:
    """Every key under ``prefix`` (after ``start_after``), in listing order."""
    objects, _ = yield from list_objects(prefix, start_after)
    return [obj.key for obj in objects]


def fetch_objects(keys: Sequence[str]) -> Plan[list[bytes | None]]:
    """The bodies of ``keys`` in one round; None for a key that is gone."""
    bodies: list[bytes | None] = yield from perform(Get(key) for key in keys)
    return bodies


def delete_keys(keys: Sequence[str]) -> Plan[None]:
    """Delete ``keys`` in one round of 1,000-key batches; raise with every key
    S3 said it did not delete."""
    results = yield from perform(batches_of(keys))
    failures = [failure for result in results for failure in result]
    if failures:
        raise DeleteFailedError(failures)
