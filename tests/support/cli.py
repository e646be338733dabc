"""The CLI run in-process (click's CliRunner) or as a process, and the
checkpoints its tests name."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from click.testing import CliRunner, Result
from langgraph.checkpoint.base import Checkpoint, empty_checkpoint

from langgraph_checkpoint_s3.cli import cli

from .histories import PREFIX

URI = f"s3://bucket/{PREFIX}"
S3 = ["--s3-prefix", URI]


def invoke(
    args: Sequence[str],
    env: dict[str, str | None] | None = None,
    input: str | None = None,
) -> Result:
    """Run in-process; stdout and stderr apart, exceptions mapped by main."""
    return CliRunner().invoke(
        cli, list(args), input=input, env=env, catch_exceptions=False
    )


def invoke_json(*args: str) -> Any:
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


DIRECT_THREAD = "t-direct"


def checkpoint(checkpoint_id: str, **values: Any) -> Checkpoint:
    made = empty_checkpoint()
    made["id"] = checkpoint_id
    made["channel_values"] = values
    return made


def at(
    checkpoint_ns: str, checkpoint_id: str, thread: str = DIRECT_THREAD
) -> list[str]:
    """The options that name one checkpoint."""
    return [
        "--thread-id",
        thread,
        "--checkpoint-ns",
        checkpoint_ns,
        "--checkpoint-id",
        checkpoint_id,
    ]


def run_script(
    command: Sequence[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command], env=env, capture_output=True, text=True, timeout=60, check=False
    )


MODULE = [sys.executable, "-m", "langgraph_checkpoint_s3.cli"]


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
