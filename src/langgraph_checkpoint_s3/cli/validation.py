"""Why a stored object is invalid, from its key and its body alone (no I/O).

An object under the prefix must be a checkpoint, a write or a head key; its
body must be JSON, match the envelope's JSON Schema (checked with a generic
validator, as a consumer in another language would, not with our Pydantic
models), and repeat the identity its key names (:func:`.codec.misplacement`;
for a head, its thread and namespace). A checkpoint or write must also hold
values the CLI's strict serializer can decode (:func:`why_undecodable`); a
head holds none (see :mod:`.._heads`).

The value rule: a value whose tag LangGraph's ``JsonPlusSerializer`` reads
(:data:`JSONPLUS_TAGS`) must decode with the strict serializer (``pickle``:
must be a well-formed pickle stream, checked without unpickling). A value with
any other tag is written by a serializer the CLI does not have, such as
``EncryptedSerializer`` (``msgpack+aes``, readable only with its key): it is
not checked, and not a failure.

Warnings: a checkpoint with two or more ``loop`` children was branched by
racing writers (:mod:`.lineage`); nothing is invalid, so it is reported
apart (:class:`Lineages`) and does not fail validation.
"""

from __future__ import annotations

import json
import pickletools
from collections.abc import Container
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .._codec import (
    decode_checkpoint,
    decode_metadata,
    decode_write,
    fields_misplaced,
    load_checkpoint,
    load_value,
    misplacement,
    stand_ins,
)
from .._keys import CheckpointRef, Layout, WriteRef
from ..envelopes import (
    CHECKPOINT_SCHEMA,
    HEAD_SCHEMA,
    VALUE_SCHEMA,
    WRITE_SCHEMA,
    CheckpointEnvelope,
    envelope_schemas,
)
from ..errors import CorruptObjectError
from .lineage import Key, concurrent_children

if TYPE_CHECKING:
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from .rendering import JSON

__all__ = [
    "JSONPLUS_TAGS",
    "UNEXPECTED_KEY",
    "Lineages",
    "decode_value",
    "schema_of",
    "schema_validators",
    "why_invalid",
    "why_undecodable",
]

UNEXPECTED_KEY = (
    "unexpected key: neither a checkpoint, a write, a head nor a shared value key"
)

JSONPLUS_TAGS = frozenset({"null", "bytes", "bytearray", "json", "msgpack", "pickle"})
"""The tags ``JsonPlusSerializer.loads_typed`` reads (``pickle`` only with
``pickle_fallback``); any other tag is another serializer's."""

SHOWN_VALUES = 5
"""How many undecodable values of one object are described in its reason."""


@cache
def schema_validators() -> dict[str, Draft202012Validator]:
    """A validator per envelope schema, by its file name in ``schemas/`` (the
    committed files are these schemas; a test fails when they drift)."""
    validators = {}
    for name, schema in envelope_schemas().items():
        Draft202012Validator.check_schema(schema)
        validators[name] = Draft202012Validator(schema)
    return validators


@dataclass(frozen=True)
class _HeadRef:
    """The namespace a head key names."""

    thread_id: str
    checkpoint_ns: str


@dataclass(frozen=True)
class _ValueRef:
    """The shared value a value key names."""

    thread_id: str
    digest: str


_Ref = CheckpointRef | WriteRef | _HeadRef | _ValueRef


def _expected(layout: Layout, key: str) -> tuple[_Ref, str] | None:
    """What the key names, and the schema of the object it names."""
    if (checkpoint := layout.parse_checkpoint_key(key)) is not None:
        return checkpoint, CHECKPOINT_SCHEMA
    if (write := layout.parse_write_key(key)) is not None:
        return write, WRITE_SCHEMA
    if (head := layout.parse_head_key(key)) is not None:
        return _HeadRef(*head), HEAD_SCHEMA
    if (value := layout.parse_value_key(key)) is not None:
        return _ValueRef(*value), VALUE_SCHEMA
    return None


def schema_of(layout: Layout, key: str) -> str | None:
    """The schema an object at ``key`` must match, or None when the key is
    neither a checkpoint, a write, a head nor a shared value (nothing to fetch: it is
    unexpected)."""
    expected = _expected(layout, key)
    return None if expected is None else expected[1]


def why_invalid(
    layout: Layout,
    key: str,
    body: bytes | None,
    stored: Container[str] | None = None,
) -> str | None:
    """Why the object at ``key`` is not a valid checkpoint, write, head or
    shared value sitting at its own key, or None when it is. ``body`` None
    means it vanished since it was listed: nothing to report. A key that is
    none of them needs no body. With ``stored`` (the keys listed), a
    checkpoint that refers to a shared value not among them is invalid."""
    expected = _expected(layout, key)
    if expected is None:
        return UNEXPECTED_KEY
    if body is None:
        return None
    ref, schema = expected
    try:
        document = json.loads(body)
    except ValueError:
        return "not a JSON document"
    error = best_match(schema_validators()[schema].iter_errors(document))
    if error is not None:
        return f"does not match {schema}: {error.json_path}: {_short(error.message)}"
    if isinstance(ref, _HeadRef):
        # The checkpoint a head names may be any: it is a hint, checked by
        # the readers that use it.
        place = [
            (("thread_id",), ref.thread_id),
            (("checkpoint_ns",), ref.checkpoint_ns),
        ]
        why = fields_misplaced(document, place)
        return None if why is None else f"misplaced: {why}"
    if isinstance(ref, _ValueRef):
        try:
            value = load_value(key, body, ref.thread_id, ref.digest)
        except CorruptObjectError as exc:
            return _without_key(key, str(exc))
        try:
            decode_value(value.typed())
        except Exception as exc:
            return f"value: cannot decode its {value.type!r} value ({exc})"
        return None
    if (why := misplacement(document, ref)) is not None:
        return f"misplaced: {why}"
    if stored is not None and isinstance(ref, CheckpointRef):
        env = CheckpointEnvelope.model_validate_json(body)
        for channel, shared in env.shared().items():
            wanted = layout.value_key(ref.thread_id, shared.sha256)
            if wanted not in stored:
                return (
                    f"channel {channel!r} refers to the shared value {wanted}, "
                    "which is not stored"
                )
    return why_undecodable(key, body, ref)


def decode_value(typed: tuple[str, bytes]) -> Any:
    """Decode a stored value as :func:`why_undecodable` checks it; raises when a
    value of a JsonPlusSerializer tag does not decode. A ``pickle`` value is
    only parsed (never unpickled) and gives None, as does any other tag."""
    tag, data = typed
    if tag == "pickle":
        try:
            for _ in pickletools.genops(data):  # parses opcodes, runs nothing
                pass
        except Exception as exc:
            raise ValueError(f"not a well-formed pickle stream: {exc}") from None
        return None
    if tag in JSONPLUS_TAGS:
        return _strict().loads_typed(typed)
    return None


@cache
def _strict() -> JsonPlusSerializer:
    from .rendering import strict_serializer

    return strict_serializer()


class _Probe:
    """A serde for :func:`.codec.decode_checkpoint` / :func:`.codec.decode_write`
    that checks each value with :func:`decode_value`, notes the position of
    each one that fails, and raises only for the failure at ``raise_at``: the
    codec then names the key and the field of that value."""

    def __init__(self, raise_at: int | None = None) -> None:
        self.failed: list[int] = []
        self._calls = 0
        self._raise_at = raise_at

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        raise NotImplementedError("validation never writes")

    def loads_typed(self, data: tuple[str, bytes]) -> None:
        position = self._calls
        self._calls += 1
        try:
            decode_value(data)
        except Exception:
            self.failed.append(position)
            if position == self._raise_at:
                raise


def _decode(
    probe: _Probe, key: str, body: bytes, ref: CheckpointRef | WriteRef
) -> None:
    if isinstance(ref, WriteRef):
        decode_write(probe, key, body, ref)
    else:
        # A shared value is checked as its own object: here, a stand-in.
        env = load_checkpoint(key, body, ref)
        decode_checkpoint(probe, key, env, ref, stand_ins(env))


def why_undecodable(key: str, body: bytes, ref: CheckpointRef | WriteRef) -> str | None:
    """Which values of a checkpoint or write (channel values, checkpoint
    fields, typed metadata, a write's value) the CLI's strict serializer
    cannot decode, as the codec names them (``channel 'v': cannot decode its
    'msgpack' value (...)``), or None. The rule is in the module's docstring.
    """
    probe = _Probe()
    try:
        _decode(probe, key, body, ref)
    except CorruptObjectError as exc:  # the envelope itself: not the values
        return _without_key(key, str(exc))
    reasons = []
    for position in probe.failed[:SHOWN_VALUES]:
        try:
            _decode(_Probe(raise_at=position), key, body, ref)
        except CorruptObjectError as exc:
            reasons.append(_short(_without_key(key, str(exc))))
    if not reasons:
        return None
    more = len(probe.failed) - len(reasons)
    if more:
        reasons.append(f"and {more} more undecodable value{'s' if more > 1 else ''}")
    return "; ".join(reasons)


def _without_key(key: str, message: str) -> str:
    """The codec's messages start with the key, which the report shows apart."""
    return message.removeprefix(f"{key}: ")


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Unread:
    """A serde that decodes nothing: only ids and plain metadata are wanted."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        raise NotImplementedError("validation never writes")

    def loads_typed(self, data: tuple[str, bytes]) -> None:
        return None


class Lineages:
    """The parent and source of each valid checkpoint, noted as ``validate``
    reads them, for the racing writers it warns about."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout
        self._seen: dict[str, list[tuple[Key, str | None, Any]]] = {}

    def note(self, key: str, body: bytes) -> None:
        """A valid object's body; only checkpoints are kept."""
        ref = self._layout.parse_checkpoint_key(key)
        if ref is None:
            return
        env = load_checkpoint(key, body, ref)
        source = decode_metadata(_Unread(), key, env).get("source")
        at = (ref.checkpoint_ns, ref.checkpoint_id)
        parent = env.parent_checkpoint_id
        self._seen.setdefault(ref.thread_id, []).append((at, parent, source))

    def warnings(self) -> list[JSON]:
        """``{"key", "reason", "concurrent_children"}`` for each checkpoint with
        two or more ``loop`` children, by key."""
        found: dict[str, JSON] = {}
        for thread_id, seen in self._seen.items():
            for (ns, checkpoint_id), children in concurrent_children(seen).items():
                ref = CheckpointRef(thread_id, ns, checkpoint_id)
                key = self._layout.checkpoint_key(ref)
                count = len(children)
                found[key] = {
                    "key": key,
                    "reason": f"{count} loop children: {count} runs went on from "
                    "it at once (racing writers)",
                    "concurrent_children": [*children],
                }
        return [found[key] for key in sorted(found)]
