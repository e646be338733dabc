"""Finds the savers' compression setting, wherever it lives, so the benchmark
can run with and without it.

The setting is looked for by name (anything containing ``compress``) among the
constructor parameters of both savers and the fields of ``RequestOptions``.
Its "on" and "off" values are read from its default and annotation: a bool is
True/False; an optional value is its default (or ``"gzip"``, a level of 6, a
threshold of 1,024 bytes) and None; a plain int is a level, 6/0.
When no such setting exists, :func:`find_setting` says why and the benchmark
runs without it.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any

__all__ = ["CompressionSetting", "find_setting"]


@dataclass(frozen=True)
class CompressionSetting:
    """Where the setting is and the values that turn it on and off."""

    where: str  # "constructor" | "request_options"
    name: str
    on: Any
    off: Any
    default_on: bool

    def describe(self) -> str:
        place = (
            f"{self.name}= of the savers"
            if self.where == "constructor"
            else f"RequestOptions({self.name}=...)"
        )
        default = "on" if self.default_on else "off"
        return f"{place}: on={self.on!r}, off={self.off!r}, default {default}"

    def saver_kwargs(self, enabled: bool, base: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments of a saver constructor with the setting
        ``enabled`` or not; ``base`` holds the other keyword arguments."""
        value = self.on if enabled else self.off
        if self.where == "constructor":
            return {**base, self.name: value}
        from langgraph_checkpoint_s3.protocol import RequestOptions

        options = base.get("request_options") or RequestOptions()
        return {
            **base,
            "request_options": dataclasses.replace(options, **{self.name: value}),
        }


def _values(name: str, default: Any, annotation: Any) -> tuple[Any, Any] | None:
    text = str(annotation)
    if isinstance(default, bool) or (default is None and "bool" in text):
        return True, None if default is None else False
    if default is not None and "None" in text:
        return default, None  # e.g. a threshold or codec that None turns off
    if isinstance(default, int):
        return (default or 6), 0
    if isinstance(default, str):
        return default, "none"
    if default is None and ("str" in text or "Literal" in text):
        return "gzip", None
    if default is None and "int" in text:
        return (1024 if "byte" in name or "min" in name else 6), None
    return None


def _is_on(value: Any) -> bool:
    return value not in (None, False, 0, "", "none", "identity")


def find_setting() -> tuple[CompressionSetting | None, str]:
    """The compression setting, or None and the reason it is not used."""
    from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver
    from langgraph_checkpoint_s3.protocol import RequestOptions

    sync_params = inspect.signature(S3CheckpointSaver).parameters
    async_params = inspect.signature(AsyncS3CheckpointSaver).parameters
    candidates: list[tuple[str, str, Any, Any]] = [
        ("constructor", name, p.default, p.annotation)
        for name, p in sync_params.items()
        if "compress" in name.lower() and name in async_params
    ]
    candidates += [
        ("request_options", f.name, f.default, f.type)
        for f in dataclasses.fields(RequestOptions)
        if "compress" in f.name.lower()
    ]
    if not candidates:
        return None, (
            "no compression setting found (no savers' parameter or RequestOptions"
            " field named *compress*): only uncompressed objects measured"
        )
    where, name, default, annotation = candidates[0]
    values = _values(name, default, annotation)
    if values is None:
        return None, (
            f"compression setting {name!r} found, but its on/off values cannot be"
            f" told from default {default!r} and type {annotation!r}"
        )
    on, off = values
    return CompressionSetting(where, name, on, off, _is_on(default)), ""
