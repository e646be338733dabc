"""The click group's machinery: exit codes, and every error mapped to one line
on stderr and the exit code the seed defines for it.

Light at import (click and the standard library): the saver and botocore are
looked at only when an error needs classifying.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import click

__all__ = [
    "EXIT_CODES_HELP",
    "App",
    "CliError",
    "ExitCode",
    "State",
    "debug_option",
    "quiet_serde",
    "redact",
    "redact_url",
    "say",
]

# A scheme, then userinfo up to the authority's last "@" (a password may
# hold a raw "@"); it ends where the authority does.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#\"'<>]*@")


def redact(text: str) -> str:
    """``text`` with the user and password of every URL in it masked
    (``http://***@host:port``): an endpoint URL may carry them, and every
    message of the CLI may quote the endpoint."""
    return _USERINFO.sub(r"\1***@", text)


def redact_url(url: str) -> str:
    """One URL as the user may have typed it, its userinfo masked even
    without a scheme (``user:pass@host`` gives ``***@host``)."""
    scheme, sep, rest = url.rpartition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


def say(message: str) -> None:
    """One line on stderr (a note, a retry), redacted like every message."""
    click.echo(redact(message).replace("\n", " "), err=True)


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


EXIT_CODES_HELP = """\
\b
Exit codes:
  0    success
  1    invalid S3 URI
  2    AWS credentials error (none found, or rejected by the store)
  3    S3 access error (missing bucket, access denied, an endpoint
       that is not S3, other S3 errors)
  4    checkpoint or thread not found, invalid object, usage error
       (missing or unknown option, bad option value), deletion refused
       (no terminal to confirm on and no --yes) or not confirmed, or
       another runtime error
  5    unexpected error
  130  interrupted (Ctrl-C)

Errors are one line on stderr; --debug adds the traceback.
"""


@dataclass
class State:
    """Global options, shared with ``App.main`` so it can report errors."""

    debug: bool = False


class _QuietSerde(logging.Filter):
    """Drops the serializer's warnings unless ``--debug`` was given (read at
    each record, so the flag may come after the subcommand)."""

    def __init__(self, state: State) -> None:
        super().__init__()
        self._state = state

    def filter(self, record: logging.LogRecord) -> bool:
        return self._state.debug or record.levelno >= logging.ERROR


@contextmanager
def quiet_serde(state: State) -> Iterator[None]:
    """Silence the serializer's warnings for the command's duration, unless
    ``--debug``: each blocked type logs "add it to allowed_msgpack_modules",
    advice for graph code that a CLI user cannot act on (the value is shown
    as plain data)."""
    logger = logging.getLogger("langgraph.checkpoint.serde.jsonplus")
    quiet = _QuietSerde(state)
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).debug = True


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Show tracebacks of errors (also accepted before the command).",
)
"""``--debug`` on a subcommand: the same as before it."""


class App(click.Group):
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
        state = State()
        try:
            result = super().main(
                args, prog_name, complete_var, standalone_mode=False, obj=state, **extra
            )
            code = int(result) if isinstance(result, int) else ExitCode.OK
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.format_message(), err=True)
            code = ExitCode.RUNTIME
        except click.exceptions.Abort:  # Ctrl-C; click turns it into Abort
            code = report(CliError("interrupted", ExitCode.INTERRUPTED), False)
        except Exception as exc:
            code = report(exc, state.debug)
        if standalone_mode:
            raise SystemExit(code)
        return code


def report(exc: Exception, debug: bool) -> ExitCode:
    """Print the one-line error (and with --debug the traceback first), with
    any URL's user and password masked."""
    code, message = classify(exc)
    if debug:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        click.echo(redact("".join(lines)), err=True, nl=False)
    say(f"Error: {message}")
    return code


def classify(exc: Exception) -> tuple[ExitCode, str]:
    """The exit code of an error, and its message."""
    if isinstance(exc, CliError):
        return exc.exit_code, str(exc)
    if isinstance(exc, click.UsageError):
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        return ExitCode.RUNTIME, exc.format_message() + hint
    # Only now: an error raised before any request needs no botocore.
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    from ..errors import CredentialsError, S3AccessError, S3CheckpointError

    if isinstance(exc, (CredentialsError, NoCredentialsError, PartialCredentialsError)):
        return ExitCode.CREDENTIALS, str(exc)
    if isinstance(exc, (S3AccessError, ClientError, BotoCoreError)):
        return ExitCode.S3_ACCESS, str(exc)
    if isinstance(exc, (S3CheckpointError, click.ClickException)):
        return ExitCode.RUNTIME, str(exc)
    return ExitCode.UNEXPECTED, f"unexpected {type(exc).__name__}: {exc}"
