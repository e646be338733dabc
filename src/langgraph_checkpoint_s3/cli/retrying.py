"""Which failed attempts the CLI does not retry (pure): those whose next
attempt would fail alike, or would only make a person wait as long again.

botocore's standard retries take a read timeout and any TLS failure for
transient. For a person that costs: a store that accepts the connection and
never answers would be waited on once per attempt (3 times 10 s, where the
documentation promises about 10 s), and plain HTTP on an ``https://`` URL
fails its handshake the same way every time.
"""

from __future__ import annotations

__all__ = ["DETERMINISTIC_TLS", "not_worth_retrying"]

DETERMINISTIC_TLS = (
    "WRONG_VERSION_NUMBER",
    "CERTIFICATE_VERIFY_FAILED",
    "UNSUPPORTED_PROTOCOL",
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "WRONG_SSL_VERSION",
    "NO_PROTOCOLS_AVAILABLE",
)
"""OpenSSL's reasons for a handshake that fails the same way each time:
the other end speaks no TLS, or not a version we do, or its certificate is
not trusted. A reset or an EOF mid-handshake is not among them."""


def not_worth_retrying(exc: BaseException | None) -> bool:
    """Whether a failed attempt ends the request rather than being retried:
    a read timeout (the store accepted and said nothing for the whole read
    timeout), or a TLS failure of :data:`DETERMINISTIC_TLS`."""
    from botocore.exceptions import ReadTimeoutError, SSLError

    if isinstance(exc, ReadTimeoutError):
        return True
    if isinstance(exc, SSLError):
        text = str(exc).upper()
        return any(reason in text for reason in DETERMINISTIC_TLS)
    return False
