"""What a run writes: progress on stderr, plain-text tables on stdout."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

_NUMERIC = re.compile(r"^(-|ERR|[0-9][0-9.]*( \[[0-9.]+\])?( \(n=\d+\))?!?)$")
"""Cells aligned right: counts, times, "-" and "ERR"."""


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
        for i, h in enumerate(headers)
    ]

    def numeric(text: str) -> bool:
        return bool(_NUMERIC.match(text))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if numeric(c) and i else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def fmt_num(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{value:.2f}"


def fmt_ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    ms = seconds * 1000
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}" if ms >= 0.1 else f"{ms:.3f}"


def log(message: str) -> None:
    """Progress goes to stderr; stdout holds only the tables."""
    print(message, file=sys.stderr, flush=True)
