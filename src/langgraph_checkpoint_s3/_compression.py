"""When a stored object is compressed, and how a reader gets its JSON back.

An object of at least :data:`DEFAULT_MIN_BYTES` is stored gzip-compressed,
with ``Content-Encoding: gzip``. S3 keeps the bytes as given and returns the
header with them, so an HTTP client (a presigned URL in a browser, curl,
urllib, requests) decodes the JSON document the schemas describe, while
botocore hands over the compressed bytes as stored: the savers decompress them
here.

A reader goes by the body, not by the header: gzip's magic bytes ``1f 8b``
cannot start a JSON document (JSON allows only whitespace before its value),
so a body that starts with them is compressed and any other body is JSON as it
stands. Objects stored before compression, or by a writer with it turned off,
read the same; so does a compressed object copied by a tool that dropped the
header, or one a proxy has already decoded.

Compression is deterministic (no timestamp in the gzip header), so a retried
PUT sends the same bytes; whatever compares stored objects compares their
decompressed bytes anyway.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

from .errors import CorruptObjectError

__all__ = [
    "DEFAULT_MIN_BYTES",
    "GZIP",
    "LEVEL",
    "Encoded",
    "compress",
    "decompress",
    "is_compressed",
]

GZIP = "gzip"
"""The ``Content-Encoding`` of a compressed object."""

DEFAULT_MIN_BYTES = 1024
"""Objects smaller than this are stored as they are. gzip saves only about a
fifth of an envelope of a few hundred bytes (its header, trailer and block
overhead are some 20 bytes): a few dollar cents per million objects a year,
when their PUTs cost dollars; left plain, they stay readable by tools that
ignore ``Content-Encoding``."""

LEVEL = 6
"""zlib's default level. On text-heavy checkpoints (``benchmarks/stored_bytes.py``)
level 9 saves at most 2% more for up to 2.4 times the CPU time; level 1 is 3
to 5 times faster but stores 18 to 28% more."""

_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 31  # zlib's gzip container: header with mtime 0, CRC-32 trailer


@dataclass(frozen=True)
class Encoded:
    """A body as it is stored, and its ``Content-Encoding`` (None: as given)."""

    body: bytes
    content_encoding: str | None = None


def compress(body: bytes, min_bytes: int | None = DEFAULT_MIN_BYTES) -> Encoded:
    """``body`` as stored: gzip when it has at least ``min_bytes`` bytes and
    compressing makes it smaller, else unchanged. ``min_bytes`` None turns
    compression off."""
    if min_bytes is None or len(body) < min_bytes:
        return Encoded(body)
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    packed = packer.compress(body) + packer.flush()
    return Encoded(packed, GZIP) if len(packed) < len(body) else Encoded(body)


def is_compressed(body: bytes) -> bool:
    """Whether a stored body is gzip (it starts with gzip's magic bytes)."""
    return body[:2] == _MAGIC


def decompress(key: str, body: bytes) -> bytes:
    """The document a stored body holds: decompressed when it is gzip, as it
    is otherwise. A gzip body that does not decompress (truncated, bad
    checksum, garbage after the magic bytes) is a :class:`.CorruptObjectError`
    naming ``key``."""
    if not is_compressed(body):
        return body
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptObjectError(
            f"{key}: not a valid gzip stream ({type(exc).__name__}: {exc})",
            operation="GetObject",
            key=key,
        ) from None
