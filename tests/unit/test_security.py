"""What loading a thread runs: with strict msgpack on, nothing a bucket names.

LangGraph's default serializer rebuilds stored objects by importing and calling
the names their bytes carry. Values planted in a bucket (as whoever can write
the prefix would) name ``os.system``, ``subprocess.run`` (positional and
keyword forms), ``subprocess.Popen`` through both pydantic extensions, and a
module whose import leaves a mark. Strict mode must load each of them as the
plain data it holds, on both savers, while a graph's own pydantic model and
dataclass still round-trip through the ``with_allowlist`` copy LangGraph makes
at compile time; the permissive default must run them (so the detection can
fail); the CLI must read strictly whatever the process's mode. Two settings
that undo strict mode are shown too: an EncryptedSerializer over a permissive
serializer (a planted value without the cipher's tag is not decrypted, just
decoded), and ``pickle_fallback=True``. Last, which serializers the saver's
once-per-process warning reports (:mod:`langgraph_checkpoint_s3.security`).

Detection does not depend on timing: an audit hook records every process
spawn and ``os.system`` call while a load runs, and a planted import shows in
``sys.modules`` and in a file the module writes.

LangGraph reads ``LANGGRAPH_STRICT_MSGPACK`` once, when it is imported (its
default serializer is built then). The ``strict`` and ``permissive`` fixtures
set the three values that reading leaves behind; a subprocess test runs the
real variable end to end and checks the fixtures leave the same state.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
)
from langgraph.checkpoint.serde.jsonplus import (
    JsonPlusSerializer,
)

from langgraph_checkpoint_s3.security import (
    runs_stored_names,
    warn_if_permissive,
)
from tests.support.security import (
    SERIALIZERS,
    OwnSerializer,
    permissive_warnings,
    set_mode,
)


@pytest.mark.parametrize("name", SERIALIZERS)
@pytest.mark.parametrize("mode", ["permissive", "strict"])
def test_which_serializers_run_stored_names(
    name: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_mode(monkeypatch, strict=mode == "strict")
    make, when_permissive, when_strict = SERIALIZERS[name]
    expected = when_strict if mode == "strict" else when_permissive
    assert runs_stored_names(make()) is expected


def test_warns_once_per_process(permissive: None, not_warned_yet: list[Any]) -> None:
    assert warn_if_permissive(OwnSerializer(), "s3://bucket/app/") is False
    assert permissive_warnings(not_warned_yet) == []

    default = BaseCheckpointSaver.serde
    assert warn_if_permissive(default, "s3://bucket/app/") is True
    assert warn_if_permissive(default, "s3://bucket/app/") is False
    assert warn_if_permissive(JsonPlusSerializer(), "s3://other/") is False
    (warning,) = permissive_warnings(not_warned_yet)
    message = str(warning.message)
    assert message.startswith("s3://bucket/app/ is read with")
    assert "LANGGRAPH_STRICT_MSGPACK=true" in message
    assert "allowed_msgpack_modules" in message
    assert warning.filename == __file__  # the caller's line, not this package's
