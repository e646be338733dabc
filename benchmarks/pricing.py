"""Part 5: S3 Standard prices (us-east-1, as docs/design.md §4 quotes them)
and the dollar figures of the benchmark: per million super-steps, from part
3's requests per super-step, and per month to keep a million super-steps,
from part 3's stored bytes per super-step.

Requests are priced by the kind the server counted: PUT (PutObject, and
CopyObject), LIST (ListObjectsV2) and OTHER at the PUT/LIST price; GET and
HEAD at the GET price; DELETE (DeleteObject, DeleteObjects) free, as S3 bills
it. Storage is billed per GB-month with GB = 2**30 bytes, S3's unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.counting import REQUEST_TYPES
from benchmarks.output import render_table

__all__ = [
    "GB",
    "PRICE_PER_REQUEST",
    "STORAGE_PER_GB_MONTH",
    "cost_rows",
    "dollars_per_million_steps",
    "print_cost",
    "storage_dollars_per_month",
]

PUT_LIST_PER_1000 = 0.005
GET_PER_1000 = 0.0004
STORAGE_PER_GB_MONTH = 0.023
GB = 2**30

PRICE_PER_REQUEST: Mapping[str, float] = {
    "PUT": PUT_LIST_PER_1000 / 1000,
    "LIST": PUT_LIST_PER_1000 / 1000,
    "OTHER": PUT_LIST_PER_1000 / 1000,
    "GET": GET_PER_1000 / 1000,
    "HEAD": GET_PER_1000 / 1000,
    "DELETE": 0.0,
}


def dollars_per_million_steps(requests_per_step: Mapping[str, float]) -> float:
    """The request bill of one million super-steps, from the requests of one
    super-step by kind (GET, PUT, LIST, HEAD, DELETE, OTHER; other keys are
    ignored)."""
    return 1e6 * sum(
        price * requests_per_step.get(kind, 0)
        for kind, price in PRICE_PER_REQUEST.items()
    )


def storage_dollars_per_month(stored_bytes: float) -> float:
    """What keeping ``stored_bytes`` in S3 Standard costs per month."""
    return stored_bytes / GB * STORAGE_PER_GB_MONTH


def cost_rows(savers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per S3 saver that ran the graph: requests per super-step by kind, the
    request bill of a million super-steps, stored bytes per super-step and
    what keeping a million super-steps costs a month."""
    rows = []
    for s in savers:
        g = s.get("graph")
        if not s["s3"] or not g or "error" in g or not g.get("checkpoints"):
            continue
        steps = g["checkpoints"]
        per_step = {t: (g.get("server") or {}).get(t, 0) / steps for t in REQUEST_TYPES}
        stored = g.get("stored")
        bytes_per_step = stored["bytes"] / steps if stored else None
        rows.append(
            {
                "label": s["label"],
                "compression": s.get("compression"),
                "per_step": per_step,
                "requests_per_step": sum(per_step.values()),
                "dollars_per_million_steps": dollars_per_million_steps(per_step),
                "bytes_per_step": bytes_per_step,
                "storage_dollars_per_month_per_million_steps": (
                    storage_dollars_per_month(bytes_per_step * 1e6)
                    if bytes_per_step is not None
                    else None
                ),
                "sweep_bytes_per_checkpoint": _sweep_bytes(s),
            }
        )
    return rows


def _sweep_bytes(saver: Mapping[str, Any]) -> tuple[int, float] | None:
    """(N, stored bytes per checkpoint) of the longest sweep history."""
    found = [
        (int(n), sized["stored"]["bytes"] / int(n))
        for n, sized in saver.get("sweep", {}).items()
        if sized.get("stored")
    ]
    return max(found) if found else None


def print_cost(savers: Sequence[dict[str, Any]], steps: int) -> None:
    rows = cost_rows(savers)
    if not rows:
        return
    print(
        f"\n## 5. Dollars at S3 Standard prices, from the {steps}-step graph of"
        " part 3 (super-step = checkpoint written): PUT/LIST $0.005 and GET"
        " $0.0004 per 1,000, DELETE free, storage $0.023 per GB-month"
    )
    headers = [
        "saver",
        "compression",
        "GET",
        "PUT",
        "LIST",
        "requests/step",
        "$ per 1M steps",
        "bytes/step",
        "$/month per 1M steps kept",
        "sweep bytes/checkpoint",
    ]
    table = []
    for r in rows:
        sweep = r["sweep_bytes_per_checkpoint"]
        table.append(
            [
                r["label"],
                r["compression"] or "-",
                *(f"{r['per_step'][t]:.2f}" for t in ("GET", "PUT", "LIST")),
                f"{r['requests_per_step']:.2f}",
                f"{r['dollars_per_million_steps']:.2f}",
                f"{r['bytes_per_step']:,.0f}" if r["bytes_per_step"] else "-",
                f"{r['storage_dollars_per_month_per_million_steps']:.4f}"
                if r["storage_dollars_per_month_per_million_steps"] is not None
                else "-",
                f"{sweep[1]:,.0f} (N={sweep[0]})" if sweep else "-",
            ]
        )
    print(render_table(headers, table))
    print(
        "   bytes/step: the graph thread's objects (checkpoints and writes) over"
        " its super-steps; its state grows every step (add_messages), so longer"
        " runs store more per step"
    )
