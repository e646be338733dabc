"""The ``s3-checkpoint`` group and its reading commands: ``threads``, ``list``,
``dump``, ``read``, ``history``, ``stats`` and ``validate`` (the deleting ones
are in :mod:`.cleanup`). Each prints one document on stdout: JSON, or the
text ``history`` and ``stats --format table`` draw for a person.

Every read goes through :class:`S3CheckpointSaver`: its public methods, or a
plan of :mod:`langgraph_checkpoint_s3.plans` or :mod:`..retention` run with
``saver.run`` (key listings, raw object reads for ``validate`` and ``stats
--channels``, the thread folders of ``threads``). The saver, the plans and
the other heavy modules load inside the commands, so ``--help`` and a
malformed URI answer at once. An empty result says so on stderr, naming the
prefix that holds a saver's data when the one given is off by a level.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click

from ..keys import CheckpointRef
from .app import EXIT_CODES_HELP, App, CliError, ExitCode, State, quiet_serde
from .connection import Connection, s3_options
from .options import BRIEF, NAMESPACE, PROGRESS, THREAD
from .progress import checkpoint_gets, progress_bar, wants_progress
from .rendering import JSON, emit, render_tuple

if TYPE_CHECKING:
    from langgraph.checkpoint.base import CheckpointTuple

    from ..protocol import Listed
    from ..retention import Usage
    from ..saver import S3CheckpointSaver
    from .reports import Channels

__all__ = ["VALIDATE_CHUNK", "cli"]

VALIDATE_CHUNK = 256
"""How many objects ``validate``, ``list --long`` and ``stats --channels``
fetch per round: bodies are used and dropped chunk by chunk, so a large
prefix is never all in memory."""


@click.group("s3-checkpoint", cls=App, epilog=EXIT_CODES_HELP)
@click.option(
    "--debug", is_flag=True, help="Show tracebacks of errors (also after COMMAND)."
)
@click.version_option(
    package_name="langgraph-checkpoint-s3",
    prog_name="s3-checkpoint",
    message="%(prog)s %(version)s",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Inspect, measure and clean up LangGraph checkpoints stored in S3 by
    S3CheckpointSaver.

    Each command prints one JSON document on stdout (history and stats can
    draw text instead); notes, such as an empty result, go to stderr.
    Credentials come from the standard AWS chain (--profile, environment,
    ~/.aws, instance roles).

    \b
    Example:
      s3-checkpoint list --s3-prefix s3://my-bucket/checkpoints/ \\
        --thread-id thread123
    """
    state = ctx.ensure_object(State)
    state.debug = state.debug or debug
    ctx.with_resource(quiet_serde(state))


def _where(saver: S3CheckpointSaver) -> str:
    from .locating import uri_of

    return uri_of(saver.bucket_name, saver.layout.prefix)


def _note_empty(saver: S3CheckpointSaver, what: str) -> None:
    from .locating import note_empty

    note_empty(saver, f"{what} under {_where(saver)}")


def _no_checkpoints(thread_id: str, checkpoint_ns: str | None) -> str:
    where = "" if checkpoint_ns is None else f" in namespace {checkpoint_ns!r}"
    return f"thread {thread_id!r} has no checkpoints{where}"


# -- reading ----------------------------------------------------------------------


@cli.command(
    "list",
    epilog="""\b
Examples:
  s3-checkpoint list --s3-prefix s3://my-bucket/checkpoints/ --thread-id thread123
  s3-checkpoint list --s3-prefix s3://my-bucket/checkpoints/ --thread-id thread123 \\
    --long
""",
)
@s3_options
@THREAD
@NAMESPACE
@click.option(
    "--long",
    "-l",
    "long_",
    is_flag=True,
    help="Also each checkpoint's step, source and time (one GET per checkpoint).",
)
def list_command(
    conn: Connection, thread_id: str, checkpoint_ns: str | None, long_: bool
) -> None:
    """List a thread's (checkpoint_ns, checkpoint_id) pairs, newest first.

    Reads key listings only (one LIST per 1,000 checkpoints), no objects;
    --long reads each checkpoint too, for its "step", "source" and "ts".
    A thread without checkpoints gives an empty list (and a note on stderr).
    """
    with conn.open() as saver:
        from .. import plans  # after open(): a bad URI is refused at once

        refs = saver.run(
            plans.thread_checkpoints(saver.layout, thread_id, checkpoint_ns)
        )
        entries: list[JSON] = [
            {"checkpoint_ns": ref.checkpoint_ns, "checkpoint_id": ref.checkpoint_id}
            for ref in refs
        ]
        if long_:
            entries = [
                {**entry, **more}  # type: ignore[dict-item]
                for entry, more in zip(entries, _summaries(saver, refs), strict=True)
            ]
        if not refs:
            _note_empty(saver, _no_checkpoints(thread_id, checkpoint_ns))
    emit({"thread_id": thread_id, "checkpoints": entries})


def _summaries(
    saver: S3CheckpointSaver, refs: Sequence[CheckpointRef]
) -> list[dict[str, JSON]]:
    """Step, source and time of each checkpoint: its object read, its values
    left undecoded (only sizes are taken, see ``reports.SizeSerde``)."""
    from .. import plans
    from ..codec import decode_checkpoint
    from .reports import SizeSerde

    layout, sizes = saver.layout, SizeSerde()
    found: list[dict[str, JSON]] = []
    for start in range(0, len(refs), VALIDATE_CHUNK):
        chunk = refs[start : start + VALIDATE_CHUNK]
        keys = [layout.checkpoint_key(ref) for ref in chunk]
        bodies = saver.run(plans.fetch_objects(keys))
        for ref, key, body in zip(chunk, keys, bodies, strict=True):
            if body is None:  # deleted since it was listed
                found.append({"step": None, "source": None, "ts": None})
                continue
            stored = decode_checkpoint(sizes, key, body, ref)
            metadata = dict(stored.metadata)
            found.append(
                {
                    "step": _plain(metadata.get("step")),
                    "source": _plain(metadata.get("source")),
                    "ts": str(stored.checkpoint.get("ts")),
                }
            )
    return found


def _plain(value: object) -> JSON:
    return value if isinstance(value, (int, str)) or value is None else repr(value)


@cli.command(
    epilog="""\b
Examples:
  s3-checkpoint dump --s3-prefix s3://my-bucket/checkpoints/ --thread-id thread123
  s3-checkpoint dump --s3-prefix s3://my-bucket/checkpoints/ \\
    --thread-id thread123 --checkpoint-ns "" --checkpoint-id 1f0a... --brief
"""
)
@s3_options
@THREAD
@click.option(
    "--checkpoint-ns",
    default="",
    help='The namespace (default: "", the default one).',
)
@click.option(
    "--checkpoint-id",
    help="The checkpoint to dump (default: the newest of the namespace).",
)
@BRIEF
def dump(
    conn: Connection,
    thread_id: str,
    checkpoint_ns: str,
    checkpoint_id: str | None,
    brief: bool,
) -> None:
    """Dump one checkpoint with its metadata and pending writes: the one
    --checkpoint-id names, or the newest of the namespace.

    Values are decoded into readable JSON: messages and models as dicts,
    bytes as base64, datetimes ISO-8601; a value that cannot be decoded
    (e.g. encrypted) is shown as stored, {"type": ..., "data": base64}.
    Objects of classes outside LangGraph's safe list show as the data they
    were stored with: nothing a bucket holds gets imported or called.
    Exits 4 when there is no such checkpoint.
    """
    with conn.open() as saver:
        from ..configs import config_of, thread_config

        config = (
            thread_config(thread_id, checkpoint_ns)
            if checkpoint_id is None
            else config_of(CheckpointRef(thread_id, checkpoint_ns, checkpoint_id))
        )
        found = saver.get_tuple(config)
        if found is None:
            raise CliError(
                _not_found(saver, thread_id, checkpoint_ns, checkpoint_id),
                ExitCode.RUNTIME,
            )
    emit({"thread_id": thread_id, **render_tuple(found, brief=brief)})


def _not_found(
    saver: S3CheckpointSaver,
    thread_id: str,
    checkpoint_ns: str,
    checkpoint_id: str | None,
) -> str:
    from .locating import nearby, uri_of

    if checkpoint_id is None:
        message = _no_checkpoints(thread_id, checkpoint_ns)
    else:
        message = (
            f"checkpoint not found: thread {thread_id!r}, namespace "
            f"{checkpoint_ns!r}, id {checkpoint_id!r}"
        )
    elsewhere = saver.run(nearby(saver.layout))
    if elsewhere:
        uri = uri_of(saver.bucket_name, elsewhere[0])
        message += f"; a saver's data is under {uri} (pass --s3-prefix {uri})"
    return message


@cli.command(
    epilog="""\b
Example:
  s3-checkpoint read --s3-prefix s3://my-bucket/checkpoints/ --thread-id thread123
"""
)
@s3_options
@THREAD
@NAMESPACE
@PROGRESS
@BRIEF
def read(
    conn: Connection,
    thread_id: str,
    checkpoint_ns: str | None,
    progress: bool | None,
    brief: bool,
) -> None:
    """Read every checkpoint of a thread, newest first, with full data.

    Objects are fetched concurrently; values are decoded as in `dump`.
    """
    with conn.open() as saver:
        tuples = _read_all(saver, thread_id, checkpoint_ns, wants_progress(progress))
        if not tuples:
            _note_empty(saver, _no_checkpoints(thread_id, checkpoint_ns))
    emit(
        {
            "thread_id": thread_id,
            "checkpoints": [render_tuple(t, brief=brief) for t in tuples],
        }
    )


def _read_all(
    saver: S3CheckpointSaver, thread_id: str, checkpoint_ns: str | None, shown: bool
) -> list[CheckpointTuple]:
    from .. import plans
    from ..configs import thread_config

    plan = plans.list_checkpoints(
        saver.context, thread_config(thread_id, checkpoint_ns)
    )
    if not shown:
        return saver.run(plan)
    # The bar needs a length up front: one more LIST per 1,000 checkpoints.
    total = len(
        saver.run(plans.thread_checkpoints(saver.layout, thread_id, checkpoint_ns))
    )
    with progress_bar(total, "Reading checkpoints", shown) as tick:
        return saver.run(plan, on_done=checkpoint_gets(saver.layout, tick))


@cli.command(
    epilog="""\b
Examples:
  s3-checkpoint history --s3-prefix s3://my-bucket/checkpoints/ --thread-id thread123
  s3-checkpoint history --s3-prefix s3://my-bucket/checkpoints/ \\
    --thread-id thread123 --format json
"""
)
@s3_options
@THREAD
@NAMESPACE
@click.option(
    "--format",
    "format_",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One line per checkpoint with the branches drawn, or JSON.",
)
@PROGRESS
def history(
    conn: Connection,
    thread_id: str,
    checkpoint_ns: str | None,
    format_: str,
    progress: bool | None,
) -> None:
    """What happened in a thread: one line per checkpoint, newest first,
    with the branches that time travel (resuming from an older checkpoint)
    makes drawn as a tree, as `git log --graph` draws branches.

    \b
    Each line: the graph, the checkpoint id, its namespace (when not the
    default one), step, source (input, loop, update, fork), time (UTC), the
    nodes that ran to make it ("ran ?" when its parent is gone), its pending
    writes, and the value of each interrupt and error among them.

    Reads every checkpoint and its writes, as `read` does. --format json
    gives {"thread_id", "checkpoints": [{"checkpoint_ns", "checkpoint_id",
    "parent_checkpoint_id", "step", "source", "ts", "ran", "pending_writes":
    [{"task_id", "channel"}], "interrupts", "errors"}]}, newest first.
    """
    from .history import draw, entries

    with conn.open() as saver:
        tuples = _read_all(saver, thread_id, checkpoint_ns, wants_progress(progress))
        found = entries(tuples)
        if not found:
            _note_empty(saver, _no_checkpoints(thread_id, checkpoint_ns))
    if format_ == "json":
        emit({"thread_id": thread_id, "checkpoints": [e.to_json() for e in found]})
    elif found:
        click.echo("\n".join(draw(found)))


@cli.command(
    epilog="""\b
Example:
  s3-checkpoint threads --s3-prefix s3://my-bucket/checkpoints/
"""
)
@s3_options
def threads(conn: Connection) -> None:
    """List the thread ids that have checkpoints under the prefix.

    Reads one LIST page per 1,000 threads, no objects. When the prefix is
    one level above a saver's (its folders checkpoints/ and writes/ would
    show as threads), prints no threads and says on stderr where the data is.
    """
    with conn.open() as saver:
        from .. import plans
        from .locating import note_empty, suspect_threads

        found = saver.run(plans.thread_ids(saver.layout))
        elsewhere = suspect_threads(saver, found)
        if elsewhere:
            found = []
        if not found:
            note_empty(saver, f"no threads under {_where(saver)}", elsewhere)
    emit({"threads": [*found]})


# -- storage ----------------------------------------------------------------------


@cli.command(
    epilog="""\b
Examples:
  s3-checkpoint stats --s3-prefix s3://my-bucket/checkpoints/
  s3-checkpoint stats --s3-prefix s3://my-bucket/checkpoints/ --format table
  s3-checkpoint stats --s3-prefix s3://my-bucket/checkpoints/ \\
    --thread-id thread123 --channels
"""
)
@s3_options
@click.option("--thread-id", help="Only this thread.")
@click.option(
    "--channels",
    is_flag=True,
    help="Also the bytes of each channel's values: reads every object (one GET "
    "each), with a progress bar.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="JSON, or a table for a person.",
)
@PROGRESS
def stats(
    conn: Connection,
    thread_id: str | None,
    channels: bool,
    format_: str,
    progress: bool | None,
) -> None:
    """What the prefix (or one thread) stores: objects and bytes per thread
    and namespace, the oldest and newest write, and the monthly storage cost
    at S3 Standard prices ($0.023 per GB-month, GB = 2^30 bytes; requests
    not included).

    From LIST alone: one LIST per 1,000 objects, no GET. --channels adds
    the bytes of each channel's values (their serialized bytes, before
    base64, in checkpoints and in writes): that reads every object, one GET
    each, and says so on stderr with a progress bar (default: when stderr
    is a terminal; --progress/--no-progress decide).
    """
    with conn.open() as saver:
        from .. import retention
        from .reports import stats_document, stats_table

        if channels:
            shown = wants_progress(progress)
            usage, sizes = _stats_with_channels(saver, thread_id, shown)
        else:
            usage, sizes = saver.run(retention.usage(saver.layout, thread_id)), None
        if usage.total().objects == 0:
            what = "no checkpoints or writes"
            if thread_id is not None:
                what = f"thread {thread_id!r} has no checkpoints or writes"
            _note_empty(saver, what)
        where = _where(saver)
    if format_ == "table":
        click.echo("\n".join(stats_table(usage, sizes)))
    else:
        emit(stats_document(where, usage, sizes))


def _stats_with_channels(
    saver: S3CheckpointSaver, thread_id: str | None, shown: bool
) -> tuple[Usage, Channels]:
    """The listing tallied, then every object read (a chunk at a time) and
    its values measured."""
    from .. import plans, retention
    from ..codec import decode_checkpoint, decode_write
    from .app import say
    from .reports import Channels, SizeSerde, channel_bytes

    layout = saver.layout
    prefixes = (
        [layout.checkpoints_prefix(), layout.writes_prefix()]
        if thread_id is None
        else [
            layout.thread_checkpoints_prefix(thread_id),
            layout.thread_writes_prefix(thread_id),
        ]
    )
    listed = saver.run(plans.concurrently(*(plans.list_objects(p) for p in prefixes)))
    objects: list[Listed] = [obj for found, _ in listed for obj in found]
    usage = retention.tally(layout, objects)
    wanted = [
        obj.key
        for obj in objects
        if layout.parse_checkpoint_key(obj.key) or layout.parse_write_key(obj.key)
    ]
    if wanted:
        say(f"--channels: reading {len(wanted)} objects (one GET each)")
    sizes, serde = Channels(), SizeSerde()
    with progress_bar(len(wanted), "Reading objects", shown) as tick:
        for start in range(0, len(wanted), VALIDATE_CHUNK):
            chunk = wanted[start : start + VALIDATE_CHUNK]
            bodies = saver.run(plans.fetch_objects(chunk), on_done=lambda _: tick())
            checkpoints, writes = [], []
            for key, body in zip(chunk, bodies, strict=True):
                if body is None:  # deleted since it was listed
                    continue
                if (ref := layout.parse_checkpoint_key(key)) is not None:
                    checkpoints.append(decode_checkpoint(serde, key, body, ref))
                elif (write := layout.parse_write_key(key)) is not None:
                    of = write.checkpoint
                    stored = decode_write(serde, key, body, write)
                    writes.append((of.thread_id, of.checkpoint_ns, stored))
            channel_bytes(checkpoints, writes, into=sizes)
    return usage, sizes


# -- validation -------------------------------------------------------------------


@cli.command(
    epilog="""\b
Examples:
  s3-checkpoint validate --s3-prefix s3://my-bucket/checkpoints/
  s3-checkpoint validate --s3-prefix s3://my-bucket/checkpoints/ --thread-id t1
"""
)
@s3_options
@click.option("--thread-id", help="Only this thread's checkpoints, writes and heads.")
@PROGRESS
def validate(conn: Connection, thread_id: str | None, progress: bool | None) -> None:
    """Check stored objects against the JSON Schemas in schemas/, and
    decode their values.

    Every checkpoint, write and head under the prefix (or of one thread)
    must be JSON, match its schema, and sit at the key its envelope names;
    any other key under the prefix is reported as unexpected.

    Every stored value (channel values, other checkpoint fields, metadata
    that is not plain JSON, write values) must decode with the strict
    serializer `dump` uses, when its tag is one LangGraph's
    JsonPlusSerializer reads (msgpack, json, bytes, bytearray, null; a
    pickle value must be a well-formed pickle stream, parsed, never
    unpickled). Values of other tags belong to a serializer the CLI does not
    have, e.g. EncryptedSerializer's msgpack+aes, which needs its key: they
    are not checked and not failures. The reason names the field, e.g.
    "channel 'v': cannot decode its 'msgpack' value (...)".

    Prints {"checked": N, "failed": M, "failures": [{"key", "reason"}]} and
    exits 4 when anything failed.
    """
    with conn.open() as saver:
        from .. import plans

        layout = saver.layout
        keys = saver.run(
            plans.list_keys(layout.prefix)
            if thread_id is None
            else plans.thread_keys(layout, thread_id)
        )
        shown = wants_progress(progress)
        with progress_bar(len(keys), "Validating objects", shown) as tick:
            failures = _validate_keys(saver, keys, tick)
        if not keys:
            what = (
                "no objects"
                if thread_id is None
                else f"thread {thread_id!r} has no objects"
            )
            _note_empty(saver, what)
    emit(
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


def _validate_keys(
    saver: S3CheckpointSaver, keys: Sequence[str], tick: Callable[[], None]
) -> list[tuple[str, str]]:
    """Fetch and check the keys, a chunk at a time (each chunk's GETs run
    concurrently); the (key, reason) of failures. A key that is neither a
    checkpoint, a write nor a head is not fetched."""
    from .. import plans
    from ..errors import CorruptObjectError
    from .validation import schema_of, why_invalid

    layout = saver.layout
    failures: list[tuple[str, str]] = []
    for start in range(0, len(keys), VALIDATE_CHUNK):
        chunk = keys[start : start + VALIDATE_CHUNK]
        wanted = [key for key in chunk if schema_of(layout, key) is not None]
        try:
            bodies = saver.run(plans.fetch_objects(wanted), on_done=lambda _: tick())
        except CorruptObjectError:
            # A body that does not even decompress fails the whole round:
            # fetch the chunk again one key at a time to name each such key.
            bodies = [_fetch_one(saver, key, failures) for key in wanted]
        fetched = dict(zip(wanted, bodies, strict=True))
        for key in chunk:
            if key not in fetched:
                tick()
            reason = why_invalid(layout, key, fetched.get(key))
            if reason is not None:
                failures.append((key, reason))
    return sorted(failures)


def _fetch_one(
    saver: S3CheckpointSaver, key: str, failures: list[tuple[str, str]]
) -> bytes | None:
    from .. import plans
    from ..errors import CorruptObjectError

    try:
        (body,) = saver.run(plans.fetch_objects([key]))
    except CorruptObjectError as exc:
        failures.append((key, str(exc).removeprefix(f"{key}: ")))
        return None  # reported here; nothing more to check
    body_: bytes | None = body
    return body_
