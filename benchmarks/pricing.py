"""S3 Standard prices (us-east-1, as docs/design.md §4 quotes them) and the dollar
figures of the benchmark: per million super-steps and per month of storage.

Requests are priced by the kind the server counted: PUT (PutObject, and
CopyObject), LIST (ListObjectsV2) and OTHER at the PUT/LIST price; GET and
HEAD at the GET price; DELETE (DeleteObject, DeleteObjects) free, as S3 bills
it. Storage is billed per GB-month with GB = 2**30 bytes, S3's unit.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "GB",
    "PRICE_PER_REQUEST",
    "STORAGE_PER_GB_MONTH",
    "dollars_per_million_steps",
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
