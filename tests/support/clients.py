"""Every request a plan sends, and the options the savers send with them."""

from __future__ import annotations

import pytest

from langgraph_checkpoint_s3.protocol import (
    Delete,
    Get,
    HeadBucket,
    List,
    Put,
    Request,
    RequestOptions,
)

OWNER = "123456789012"  # moto's default account


OPTIONS = RequestOptions(
    server_side_encryption="AES256",
    storage_class="STANDARD_IA",
    expected_bucket_owner=OWNER,
)


EVERY_REQUEST: list[Request] = [
    Get("k"),
    Put("k", b"{}", True),
    Put("k", b"{}", False),
    List("p"),
    Delete(("k",)),
    HeadBucket(),
]


@pytest.fixture
def clean_retry_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    return monkeypatch
