"""The committed JSON Schemas of the stored objects, as validators."""

from __future__ import annotations

import json

import jsonschema

from . import ROOT

SCHEMAS = ROOT / "schemas"


def committed_validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)
