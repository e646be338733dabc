"""Where the data is when a command finds none: an empty result says so on
stderr, and names the prefix one level up or down that holds a saver's data
(a prefix off by one level is the usual slip: the saver's default prefix puts
the data under ``s3://bucket/checkpoints/``, not ``s3://bucket/``).

Loaded by the commands once they have a saver; the probes are plans run on it,
LISTs of one key each, made only for an empty (or suspect) result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import plans
from .._keys import Layout
from ..protocol import List, Plan
from .app import CliError, ExitCode, say

if TYPE_CHECKING:
    from ..saver import S3CheckpointSaver

__all__ = [
    "LAYOUT_FOLDERS",
    "PROBED_FOLDERS",
    "SHOWN_NAMESPACES",
    "elsewhere_hint",
    "holds_data",
    "namespaces_hint",
    "nearby",
    "note_empty",
    "refuse_layout_folders",
    "suspect_keys",
    "suspect_threads",
    "uri_of",
    "where",
]

PROBED_FOLDERS = 16
"""How many folders of the prefix are probed for a saver's data."""

LAYOUT_FOLDERS = frozenset({"checkpoints", "writes", "heads", "values"})
"""The folders of a saver's layout: ``threads`` one level too high shows them
as thread ids."""


def uri_of(bucket: str, prefix: str) -> str:
    """``s3://bucket/prefix`` as the user types it."""
    return f"s3://{bucket}/{prefix}"


def where(saver: S3CheckpointSaver) -> str:
    """The saver's bucket and prefix, as an ``s3://`` URI."""
    return uri_of(saver.bucket_name, saver.layout.prefix)


def holds_data(layout: Layout) -> Plan[bool]:
    """Whether a saver's checkpoints are under the layout's prefix: the first
    key of its ``checkpoints/`` (one LIST of one key) is a checkpoint key."""
    (page,) = yield from plans.perform([List(layout.checkpoints_prefix(), max_keys=1)])
    return any(layout.parse_checkpoint_key(obj.key) for obj in page.objects)


def _parent(prefix: str) -> str | None:
    """The prefix one level up (``a/b/`` -> ``a/``, ``a/`` -> ``""``)."""
    if not prefix:
        return None
    head, _, _ = prefix.rstrip("/").rpartition("/")
    return f"{head}/" if head else ""


def nearby(layout: Layout) -> Plan[list[str]]:
    """The prefixes one level up or down that hold a saver's data, when the
    layout's own prefix holds none ([] when it does: the data is here).

    One LIST; when the prefix holds nothing, one more for its folders and one
    for its parent, then one per folder (at most :data:`PROBED_FOLDERS`).
    """
    if (yield from holds_data(layout)):
        return []
    parent = _parent(layout.prefix)
    listed, up = yield from plans.concurrently(
        plans.list_objects(layout.prefix, delimiter="/"),
        holds_data(Layout(parent)) if parent is not None else _nothing(),
    )
    folders = [f for f in listed[1] if _valid(f)][:PROBED_FOLDERS]
    down = yield from plans.concurrently(*(holds_data(Layout(f)) for f in folders))
    found = [parent] if up and parent is not None else []
    return found + [f for f, held in zip(folders, down, strict=True) if held]


def _nothing() -> Plan[bool]:
    return False
    yield  # a plan that makes no request


def _valid(prefix: str) -> bool:
    try:
        Layout(prefix)
    except ValueError:
        return False
    return True


def note_empty(
    saver: S3CheckpointSaver,
    what: str,
    found: Sequence[str] = (),
    *,
    probe: bool = True,
) -> None:
    """Say on stderr that ``what`` is empty (``no threads under s3://...``),
    and where a saver's data is if a neighbouring prefix holds some.
    ``found``: those prefixes, when already probed; ``probe=False`` when the
    prefix is known to hold data (no need to look elsewhere)."""
    say(f"note: {what}{elsewhere_hint(saver, found, probe=probe)}")


def elsewhere_hint(
    saver: S3CheckpointSaver, found: Sequence[str] = (), *, probe: bool = True
) -> str:
    """``; a saver's data is under s3://... (pass --s3-prefix s3://...)``
    when a prefix nearby holds a saver's data (``found``, or probed unless
    ``probe=False``), else ``""``: the tail of a message saying that
    something is missing."""
    elsewhere = list(found)
    if not elsewhere and probe:
        elsewhere = saver.run(nearby(saver.layout))
    if not elsewhere:
        return ""
    uris = [uri_of(saver.bucket_name, prefix) for prefix in elsewhere]
    return (
        f"; a saver's data is under {' and '.join(uris)} (pass --s3-prefix {uris[0]})"
    )


SHOWN_NAMESPACES = 5
"""How many of a thread's namespaces a message names."""


def namespaces_hint(
    saver: S3CheckpointSaver, thread_id: str, checkpoint_ns: str
) -> str:
    """When ``checkpoint_ns`` holds no checkpoint of the thread but others
    do: ``; thread 't' has checkpoints in namespaces 'a:1', ''``, those that
    start with ``checkpoint_ns`` first (a subgraph's namespace is its node's
    name, ``:``, the task id: the name alone is the usual slip). One LIST per
    1,000 of the thread's checkpoints; ``""`` when there is nothing to add."""
    refs = saver.run(plans.thread_checkpoints(saver.context, thread_id))
    namespaces = {ref.checkpoint_ns for ref in refs}
    if not namespaces or checkpoint_ns in namespaces:
        return ""
    held = sorted(
        namespaces, key=lambda ns: (not ns.startswith(f"{checkpoint_ns}:"), ns)
    )
    shown = ", ".join(repr(ns) for ns in held[:SHOWN_NAMESPACES])
    more = len(held) - SHOWN_NAMESPACES
    noun = "namespace" if len(held) == 1 else "namespaces"
    return (
        f"; thread {thread_id!r} has checkpoints in {noun} {shown}"
        + (f" and {more} more" if more > 0 else "")
        + " (pass one as --checkpoint-ns)"
    )


def suspect_threads(saver: S3CheckpointSaver, threads: Sequence[str]) -> list[str]:
    """For ``threads``: the prefixes that hold a saver's data when the thread
    ids found are only the layout's own folder names (a prefix one level too
    high); [] otherwise."""
    if not threads or not set(threads) <= LAYOUT_FOLDERS:
        return []
    return saver.run(nearby(saver.layout))


def suspect_keys(saver: S3CheckpointSaver, keys: Sequence[str]) -> list[str]:
    """:func:`suspect_threads` for the keys a listing of the prefix found."""
    layout = saver.layout
    threads = {t for key in keys if (t := layout.parse_thread(key)) is not None}
    return suspect_threads(saver, sorted(threads))


def refuse_layout_folders(saver: S3CheckpointSaver, thread_ids: Sequence[str]) -> None:
    """Before deleting: refuse when a "thread" is a folder of a saver's layout
    one level down (``checkpoints``, ``writes``), since deleting it would
    delete that saver's data whole, every thread at once."""
    named = sorted(set(thread_ids) & LAYOUT_FOLDERS)
    if not named:
        return
    elsewhere = saver.run(nearby(saver.layout))
    if not elsewhere:
        return
    uri = uri_of(saver.bucket_name, elsewhere[0])
    raise CliError(
        f"refusing to delete: {' and '.join(map(repr, named))} under "
        f"{uri_of(saver.bucket_name, saver.layout.prefix)} "
        f"{'is a folder' if len(named) == 1 else 'are folders'} of the saver "
        f"whose data is under {uri}, not a thread (pass --s3-prefix {uri}); "
        "nothing was deleted",
        ExitCode.RUNTIME,
    )
