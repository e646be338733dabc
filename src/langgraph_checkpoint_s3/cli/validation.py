"""Why a stored object is invalid, from its key and its body alone (no I/O).

An object under the prefix must be a checkpoint or a write key; its body must
be JSON, match the envelope's JSON Schema (checked with a generic validator,
as a consumer in another language would, not with our Pydantic models), and
repeat the identity its key names (:func:`.codec.misplacement`).
"""

from __future__ import annotations

import json
from functools import cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ..codec import misplacement
from ..envelopes import CHECKPOINT_SCHEMA, WRITE_SCHEMA, envelope_schemas
from ..keys import CheckpointRef, Layout, WriteRef

__all__ = ["UNEXPECTED_KEY", "schema_of", "schema_validators", "why_invalid"]

UNEXPECTED_KEY = "unexpected key: neither a checkpoint nor a write key"


@cache
def schema_validators() -> dict[str, Draft202012Validator]:
    """A validator per envelope schema, by its file name in ``schemas/`` (the
    committed files are these schemas; a test fails when they drift)."""
    validators = {}
    for name, schema in envelope_schemas().items():
        Draft202012Validator.check_schema(schema)
        validators[name] = Draft202012Validator(schema)
    return validators


def _expected(layout: Layout, key: str) -> tuple[CheckpointRef | WriteRef, str] | None:
    """What the key names, and the schema of the object it names."""
    if (checkpoint := layout.parse_checkpoint_key(key)) is not None:
        return checkpoint, CHECKPOINT_SCHEMA
    if (write := layout.parse_write_key(key)) is not None:
        return write, WRITE_SCHEMA
    return None


def schema_of(layout: Layout, key: str) -> str | None:
    """The schema an object at ``key`` must match, or None when the key is
    neither a checkpoint nor a write (nothing to fetch: it is unexpected)."""
    expected = _expected(layout, key)
    return None if expected is None else expected[1]


def why_invalid(layout: Layout, key: str, body: bytes | None) -> str | None:
    """Why the object at ``key`` is not a valid checkpoint or write sitting at
    its own key, or None when it is. ``body`` None means it vanished since it
    was listed: nothing to report. A key that is neither needs no body."""
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
    if (why := misplacement(document, ref)) is not None:
        return f"misplaced: {why}"
    return None


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
