"""``s3-checkpoint``: inspect and clean up the LangGraph checkpoints a saver
stored in S3.

Every command prints one document on stdout and nothing else (JSON, or the
text ``history`` and ``stats --format table`` draw); notes and errors are one
line on stderr, and the exit code says what went wrong (see ``ExitCode``).

\b
Modules:
  app         exit codes; every error mapped to one line and its exit code
  connection  the s3:// URI, the connection options, the saver they open
  retrying    which failed requests are not retried (pure)
  options     the options several commands share; durations
  commands    the group and the reading commands
  storage     what the bucket holds: stats, validate
  cleanup     the deleting commands: delete, prune, expire
  rendering   JSON output; stored values decoded strictly into readable JSON
  history     history's entries and its git-log-like graph (pure)
  reports     what stats and expire print; prices (pure)
  locating    where the data is when a result is empty
  progress    progress bars driven by the requests a plan completes
  validation  why a stored object is invalid (pure)
  removal     what delete and prune report, from listings before and after
  changes     diff; checkpoints shown with their DeltaChannel values
  diffing     what changed between two checkpoints, and its text (pure)
  transcript  messages as a chat transcript; long values cut (pure)
  messages    message lists told apart, tool calls paired, tokens (pure)
  delta_state DeltaChannel values rebuilt from a snapshot and writes (pure)
  lineage     racing writers; the step that ran a subgraph (pure)
  walking     a thread read a window at a time, for read and history
  salvage     a window read checkpoint by checkpoint when one is unreadable

Importing this package loads click and the standard library only; boto3,
LangGraph and the saver load when a command needs them.
"""

from __future__ import annotations

from . import changes, cleanup, storage  # noqa: F401  (register their commands)
from .app import ExitCode
from .commands import cli

__all__ = ["ExitCode", "cli", "main"]


def main() -> None:
    """Entry point of the ``s3-checkpoint`` script."""
    cli.main(prog_name="s3-checkpoint")
