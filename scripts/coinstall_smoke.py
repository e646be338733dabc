"""Both savers store a checkpoint and read it back on a moto server, in a venv
that holds what a user installs: run by scripts/coinstall.

    python scripts/coinstall_smoke.py default    # no aioboto3: aiobotocore's
                                                 # default session
    python scripts/coinstall_smoke.py aioboto3   # session=aioboto3.Session()

The savers are given no client, endpoint or credentials: like a user's, they
find them in the standard AWS settings (here environment variables).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import logging
import os
import sys
from typing import Any

BUCKET = "coinstall"
CONFIG: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}


def _use_moto(url: str) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):  # nothing of the caller's AWS settings
            del os.environ[name]
    os.environ.update(
        AWS_ENDPOINT_URL_S3=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        # As the README advises; langgraph is imported after this.
        LANGGRAPH_STRICT_MSGPACK="true",
    )


def _check(found: Any, checkpoint: Any) -> None:
    assert found is not None, "the checkpoint was not read back"
    assert found.checkpoint["id"] == checkpoint["id"], found
    assert found.pending_writes == [("task", "x", 1)], found.pending_writes


def sync_round_trip() -> None:
    from langgraph.checkpoint.base import empty_checkpoint

    from langgraph_checkpoint_s3 import S3CheckpointSaver

    with S3CheckpointSaver(BUCKET, prefix="sync/") as saver:
        checkpoint = empty_checkpoint()
        stored = saver.put(CONFIG, checkpoint, {"step": 0}, {})
        saver.put_writes(stored, [("x", 1)], "task")
        _check(saver.get_tuple(CONFIG), checkpoint)


async def async_round_trip(session: Any, prefix: str) -> None:
    from langgraph.checkpoint.base import empty_checkpoint

    from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver

    async with AsyncS3CheckpointSaver(BUCKET, prefix=prefix, session=session) as saver:
        checkpoint = empty_checkpoint()
        stored = await saver.aput(CONFIG, checkpoint, {"step": 0}, {})
        await saver.aput_writes(stored, [("x", 1)], "task")
        _check(await saver.aget_tuple(CONFIG), checkpoint)


def without_aioboto3() -> None:
    import boto3

    from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver

    assert importlib.util.find_spec("aioboto3") is None, "aioboto3 is installed"
    sync_round_trip()
    asyncio.run(async_round_trip(None, "async/"))
    # A session the saver cannot use says what to install.
    try:
        AsyncS3CheckpointSaver(BUCKET, session=boto3.Session())
    except TypeError as exc:
        assert "pip install 'langgraph-checkpoint-s3[aioboto3]'" in str(exc), exc
    else:
        raise AssertionError("a boto3 Session was taken by the async saver")


def with_aioboto3() -> None:
    import aioboto3

    asyncio.run(async_round_trip(aioboto3.Session(), "aioboto3/"))


def main(kind: str) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    runs = {"default": without_aioboto3, "aioboto3": with_aioboto3}
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line a request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        _use_moto(f"http://{host}:{port}")
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        runs[kind]()
    finally:
        server.stop()
    versions = ", ".join(
        f"{dist} {importlib.metadata.version(dist)}"
        for dist in ("boto3", "botocore", "aiobotocore")
    )
    print(f"coinstall_smoke {kind}: checkpoints stored and read back ({versions})")


if __name__ == "__main__":
    main(sys.argv[1])
