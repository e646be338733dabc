"""The clients the savers create, for both shells: their botocore settings,
and the sessions the async saver accepts.

Retries are botocore's own (standard mode: throttling, 5xx, timeouts, resets),
not a loop of ours. What a user sets wins: a ``Config`` passed to the saver,
then ``AWS_MAX_ATTEMPTS`` / ``AWS_RETRY_MODE`` or the AWS config file, then
our defaults. One gap is filled here: S3 answers ``409 ConditionalRequestConflict``
when two conditional writes race, and botocore does not retry it. And the
clients the savers create resolve an endpoint once per bucket, not per key.
"""

from __future__ import annotations

import json
import os
import random
import re
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeAlias

    import aioboto3
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession
    from types_aiobotocore_s3 import S3Client

    AsyncSession: TypeAlias = AioSession | aioboto3.Session

__all__ = [
    "AIOBOTO3_EXTRA",
    "DEFAULT_ATTEMPTS",
    "DEFAULT_CONCURRENCY",
    "async_session",
    "cache_endpoints_per_bucket",
    "client_settings",
    "open_async_client",
    "retry_conditional_conflicts",
]

DEFAULT_CONCURRENCY = 16
DEFAULT_ATTEMPTS = 5
"""Attempts per request in all (the first and 4 retries), unless the
environment or the AWS config file says otherwise."""

_CONFLICT = "ConditionalRequestConflict"

AIOBOTO3_EXTRA = "pip install 'langgraph-checkpoint-s3[aioboto3]'"
_TAKES = "AsyncS3CheckpointSaver: session= takes an aiobotocore AioSession"


def _retries() -> dict[str, Any]:
    """Our retry defaults, less what the environment or config file sets (an
    explicit Config would override those, so only unset keys are given)."""
    import botocore.session
    from botocore.exceptions import BotoCoreError

    session = botocore.session.get_session()
    try:
        configured = session.get_scoped_config()
    except BotoCoreError:  # e.g. AWS_PROFILE names no profile
        configured = {}
    retries: dict[str, Any] = {}
    if session.get_config_variable("max_attempts") is None:
        retries["total_max_attempts"] = DEFAULT_ATTEMPTS
    if not os.environ.get("AWS_RETRY_MODE") and "retry_mode" not in configured:
        retries["mode"] = "standard"
    return retries


def client_settings(max_concurrency: int) -> dict[str, Any]:
    """Keyword arguments of the botocore ``Config`` (or ``AioConfig``) of a
    client a saver creates: retries as above and a connection pool as large
    as the saver's concurrency."""
    settings: dict[str, Any] = {
        "max_pool_connections": max_concurrency,
        "connect_timeout": 10,
        "read_timeout": 60,
    }
    if retries := _retries():
        settings["retries"] = retries
    return settings


def _conflict_delay(response: Any = None, attempts: int = 1, **_: Any) -> float | None:
    if response is None:
        return None
    _, parsed = response
    code = (parsed or {}).get("Error", {}).get("Code")
    if code != _CONFLICT or attempts >= DEFAULT_ATTEMPTS:
        return None
    # Full jitter, so the racing writers do not collide again.
    return random.uniform(0, min(0.05 * 2**attempts, 1.0))


def retry_conditional_conflicts(events: Any) -> None:
    """Retry PutObject answered with 409 ConditionalRequestConflict (two
    conditional writes racing), up to DEFAULT_ATTEMPTS attempts. The retry
    then gets the real answer: stored, or 412 for the loser."""
    events.register(
        "needs-retry.s3.PutObject",
        _conflict_delay,
        unique_id="langgraph-checkpoint-s3-retry-409",
    )


def cache_endpoints_per_bucket(client: Any) -> None:
    """Let botocore's endpoint cache hit for every key of a bucket.

    botocore resolves each request's endpoint by evaluating the S3 endpoint
    ruleset, behind an LRU cache keyed by all of the ruleset's parameters.
    ``Key``, ``Prefix`` and ``CopySource`` are among them though no rule reads
    them, so every new key misses the cache and pays a full evaluation: about
    0.14 ms of CPU, a fifth of what botocore spends on a request, on the event
    loop's one thread. Parameters that no rule of the loaded ruleset mentions
    are left out of the lookup; the endpoint is the same by construction. A
    client without these (private) botocore attributes is left as it is.
    """
    resolver = getattr(client, "_ruleset_resolver", None)
    definitions = getattr(resolver, "_param_definitions", None)
    loader = getattr(client, "_loader", None)
    if not isinstance(definitions, dict) or loader is None:
        return
    try:
        model = client.meta.service_model
        read = _read_by_rules(
            loader, model.service_name, model.api_version, frozenset(definitions)
        )
    except Exception:  # no ruleset to check against: keep botocore's lookup
        return
    if len(read) < len(definitions):
        resolver._param_definitions = {  # type: ignore[union-attr]
            name: spec for name, spec in definitions.items() if name in read
        }


_RULES_READ: dict[tuple[str, str, frozenset[str]], frozenset[str]] = {}


def _read_by_rules(
    loader: Any, service: str, api_version: str, names: frozenset[str]
) -> frozenset[str]:
    # Scanning the ruleset costs ~15 ms; it is the same for every client of a
    # botocore version, so each saver's client does not pay it again.
    cached = (service, api_version, names)
    if cached not in _RULES_READ:
        ruleset = loader.load_service_model(
            service, "endpoint-rule-set-1", api_version=api_version
        )
        rules = json.dumps(ruleset["rules"])
        _RULES_READ[cached] = frozenset(
            name for name in names if re.search(rf"\b{re.escape(name)}\b", rules)
        )
    return _RULES_READ[cached]


def async_session(session: object | None) -> AsyncSession:
    """The session the async saver creates its client from: the one given,
    aiobotocore's or aioboto3's, else a default aiobotocore session (the
    standard AWS configuration, read as boto3's default session reads it).
    Anything else is refused here, when the saver is made, not on entry."""
    from aiobotocore.session import AioSession

    if session is None:
        return AioSession()
    if isinstance(session, AioSession):
        return session
    kind = f"{type(session).__module__}.{type(session).__qualname__}"
    try:
        import aioboto3
    except ImportError:  # the extra is not installed
        raise TypeError(
            f"{_TAKES}, or an aioboto3.Session once aioboto3 is installed "
            f"({AIOBOTO3_EXTRA}); got a {kind}"
        ) from None
    if isinstance(session, aioboto3.Session):
        return session
    raise TypeError(f"{_TAKES} or an aioboto3.Session; got a {kind}")


def open_async_client(
    session: AsyncSession, endpoint_url: str | None, config: AioConfig
) -> AbstractAsyncContextManager[S3Client]:
    """An S3 client of ``session``, opened and closed as a context manager."""
    from aiobotocore.session import AioSession

    if isinstance(session, AioSession):
        return session.create_client("s3", endpoint_url=endpoint_url, config=config)
    # boto3's Session.client, which aioboto3 keeps: create_client on the
    # AioSession it wraps, which carries boto3's handlers and user agent.
    return session.client("s3", endpoint_url=endpoint_url, config=config)
