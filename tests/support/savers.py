"""Savers and buckets for tests on an S3 server: a fresh bucket, async
sessions with the server's credentials, and the factories' types."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import aioboto3
from aiobotocore.session import AioSession

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver

from .s3servers import S3Endpoint, create_bucket

SaverFactory = Callable[..., S3CheckpointSaver]
AsyncSaverFactory = Callable[..., AsyncS3CheckpointSaver]


def new_bucket(endpoint: S3Endpoint) -> str:
    name = f"test-{uuid.uuid4().hex[:20]}"
    create_bucket(endpoint, name)
    return name


def session_for(endpoint: S3Endpoint) -> AioSession:
    """An aiobotocore session, the kind the async saver makes by default."""
    session = AioSession()
    session.set_credentials(endpoint.access_key, endpoint.secret_key)
    session.set_config_variable("region", endpoint.region)
    return session


def aioboto3_session_for(endpoint: S3Endpoint) -> aioboto3.Session:
    """An aioboto3 session, for the saver's ``aioboto3`` extra."""
    return aioboto3.Session(
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        region_name=endpoint.region,
    )
