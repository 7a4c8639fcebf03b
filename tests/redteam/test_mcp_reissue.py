"""Red team, MCP door: a host that re-runs the call before answering gets the open question back.

``langchain.mcp`` re-issues a call on resume, by design. The re-issued call must not get a
fresh question (with a fresh description) that the person's answer to the first one is
then spent on: it gets the open question itself, and the answer is checked against what
the person read. The oracle is the fake's request log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from fly_tools import FlyToolkit
from fly_tools.mcp import build_server
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA_OLD
from tests.mcp.conftest import Served, approval, approve, ask, reply, serve

DELETE_OLD = ("DELETE", f"/v1/apps/web/volumes/{VOL_DATA_OLD}")
OLD = {"volume_id": VOL_DATA_OLD}


async def test_a_reissued_call_after_the_target_changed_is_refused_with_what_changed() -> None:
    web: Served = serve()
    async with Client(web.server, elicitation_callback=approve()) as client:
        first = await ask(client, "fly_delete_volume", OLD)  # the person reads "3 GB"
        web.fake.state.apps["web"].volumes[VOL_DATA_OLD].size_gb = 50
        again = await ask(client, "fly_delete_volume", OLD)  # the host re-runs the call
        assert again.request_state == first.request_state  # the open question, not a new one
        result = await reply(
            client, "fly_delete_volume", OLD, again.request_state, approval(VOL_DATA_OLD)
        )
    assert result.is_error
    reason = result.structured_content["reason"]
    assert "3 GB" in reason
    assert "50 GB" in reason
    assert web.writes() == []


async def test_a_reissued_unchanged_call_is_approved_once() -> None:
    web: Served = serve()
    async with Client(web.server, elicitation_callback=approve()) as client:
        first = await ask(client, "fly_delete_volume", OLD)
        again = await ask(client, "fly_delete_volume", OLD)
        assert again.request_state == first.request_state
        done = await reply(
            client, "fly_delete_volume", OLD, again.request_state, approval(VOL_DATA_OLD)
        )
        replay = await reply(
            client, "fly_delete_volume", OLD, first.request_state, approval(VOL_DATA_OLD)
        )
        fresh = await ask(client, "fly_delete_volume", OLD)  # answered: a new question now
    assert not done.is_error
    assert replay.is_error
    assert fresh.request_state != first.request_state
    assert web.writes() == [DELETE_OLD]


# ------------------------------------------------------------ finding 11: replicas


def _replicas(fake: FakeFly) -> list[Any]:
    """Two replicas of one MCP server (two toolkits, two ticket books) on one Fly."""
    servers = []
    for _ in range(2):
        toolkit = FlyToolkit(
            client=fake.async_client(scope="deploy", app="web"), scope="deploy", app="web"
        )
        servers.append(build_server(toolkit))
    return servers


async def test_replicas_sharing_a_key_and_a_ledger_answer_each_others_questions_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_TOOLS_APPROVAL_KEY", "k" * 16 + "shared-by-the-replicas-0123456789")
    monkeypatch.setenv("FLY_TOOLS_MCP_LEDGER", str(tmp_path / "mcp-ledger.db"))
    fake = FakeFly.demo()
    first, second = _replicas(fake)
    async with Client(first, elicitation_callback=approve()) as at_first:
        asked = await ask(at_first, "fly_delete_volume", OLD)
        async with Client(second, elicitation_callback=approve()) as at_second:
            done = await reply(
                at_second, "fly_delete_volume", OLD, asked.request_state, approval(VOL_DATA_OLD)
            )
        again = await reply(
            at_first, "fly_delete_volume", OLD, asked.request_state, approval(VOL_DATA_OLD)
        )
    assert not done.is_error, done
    assert again.is_error
    deletes = [(r.method, r.path) for r in fake.requests if r.method == "DELETE"]
    assert deletes == [DELETE_OLD]


async def test_replicas_without_a_shared_key_refuse_each_others_answers() -> None:
    fake = FakeFly.demo()
    first, second = _replicas(fake)
    async with Client(first, elicitation_callback=approve()) as at_first:
        asked = await ask(at_first, "fly_delete_volume", OLD)
    async with Client(second, elicitation_callback=approve()) as at_second:
        result = await reply(
            at_second, "fly_delete_volume", OLD, asked.request_state, approval(VOL_DATA_OLD)
        )
    assert result.is_error
    assert [r for r in fake.requests if r.method == "DELETE"] == []
