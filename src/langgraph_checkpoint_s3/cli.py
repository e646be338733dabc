"""``s3-checkpoint``: inspect and clean up the LangGraph checkpoints a saver
stored in S3.

Every command prints one JSON document on stdout and nothing else; errors are
one line on stderr, and the exit code says what went wrong (see ``ExitCode``).
Everything goes through :class:`S3CheckpointSaver` and :mod:`.core`: its public
methods, and its private ``_list``/``_get``/``_thread_keys``/``_call`` for the
raw key listings and object reads of ``list``, ``validate``, ``delete`` and
``prune`` (``validate`` must see objects the saver would refuse). The only S3
call made here directly is the delimited LIST of ``threads``.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache, partial, wraps
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast
from urllib.parse import urlsplit

import boto3
import click
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple

from . import core
from .errors import (
    CredentialsError,
    S3AccessError,
    S3CheckpointError,
)
from .keys import CheckpointRef, Layout, WriteRef
from .render import JSON, TolerantSerializer, to_json
from .saver import DEFAULT_CONCURRENCY, S3CheckpointSaver, client_config

if TYPE_CHECKING:
    pass

__all__ = ["ExitCode", "S3Uri", "check_object", "cli", "main"]


class ExitCode(IntEnum):
    """The exit codes the seed defines. Usage errors (a missing or unknown
    option, a bad option value) exit with RUNTIME: 2, click's own code for
    them, means a credentials error here."""

    OK = 0
    BAD_URI = 1
    CREDENTIALS = 2
    S3_ACCESS = 3
    RUNTIME = 4
    UNEXPECTED = 5
    INTERRUPTED = 130


class CliError(Exception):
    """An error with a message for the user and the exit code it maps to."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# -- S3 location and connection -------------------------------------------------


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
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    return (
        3 <= len(name) <= 255
        and set(name) <= allowed
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
        """A saver on the prefix; its bucket check reports a missing bucket,
        rejected credentials or missing rights before any command runs."""
        uri = S3Uri.parse(self.s3_prefix)
        try:
            session = boto3.Session(profile_name=self.profile, region_name=self.region)
        except ProfileNotFound as exc:
            raise CredentialsError(str(exc)) from exc
        client = session.client(
            "s3",
            endpoint_url=self.endpoint_url,
            config=client_config(DEFAULT_CONCURRENCY),
        )
        return S3CheckpointSaver(
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


# -- S3 listings ----------------------------------------------------------------


# Key listings (one LIST per 1,000 keys) and object reads are the saver's own
# ``_list``/``_get``: they wrap botocore errors as every command expects.


def _thread_config(thread_id: str, checkpoint_ns: str | None) -> RunnableConfig:
    """A thread, or one namespace of it (without one, list() covers all)."""
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if checkpoint_ns is not None:
        configurable["checkpoint_ns"] = checkpoint_ns
    return {"configurable": configurable}


def checkpoint_refs(
    saver: S3CheckpointSaver, thread_id: str, checkpoint_ns: str | None
) -> list[CheckpointRef]:
    """The thread's checkpoints, newest first, from key listings alone."""
    query = core.ListQuery.of(
        _thread_config(thread_id, checkpoint_ns), filter=None, before=None, limit=None
    )
    return query.candidates(saver.layout, saver._list(query.prefix(saver.layout)))


# -- output ---------------------------------------------------------------------


def _emit(document: JSON) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def render_tuple(item: CheckpointTuple) -> dict[str, JSON]:
    """A checkpoint tuple as the seed's JSON object, values made readable."""
    configurable = item.config["configurable"]
    parent = (item.parent_config or {}).get("configurable", {})
    return {
        "checkpoint_ns": configurable.get("checkpoint_ns", ""),
        "checkpoint_id": configurable["checkpoint_id"],
        "parent_checkpoint_id": parent.get("checkpoint_id"),
        "checkpoint": to_json(item.checkpoint),
        "metadata": to_json(item.metadata),
        "pending_writes": [
            {"task_id": task_id, "channel": channel, "value": to_json(value)}
            for task_id, channel, value in item.pending_writes or []
        ],
    }


class _AsTerminal(io.TextIOBase):
    """A stream that claims to be a terminal, so ``--progress`` draws the bar
    even into a pipe or a file (click shows only the label there)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return True


def _wants_progress(flag: bool | None) -> bool:
    return sys.stderr.isatty() if flag is None else flag


@contextmanager
def progress_bar(length: int, label: str, shown: bool) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr; yields a thread-safe ``tick``."""
    stderr = sys.stderr
    stream = stderr if stderr.isatty() else cast(TextIO, _AsTerminal(stderr))
    lock = threading.Lock()
    with click.progressbar(
        length=length, label=label, file=stream, hidden=not shown
    ) as bar:

        def tick() -> None:
            with lock:
                bar.update(1)

        yield tick


def _on_checkpoint_fetched(saver: S3CheckpointSaver, tick: Callable[[], None]) -> None:
    """Call ``tick`` as each checkpoint object arrives. ``saver.list`` fetches
    them all concurrently before it yields the first, so the client's events
    are the only view of its progress."""
    events = saver.client.meta.events
    slot = "s3_checkpoint_cli_key"

    def remember_key(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[slot] = params.get("Key", "")

    def count(context: dict[str, Any], **_: Any) -> None:
        if saver.layout.parse_checkpoint_key(context.get(slot, "")) is not None:
            tick()

    events.register("provide-client-params.s3.GetObject", remember_key)
    events.register("after-call.s3.GetObject", count)


# -- validation -----------------------------------------------------------------

_INDEX = "index/"


@lru_cache(maxsize=1)
def schema_validators() -> dict[str, Draft202012Validator]:
    """A validator per committed envelope schema, by file name."""
    validators = {}
    for name in ("checkpoint.v1.json", "write.v1.json"):
        schema = json.loads(_schema_text(name))
        Draft202012Validator.check_schema(schema)
        validators[name] = Draft202012Validator(schema)
    return validators


def _schema_text(name: str) -> str:
    # The wheel ships schemas/ inside the package; an editable install runs
    # from src/, so the files are in the repository's top-level schemas/.
    packaged = resources.files(__package__) / "schemas" / name
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    repository = Path(__file__).resolve().parents[2] / "schemas" / name
    return repository.read_text(encoding="utf-8")


def _identity(ref: CheckpointRef | WriteRef) -> list[tuple[tuple[str, ...], Any]]:
    """The envelope fields that must repeat what the key says (as core checks
    on every read)."""
    if isinstance(ref, WriteRef):
        return [
            *_identity(ref.checkpoint)[:3],
            (("task_id",), ref.task_id),
            (("idx",), ref.idx),
        ]
    return [
        (("thread_id",), ref.thread_id),
        (("checkpoint_ns",), ref.checkpoint_ns),
        (("checkpoint_id",), ref.checkpoint_id),
        (("checkpoint", "id"), ref.checkpoint_id),
    ]


def _field(document: Any, path: Sequence[str]) -> Any:
    for name in path:
        document = document.get(name) if isinstance(document, dict) else None
    return document


def check_object(
    layout: Layout, key: str, fetch: Callable[[str], bytes | None]
) -> str | None:
    """Why the object at ``key`` is not a valid checkpoint or write sitting at
    its own key, or None when it is (or vanished: ``fetch`` gave None). Keys
    that are neither are not fetched."""
    ref: CheckpointRef | WriteRef | None = layout.parse_checkpoint_key(key)
    schema = "checkpoint.v1.json"
    if ref is None:
        ref, schema = layout.parse_write_key(key), "write.v1.json"
    if ref is None:
        return "unexpected key: neither a checkpoint nor a write key"
    body = fetch(key)
    if body is None:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return "not a JSON document"
    error = best_match(schema_validators()[schema].iter_errors(document))
    if error is not None:
        return f"does not match {schema}: {error.json_path}: {_short(error.message)}"
    for path, expected in _identity(ref):
        found = _field(document, path)
        if found != expected:
            return (
                f"misplaced: envelope says {'.'.join(path)}={_short(repr(found))} "
                f"but the key says {expected!r}"
            )
    return None


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _validate_keys(
    saver: S3CheckpointSaver, keys: Sequence[str], tick: Callable[[], None]
) -> list[tuple[str, str]]:
    """Fetch and check every key concurrently; the (key, reason) of failures."""

    def check(key: str) -> tuple[str, str | None]:
        return key, check_object(saver.layout, key, saver._get)

    failures: list[tuple[str, str]] = []
    with ThreadPoolExecutor(DEFAULT_CONCURRENCY) as pool:
        for future in as_completed([pool.submit(check, key) for key in keys]):
            key, reason = future.result()
            tick()
            if reason is not None:
                failures.append((key, reason))
    return sorted(failures)


# -- commands -------------------------------------------------------------------


@dataclass
class _State:
    """Global options, shared with ``main`` so it can report errors."""

    debug: bool = False


@contextmanager
def _quiet_serde() -> Iterator[None]:
    """Silence the serializer's warnings for the command's duration: each
    blocked type logs "add it to allowed_msgpack_modules", advice for graph
    code that a CLI user cannot act on (the value is shown as plain data)."""
    logger = logging.getLogger("langgraph.checkpoint.serde.jsonplus")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


_EXIT_CODES_HELP = """\
\b
Exit codes:
  0    success
  1    invalid S3 URI
  2    AWS credentials error (none found, or rejected by the store)
  3    S3 access error (missing bucket, access denied, other S3 errors)
  4    checkpoint not found, invalid object, usage error (missing or
       unknown option, bad option value), deletion refused (no terminal
       to confirm on and no --yes) or not confirmed, or another runtime
       error
  5    unexpected error
  130  interrupted (Ctrl-C)

Errors are one line on stderr; --debug adds the traceback.
"""


class _App(click.Group):
    """Maps every error to the seed's exit codes and a one-line message,
    whether run as a script or through click's test runner."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        state = _State()
        try:
            result = super().main(
                args, prog_name, complete_var, standalone_mode=False, obj=state, **extra
            )
            code = int(result) if isinstance(result, int) else ExitCode.OK
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.format_message(), err=True)
            code = ExitCode.RUNTIME
        except click.exceptions.Abort:  # Ctrl-C; click turns it into Abort
            code = _report(CliError("interrupted", ExitCode.INTERRUPTED), False)
        except Exception as exc:
            code = _report(exc, state.debug)
        if standalone_mode:
            raise SystemExit(code)
        return code


def _report(exc: Exception, debug: bool) -> ExitCode:
    """Print the one-line error (and with --debug the traceback first)."""
    code, message = _classify(exc)
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__)
    click.echo(f"Error: {message}".replace("\n", " "), err=True)
    return code


def _classify(exc: Exception) -> tuple[ExitCode, str]:
    if isinstance(exc, CliError):
        return exc.exit_code, str(exc)
    if isinstance(exc, click.UsageError):
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        return ExitCode.RUNTIME, exc.format_message() + hint
    if isinstance(exc, (CredentialsError, NoCredentialsError, PartialCredentialsError)):
        return ExitCode.CREDENTIALS, str(exc)
    if isinstance(exc, (S3AccessError, ClientError, BotoCoreError)):
        return ExitCode.S3_ACCESS, str(exc)
    if isinstance(exc, (S3CheckpointError, click.ClickException)):
        return ExitCode.RUNTIME, str(exc)
    return ExitCode.UNEXPECTED, f"unexpected {type(exc).__name__}: {exc}"


@click.group("s3-checkpoint", cls=_App, epilog=_EXIT_CODES_HELP)
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Inspect and clean up LangGraph checkpoints stored in S3 by
    S3CheckpointSaver.

    Each command prints one JSON document on stdout. Credentials come from
    the standard AWS chain (--profile, environment, ~/.aws, instance roles).

    \b
    Example:
      s3-checkpoint list --s3-prefix s3://my-bucket/checkpoints/ \\
        --thread-id thread123
    """
    ctx.ensure_object(_State).debug = debug
    if not debug:
        ctx.with_resource(_quiet_serde())


_THREAD = click.option("--thread-id", required=True, help="The thread to read.")
_NAMESPACE = click.option(
    "--checkpoint-ns",
    help="Only this namespace (empty string: the default one). Default: all.",
)
_PROGRESS = click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)


@cli.command(
    "list",
    epilog="""\b
Example:
  s3-checkpoint list --s3-prefix s3://my-bucket/checkpoints/ --thread-id thread123
""",
)
@s3_options
@_THREAD
@_NAMESPACE
def list_command(conn: Connection, thread_id: str, checkpoint_ns: str | None) -> None:
    """List a thread's (checkpoint_ns, checkpoint_id) pairs, newest first.

    Reads key listings only (one LIST per 1,000 checkpoints), no objects.
    A thread without checkpoints gives an empty list.
    """
    with conn.open() as saver:
        refs = checkpoint_refs(saver, thread_id, checkpoint_ns)
    _emit(
        {
            "thread_id": thread_id,
            "checkpoints": [
                {"checkpoint_ns": ref.checkpoint_ns, "checkpoint_id": ref.checkpoint_id}
                for ref in refs
            ],
        }
    )


@cli.command(
    epilog="""\b
Example:
  s3-checkpoint dump --s3-prefix s3://my-bucket/checkpoints/ \\
    --thread-id thread123 --checkpoint-ns "" --checkpoint-id 1f0a...
"""
)
@s3_options
@_THREAD
@click.option(
    "--checkpoint-ns",
    required=True,
    help='The namespace; "" for the default one.',
)
@click.option("--checkpoint-id", required=True, help="The checkpoint to dump.")
def dump(
    conn: Connection, thread_id: str, checkpoint_ns: str, checkpoint_id: str
) -> None:
    """Dump one checkpoint with its metadata and pending writes.

    Values are decoded into readable JSON: messages and models as dicts,
    bytes as base64, datetimes ISO-8601; a value that cannot be decoded
    (e.g. encrypted) is shown as stored, {"type": ..., "data": base64}.
    Objects of classes outside LangGraph's safe list show as the data they
    were stored with: nothing a bucket holds gets imported or called.
    Exits 4 when the checkpoint does not exist.
    """
    config: RunnableConfig = {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint_id,
        }
    }
    with conn.open() as saver:
        found = saver.get_tuple(config)
    if found is None:
        raise CliError(
            f"checkpoint not found: thread {thread_id!r}, namespace "
            f"{checkpoint_ns!r}, id {checkpoint_id!r}",
            ExitCode.RUNTIME,
        )
    _emit({"thread_id": thread_id, **render_tuple(found)})


@cli.command(
    epilog="""\b
Example:
  s3-checkpoint read --s3-prefix s3://my-bucket/checkpoints/ --thread-id thread123
"""
)
@s3_options
@_THREAD
@_NAMESPACE
@_PROGRESS
def read(
    conn: Connection,
    thread_id: str,
    checkpoint_ns: str | None,
    progress: bool | None,
) -> None:
    """Read every checkpoint of a thread, newest first, with full data.

    Objects are fetched concurrently; values are decoded as in `dump`.
    """
    with conn.open() as saver:
        tuples = _read_all(saver, thread_id, checkpoint_ns, _wants_progress(progress))
    _emit({"thread_id": thread_id, "checkpoints": [render_tuple(t) for t in tuples]})


def _read_all(
    saver: S3CheckpointSaver, thread_id: str, checkpoint_ns: str | None, shown: bool
) -> list[CheckpointTuple]:
    config = _thread_config(thread_id, checkpoint_ns)
    if not shown:
        return list(saver.list(config))
    # The bar needs a length up front: one more LIST per 1,000 checkpoints.
    total = len(checkpoint_refs(saver, thread_id, checkpoint_ns))
    with progress_bar(total, "Reading checkpoints", shown) as tick:
        _on_checkpoint_fetched(saver, tick)
        return list(saver.list(config))


@cli.command(
    epilog="""\b
Example:
  s3-checkpoint threads --s3-prefix s3://my-bucket/checkpoints/
"""
)
@s3_options
def threads(conn: Connection) -> None:
    """List the thread ids that have checkpoints under the prefix.

    Reads one LIST page per 1,000 threads, no objects.
    """
    with conn.open() as saver:
        found = thread_ids(saver)
    _emit({"threads": [*found]})


def thread_ids(saver: S3CheckpointSaver) -> list[str]:
    """The threads under the saver's prefix, sorted: the "folders" of one
    delimited LIST, so the cost is per thread, not per checkpoint."""
    layout = saver.layout
    prefix = layout.checkpoints_prefix()
    paginator = saver.client.get_paginator("list_objects_v2")
    pages = saver._call(
        "ListObjectsV2",
        prefix,
        lambda: list(
            paginator.paginate(Bucket=saver.bucket_name, Prefix=prefix, Delimiter="/")
        ),
    )
    found = {
        layout.parse_thread(common.get("Prefix", ""))
        for page in pages
        for common in page.get("CommonPrefixes", [])
    }
    return sorted(thread for thread in found if thread is not None)


@cli.command(
    epilog="""\b
Examples:
  s3-checkpoint validate --s3-prefix s3://my-bucket/checkpoints/
  s3-checkpoint validate --s3-prefix s3://my-bucket/checkpoints/ --thread-id t1
"""
)
@s3_options
@click.option("--thread-id", help="Only this thread's checkpoints and writes.")
@_PROGRESS
def validate(conn: Connection, thread_id: str | None, progress: bool | None) -> None:
    """Check stored objects against the JSON Schemas in schemas/.

    Every checkpoint and write under the prefix (or of one thread) must be
    JSON, match its schema, and sit at the key its envelope names; any other
    key under the prefix is reported as unexpected, except the sparse index
    hints under PREFIX/index/, which have no schema. Prints
    {"checked": N, "failed": M, "failures": [{"key", "reason"}]} and exits 4
    when anything failed.
    """
    with conn.open() as saver:
        keys = _keys_to_validate(saver, thread_id)
        shown = _wants_progress(progress)
        with progress_bar(len(keys), "Validating objects", shown) as tick:
            failures = _validate_keys(saver, keys, tick)
    _emit(
        {
            "checked": len(keys),
            "failed": len(failures),
            "failures": [{"key": key, "reason": why} for key, why in failures],
        }
    )
    if failures:
        raise CliError(
            f"{len(failures)} of {len(keys)} objects failed validation",
            ExitCode.RUNTIME,
        )


def _keys_to_validate(saver: S3CheckpointSaver, thread_id: str | None) -> list[str]:
    layout = saver.layout
    if thread_id is not None:
        return saver._thread_keys(thread_id)
    # The sparse index (DESIGN §4) is a hint with no schema: not validated.
    index = layout.prefix + _INDEX
    return [key for key in saver._list(layout.prefix) if not key.startswith(index)]


# -- deleting -------------------------------------------------------------------


@dataclass(frozen=True)
class Holdings:
    """The keys some threads have under the prefix, as listed: the checkpoints
    and writes a deletion is reported in (before minus after)."""

    layout: Layout
    keys: frozenset[str]

    @classmethod
    def of(cls, saver: S3CheckpointSaver, thread_ids: Sequence[str]) -> Holdings:
        """List the threads' keys exactly as ``delete_thread`` and ``prune``
        do: one LIST per 1,000 keys, no GET."""
        keys = [key for t in thread_ids for key in saver._thread_keys(t)]
        return cls(saver.layout, frozenset(keys))

    @classmethod
    def nothing(cls, layout: Layout) -> Holdings:
        return cls(layout, frozenset())

    def __sub__(self, other: Holdings) -> Holdings:
        return Holdings(self.layout, self.keys - other.keys)

    def checkpoints(self) -> list[CheckpointRef]:
        """Newest first, as ``list`` shows them."""
        return core.checkpoint_refs(self.layout, self.keys)

    def writes(self) -> list[str]:
        return sorted(k for k in self.keys if self.layout.parse_write_key(k))

    def others(self) -> list[str]:
        """Keys that are neither a checkpoint nor a write (stray objects)."""
        layout = self.layout
        return sorted(
            key
            for key in self.keys
            if layout.parse_checkpoint_key(key) is None
            and layout.parse_write_key(key) is None
        )

    def summary(self) -> str:
        checkpoints = self.checkpoints()
        namespaces = {(r.thread_id, r.checkpoint_ns) for r in checkpoints}
        text = (
            f"{_count(len(checkpoints), 'checkpoint')} in "
            f"{_count(len(namespaces), 'namespace')} and "
            f"{_count(len(self.writes()), 'write')}"
        )
        others = len(self.others())
        return text + (f" (and {_count(others, 'other object')})" if others else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _refs(refs: Sequence[CheckpointRef], with_thread: bool) -> list[JSON]:
    return [
        {
            **({"thread_id": ref.thread_id} if with_thread else {}),
            "checkpoint_ns": ref.checkpoint_ns,
            "checkpoint_id": ref.checkpoint_id,
        }
        for ref in refs
    ]


def removal(before: Holdings, after: Holdings, with_thread: bool) -> dict[str, JSON]:
    """What went (``before - after``) and which checkpoints remain."""
    gone = before - after
    return {
        "deleted": _refs(gone.checkpoints(), with_thread),
        "deleted_writes": len(gone.writes()),
        "deleted_other": [*gone.others()],
        "kept": _refs(after.checkpoints(), with_thread),
    }


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _check_can_confirm(yes: bool) -> None:
    """Refuse up front, before any request, when no one can answer the
    question: a prompt on a pipe would hang or read the wrong input."""
    if not yes and not _stdin_is_terminal():
        raise CliError(
            "refusing to delete: stdin is not a terminal to confirm on; "
            "pass --yes to confirm (nothing was deleted)",
            ExitCode.RUNTIME,
        )


def _confirm(yes: bool, question: str) -> None:
    if not yes and not click.confirm(question, err=True):
        raise CliError("not confirmed: nothing was deleted", ExitCode.RUNTIME)


def _carry_out(
    saver: S3CheckpointSaver,
    thread_ids: Sequence[str],
    before: Holdings,
    action: Callable[[], None],
    header: dict[str, JSON],
    with_thread: bool,
) -> None:
    """Run ``action`` and print what it removed, from a listing after it. When
    it fails part-way, print what it did remove all the same, then fail."""
    failure: S3CheckpointError | None = None
    try:
        action()
    except S3CheckpointError as exc:
        failure = exc
    try:
        after = Holdings.of(saver, thread_ids)
    except S3CheckpointError:
        if failure is not None:
            raise failure from None
        raise
    _emit({**header, **removal(before, after, with_thread)})
    if failure is not None:
        raise failure


def _threads_text(thread_ids: Sequence[str]) -> str:
    names = ", ".join(repr(t) for t in thread_ids)
    return f"thread {names}" if len(thread_ids) == 1 else f"threads {names}"


_YES = click.option(
    "--yes",
    "-y",
    is_flag=True,
    help="Do not ask for confirmation. Needed when stdin is not a terminal "
    "(scripts, CI): without it the command refuses and exits 4.",
)


@cli.command(
    epilog="""\b
Examples:
  s3-checkpoint delete --s3-prefix s3://my-bucket/checkpoints/ \\
    --thread-id thread123 --dry-run
  s3-checkpoint delete --s3-prefix s3://my-bucket/checkpoints/ \\
    --thread-id thread123 --yes
"""
)
@s3_options
@click.option("--thread-id", required=True, help="The thread to delete.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Only print what would be deleted (no confirmation needed).",
)
@_YES
def delete(conn: Connection, thread_id: str, dry_run: bool, yes: bool) -> None:
    """Delete a thread: every checkpoint and write, in every namespace.

    Other threads are untouched, even those whose id starts the same.
    Asks for confirmation on stderr unless --yes.

    Prints what went, from listings before and after: {"thread_id",
    "dry_run", "deleted": [{"checkpoint_ns", "checkpoint_id"}] newest first,
    "deleted_writes": count, "deleted_other": [keys that were neither, e.g.
    stray objects], "kept": [checkpoints that remain]}. If deleting fails
    part-way, that is still printed before the error.
    """
    if not dry_run:
        _check_can_confirm(yes)
    with conn.open() as saver:
        before = Holdings.of(saver, [thread_id])
        header: dict[str, JSON] = {"thread_id": thread_id, "dry_run": dry_run}
        if dry_run or not before.keys:
            nothing = Holdings.nothing(saver.layout)
            _emit({**header, **removal(before, nothing, with_thread=False)})
            return
        _confirm(
            yes,
            f"Delete {_threads_text([thread_id])} from {conn.s3_prefix}: "
            f"{before.summary()}?",
        )
        action = partial(saver.delete_thread, thread_id)
        _carry_out(saver, [thread_id], before, action, header, with_thread=False)


def _no_dry_run(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        raise click.UsageError(
            "prune has no --dry-run: which ancestors a DeltaChannel checkpoint "
            "needs is only found while pruning (it reads the checkpoints); "
            "'list' shows what a thread has, 'delete --dry-run' what it holds",
            ctx=ctx,
        )
    return value


@cli.command(
    epilog="""\b
Examples:
  s3-checkpoint prune --s3-prefix s3://my-bucket/checkpoints/ \\
    --thread-id thread123 --thread-id thread456
  s3-checkpoint prune --s3-prefix s3://my-bucket/checkpoints/ \\
    --thread-id thread123 --all --yes
"""
)
@s3_options
@click.option(
    "--thread-id",
    "thread_ids",
    multiple=True,
    required=True,
    help="A thread to prune; repeat the option for several.",
)
@click.option(
    "--keep-latest/--all",
    "keep_latest",
    default=True,
    help="Keep the newest checkpoint of each namespace with its writes "
    "(default), or delete every checkpoint and write of the threads.",
)
@_YES
@click.option(
    "--dry-run",
    is_flag=True,
    hidden=True,
    expose_value=False,
    callback=_no_dry_run,
)
def prune(
    conn: Connection, thread_ids: tuple[str, ...], keep_latest: bool, yes: bool
) -> None:
    """Prune threads down to their newest checkpoints (saver.prune).

    With --keep-latest (the default) each namespace keeps its newest
    checkpoint with its pending writes, and, when that checkpoint's state is
    built from DeltaChannel writes, the ancestors and writes it is rebuilt
    from, so the thread still resumes where it was. --all deletes everything
    of the threads. Asks for confirmation on stderr unless --yes.

    There is no --dry-run: the ancestors a DeltaChannel checkpoint needs are
    only known once the saver reads them while pruning.

    Prints what went, from listings before and after, as `delete` does,
    with "thread_ids" and "strategy" ("keep_latest" or "delete") and a
    "thread_id" in each entry of "deleted" and "kept".
    """
    _check_can_confirm(yes)
    threads = [*dict.fromkeys(thread_ids)]
    strategy = "keep_latest" if keep_latest else "delete"
    with conn.open() as saver:
        before = Holdings.of(saver, threads)
        header: dict[str, JSON] = {"thread_ids": [*threads], "strategy": strategy}
        if not before.keys:
            nothing = Holdings.nothing(saver.layout)
            _emit({**header, **removal(nothing, nothing, with_thread=True)})
            return
        plan = (
            "keep the newest checkpoint of each namespace (and the DeltaChannel "
            "ancestors it needs) and delete the rest"
            if keep_latest
            else "delete everything"
        )
        _confirm(
            yes,
            f"Prune {_threads_text(threads)} in {conn.s3_prefix} "
            f"({before.summary()}): {plan}?",
        )
        action = partial(saver.prune, threads, strategy=strategy)
        _carry_out(saver, threads, before, action, header, with_thread=True)


def main() -> None:
    """Entry point of the ``s3-checkpoint`` script."""
    cli.main(prog_name="s3-checkpoint")


if __name__ == "__main__":
    main()
