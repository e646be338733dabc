"""Where the checkpoints are: the ``s3://BUCKET/PREFIX/`` URI, the connection
options every command takes, and the saver they open.

The CLI's client gives up sooner than the library's: a person waits on it, so
an unreachable or silent store is reported within about ten seconds (short
connect timeout, 3 attempts, no retry of a read timeout), and every retry is
announced on stderr.

Light at import: a malformed URI is refused before boto3 or the saver load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from .._keys import Layout
from .app import CliError, ExitCode, debug_option, redact_url, say

if TYPE_CHECKING:
    from botocore.config import Config

    from ..saver import S3CheckpointSaver

__all__ = [
    "ATTEMPTS",
    "CONNECT_TIMEOUT",
    "PREFIX_VARIABLE",
    "READ_TIMEOUT",
    "Connection",
    "RetryNotices",
    "S3Uri",
    "cli_client_config",
    "s3_options",
]

PREFIX_VARIABLE = "S3_CHECKPOINT_PREFIX"
"""The environment variable that stands for ``--s3-prefix``."""
CONNECT_TIMEOUT = 2.0
"""Seconds to wait for a connection to the store (the library waits 10)."""
READ_TIMEOUT = 10.0
"""Seconds to wait for the next bytes of an answer (the library waits 60);
a read timeout is not retried, so a silent store costs this once."""
ATTEMPTS = 3
"""Attempts per request, the first included, unless ``AWS_MAX_ATTEMPTS`` or
the AWS config file's ``max_attempts`` says otherwise (the library makes 5).
Failures another attempt would not mend are not retried (``retrying``)."""

_BUCKET_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
)


@dataclass(frozen=True)
class S3Uri:
    """``s3://bucket/prefix/``: the bucket and the saver's key prefix."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        """Split an ``s3://`` URI; raises CliError (exit 1) when malformed."""
        scheme, sep, rest = uri.partition("://")
        bucket, _, prefix = rest.partition("/")
        if scheme != "s3" or not sep or not _valid_bucket(bucket):
            raise CliError(
                f"invalid S3 URI {uri!r}: expected s3://BUCKET/PREFIX/",
                ExitCode.BAD_URI,
            )
        try:
            layout = Layout(prefix)
        except ValueError as exc:
            raise CliError(f"invalid S3 URI {uri!r}: {exc}", ExitCode.BAD_URI) from None
        return cls(bucket, layout.prefix)


def _valid_bucket(name: str) -> bool:
    # Legacy and S3-compatible stores allow more than today's AWS rules
    # (uppercase, underscores, 255 bytes); reject only what cannot be a name.
    return (
        3 <= len(name) <= 255
        and set(name) <= _BUCKET_CHARACTERS
        and name[0].isalnum()
        and name[-1].isalnum()
    )


@dataclass(frozen=True)
class Connection:
    """The S3 options every command takes."""

    s3_prefix: str
    profile: str | None
    region: str | None
    endpoint_url: str | None
    expected_bucket_owner: str | None = None

    @property
    def uri(self) -> S3Uri:
        """The parsed ``--s3-prefix``; raises CliError (exit 1) when malformed."""
        return S3Uri.parse(self.s3_prefix)

    def open(self) -> S3CheckpointSaver:
        """A saver on the prefix, reading through the strict serde; its bucket
        check reports a missing bucket, rejected credentials or missing rights
        before any command runs."""
        uri = self.uri
        from .. import saver
        from ..protocol import RequestOptions
        from .rendering import TolerantSerializer

        return saver.S3CheckpointSaver(
            uri.bucket,
            prefix=uri.prefix,
            s3_client=self.client(),
            serde=TolerantSerializer(),
            request_options=RequestOptions(
                expected_bucket_owner=self.expected_bucket_owner
            ),
        )

    def client(self) -> Any:
        """The boto3 S3 client the saver runs on: the CLI's timeouts and
        attempts, every retry announced on stderr."""
        import boto3
        from botocore.exceptions import ProfileNotFound

        from ..errors import CredentialsError

        try:
            session = boto3.Session(profile_name=self.profile, region_name=self.region)
        except ProfileNotFound as exc:
            raise CredentialsError(str(exc)) from exc
        client = session.client(
            "s3", endpoint_url=self.endpoint_url, config=cli_client_config()
        )
        client.meta.events.register_first("needs-retry.s3", _end_futile_retries)
        RetryNotices().register(client.meta.events)
        return client


def _end_futile_retries(caught_exception: Exception | None = None, **_: Any) -> None:
    """Ahead of botocore's retry handler: a failure that another attempt
    would not mend (:mod:`.retrying`) is raised now, as botocore raises
    the last attempt's."""
    from .retrying import not_worth_retrying

    if caught_exception is not None and not_worth_retrying(caught_exception):
        raise caught_exception


def cli_client_config() -> Config:
    """The saver's client settings, with the CLI's timeouts and attempts."""
    from botocore.config import Config

    from .. import saver

    base = saver.default_client_config(saver.DEFAULT_CONCURRENCY)
    ours: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
    }
    retries = dict(getattr(base, "retries", None) or {})
    # The saver leaves the count out when the environment or the config file
    # sets one: that choice stands here too.
    if "total_max_attempts" in retries or "max_attempts" in retries:
        retries.pop("max_attempts", None)
        ours["retries"] = {**retries, "total_max_attempts": ATTEMPTS}
    return base.merge(Config(**ours))


class RetryNotices:
    """Says on stderr when a request is retried, and why: ``retrying: cannot
    reach http://127.0.0.1:9 (attempt 2 of 3)``.

    botocore decides (its ``needs-retry`` handler); this only watches: it
    notes each failure in the request's context, and announces the attempt
    when botocore creates the retried request. The same line is not repeated
    within ``quiet_for`` seconds, so concurrent requests failing alike print
    it once.
    """

    _CONTEXT_KEY = "s3_checkpoint_cli_failure"

    def __init__(self, quiet_for: float = 5.0) -> None:
        self._quiet_for = quiet_for
        self._said: dict[str, float] = {}
        self._lock = threading.Lock()

    def register(self, events: Any) -> None:
        events.register_last("needs-retry.s3", self._note_failure)
        events.register("request-created.s3", self._announce)

    def _note_failure(
        self,
        request_dict: dict[str, Any],
        operation: Any,
        response: Any = None,
        caught_exception: Exception | None = None,
        **_: Any,
    ) -> None:
        context = request_dict.get("context")
        answered = response[0].status_code if response else None
        if caught_exception is None and (answered is None or answered < 400):
            return  # a success: nothing to retry
        if isinstance(context, dict):
            context[self._CONTEXT_KEY] = _failure(
                request_dict.get("url", ""), operation.name, response, caught_exception
            )

    def _announce(self, request: Any, **_: Any) -> None:
        context = getattr(request, "context", None) or {}
        retries = context.get("retries") or {}
        attempt = retries.get("attempt", 1)
        why = context.get(self._CONTEXT_KEY)
        if attempt <= 1 or why is None:
            return
        limit = retries.get("max")
        counted = f"attempt {attempt} of {limit}" if limit else f"attempt {attempt}"
        line = f"retrying: {why} ({counted})"
        now = time.monotonic()
        with self._lock:
            if now - self._said.get(line, -self._quiet_for) < self._quiet_for:
                return
            self._said[line] = now
        say(line)


def _failure(url: str, operation: str, response: Any, exc: Exception | None) -> str:
    """Why an attempt failed, in a few words, naming the store."""
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    parts = urlsplit(url)
    store = redact_url(f"{parts.scheme}://{parts.netloc}") if parts.netloc else "S3"
    if isinstance(exc, ConnectTimeoutError):
        return f"cannot reach {store} (no connection within {CONNECT_TIMEOUT:g} s)"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach {store}"
    if isinstance(exc, ReadTimeoutError):
        return f"no answer from {store} within {READ_TIMEOUT:g} s"
    if exc is not None:
        return f"{operation} to {store} failed ({type(exc).__name__})"
    status = response[0].status_code if response else "?"
    code = ((response[1] if response else None) or {}).get("Error", {}).get("Code")
    named = f" {code}" if code and code != str(status) else ""  # HEAD has no body
    return f"{store} answered {operation} with {status}{named}"


def _check_endpoint(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise click.BadParameter(
                f"{redact_url(value)!r} is not an http(s) URL", ctx=ctx, param=param
            )
    return value


def s3_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the connection options; the command receives a ``conn`` argument."""

    @click.option(
        "--s3-prefix",
        required=True,
        envvar=PREFIX_VARIABLE,
        metavar="s3://BUCKET/PREFIX/",
        help="Where the saver stores its objects: bucket and the saver's prefix "
        f"(default: ${PREFIX_VARIABLE}).",
    )
    @click.option("--profile", help="AWS profile (default: the credential chain).")
    @click.option(
        "--region", help="AWS region of the bucket or the S3-compatible store."
    )
    @click.option(
        "--endpoint-url",
        callback=_check_endpoint,
        metavar="URL",
        help="Endpoint of an S3-compatible store (default: $AWS_ENDPOINT_URL_S3, "
        "else AWS).",
    )
    @click.option(
        "--expected-bucket-owner",
        metavar="ACCOUNT_ID",
        help="Send ExpectedBucketOwner with every request: S3 refuses a bucket "
        "another account owns.",
    )
    @debug_option
    @wraps(command)
    def wrapper(
        s3_prefix: str,
        profile: str | None,
        region: str | None,
        endpoint_url: str | None,
        expected_bucket_owner: str | None,
        **kwargs: Any,
    ) -> None:
        connection = Connection(
            s3_prefix, profile, region, endpoint_url, expected_bucket_owner
        )
        command(connection, **kwargs)

    return wrapper
