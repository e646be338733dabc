"""The ``s3-checkpoint`` commands. Each prints one JSON document on stdout.

Every read and deletion goes through :class:`S3CheckpointSaver`: its public
methods, or a plan of :mod:`langgraph_checkpoint_s3.plans` run with
``saver.run`` (key listings, raw object reads for ``validate``, the thread
folders of ``threads``). The saver,
the plans and the other heavy modules load inside the commands, so ``--help``
and a malformed URI answer at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import click

from ..keys import CheckpointRef
from .app import EXIT_CODES_HELP, App, CliError, ExitCode, State, quiet_serde
from .connection import Connection, s3_options
from .progress import checkpoint_gets, progress_bar, wants_progress
from .rendering import JSON, emit, render_tuple

if TYPE_CHECKING:
    from langgraph.checkpoint.base import CheckpointTuple

    from ..saver import S3CheckpointSaver

__all__ = ["VALIDATE_CHUNK", "cli", "stdin_is_terminal"]

VALIDATE_CHUNK = 256
"""How many objects ``validate`` fetches per round: bodies are checked and
dropped chunk by chunk, so a large prefix is never all in memory."""


@click.group("s3-checkpoint", cls=App, epilog=EXIT_CODES_HELP)
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
    ctx.ensure_object(State).debug = debug
    if not debug:
        ctx.with_resource(quiet_serde())


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


# -- reading ----------------------------------------------------------------------


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
        from .. import plans  # after open(): a bad URI is refused at once

        refs = saver.run(
            plans.thread_checkpoints(saver.layout, thread_id, checkpoint_ns)
        )
    emit(
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
    with conn.open() as saver:
        from ..configs import config_of

        found = saver.get_tuple(
            config_of(CheckpointRef(thread_id, checkpoint_ns, checkpoint_id))
        )
    if found is None:
        raise CliError(
            f"checkpoint not found: thread {thread_id!r}, namespace "
            f"{checkpoint_ns!r}, id {checkpoint_id!r}",
            ExitCode.RUNTIME,
        )
    emit({"thread_id": thread_id, **render_tuple(found)})


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
        tuples = _read_all(saver, thread_id, checkpoint_ns, wants_progress(progress))
    emit({"thread_id": thread_id, "checkpoints": [render_tuple(t) for t in tuples]})


def _read_all(
    saver: S3CheckpointSaver, thread_id: str, checkpoint_ns: str | None, shown: bool
) -> list[CheckpointTuple]:
    from .. import plans
    from ..configs import thread_config

    plan = plans.list_checkpoints(saver.store, thread_config(thread_id, checkpoint_ns))
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
        from .. import plans

        found = saver.run(plans.thread_ids(saver.layout))
    emit({"threads": [*found]})


# -- validation -------------------------------------------------------------------


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
    """Check stored objects against the JSON Schemas in schemas/, and
    decode their values.

    Every checkpoint and write under the prefix (or of one thread) must be
    JSON, match its schema, and sit at the key its envelope names; any other
    key under the prefix is reported as unexpected.

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
    checkpoint nor a write is not fetched."""
    from .. import plans
    from .validation import schema_of, why_invalid

    layout = saver.layout
    failures: list[tuple[str, str]] = []
    for start in range(0, len(keys), VALIDATE_CHUNK):
        chunk = keys[start : start + VALIDATE_CHUNK]
        wanted = [key for key in chunk if schema_of(layout, key) is not None]
        bodies = saver.run(plans.fetch_objects(wanted), on_done=lambda _: tick())
        fetched = dict(zip(wanted, bodies, strict=True))
        for key in chunk:
            if key not in fetched:
                tick()
            reason = why_invalid(layout, key, fetched.get(key))
            if reason is not None:
                failures.append((key, reason))
    return sorted(failures)


# -- deleting ---------------------------------------------------------------------


def stdin_is_terminal() -> bool:
    """Whether someone can answer a confirmation question."""
    return sys.stdin is not None and sys.stdin.isatty()


def _check_can_confirm(yes: bool) -> None:
    """Refuse up front, before any request, when no one can answer the
    question: a prompt on a pipe would hang or read the wrong input."""
    if not yes and not stdin_is_terminal():
        raise CliError(
            "refusing to delete: stdin is not a terminal to confirm on; "
            "pass --yes to confirm (nothing was deleted)",
            ExitCode.RUNTIME,
        )


def _confirm(yes: bool, question: str) -> None:
    if not yes and not click.confirm(question, err=True):
        raise CliError("not confirmed: nothing was deleted", ExitCode.RUNTIME)


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
        from .removal import Holdings, carry_out, removal

        before = Holdings.of(saver, [thread_id])
        header: dict[str, JSON] = {"thread_id": thread_id, "dry_run": dry_run}
        if dry_run or not before.keys:
            nothing = Holdings.nothing(saver.layout)
            emit({**header, **removal(before, nothing, with_thread=False)})
            return
        _confirm(
            yes,
            f"Delete {_threads_text([thread_id])} from {conn.s3_prefix}: "
            f"{before.summary()}?",
        )
        action = partial(saver.delete_thread, thread_id)
        carry_out(saver, [thread_id], before, action, header, with_thread=False)


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
        from .removal import Holdings, carry_out, removal

        before = Holdings.of(saver, threads)
        header: dict[str, JSON] = {"thread_ids": [*threads], "strategy": strategy}
        if not before.keys:
            nothing = Holdings.nothing(saver.layout)
            emit({**header, **removal(nothing, nothing, with_thread=True)})
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
        carry_out(saver, threads, before, action, header, with_thread=True)
