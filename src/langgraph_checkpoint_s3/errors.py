"""The exceptions the savers raise.

Every error names the S3 operation and key it concerns, so a log line is enough
to find the object at fault.
"""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

__all__ = [
    "BucketNotFoundError",
    "CheckpointConflictError",
    "ConditionalWritesError",
    "CorruptObjectError",
    "CredentialsError",
    "DeleteFailedError",
    "S3AccessError",
    "S3CheckpointError",
    "from_botocore",
]

_CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
)
_MISSING_BUCKET_CODES = frozenset({"NoSuchBucket", "404"})


class S3CheckpointError(Exception):
    """Base class of every error this package raises."""

    def __init__(self, message: str, *, operation: str = "", key: str = "") -> None:
        super().__init__(message)
        self.operation = operation
        self.key = key


class S3AccessError(S3CheckpointError):
    """S3 refused or failed a request (after botocore's retries)."""

    def __init__(
        self, message: str, *, operation: str = "", key: str = "", code: str = ""
    ) -> None:
        super().__init__(message, operation=operation, key=key)
        self.code = code


class CredentialsError(S3AccessError):
    """No usable AWS credentials, or the store rejected them."""


class BucketNotFoundError(S3AccessError):
    """The bucket does not exist."""


class CorruptObjectError(S3CheckpointError, ValueError):
    """A stored object is not valid JSON, not ours, of an unknown version, or not
    at the key its envelope names."""


class CheckpointConflictError(S3CheckpointError):
    """A checkpoint id was stored already, with different content; or a task's
    writes could not be stored whole because other callers kept replacing them."""


class ConditionalWritesError(S3CheckpointError):
    """The store ignores conditional writes (``If-None-Match``): a PUT of a key
    known to exist succeeded. See the savers' ``conditional_writes`` option."""


class DeleteFailedError(S3AccessError):
    """DeleteObjects reported keys it did not delete.

    ``failures`` holds each ``(key, "Code: message")``; the message counts
    them per code, naming one key of each, since the keys of a refusal are
    usually all refused alike (a read-only identity: every key AccessDenied).
    """

    def __init__(self, failures: Sequence[tuple[str, str]]) -> None:
        by_code: dict[str, list[str]] = {}
        for key, reason in failures:
            by_code.setdefault(reason.partition(":")[0].strip(), []).append(key)
        shown = ", ".join(
            f"{code or 'an error'} on {_keys(len(keys))} (such as {keys[0]})"
            for code, keys in by_code.items()
        )
        hint = (
            ": does this identity have s3:DeleteObject?"
            if "AccessDenied" in by_code
            else ""
        )
        super().__init__(
            f"DeleteObjects: {shown}{hint}",
            operation="DeleteObjects",
            key=failures[0][0] if failures else "",
            code=next(iter(by_code), ""),
        )
        self.failures = list(failures)


def _keys(count: int) -> str:
    return "1 key" if count == 1 else f"{count} keys"


def error_code(exc: ClientError) -> str:
    """The S3 error code of a ClientError (``NoSuchKey``, ``412``, ...)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def _from_s3(exc: ClientError) -> bool:
    """Whether an answer carries the request id S3 puts on every response
    (``x-amz-request-id``; moto's ``x-amzn-requestid``): a bare 404 without
    one is a web server's, not a missing bucket's."""
    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return any(name.lower().startswith("x-amz") for name in headers)


def from_botocore(
    exc: ClientError | BotoCoreError, *, operation: str, bucket: str, key: str = ""
) -> S3AccessError:
    """Wrap a botocore error with the operation and the key it concerns."""
    where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsError(
            f"{operation} {where}: {exc}", operation=operation, key=key
        )
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        text = f"{operation} {where} failed: {code}: {message}"
        if code in _CREDENTIAL_CODES:
            return CredentialsError(text, operation=operation, key=key, code=code)
        if code == "404" and not key and not _from_s3(exc):
            return S3AccessError(
                f"{operation} {where}: the endpoint does not look like S3: it "
                "answered 404 without S3's request id (x-amz-request-id); "
                "a web server, or a wrong port?",
                operation=operation,
                code=code,
            )
        if code in _MISSING_BUCKET_CODES and not key:
            return BucketNotFoundError(
                f"bucket {bucket!r} does not exist ({operation}: {code})",
                operation=operation,
                code=code,
            )
        if code == "NoSuchBucket":
            return BucketNotFoundError(text, operation=operation, key=key, code=code)
        return S3AccessError(text, operation=operation, key=key, code=code)
    # OpenSSL's reason when the other end answers a handshake in plain text.
    hint = (
        " (plain HTTP at an https:// URL?)"
        if "WRONG_VERSION_NUMBER" in str(exc)
        else ""
    )
    return S3AccessError(
        f"{operation} {where} failed: {exc}{hint}", operation=operation, key=key
    )
