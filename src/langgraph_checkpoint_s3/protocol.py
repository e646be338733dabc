"""The requests a plan makes, as plain data, and what S3's answers to them mean.

A plan (see :mod:`.plans`) yields a *round*: a list of requests that do not
depend on each other. A shell performs them, concurrently, and sends back one
result per request, in order. This module is the only place that knows how a
request becomes a botocore call and how S3's answer becomes a result: a 404 is
an absent object, a 412 a taken key, the ``Errors`` of DeleteObjects a failure.
Bodies are compressed on the way out and decompressed on the way in
(:mod:`._compression`), so plans only ever see the JSON documents. Both shells,
the in-memory test bucket and the CLI share it.
"""

from __future__ import annotations

import datetime
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from ._compression import DEFAULT_MIN_BYTES, compress, decompress
from .errors import CorruptObjectError, S3AccessError, from_botocore

__all__ = [
    "DELETE_BATCH",
    "PAGE_SIZE",
    "Delete",
    "Get",
    "HeadBucket",
    "List",
    "Listed",
    "Listing",
    "Plan",
    "Put",
    "Request",
    "RequestOptions",
    "Result",
    "Stepper",
    "Tagged",
    "batches_of",
    "call_of",
    "result_of",
    "result_of_error",
]

PAGE_SIZE = 1000
"""S3 returns at most 1,000 keys per LIST page."""

DELETE_BATCH = 1000
"""DeleteObjects takes at most 1,000 keys per request."""


@dataclass(frozen=True)
class Get:
    """GetObject. Result: the body, or None when the key does not exist; with
    ``tagged``, a :class:`Tagged` (body and ETag) for a later conditional
    overwrite. A ``hint`` read never fails its round: any error, and a body
    that does not decompress, read as None."""

    key: str
    tagged: bool = False
    hint: bool = False


@dataclass(frozen=True)
class Tagged:
    """An object's body and the ETag that names this version of it."""

    body: bytes
    etag: str


@dataclass(frozen=True)
class Put:
    """PutObject; with ``if_absent`` it carries ``If-None-Match: *``, with
    ``if_match`` an ``If-Match`` (replace only that version). Result: True when
    stored, False when the condition did not hold. A ``hint`` write never
    fails its round: any error reads as False (what it stores is only ever a
    hint, so it must not fail the write it goes with)."""

    key: str
    body: bytes
    if_absent: bool
    if_match: str | None = None
    hint: bool = False


@dataclass(frozen=True)
class List:
    """One page of ListObjectsV2. Result: a :class:`Listing`."""

    prefix: str
    start_after: str | None = None
    continuation: str | None = None
    delimiter: str | None = None
    max_keys: int = PAGE_SIZE


@dataclass(frozen=True)
class Delete:
    """DeleteObjects of at most 1,000 keys. Result: the ``(key, reason)`` of
    every key S3 reports it did not delete."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class HeadBucket:
    """HeadBucket. Result: None; a missing bucket or a refusal raises."""


Request: TypeAlias = Get | Put | List | Delete | HeadBucket


@dataclass(frozen=True)
class RequestOptions:
    """What every request a saver (or the CLI) sends should carry.

    Args:
        server_side_encryption: ``ServerSideEncryption`` of every object
            written (``"AES256"``, ``"aws:kms"``, ``"aws:kms:dsse"``).
        sse_kms_key_id: ``SSEKMSKeyId`` of every object written, with
            ``"aws:kms"``.
        storage_class: ``StorageClass`` of every object written.
        expected_bucket_owner: ``ExpectedBucketOwner`` (an account id) on
            every request: S3 refuses the request when another account owns
            the bucket.
        compress_min_bytes: Objects of at least this many bytes are stored
            gzip-compressed, with ``Content-Encoding: gzip`` (default 1024;
            see :mod:`._compression`); None stores every object as plain JSON.
            Reads take both, whatever this says.
    """

    server_side_encryption: str | None = None
    sse_kms_key_id: str | None = None
    storage_class: str | None = None
    expected_bucket_owner: str | None = None
    compress_min_bytes: int | None = DEFAULT_MIN_BYTES

    def __post_init__(self) -> None:
        if self.compress_min_bytes is not None and self.compress_min_bytes < 0:
            raise ValueError(
                f"compress_min_bytes must be None or >= 0, "
                f"not {self.compress_min_bytes!r}"
            )

    def on_write(self) -> dict[str, str]:
        """The PutObject arguments for a written object."""
        given = {
            "ServerSideEncryption": self.server_side_encryption,
            "SSEKMSKeyId": self.sse_kms_key_id,
            "StorageClass": self.storage_class,
        }
        return {name: value for name, value in given.items() if value}

    def on_every(self) -> dict[str, str]:
        """The arguments every request carries."""
        owner = self.expected_bucket_owner
        return {"ExpectedBucketOwner": owner} if owner else {}


@dataclass(frozen=True)
class Listed:
    """One key of a LIST page, with what LIST says of it."""

    key: str
    size: int = 0
    last_modified: datetime.datetime | None = None


@dataclass(frozen=True)
class Listing:
    """One LIST page: its objects, its common prefixes (with a delimiter), and
    the token of the next page (None on the last page)."""

    objects: tuple[Listed, ...] = ()
    prefixes: tuple[str, ...] = ()
    continuation: str | None = None


Result: TypeAlias = bytes | Tagged | bool | Listing | tuple[tuple[str, str], ...] | None

_T = TypeVar("_T")
Plan: TypeAlias = Generator[list[Request], list[Any], _T]
"""A generator that yields rounds of requests, receives one result per request
(in order) and returns its answer. A failed request is thrown into it."""

_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
_PRECONDITION_FAILED = frozenset({"PreconditionFailed", "412"})


def call_of(
    request: Request, bucket: str, options: RequestOptions | None = None
) -> tuple[str, dict[str, Any]]:
    """The client method and keyword arguments that perform ``request``."""
    options = options or RequestOptions()
    method, args = _call(request, bucket)
    if isinstance(request, Put):
        args.update(options.on_write())
        stored = compress(request.body, options.compress_min_bytes)
        args["Body"] = stored.body
        if stored.content_encoding is not None:
            args["ContentEncoding"] = stored.content_encoding
    return method, {**args, **options.on_every()}


def _call(request: Request, bucket: str) -> tuple[str, dict[str, Any]]:
    if isinstance(request, Get):
        return "get_object", {"Bucket": bucket, "Key": request.key}
    if isinstance(request, Put):
        args: dict[str, Any] = {
            "Bucket": bucket,
            "Key": request.key,
            "Body": request.body,
            "ContentType": "application/json",
        }
        if request.if_absent:
            args["IfNoneMatch"] = "*"
        if request.if_match is not None:
            args["IfMatch"] = request.if_match
        return "put_object", args
    if isinstance(request, List):
        args = {"Bucket": bucket, "Prefix": request.prefix, "MaxKeys": request.max_keys}
        if request.start_after:
            args["StartAfter"] = request.start_after
        if request.continuation:
            args["ContinuationToken"] = request.continuation
        if request.delimiter:
            args["Delimiter"] = request.delimiter
        return "list_objects_v2", args
    if isinstance(request, Delete):
        objects = [{"Key": key} for key in request.keys]
        return "delete_objects", {
            "Bucket": bucket,
            "Delete": {"Objects": objects, "Quiet": True},
        }
    return "head_bucket", {"Bucket": bucket}


def operation_of(request: Request) -> str:
    """The S3 operation name, for error messages."""
    return {
        Get: "GetObject",
        Put: "PutObject",
        List: "ListObjectsV2",
        Delete: "DeleteObjects",
        HeadBucket: "HeadBucket",
    }[type(request)]


def key_of(request: Request) -> str:
    """The key (or prefix) a request concerns, for error messages."""
    if isinstance(request, (Get, Put)):
        return request.key
    if isinstance(request, List):
        return request.prefix
    if isinstance(request, Delete):
        return request.keys[0] if request.keys else ""
    return ""


def result_of(request: Request, response: Mapping[str, Any]) -> Result:
    """The result of a request S3 answered with success. For a Get, the shell
    has read the body into ``response["Body"]`` as bytes; the result holds the
    document, decompressed when stored compressed (a corrupt gzip body raises
    CorruptObjectError naming the key)."""
    if isinstance(request, Get):
        try:
            body = decompress(request.key, response["Body"])
        except CorruptObjectError:
            if request.hint:
                return None
            raise
        return Tagged(body, str(response["ETag"])) if request.tagged else body
    if isinstance(request, Put):
        return True
    if isinstance(request, List):
        return Listing(
            objects=tuple(
                Listed(obj["Key"], int(obj.get("Size", 0)), obj.get("LastModified"))
                for obj in response.get("Contents", [])
            ),
            prefixes=tuple(p["Prefix"] for p in response.get("CommonPrefixes", [])),
            continuation=response.get("NextContinuationToken")
            if response.get("IsTruncated")
            else None,
        )
    if isinstance(request, Delete):
        return tuple(
            (str(e.get("Key", "")), f"{e.get('Code', '')}: {e.get('Message', '')}")
            for e in response.get("Errors", [])
        )
    return None


def result_of_error(request: Request, exc: Exception, bucket: str) -> Result:
    """The result of a request botocore raised for: an absent object for a Get
    that found nothing, a taken key for an if-absent Put; anything else raises
    the typed error that names the operation and key. A conditional Put whose
    condition failed is False: 412, or 404 for an ``If-Match`` on a key that is
    gone."""
    if isinstance(request, Get | Put) and request.hint:
        return None if isinstance(request, Get) else False
    error = from_botocore(
        exc,  # type: ignore[arg-type]
        operation=operation_of(request),
        bucket=bucket,
        key=key_of(request),
    )
    if isinstance(request, Get) and error.code in _NOT_FOUND:
        return None
    conditional = isinstance(request, Put) and (request.if_absent or request.if_match)
    if conditional and (
        error.code in _PRECONDITION_FAILED
        or (isinstance(request, Put) and request.if_match and error.code in _NOT_FOUND)
    ):
        return False
    raise error


def is_bare_refusal(exc: S3AccessError) -> bool:
    """A 403 without an S3 error code (HEAD answers have no body)."""
    return exc.code in ("403", "Forbidden")


def batches_of(keys: Sequence[str]) -> list[Delete]:
    """The DeleteObjects requests that delete ``keys``."""
    return [
        Delete(tuple(keys[i : i + DELETE_BATCH]))
        for i in range(0, len(keys), DELETE_BATCH)
    ]


@dataclass
class Stepper:
    """Drives one plan, without I/O: the shells' driver loops are
    ``while (round := stepper.next_round()) is not None: stepper.send(...)``.
    A failed round is handed back with :meth:`throw`, so a plan can catch it."""

    plan: Plan[Any]
    value: Any = None
    _pending: tuple[str, Any] = field(default=("send", None))

    def next_round(self) -> list[Request] | None:
        """The next round to perform, or None when the plan has returned."""
        how, what = self._pending
        try:
            if how == "throw":
                return self.plan.throw(what)
            return self.plan.send(what)
        except StopIteration as stop:
            self.value = stop.value
            return None

    def send(self, results: list[Any]) -> None:
        self._pending = ("send", results)

    def throw(self, exc: BaseException) -> None:
        self._pending = ("throw", exc)
