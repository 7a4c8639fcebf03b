"""A long change set in the MCP form: announced with its length up front, closed by a mark.

A host may cut a long form message; the user can then tell (the closing mark with the
same counts is missing), and an approval still binds the whole request, never a part.
"""

from __future__ import annotations

from typing import Any

from mcp import Client

from fly_tools.mcp.approval import END_MARK
from fly_tools.testing.world import VOL_DATA_OLD, WEB_1
from tests.mcp.conftest import answering, approve, serve

SCRIPT = "echo 'collecting a disk usage report" + "." * 600 + "' ; rm -rf /data"
EXEC = {"machine_id": WEB_1, "command": ["sh", "-c", SCRIPT]}
ENV = {"NOTE": "n" * 400, "LD_PRELOAD": "/tmp/x.so", "MODE": "fast"}


async def _asked(tool: str, args: dict[str, Any], answer: Any, **options: Any) -> tuple[str, Any]:
    served = serve(**options)
    async with Client(served.server, elicitation_callback=answer) as client:
        result = await client.call_tool(tool, args)
    (question,) = answer.asked
    return question.message, (served, result)


def _announced(message: str) -> str:
    """The request between the announcement and the closing mark, checked against both."""
    lines = message.split("\n")
    head = next(line for line in lines if line.startswith("The request below is complete ("))
    size = head.split("(", 1)[1].split(")", 1)[0]
    assert f'It ends with the line "{END_MARK}: {size}."' in head
    assert "nothing is cut" in head
    end = lines.index(f"{END_MARK}: {size}.")
    body = "\n".join(lines[lines.index(head) + 2 : end])
    count, chars = size.split(", ")
    assert count == f"{body.count(chr(10)) + 1} line" + ("s" if "\n" in body else "")
    assert chars == f"{len(body):,} characters"
    return body


async def test_a_long_command_is_announced_whole_and_closed_with_its_counts() -> None:
    message, (served, _) = await _asked("fly_exec_machine", EXEC, answering(action="decline"))
    body = _announced(message)
    assert "rm -rf /data" in body
    assert served.writes() == []


async def test_a_multi_line_config_diff_is_announced_whole() -> None:
    message, _ = await _asked(
        "fly_update_machine",
        {"machine_id": WEB_1, "env": ENV},
        answering(action="decline"),
        confirm_at="disruptive",
    )
    body = _announced(message)
    assert 'env LD_PRELOAD: not set -> "/tmp/x.so"' in body
    assert 'env MODE: not set -> "fast"' in body


async def test_a_short_request_reads_as_before() -> None:
    message, _ = await _asked(
        "fly_delete_volume", {"volume_id": VOL_DATA_OLD}, answering(action="decline")
    )
    assert END_MARK not in message
    assert "The request below is complete" not in message


async def test_approving_a_long_request_runs_exactly_the_whole_call() -> None:
    _, (served, result) = await _asked("fly_exec_machine", EXEC, approve(typed=WEB_1))
    assert not result.is_error, result.content
    assert served.writes() == [("POST", f"/v1/apps/web/machines/{WEB_1}/exec")]
    record = served.records[-1]
    assert (record.tool, record.decision, record.outcome) == ("fly_exec_machine", "approved", "ok")
    assert record.args["command"] == ["sh", "-c", SCRIPT]
