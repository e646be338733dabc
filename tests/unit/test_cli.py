"""The ``s3-checkpoint`` CLI before it reaches a store: help and exit codes,
URIs and endpoint URLs refused without leaking a password, the tags ``dump``
decodes, and a start-up that imports neither boto3 nor LangGraph. Commands
that talk to a store are in ``tests/unit/test_cli_storage.py`` (the memory
bucket) and ``tests/servers/test_cli.py`` (real servers, the script as a
process, a terminal)."""

from __future__ import annotations

import os
import pickle
import sys
from typing import TYPE_CHECKING

import ormsgpack
import pytest
from langgraph.checkpoint.serde.jsonplus import (
    JsonPlusSerializer,
)

from langgraph_checkpoint_s3.cli.app import redact, redact_url
from langgraph_checkpoint_s3.cli.validation import JSONPLUS_TAGS, decode_value
from tests.support.cli import (
    invoke,
    run_script,
)

if TYPE_CHECKING:
    pass


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["list"],
        ["dump"],
        ["read"],
        ["threads"],
        ["validate"],
        ["delete"],
        ["prune"],
        ["expire"],
        ["stats"],
        ["history"],
        ["diff"],
    ],
)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = invoke([*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert "s3-checkpoint " in result.stdout


def test_help_documents_exit_codes_and_usage_errors() -> None:
    text = invoke(["--help"]).stdout
    assert "2    AWS credentials error" in text
    assert "usage error" in text


def test_decoded_tags_are_those_jsonplus_reads() -> None:
    # The rule's list of tags follows LangGraph: each decodes with the
    # permissive serializer, and a tag outside it is unknown to LangGraph.
    lenient = JsonPlusSerializer(pickle_fallback=True)
    samples = {
        "null": b"",
        "bytes": b"x",
        "bytearray": b"x",
        "json": b"[1]",
        "msgpack": ormsgpack.packb([1]),
        "pickle": pickle.dumps([1]),
    }
    assert set(samples) == JSONPLUS_TAGS
    for tag, data in samples.items():
        lenient.loads_typed((tag, data))
        decode_value((tag, data))
    for tag in ("msgpack+aes", "null+aes", "custom", ""):
        with pytest.raises(NotImplementedError):
            lenient.loads_typed((tag, b"x"))
        assert decode_value((tag, b"x")) is None
    with pytest.raises(ValueError, match="not a well-formed pickle stream"):
        decode_value(("pickle", pickle.dumps([1])[:-1]))


@pytest.mark.parametrize(
    "uri",
    [
        "gs://bucket/p/",
        "bucket/p/",
        "s3://",
        "s3:///p/",
        "s3://b/p/",
        "s3://ok-bucket//p/",
    ],
)
def test_invalid_s3_uri_exits_1(uri: str) -> None:
    result = invoke(["list", "--s3-prefix", uri, "--thread-id", "t"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invalid S3 URI")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "url", ["ftp://user:PASS@127.0.0.1:9", "user:PASS@127.0.0.1:9"]
)
def test_a_bad_endpoint_url_is_refused_without_its_password(url: str) -> None:
    result = invoke(["threads", "--s3-prefix", "s3://b-1/p/", "--endpoint-url", url])
    assert result.exit_code == 4
    assert "***@127.0.0.1:9' is not an http(s) URL" in result.stderr
    assert "PASS" not in result.stderr and "user" not in result.stderr


def test_redact_masks_the_userinfo_of_every_url() -> None:
    text = 'at "http://u:p@ss@h:1/b" and https://x@y, not s3://bucket/k@v or a@b'
    assert redact(text) == (
        'at "http://***@h:1/b" and https://***@y, not s3://bucket/k@v or a@b'
    )
    assert redact_url("u:p@h:1/x@y") == "***@h:1/x@y"
    assert redact_url("http://h:1") == "http://h:1"


def test_start_up_needs_neither_boto3_nor_langgraph() -> None:
    # --help and a malformed URI answer before the network and fast: the
    # heavy modules load only once a command opens a saver.
    script = """
import sys
from langgraph_checkpoint_s3.cli import cli
codes = [
    int(cli.main(args, standalone_mode=False))
    for args in (["--help"], ["list", "--s3-prefix", "nonsense", "--thread-id", "t"])
]
heavy = ("boto3", "botocore", "langgraph", "langchain_core", "jsonschema", "pydantic")
print(codes, sorted(m for m in heavy if m in sys.modules))
"""
    done = run_script([sys.executable, "-c", script], dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[0, 1] []"
    assert done.stderr.startswith("Error: invalid S3 URI 'nonsense'")
