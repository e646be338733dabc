"""What a new user gets wrong, and the one line that says so: a read-only
identity deleting, a misspelled thread id in a scheduled job, a namespace
named without its task id, a prefix one level too high for ``stats`` and
``validate``; and the prefix given once, in the environment.

The commands run in-process on the in-memory bucket (``memory_client.py``).
"""

from __future__ import annotations

import json

import pytest

from tests.support.cli import S3, URI, invoke, invoke_json
from tests.support.graphs import approval_graph, nested_graph, thread
from tests.support.memory_bucket import MemoryBucket, MemorySaver

pytestmark = pytest.mark.usefixtures("client")


# -- a read-only identity ---------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["delete", "--thread-id", "chat", "--yes"],
        ["prune", "--thread-id", "chat", "--all", "--yes"],
    ],
)
def test_deleting_without_the_right_is_an_access_error_in_one_short_line(
    saver: MemorySaver, command: list[str]
) -> None:
    approval_graph(saver).invoke({"messages": []}, thread("chat"))
    everything = dict(saver.bucket.objects)
    saver.bucket.refuse_delete = lambda key: ("AccessDenied", "Access Denied")
    result = invoke([command[0], *S3, *command[1:]])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["deleted"] == []
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: DeleteObjects: AccessDenied on {len(everything)} ")
    assert line.endswith(": does this identity have s3:DeleteObject?")
    assert len(line) < 200
    assert saver.bucket.objects == everything


# -- a misspelled thread, a namespace without its task id -------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["delete", "--thread-id", "chta", "--yes"],
        ["delete", "--thread-id", "chta", "--dry-run"],
        ["prune", "--thread-id", "chta", "--yes"],
        ["prune", "--thread-id", "chat", "--thread-id", "chta", "--all", "--yes"],
    ],
)
def test_deleting_a_thread_that_is_not_there_exits_4(
    saver: MemorySaver, command: list[str]
) -> None:
    """A scheduled job with a misspelled id must fail, not pass for done."""
    approval_graph(saver).invoke({"messages": []}, thread("chat"))
    everything = dict(saver.bucket.objects)
    result = invoke([command[0], *S3, *command[1:]])
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: thread 'chta' not found under {URI}: nothing was deleted\n"
    )
    assert saver.bucket.objects == everything


def test_a_thread_not_there_one_level_too_high_names_the_right_prefix(
    bucket: MemoryBucket,
) -> None:
    approval_graph(MemorySaver(bucket)).invoke({"messages": []}, thread("chat"))
    result = invoke(
        ["delete", "--s3-prefix", "s3://bucket/", "--thread-id", "chat", "--dry-run"]
    )
    assert result.exit_code == 4
    assert result.stderr == (
        "Error: thread 'chat' not found under s3://bucket/: nothing was deleted; "
        "a saver's data is under s3://bucket/checkpoints/ (pass --s3-prefix "
        "s3://bucket/checkpoints/)\n"
    )


def test_dump_of_a_namespace_named_without_its_task_id_lists_those_there(
    saver: MemorySaver,
) -> None:
    config = thread("nested")
    nested_graph(saver).invoke({"log": []}, config)
    namespaces = sorted(
        {t.config["configurable"]["checkpoint_ns"] for t in saver.list(config)}
    )
    assert len(namespaces) == 3  # "", middle:<id> and middle:<id>|inner:<id>
    result = invoke(["dump", *S3, "--thread-id", "nested", "--checkpoint-ns", "middle"])
    assert result.exit_code == 4
    (middle, inner) = namespaces[1:]
    assert result.stderr == (
        "Error: thread 'nested' has no checkpoints in namespace 'middle'; thread "
        f"'nested' has checkpoints in namespaces {middle!r}, {inner!r}, '' (pass "
        "one as --checkpoint-ns)\n"
    )
    right = invoke_json("dump", *S3, "--thread-id", "nested", "--checkpoint-ns", middle)
    assert right["checkpoint_ns"] == middle


# -- the prefix in the environment ------------------------------------------------


def test_the_prefix_can_come_from_the_environment(saver: MemorySaver) -> None:
    approval_graph(saver).invoke({"messages": []}, thread("chat"))
    result = invoke(["threads"], env={"S3_CHECKPOINT_PREFIX": URI})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"threads": ["chat"]}
    # The option still wins over the variable.
    elsewhere = invoke(["threads", *S3], env={"S3_CHECKPOINT_PREFIX": "nonsense"})
    assert json.loads(elsewhere.stdout) == {"threads": ["chat"]}
    assert "S3_CHECKPOINT_PREFIX" in invoke(["threads", "--help"]).stdout


# -- stats and validate one level too high ----------------------------------------


def test_stats_and_validate_one_level_too_high_say_where_the_data_is(
    bucket: MemoryBucket,
) -> None:
    """There a saver's folders, checkpoints/ and writes/, look like two
    threads to stats, and every object like a stray to validate."""
    approval_graph(MemorySaver(bucket)).invoke({"messages": []}, thread("chat"))
    note = (
        "a saver's data is under s3://bucket/checkpoints/ "
        "(pass --s3-prefix s3://bucket/checkpoints/)\n"
    )
    stats = invoke(["stats", "--s3-prefix", "s3://bucket/"])
    assert stats.exit_code == 0, stats.stderr
    assert json.loads(stats.stdout)["threads"] == []
    assert stats.stderr == (
        f"note: no checkpoints or writes under s3://bucket/; {note}"
    )
    validated = invoke(["validate", "--s3-prefix", "s3://bucket/"])
    assert validated.exit_code == 0, validated.stderr
    assert json.loads(validated.stdout)["checked"] == 0
    assert validated.stderr == f"note: no objects under s3://bucket/; {note}"
    right = invoke_json("stats", "--s3-prefix", "s3://bucket/checkpoints/")
    assert [t["thread_id"] for t in right["threads"]] == ["chat"]
