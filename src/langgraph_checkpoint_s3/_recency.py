r"""Finding a namespace's newest checkpoints from a few key listings, exactly.

S3 lists keys in ascending order only, 1,000 a page, so the newest checkpoint
of a long namespace is on its last page. A listing can start after a bound
instead: the key layout (:mod:`._keys`) puts every checkpoint id that needs
escaping under :data:`.keys.ODD_MARK`, above every ASCII key, so a listing
that starts after a plain ASCII *floor* sees every id at or above the floor
(an unlisted key is a plain id below it). Its answer is proven when the ``k``
newest it found are all at or above the floor (:func:`settled`); otherwise the
next floor is tried, and last a scan that needs none.

The floors, in the order a read tries them (this is the one statement of it;
:mod:`.plans._latest` follows it):

- ``get_tuple`` of the root namespace: the newest id this saver wrote or
  found there (:class:`.plans.RecentReads`); a recent time: LangGraph's ids
  are uuid6, time-ordered strings, so :func:`recent_floor` (a day ago)
  starts one short page before the newest ids of a namespace written lately,
  at any history length; the namespace's head (:mod:`._heads`), written every
  100 steps. A floor whose listing reached the end makes a higher one
  pointless: it is skipped.
- ``list(limit=k)``: the head first (for the k newest it lies a hundred steps
  or more back; no head means fewer than 100 steps, which the scan's first
  page reads whole).
- below ``before``: an hour before the bound's own time (:func:`floor_below`),
  read up to :func:`ceiling`, with the escaped ids listed under their mark.
- any other namespace (a subgraph's): its first page first; LangGraph names
  those namespaces after their task, so most are empty or short.

The scan, for whatever no floor settles (a namespace idle for a day without a
head, a store that refuses StartAfter), never jumps blind either:

1. the namespace's pages are read in order, for up to 1,000 checkpoints
   (everything), and on while they are dense (a few 27-second buckets each);
2. past a spread page (last key ``K``), the keys are listed *rolled up* with
   ``Delimiter="-"``: a uuid6 id has its first ``-`` after 8 hex digits
   (2^28 * 100 ns, about 27 seconds), so each such *bucket* of ids comes back
   as one common prefix, while every other key (a marked one, or one without
   a ``-``) shows itself, whole or by the text before its first ``-``;
3. only the buckets that could hold one of the k newest ids are listed.

Step 2 first starts at an :func:`anchor` toward a guess (the current time, or
``before``): the shortest block of ids around the guess whose skipped keys
provably hold smaller ids, given that every key up to ``K`` was read. Only if
that block holds fewer than k answers is everything after ``K`` rolled up.

Pure: the plans in :mod:`.plans._latest` perform the LISTs.

"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._keys import ODD_MARK, SUFFIX, encode_checkpoint_id, percent_decoded

if TYPE_CHECKING:
    from ._keys import CheckpointRef

__all__ = [
    "BUCKET_DELIMITER",
    "RECENT_NS",
    "SPREAD_BUCKETS",
    "Region",
    "anchor",
    "ascending",
    "ceiling",
    "decode_prefix",
    "floor_below",
    "floor_of",
    "may_hold",
    "newest_ids",
    "now_prefix",
    "recent_floor",
    "refused",
    "regions_after",
    "settled",
    "spread",
    "uuid6_prefix",
    "uuid6_time",
]

BUCKET_DELIMITER = "-"
"""The delimiter that rolls uuid6 ids up into 27-second buckets."""

_REFUSED = frozenset({"InvalidArgument", "InvalidRequest", "NotImplemented"})


def refused(code: str) -> bool:
    """Whether an S3 error code says a LIST option is not supported (S3 Express
    One Zone directory buckets refuse StartAfter and delimiters other than
    ``/``)."""
    return code in _REFUSED


@dataclass(frozen=True)
class Region:
    """Keys not listed yet: every key under ``prefix`` (after ``start_after``),
    whose ids all begin with ``id_prefix``."""

    prefix: str
    start_after: str | None
    id_prefix: str


def decode_prefix(segment: str) -> str | None:
    """The ids' common beginning for a key segment cut short (at a ``-``).

    Percent escapes are decoded by :func:`.keys.percent_decoded` (after the
    mark of an escaped id); a cut never splits one, since ``-`` is not a
    hex digit. None when the text is not the beginning of any encoded id (no
    checkpoint lies under it).
    """
    if segment.startswith(ODD_MARK):
        segment = segment[len(ODD_MARK) :]
    try:
        return percent_decoded(segment)
    except ValueError:
        return None


def may_hold(id_prefix: str, above: str | None, below: str | None) -> bool:
    """Whether some id that begins with ``id_prefix`` could lie strictly between
    ``above`` and ``below`` (None: unbounded). Never False when one could; may
    be True when none does (that costs a LIST, not an answer)."""
    if below is not None and id_prefix >= below:
        return False  # every such id is >= id_prefix >= below
    if above is None or id_prefix > above:
        return True
    # id_prefix <= above: only ids extending ``above`` itself can pass it.
    return above.startswith(id_prefix) and (below is None or below > above)


def regions_after(
    prefix: str, after: str | None, folders: Iterable[str]
) -> list[Region]:
    """The regions a bucket listing after key ``after`` leaves unread: each
    common prefix it returned, and the bucket ``after`` itself lies in (S3 may
    or may not return that one; its keys past ``after`` are unread either way).
    Prefixes no encoded id can begin with are dropped."""
    found: dict[str, Region] = {}
    for folder in folders:
        id_prefix = decode_prefix(folder[len(prefix) :])
        if folder.startswith(prefix) and id_prefix is not None:
            found[folder] = Region(folder, None, id_prefix)
    if after is not None and after.startswith(prefix):
        stem = after[len(prefix) :]
        cut = stem.find(BUCKET_DELIMITER)
        if cut >= 0:
            folder = prefix + stem[: cut + 1]
            id_prefix = decode_prefix(stem[: cut + 1])
            if id_prefix is not None:
                found[folder] = Region(folder, after, id_prefix)
    return list(found.values())


_UUID_EPOCH = 0x01B21DD213814000
"""100-ns intervals from the uuid epoch (1582-10-15) to the Unix epoch."""


def uuid6_prefix(unix_ns: int) -> str:
    """The time fields of a uuid6 id made at ``unix_ns``, as LangGraph writes
    them (``1f1e7c6c-2624-6475``): every id made later sorts after it."""
    stamp = unix_ns // 100 + _UUID_EPOCH
    return f"{stamp >> 28:08x}-{(stamp >> 12) & 0xFFFF:04x}-6{stamp & 0xFFF:03x}"


def now_prefix(now_ns: int) -> str:
    """:func:`uuid6_prefix` of the time now (``now_ns``, from the saver's
    clock)."""
    return uuid6_prefix(now_ns)


_UUID6 = re.compile(
    r"([0-9a-f]{8})-([0-9a-f]{4})-6([0-9a-f]{3})-[0-9a-f]{4}-[0-9a-f]{12}"
)


def uuid6_time(checkpoint_id: str) -> int | None:
    """When a uuid6 id was made (ns since the Unix epoch); None for other ids."""
    match = _UUID6.fullmatch(checkpoint_id)
    if match is None:
        return None
    high, mid, low = (int(part, 16) for part in match.groups())
    return ((high << 28 | mid << 12 | low) - _UUID_EPOCH) * 100


RECENT_NS = 86_400 * 10**9
"""How far back :func:`recent_floor` starts: a day."""

BELOW_NS = 3_600 * 10**9
"""How far before ``before`` :func:`floor_below` starts: an hour."""


def recent_floor(now_ns: int) -> str:
    """The floor of a namespace written in the last day before ``now_ns``: a
    uuid6 prefix."""
    return uuid6_prefix(now_ns - RECENT_NS)


def _plain(checkpoint_id: str) -> bool:
    """Whether the id's key segment is the id itself (not escaped)."""
    return encode_checkpoint_id(checkpoint_id) == checkpoint_id


def floor_of(checkpoint_id: str) -> str | None:
    """A floor at ``checkpoint_id``: the id itself, when its key segment is
    the id and starts with an ASCII character; None for any other id."""
    ascii_led = checkpoint_id[:1] < ODD_MARK
    return checkpoint_id if _plain(checkpoint_id) and ascii_led else None


def floor_below(below: str) -> str | None:
    """A floor for the ids below ``below``: an hour before its time, for a
    uuid6 ``below``; None for any other id."""
    made = uuid6_time(below)
    return uuid6_prefix(made - BELOW_NS) if made is not None else None


def ceiling(below: str) -> str:
    """The greatest key text (after the namespace prefix) that a plain id
    below ``below`` can have: keys are ``{id}.json``, and ``.`` sorts above
    ``-``, so ``1f1e7c6c.json`` (a prefix of a uuid6 id, so a smaller id) sorts
    after every ``1f1e7c6c-...`` key. A listing of a plain ``below``'s ids can
    stop past it; escaped ids are elsewhere, under their mark."""
    plain = [below[:end] for end in range(1, len(below) + 1) if _plain(below[:end])]
    return max(stem + SUFFIX for stem in plain) if plain else ""


def settled(
    refs: Iterable[CheckpointRef], floor: str, count: int, below: str | None
) -> list[CheckpointRef] | None:
    """The ``count`` newest of ``refs`` (below ``below``) when a listing from
    ``floor`` proves them: they are all at or above the floor, and every key it
    did not list is a smaller id. None when it does not."""
    best = newest_ids(refs, count, below)
    return best if len(best) == count and best[-1].checkpoint_id >= floor else None


def anchor(last: str, guess: str) -> str | None:
    """Where to roll the keys up from, toward ``guess``, after every key up to
    ``last`` was read (both as key text after the namespace prefix; ``guess``
    encoded). None when there is nothing to skip.

    The anchor is ``guess`` cut just past its first difference with ``last``.
    Every key between ``last`` and the anchor then begins with their common
    part and a plain character below the guess's, so its id sorts below the
    anchor. (This held for percent escapes anywhere in a key; under the
    layout's mark, escaped ids sort above every ASCII key and are never
    skipped, so it holds a fortiori.) A guess that reaches the mark or past
    it (a non-ASCII id, ``é``) would put escaped ids below the anchor, whose
    own ids may be greater (``\ufffe``): no anchor then.
    """
    common = 0
    while common < min(len(last), len(guess)) and last[common] == guess[common]:
        common += 1
    if common == len(guess) or common == len(last) or last[common] > guess[common]:
        return None
    cut = guess[: common + 1]
    if min(cut) <= "%" or last[common] <= "%" or max(cut) >= ODD_MARK:
        return None
    return cut


SPREAD_BUCKETS = 10
"""A page whose keys fall in this many buckets or more is *spread*: rolling
the rest of the namespace up is then worth its LIST."""


def spread(prefix: str, keys: Iterable[str]) -> bool:
    """Whether the keys of a page fall in at least :data:`SPREAD_BUCKETS`
    buckets. A namespace written in bursts (LangGraph's steps, a few per
    invocation, minutes apart) is spread; one written in a tight loop is not,
    and its next pages are as cheap to read as its buckets would be."""
    buckets = {key[len(prefix) :].split(BUCKET_DELIMITER, 1)[0] for key in keys}
    return len(buckets) >= SPREAD_BUCKETS


def ascending(keys: Sequence[str]) -> bool:
    """Whether a page came in S3's order (UTF-8 bytes, strictly ascending).
    Within one namespace every key is a file of one folder, so SeaweedFS's
    folder walk lists them in this order too; S3 Express One Zone directory
    buckets do not."""
    encoded = [key.encode("utf-8", "surrogatepass") for key in keys]
    return all(a < b for a, b in itertools.pairwise(encoded))


def newest_ids(
    refs: Iterable[CheckpointRef], count: int, below: str | None
) -> list[CheckpointRef]:
    """The ``count`` checkpoints with the highest ids (below ``below``),
    highest first, as InMemorySaver orders them: ids compared as strings."""
    wanted = [r for r in refs if below is None or r.checkpoint_id < below]
    wanted.sort(key=lambda r: r.checkpoint_id, reverse=True)
    return wanted[:count]
