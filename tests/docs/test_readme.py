"""Every code block of README.md and of the pages in docs/ works as written,
and the demo runs.

Blocks are found by their fence and handled by kind (see ``kind``):

- ``python``: run in a subprocess against the moto server, the SDK pointed at
  it by ``AWS_ENDPOINT_URL_S3``, in a bucket emptied first. Each ``print(...)``
  must print one line; one followed by ``# expected`` must print that value.
  ``http://localhost:9000`` (the example store URL) is replaced by the moto
  server's URL, and ``AWS_ENDPOINT_URL_S3`` is then unset, so the block reaches
  the server only through its ``endpoint_url``.
- ``python signature``: the constructor signatures, compared with the classes.
- ``bash`` with ``s3-checkpoint``: run with bash (``-e -o pipefail``) on the
  data the synchronous quick start writes; must exit 0. A ``json`` block right
  after one is its output: same structure (keys, list lengths, value types).
- ``console``: ``$ command`` lines with their exact output (stdout and stderr).
- ``bash`` with ``pip install``: run in a new venv (in the background, while
  the other tests run), then the installed package and CLI are checked.
- ``bash`` with ``scripts/export_schemas.py``: run on a copy of the script; it
  must write exactly the committed schemas.
- ``json`` examples (a stored write, the IAM policy) and ``text`` blocks (the
  layout) are checked against stored objects, the schemas, the keys really
  written and the S3 calls the code makes.

- The Agent Server recipe: its ``langgraph.json`` and its checkpointer
  factory (``python`` with ``def make_saver``) are the files of
  ``examples/agent_server/``; the factory is entered on the moto server.

Skipped, each for the reason in ``SKIPPED``: ``./scripts/demo`` (the demo is
run directly by ``test_demo_runs``), ``./scripts/test`` and ``.ci/run`` (they
run this suite), the lint and type-check commands, the benchmark (a ~30 s
measurement; only its options are checked), and ``langgraph dev`` (the
recipe's server, run by ``tests/servers/test_agent_server.py``).
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from langgraph.checkpoint.base import BaseCheckpointSaver

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver
from langgraph_checkpoint_s3._compression import decompress
from langgraph_checkpoint_s3._keys import Layout, decode_component, encode_component
from langgraph_checkpoint_s3.cli import ExitCode
from langgraph_checkpoint_s3.protocol import (
    Delete,
    Get,
    HeadBucket,
    List,
    Put,
    Request,
    call_of,
)
from tests.support import ROOT
from tests.support.s3servers import S3Endpoint

README = ROOT / "README.md"
# The manual: the README, then its pages, each block checked where it stands.
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
BUCKET = "my-checkpoints-bucket"
PREFIX = "my-app/checkpoints/"
LOCAL_STORE = "http://localhost:9000"
AES_KEY = "0123456789abcdef"  # LANGGRAPH_AES_KEY for the encryption example
TIMEOUT = 120

SKIPPED = {
    "./scripts/demo": "creates .venv and runs examples/demo.py, which "
    "test_demo_runs runs directly",
    "./scripts/test": "runs this test suite",
    ".ci/run": "runs the linters and this test suite",
    "./scripts/langgraph-suite": "runs LangGraph's own tests, as .ci/run does",
    "./scripts/test-pythons": "runs the unit tests on two more Pythons, as .ci/run "
    "does",
    "./scripts/coinstall": "installs the package into two new venvs and runs the "
    "savers there, as .ci/run does",
    ".venv/bin/python -m ruff": "lint and format check, run by .ci/run",
    ".venv/bin/python -m mypy": "type check, run by .ci/run",
    "python -m benchmarks": "a ~30 s measurement run that never fails on a "
    "figure; test_bench_options checks its options",
    "langgraph dev": "starts LangGraph's Agent Server on the recipe, as "
    "tests/servers/test_agent_server.py does on moto",
}

# The S3 API calls the code makes, and the IAM action each needs.
PERMISSIONS = {
    "head_bucket": "s3:ListBucket",
    "list_objects_v2": "s3:ListBucket",
    "get_object": "s3:GetObject",
    "put_object": "s3:PutObject",
    "delete_objects": "s3:DeleteObject",
}


# -- README blocks ----------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    document: str  # the file, relative to the repository
    lang: str
    info: str
    text: str
    line: int
    section: str
    after: Block | None  # the block before this one in the same section

    @property
    def name(self) -> str:
        """For test ids: the page, the section and the line, e.g.
        ``cli-dump-L640`` (``README`` for the README)."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.section.lower()).strip("-")
        page = Path(self.document).stem
        return f"{page}-{slug or 'top'}-L{self.line}"

    def commands(self) -> list[str]:
        return [
            line
            for line in self.text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]


def parse_blocks(document: str, markdown: str) -> list[Block]:
    blocks: list[Block] = []
    section = ""
    fence: str | None = None
    info = ""
    start = 0
    body: list[str] = []
    for number, line in enumerate(markdown.splitlines(), 1):
        if fence is None:
            opening = re.match(r"^(`{3,})\s*(.*)$", line)
            if opening:
                fence, info, start, body = opening[1], opening[2].strip(), number, []
            elif line.startswith("#"):
                section = line.lstrip("#").strip()
            continue
        if line.strip() == fence:
            previous = blocks[-1] if blocks and blocks[-1].section == section else None
            lang = info.split()[0] if info else ""
            text = "\n".join(body) + "\n"
            blocks.append(Block(document, lang, info, text, start, section, previous))
            fence = None
        else:
            body.append(line)
    assert fence is None, f"{document}: the fence opened on line {start} never closes"
    return blocks


MARKDOWNS = {
    str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in DOCUMENTS
}
MARKDOWN = "\n".join(MARKDOWNS.values())
BLOCKS = [
    block
    for document, markdown in MARKDOWNS.items()
    for block in parse_blocks(document, markdown)
]


def skip_reason(block: Block) -> str | None:
    """Why a bash block is not run, when every command in it is skipped."""
    reasons = set()
    for command in block.commands():
        found = [why for start, why in SKIPPED.items() if command.startswith(start)]
        if not found:
            return None
        reasons.update(found)
    return "; ".join(sorted(reasons)) if reasons else None


def kind(block: Block) -> str:
    if block.info == "python signature":
        return "signature"
    if block.lang == "python":
        return "agent-server-factory" if "def make_saver" in block.text else "python"
    if block.lang == "console":
        return "console"
    if block.lang == "bash":
        if skip_reason(block):
            return "skipped"
        if "pip install" in block.text:
            return "install"
        if "s3-checkpoint " in block.text:
            return "cli"
        if "scripts/export_schemas.py" in block.text:
            return "schemas"
    if block.lang == "json":
        if block.after is not None and kind(block.after) == "cli":
            return "cli-output"
        if '"Statement"' in block.text:
            return "policy"
        if '"format": "langgraph-checkpoint-s3/write"' in block.text:
            return "write-example"
        if '"checkpointer"' in block.text:
            return "agent-server-config"
    if block.lang == "text":
        if "├──" in block.text:
            return "tree"
        if block.text.startswith("{prefix}"):
            return "key-templates"
        if block.text.startswith("src/langgraph_checkpoint_s3/"):
            return "module-tree"
    return "unknown"


def blocks_of(wanted: str) -> list[Block]:
    return [block for block in BLOCKS if kind(block) == wanted]


def the_block(wanted: str) -> Block:
    """The one block of a kind; the key templates are stated in the stored
    format's page (the design restates them, see
    ``test_key_templates_are_stated_alike``)."""
    found = blocks_of(wanted)
    if wanted == "key-templates":
        found = [b for b in found if b.document == "docs/format.md"]
    (block,) = found
    return block


def output_of(block: Block) -> Block | None:
    """The json block that shows what a cli block prints, if any."""
    for candidate in blocks_of("cli-output"):
        if candidate.after == block:
            return candidate
    return None


def section_lines(section: str) -> list[str]:
    """The lines under a heading of the manual, up to the next heading."""
    lines = MARKDOWN.splitlines()
    starts = [i for i, line in enumerate(lines) if line.lstrip("#").strip() == section]
    assert len(starts) == 1, f"the manual has {len(starts)} sections {section!r}"
    rest = lines[starts[0] + 1 :]
    end = next((i for i, line in enumerate(rest) if line.startswith("#")), len(rest))
    return rest[:end]


def quick_start() -> Block:
    (block,) = [b for b in blocks_of("python") if b.section == "Synchronous usage"]
    return block


# -- comparing output -------------------------------------------------------------


def shape(value: Any) -> Any:
    """A JSON value with every scalar replaced by its type: two outputs of the
    same command on the same kind of data have the same shape."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def same_value(printed: str, expected: str) -> bool:
    """``print(x)  # expected``: the same text, or the same Python value
    (``{'value': 2}`` printed matches ``{"value": 2}`` written)."""
    if printed == expected:
        return True
    try:
        actual = ast.literal_eval(printed)
    except (ValueError, SyntaxError):
        return False
    for parse in (json.loads, ast.literal_eval):
        try:
            if actual == parse(expected):
                return True
        except (ValueError, SyntaxError):
            continue
    return False


def expected_prints(code: str) -> list[str | None]:
    """One entry per ``print(`` line: the value its comment says, or None."""
    found: list[str | None] = []
    for line in code.splitlines():
        if re.match(r"^\s*print\(", line):
            comment = re.search(r"\)\s*#\s*(.+)$", line)
            found.append(comment[1].strip() if comment else None)
    return found


# -- the S3 side ------------------------------------------------------------------


def sdk_env(endpoint: S3Endpoint, *, endpoint_variable: bool = True) -> dict[str, str]:
    """This environment without the developer's AWS settings, pointed at moto,
    with this interpreter's bin/ (python, s3-checkpoint) first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        endpoint.env(),
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        LANGGRAPH_AES_KEY=AES_KEY,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    if not endpoint_variable:
        del env["AWS_ENDPOINT_URL_S3"]
    return env


class Store:
    """The README's bucket on the moto server. moto keeps its buckets in
    process globals, so the bucket is emptied rather than replaced."""

    def __init__(self, endpoint: S3Endpoint) -> None:
        self.endpoint = endpoint
        self.client = endpoint.boto3_client()
        self.seeded = False

    def list_keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def empty(self) -> None:
        if BUCKET not in {b["Name"] for b in self.client.list_buckets()["Buckets"]}:
            self.client.create_bucket(Bucket=BUCKET)
        keys = self.list_keys()
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            self.client.delete_objects(
                Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in chunk]}
            )
        self.seeded = False

    def seed(self) -> None:
        """The data the CLI examples read: what the sync quick start writes."""
        if self.seeded:
            return
        self.empty()
        # A directory of its own: runs of the suite side by side must not
        # share (and delete) each other's script.
        with tempfile.TemporaryDirectory() as cwd:
            done = run_python(quick_start(), self.endpoint, Path(cwd))
        assert done.returncode == 0, done.stderr
        self.seeded = True

    def read(self, key: str) -> Any:
        body = self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return json.loads(decompress(key, body))


@pytest.fixture(scope="module")
def store(moto: S3Endpoint) -> Store:
    return Store(moto)


@pytest.fixture
def empty_store(store: Store) -> Store:
    store.empty()
    return store


@pytest.fixture
def seeded_store(store: Store) -> Store:
    store.seed()
    return store


def run_python(
    block: Block, endpoint: S3Endpoint, cwd: Path
) -> subprocess.CompletedProcess[str]:
    uses_local_store = LOCAL_STORE in block.text
    script = cwd / f"readme_{block.name}.py"
    script.write_text(block.text.replace(LOCAL_STORE, endpoint.url), encoding="utf-8")
    try:
        return subprocess.run(
            [sys.executable, str(script)],
            cwd=cwd,
            env=sdk_env(endpoint, endpoint_variable=not uses_local_store),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        script.unlink()


def run_bash(
    script: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


# -- every block is accounted for -------------------------------------------------


def test_every_block_has_a_check() -> None:
    unknown = [f"{b.name} ({b.section})" for b in BLOCKS if kind(b) == "unknown"]
    assert not unknown, f"blocks no test knows how to check: {unknown}"
    counts = {k: len(blocks_of(k)) for k in ("python", "cli", "cli-output")}
    assert counts["python"] >= 5 and counts["cli"] >= 4 and counts["cli-output"] >= 3


def test_skips_are_explicit() -> None:
    """Each skip rule is used, and nothing else is skipped."""
    skipped = [b for b in BLOCKS if kind(b) == "skipped"]
    for start in SKIPPED:
        assert any(c.startswith(start) for b in skipped for c in b.commands()), start
    assert {"./scripts/demo", "./scripts/test"} <= {
        command for block in skipped for command in block.commands()
    }


# -- python blocks ----------------------------------------------------------------


@pytest.mark.parametrize("block", blocks_of("python"), ids=lambda b: b.name)
def test_python_block(block: Block, empty_store: Store, tmp_path: Path) -> None:
    done = run_python(block, empty_store.endpoint, tmp_path)
    assert done.returncode == 0, f"{block.name} failed:\n{done.stderr}"
    printed = done.stdout.splitlines()
    expected = expected_prints(block.text)
    assert len(printed) == len(expected), (printed, expected)
    for line, value in zip(printed, expected, strict=True):
        if value is not None:
            assert same_value(line, value), f"printed {line!r}, README says {value}"


def test_local_store_example_uses_endpoint_url() -> None:
    """The endpoint example is run without AWS_ENDPOINT_URL_S3 (see
    run_python), so it passes only if endpoint_url reaches the client."""
    (block,) = [b for b in blocks_of("python") if LOCAL_STORE in b.text]
    assert "endpoint_url=" in block.text


@pytest.mark.parametrize(
    "cls", [S3CheckpointSaver, AsyncS3CheckpointSaver], ids=lambda c: c.__name__
)
def test_signature_block(cls: type) -> None:
    classes = {}
    for block in blocks_of("signature"):
        for node in ast.parse(block.text).body:
            assert isinstance(node, ast.ClassDef)
            classes[node.name] = node
    init = next(
        node
        for node in classes[cls.__name__].body
        if isinstance(node, ast.FunctionDef) and node.name == "__init__"
    )
    args = init.args
    documented: list[tuple[str, str, ast.expr | None, ast.expr | None]] = [
        (a.arg, "POSITIONAL_OR_KEYWORD", a.annotation, None) for a in args.args
    ]
    documented += [
        (a.arg, "KEYWORD_ONLY", a.annotation, d)
        for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.kwarg:
        documented.append((args.kwarg.arg, "VAR_KEYWORD", args.kwarg.annotation, None))

    def annotation(text: Any) -> str | None:
        if text is inspect.Parameter.empty or text is None:
            return None
        tree = text if isinstance(text, ast.AST) else ast.parse(text, mode="eval")
        return ast.unparse(tree)

    actual = inspect.signature(vars(cls)["__init__"]).parameters.values()
    assert [
        (p.name, p.kind.name, annotation(p.annotation), p.default) for p in actual
    ] == [
        (
            name,
            kind_,
            annotation(note),
            inspect.Parameter.empty if default is None else ast.literal_eval(default),
        )
        for name, kind_, note, default in documented
    ]


def methods_table() -> set[str]:
    """The method names in the first two columns of the Methods table."""
    names = set()
    for line in section_lines("Methods"):
        cells = line.split(" | ")
        if line.startswith("| `") and len(cells) >= 2:
            for cell in cells[:2]:
                found = re.match(r"^\|? ?`(\w+)", cell)
                if found:
                    names.add(found[1])
    return names


@pytest.mark.parametrize(
    "cls", [S3CheckpointSaver, AsyncS3CheckpointSaver], ids=lambda c: c.__name__
)
def test_every_public_method_is_documented(cls: type) -> None:
    """Each public method is in the Methods table (close() in prose)."""
    ours = cls.__mro__[: cls.__mro__.index(BaseCheckpointSaver)]
    public = {
        name
        for klass in ours
        for name, value in vars(klass).items()
        if not name.startswith("_") and inspect.isfunction(value)
    }
    documented = methods_table()
    if "`close()`" in MARKDOWN:
        documented.add("close")
    assert public - documented == set(), f"undocumented {cls.__name__} methods"
    assert documented - {"close"} <= public, "the table names a missing method"


# -- layout, encoding, stored objects ---------------------------------------------


def tree_paths(tree: str) -> set[str]:
    """The leaf paths of the README's tree drawing."""
    root, *lines = tree.splitlines()
    stack: list[str] = []
    paths = set()
    for line in lines:
        name_at = re.search(r"[^│├└─\s]", line)
        assert name_at is not None, line
        depth = name_at.start() // 4 - 1  # "├── " is 4 characters
        name = line[name_at.start() :].split("#")[0].strip()
        stack[depth:] = [name]
        if not name.endswith("/"):
            paths.add(root + "".join(stack))
    return paths


def test_tree_and_key_templates_agree() -> None:
    templates = set(the_block("key-templates").text.split())
    drawn = {
        path.replace("s3://your-bucket/your-prefix/", "{prefix}")
        for path in tree_paths(the_block("tree").text)
    }
    assert drawn == templates


def test_key_templates_are_stated_alike() -> None:
    stated = {block.text for block in blocks_of("key-templates")}
    assert len(blocks_of("key-templates")) == 2 and len(stated) == 1, stated


def test_module_tree_names_the_modules_there_are() -> None:
    """The design's tree of the source: every module it names exists, and it
    names every module of the package (the CLI's are summed up as ``cli/``)."""
    (block,) = blocks_of("module-tree")
    package = ROOT / "src" / "langgraph_checkpoint_s3"
    named: set[str] = set()
    for line in block.text.splitlines()[1:]:
        if not line.startswith(" "):
            break  # the package's tree ends where the repository's resumes
        # A line indented twice is inside plans/, modules it mentions too.
        folder = "plans/" if line.startswith("    ") else ""
        named.update(folder + m for m in re.findall(r"\b_?[a-z_]+\.py\b", line))
    assert named and all((package / name).exists() for name in named), named
    modules = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.parent.name != "cli" and path.name != "__init__.py"
    }
    assert modules <= named, sorted(modules - named)


def test_stored_keys_follow_the_templates(seeded_store: Store) -> None:
    templates = the_block("key-templates").text.split()
    patterns = [
        re.compile(
            re.sub(
                r"\\\{\w+\\\}",
                "[^/]+",
                re.escape(t).replace(re.escape("{prefix}"), re.escape(PREFIX)),
            )
        )
        for t in templates
    ]
    # The quick start is too short for a head (written at step 99) and its
    # values too small to be shared: the layout's own keys stand in.
    keys = seeded_store.list_keys()
    head = Layout(PREFIX).head_key("thread-1", "")
    value = Layout(PREFIX).value_key("thread-1", "0" * 64)
    used = {
        p.pattern for key in [*keys, head, value] for p in patterns if p.fullmatch(key)
    }
    unmatched = [k for k in keys if not any(p.fullmatch(k) for p in patterns)]
    assert not unmatched and len(used) == len(patterns), (unmatched, templates)
    assert all("/thread-1/__default__/" in key for key in keys)


def test_encoding_table_matches_keys_module() -> None:
    rows = [
        re.match(r"^\| `(.+)` \| `(.+)` \|$", line)
        for line in section_lines("Id encoding")
    ]
    pairs = [(ast.literal_eval(row[1]), row[2]) for row in rows if row]
    assert len(pairs) >= 10
    for identifier, segment in pairs:
        assert encode_component(identifier) == segment, identifier
        assert decode_component(segment) == identifier, segment


def test_write_example_is_a_stored_write(seeded_store: Store) -> None:
    example = json.loads(the_block("write-example").text)
    schema = json.loads((ROOT / "schemas" / "write.v3.json").read_text("utf-8"))
    Draft202012Validator(schema).validate(example)
    writes = [k for k in seeded_store.list_keys() if k.startswith(PREFIX + "writes/")]
    stored = [seeded_store.read(key) for key in writes]
    assert any(shape(doc) == shape(example) for doc in stored)
    assert example["channel"] in {doc["channel"] for doc in stored}


def test_policy_covers_every_s3_call() -> None:
    policy = json.loads(the_block("policy").text)
    (statement,) = policy["Statement"]
    # Every S3 call goes through protocol.call_of, one request type each.
    requests: list[Request] = [
        Get("k"),
        Put("k", b"", True),
        List("p"),
        Delete(("k",)),
        HeadBucket(),
    ]
    calls = {call_of(request, "bucket")[0] for request in requests}
    assert set(typing.get_args(Request)) == {type(r) for r in requests}
    unknown = calls - PERMISSIONS.keys()
    assert not unknown, f"S3 calls without a known IAM action: {unknown}"
    assert {PERMISSIONS[call] for call in calls} == set(statement["Action"])


# -- the Agent Server recipe ------------------------------------------------------

AGENT_SERVER = ROOT / "examples" / "agent_server"


def without_docstring(source: str) -> str:
    """The code of a module, less its docstring and comments."""
    tree = ast.parse(source)
    if ast.get_docstring(tree) is not None:
        tree.body = tree.body[1:]
    return ast.dump(tree)


def test_agent_server_blocks_are_the_example() -> None:
    config = json.loads(the_block("agent-server-config").text)
    assert config == json.loads((AGENT_SERVER / "langgraph.json").read_text("utf-8"))
    factory = (AGENT_SERVER / "s3_saver.py").read_text("utf-8")
    block = the_block("agent-server-factory").text
    assert without_docstring(block) == without_docstring(factory)
    path, name = config["checkpointer"]["path"].split(":")
    assert (AGENT_SERVER / path).resolve() == AGENT_SERVER / "s3_saver.py"
    assert f"async def {name}(" in block


def test_agent_server_factory_opens_the_saver(
    empty_store: Store, tmp_path: Path
) -> None:
    """The factory as the server enters it, with the README's variables: the
    saver is open on the bucket and prefix they name, and writes there."""
    (tmp_path / "s3_saver.py").write_text(
        the_block("agent-server-factory").text, encoding="utf-8"
    )
    driver = textwrap.dedent(
        """
        import asyncio

        from langgraph.checkpoint.base import empty_checkpoint

        from s3_saver import make_saver


        async def main():
            async with make_saver() as saver:
                print(type(saver).__name__, saver.bucket_name, saver.layout.prefix)
                config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
                stored = await saver.aput(config, empty_checkpoint(), {}, {})
                print((await saver.aget_tuple(stored)) is not None)


        asyncio.run(main())
        """
    )
    for prefix in ("agent-server/", "elsewhere/"):
        env = sdk_env(empty_store.endpoint)
        env["S3_CHECKPOINT_BUCKET"] = BUCKET
        if prefix != "agent-server/":  # else the factory's default
            env["S3_CHECKPOINT_PREFIX"] = prefix
        done = subprocess.run(
            [sys.executable, "-c", driver],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert done.returncode == 0, done.stderr
        opened = f"AsyncS3CheckpointSaver {BUCKET} {prefix}"
        assert done.stdout.splitlines() == [opened, "True"]
        assert any(key.startswith(prefix) for key in empty_store.list_keys())


# -- bash and console blocks on the quick start's data ----------------------------


@pytest.mark.parametrize("block", blocks_of("cli"), ids=lambda b: b.name)
def test_cli_block(block: Block, seeded_store: Store, tmp_path: Path) -> None:
    seeded_store.seeded = read_only(block)
    done = run_bash(block.text, sdk_env(seeded_store.endpoint), tmp_path)
    assert done.returncode == 0, f"{block.name} failed:\n{done.stderr}"
    example = output_of(block)
    if example is not None:
        assert shape(json.loads(done.stdout)) == shape(json.loads(example.text))
    for written in tmp_path.glob("*.json"):
        check_read_output(json.loads(written.read_text(encoding="utf-8")))


READ_ONLY = {
    "threads",
    "list",
    "dump",
    "read",
    "history",
    "diff",
    "stats",
    "validate",
}


def read_only(block: Block) -> bool:
    """Whether a block leaves the bucket as it was (so the next needs no new
    seed): it runs only reading commands, or deletes with --dry-run."""
    for command in re.findall(r"s3-checkpoint (\w+)([^\n|)]*)", block.text):
        if command[0] not in READ_ONLY and "--dry-run" not in command[1]:
            return False
    return True


def check_read_output(document: Any) -> None:
    """`read` prints every checkpoint as `dump` shows one, less thread_id."""
    listed, dumped = (
        json.loads(output.text)
        for command in ("list", "dump")
        for output in blocks_of("cli-output")
        if output.after is not None
        and f"s3-checkpoint {command} " in output.after.commands()[-1]
    )
    assert document["thread_id"] == listed["thread_id"]
    assert len(document["checkpoints"]) == len(listed["checkpoints"])
    del dumped["thread_id"]
    assert shape(document["checkpoints"][0]) == shape(dumped)


def test_cli_outputs_are_paired() -> None:
    for output in blocks_of("cli-output"):
        assert output.after is not None
        assert len([c for c in output.after.commands() if "s3-checkpoint" in c]) >= 1


@pytest.mark.parametrize("block", blocks_of("console"), ids=lambda b: b.name)
def test_console_block(block: Block, seeded_store: Store, tmp_path: Path) -> None:
    steps: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"{block.name}: output before the first command"
            steps[-1][1].append(line)
    seeded_store.seeded = read_only(block)
    marker = "@@readme-step@@"
    # Keep each command's exit status across the marker line, for `echo $?`.
    script = "\n".join(
        f"status=$?; echo {marker}; (exit $status); {command} 2>&1"
        for command, _ in steps
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=sdk_env(seeded_store.endpoint),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    outputs = done.stdout.split(marker + "\n")[1:]
    assert len(outputs) == len(steps), done.stdout + done.stderr
    for (command, expected), output in zip(steps, outputs, strict=True):
        assert output.splitlines() == expected, f"$ {command}"


def test_exit_code_table_matches_the_cli() -> None:
    rows = [re.match(r"^\| (\d+) \|", line) for line in section_lines("Exit codes")]
    documented = {int(row[1]) for row in rows if row}
    assert documented == {int(code) for code in ExitCode}


# -- other bash blocks ------------------------------------------------------------


def test_export_schemas_block(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "export_schemas.py", tmp_path / "scripts")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = run_bash(the_block("schemas").text, env, tmp_path)
    assert done.returncode == 0, done.stderr
    written = {p.name: p.read_text("utf-8") for p in (tmp_path / "schemas").iterdir()}
    committed = {p.name: p.read_text("utf-8") for p in (ROOT / "schemas").iterdir()}
    assert written == committed


def test_bench_options() -> None:
    (command,) = [
        c
        for b in blocks_of("skipped")
        for c in b.commands()
        if c.split()[:3] == ["python", "-m", "benchmarks"]
    ]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--help"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    for option in re.findall(r"--[\w-]+", command):
        assert option in done.stdout


# -- installation, in a new venv, in the background -------------------------------


INSTALL_TEST = "test_install_block"


@dataclass
class Install:
    venv: Path
    process: subprocess.Popen[str]


@pytest.fixture(scope="module", autouse=True)
def background_install(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Install | None]:
    """Starts the Installation block early when its test is selected, since
    installing into a new venv takes ~25 s; the test waits for it."""
    if not any(item.name == INSTALL_TEST for item in request.session.items):
        yield None
        return
    venv = tmp_path_factory.mktemp("install") / "venv"
    block = the_block("install")
    script = f"{shlex.quote(sys.executable)} -m venv {venv}\n{block.text}"
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    process = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield Install(venv, process)
    if process.poll() is None:
        process.kill()
        process.wait()
    shutil.rmtree(venv, ignore_errors=True)


def test_install_block(
    background_install: Install | None, seeded_store: Store, tmp_path: Path
) -> None:
    assert background_install is not None
    output, _ = background_install.process.communicate(timeout=600)
    assert background_install.process.returncode == 0, output[-4000:]
    bin_dir = background_install.venv / "bin"
    probe = textwrap.dedent(
        """
        from importlib import resources
        import langgraph.graph
        import langgraph_checkpoint_s3 as package
        print(package.__file__)
        schemas = resources.files(package) / "schemas"
        print(sorted(p.name for p in schemas.iterdir()))
        """
    )
    done = subprocess.run(
        [str(bin_dir / "python"), "-c", probe],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    location, schemas = done.stdout.splitlines()
    assert location.startswith(str(background_install.venv)), location
    assert schemas == str(sorted(p.name for p in (ROOT / "schemas").iterdir()))
    # The installed CLI validates with the schemas packaged in the wheel.
    validated = subprocess.run(
        [
            str(bin_dir / "s3-checkpoint"),
            "validate",
            "--s3-prefix",
            f"s3://{BUCKET}/{PREFIX}",
        ],
        cwd=tmp_path,
        env=sdk_env(seeded_store.endpoint),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert validated.returncode == 0, validated.stderr
    assert json.loads(validated.stdout)["failed"] == 0


# -- the demo ---------------------------------------------------------------------


def cli_sections(output: str) -> dict[str, Any]:
    """The JSON each ``== $ s3-checkpoint COMMAND ...`` heading is followed by."""
    found = {}
    for chunk in output.split("\n== ")[1:]:
        heading, _, body = chunk.partition("\n")
        if heading.startswith("$ s3-checkpoint "):
            document = body.split("\n\nDone")[0]
            command = heading.split()[2]
            found[command] = document if command == "history" else json.loads(document)
    return found


def test_demo_runs() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout
    assert "interrupt: {'question': 'Send this reply?'" in output
    assert "approved: True" in output
    assert "__interrupt__" in output and "__resume__" in output
    sections = cli_sections(output)
    assert list(sections) == ["threads", "list", "history"]
    assert sections["threads"] == {"threads": ["ticket-1234"]}
    listed = [c["checkpoint_id"] for c in sections["list"]["checkpoints"]]
    # The demo ends on the history: a line per checkpoint, newest first.
    lines = sections["history"].splitlines()
    assert [line.split()[1] for line in lines] == listed
    assert "ran human_review" in lines[1] and "interrupt" in lines[2]
    assert output.rstrip().endswith("Done: the S3 server is stopped.")


def test_demo_script() -> None:
    script = ROOT / "scripts" / "demo"
    assert script.stat().st_mode & stat.S_IXUSR
    text = script.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    assert "scripts/bootstrap" in text and ".venv/bin/python examples/demo.py" in text
