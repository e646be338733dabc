"""What the bucket holds: ``stats`` (objects, bytes and dollars, from
listings; ``--channels`` reads every object) and ``validate`` (every object
against the committed schemas, its values decoded). Registered on the group
of :mod:`.commands`; reads go through the saver and its plans, in chunks of
:data:`.commands.commands.VALIDATE_CHUNK`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click

from . import commands
from .app import CliError, ExitCode
from .commands import cli, note_nothing, where
from .connection import Connection, s3_options
from .options import PROGRESS
from .progress import progress_bar, wants_progress
from .rendering import emit

if TYPE_CHECKING:
    from ..plans import Usage
    from ..protocol import Listed
    from ..saver import S3CheckpointSaver
    from .messages import Tokens
    from .reports import Channels
    from .validation import Lineages

__all__: list[str] = []


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
@click.option(
    "--tokens",
    is_flag=True,
    help="Also the tokens each thread's AI messages report (usage_metadata), "
    "from the newest state of each namespace: reads it as dump does.",
)
@PROGRESS
def stats(
    conn: Connection,
    thread_id: str | None,
    channels: bool,
    format_: str,
    progress: bool | None,
    tokens: bool,
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

    --tokens adds each thread's input, output and total tokens, summed
    from the usage_metadata of the AI messages in the newest state of each
    namespace (a message two namespaces hold counts once): as many
    requests as `dump` of each namespace.
    """
    with conn.open() as saver:
        from .. import plans
        from .locating import suspect_threads
        from .reports import stats_document, stats_table

        if channels:
            shown = wants_progress(progress)
            usage, sizes = _stats_with_channels(saver, thread_id, shown)
        else:
            usage, sizes = saver.run(plans.usage(saver.context, thread_id)), None
        if thread_id is None and suspect_threads(saver, [*usage.threads()]):
            usage = plans.Usage()  # a saver's folders one level down, not threads
        if usage.total().objects == 0:
            what = "no checkpoints or writes"
            if thread_id is not None:
                what = f"thread {thread_id!r} has no checkpoints or writes"
            note_nothing(saver, what)
        used = _tokens(saver, usage) if tokens else None
        uri = where(saver)
    if format_ == "table":
        click.echo("\n".join(stats_table(usage, sizes, used)))
    else:
        emit(stats_document(uri, usage, sizes, used))


def _tokens(saver: S3CheckpointSaver, usage: Usage) -> dict[str, dict[str, Tokens]]:
    """Per thread and namespace, the tokens of the newest state's AI
    messages (DeltaChannel values rebuilt), the default namespace first."""
    from .._configs import thread_config
    from .changes import with_delta
    from .messages import tokens_of
    from .rendering import to_json

    found: dict[str, dict[str, Tokens]] = {}
    for thread in usage.threads():
        states = []
        spaces = sorted(ns for owner, ns in usage.namespaces if owner == thread)
        for checkpoint_ns in spaces:
            newest = saver.get_tuple(thread_config(thread, checkpoint_ns))
            if newest is None:  # writes, no checkpoint
                continue
            item, _ = with_delta(saver, newest)
            values = to_json(item.checkpoint["channel_values"])
            states.append((checkpoint_ns, values if isinstance(values, dict) else {}))
        found[thread] = tokens_of(states)
    return found


def _stats_with_channels(
    saver: S3CheckpointSaver, thread_id: str | None, shown: bool
) -> tuple[Usage, Channels]:
    """The listing tallied, then every object read (a chunk at a time) and
    its values measured."""
    from .. import plans
    from .._codec import decode_checkpoint, decode_write, load_checkpoint, stand_ins
    from .app import say
    from .reports import Channels, SizeSerde, channel_bytes

    layout = saver.layout
    prefixes = (
        [layout.checkpoints_prefix(), layout.writes_prefix(), layout.values_prefix()]
        if thread_id is None
        else [
            layout.thread_checkpoints_prefix(thread_id),
            layout.thread_writes_prefix(thread_id),
            layout.thread_values_prefix(thread_id),
        ]
    )
    listed = saver.run(plans.concurrently(*(plans.list_objects(p) for p in prefixes)))
    objects: list[Listed] = [obj for found, _ in listed for obj in found]
    usage = plans.tally(layout, objects)
    wanted = [
        obj.key
        for obj in objects
        if layout.parse_checkpoint_key(obj.key) or layout.parse_write_key(obj.key)
    ]
    if wanted:
        say(f"--channels: reading {len(wanted)} objects (one GET each)")
    sizes, serde = Channels(), SizeSerde()
    with progress_bar(len(wanted), "Reading objects", shown) as tick:
        for start in range(0, len(wanted), commands.VALIDATE_CHUNK):
            chunk = wanted[start : start + commands.VALIDATE_CHUNK]
            bodies = saver.run(plans.fetch_objects(chunk), on_done=lambda _: tick())
            checkpoints, writes = [], []
            for key, body in zip(chunk, bodies, strict=True):
                if body is None:  # deleted since it was listed
                    continue
                if (ref := layout.parse_checkpoint_key(key)) is not None:
                    # A shared value counts where it is stored, as a value.
                    env = load_checkpoint(key, body, ref)
                    found = decode_checkpoint(serde, key, env, ref, stand_ins(env))
                    checkpoints.append(found)
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

    Prints {"checked": N, "failed": M, "failures": [{"key", "reason"}],
    "warnings": [...]} and exits 4 when anything failed. A warning (it fails
    nothing) names a checkpoint with two or more "loop" children, racing
    writers: {"key", "reason", "concurrent_children"}.
    """
    with conn.open() as saver:
        from .. import plans
        from .locating import suspect_keys
        from .validation import Lineages

        layout = saver.layout
        keys = saver.run(
            plans.list_keys(layout.prefix)
            if thread_id is None
            else plans.thread_keys(saver.context, thread_id)
        )
        if thread_id is None and suspect_keys(saver, keys):
            keys = []  # a saver's data one level down: not objects of this prefix
        shown = wants_progress(progress)
        lineages = Lineages(layout)
        with progress_bar(len(keys), "Validating objects", shown) as tick:
            failures = _validate_keys(saver, keys, tick, lineages)
        if not keys:
            what = (
                "no objects"
                if thread_id is None
                else f"thread {thread_id!r} has no objects"
            )
            note_nothing(saver, what)
    emit(
        {
            "checked": len(keys),
            "failed": len(failures),
            "failures": [{"key": key, "reason": why} for key, why in failures],
            "warnings": lineages.warnings(),
        }
    )
    if failures:
        raise CliError(
            f"{len(failures)} of {len(keys)} objects failed validation",
            ExitCode.RUNTIME,
        )


def _validate_keys(
    saver: S3CheckpointSaver,
    keys: Sequence[str],
    tick: Callable[[], None],
    lineages: Lineages,
) -> list[tuple[str, str]]:
    """Fetch and check the keys, a chunk at a time (each chunk's GETs run
    concurrently); the (key, reason) of failures. A key that is neither a
    checkpoint, a write, a head nor a shared value is not fetched."""
    from .. import plans
    from ..errors import CorruptObjectError
    from .validation import schema_of, why_invalid

    layout = saver.layout
    listed = set(keys)
    failures: list[tuple[str, str]] = []
    for start in range(0, len(keys), commands.VALIDATE_CHUNK):
        chunk = keys[start : start + commands.VALIDATE_CHUNK]
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
            body = fetched.get(key)
            reason = why_invalid(layout, key, body, listed)
            if reason is not None:
                failures.append((key, reason))
            elif body is not None:
                lineages.note(key, body)
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
