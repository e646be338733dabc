"""LangGraph's Agent Server on AsyncS3CheckpointSaver: the recipe of
``examples/agent_server/`` run by ``langgraph dev`` (in memory, offline, no
license key) on moto, and driven by ``langgraph-sdk`` as an application
would: a run to an interrupt, its resume, state and history, a fork, a copy,
a deletion, a rollback. Every checkpoint is in the bucket, under the prefix.

``langgraph dev`` comes with the ``agent-server`` extra (langgraph-api needs
Python 3.11). Without it the tests are skipped, unless AGENT_SERVER_REQUIRED
is set (CI), as SEAWEEDFS_REQUIRED works for SeaweedFS.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import ROOT
from tests.support.s3servers import S3Endpoint
from tests.support.savers import new_bucket

if TYPE_CHECKING:
    from langgraph_sdk.client import LangGraphClient
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="langgraph-api needs Python 3.11"
)

EXAMPLE = ROOT / "examples" / "agent_server"
GRAPH = "support"
PREFIX = "agent-server-test/"
LISTEN = ("--host", "127.0.0.1", "--port")
STARTUP_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0


def agent_server_required() -> bool:
    """True when AGENT_SERVER_REQUIRED is set (CI): a missing server must fail."""
    return os.environ.get("AGENT_SERVER_REQUIRED", "") not in ("", "0")


def langgraph_cli() -> Path | None:
    """The venv's ``langgraph`` command, when langgraph-cli[inmem] is there."""
    command = Path(sys.executable).parent / "langgraph"
    modules = ("langgraph_api", "langgraph_sdk", "langgraph_runtime_inmem")
    missing = any(importlib.util.find_spec(module) is None for module in modules)
    return None if missing or not command.is_file() else command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class AgentServer:
    url: str
    bucket: str
    s3: S3Client
    log: Path

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def keys(self, under: str = "") -> list[str]:
        """Every key of the bucket under ``under``."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=under
        )
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def thread_keys(self, thread_id: str) -> list[str]:
        return [
            key
            for kind in ("checkpoints", "writes")
            for key in self.keys(f"{PREFIX}{kind}/{thread_id}/")
        ]


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-4000:]
            pytest.fail(f"langgraph dev exited with {process.returncode}:\n{tail}")
        with (
            suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(f"{url}/ok", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-4000:]
    pytest.fail(f"langgraph dev not ready in {STARTUP_TIMEOUT:.0f} s:\n{tail}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # The whole group: the server may have started workers of its own.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def agent_server(
    moto: S3Endpoint, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AgentServer]:
    """``langgraph dev`` in a copy of the recipe, checkpointing to a new
    bucket on moto; stopped (its process group) whatever the tests did."""
    command = langgraph_cli()
    if command is None:
        if agent_server_required():
            pytest.fail("AGENT_SERVER_REQUIRED is set but langgraph-cli[inmem] is not")
        pytest.skip(
            "langgraph-cli[inmem] is not installed (pip install -e '.[agent-server]')"
        )
    app = tmp_path_factory.mktemp("agent_server") / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("__pycache__"))
    bucket = new_bucket(moto)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        moto.env(),
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        S3_CHECKPOINT_BUCKET=bucket,
        S3_CHECKPOINT_PREFIX=PREFIX,
        LANGGRAPH_STRICT_MSGPACK="true",
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        LANGGRAPH_NO_VERSION_CHECK="true",
        PATH=f"{command.parent}{os.pathsep}{env.get('PATH', '')}",
    )
    port = free_port()
    log = app.parent / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(command), "dev", "--no-browser", "--no-reload", *LISTEN, str(port)],
            cwd=app,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, log)
        yield AgentServer(url, bucket, moto.boto3_client(), log)
    finally:
        _stop(process)


def sdk(server: AgentServer) -> LangGraphClient:
    from langgraph_sdk import get_client

    return get_client(url=server.url, api_key=None)


def values(state: Any) -> dict[str, Any]:
    found: dict[str, Any] = state["values"]
    return found


async def test_a_run_interrupts_resumes_and_forks(agent_server: AgentServer) -> None:
    from langgraph_sdk.schema import Command

    async with sdk(agent_server) as client:
        thread_id = (await client.threads.create())["thread_id"]
        asked = await client.runs.wait(thread_id, GRAPH, input={"request": "refund"})
        draft = "Thanks for writing about 'refund'."
        assert isinstance(asked, dict), agent_server.log_tail()
        (interrupt,) = asked["__interrupt__"]
        assert interrupt["value"] == {"question": "Send this reply?", "draft": draft}
        state = await client.threads.get_state(thread_id)
        assert state["next"] == ["review"]
        assert [i["value"]["draft"] for i in state["interrupts"]] == [draft]

        done = await client.runs.wait(thread_id, GRAPH, command=Command(resume=True))
        assert isinstance(done, dict)
        assert (done["approved"], done["sent"]) == (True, draft)
        history = await client.threads.get_history(thread_id, limit=20)
        nexts = [h["next"] for h in history]
        assert nexts == [[], ["send"], ["review"], ["draft"], ["__start__"]]

        # A fork: the draft edited at the checkpoint before review, run on.
        (at_review,) = [h for h in history if h["next"] == ["review"]]
        edited = await client.threads.update_state(
            thread_id,
            {"draft": "Edited."},
            as_node="draft",
            checkpoint_id=at_review["checkpoint"]["checkpoint_id"],
        )
        forked = await client.runs.wait(
            thread_id,
            GRAPH,
            input=None,
            checkpoint_id=edited["checkpoint"]["checkpoint_id"],
        )
        assert isinstance(forked, dict)
        assert forked["__interrupt__"][0]["value"]["draft"] == "Edited."
        refused = await client.runs.wait(
            thread_id, GRAPH, command=Command(resume=False)
        )
        assert isinstance(refused, dict) and refused["sent"] == ""
        branches = await client.threads.get_history(thread_id, limit=50)
        assert len(branches) == len(history) + 3  # the edit, review, send
        assert values(branches[-1]) == values(history[-1])  # the first input
        assert any(values(h).get("sent") == draft for h in branches)  # branch one

    stored = agent_server.thread_keys(thread_id)
    checkpoints = [k for k in stored if k.startswith(f"{PREFIX}checkpoints/")]
    assert len(checkpoints) == len(branches), stored
    assert any(k.startswith(f"{PREFIX}writes/") for k in stored)
    assert agent_server.keys() == agent_server.keys(PREFIX)  # nothing elsewhere


async def test_copy_then_delete_a_thread(agent_server: AgentServer) -> None:
    async with sdk(agent_server) as client:
        thread_id = (await client.threads.create())["thread_id"]
        await client.runs.wait(thread_id, GRAPH, input={"request": "copy me"})
        # The SDK types copy() as returning None; the server answers the thread.
        threads: Any = client.threads
        copy_id = (await threads.copy(thread_id))["thread_id"]
        original = await client.threads.get_history(thread_id, limit=20)
        copied = await client.threads.get_history(copy_id, limit=20)
        assert [values(h) for h in copied] == [values(h) for h in original]
        assert len(copied) == 3  # input, draft, review (interrupted)
        assert len(agent_server.thread_keys(copy_id)) == len(
            agent_server.thread_keys(thread_id)
        )

        await client.threads.delete(thread_id)
        assert agent_server.thread_keys(thread_id) == []
        assert agent_server.keys(f"{PREFIX}heads/{thread_id}/") == []
        assert len(await client.threads.get_history(copy_id, limit=20)) == 3
        await client.threads.prune([copy_id])
        assert agent_server.thread_keys(copy_id) == []


async def test_rollback_deletes_the_cancelled_runs_checkpoints(
    agent_server: AgentServer,
) -> None:
    """``multitask_strategy="rollback"`` cancels the running run and deletes
    its checkpoints (``adelete_for_runs``) before the new run starts."""
    async with sdk(agent_server) as client:
        thread_id = (await client.threads.create())["thread_id"]
        # Long enough that only the rollback ends it.
        slow = await client.runs.create(
            thread_id, GRAPH, input={"request": "slow", "delay": 60}
        )
        deadline = time.monotonic() + 30
        while len(await client.threads.get_history(thread_id, limit=5)) < 2:
            assert time.monotonic() < deadline, agent_server.log_tail()
            await asyncio.sleep(0.1)  # until the slow run is in its draft step
        fast = await client.runs.create(
            thread_id,
            GRAPH,
            input={"request": "fast"},
            multitask_strategy="rollback",
        )
        await client.runs.join(thread_id, fast["run_id"])
        state = await client.threads.get_state(thread_id)
        assert values(state)["request"] == "fast"
        history = await client.threads.get_history(thread_id, limit=20)
        runs = {(h["metadata"] or {}).get("run_id") for h in history}
        assert runs == {fast["run_id"]}, (slow["run_id"], agent_server.log_tail())
    checkpoints = agent_server.keys(f"{PREFIX}checkpoints/{thread_id}/")
    assert len(checkpoints) == len(history) == 3


async def test_history_before_a_checkpoint_is_refused_clearly(
    agent_server: AgentServer,
) -> None:
    """The server passes the SDK's checkpoint dict to ``alist`` as ``before``
    (its API accepts no other form); LangGraph's own InMemorySaver fails on
    it with KeyError (500), the S3 saver says why (400)."""
    from langgraph_sdk.errors import BadRequestError

    async with sdk(agent_server) as client:
        thread_id = (await client.threads.create())["thread_id"]
        await client.runs.wait(thread_id, GRAPH, input={"request": "history"})
        history = await client.threads.get_history(thread_id, limit=20)
        with pytest.raises(
            BadRequestError, match=re.escape("before={'configurable': before}")
        ):
            await client.threads.get_history(thread_id, before=history[0]["checkpoint"])
