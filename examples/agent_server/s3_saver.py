"""The checkpointer of LangGraph's Agent Server: an AsyncS3CheckpointSaver,
opened for as long as the server runs.

The bucket and prefix come from S3_CHECKPOINT_BUCKET and S3_CHECKPOINT_PREFIX;
the endpoint, region and credentials from the standard AWS settings
(AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_PROFILE, ...).
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver


@asynccontextmanager
async def make_saver() -> AsyncIterator[AsyncS3CheckpointSaver]:
    async with AsyncS3CheckpointSaver(
        os.environ["S3_CHECKPOINT_BUCKET"],
        prefix=os.environ.get("S3_CHECKPOINT_PREFIX", "agent-server/"),
    ) as saver:
        yield saver
