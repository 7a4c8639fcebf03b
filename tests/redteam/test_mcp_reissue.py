"""Red team, MCP door: a host that re-runs the call before answering gets the open question back.

``langchain.mcp`` re-issues a call on resume, by design. The re-issued call must not get a
fresh question (with a fresh description) that the person's answer to the first one is
then spent on: it gets the open question itself, and the answer is checked against what
the person read. The oracle is the fake's request log.
"""

from __future__ import annotations

from mcp import Client

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
