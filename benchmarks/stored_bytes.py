"""Stored bytes with and without compression, against InMemorySaver's
serializer bytes, and the CPU time compression adds per PUT.

From the repository root::

    python -m benchmarks.stored_bytes
    python -m benchmarks.stored_bytes --steps 50 --constant 500   # quicker

No server: the savers run their plans on the in-memory bucket of
``tests/support/memory_bucket.py``, which stores exactly the bytes S3 would. Workloads:

- growing: ``--steps`` checkpoints (default 200) of a list channel that gains
  one 1 KiB text item per step (``put``, then ``put_writes`` of the new item),
  with three kinds of text: ``english`` (1 KiB slices of the standard
  library's docstrings), ``words`` (random words of a 100-word vocabulary,
  Zipf-weighted) and ``random`` (random letters and digits, the worst case);
- constant: ``--constant`` checkpoints (default 5,000) of the bench's
  chat-like step (two short messages, a counter, two writes), whose size does
  not grow.

"serializer bytes" are the bytes of every ``dumps_typed`` result InMemorySaver
holds after the same calls (checkpoints, metadata, channel blobs, writes).
CPU time is ``time.process_time`` over all the calls, the best of
``--repeat`` runs, with compression on minus off, divided by the PUTs. The
"what if" rows recompress the plain objects (another gzip level or threshold)
or rewrite their values (``data`` as a latin-1 JSON string instead of base64,
or zlib before base64) to show what the envelope's value encoding costs; the
savers write neither.
"""

from __future__ import annotations

import argparse
import ast
import base64
import json
import random
import string
import sysconfig
import time
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.memory import InMemorySaver

from benchmarks.checkpoints import WRITES_PER_CHECKPOINT, make_step, thread_config
from langgraph_checkpoint_s3._compression import DEFAULT_MIN_BYTES
from langgraph_checkpoint_s3.protocol import RequestOptions
from tests.support.memory_bucket import MemorySaver

ITEM = 1024
OFF = RequestOptions(compress_min_bytes=None)
Text = Callable[[random.Random], str]


def docstrings() -> str:
    """English prose: the standard library's longer docstrings."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    docs = []
    for path in sorted(lib.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(
                node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 200:
                    docs.append(" ".join(doc.split()))
    return " ".join(docs)


_VOCABULARY = (
    "the of and to a in is it you that he was for on are with as I his they be "
    "at one have this from or had by not word but what some we can out other "
    "were all there when up use your how said an each she which do their time "
    "if will way about many then them write would like so these her long make "
    "thing see him two has look more day could go come did number sound no "
    "most people my over know water than call first who may down side been now"
)
_WORDS = _VOCABULARY.split()
_WEIGHTS = [1 / (rank + 1) for rank in range(len(_WORDS))]


def english(corpus: str) -> Text:
    def text(rng: random.Random) -> str:
        at = rng.randrange(len(corpus) - ITEM)
        return corpus[at : at + ITEM]

    return text


def words(rng: random.Random) -> str:
    return " ".join(rng.choices(_WORDS, _WEIGHTS, k=ITEM // 3))[:ITEM]


def noise(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=ITEM))


def growing(saver: Any, steps: int, text: Text) -> int:
    """The growing workload; returns the number of PUTs it makes."""
    rng = random.Random(1)
    config: Any = thread_config("grow")
    items: list[str] = []
    version: str | None = None
    for step in range(steps):
        item = text(rng)
        items = [*items, item]
        version = saver.get_next_version(version, None)
        checkpoint = empty_checkpoint()
        checkpoint["id"] = str(uuid6(clock_seq=step))
        checkpoint["channel_values"] = {"items": items}
        checkpoint["channel_versions"] = {"items": version}
        checkpoint["versions_seen"] = {"append": {"items": version}}
        checkpoint["updated_channels"] = ["items"]
        metadata: Any = {"source": "loop", "step": step, "parents": {}}
        config = saver.put(config, checkpoint, metadata, {"items": version})
        saver.put_writes(config, [("items", [item])], str(uuid.UUID(int=step)))
    return 2 * steps


def constant(saver: Any, steps: int) -> int:
    """The bench's chat-like steps; returns the number of PUTs."""
    versions: dict[str, Any] = {}
    config: Any = thread_config("constant")
    for step in range(steps):
        made = make_step(saver, step, versions, "run-1")
        config = saver.put(config, made.checkpoint, made.metadata, made.versions)
        saver.put_writes(config, made.writes, made.task_id)
    return steps * (1 + WRITES_PER_CHECKPOINT)


def serializer_bytes(saver: InMemorySaver) -> int:
    """Every dumps_typed result InMemorySaver holds."""
    total = 0
    for namespaces in saver.storage.values():
        for checkpoints in namespaces.values():
            for stored, metadata, _ in checkpoints.values():
                total += len(stored[1]) + len(metadata[1])
    total += sum(len(blob[1]) for blob in saver.blobs.values())
    for writes in saver.writes.values():
        total += sum(len(write[2][1]) for write in writes.values())
    return total


@dataclass
class Run:
    saver: MemorySaver
    puts: int
    cpu: float


def run(workload: Callable[[Any], int], options: RequestOptions | None) -> Run:
    saver = MemorySaver(request_options=options)
    start = time.process_time()
    puts = workload(saver)
    return Run(saver, puts, time.process_time() - start)


def best(workload: Callable[[Any], int], options: RequestOptions | None, n: int) -> Run:
    return min((run(workload, options) for _ in range(n)), key=lambda r: r.cpu)


def read_cpu(saver: MemorySaver) -> float:
    """CPU time of reading every checkpoint back with its writes."""
    start = time.process_time()
    assert list(saver.list(None))
    return time.process_time() - start


def stored(saver: MemorySaver) -> int:
    return sum(obj.size for obj in saver.bucket.objects.values())


def bodies(saver: MemorySaver) -> list[bytes]:
    return [obj.body for obj in saver.bucket.objects.values()]


def _rewrite_values(doc: Any, how: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    if isinstance(doc, dict):
        if set(doc) == {"type", "data"} and isinstance(doc["data"], str):
            return how(doc)
        return {k: _rewrite_values(v, how) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_rewrite_values(v, how) for v in doc]
    return doc


def _latin1(value: dict[str, Any]) -> dict[str, Any]:
    raw = base64.b64decode(value["data"])
    return {"type": value["type"], "latin1": raw.decode("latin-1")}


def _zlib(value: dict[str, Any]) -> dict[str, Any]:
    raw = base64.b64decode(value["data"])
    packed = zlib.compress(raw, 6)
    if len(packed) >= len(raw):
        return value
    return {"type": value["type"], "zdata": base64.b64encode(packed).decode()}


def gzip_total(objects: Iterable[bytes], level: int, min_bytes: int = 0) -> int:
    """Stored bytes of ``objects`` compressed as the savers do, at ``level``."""
    total = 0
    for body in objects:
        packer = zlib.compressobj(level, zlib.DEFLATED, 31)  # gzip, as the savers
        packed = packer.compress(body) + packer.flush()
        smaller = len(body) >= min_bytes and len(packed) < len(body)
        total += len(packed) if smaller else len(body)
    return total


def what_if(plain: Iterable[bytes]) -> dict[str, tuple[int, int]]:
    """(uncompressed, compressed) bytes of the plain objects, their values
    rewritten."""
    docs = [json.loads(body) for body in plain]
    rows: dict[str, tuple[int, int]] = {}
    for name, how in (("latin-1 string values", _latin1), ("zlib+base64", _zlib)):
        made = [
            json.dumps(
                _rewrite_values(d, how), ensure_ascii=False, separators=(",", ":")
            ).encode()
            for d in docs
        ]
        rows[name] = (sum(map(len, made)), gzip_total(made, 6, DEFAULT_MIN_BYTES))
    return rows


def measure(name: str, workload: Callable[[Any], int], repeat: int) -> dict[str, Any]:
    memory = InMemorySaver()
    workload(memory)
    off, on = best(workload, OFF, repeat), best(workload, None, repeat)
    plain = bodies(off.saver)
    return {
        "workload": name,
        "objects": len(plain),
        "puts": on.puts,
        "serializer_bytes": serializer_bytes(memory),
        "stored_off": stored(off.saver),
        "stored_on": stored(on.saver),
        "cpu_per_put_off_ms": 1e3 * off.cpu / off.puts,
        "cpu_per_put_on_ms": 1e3 * on.cpu / on.puts,
        "read_cpu_off_s": read_cpu(off.saver),
        "read_cpu_on_s": read_cpu(on.saver),
        "gzip_levels": {
            level: gzip_total(plain, level, DEFAULT_MIN_BYTES) for level in (1, 6, 9)
        },
        "thresholds": {t: gzip_total(plain, 6, t) for t in (0, 256, 512, 1024, 4096)},
        "what_if": what_if(plain),
    }


def report(f: dict[str, Any]) -> None:
    ref = f["serializer_bytes"]

    def share(n: int) -> str:
        return f"{n / 1e6:8.2f} MB  {n / ref:5.3f}x"

    added = f["cpu_per_put_on_ms"] - f["cpu_per_put_off_ms"]
    print(f"\n{f['workload']}: {f['objects']} objects, {f['puts']} PUTs")
    print(f"  InMemorySaver serializer bytes  {ref / 1e6:8.2f} MB  1.000x")
    print(f"  stored, compression off         {share(f['stored_off'])}")
    print(f"  stored, compression on          {share(f['stored_on'])}")
    print(
        f"  CPU per PUT: {f['cpu_per_put_off_ms']:.3f} ms off, "
        f"{f['cpu_per_put_on_ms']:.3f} ms on: +{added:.3f} ms "
        f"(+{100 * added / f['cpu_per_put_off_ms']:.0f}%)"
    )
    print(
        f"  reading everything back (list): {f['read_cpu_off_s']:.3f} s CPU off, "
        f"{f['read_cpu_on_s']:.3f} s on"
    )
    for level, total in f["gzip_levels"].items():
        print(f"  what if: gzip level {level}          {share(total)}")
    for threshold, total in f["thresholds"].items():
        print(f"  what if: threshold {threshold:>5} bytes   {share(total)}")
    for name, (raw, packed) in f["what_if"].items():
        print(f"  what if: {name:22} {share(raw)} plain, {packed / ref:5.3f}x gzip")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stored_bytes",
        description=(__doc__ or "").split("\n\n")[0],
    )
    parser.add_argument("--steps", type=int, default=200, help="growing: checkpoints")
    parser.add_argument("--constant", type=int, default=5000, help="constant: count")
    parser.add_argument("--repeat", type=int, default=3, help="runs; CPU: the best")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    texts: dict[str, Text] = {
        "english": english(docstrings()),
        "words": words,
        "random": noise,
    }
    workloads: dict[str, Callable[[Any], int]] = {
        f"growing ({args.steps} appends of 1 KiB, {label} text)": partial(
            growing, steps=args.steps, text=text
        )
        for label, text in texts.items()
    }
    workloads[f"constant ({args.constant} chat-like checkpoints)"] = partial(
        constant, steps=args.constant
    )
    results = []
    for name, workload in workloads.items():
        results.append(measure(name, workload, args.repeat))
        report(results[-1])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
