"""The options several commands share, and the option types they parse.

Light at import: click and the standard library.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = [
    "BRIEF",
    "NAMESPACE",
    "PROGRESS",
    "THREAD",
    "YES",
    "duration_option",
    "parse_duration",
]

THREAD = click.option("--thread-id", required=True, help="The thread to read.")
NAMESPACE = click.option(
    "--checkpoint-ns",
    help="Only this namespace (empty string: the default one). Default: all.",
)
PROGRESS = click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
BRIEF = click.option(
    "--brief",
    is_flag=True,
    help="Leave out channel_versions and versions_seen (LangGraph's "
    "bookkeeping), keeping values, metadata and writes.",
)
YES = click.option(
    "--yes",
    "-y",
    is_flag=True,
    help="Do not ask for confirmation. Needed when stdin is not a terminal "
    "(scripts, CI): without it the command refuses and exits 4.",
)

_F = TypeVar("_F", bound=Callable[..., Any])

_UNITS = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
}
_PART = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str) -> datetime.timedelta:
    """``90s``, ``15m``, ``12h``, ``30d``, ``2w``, or a sum such as ``1d12h``;
    raises ValueError for anything else, zero included."""
    cleaned = text.strip().lower()
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(
            f"{text!r} is not a duration: use a number and a unit, "
            "s, m, h, d or w (90s, 12h, 30d, 1d12h)"
        )
    seconds = sum(int(number) * _UNITS[unit] for number, unit in parts)
    if seconds == 0:
        raise ValueError(f"{text!r} is no time at all: give a positive duration")
    return datetime.timedelta(seconds=seconds)


def duration_option(*names: str, **kwargs: Any) -> Callable[[_F], _F]:
    """An option whose value is :func:`parse_duration`'s form; the command
    receives ``(text, timedelta)``. A bad value is a usage error (exit 4)."""

    def convert(
        ctx: click.Context, param: click.Parameter, value: str | None
    ) -> tuple[str, datetime.timedelta] | None:
        if value is None:
            return None
        try:
            return value, parse_duration(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None

    return click.option(*names, metavar="DURATION", callback=convert, **kwargs)
