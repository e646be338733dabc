"""The S3 key layout: build and parse every key the savers use.

Layout (``{prefix}`` is the saver's prefix, each ``{...}`` one encoded component)::

    {prefix}checkpoints/{thread_id}/{checkpoint_ns}/{checkpoint_id}.json
    {prefix}writes/{thread_id}/{checkpoint_ns}/{checkpoint_id}/{task_id}_{idx}.json
    {prefix}heads/{thread_id}/{checkpoint_ns}.json      (a hint, see .heads)
    {prefix}values/{thread_id}/{sha256}.json            (a shared value, see .shared)

Ids are user input, so every component goes through :func:`encode_component`,
which is injective and reversible, and leaves ordinary ids (uuids, ``a:1|b:2``,
``user@example.com``) untouched so keys read exactly as the layout shows.

A checkpoint id that needs escaping is written after a leading :data:`ODD_MARK`
(:func:`encode_checkpoint_id`). Percent-encoding does not keep the order of
ids (``1f\\x`` sorts above every uuid6 id of this century, ``1f%5Cx`` below),
so without the mark a listing that starts after a recent id could miss a
greater one. With it, such keys all sort after every key that begins with an
ASCII character, and sit together under one prefix, so a listing from a plain
ASCII bound sees every id at or above it (see :mod:`._recency`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_NAMESPACE",
    "MAX_KEY_BYTES",
    "ODD_MARK",
    "SUFFIX",
    "CheckpointRef",
    "Layout",
    "WriteRef",
    "decode_checkpoint_id",
    "decode_component",
    "encode_checkpoint_id",
    "encode_component",
    "percent_decoded",
]

DEFAULT_NAMESPACE = "__default__"
"""Stands for the empty string, so that no key has an empty path segment."""

MAX_KEY_BYTES = 1024
"""S3's limit on the length of a key, in UTF-8 bytes."""

SUFFIX = ".json"
"""Ends every object key."""

ODD_MARK = "\x7f"
"""Leads the key segment of a checkpoint id that needs escaping. DEL: above
every ASCII character, and never left raw in a segment (it is escaped), so a
segment that starts with it is unambiguous."""

_CHECKPOINTS = "checkpoints/"
_WRITES = "writes/"
_HEADS = "heads/"
_VALUES = "values/"
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _must_escape(ch: str) -> bool:
    # "%" is the escape itself; "/" and "\" would split a segment (some servers
    # turn "\" into "/"); control and non-characters break S3's XML listings.
    code = ord(ch)
    return (
        ch in "%/\\"
        or code < 0x20
        or 0x7F <= code <= 0x9F
        or code in (0xFFFE, 0xFFFF)
        or 0xD800 <= code <= 0xDFFF
    )


# The characters _must_escape names, for a fast test of a whole id: most ids
# (uuid6 checkpoint ids, task ids) have none and are used as they are.
_ESCAPED = re.compile("[%/\\\\\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def _escape(ch: str) -> str:
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))


def encode_component(value: str) -> str:
    """Encode one id as a key path segment; the inverse of :func:`decode_component`.

    ``""`` becomes ``__default__`` and a literal ``__default__`` becomes
    ``%5F_default__``; ``.`` and ``..`` are escaped so no server resolves them.
    """
    if value == "":
        return DEFAULT_NAMESPACE
    if value == DEFAULT_NAMESPACE:
        return "%5F" + value[1:]
    if value in (".", ".."):
        return "%2E" * len(value)
    if _ESCAPED.search(value) is None:
        return value
    return "".join(_escape(ch) if _must_escape(ch) else ch for ch in value)


def encode_checkpoint_id(value: str) -> str:
    """Encode a checkpoint id as a key segment: :func:`encode_component`, with
    :data:`ODD_MARK` in front when that had to change the id."""
    encoded = encode_component(value)
    return value if encoded == value else ODD_MARK + encoded


def decode_checkpoint_id(segment: str) -> str:
    """Decode a segment made by :func:`encode_checkpoint_id`; ValueError for
    any other (also for the unmarked escapes of other components)."""
    if segment.startswith(ODD_MARK):
        value = decode_component(segment[len(ODD_MARK) :])
        if encode_component(value) == value:
            raise ValueError(f"not a canonical checkpoint id segment: {segment!r}")
        return value
    if encode_component(segment) != segment:
        raise ValueError(f"not an encoded checkpoint id segment: {segment!r}")
    return segment


def percent_decoded(segment: str) -> str:
    """The text a segment's percent escapes (``%XX``, uppercase hex, of UTF-8
    bytes) stand for; ValueError for a bad escape or bytes that are not
    UTF-8. No canonical check: see :func:`decode_component`."""
    out = bytearray()
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "%":
            hex_digits = segment[i + 1 : i + 3]
            if len(hex_digits) != 2 or not all(
                c in "0123456789ABCDEF" for c in hex_digits
            ):
                raise ValueError(f"bad escape in key segment: {segment!r}")
            out.append(int(hex_digits, 16))
            i += 3
        else:
            out.extend(ch.encode("utf-8", "surrogatepass"))
            i += 1
    return out.decode("utf-8", "surrogatepass")


def decode_component(segment: str) -> str:
    """Decode a key path segment made by :func:`encode_component`.

    Raises ValueError for a segment that encoding could not have produced.
    """
    if segment == DEFAULT_NAMESPACE:
        return ""
    if "%" not in segment:
        if encode_component(segment) != segment:
            raise ValueError(f"not an encoded key segment: {segment!r}")
        return segment
    decoded = percent_decoded(segment)
    if encode_component(decoded) != segment:
        raise ValueError(f"not a canonical key segment: {segment!r}")
    return decoded


@dataclass(frozen=True, order=True)
class CheckpointRef:
    """Identity of one checkpoint."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str


@dataclass(frozen=True)
class WriteRef:
    """Identity of one pending write."""

    checkpoint: CheckpointRef
    task_id: str
    idx: int


@dataclass(frozen=True)
class Layout:
    """Builds and parses the keys under one prefix."""

    prefix: str = "checkpoints/"

    def __post_init__(self) -> None:
        if self.prefix and not self.prefix.endswith("/"):
            object.__setattr__(self, "prefix", self.prefix + "/")
        if self.prefix.startswith("/") or "//" in self.prefix:
            raise ValueError(f"prefix must not have empty segments: {self.prefix!r}")

    # -- prefixes (for LIST and delete) -------------------------------------

    def checkpoints_prefix(self) -> str:
        """Prefix of every checkpoint object."""
        return self.prefix + _CHECKPOINTS

    def writes_prefix(self) -> str:
        """Prefix of every write object."""
        return self.prefix + _WRITES

    def thread_checkpoints_prefix(self, thread_id: str) -> str:
        """Prefix of a thread's checkpoints, every namespace."""
        return self._checked(
            f"{self.checkpoints_prefix()}{encode_component(thread_id)}/", thread_id
        )

    def thread_writes_prefix(self, thread_id: str) -> str:
        """Prefix of a thread's writes, every namespace."""
        return self._checked(
            f"{self.writes_prefix()}{encode_component(thread_id)}/", thread_id
        )

    def namespace_checkpoints_prefix(self, thread_id: str, checkpoint_ns: str) -> str:
        """Prefix of one namespace's checkpoints."""
        return self._checked(
            self.thread_checkpoints_prefix(thread_id)
            + encode_component(checkpoint_ns)
            + "/",
            checkpoint_ns,
        )

    def namespace_writes_prefix(self, thread_id: str, checkpoint_ns: str) -> str:
        """Prefix of one namespace's writes."""
        return self._checked(
            self.thread_writes_prefix(thread_id)
            + encode_component(checkpoint_ns)
            + "/",
            checkpoint_ns,
        )

    def checkpoint_writes_prefix(self, ref: CheckpointRef) -> str:
        """Prefix (folder) of one checkpoint's writes."""
        return self._checked(
            self.namespace_writes_prefix(ref.thread_id, ref.checkpoint_ns)
            + encode_checkpoint_id(ref.checkpoint_id)
            + "/",
            ref.checkpoint_id,
        )

    def heads_prefix(self) -> str:
        """Prefix of every head (a hint; see :mod:`._heads`)."""
        return self.prefix + _HEADS

    def thread_heads_prefix(self, thread_id: str) -> str:
        """Prefix of a thread's heads, every namespace."""
        return self._checked(
            f"{self.heads_prefix()}{encode_component(thread_id)}/", thread_id
        )

    def values_prefix(self) -> str:
        """Prefix of every shared value (see :mod:`._shared`)."""
        return self.prefix + _VALUES

    def thread_values_prefix(self, thread_id: str) -> str:
        """Prefix of a thread's shared values, every namespace."""
        return self._checked(
            f"{self.values_prefix()}{encode_component(thread_id)}/", thread_id
        )

    # -- object keys --------------------------------------------------------

    def value_key(self, thread_id: str, digest: str) -> str:
        """Key of a shared value: its SHA-256, so one key never holds two
        contents."""
        return self._checked(
            self.thread_values_prefix(thread_id) + digest + SUFFIX, digest
        )

    def head_key(self, thread_id: str, checkpoint_ns: str) -> str:
        """Key of a namespace's head."""
        return self._checked(
            self.thread_heads_prefix(thread_id)
            + encode_component(checkpoint_ns)
            + SUFFIX,
            checkpoint_ns,
        )

    def checkpoint_key(self, ref: CheckpointRef) -> str:
        """Key of a checkpoint object."""
        return self._checked(
            self.namespace_checkpoints_prefix(ref.thread_id, ref.checkpoint_ns)
            + encode_checkpoint_id(ref.checkpoint_id)
            + SUFFIX,
            ref.checkpoint_id,
        )

    def write_key(self, ref: WriteRef) -> str:
        """Key of a write object."""
        return self._checked(
            self.checkpoint_writes_prefix(ref.checkpoint)
            + f"{encode_component(ref.task_id)}_{ref.idx}{SUFFIX}",
            ref.task_id,
        )

    # -- parsing ------------------------------------------------------------

    def parse_checkpoint_key(self, key: str) -> CheckpointRef | None:
        """The checkpoint a key names, or None for a key that is not one."""
        parts = self._split(key, self.checkpoints_prefix(), 3)
        if parts is None or not parts[2].endswith(SUFFIX):
            return None
        try:
            return CheckpointRef(
                decode_component(parts[0]),
                decode_component(parts[1]),
                decode_checkpoint_id(parts[2][: -len(SUFFIX)]),
            )
        except ValueError:
            return None

    def parse_write_key(self, key: str) -> WriteRef | None:
        """The pending write a key names, or None for a key that is not one."""
        parts = self._split(key, self.writes_prefix(), 4)
        if parts is None or not parts[3].endswith(SUFFIX):
            return None
        task, sep, idx = parts[3][: -len(SUFFIX)].rpartition("_")
        try:
            if not sep or idx != str(int(idx)):
                return None
            checkpoint = CheckpointRef(
                decode_component(parts[0]),
                decode_component(parts[1]),
                decode_checkpoint_id(parts[2]),
            )
            return WriteRef(checkpoint, decode_component(task), int(idx))
        except ValueError:
            return None

    def parse_head_key(self, key: str) -> tuple[str, str] | None:
        """The (thread_id, checkpoint_ns) a head key names, or None."""
        parts = self._split(key, self.heads_prefix(), 2)
        if parts is None or not parts[1].endswith(SUFFIX):
            return None
        try:
            return (
                decode_component(parts[0]),
                decode_component(parts[1][: -len(SUFFIX)]),
            )
        except ValueError:
            return None

    def parse_value_key(self, key: str) -> tuple[str, str] | None:
        """The (thread_id, sha256) a shared value's key names, or None."""
        parts = self._split(key, self.values_prefix(), 2)
        if parts is None or not parts[1].endswith(SUFFIX):
            return None
        digest = parts[1][: -len(SUFFIX)]
        if not _DIGEST.fullmatch(digest):
            return None
        try:
            return decode_component(parts[0]), digest
        except ValueError:
            return None

    def parse_thread(self, key: str) -> str | None:
        """The thread a checkpoint, write, head or value key belongs to."""
        roots = (
            self.checkpoints_prefix(),
            self.writes_prefix(),
            self.heads_prefix(),
            self.values_prefix(),
        )
        for root in roots:
            if key.startswith(root):
                segment = key[len(root) :].split("/", 1)[0]
                try:
                    return decode_component(segment)
                except ValueError:
                    return None
        return None

    @staticmethod
    def _split(key: str, root: str, count: int) -> list[str] | None:
        if not key.startswith(root):
            return None
        parts = key[len(root) :].split("/")
        return parts if len(parts) == count else None

    @staticmethod
    def _checked(key: str, culprit: str) -> str:
        size = len(key.encode("utf-8", "surrogatepass"))
        if size > MAX_KEY_BYTES:
            raise ValueError(
                f"id {culprit[:80]!r}{'...' if len(culprit) > 80 else ''} makes an "
                f"S3 key of {size} bytes; S3 allows at most {MAX_KEY_BYTES}"
            )
        return key
