"""The moto S3 server, in a child process that counts what it receives.

The child runs ``python -m benchmarks --serve-moto``, so it does not share a
GIL with the saver being timed. A WSGI wrapper counts every request by type
and answers the bench's own paths (its counts; the bulk seeding of
:mod:`benchmarks.seeding`) without counting them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from benchmarks import ROOT, seeding
from benchmarks.counting import Counts

COUNTS_PATH = "/__bench__/counts"
"""Path the moto child answers with its request counts (never counted itself)."""


def aws_env(endpoint: str | None) -> dict[str, str]:
    """Point every AWS SDK in this process and its children at moto, never AWS."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    if endpoint:
        env["AWS_ENDPOINT_URL_S3"] = endpoint
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def set_aws_env(endpoint: str | None) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(aws_env(endpoint))


def classify_http(method: str, path: str, query: str) -> str:
    """The request type of a path-style S3 request, as the server sees it."""
    bucket, _, key = path.lstrip("/").partition("/")
    if method == "HEAD":
        return "HEAD"
    if method == "DELETE":
        return "DELETE" if key else "OTHER"
    if method == "POST":
        return (
            "DELETE"
            if "delete" in query.split("&") or "delete=" in query
            else ("PUT" if key else "OTHER")
        )
    if method == "PUT":
        return "PUT" if key else "OTHER"
    if method == "GET":
        if key:
            return "GET"
        params = {p.partition("=")[0] for p in query.split("&") if p}
        listing = {"list-type", "prefix", "delimiter", "start-after", "marker"}
        return "LIST" if bucket and (not params or params & listing) else "OTHER"
    return "OTHER"


class CountingApp:
    """WSGI middleware: counts requests by type, and "busy" periods (the server
    going from idle to at least one request in flight: one per sequential
    round trip when a round's requests overlap, as they do from a client that
    sends them together). Answers the bench paths itself: COUNTS_PATH, and
    seeding.SEED_PATH / seeding.BYTES_PATH (objects stored and sized in the
    backend directly, not counted)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.in_flight = 0

    def _answer(
        self, start_response: Callable[..., Any], data: Any, status: str = "200 OK"
    ) -> Iterable[bytes]:
        body = json.dumps(data).encode()
        start_response(
            status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _bench(
        self, path: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
        try:
            if path == COUNTS_PATH:
                with self.lock:
                    return self._answer(start_response, dict(self.counts))
            bucket = query["bucket"][0]
            if path == seeding.BYTES_PATH:
                return self._answer(start_response, seeding.bytes_in_moto(bucket))
            length = int(environ.get("CONTENT_LENGTH") or 0)
            objects = json.loads(environ["wsgi.input"].read(length))
            stored = seeding.store_in_moto(bucket, objects)
            return self._answer(start_response, {"stored": stored})
        except Exception as exc:
            error = {"error": f"{type(exc).__name__}: {exc}"}
            return self._answer(start_response, error, "500 Internal Server Error")

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path in (COUNTS_PATH, seeding.SEED_PATH, seeding.BYTES_PATH):
            return self._bench(path, environ, start_response)
        kind = classify_http(
            str(environ.get("REQUEST_METHOD", "")),
            path,
            str(environ.get("QUERY_STRING", "")),
        )
        with self.lock:
            self.counts[kind] += 1
            if self.in_flight == 0:
                self.counts["busy"] += 1
            self.in_flight += 1
        try:
            # moto answers with a list: the body is made by the time it returns.
            return list(self.app(environ, start_response))
        finally:
            with self.lock:
                self.in_flight -= 1


def serve_moto() -> int:
    """Child-process mode: run moto until stdin closes."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    inner = server._server
    assert inner is not None
    inner.app = CountingApp(inner.app)
    host, port = server.get_host_and_port()
    print(f"READY http://{host}:{port}", flush=True)
    sys.stdin.read()
    server.stop()
    inner.server_close()
    return 0


@contextlib.contextmanager
def moto_child() -> Iterator[str]:
    """Start the moto child; yield its endpoint URL; stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks", "--serve-moto"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **aws_env(None)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"moto server did not start (said {line!r})")
        yield line.split(" ", 1)[1]
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerCounter:
    """Reads the moto child's request counts over HTTP."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def snapshot(self) -> Counts:
        with _NO_PROXY_OPENER.open(self.endpoint + COUNTS_PATH, timeout=30) as r:
            data = json.loads(r.read())
        return {str(k): int(v) for k, v in data.items()}


def create_bucket(endpoint: str, name: str) -> None:
    """CreateBucket without an SDK (moto does not check signatures)."""
    request = urllib.request.Request(f"{endpoint}/{name}", method="PUT")
    with _NO_PROXY_OPENER.open(request, timeout=30):
        pass
