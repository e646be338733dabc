"""What loading a thread from a real server runs, through real graphs and both
savers: strict msgpack loads planted values as data, the permissive default
runs them, encryption does not stop them, pickle fallback unpickles them,
and the CLI reads them as data. The serializers' rules, without a server,
are in ``tests/unit/test_security.py``; the planted values in
``tests/support/security.py``."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import pickle
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import ormsgpack
import pytest
from click.testing import CliRunner
from langgraph._internal import _serde as lg_serde
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
)
from langgraph.checkpoint.serde import _msgpack as lg_msgpack
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import (
    EXT_CONSTRUCTOR_KW_ARGS,
    EXT_CONSTRUCTOR_POS_ARGS,
    EXT_CONSTRUCTOR_SINGLE_ARG,
    EXT_PYDANTIC_V1,
    EXT_PYDANTIC_V2,
    JsonPlusSerializer,
)
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver, S3CheckpointSaver
from langgraph_checkpoint_s3.cli import cli
from langgraph_checkpoint_s3.errors import CorruptObjectError
from tests.support import ROOT
from tests.support.s3servers import S3Endpoint
from tests.support.savers import new_bucket, session_for
from tests.support.security import (
    AES_KEY,
    CONFIG,
    FIRST_INPUT,
    PLANTED_TASK,
    PREFIX,
    THREAD,
    OwnSerializer,
    Point,
    Profile,
    get_tuple,
    permissive_warnings,
    plant,
    recording,
    savers,
    set_mode,
)


class State(TypedDict):
    profile: Profile
    point: Point
    visits: int


def visit(state: State) -> dict[str, Any]:
    # Fails on the plain dicts a blocked Profile or Point would come back as.
    profile = state["profile"]
    return {
        "profile": profile.model_copy(update={"tags": [*profile.tags, "visit"]}),
        "point": dataclasses.replace(state["point"], x=state["point"].x + 1),
        "visits": state["visits"] + 1,
    }


def state_graph(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any]:
    builder = StateGraph(State)
    builder.add_node("visit", visit)
    builder.add_edge(START, "visit")
    builder.add_edge("visit", END)
    return builder.compile(checkpointer=saver)


def mode_flags() -> dict[str, bool]:
    default = BaseCheckpointSaver.serde
    compile_flag: bool = getattr(lg_serde, "STRICT_MSGPACK_ENABLED")  # noqa: B009
    return {
        "serializer_flag": lg_msgpack.STRICT_MSGPACK_ENABLED,
        "compile_flag": compile_flag,
        "default_allows_any_type": getattr(default, "_allowed_msgpack_modules", None)
        is True,
    }


def ext(code: int, *fields: Any) -> bytes:
    return ormsgpack.packb(ormsgpack.Ext(code, ormsgpack.packb(list(fields))))


@dataclasses.dataclass(frozen=True)
class _System:
    command: str

    def __reduce__(self) -> tuple[Any, ...]:
        return os.system, (self.command,)


@dataclasses.dataclass(frozen=True)
class Trap:
    """Planted values that leave a mark when they run: each would create
    ``marker``; ``module`` writes it when imported."""

    directory: Path
    module: str

    @property
    def marker(self) -> Path:
        return self.directory / "ran"

    def payload(self, kind: str) -> tuple[bytes, Any]:
        """The stored bytes of a planted value, and the plain data strict mode
        loads it as (the arguments it would have been called with)."""
        touch = ["touch", str(self.marker)]
        forms: dict[str, tuple[int, str, str, Any]] = {
            "os.system": (EXT_CONSTRUCTOR_SINGLE_ARG, "os", "system", " ".join(touch)),
            "subprocess.run(*args)": (
                EXT_CONSTRUCTOR_POS_ARGS,
                "subprocess",
                "run",
                [touch],
            ),
            "subprocess.run(**kwargs)": (
                EXT_CONSTRUCTOR_KW_ARGS,
                "subprocess",
                "run",
                {"args": touch},
            ),
            "subprocess.Popen via pydantic v2": (
                EXT_PYDANTIC_V2,
                "subprocess",
                "Popen",
                {"args": touch},
            ),
            "subprocess.Popen via pydantic v1": (
                EXT_PYDANTIC_V1,
                "subprocess",
                "Popen",
                {"args": touch},
            ),
            "import of a module": (
                EXT_CONSTRUCTOR_KW_ARGS,
                self.module,
                "Anything",
                {},
            ),
        }
        code, module, name, argument = forms[kind]
        return ext(code, module, name, argument), argument

    def pickled(self) -> bytes:
        """A pickle stream that calls ``os.system`` when unpickled."""
        return pickle.dumps(_System(f"touch {self.marker}"))

    def evidence(self, events: list[tuple[str, str]]) -> list[str]:
        """What shows a planted value ran: its spawn or ``os.system`` call,
        its module imported, the marker file."""
        found = [f"{event}{args}" for event, args in events if str(self.marker) in args]
        if self.module in sys.modules:
            found.append(f"imported {self.module}")
        if self.marker.exists():
            found.append(f"created {self.marker}")
        return found


PAYLOADS = [
    "os.system",
    "subprocess.run(*args)",
    "subprocess.run(**kwargs)",
    "subprocess.Popen via pydantic v2",
    "subprocess.Popen via pydantic v1",
    "import of a module",
]


@pytest.fixture
def trap(tmp_path: Path) -> Iterator[Trap]:
    module = f"planted_{uuid.uuid4().hex}"
    marker = tmp_path / "ran"
    (tmp_path / f"{module}.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield Trap(tmp_path, module)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(module, None)


KINDS = ["sync", "async", "async on a shared client"]


async def invoke(kind: str, graph: CompiledStateGraph[Any], value: Any) -> Any:
    """The sync API (in a worker thread) for the sync saver, else the async."""
    if kind == "sync":
        return await asyncio.to_thread(graph.invoke, value, CONFIG)
    return await graph.ainvoke(value, CONFIG)


async def get_state(kind: str, graph: CompiledStateGraph[Any]) -> Any:
    if kind == "sync":
        return await asyncio.to_thread(graph.get_state, CONFIG)
    return await graph.aget_state(CONFIG)


def own_saver(graph: CompiledStateGraph[Any]) -> BaseCheckpointSaver[Any]:
    """The saver a graph runs on: with strict mode, the with_allowlist copy."""
    assert isinstance(graph.checkpointer, BaseCheckpointSaver)
    return graph.checkpointer


@pytest.mark.parametrize("kind", KINDS)
async def test_strict_graph_round_trips_its_pydantic_model_and_dataclass(
    kind: str, strict: None, endpoint: S3Endpoint
) -> None:
    bucket = new_bucket(endpoint)
    async with savers(kind, endpoint, bucket) as make:
        saver = await make()
        graph = state_graph(saver)
        # Compile handed the graph a with_allowlist copy of the saver.
        assert graph.checkpointer is not saver
        assert isinstance(graph.checkpointer, type(saver))

        await invoke(kind, graph, FIRST_INPUT)
        # The node reads Profile and Point back from S3: dicts would fail it.
        output = await invoke(kind, graph, {"visits": 10})
        expected = {
            "profile": Profile(name="ada", tags=["visit", "visit"]),
            "point": Point(3, 2),
            "visits": 11,
        }
        assert output == expected

        restarted = state_graph(await make())
        snapshot = await get_state(kind, restarted)
        assert snapshot.values == expected
        assert type(snapshot.values["profile"]) is Profile
        assert type(snapshot.values["point"]) is Point

        # A saver used without the graph keeps the bare strict allowlist: the
        # copy's allowlist is what rebuilt the user's types.
        bare = await get_tuple(kind, await make())
        assert bare is not None
        assert bare.checkpoint["channel_values"]["profile"] == {
            "name": "ada",
            "tags": ["visit", "visit"],
        }
        assert bare.checkpoint["channel_values"]["point"] == {"x": 3, "y": 2}


async def test_strict_graph_compiled_before_the_async_saver_is_entered(
    strict: None, moto: S3Endpoint
) -> None:
    saver = AsyncS3CheckpointSaver(
        new_bucket(moto),
        prefix=PREFIX,
        session=session_for(moto),
        endpoint_url=moto.url,
    )
    graph = state_graph(saver)
    async with saver:
        output = await graph.ainvoke(FIRST_INPUT, CONFIG)
    assert output["visits"] == 1


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("kind", KINDS)
async def test_strict_graph_loads_planted_values_as_data(
    kind: str, payload: str, strict: None, trap: Trap, moto: S3Endpoint
) -> None:
    bucket = new_bucket(moto)
    planted, data = trap.payload(payload)
    async with savers(kind, moto, bucket) as make:
        graph = state_graph(await make())
        await invoke(kind, graph, FIRST_INPUT)
        await asyncio.to_thread(plant, moto, bucket, planted)

        with recording() as events:
            snapshot = await get_state(kind, graph)
            output = await invoke(kind, graph, None)
            loaded = await get_tuple(kind, own_saver(graph))
            restarted = await get_state(kind, state_graph(await make()))

    assert trap.evidence(events) == []
    # Each load did decode the planted value: as the data it carries.
    assert snapshot.values["profile"] == data
    assert output["profile"] == data
    assert restarted.values["profile"] == data
    assert loaded is not None
    assert loaded.pending_writes == [(PLANTED_TASK, "profile", data)]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_permissive_default_runs_planted_values(
    kind: str, payload: str, permissive: None, trap: Trap, moto: S3Endpoint
) -> None:
    bucket = new_bucket(moto)
    planted, _ = trap.payload(payload)
    async with savers(kind, moto, bucket) as make:
        graph = state_graph(await make())
        await invoke(kind, graph, FIRST_INPUT)
        await asyncio.to_thread(plant, moto, bucket, planted, write=False)

        with recording() as events:
            snapshot = await get_state(kind, graph)
    loaded = snapshot.values["profile"]
    if isinstance(loaded, subprocess.Popen):
        loaded.wait()

    evidence = trap.evidence(events)
    assert f"created {trap.marker}" in evidence
    # and the call (a spawn, os.system) or the import that created it
    assert len(evidence) >= 2, evidence


@pytest.mark.parametrize("mode", ["permissive", "strict"])
def test_encryption_does_not_stop_planted_values(
    mode: str, monkeypatch: pytest.MonkeyPatch, trap: Trap, moto: S3Endpoint
) -> None:
    # A writer without the key stores a value with a plain msgpack tag, and
    # EncryptedSerializer hands it to its inner serializer undecrypted.
    set_mode(monkeypatch, strict=mode == "strict")
    bucket = new_bucket(moto)
    planted, data = trap.payload("os.system")
    serde = EncryptedSerializer.from_pycryptodome_aes(JsonPlusSerializer(), key=AES_KEY)
    with S3CheckpointSaver(
        bucket, prefix=PREFIX, s3_client=moto.boto3_client(), serde=serde
    ) as saver:
        graph = state_graph(saver)
        graph.invoke(FIRST_INPUT, CONFIG)
        plant(moto, bucket, planted, write=False)
        with recording() as events:
            loaded = graph.get_state(CONFIG).values["profile"]

    if mode == "strict":
        assert trap.evidence(events) == []
        assert loaded == data
    else:
        assert f"created {trap.marker}" in trap.evidence(events)


def test_pickle_fallback_unpickles_planted_values_even_in_strict_mode(
    strict: None, trap: Trap, moto: S3Endpoint
) -> None:
    bucket = new_bucket(moto)
    with S3CheckpointSaver(
        bucket, prefix=PREFIX, s3_client=moto.boto3_client()
    ) as saver:
        state_graph(saver).invoke(FIRST_INPUT, CONFIG)
    plant(moto, bucket, trap.pickled(), write=False, tag="pickle")

    with (
        recording() as events,
        S3CheckpointSaver(
            bucket, prefix=PREFIX, s3_client=moto.boto3_client()
        ) as saver,
        pytest.raises(CorruptObjectError, match="'pickle'"),
    ):
        state_graph(saver).get_state(CONFIG)
    assert trap.evidence(events) == []

    with (
        recording() as events,
        S3CheckpointSaver(
            bucket,
            prefix=PREFIX,
            s3_client=moto.boto3_client(),
            serde=JsonPlusSerializer(pickle_fallback=True),
        ) as saver,
    ):
        state_graph(saver).get_state(CONFIG)
    assert f"created {trap.marker}" in trap.evidence(events)


_PROBE = """
import json, sys
from tests.servers import test_security
print(json.dumps(test_security.probe(*sys.argv[1:])))
"""


def probe(url: str, bucket: str, directory: str) -> dict[str, Any]:
    """In a fresh process: the mode LangGraph's import left, and what loading
    a planted ``os.system`` value ran (see the subprocess test)."""
    endpoint = S3Endpoint(url, "testing", "testing")
    trap = Trap(Path(directory), "planted_unused")
    planted, _ = trap.payload("os.system")
    with S3CheckpointSaver(
        bucket, prefix=PREFIX, s3_client=endpoint.boto3_client()
    ) as saver:
        graph = state_graph(saver)
        graph.invoke(FIRST_INPUT, CONFIG)
        plant(endpoint, bucket, planted, write=False)
        with recording() as events:
            graph.get_state(CONFIG)
    return {"flags": mode_flags(), "evidence": trap.evidence(events)}


@pytest.mark.parametrize("variable", ["true", None])
def test_the_variable_set_before_import_does_what_the_fixtures_do(
    variable: str | None,
    monkeypatch: pytest.MonkeyPatch,
    moto: S3Endpoint,
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LANGGRAPH_STRICT_MSGPACK"}
    if variable is not None:
        env["LANGGRAPH_STRICT_MSGPACK"] = variable
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, moto.url, new_bucket(moto), str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])

    set_mode(monkeypatch, strict=variable is not None)
    assert result["flags"] == mode_flags()
    if variable is not None:
        assert result["evidence"] == []
    else:
        assert f"created {tmp_path / 'ran'}" in result["evidence"]


@pytest.mark.parametrize("payload", [*PAYLOADS, "pickle"])
def test_cli_reads_planted_values_as_data(
    payload: str, permissive: None, trap: Trap, moto: S3Endpoint
) -> None:
    bucket = new_bucket(moto)
    if payload == "pickle":
        tag, planted = "pickle", trap.pickled()
        # Not unpickled: shown as stored.
        data: Any = {"type": tag, "data": base64.b64encode(planted).decode()}
    else:
        tag = "msgpack"
        planted, data = trap.payload(payload)
    with S3CheckpointSaver(
        bucket,
        prefix=PREFIX,
        s3_client=moto.boto3_client(),
        serde=JsonPlusSerializer(allowed_msgpack_modules=[Profile, Point]),
    ) as saver:
        graph = state_graph(saver)
        graph.invoke(FIRST_INPUT, CONFIG)
    checkpoint_id = plant(moto, bucket, planted, tag=tag)

    s3 = ["--s3-prefix", f"s3://{bucket}/{PREFIX}", "--endpoint-url", moto.url]
    at = ["--thread-id", THREAD, "--checkpoint-ns", "", "--checkpoint-id"]
    outputs = {}
    with recording() as events:
        for command in (
            ["read", "--thread-id", THREAD],
            ["dump", *at, checkpoint_id],
            ["validate"],
        ):
            result = CliRunner().invoke(cli, [*command, *s3], catch_exceptions=False)
            assert result.exit_code == 0, (command, result.stdout, result.stderr)
            outputs[command[0]] = json.loads(result.stdout)

    assert trap.evidence(events) == []
    dumped = outputs["dump"]
    assert dumped["checkpoint"]["channel_values"]["profile"] == data
    assert dumped["pending_writes"] == [
        {"task_id": PLANTED_TASK, "channel": "profile", "value": data}
    ]
    newest = outputs["read"]["checkpoints"][0]
    assert newest["checkpoint"]["channel_values"]["profile"] == data


async def test_savers_warn_once_on_the_permissive_default_only(
    monkeypatch: pytest.MonkeyPatch, not_warned_yet: list[Any], moto: S3Endpoint
) -> None:
    bucket = new_bucket(moto)

    def sync_saver(**kwargs: Any) -> S3CheckpointSaver:
        return S3CheckpointSaver(
            bucket, prefix=PREFIX, s3_client=moto.boto3_client(), **kwargs
        )

    set_mode(monkeypatch, strict=True)
    sync_saver().close()
    set_mode(monkeypatch, strict=False)
    sync_saver(serde=JsonPlusSerializer(allowed_msgpack_modules=[Profile])).close()
    sync_saver(serde=OwnSerializer()).close()
    assert permissive_warnings(not_warned_yet) == []

    sync_saver().close()
    sync_saver().close()
    async with AsyncS3CheckpointSaver(
        bucket, prefix=PREFIX, session=session_for(moto), endpoint_url=moto.url
    ):
        pass
    (warning,) = permissive_warnings(not_warned_yet)
    assert str(warning.message).startswith(f"s3://{bucket}/{PREFIX} is read with")
    assert warning.filename == __file__
