"""An S3 bucket in memory, and a saver on it: plans run with no server.

:class:`MemoryBucket` answers the boto3 calls the shells make
(``get_object``, ``put_object``, ``list_objects_v2``, ``delete_objects``,
``head_bucket``, with boto3's keyword arguments) the way S3 does, errors
included (botocore ``ClientError`` with S3's codes). :meth:`MemoryBucket.run`
drives a plan exactly as the shells do: each request goes through
``protocol.call_of``, the answer through ``protocol.result_of`` or
``protocol.result_of_error``, and a failed round is thrown into the plan. It
counts requests per kind and rounds, so every budget of docs/design.md §4 is asserted
exactly, in milliseconds.

:class:`SeaweedFSBucket` lists as SeaweedFS 4.x does (docs/design.md §2), as observed on
the server (``test_requests.py`` compares both buckets with real servers):

- keys come in the order of a folder walk: path segments compared one by one,
  so ``t1/...`` lists before ``t1-b/...`` (S3: ``t1-b/`` first, ``-`` < ``/``);
- StartAfter follows the walk: a folder whose name equals StartAfter's segment
  at that depth is skipped whole unless StartAfter goes on below it, so
  StartAfter ``p/t1`` skips everything under ``p/t1/``;
- a folder lingers after its last key is deleted: it is still a CommonPrefix of
  a delimiter listing (the server drops some empty leaf folders from listings
  of a partial name; this model keeps them all, the stricter choice);
- ``\\`` is stored as ``/``, ``//`` collapses, a ``.`` or ``..`` segment is an
  InvalidRequest.
"""

from __future__ import annotations

import base64
import builtins
import datetime
import hashlib
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from langgraph.checkpoint.serde.base import SerializerProtocol

from langgraph_checkpoint_s3 import plans
from langgraph_checkpoint_s3._base import PlanSaver
from langgraph_checkpoint_s3._keys import MAX_KEY_BYTES
from langgraph_checkpoint_s3._shared import DEFAULT_CACHE_BYTES, DEFAULT_SHARE_BYTES
from langgraph_checkpoint_s3.protocol import (
    DELETE_BATCH,
    PAGE_SIZE,
    Delete,
    Get,
    HeadBucket,
    List,
    Plan,
    Put,
    Request,
    RequestOptions,
    Result,
    Stepper,
    call_of,
    result_of,
    result_of_error,
)

__all__ = [
    "Cost",
    "MemoryBucket",
    "MemorySaver",
    "SeaweedFSBucket",
    "Stored",
    "client_error",
]

_T = TypeVar("_T")

Fault = Callable[[Request], None]
"""Called before each request is performed; it may raise (a botocore
``ClientError`` is mapped as the shells map S3's answers, anything else is
thrown into the plan as it is) or change the bucket (a key deleted between a
LIST and its GET)."""

Order = Callable[[list[Request]], list[int]]
"""The order in which a round's requests reach the bucket (a permutation of
their indices): concurrent requests land in any order."""

DeleteRefusal = Callable[[str], "tuple[str, str] | None"]
"""For each key of a DeleteObjects: the ``(Code, Message)`` of a per-key
``Errors`` entry (the key stays), or None to delete it."""


def client_error(
    code: str, message: str = "", *, status: int = 400, operation: str = "S3"
) -> ClientError:
    """The ClientError botocore raises for an S3 error answer (S3 gives
    every answer a request id; a bare 404 without one is not S3's)."""
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {
            "HTTPStatusCode": status,
            "HTTPHeaders": {"x-amz-request-id": "MEMORY"},
        },
    }
    return ClientError(response, operation)


@dataclass(frozen=True)
class Stored:
    """One object: its bytes as stored (compressed ones too, as S3 keeps
    them), what LIST says of it, and its ``Content-Encoding``."""

    body: bytes
    last_modified: datetime.datetime
    size: int
    content_encoding: str | None = None

    @property
    def etag(self) -> str:
        return '"' + hashlib.md5(self.body).hexdigest() + '"'


_KINDS = {Get: "get", Put: "put", List: "list", Delete: "delete", HeadBucket: "head"}


@dataclass
class Cost:
    """Requests per kind, and rounds (sequential round trips), of some calls.
    ``log`` holds the rounds themselves; it takes no part in comparisons."""

    rounds: int = 0
    get: int = 0
    put: int = 0
    list: int = 0
    delete: int = 0
    head: int = 0
    log: builtins.list[builtins.list[Request]] = field(
        default_factory=builtins.list, compare=False, repr=False
    )

    @property
    def requests(self) -> int:
        """Every request, whatever its kind."""
        return self.get + self.put + self.list + self.delete + self.head

    def operations(self) -> dict[str, int]:
        """The counts by S3 operation name, as botocore counts them."""
        names = {
            "get": "GetObject",
            "put": "PutObject",
            "list": "ListObjectsV2",
            "delete": "DeleteObjects",
            "head": "HeadBucket",
        }
        return {
            names[f.name]: getattr(self, f.name)
            for f in fields(self)
            if f.name in names and getattr(self, f.name)
        }

    def _count(self, request: Request) -> None:
        kind = _KINDS[type(request)]
        setattr(self, kind, getattr(self, kind) + 1)


def _encode_token(last: str, is_prefix: bool) -> str:
    raw = json.dumps([last, is_prefix]).encode()
    return "mem1-" + base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str) -> tuple[str, bool]:
    try:
        if not token.startswith("mem1-"):
            raise ValueError(token)
        last, is_prefix = json.loads(base64.urlsafe_b64decode(token[5:]))
        return str(last), bool(is_prefix)
    except ValueError:
        raise client_error(
            "InvalidArgument", "The continuation token provided is incorrect"
        ) from None


class MemoryBucket:
    """One S3 bucket in a dict, with S3's semantics: keys listed in UTF-8 byte
    order, at most 1,000 a page (``MaxKeys`` honoured below that), StartAfter,
    ContinuationToken, Delimiter with CommonPrefixes, ``If-None-Match: *``,
    DeleteObjects of at most 1,000 keys with per-key Errors, HeadBucket. A
    ``ContentEncoding`` is kept with the bytes as given and returned by
    GetObject, which, like botocore, never decodes the body.

    Args:
        name: The bucket's name; a request for another bucket is NoSuchBucket.
        exists: False makes every request find no bucket (HeadBucket: 404).
        fault: See :data:`Fault`.
        refuse_delete: See :data:`DeleteRefusal`.
        order: See :data:`Order`; default: as listed.
    """

    def __init__(
        self,
        name: str = "bucket",
        *,
        exists: bool = True,
        fault: Fault | None = None,
        refuse_delete: DeleteRefusal | None = None,
        order: Order | None = None,
    ) -> None:
        self.name = name
        self.exists = exists
        self.fault = fault
        self.refuse_delete = refuse_delete
        self.order = order
        self.objects: dict[str, Stored] = {}
        self.cost = Cost()
        self._meters: list[Cost] = []
        self._lock = threading.RLock()
        self._clock = itertools.count()
        self._epoch = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)

    # -- what a plan sees ---------------------------------------------------------

    def run(self, plan: Plan[_T], options: RequestOptions | None = None) -> _T:
        """Drive a plan to its answer, as the shells do: one round at a time,
        every request of a round performed (in :attr:`order`) with a saver's
        ``options``, the first failure (in the round's order) thrown in."""
        stepper = Stepper(plan)
        while (requests := stepper.next_round()) is not None:
            assert requests, "a plan yielded an empty round"
            self._count_round(requests)
            results: list[Any] = [None] * len(requests)
            failures: dict[int, Exception] = {}
            order = self.order(requests) if self.order else range(len(requests))
            assert sorted(order) == list(range(len(requests)))
            for i in order:
                try:
                    results[i] = self.perform(requests[i], options)
                except Exception as exc:
                    failures[i] = exc
            if failures:  # the first in the round's order, as a shell raises
                stepper.throw(failures[min(failures)])
            else:
                stepper.send(results)
        value: _T = stepper.value
        return value

    def perform(
        self, request: Request, options: RequestOptions | None = None
    ) -> Result:
        """One request, counted, answered as a shell would answer it."""
        with self._lock:
            for meter in self._meters_now():
                meter._count(request)
        method, kwargs = call_of(request, self.name, options)
        try:
            if self.fault is not None:
                self.fault(request)
            with self._lock:
                response = getattr(self, method)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            return result_of_error(request, exc, self.name)
        return result_of(request, response)

    @contextmanager
    def measure(self) -> Iterator[Cost]:
        """What the calls inside the block cost."""
        cost = Cost()
        with self._lock:
            self._meters.append(cost)
        try:
            yield cost
        finally:
            with self._lock:
                self._meters.remove(cost)

    def ordered_keys(self) -> list[str]:
        """Every key, in listing order."""
        return sorted(self.objects, key=self._order)

    def put_raw(
        self, key: str, body: bytes, content_encoding: str | None = None
    ) -> None:
        """Store an object without a request (a foreign or corrupt object)."""
        self.put_object(
            Bucket=self.name, Key=key, Body=body, ContentEncoding=content_encoding
        )

    def _meters_now(self) -> list[Cost]:
        return [self.cost, *self._meters]

    def _count_round(self, requests: list[Request]) -> None:
        with self._lock:
            for meter in self._meters_now():
                meter.rounds += 1
                meter.log.append(list(requests))

    # -- the S3 API, with boto3's argument names -------------------------------

    def head_bucket(self, *, Bucket: str) -> dict[str, Any]:
        if Bucket != self.name or not self.exists:
            raise client_error("404", "Not Found", status=404, operation="HeadBucket")
        return {}

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        self._bucket(Bucket, "GetObject")
        stored = self.objects.get(self._stored_key(Key))
        if stored is None:
            raise client_error(
                "NoSuchKey", "The specified key does not exist.", status=404
            )
        response: dict[str, Any] = {
            "Body": stored.body,
            "ContentLength": stored.size,
            "ETag": stored.etag,
        }
        if stored.content_encoding is not None:
            response["ContentEncoding"] = stored.content_encoding
        return response

    def put_object(
        self,
        *,
        Bucket: str,
        Key: str,
        Body: bytes,
        ContentType: str | None = None,
        ContentEncoding: str | None = None,
        IfNoneMatch: str | None = None,
        IfMatch: str | None = None,
    ) -> dict[str, Any]:
        self._bucket(Bucket, "PutObject")
        key = self._stored_key(Key)
        if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            raise client_error("KeyTooLongError", "Your key is too long.")
        if IfMatch is not None and key not in self.objects:
            raise client_error(
                "NoSuchKey", "The specified key does not exist.", status=404
            )
        if (IfNoneMatch == "*" and key in self.objects) or (
            IfMatch is not None and self.objects[key].etag != IfMatch
        ):
            raise client_error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                status=412,
            )
        when = self._epoch + datetime.timedelta(seconds=next(self._clock))
        self.objects[key] = Stored(bytes(Body), when, len(Body), ContentEncoding)
        self._created(key)
        return {"ETag": self.objects[key].etag}

    def delete_objects(self, *, Bucket: str, Delete: dict[str, Any]) -> dict[str, Any]:
        self._bucket(Bucket, "DeleteObjects")
        objects = Delete["Objects"]
        if not objects or len(objects) > DELETE_BATCH:
            raise client_error("MalformedXML", "The XML you provided was not valid")
        errors = []
        for item in objects:
            key = item["Key"]
            refusal = self.refuse_delete(key) if self.refuse_delete else None
            if refusal is not None:
                errors.append({"Key": key, "Code": refusal[0], "Message": refusal[1]})
            else:
                self.objects.pop(self._stored_key(key), None)
        return {"Errors": errors} if errors else {}

    def list_objects_v2(
        self,
        *,
        Bucket: str,
        Prefix: str = "",
        MaxKeys: int = PAGE_SIZE,
        StartAfter: str | None = None,
        ContinuationToken: str | None = None,
        Delimiter: str | None = None,
    ) -> dict[str, Any]:
        self._bucket(Bucket, "ListObjectsV2")
        max_keys = max(0, min(MaxKeys, PAGE_SIZE))
        names = [k for k in self.objects if k.startswith(Prefix)]
        if Delimiter:
            names += [d for d in self._folders(Prefix, Delimiter) if d != Prefix]
        names.sort(key=self._order)
        if StartAfter:
            names = [n for n in names if self._after(n, StartAfter)]
        if ContinuationToken:
            last, is_prefix = _decode_token(ContinuationToken)
            names = [
                n
                for n in names
                if self._order(n) > self._order(last)
                and not (is_prefix and n.startswith(last))
            ]
        entries: list[tuple[str, bool]] = []  # (key or common prefix, is_prefix)
        truncated = False
        for name in names:
            rest = name[len(Prefix) :]
            at = rest.find(Delimiter) if Delimiter else -1
            entry = (
                (Prefix + rest[: at + len(Delimiter or "")], True)
                if at >= 0
                else (name, False)
            )
            if entries and entries[-1] == entry:
                continue  # a key under the common prefix just given
            if len(entries) == max_keys:
                truncated = bool(entries)  # MaxKeys=0: an empty page, no token
                break
            entries.append(entry)
        response: dict[str, Any] = {
            "Contents": [
                {
                    "Key": name,
                    "Size": self.objects[name].size,
                    "LastModified": self.objects[name].last_modified,
                }
                for name, is_prefix in entries
                if not is_prefix
            ],
            "CommonPrefixes": [{"Prefix": name} for name, p in entries if p],
            "KeyCount": len(entries),
            "IsTruncated": truncated,
        }
        if truncated:
            response["NextContinuationToken"] = _encode_token(*entries[-1])
        return response

    # -- where S3 and its look-alikes differ -------------------------------------

    def _order(self, key: str) -> tuple[bytes, ...]:
        """The listing order: UTF-8 bytes."""
        return (key.encode("utf-8", "surrogatepass"),)

    def _after(self, key: str, start_after: str) -> bool:
        """Whether StartAfter lets ``key`` through."""
        return self._order(key) > self._order(start_after)

    def _stored_key(self, key: str) -> str:
        """The key an object is stored at."""
        return key

    def _created(self, key: str) -> None:
        """A key was stored."""

    def _folders(self, prefix: str, delimiter: str) -> list[str]:
        """Folders a delimiter listing shows besides those of live keys."""
        return []

    def _bucket(self, name: str, operation: str) -> None:
        if name != self.name or not self.exists:
            raise client_error(
                "NoSuchBucket",
                "The specified bucket does not exist",
                status=404,
                operation=operation,
            )


class SeaweedFSBucket(MemoryBucket):
    """A bucket that lists, stores and remembers folders as SeaweedFS does (see
    the module docstring)."""

    def __init__(self, name: str = "bucket", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.folders: set[str] = set()
        """Every folder a key was ever stored under; none is ever removed."""

    def _order(self, key: str) -> tuple[bytes, ...]:
        return tuple(s.encode("utf-8", "surrogatepass") for s in key.split("/"))

    def _after(self, key: str, start_after: str) -> bool:
        walked, bound = key.split("/"), start_after.split("/")
        for depth, segment in enumerate(bound):
            if depth >= len(walked):
                return False
            mine, theirs = (
                s.encode("utf-8", "surrogatepass") for s in (walked[depth], segment)
            )
            if mine != theirs:
                return mine > theirs
            if depth == len(bound) - 1:
                return False  # the folder (or file) StartAfter names: skipped
        return False

    def _stored_key(self, key: str) -> str:
        key = key.replace("\\", "/")
        while "//" in key:
            key = key.replace("//", "/")
        key = key.lstrip("/")
        if any(segment in (".", "..") for segment in key.split("/")):
            raise client_error("InvalidRequest", "Invalid Request")
        return key

    def _created(self, key: str) -> None:
        for at, ch in enumerate(key):
            if ch == "/":
                self.folders.add(key[: at + 1])

    def _folders(self, prefix: str, delimiter: str) -> list[str]:
        if delimiter != "/":
            return []
        return [f for f in self.folders if f.startswith(prefix)]


class MemorySaver(PlanSaver):
    """The savers' API on a :class:`MemoryBucket`: the very plans the S3
    savers run, with no server. Checks the bucket at construction, as they do.

    Args:
        bucket: The bucket (a new :class:`MemoryBucket` when omitted).
        prefix: Prefix of every key (default ``"checkpoints/"``).
        serde: The serializer, as for every saver.
        conditional_writes: As for every saver.
        request_options: As for every saver (here: whether, and above what
            size, objects are stored compressed).
        shared_value_bytes, value_cache_bytes: As for every saver.
    """

    def __init__(
        self,
        bucket: MemoryBucket | None = None,
        *,
        prefix: str = "checkpoints/",
        serde: SerializerProtocol | None = None,
        conditional_writes: bool = True,
        request_options: RequestOptions | None = None,
        shared_value_bytes: int | None = DEFAULT_SHARE_BYTES,
        value_cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self.bucket = bucket if bucket is not None else MemoryBucket()
        super().__init__(
            self.bucket.name,
            prefix=prefix,
            request_options=request_options,
            conditional_writes=conditional_writes,
            shared_value_bytes=shared_value_bytes,
            value_cache_bytes=value_cache_bytes,
            serde=serde,
        )
        self.run(plans.check_bucket(self.context))

    def run(self, plan: Plan[_T]) -> _T:
        """Run a plan on the bucket."""
        return self.bucket.run(plan, self.request_options)

    async def arun(self, plan: Plan[_T]) -> _T:
        """Run a plan on the bucket (nothing to wait for)."""
        return self.bucket.run(plan, self.request_options)
