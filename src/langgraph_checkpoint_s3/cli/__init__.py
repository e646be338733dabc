"""``s3-checkpoint``: inspect and clean up the LangGraph checkpoints a saver
stored in S3.

Every command prints one JSON document on stdout and nothing else; errors are
one line on stderr, and the exit code says what went wrong (see ``ExitCode``).

\b
Modules:
  app         exit codes; every error mapped to one line and its exit code
  connection  the s3:// URI, the connection options, the saver they open
  commands    the click commands
  rendering   JSON output; stored values decoded strictly into readable JSON
  progress    progress bars driven by the requests a plan completes
  validation  why a stored object is invalid (pure)
  removal     what delete and prune report, from listings before and after

Importing this package loads click and the standard library only; boto3,
LangGraph and the saver load when a command needs them.
"""

from __future__ import annotations

from .app import ExitCode
from .commands import cli

__all__ = ["ExitCode", "cli", "main"]


def main() -> None:
    """Entry point of the ``s3-checkpoint`` script."""
    cli.main(prog_name="s3-checkpoint")
