"""The one warning a saver gives when its serializer would run code that
stored values name.

LangGraph's ``JsonPlusSerializer`` rebuilds a stored object by importing the
module and calling the name the stored bytes carry. Unless strict mode is on
(``LANGGRAPH_STRICT_MSGPACK=true`` when LangGraph is imported) or the
serializer was given ``allowed_msgpack_modules``, any importable callable
qualifies; with ``pickle_fallback=True`` it also unpickles, strict or not. So
whoever can write under a saver's prefix can run code in every process that
loads a thread from it. ``EncryptedSerializer`` does not change that: a value
stored without its cipher's tag goes to the inner serializer undecrypted.

LangGraph logs a warning per type it rebuilds that way, but only for types it
meets: a graph whose state is plain data and LangChain messages never sees
one, and a planted value is reported after it ran. This warning is given once
per process, when the first such saver is made, before anything is read.
"""

from __future__ import annotations

import sys
import threading
import warnings
from types import FrameType

from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

__all__ = ["PermissiveSerializerWarning", "runs_stored_names", "warn_if_permissive"]

_PACKAGE = __name__.rpartition(".")[0]
_lock = threading.Lock()
_warned = False


class PermissiveSerializerWarning(UserWarning):
    """A saver reads checkpoints with a serializer that imports and calls
    whatever stored values name: LangGraph's in permissive mode."""


def runs_stored_names(serde: SerializerProtocol) -> bool:
    """Whether ``serde`` is LangGraph's ``JsonPlusSerializer`` (itself, or
    inside an ``EncryptedSerializer``) set to rebuild any type a stored value
    names (strict mode was off when LangGraph was imported, and no
    ``allowed_msgpack_modules`` was given) or to unpickle.

    Any other serializer is not judged: its rules are its own.
    """
    if isinstance(serde, EncryptedSerializer):
        serde = serde.serde
    if not isinstance(serde, JsonPlusSerializer):
        return False
    # LangGraph keeps the mode only here: True is "allow any type", None or a
    # set is strict. Should the attribute go away, only pickle is judged.
    allows_any = getattr(serde, "_allowed_msgpack_modules", None) is True
    return allows_any or bool(serde.pickle_fallback)


def warn_if_permissive(serde: SerializerProtocol, location: str) -> bool:
    """Warn, once per process, that the saver reading ``location`` (e.g.
    ``s3://bucket/prefix/``) runs what stored values name (see
    :func:`runs_stored_names`).

    The warning is a :class:`PermissiveSerializerWarning` attributed to the
    first caller outside this package (the line that made the saver), so
    ``warnings.filterwarnings("ignore", category=PermissiveSerializerWarning)``
    silences it. Returns whether this call gave it.
    """
    global _warned
    if not runs_stored_names(serde):
        return False
    with _lock:
        if _warned:
            return False
        _warned = True
    warnings.warn(
        f"{location} is read with LangGraph's serializer in permissive mode: a "
        "stored value can name any importable callable and loading the thread "
        "calls it, so whoever can write under this prefix can run code in this "
        "process. Set LANGGRAPH_STRICT_MSGPACK=true before langgraph is "
        "imported (compiled graphs then also allow the types of their state "
        "schema), or pass serde=JsonPlusSerializer(allowed_msgpack_modules="
        "[...]); do not enable pickle_fallback. See docs/security.md of "
        "langgraph-checkpoint-s3.",
        PermissiveSerializerWarning,
        stacklevel=_first_frame_outside_package(),
    )
    return True


def _first_frame_outside_package() -> int:
    """The ``stacklevel`` of the nearest caller that is not this package, as
    seen from :func:`warn_if_permissive` (Python 3.12's ``skip_file_prefixes``
    does this, but 3.10 is supported)."""
    level = 1
    frame: FrameType | None = sys._getframe(2)  # warn_if_permissive's caller
    while frame is not None:
        level += 1
        module = frame.f_globals.get("__name__", "")
        if module != _PACKAGE and not module.startswith(_PACKAGE + "."):
            break
        frame = frame.f_back
    return level
