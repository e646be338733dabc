"""What changed: ``diff`` (two checkpoints of a thread), and the pieces
``dump``, ``read``, ``history --patch`` and ``stats --tokens`` share to show
a checkpoint with its DeltaChannel values in. Registered on the group of
:mod:`.commands`; the comparing and the drawing are pure, in
:mod:`.diffing`, :mod:`.transcript` and :mod:`.delta_state`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import click

from .._keys import CheckpointRef
from .app import CliError, ExitCode
from .commands import FULL, cli
from .connection import Connection, s3_options
from .options import NAMESPACE, THREAD
from .rendering import JSON, emit, render_tuple

if TYPE_CHECKING:
    from langgraph.checkpoint.base import CheckpointTuple

    from ..saver import S3CheckpointSaver

__all__ = ["key_of", "rendered", "shown_all", "step_patches", "with_delta"]


def with_delta(
    saver: S3CheckpointSaver, item: CheckpointTuple
) -> tuple[CheckpointTuple, dict[str, JSON]]:
    """One checkpoint with its DeltaChannel values, rebuilt from the history
    the saver's ``get_delta_channel_history`` fetches (nothing for a
    checkpoint that has none), and how each was had."""
    from .delta_state import channels_to_rebuild, rebuild, with_values

    wanted = channels_to_rebuild(item)
    histories = (
        saver.get_delta_channel_history(config=item.config, channels=wanted)
        if wanted
        else {}
    )
    return with_values(item, {name: rebuild(name, h) for name, h in histories.items()})


def rendered(
    item: CheckpointTuple, how: dict[str, JSON], *, brief: bool = False
) -> dict[str, JSON]:
    """``render_tuple``, and ``delta_channels`` (how each DeltaChannel value
    was had) for a checkpoint that has them."""
    shown = render_tuple(item, brief=brief)
    if how:
        shown["delta_channels"] = dict(how)
    return shown


def shown_all(
    items: Iterable[CheckpointTuple], *, brief: bool = False
) -> dict[tuple[str, str], dict[str, JSON]]:
    """Every checkpoint rendered, by (namespace, id), its DeltaChannel values
    rebuilt from the others (no request: they are all in hand)."""
    from .delta_state import walk_loaded

    return {
        key_of(item): rendered(item, how, brief=brief)
        for item, how in walk_loaded(items)
    }


# -- diff -------------------------------------------------------------------------


class _Thread:
    """The checkpoints ``diff`` names, found in one thread."""

    def __init__(
        self, saver: S3CheckpointSaver, thread_id: str, checkpoint_ns: str | None
    ) -> None:
        self.saver = saver
        self.thread_id = thread_id
        self.checkpoint_ns = checkpoint_ns
        self._refs: list[CheckpointRef] | None = None

    def ref(self, checkpoint_id: str, option: str) -> CheckpointRef:
        """The checkpoint an id names: in the namespace given, else in the
        one namespace of the thread that holds it (one listing for both)."""
        if self.checkpoint_ns is not None:
            return CheckpointRef(self.thread_id, self.checkpoint_ns, checkpoint_id)
        if self._refs is None:
            from .. import plans

            self._refs = self.saver.run(
                plans.thread_checkpoints(self.saver.context, self.thread_id)
            )
        found = [r for r in self._refs if r.checkpoint_id == checkpoint_id]
        if not found:
            raise CliError(self._missing(checkpoint_id, option), ExitCode.RUNTIME)
        if len(found) > 1:
            spaces = ", ".join(repr(r.checkpoint_ns) for r in found)
            raise CliError(
                f"{option} {checkpoint_id!r} is in namespaces {spaces} of thread "
                f"{self.thread_id!r}: pass --checkpoint-ns",
                ExitCode.RUNTIME,
            )
        return found[0]

    def read(self, ref: CheckpointRef, option: str) -> CheckpointTuple:
        from .._configs import config_of

        found = self.saver.get_tuple(config_of(ref))
        if found is None:
            raise CliError(self._missing(ref.checkpoint_id, option), ExitCode.RUNTIME)
        return found

    def newest(self, checkpoint_ns: str) -> CheckpointTuple:
        from .._configs import thread_config

        found = self.saver.get_tuple(thread_config(self.thread_id, checkpoint_ns))
        if found is None:
            raise CliError(
                f"thread {self.thread_id!r} has no checkpoints in namespace "
                f"{checkpoint_ns!r}",
                ExitCode.RUNTIME,
            )
        return found

    def parent(self, item: CheckpointTuple) -> CheckpointTuple:
        parent = item.parent_config
        checkpoint_id = item.config["configurable"]["checkpoint_id"]
        if parent is None:
            raise CliError(
                f"checkpoint {checkpoint_id!r} is the first of its line in thread "
                f"{self.thread_id!r}: nothing before it to compare with; "
                "pass --from ID",
                ExitCode.RUNTIME,
            )
        found = self.saver.get_tuple(parent)
        if found is None:
            gone = parent["configurable"]["checkpoint_id"]
            raise CliError(
                f"the parent {gone!r} of checkpoint {checkpoint_id!r} is gone "
                "(pruned?): pass --from ID",
                ExitCode.RUNTIME,
            )
        return found

    def _missing(self, checkpoint_id: str, option: str) -> str:
        place = (
            "" if self.checkpoint_ns is None else f", namespace {self.checkpoint_ns!r}"
        )
        return (
            f"checkpoint not found: {option} {checkpoint_id!r} is not in thread "
            f"{self.thread_id!r}{place} (--from and --to name checkpoints of "
            "--thread-id)"
        )


@cli.command(
    epilog="""\b
Examples:
  s3-checkpoint diff --s3-prefix s3://my-bucket/checkpoints/ --thread-id thread123
  s3-checkpoint diff --s3-prefix s3://my-bucket/checkpoints/ --thread-id thread123 \\
    --from 1f0a... --to 1f0b... --format text
"""
)
@s3_options
@THREAD
@NAMESPACE
@click.option(
    "--from",
    "from_id",
    metavar="ID",
    help="The checkpoint to compare from (default: the parent of --to).",
)
@click.option(
    "--to",
    "to_id",
    metavar="ID",
    help="The checkpoint to compare to (default: the newest of the namespace).",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    help="JSON, or the changed parts for a person.",
)
@FULL
def diff(
    conn: Connection,
    thread_id: str,
    checkpoint_ns: str | None,
    from_id: str | None,
    to_id: str | None,
    format_: str,
    full: bool,
) -> None:
    """What changed between two checkpoints of a thread: by default the
    newest (of --checkpoint-ns, default "") against its parent; --from and
    --to name any two, across branches and namespaces.

    \b
    Channels added, removed and changed; in message lists, messages added,
    removed and edited (by id), each tool call with its result; pending
    writes, interrupts and errors; metadata, and the nodes that ran.
    DeltaChannel values are rebuilt as `dump` shows them.

    JSON: {"thread_id", "from", "to", "ran", "metadata", "channels":
    {"added", "removed", "changed"}, "messages", "tool_calls",
    "pending_writes", "interrupts", "errors"}. --format text prints the
    changed parts only, messages as a transcript, long values cut (--full:
    whole). Exits 4 when a checkpoint is not in the thread, or when the
    one compared has no parent and no --from is given.
    """
    from .diffing import diff as compare
    from .diffing import diff_lines

    with conn.open() as saver:
        found = _Thread(saver, thread_id, checkpoint_ns)
        if to_id is not None:
            after = found.read(found.ref(to_id, "--to"), "--to")
        elif from_id is not None:
            start = found.ref(from_id, "--from")
            after = found.newest(start.checkpoint_ns)
        else:
            after = found.newest(checkpoint_ns or "")
        if from_id is None:
            before = found.parent(after)
        else:
            before = found.read(found.ref(from_id, "--from"), "--from")
        document = compare(
            rendered(*with_delta(saver, before)), rendered(*with_delta(saver, after))
        )
    if format_ == "text":
        click.echo("\n".join(diff_lines(document, full)))
    else:
        emit({"thread_id": thread_id, **document})


# -- history --patch --------------------------------------------------------------


def key_of(item: CheckpointTuple) -> tuple[str, str]:
    """A checkpoint's (namespace, id)."""
    configurable = item.config["configurable"]
    return (configurable.get("checkpoint_ns", ""), configurable["checkpoint_id"])


def step_patches(
    items: Iterable[CheckpointTuple],
    shown: Mapping[tuple[str, str], dict[str, JSON]] | None = None,
) -> dict[str, dict[str, JSON] | None]:
    """By checkpoint id, what its step changed: the diff against its parent
    (against nothing for a thread's first), or None when the parent is gone
    (pruned), so there is nothing to compare with. ``shown``: the items and
    their parents rendered already, by (namespace, id)."""
    from .diffing import diff as compare

    loaded = list(items)
    shown = shown_all(loaded) if shown is None else shown
    found: dict[str, dict[str, JSON] | None] = {}
    for item in loaded:
        ns, checkpoint_id = key_of(item)
        parent = (item.parent_config or {}).get("configurable", {})
        parent_id = parent.get("checkpoint_id")
        if parent_id is None:
            found[checkpoint_id] = compare(None, shown[(ns, checkpoint_id)])
        elif (ns, parent_id) in shown:
            found[checkpoint_id] = compare(
                shown[(ns, parent_id)], shown[(ns, checkpoint_id)]
            )
        else:
            found[checkpoint_id] = None
    return found
