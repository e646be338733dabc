"""Where the checkpoints are: the ``s3://BUCKET/PREFIX/`` URI, the connection
options every command takes, and the saver they open.

Light at import: a malformed URI is refused before boto3 or the saver load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from ..keys import Layout
from .app import CliError, ExitCode

if TYPE_CHECKING:
    from ..saver import S3CheckpointSaver

__all__ = ["Connection", "S3Uri", "s3_options"]

_BUCKET_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
)


@dataclass(frozen=True)
class S3Uri:
    """``s3://bucket/prefix/``: the bucket and the saver's key prefix."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        """Split an ``s3://`` URI; raises CliError (exit 1) when malformed."""
        scheme, sep, rest = uri.partition("://")
        bucket, _, prefix = rest.partition("/")
        if scheme != "s3" or not sep or not _valid_bucket(bucket):
            raise CliError(
                f"invalid S3 URI {uri!r}: expected s3://BUCKET/PREFIX/",
                ExitCode.BAD_URI,
            )
        try:
            layout = Layout(prefix)
        except ValueError as exc:
            raise CliError(f"invalid S3 URI {uri!r}: {exc}", ExitCode.BAD_URI) from None
        return cls(bucket, layout.prefix)


def _valid_bucket(name: str) -> bool:
    # Legacy and S3-compatible stores allow more than today's AWS rules
    # (uppercase, underscores, 255 bytes); reject only what cannot be a name.
    return (
        3 <= len(name) <= 255
        and set(name) <= _BUCKET_CHARACTERS
        and name[0].isalnum()
        and name[-1].isalnum()
    )


@dataclass(frozen=True)
class Connection:
    """The S3 options every command takes."""

    s3_prefix: str
    profile: str | None
    region: str | None
    endpoint_url: str | None

    def open(self) -> S3CheckpointSaver:
        """A saver on the prefix, reading through the strict serde; its bucket
        check reports a missing bucket, rejected credentials or missing rights
        before any command runs."""
        uri = S3Uri.parse(self.s3_prefix)
        import boto3
        from botocore.exceptions import ProfileNotFound

        from .. import saver
        from ..errors import CredentialsError
        from .rendering import TolerantSerializer

        try:
            session = boto3.Session(profile_name=self.profile, region_name=self.region)
        except ProfileNotFound as exc:
            raise CredentialsError(str(exc)) from exc
        client = session.client(
            "s3",
            endpoint_url=self.endpoint_url,
            config=saver.client_config(saver.DEFAULT_CONCURRENCY),
        )
        return saver.S3CheckpointSaver(
            uri.bucket, prefix=uri.prefix, s3_client=client, serde=TolerantSerializer()
        )


def _check_endpoint(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise click.BadParameter(
                f"{value!r} is not an http(s) URL", ctx=ctx, param=param
            )
    return value


def s3_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the connection options; the command receives a ``conn`` argument."""

    @click.option(
        "--s3-prefix",
        required=True,
        metavar="s3://BUCKET/PREFIX/",
        help="Where the saver stores its objects: bucket and the saver's prefix.",
    )
    @click.option("--profile", help="AWS profile (default: the credential chain).")
    @click.option(
        "--region", help="AWS region of the bucket or the S3-compatible store."
    )
    @click.option(
        "--endpoint-url",
        callback=_check_endpoint,
        metavar="URL",
        help="Endpoint of an S3-compatible store (default: $AWS_ENDPOINT_URL_S3, "
        "else AWS).",
    )
    @wraps(command)
    def wrapper(
        s3_prefix: str,
        profile: str | None,
        region: str | None,
        endpoint_url: str | None,
        **kwargs: Any,
    ) -> None:
        command(Connection(s3_prefix, profile, region, endpoint_url), **kwargs)

    return wrapper
