"""The commands that delete: ``delete``, ``prune`` and ``expire``. Each asks
for confirmation on stderr unless ``--yes``, refuses up front when no one can
answer, and prints what went.

Registered on the group of :mod:`.commands` when the package is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import click

from .app import CliError, ExitCode
from .commands import cli, where
from .connection import Connection, s3_options
from .options import PROGRESS, YES, duration_option
from .progress import progress_bar, wants_progress
from .rendering import JSON, emit

if TYPE_CHECKING:
    import datetime

    from ..plans import Expiry, IdleThread
    from ..saver import S3CheckpointSaver
    from .removal import Holdings

__all__ = ["stdin_is_terminal"]


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
    shown = [repr(t) for t in thread_ids[:5]]
    if len(thread_ids) > 5:
        shown.append(f"and {len(thread_ids) - 5} more")
    names = ", ".join(shown)
    return f"thread {names}" if len(thread_ids) == 1 else f"threads {names}"


def _refuse_absent(
    saver: S3CheckpointSaver, before: Holdings, thread_ids: Sequence[str]
) -> None:
    """Exit 4 (not found) before deleting anything when a thread named holds
    no key: a misspelled id must fail a scheduled job, not pass for done."""
    from .locating import elsewhere_hint

    absent = before.absent(thread_ids)
    if absent:
        raise CliError(
            f"{_threads_text(absent)} not found under {where(saver)}: nothing "
            f"was deleted{elsewhere_hint(saver)}",
            ExitCode.RUNTIME,
        )


# -- delete -----------------------------------------------------------------------


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
@YES
def delete(conn: Connection, thread_id: str, dry_run: bool, yes: bool) -> None:
    """Delete a thread: every checkpoint and write, in every namespace.

    Other threads are untouched, even those whose id starts the same.
    Asks for confirmation on stderr unless --yes.

    Prints what went, from listings before and after: {"thread_id",
    "dry_run", "deleted": [{"checkpoint_ns", "checkpoint_id"}] newest first,
    "deleted_writes": count, "deleted_other": [keys that were neither, e.g.
    stray objects], "kept": [checkpoints that remain]}. If deleting fails
    part-way, that is still printed before the error. A thread with no
    objects exits 4 (not found), so a misspelled id fails a scheduled job.
    """
    if not dry_run:
        _check_can_confirm(yes)
    with conn.open() as saver:
        from .locating import refuse_layout_folders
        from .removal import Holdings, carry_out, removal

        refuse_layout_folders(saver, [thread_id])
        before = Holdings.of(saver, [thread_id])
        _refuse_absent(saver, before, [thread_id])
        header: dict[str, JSON] = {"thread_id": thread_id, "dry_run": dry_run}
        if dry_run:
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


# -- prune ------------------------------------------------------------------------


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
    --all-threads --keep-last 20 --yes
  s3-checkpoint prune --s3-prefix s3://my-bucket/checkpoints/ \\
    --thread-id thread123 --all --yes
"""
)
@s3_options
@click.option(
    "--thread-id",
    "thread_ids",
    multiple=True,
    help="A thread to prune; repeat the option for several.",
)
@click.option(
    "--all-threads",
    is_flag=True,
    help="Prune every thread under the prefix (with --keep-latest or "
    "--keep-last; not with --all).",
)
@click.option(
    "--keep-latest/--all",
    "keep_latest",
    default=True,
    help="Keep the newest checkpoint of each namespace with its writes "
    "(default), or delete every checkpoint and write of the threads.",
)
@click.option(
    "--keep-last",
    type=click.IntRange(min=1),
    metavar="N",
    help="Keep the newest N checkpoints of each namespace with their writes "
    "(and what DeltaChannel state is rebuilt from).",
)
@YES
@click.option(
    "--dry-run",
    is_flag=True,
    hidden=True,
    expose_value=False,
    callback=_no_dry_run,
)
@click.pass_context
def prune(
    ctx: click.Context,
    conn: Connection,
    thread_ids: tuple[str, ...],
    all_threads: bool,
    keep_latest: bool,
    keep_last: int | None,
    yes: bool,
) -> None:
    """Prune threads down to their newest checkpoints.

    With --keep-latest (the default) each namespace keeps its newest
    checkpoint with its pending writes (saver.prune); with --keep-last N its
    newest N (saver.prune_keep_last). Either way, when a kept checkpoint's
    state is built from DeltaChannel writes, the ancestors and writes it is
    rebuilt from are kept too, so every kept checkpoint reads back as it did
    and the thread resumes where it was. --all deletes everything of the
    threads. Asks for confirmation on stderr unless --yes.

    There is no --dry-run: the ancestors a DeltaChannel checkpoint needs are
    only known once the saver reads them while pruning.

    Prints what went, from listings before and after, as `delete` does,
    with "thread_ids" and "strategy" ("keep_latest", "keep_last" with
    "keep_last": N, or "delete") and a "thread_id" in each entry of
    "deleted" and "kept". A thread named with --thread-id that holds no
    objects exits 4 (not found) before anything is deleted.
    """
    if not keep_latest and (keep_last is not None or all_threads):
        raise click.UsageError(
            "--all deletes every checkpoint: it goes with neither --keep-last "
            "nor --all-threads (to delete whole threads use 'delete' or "
            "'expire')",
            ctx=ctx,
        )
    if bool(thread_ids) == all_threads:
        raise click.UsageError(
            "name the threads with --thread-id, or pass --all-threads", ctx=ctx
        )
    _check_can_confirm(yes)
    with conn.open() as saver:
        from .. import plans
        from .locating import note_empty, refuse_layout_folders
        from .removal import Holdings, carry_out, removal

        threads = (
            saver.run(plans.thread_ids(saver.context))
            if all_threads
            else [*dict.fromkeys(thread_ids)]
        )
        refuse_layout_folders(saver, threads)
        strategy = (
            "delete"
            if not keep_latest
            else "keep_latest"
            if keep_last is None
            else "keep_last"
        )
        header: dict[str, JSON] = {"thread_ids": [*threads], "strategy": strategy}
        if keep_last is not None:
            header["keep_last"] = keep_last
        before = Holdings.of(saver, threads)
        if not all_threads:
            _refuse_absent(saver, before, threads)
        if not before.keys:
            note_empty(saver, f"nothing to prune under {where(saver)}")
            nothing = Holdings.nothing(saver.layout)
            emit({**header, **removal(nothing, nothing, with_thread=True)})
            return
        plan = (
            "delete everything"
            if strategy == "delete"
            else "keep the newest checkpoint of each namespace (and the "
            "DeltaChannel ancestors it needs) and delete the rest"
            if keep_last is None
            else f"keep the newest {keep_last} checkpoints of each namespace "
            "(and the DeltaChannel ancestors they need) and delete the rest"
        )
        _confirm(
            yes,
            f"Prune {_threads_text(threads)} in {conn.s3_prefix} "
            f"({before.summary()}): {plan}?",
        )
        action = (
            partial(saver.prune, threads, strategy=strategy)
            if keep_last is None
            else partial(saver.prune_keep_last, threads, keep_last)
        )
        carry_out(saver, threads, before, action, header, with_thread=True)


# -- expire -----------------------------------------------------------------------


@cli.command(
    epilog="""\b
Examples:
  s3-checkpoint expire --s3-prefix s3://my-bucket/checkpoints/ --idle 30d --dry-run
  s3-checkpoint expire --s3-prefix s3://my-bucket/checkpoints/ --idle 12h --yes
"""
)
@s3_options
@duration_option(
    "--idle",
    required=True,
    help="How long a thread must not have been written: 90s, 15m, 12h, 30d, "
    "2w, or sums such as 1d12h.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Only print which threads are idle (no confirmation needed).",
)
@YES
@PROGRESS
def expire(
    conn: Connection,
    idle: tuple[str, datetime.timedelta],
    dry_run: bool,
    yes: bool,
    progress: bool | None,
) -> None:
    """Delete, whole, every thread not written for DURATION.

    A thread is idle when its newest object (checkpoint or write, in any
    namespace) was last modified before now minus DURATION, as LIST reports
    it: no object is read. Threads are deleted whole, never in part, so no
    resume ever breaks. Right before deleting, each idle thread is listed
    again; one written since the cutoff is kept and reported in "revived".

    Requests: one LIST per 1,000 keys under the prefix; per idle thread two
    LISTs (more past 1,000 keys) and its share of the DeleteObjects (one per
    1,000 keys). Asks for confirmation on stderr unless --yes or --dry-run.

    Prints {"idle", "cutoff", "dry_run", "expired": [{"thread_id",
    "last_write", "objects", "bytes"}], "expired_objects", "expired_bytes",
    "revived": [thread ids], "active_threads": count of threads kept}.
    """
    text, duration = idle
    if not dry_run:
        _check_can_confirm(yes)
    with conn.open() as saver:
        from .. import plans
        from .locating import note_empty, refuse_layout_folders
        from .reports import expiry_document, human_bytes

        before = plans.cutoff(duration)
        swept = saver.run(plans.idle_threads(saver.context, before))
        refuse_layout_folders(saver, [t.thread_id for t in swept.expired])
        if not swept.expired:
            when = before.strftime("%Y-%m-%d %H:%M:%S UTC")
            what = (
                f"no thread under {where(saver)} is idle since {when}"
                if swept.active
                else f"no threads under {where(saver)}"
            )
            note_empty(saver, what, probe=not swept.active)
        if dry_run or not swept.expired:
            emit(expiry_document(text, swept))
            return
        idle_ids = [t.thread_id for t in swept.expired]
        objects = sum(t.objects for t in swept.expired)
        size = sum(t.bytes for t in swept.expired)
        _confirm(
            yes,
            f"Expire {_threads_text(idle_ids)} from {conn.s3_prefix}, not "
            f"written since {before.strftime('%Y-%m-%d %H:%M:%S UTC')} "
            f"({objects} objects, {human_bytes(size)}): delete them whole?",
        )
        _expire(saver, text, swept, wants_progress(progress))


def _expire(saver: S3CheckpointSaver, text: str, swept: Expiry, shown: bool) -> None:
    """Expire the swept threads a chunk at a time and print what went; when a
    chunk fails, print what went all the same (the threads of the failed
    chunk that no longer hold a key, listed again), then fail."""
    from .. import plans
    from ..errors import S3CheckpointError
    from .reports import expiry_document

    idle_ids = [t.thread_id for t in swept.expired]
    expired: list[plans.IdleThread] = []
    revived: list[str] = []
    failure: S3CheckpointError | None = None
    with progress_bar(len(idle_ids), "Expiring threads", shown) as tick:
        for start in range(0, len(idle_ids), plans.EXPIRE_CHUNK):
            chunk = idle_ids[start : start + plans.EXPIRE_CHUNK]
            try:
                done = saver.run(
                    plans.expire_threads(saver.context, chunk, swept.cutoff)
                )
            except S3CheckpointError as exc:
                failure = exc
                expired += _gone(saver, swept, chunk)
                break
            expired += done.expired
            revived += done.revived
            for _ in chunk:
                tick()
    result = plans.Expiry(
        swept.cutoff, tuple(expired), tuple(revived), swept.active, dry_run=False
    )
    emit(expiry_document(text, result))
    if failure is not None:
        raise failure


def _gone(
    saver: S3CheckpointSaver, swept: Expiry, chunk: Sequence[str]
) -> list[IdleThread]:
    """The threads of ``chunk`` that hold no key any more."""
    from .. import plans
    from ..errors import S3CheckpointError

    try:
        listed = saver.run(
            plans.concurrently(*(plans.thread_keys(saver.context, t) for t in chunk))
        )
    except S3CheckpointError:
        return []
    empty = {t for t, keys in zip(chunk, listed, strict=True) if not keys}
    return [t for t in swept.expired if t.thread_id in empty]
