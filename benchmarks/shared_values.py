"""Large unchanged values stored once: stored bytes, requests and dollars of
a graph whose state holds a document that never changes, per saver.

From the repository root::

    python -m benchmarks.shared_values
    python -m benchmarks.shared_values --quick      # 5 steps; a smoke run

Workloads (issue 19's):

- ``text``: a LangGraph graph whose state holds a document given at the
  input and never changed (200 KB of English prose: slices of the standard
  library's docstrings), a ~150-byte note and a counter changed by every
  step (one node looping ``--steps`` times: 50 and 300);
- ``binary``: the same with 100 KB of ``os.urandom`` bytes (an image, say);
- ``growing``: ``--grow-steps`` checkpoints (200) of a list channel gaining
  a 1 KiB slice of the same prose a step (``stored_bytes.growing``: ``put``,
  then ``put_writes`` of the new item).

Savers:

- ``memory``: ``InMemorySaver``; its stored bytes are the bytes of every
  ``dumps_typed`` result it holds (``stored_bytes.serializer_bytes``), the
  reference of every ratio;
- ``ours``, ``ours-inline``, ``ours-plain``: our saver's plans on the
  in-memory bucket of ``tests/support/memory_bucket.py`` (it stores exactly
  the bytes S3 would and counts requests and rounds): shared values on (the
  default), off (``shared_value_bytes=None``), and on with compression off;
- ``ours@moto``, ``ours-inline@moto``: ``S3CheckpointSaver`` against a moto
  server in a child process (``--no-moto`` skips them): wall time, and the
  requests the server saw;
- the other S3 savers of ``benchmarks/savers.py`` that import here, on moto
  (sync ones; skipped with the reason otherwise);
- ``postgres``: ``PostgresSaver`` (``langgraph-checkpoint-postgres``,
  ``psycopg[binary]``) on a throwaway PostgreSQL cluster the bench starts
  itself when ``initdb`` and ``pg_ctl`` are on PATH or under
  ``/usr/lib/postgresql/*/bin`` (Debian's ``postgresql`` package): initdb
  into a temp dir (trust auth), ``pg_ctl start`` listening only on a unix
  socket in that dir, one database per workload, stopped and deleted at the
  end. Its stored bytes are the sizes of the stored columns as PostgreSQL
  keeps them (``pg_column_size`` of ``checkpoints.checkpoint`` and
  ``.metadata``, ``checkpoint_blobs.blob`` and ``checkpoint_writes.blob``:
  after TOAST compression, without row headers, keys or indexes); the
  tables' ``pg_total_relation_size`` growth is printed beside them.

A step is a checkpoint written (``put``). "floor" is 1 PUT per checkpoint
plus 1 per write; "extra PUTs" is what a saver sent over it (value objects,
heads, the one conditional-write probe). "rounds/put" is exact for ``ours``
on the memory bucket (``put`` and ``put_writes`` are serialized there so that
each ``put``'s rounds are its own). Dollars: S3 Standard (``pricing.py``):
the requests of a million steps, plus one month of keeping the bytes of a
million steps stored as this thread stores them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import glob
import json
import os
import platform
import pwd
import random
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import stored_bytes
from benchmarks.checkpoints import thread_config
from benchmarks.output import log, render_table
from benchmarks.pricing import dollars_per_million_steps, storage_dollars_per_month
from tests.support.graphs import doc_graph

TEXT_BYTES = 200_000
BINARY_BYTES = 100_000
REQUEST_KINDS = ("PUT", "GET", "LIST", "HEAD", "DELETE")


# -- the workloads ----------------------------------------------------------------


def run_document(saver: Any, doc: Any, steps: int) -> None:
    config: Any = {
        "configurable": {"thread_id": "doc"},
        "recursion_limit": steps + 5,
        "run_id": uuid.uuid4(),
    }
    doc_graph(saver, steps).invoke({"doc": doc, "note": "", "counter": 0}, config)


def check_document(saver: Any, doc: Any, steps: int) -> bool:
    """Whether the state read back is right."""
    state = doc_graph(saver, steps).get_state({"configurable": {"thread_id": "doc"}})
    return bool(state.values["doc"] == doc and state.values["counter"] == steps)


def run_growing(saver: Any, steps: int, text: stored_bytes.Text) -> None:
    stored_bytes.growing(saver, steps, text)


def check_growing(saver: Any, steps: int) -> bool:
    found = saver.get_tuple(thread_config("grow"))
    return bool(found and len(found.checkpoint["channel_values"]["items"]) == steps)


@dataclass(frozen=True)
class Workload:
    name: str
    steps: int
    run: Callable[[Any], None]
    check: Callable[[Any], bool]  # after the figures: its reads are not counted


def workloads(steps: list[int], grow_steps: int, corpus: str) -> list[Workload]:
    rng = random.Random(19)
    at = rng.randrange(len(corpus) - TEXT_BYTES)
    text = corpus[at : at + TEXT_BYTES]
    binary = os.urandom(BINARY_BYTES)
    found = [
        Workload(
            f"{kind}, {len(doc) // 1000} KB, never changed",
            n,
            partial(run_document, doc=doc, steps=n),
            partial(check_document, doc=doc, steps=n),
        )
        for kind, doc in (("text", text), ("binary", binary))
        for n in steps
    ]
    found.append(
        Workload(
            "growing list, +1 KiB of text a step",
            grow_steps,
            partial(run_growing, steps=grow_steps, text=stored_bytes.english(corpus)),
            partial(check_growing, steps=grow_steps),
        )
    )
    return found


def _warm_up() -> tuple[Callable[[Any], None], Callable[[Any], bool]]:
    return (
        partial(run_document, doc="warm", steps=2),
        partial(check_document, doc="warm", steps=2),
    )


# -- counting a saver's calls -------------------------------------------------------


@dataclass
class Calls:
    """What the graph asked of a saver: checkpoints, writes, and (on the
    memory bucket) the rounds of each ``put``."""

    puts: int = 0
    writes: int = 0
    put_rounds: list[int] = field(default_factory=list)


def instrument(saver: Any, bucket: Any = None) -> Calls:
    """Count ``put`` and ``put_writes`` on this saver instance. With a
    memory bucket, serialize them and meter each ``put``."""
    calls = Calls()
    lock = threading.Lock()
    put, put_writes = saver.put, saver.put_writes

    def counted_put(config: Any, checkpoint: Any, metadata: Any, versions: Any) -> Any:
        with lock:
            calls.puts += 1
            if bucket is None:
                return put(config, checkpoint, metadata, versions)
            with bucket.measure() as cost:
                done = put(config, checkpoint, metadata, versions)
            calls.put_rounds.append(cost.rounds)
            return done

    def counted_put_writes(
        config: Any, writes: Any, task_id: str, task_path: str = ""
    ) -> Any:
        with lock:
            calls.writes += len(writes)
            return put_writes(config, writes, task_id, task_path)

    saver.put = counted_put
    saver.put_writes = counted_put_writes
    return calls


@dataclass
class Row:
    workload: str
    steps: int
    saver: str
    checkpoints: int = 0
    writes: int = 0
    stored: int | None = None
    requests: dict[str, int] | None = None
    rounds: list[int] | None = None
    seconds: float = 0.0
    ok: bool = True
    note: str = ""
    ratio: float | None = None

    def per_step(self) -> dict[str, float] | None:
        if self.requests is None or not self.checkpoints:
            return None
        return {k: v / self.checkpoints for k, v in self.requests.items()}


def measured(
    workload: Workload, label: str, saver: Any, bucket: Any = None
) -> tuple[Row, Calls]:
    calls = instrument(saver, bucket)
    start = time.perf_counter()
    workload.run(saver)
    row = Row(workload.name, workload.steps, label)
    row.seconds = time.perf_counter() - start
    row.checkpoints, row.writes = calls.puts, calls.writes
    return row, calls


# -- the savers -----------------------------------------------------------------------


def run_memory(workload: Workload) -> Row:
    from langgraph.checkpoint.memory import InMemorySaver

    saver = InMemorySaver()
    row, _ = measured(workload, "memory", saver)
    row.stored = stored_bytes.serializer_bytes(saver)
    row.ok = workload.check(saver)
    return row


OURS: dict[str, dict[str, Any]] = {
    "ours": {},
    "ours-inline": {"shared_value_bytes": None},
    "ours-plain": {"request_options": stored_bytes.OFF},
}


def describe(sizes: dict[str, int]) -> str:
    """The value objects, and the objects of 16 KiB or more (the large
    value's copies)."""
    values = sum(1 for key in sizes if "/values/" in key)
    large = sum(1 for size in sizes.values() if size >= 16384)
    return f"{values} value objects; {large} objects >= 16 KiB"


def run_ours_in_memory(workload: Workload, label: str) -> Row:
    from tests.support.memory_bucket import MemorySaver

    saver = MemorySaver(**OURS[label])
    # The bucket's own meter, before and after (the meters of each put must
    # not nest in another: equal meters are told apart by value).
    kinds = {"PUT": "put", "GET": "get", "LIST": "list", "HEAD": "head"}
    kinds["DELETE"] = "delete"
    before = {k: getattr(saver.bucket.cost, a) for k, a in kinds.items()}
    row, calls = measured(workload, label, saver, saver.bucket)
    row.stored = sum(obj.size for obj in saver.bucket.objects.values())
    row.requests = {
        k: getattr(saver.bucket.cost, a) - before[k] for k, a in kinds.items()
    }
    row.rounds = calls.put_rounds
    row.ok = workload.check(saver)
    row.note = describe({k: o.size for k, o in saver.bucket.objects.items()})
    return row


def moto_rows(workload: Workload, endpoint: str, tmp: Path) -> list[Row]:
    """Our saver with and without shared values, and the other S3 savers
    that import here, against the moto child."""
    from benchmarks import savers, seeding
    from benchmarks.moto_server import ServerCounter
    from langgraph_checkpoint_s3 import S3CheckpointSaver

    counter = ServerCounter(endpoint)
    env = savers.Env(endpoint, uuid.uuid4().hex[:8], tmp)
    rows = []

    def one(label: str, open_saver: Callable[[], Any]) -> None:
        with open_saver() as (saver, bucket):
            before = counter.snapshot()
            row, _ = measured(workload, f"{label}@moto", saver)
            after = counter.snapshot()
            row.ok = workload.check(saver)
        row.requests = {k: after.get(k, 0) - before.get(k, 0) for k in REQUEST_KINDS}
        row.stored = seeding.stored_bytes(endpoint, bucket)[1]
        row.note = describe(sizes_in(bucket))  # after the counts: not counted
        rows.append(row)

    @contextlib.contextmanager
    def ours(label: str) -> Iterator[tuple[Any, str]]:
        kwargs: dict[str, Any] = {}
        if label == "ours-inline":
            kwargs["shared_value_bytes"] = None
        bucket = env.bucket(label)
        saver = S3CheckpointSaver(
            bucket, prefix="bench/", endpoint_url=endpoint, **kwargs
        )
        with saver:
            yield saver, bucket

    def sizes_in(bucket: str) -> dict[str, int]:
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {o["Key"]: o["Size"] for p in pages for o in p.get("Contents", [])}

    one("ours", partial(ours, "ours"))
    one("ours-inline", partial(ours, "ours-inline"))
    for spec in savers.SPECS:
        if not spec.s3 or spec.ours or spec.kind != "sync":
            continue
        if spec.missing() or spec.label.startswith("pypi"):
            continue

        @contextlib.contextmanager
        def opened(spec: savers.SaverSpec = spec) -> Iterator[tuple[Any, str]]:
            with spec.open(env) as saver:  # it makes its bucket, by its label
                yield saver, env.buckets[spec.label]

        try:
            one(spec.label, opened)
        except Exception as exc:  # another package's saver: report, go on
            rows.append(Row(workload.name, workload.steps, spec.label, ok=False))
            rows[-1].note = f"{type(exc).__name__}: {exc}"[:80]
    return rows


def other_s3_skipped() -> list[str]:
    from benchmarks import savers

    why = []
    for spec in savers.SPECS:
        if not spec.s3 or spec.ours:
            continue
        if spec.kind != "sync":
            why.append(f"{spec.label}: async (its sync twin stands for it)")
        elif spec.label.startswith("pypi"):
            why.append(f"{spec.label}: {spec.note}")
        elif reason := spec.missing():
            why.append(f"{spec.label}: {reason}")
    return why


# -- PostgreSQL --------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The directory of initdb and pg_ctl: PATH, else Debian's layout."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    for found in sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    ):
        if (Path(found) / "initdb").exists() and (Path(found) / "pg_ctl").exists():
            return Path(found)
    return None


def postgres_missing() -> str | None:
    """Why the Postgres saver cannot run here, or None."""
    import importlib.util

    for module, package in (
        ("langgraph.checkpoint.postgres", "langgraph-checkpoint-postgres"),
        ("psycopg", "psycopg[binary]"),
    ):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return f"module {module} not importable (pip install {package})"
    if postgres_bin() is None:
        return (
            "initdb/pg_ctl not on PATH nor under /usr/lib/postgresql/*/bin "
            "(apt install postgresql)"
        )
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    socket_dir: Path
    port: int
    user: str
    version: str

    def conninfo(self, dbname: str) -> str:
        return (
            f"host={self.socket_dir} port={self.port} user={self.user} dbname={dbname}"
        )


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    """A throwaway cluster: initdb into a temp dir (trust auth), started on a
    free port with only a unix socket (in the temp dir), stopped and deleted
    at the end. As root it runs as the ``postgres`` user (or ``nobody``):
    PostgreSQL refuses to run as root."""
    bindir = postgres_bin()
    assert bindir is not None
    tmp = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    run_as: str | None = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                entry = pwd.getpwnam(name)
                run_as = name
                os.chown(tmp, entry.pw_uid, entry.pw_gid)
                break
    data, sock = tmp / "data", tmp
    user = "bench"
    port = _free_port()

    def pg(*args: str) -> str:
        done = subprocess.run(
            [str(bindir / args[0]), *args[1:]],
            user=run_as,
            cwd=tmp,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    version = pg("initdb", "--version").strip()
    pg("initdb", "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {sock} -c listen_addresses='' -c fsync=off"
    pg("pg_ctl", "start", "-w", "-D", str(data), "-l", str(tmp / "log"), "-o", options)
    log(f"postgres: {version}, {bindir}, socket {sock}/.s.PGSQL.{port}")
    try:
        yield Cluster(sock, port, user, version)
    finally:
        with contextlib.suppress(Exception):
            pg("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(data))
        shutil.rmtree(tmp, ignore_errors=True)


_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
_COLUMNS = """
select
  (select coalesce(sum(pg_column_size(checkpoint) + pg_column_size(metadata)), 0)
     from checkpoints)
  + (select coalesce(sum(pg_column_size(blob)), 0) from checkpoint_blobs)
  + (select coalesce(sum(pg_column_size(blob)), 0) from checkpoint_writes)
"""


def _one(conn: Any, query: str) -> int:
    """The one number a query answers (the saver's connection gives dicts)."""
    return int(conn.execute(f"select ({query}) as n").fetchone()["n"])


def _relation_bytes(conn: Any) -> int:
    return sum(_one(conn, f"pg_total_relation_size('{t}')") for t in _TABLES)


def run_postgres(workload: Workload, cluster: Cluster) -> Row:
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver

    dbname = f"w{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f"create database {dbname}")
    with PostgresSaver.from_conn_string(cluster.conninfo(dbname)) as saver:
        saver.setup()
        conn: Any = saver.conn
        empty = _relation_bytes(conn)
        row, _ = measured(workload, "postgres", saver)
        row.stored = _one(conn, _COLUMNS)
        tables = _relation_bytes(conn) - empty
        row.ok = workload.check(saver)
    row.note = f"tables grew {tables / 1e6:.2f} MB"
    return row


# -- the report -------------------------------------------------------------------


HEADERS = [
    "workload",
    "steps",
    "saver",
    "stored MB",
    "x memory",
    "PUT/step",
    "extra PUTs",
    "rounds/put",
    "GET/step",
    "$/1M steps",
    "ms/step",
    "note",
]


def cells(row: Row) -> list[str]:
    per = row.per_step()
    floor = row.checkpoints + row.writes
    rounds = "-"
    if row.rounds:
        more = sum(1 for r in row.rounds if r > 1)
        rounds = f"{sum(row.rounds) / len(row.rounds):.3f} (max {max(row.rounds)}"
        rounds += f", {more} >1)"
    dollars = "-"
    if per is not None and row.stored is not None:
        request_bill = dollars_per_million_steps(per)
        storage = storage_dollars_per_month(row.stored / row.checkpoints * 1e6)
        dollars = f"{request_bill + storage:.2f} ({request_bill:.2f}+{storage:.2f})"
    note = row.note if row.ok else f"WRONG STATE {row.note}".strip()
    return [
        row.workload,
        str(row.steps),
        row.saver,
        f"{row.stored / 1e6:.3f}" if row.stored is not None else "-",
        f"{row.ratio:.3f}" if row.ratio is not None else "-",
        f"{per['PUT']:.3f}" if per else "-",
        str(row.requests["PUT"] - floor) if row.requests else "-",
        rounds,
        f"{per['GET']:.3f}" if per else "-",
        dollars,
        f"{1e3 * row.seconds / max(row.checkpoints, 1):.2f}",
        note,
    ]


def markdown(rows: list[Row]) -> str:
    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    for row in rows:
        c = cells(row)
        c[2] = f"`{c[2]}`"
        lines.append("| " + " | ".join(c) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.shared_values",
        description=(__doc__ or "").split("\n\n")[0],
    )
    parser.add_argument("--steps", default="50,300", help="document graph lengths")
    parser.add_argument("--grow-steps", type=int, default=200, help="growing: steps")
    parser.add_argument("--no-moto", action="store_true", help="skip the moto savers")
    parser.add_argument("--no-postgres", action="store_true", help="skip Postgres")
    parser.add_argument("--quick", action="store_true", help="--steps 5 --grow-steps 5")
    parser.add_argument("--json", type=Path, help="also write every row here")
    args = parser.parse_args()
    # The in-memory savers' default serializer warns; it changes no byte.
    warnings.filterwarnings("ignore", message=r".*serializer in permissive mode")
    steps = [int(s) for s in str(args.steps).split(",")]
    if args.quick:
        steps, args.grow_steps = [5], 5
    started = datetime.datetime.now(datetime.timezone.utc)
    corpus = stored_bytes.docstrings()
    chosen = workloads(steps, args.grow_steps, corpus)

    skipped = other_s3_skipped()
    pg_missing = "--no-postgres" if args.no_postgres else postgres_missing()
    if pg_missing:
        skipped.append(f"postgres: {pg_missing}")
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        cluster = None if pg_missing else stack.enter_context(postgres_cluster())
        endpoint = None
        if not args.no_moto:
            from benchmarks.moto_server import moto_child, set_aws_env

            endpoint = stack.enter_context(moto_child())
            set_aws_env(endpoint)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        # Imports and the first graph compile, out of the first row's time.
        run_memory(Workload("warm-up", 2, *_warm_up()))
        for workload in chosen:
            log(f"{workload.name}, {workload.steps} steps")
            found = [run_memory(workload)]
            found += [run_ours_in_memory(workload, label) for label in OURS]
            if endpoint is not None:
                found += moto_rows(workload, endpoint, tmp)
            if cluster is not None:
                found.append(run_postgres(workload, cluster))
            reference = found[0].stored
            for row in found:
                if row.stored is not None and reference:
                    row.ratio = row.stored / reference
            rows += found
    print(render_table(HEADERS, [cells(r) for r in rows]))
    for why in skipped:
        print(f"skipped {why}")
    command = "python -m benchmarks.shared_values " + shlex.join(sys.argv[1:])
    print(
        f"\nMeasured on {started:%Y-%m-%d} with `{command.strip()}`, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
        + (f", {cluster.version}" if cluster else "")
        + ":\n"
    )
    print(markdown(rows))
    if args.json:
        args.json.write_text(
            json.dumps([asdict(r) for r in rows], indent=2) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
