"""What a new user gets wrong, and the one line that says so: a read-only
identity deleting, a misspelled thread id in a scheduled job, a namespace
named without its task id, a prefix one level too high for ``stats`` and
``validate``; and the prefix given once, in the environment.

The commands run in-process on the in-memory bucket (``memory_client.py``).
"""

from __future__ import annotations

import json

import pytest

from tests.support.cli import S3, invoke
from tests.support.graphs import approval_graph, thread
from tests.support.memory_bucket import MemorySaver

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
