"""Large values stored once per thread, and what a saver remembers of them.

A checkpoint holds every channel's value, so a large value that stays the
same from step to step (a document given at the input, an image) would be
stored again in every checkpoint. Instead, a value of at least
:data:`DEFAULT_SHARE_BYTES` serialized bytes is stored inline the first time
the saver meets it, as before; the first time a checkpoint would store it
again, it goes to an object of its own, ``values/{thread}/{sha256}.json``,
written once, and that checkpoint and every later one refer to it by its
SHA-256. A value that changes at every step stays inline, so such a graph
still costs one PUT per checkpoint; a value that stays costs one more PUT
once, and its bytes once.

The key is the hash of the value's serializer tag and bytes, so a key never
holds two contents: two writers storing one value, or a retried ``put``,
write the same object, and a reader checks the hash of what it reads. The
value object is written in a round before the checkpoint that refers to it,
so no checkpoint is ever stored that refers to a value that is not.

What a saver remembers (:class:`SharedValues`) are hints: the values it knows
are stored (it wrote or read them), the values it met inline once, the
stored value of each channel version it placed or read (the saver's channel
versions are unique, so an unchanged channel is referred to without being
serialized again: a serializer whose bytes differ at every call, as
EncryptedSerializer's do, would otherwise give a new hash at every step),
and the bytes of values it read or wrote lately, under a byte bound, so a
thread resumed by the same process reads no more than it did before.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final

from .envelopes import SharedRef, TypedValue

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "DEFAULT_SHARE_BYTES",
    "ChannelVersion",
    "SharedValues",
    "channel_version",
    "digest_of",
]

DEFAULT_SHARE_BYTES: Final = 16 * 1024
"""Values this long (serialized) or longer are stored once per thread. A
reference costs about 100 bytes in each checkpoint, and the value one PUT
($5 per million) and, to a reader that has not got it, one GET in a round it
mostly makes anyway (the pending writes'); a 16 KiB copy costs that PUT's
price in storage in about a year ($0.023 per GB-month), and every step that
copies it uploads and compresses it again. Below it, a separate object saves
less than it costs."""

DEFAULT_CACHE_BYTES: Final = 64 * 1024 * 1024
"""Serialized bytes of shared values a saver keeps in memory (least recently
used go first): enough for a few hundred documents of 100 KB, so a thread
this process writes and reads back costs no GET for them."""

ChannelVersion = tuple[str, str, str, str]
"""(thread_id, checkpoint_ns, channel, version): one value of one channel."""


def channel_version(
    thread_id: str, checkpoint_ns: str, channel: str, versions: Mapping[str, Any]
) -> ChannelVersion | None:
    """The version a checkpoint's ``channel_versions`` gives a channel, as
    the saver remembers it (versions may be ints, floats or strings); None
    for a channel it gives none."""
    if channel not in versions:
        return None
    return (thread_id, checkpoint_ns, channel, str(versions[channel]))


_KNOWN = 65536
"""(thread, value) pairs a saver remembers as stored or as met inline
(about 150 bytes each)."""


def digest_of(typed: tuple[str, bytes]) -> str:
    """The SHA-256 a value is stored under: of its tag, a NUL byte (which no
    tag holds) and its bytes, so one tag's bytes never pass for another's."""
    tag, data = typed
    return hashlib.sha256(tag.encode("utf-8") + b"\0" + data).hexdigest()


class SharedValues:
    """The rule that places each value (:meth:`place`) and a saver's memory
    of its threads' shared values. Bounded and safe to share between threads;
    a saver's copies start with nothing remembered."""

    def __init__(
        self,
        *,
        threshold: int | None = DEFAULT_SHARE_BYTES,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        if threshold is not None and threshold < 0:
            raise ValueError(f"shared_value_bytes must be >= 0 or None: {threshold}")
        if cache_bytes < 0:
            raise ValueError(f"value_cache_bytes must be >= 0: {cache_bytes}")
        self.threshold = threshold
        self.cache_bytes = cache_bytes
        self._lock = threading.Lock()
        self._stored: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._met: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._cache: OrderedDict[tuple[str, str], TypedValue] = OrderedDict()
        self._cached = 0
        self._versions: OrderedDict[ChannelVersion, SharedRef] = OrderedDict()

    def shares(self, typed: tuple[str, bytes]) -> bool:
        """Whether a value this long is stored once per thread."""
        return self.threshold is not None and len(typed[1]) >= self.threshold

    def known(self, version: ChannelVersion) -> SharedRef | None:
        """The stored value of a channel version, when the saver knows it."""
        with self._lock:
            ref = self._versions.get(version)
            if ref is not None:
                self._versions.move_to_end(version)
            return ref

    def saw_version(self, version: ChannelVersion, ref: SharedRef) -> None:
        """Remember the stored value of a channel version."""
        with self._lock:
            self._versions[version] = ref
            self._versions.move_to_end(version)
            while len(self._versions) > _KNOWN:
                self._versions.popitem(last=False)

    def place(
        self,
        thread_id: str,
        typed: tuple[str, bytes],
        changed: bool,
        version: ChannelVersion | None = None,
    ) -> tuple[TypedValue | SharedRef, str | None]:
        """Where a checkpoint stores a value: inline, or a reference; with the
        hash of a value object to write first, when one is needed. ``changed``:
        the value is new at this checkpoint (its channel is in ``new_versions``);
        ``version``: the channel version it is the value of."""
        if not self.shares(typed):
            return TypedValue.of(typed), None
        digest = digest_of(typed)
        ref = SharedRef(sha256=digest, size=len(typed[1]))
        where = (thread_id, digest)
        with self._lock:
            stored = where in self._stored
            if stored:
                self._stored.move_to_end(where)
            elif changed and where not in self._met:
                _remember(self._met, where)
                return TypedValue.of(typed), None
        if stored:
            if version is not None:
                self.saw_version(version, ref)
            return ref, None
        return ref, digest

    def met(self, thread_id: str, typed: tuple[str, bytes]) -> None:
        """Remember a value stored inline elsewhere (a pending write): the
        next checkpoint that holds it refers to it instead."""
        if self.shares(typed):
            with self._lock:
                _remember(self._met, (thread_id, digest_of(typed)))

    def stored(self, thread_id: str, digest: str, value: TypedValue | None) -> None:
        """Remember a value object as stored, with its value when known."""
        where = (thread_id, digest)
        with self._lock:
            _remember(self._stored, where)
            if value is None or where in self._cache:
                return
            size = _size(value)
            if size > self.cache_bytes:
                return
            self._cache[where] = value
            self._cached += size
            while self._cached > self.cache_bytes:
                _, dropped = self._cache.popitem(last=False)
                self._cached -= _size(dropped)

    def cached(self, thread_id: str, digest: str) -> TypedValue | None:
        """The value of a shared value object, when this saver holds it."""
        where = (thread_id, digest)
        with self._lock:
            value = self._cache.get(where)
            if value is not None:
                self._cache.move_to_end(where)
            return value

    def forget(self, thread_id: str, digests: set[str] | None = None) -> None:
        """Drop what is remembered of a thread's values (all, or ``digests``):
        they were deleted."""
        with self._lock:
            for version in [
                v
                for v, ref in self._versions.items()
                if v[0] == thread_id and (digests is None or ref.sha256 in digests)
            ]:
                del self._versions[version]
            for entries in (self._stored, self._met, self._cache):
                for where in [
                    w
                    for w in entries
                    if w[0] == thread_id and (digests is None or w[1] in digests)
                ]:
                    value = entries.pop(where)
                    if isinstance(value, TypedValue):
                        self._cached -= _size(value)

    def __getstate__(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "cache_bytes": self.cache_bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]


def _size(value: TypedValue) -> int:
    return len(value.text or value.data or "")


def _remember(
    entries: OrderedDict[tuple[str, str], None], key: tuple[str, str]
) -> None:
    entries[key] = None
    entries.move_to_end(key)
    while len(entries) > _KNOWN:
        entries.popitem(last=False)
