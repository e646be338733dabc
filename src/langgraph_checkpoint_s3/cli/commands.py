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

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import click

from .._keys import CheckpointRef
from .app import EXIT_CODES_HELP, App, CliError, ExitCode, State, quiet_serde
from .connection import Connection, s3_options
from .options import BRIEF, NAMESPACE, PROGRESS, THREAD
from .progress import wants_progress
from .rendering import JSON, emit

if TYPE_CHECKING:
    from langgraph.checkpoint.base import CheckpointTuple

    from ..saver import S3CheckpointSaver
    from .history import Entry, Node
    from .lineage import Key
    from .salvage import Unreadable
    from .walking import ThreadWalk

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

    The checkpoints are listed, then read and printed a window at a time
    (objects fetched concurrently), so a long thread's first show at once;
    values are decoded as in `dump`, DeltaChannel values rebuilt from the
    checkpoints read (no more request).
    """
    from .changes import rendered
    from .delta_state import walk_stream
    from .rendering import emit_streamed
    from .salvage import Unreadable
    from .walking import ThreadWalk

    errors: list[str] = []
    with conn.open() as saver:
        walk = ThreadWalk(saver, thread_id, checkpoint_ns)
        if not walk.total:
            note_nothing(saver, _no_checkpoints(thread_id, checkpoint_ns))
        uri = where(saver)

        def shown() -> Iterator[JSON]:
            items = walk.items(wants_progress(progress, beside_output=True))
            for item, how in walk_stream(items, walk.listed, saver.get_tuple):
                if isinstance(item, Unreadable):
                    errors.append(item.message)
                    yield _unreadable_entry(item)
                else:
                    yield rendered(item, how, brief=brief)

        emit_streamed({"thread_id": thread_id}, "checkpoints", shown())
    _end_unreadable(errors, walk.total, uri, thread_id)


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

    Reads every checkpoint and its writes as `read` does, a window at a
    time, printing each stretch once its parents are read. --format json
    gives {"thread_id", "checkpoints": [{"checkpoint_ns", "checkpoint_id",
    "parent_checkpoint_id", "step", "source", "ts", "ran", "pending_writes":
    [{"task_id", "channel"}], "interrupts", "errors"}]}, newest first.

    --patch adds, under each line, what that step changed against its
    parent, messages as a transcript, long values cut (--full: whole); in
    JSON, each entry's "patch" is that diff. No more request.
    """
    from .history import draw
    from .rendering import emit_streamed, terminal_width
    from .walking import ThreadWalk

    width = terminal_width()
    errors: list[str] = []
    with conn.open() as saver:
        walk = ThreadWalk(saver, thread_id, checkpoint_ns)
        if not walk.total:
            note_nothing(saver, _no_checkpoints(thread_id, checkpoint_ns))
        uri = where(saver)
        found = _history_pieces(
            saver, walk, wants_progress(progress, beside_output=True), patch, errors
        )
        if format_ == "json":
            emit_streamed(
                {"thread_id": thread_id},
                "checkpoints",
                (
                    _with_patch(entry.to_json(), patches)
                    for drawn, patches, _ in found
                    for entry in drawn
                ),
            )
        else:
            headed: list[str] = []
            for drawn, patches, later in found:
                lines = draw(drawn, width, later=later, headed=headed)
                if patches is not None:
                    from .diffing import woven

                    lines = woven(lines, patches, full)
                click.echo("\n".join(lines))
    _end_unreadable(errors, walk.total, uri, thread_id)


def _with_patch(
    entry: dict[str, JSON], patches: dict[str, dict[str, JSON] | None] | None
) -> dict[str, JSON]:
    if patches is not None:
        entry["patch"] = patches.get(str(entry["checkpoint_id"]))
    return entry


Piece = tuple[
    "list[Entry]", "dict[str, dict[str, JSON] | None] | None", "frozenset[Key]"
]
"""What ``history`` shows of a piece of a thread: its entries, their
patches (with --patch), and the checkpoint drawn after it."""


def _history_pieces(
    saver: S3CheckpointSaver,
    walk: ThreadWalk,
    progress: bool,
    patch: bool,
    errors: list[str],
) -> Iterator[Piece]:
    """The thread in pieces that draw alone (:func:`.history.pieces`), each
    as soon as it is read; an unreadable checkpoint's error is added to
    ``errors``."""
    from langgraph.checkpoint.base import CheckpointTuple

    from .changes import key_of, rendered, step_patches
    from .delta_state import walk_stream
    from .history import entries, pieces
    from .salvage import Unreadable

    items = walk.items(progress)
    if patch:
        pairs = walk_stream(items, walk.listed, saver.get_tuple)
    else:
        pairs = ((item, {}) for item in items)
    for piece, after in pieces(pairs, _node, walk.listed):
        tuples = [t for t, _ in piece if isinstance(t, CheckpointTuple)]
        bad = [t for t, _ in piece if isinstance(t, Unreadable)]
        errors += [t.message for t in bad]
        beyond = [after[0]] if after and isinstance(after[0], CheckpointTuple) else []
        drawn = entries(tuples, [t.entry() for t in bad], beyond)
        later = frozenset([_node(after)[0]]) if after else frozenset()
        patches = None
        if patch:
            shown = {
                key_of(t): rendered(t, how)
                for t, how in [*piece, *([after] if after else [])]
                if isinstance(t, CheckpointTuple)
            }
            patches = step_patches(tuples, shown)
        yield drawn, patches, later


def _node(pair: tuple[CheckpointTuple | Unreadable, object]) -> Node:
    from .lineage import host_of
    from .salvage import Unreadable
    from .walking import item_key

    item = pair[0]
    key = item_key(item)
    if isinstance(item, Unreadable):
        return key, None, None
    ns = key[0]
    parent = (item.parent_config or {}).get("configurable", {}).get("checkpoint_id")
    return (
        key,
        None if parent is None else (ns, parent),
        host_of(ns, item.metadata or {}),
    )


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
