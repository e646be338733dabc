"""The ``s3-checkpoint`` group and its reading commands: ``threads``, ``list``,
``dump``, ``read`` and ``history`` (``stats`` and ``validate`` are in
:mod:`.storage`, the deleting ones in :mod:`.cleanup`). Each prints one
document on stdout: JSON, or the text ``history`` draws for a person.

Every read goes through :class:`S3CheckpointSaver`: its public methods, or a
plan of :mod:`langgraph_checkpoint_s3.plans` or :mod:`..plans` run with
``saver.run`` (key listings, raw object reads for ``validate`` and ``stats
--channels``, the thread folders of ``threads``). The saver, the plans and
the other heavy modules load inside the commands, so ``--help`` and a
malformed URI answer at once. An empty result says so on stderr, naming the
prefix that holds a saver's data when the one given is off by a level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from .._keys import CheckpointRef
from .app import EXIT_CODES_HELP, App, CliError, ExitCode, State, quiet_serde
from .connection import Connection, s3_options
from .options import BRIEF, NAMESPACE, PROGRESS, THREAD
from .progress import checkpoint_gets, progress_bar, wants_progress
from .rendering import JSON, emit

if TYPE_CHECKING:
    from langgraph.checkpoint.base import CheckpointTuple

    from ..saver import S3CheckpointSaver
    from .salvage import Unreadable

__all__ = ["VALIDATE_CHUNK", "cli", "note_nothing", "where"]

FULL = click.option(
    "--full", is_flag=True, help="Show long values and messages whole, uncut."
)
"""``--full`` of ``diff`` and ``history --patch``."""

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


def where(saver: S3CheckpointSaver) -> str:
    """The saver's bucket and prefix, as an ``s3://`` URI."""
    from .locating import where as uri

    return uri(saver)


def note_nothing(saver: S3CheckpointSaver, what: str) -> None:
    """Say on stderr that ``what`` is empty under the saver's prefix (and
    where a saver's data is, when a prefix nearby holds some)."""
    from .locating import note_empty

    note_empty(saver, f"{what} under {where(saver)}")


def _no_checkpoints(thread_id: str, checkpoint_ns: str | None) -> str:
    place = "" if checkpoint_ns is None else f" in namespace {checkpoint_ns!r}"
    return f"thread {thread_id!r} has no checkpoints{place}"


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
            plans.thread_checkpoints(saver.context, thread_id, checkpoint_ns)
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
            note_nothing(saver, _no_checkpoints(thread_id, checkpoint_ns))
        uri = where(saver)
    emit({"thread_id": thread_id, "checkpoints": entries})
    bad = [
        f"{saver.layout.checkpoint_key(ref)}: {entry['error']}"
        for ref, entry in zip(refs, entries, strict=True)
        if isinstance(entry, dict) and "error" in entry
    ]
    _end_unreadable(bad, len(entries), uri, thread_id)


def _summaries(
    saver: S3CheckpointSaver, refs: Sequence[CheckpointRef]
) -> list[dict[str, JSON]]:
    """Step, source and time of each checkpoint: its object read, its values
    left undecoded (only sizes are taken, see ``reports.SizeSerde``); or
    the error of one that cannot be read."""
    from .._codec import decode_checkpoint, load_checkpoint, stand_ins
    from ..errors import CorruptObjectError
    from .reports import SizeSerde
    from .salvage import each_object, why_unreadable

    layout, sizes = saver.layout, SizeSerde()
    found: list[dict[str, JSON]] = []
    for start in range(0, len(refs), VALIDATE_CHUNK):
        chunk = refs[start : start + VALIDATE_CHUNK]
        keys = [layout.checkpoint_key(ref) for ref in chunk]
        bodies = saver.run(each_object(keys))
        for ref, key, body in zip(chunk, keys, bodies, strict=True):
            if body is None:  # deleted since it was listed
                found.append({"step": None, "source": None, "ts": None})
                continue
            try:
                if isinstance(body, CorruptObjectError):
                    raise body
                env = load_checkpoint(key, body, ref)
                stored = decode_checkpoint(sizes, key, env, ref, stand_ins(env))
            except CorruptObjectError as exc:
                found.append({"error": why_unreadable(layout, ref, exc)})
                continue
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
    DeltaChannel values, which a checkpoint stores only now and then, are
    rebuilt from the ancestors' writes (get_delta_channel_history) when
    they are messages; "delta_channels" says how each was had, or holds
    the snapshot and the writes of one whose reducer is the graph's own.
    Exits 4 when there is no such checkpoint.
    """
    with conn.open() as saver:
        from .._configs import config_of, thread_config

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
        from .changes import rendered, with_delta

        shown = rendered(*with_delta(saver, found), brief=brief)
    emit({"thread_id": thread_id, **shown})


def _not_found(
    saver: S3CheckpointSaver,
    thread_id: str,
    checkpoint_ns: str,
    checkpoint_id: str | None,
) -> str:
    from .locating import namespaces_hint, nearby, uri_of

    if checkpoint_id is None:
        message = _no_checkpoints(thread_id, checkpoint_ns)
    else:
        message = (
            f"checkpoint not found: thread {thread_id!r}, namespace "
            f"{checkpoint_ns!r}, id {checkpoint_id!r}"
        )
    if hint := namespaces_hint(saver, thread_id, checkpoint_ns):
        return message + hint  # the data is here, in another namespace
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

    Objects are fetched concurrently; values are decoded as in `dump`,
    DeltaChannel values rebuilt from the checkpoints read (no more request).
    """
    from .salvage import Unreadable

    with conn.open() as saver:
        items = _read_thread(saver, thread_id, checkpoint_ns, wants_progress(progress))
        if not items:
            note_nothing(saver, _no_checkpoints(thread_id, checkpoint_ns))
        uri = where(saver)
    from .changes import key_of, shown_all

    readable = [t for t in items if not isinstance(t, Unreadable)]
    shown = shown_all(readable, brief=brief)
    emit(
        {
            "thread_id": thread_id,
            "checkpoints": [
                _unreadable_entry(t) if isinstance(t, Unreadable) else shown[key_of(t)]
                for t in items
            ],
        }
    )
    _end_unreadable(
        [t.message for t in items if isinstance(t, Unreadable)],
        len(items),
        uri,
        thread_id,
    )


def _read_thread(
    saver: S3CheckpointSaver, thread_id: str, checkpoint_ns: str | None, shown: bool
) -> list[CheckpointTuple | Unreadable]:
    """As :func:`_read_all`; when an object cannot be read, every checkpoint
    again on its own, those that cannot be read as :class:`.salvage.Unreadable`."""
    from .. import plans
    from ..errors import CorruptObjectError
    from .salvage import each_checkpoint

    try:
        return [*_read_all(saver, thread_id, checkpoint_ns, shown)]
    except CorruptObjectError:
        pass
    refs = saver.run(plans.thread_checkpoints(saver.context, thread_id, checkpoint_ns))
    with progress_bar(len(refs), "Reading checkpoints one by one", shown) as tick:
        return saver.run(
            each_checkpoint(saver.context, refs),
            on_done=checkpoint_gets(saver.layout, tick),
        )


def _unreadable_entry(item: Unreadable) -> dict[str, JSON]:
    return {
        "checkpoint_ns": item.ref.checkpoint_ns,
        "checkpoint_id": item.ref.checkpoint_id,
        "error": item.reason,
    }


def _end_unreadable(
    errors: Sequence[str], total: int, uri: str, thread_id: str
) -> None:
    """Once the rest is shown: fail (exit 4) when a checkpoint could not be read."""
    from .salvage import unreadable_error

    if errors:
        raise CliError(
            unreadable_error(errors[0], len(errors), total, uri, thread_id),
            ExitCode.RUNTIME,
        )


def _patches(items: Sequence[object]) -> dict[str, dict[str, JSON] | None]:
    from langgraph.checkpoint.base import CheckpointTuple

    from .changes import step_patches

    return step_patches([t for t in items if isinstance(t, CheckpointTuple)])


def _with_patch(
    entry: dict[str, JSON], patches: dict[str, dict[str, JSON] | None] | None
) -> dict[str, JSON]:
    if patches is not None:
        entry["patch"] = patches.get(str(entry["checkpoint_id"]))
    return entry


def _read_all(
    saver: S3CheckpointSaver, thread_id: str, checkpoint_ns: str | None, shown: bool
) -> list[CheckpointTuple]:
    from .. import plans
    from .._configs import thread_config

    plan = plans.list_checkpoints(
        saver.context, thread_config(thread_id, checkpoint_ns)
    )
    if not shown:
        return saver.run(plan)
    # The bar needs a length up front: one more LIST per 1,000 checkpoints.
    total = len(
        saver.run(plans.thread_checkpoints(saver.context, thread_id, checkpoint_ns))
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
@click.option(
    "--patch",
    "-p",
    is_flag=True,
    help="Under each checkpoint, what its step changed (as `diff` shows it).",
)
@FULL
def history(
    conn: Connection,
    thread_id: str,
    checkpoint_ns: str | None,
    format_: str,
    progress: bool | None,
    patch: bool,
    full: bool,
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

    --patch adds, under each line, what that step changed against its
    parent, messages as a transcript, long values cut (--full: whole); in
    JSON, each entry's "patch" is that diff. No more request.
    """
    from .history import draw, entries
    from .rendering import terminal_width
    from .salvage import Unreadable

    with conn.open() as saver:
        items = _read_thread(saver, thread_id, checkpoint_ns, wants_progress(progress))
        bad = [t for t in items if isinstance(t, Unreadable)]
        found = entries(
            [t for t in items if not isinstance(t, Unreadable)],
            [t.entry() for t in bad],
        )
        if not found:
            note_nothing(saver, _no_checkpoints(thread_id, checkpoint_ns))
        uri = where(saver)
    patches = _patches(items) if patch else None
    if format_ == "json":
        emit(
            {
                "thread_id": thread_id,
                "checkpoints": [_with_patch(e.to_json(), patches) for e in found],
            }
        )
    elif found:
        lines = draw(found, terminal_width())
        if patches is not None:
            from .diffing import woven

            lines = woven(lines, patches, full)
        click.echo("\n".join(lines))
    _end_unreadable([t.message for t in bad], len(items), uri, thread_id)


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

        found = saver.run(plans.thread_ids(saver.context))
        elsewhere = suspect_threads(saver, found)
        if elsewhere:
            found = []
        if not found:
            note_empty(saver, f"no threads under {where(saver)}", elsewhere)
    emit({"threads": [*found]})
