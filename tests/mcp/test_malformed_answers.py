"""An answer that is no choice is the client's doing: refused, nothing sent, and said so.

The audit trail must not say "the user chose reject" when nobody chose anything.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp_types import ElicitResult

from fly_tools.testing.world import VOL_DATA_OLD
from tests.mcp.conftest import Served, answering, approve, ask, reply

OLD = {"volume_id": VOL_DATA_OLD}


def assert_refused_for(served: Served, result: Any, why: str) -> None:
    """Nothing reached Fly; the model's text and the audit record both say what happened."""
    assert result.is_error
    assert served.writes() == []
    assert VOL_DATA_OLD in served.fake.state.apps["web"].volumes
    text = result.content[0].text
    assert "Nothing was sent to Fly" in text
    assert why in text
    assert why in result.structured_content["reason"]
    assert "chose reject" not in text
    record = served.records[-1]
    assert (record.decision, record.outcome) == ("rejected", "not_executed")
    assert why in (record.error or "")
    assert "chose reject" not in (record.error or "")
    assert record.decided_by == "mcp"  # the front door refused it, not the user
    assert "chose reject" not in record.sentence
    assert "rejected by mcp:" in record.sentence


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (answering(), "the client sent an empty answer"),
        (answering(reason="later"), "held no decision"),
        (answering(decision="APPROVE", confirm=VOL_DATA_OLD), "was not a choice"),
        (answering(decision=["approve"], confirm=VOL_DATA_OLD), "was not a choice"),
    ],
    ids=["empty", "no-decision", "odd-case", "not-a-string"],
)
async def test_a_malformed_answer_is_refused_as_the_clients(
    web: Served, answer: Any, why: str
) -> None:
    async with Client(web.server, elicitation_callback=answer) as client:
        result = await client.call_tool("fly_delete_volume", OLD)
    assert_refused_for(web, result, why)


async def test_no_answer_at_all_is_refused_as_the_clients(web: Served) -> None:
    async with Client(web.server, elicitation_callback=approve()) as client:
        asked = await ask(client, "fly_delete_volume", OLD)
        result = await reply(client, "fly_delete_volume", OLD, asked.request_state, None)
    assert_refused_for(web, result, "the client sent no answer")


async def test_the_users_own_reject_still_reads_as_the_users(web: Served) -> None:
    answer = ElicitResult(action="accept", content={"decision": "reject", "reason": "no"})
    async with Client(web.server, elicitation_callback=approve()) as client:
        asked = await ask(client, "fly_delete_volume", OLD)
        result = await reply(client, "fly_delete_volume", OLD, asked.request_state, answer)
    assert result.is_error
    assert web.writes() == []
    record = web.records[-1]
    assert record.error == "the user chose reject: no"
    assert record.decided_by.startswith("mcp-user@")
