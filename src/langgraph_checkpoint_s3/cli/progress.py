"""Progress bars on stderr, driven by the requests a plan completes
(``S3CheckpointSaver.run(plan, on_done=...)``)."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO, cast

import click

if TYPE_CHECKING:
    from .._keys import Layout
    from ..protocol import Request

__all__ = ["checkpoint_gets", "progress_bar", "wants_progress"]


class _AsTerminal(io.TextIOBase):
    """A stream that claims to be a terminal, so ``--progress`` draws the bar
    even into a pipe or a file (click shows only the label there)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return True


def wants_progress(flag: bool | None, *, beside_output: bool = False) -> bool:
    """``--progress/--no-progress``; without either, when stderr is a
    terminal, and, for a command that prints as it reads
    (``beside_output``), stdout is not: a bar redrawn between lines of
    output on one terminal garbles both."""
    if flag is not None:
        return flag
    return sys.stderr.isatty() and not (beside_output and sys.stdout.isatty())


@contextmanager
def progress_bar(length: int, label: str, shown: bool) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr; yields a thread-safe ``tick``."""
    stderr = sys.stderr
    stream = stderr if stderr.isatty() else cast(TextIO, _AsTerminal(stderr))
    lock = threading.Lock()
    with click.progressbar(
        length=length, label=label, file=stream, hidden=not shown
    ) as bar:

        def tick() -> None:
            with lock:
                bar.update(1)

        yield tick


def checkpoint_gets(
    layout: Layout, tick: Callable[[], None]
) -> Callable[[Request], None]:
    """An ``on_done`` that ticks once per checkpoint object read (a GET of a
    checkpoint key; listings and writes do not count)."""
    from ..protocol import Get

    def on_done(request: Request) -> None:
        if (
            isinstance(request, Get)
            and layout.parse_checkpoint_key(request.key) is not None
        ):
            tick()

    return on_done
