"""Long histories, made fast: the objects a saver writes, captured without a
server and stored in the moto child in bulk.

Through HTTP, moto stores a few hundred objects a second, so a history of
10,000 checkpoints (30,000 objects with their writes) would take minutes per
saver. Instead the saver itself writes the history to a :class:`CaptureClient`
(an in-memory stand-in for a boto3 client that honours conditional writes),
and the captured ``put_object`` calls, headers included, are sent to the moto
child in a few requests that it stores directly in its backend. The calls the
benchmark then measures are real calls through the savers over HTTP.

The moto side (:func:`store_in_moto`, :func:`bytes_in_moto`) runs in the child
process; :func:`upload` and :func:`stored_bytes` are the parent's side.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import urllib.request
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

__all__ = [
    "BYTES_PATH",
    "SEED_PATH",
    "CaptureClient",
    "bytes_in_moto",
    "store_in_moto",
    "stored_bytes",
    "upload",
]

SEED_PATH = "/__bench__/seed"
BYTES_PATH = "/__bench__/bytes"
_CHUNK = 2000  # objects per upload request

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _client_error(code: str, status: int, operation: str) -> Exception:
    from botocore.exceptions import ClientError

    response: Any = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


class _NoEvents:
    def register(self, *args: Any, **kwargs: Any) -> None:
        """The saver registers a retry handler; no request is ever retried."""


class CaptureClient:
    """The boto3 calls a saver makes, answered from memory; ``puts`` keeps
    the keyword arguments of every stored ``put_object``, by key."""

    def __init__(self) -> None:
        self.puts: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.meta = SimpleNamespace(
            events=_NoEvents(), config=SimpleNamespace(max_pool_connections=16)
        )

    @staticmethod
    def _etag(body: bytes) -> str:
        return '"' + hashlib.md5(body).hexdigest() + '"'

    def head_bucket(self, **kwargs: Any) -> dict[str, Any]:
        return {}

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        key, body = kwargs["Key"], bytes(kwargs["Body"])
        with self._lock:
            found = self.puts.get(key)
            if kwargs.get("IfNoneMatch") == "*" and found is not None:
                raise _client_error("PreconditionFailed", 412, "PutObject")
            if "IfMatch" in kwargs:
                if found is None:
                    raise _client_error("NoSuchKey", 404, "PutObject")
                if self._etag(found["Body"]) != kwargs["IfMatch"]:
                    raise _client_error("PreconditionFailed", 412, "PutObject")
            self.puts[key] = {**kwargs, "Body": body}
        return {"ETag": self._etag(body)}

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        import io

        with self._lock:
            found = self.puts.get(kwargs["Key"])
        if found is None:
            raise _client_error("NoSuchKey", 404, "GetObject")
        body = found["Body"]
        answer = {"Body": io.BytesIO(body), "ETag": self._etag(body)}
        if found.get("ContentEncoding"):
            answer["ContentEncoding"] = found["ContentEncoding"]
        return answer

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        # Histories are written forward only: nothing a put looks up is listed.
        return {"Contents": [], "KeyCount": 0, "IsTruncated": False}

    def delete_objects(self, **kwargs: Any) -> dict[str, Any]:
        return {}


def _encoded(put: Mapping[str, Any]) -> dict[str, Any]:
    headers = {
        "Content-Type": put.get("ContentType"),
        "Content-Encoding": put.get("ContentEncoding"),
        "Cache-Control": put.get("CacheControl"),
        **{f"x-amz-meta-{k}": v for k, v in (put.get("Metadata") or {}).items()},
    }
    return {
        "key": put["Key"],
        "body": base64.b64encode(put["Body"]).decode(),
        "headers": {k: v for k, v in headers.items() if v},
        "storage": put.get("StorageClass"),
    }


def upload(endpoint: str, bucket: str, puts: Sequence[Mapping[str, Any]]) -> int:
    """Store captured ``put_object`` calls in ``bucket`` of the moto child;
    the number of objects stored."""
    stored = 0
    for start in range(0, len(puts), _CHUNK):
        chunk = [_encoded(p) for p in puts[start : start + _CHUNK]]
        request = urllib.request.Request(
            f"{endpoint}{SEED_PATH}?bucket={bucket}",
            data=json.dumps(chunk).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with _OPENER.open(request, timeout=120) as answer:
            stored += int(json.loads(answer.read())["stored"])
    return stored


def stored_bytes(endpoint: str, bucket: str) -> tuple[int, int]:
    """Objects and bytes in ``bucket`` of the moto child (no S3 request)."""
    url = f"{endpoint}{BYTES_PATH}?bucket={bucket}"
    with _OPENER.open(url, timeout=60) as answer:
        found = json.loads(answer.read())
    return int(found["objects"]), int(found["bytes"])


# -- the moto child's side ------------------------------------------------------


def _backend(bucket: str) -> Any:
    from moto.s3.models import s3_backends

    partition, account = s3_backends.bucket_accounts[bucket]
    return s3_backends[account][partition]


def store_in_moto(bucket: str, objects: Sequence[Mapping[str, Any]]) -> int:
    """Store uploaded objects straight in moto's backend, headers included."""
    backend = _backend(bucket)
    for obj in objects:
        key = backend.put_object(
            bucket,
            obj["key"],
            base64.b64decode(obj["body"]),
            storage=obj.get("storage"),
        )
        key.set_metadata(dict(obj["headers"]))
    return len(objects)


def bytes_in_moto(bucket: str) -> dict[str, int]:
    """The number and total size of the current objects of ``bucket``."""
    keys = _backend(bucket).get_bucket(bucket).keys
    sizes = [key.size for key in keys.values()]
    return {"objects": len(sizes), "bytes": sum(sizes)}
