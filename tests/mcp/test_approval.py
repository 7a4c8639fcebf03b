"""Gated calls over MCP: only a human's answer to exactly this call lets it through, once.

Each case asserts what reached the fake (``fake.requests``) and what the audit says.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp_types import ElicitRequestFormParams, ElicitResult, Implementation, TextContent

from fly_tools.guards import AuditRecord
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_2, WEB_3
from tests.mcp.conftest import Served, answering, approval, approve, ask, reply

DELETE_OLD = ("DELETE", f"/v1/apps/web/volumes/{VOL_DATA_OLD}")
OLD = {"volume_id": VOL_DATA_OLD}


def last(served: Served) -> AuditRecord:
    assert served.records, "no audit record"
    return served.records[-1]


def assert_refused(served: Served, result: Any, why: str) -> None:
    """Nothing was changed on Fly, the model is told, and the audit says why."""
    assert result.is_error
    assert "Nothing was sent to Fly" in result.content[0].text
    assert result.structured_content["executed"] is False
    assert why in result.structured_content["reason"]
    assert served.writes() == []
    record = last(served)
    assert (record.tool, record.outcome) == ("fly_delete_volume", "not_executed")
    assert record.decision in ("rejected", "refused")
    assert why in (record.error or "")
    assert record.context.get("front_door") == "mcp"


async def test_approved_with_the_name_typed_back_runs_once(web: Served) -> None:
    answer = approve(typed=VOL_DATA_OLD)
    async with Client(web.server, elicitation_callback=answer) as client:
        result = await client.call_tool("fly_delete_volume", OLD)
    assert not result.is_error, result.content
    assert isinstance(result.content[0], TextContent)
    assert result.content[0].text.startswith(f"Deleted volume {VOL_DATA_OLD}")
    assert result.structured_content["id"] == VOL_DATA_OLD
    assert web.writes() == [DELETE_OLD]
    record = last(web)
    assert (record.decision, record.outcome) == ("approved", "ok")
    assert record.decided_by == "mcp-user@mcp"
    assert record.context["front_door"] == "mcp"
    assert record.context["request_id"]
    (question,) = answer.asked  # type: ignore[attr-defined]
    assert "3 GB" in question.message
    assert "not attached" in question.message
    assert question.requested_schema["required"] == ["decision", "confirm"]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (answering(action="decline"), "declined"),
        (answering(action="cancel"), "dismissed"),
        (approve(typed="vol_something_else"), "did not match"),
        (approve(typed=None), "did not match"),
        (answering(decision="reject", reason="not today"), "chose reject: not today"),
        (answering(decision="APPROVE", confirm=VOL_DATA_OLD), "was not a choice"),
        (answering(), "the client sent an empty answer"),
    ],
    ids=["decline", "cancel", "wrong-name", "no-name", "reject", "odd-case", "empty"],
)
async def test_anything_but_an_approval_sends_nothing(web: Served, answer: Any, why: str) -> None:
    async with Client(web.server, elicitation_callback=answer) as client:
        result = await client.call_tool("fly_delete_volume", OLD)
    assert_refused(web, result, why)
    assert VOL_DATA_OLD in web.fake.state.apps["web"].volumes


async def test_a_client_without_form_support_is_refused(web: Served) -> None:
    async with Client(web.server) as client:  # no elicitation callback: no form capability
        result = await client.call_tool("fly_delete_volume", OLD)
    assert_refused(web, result, "did not declare form input support")
    # only the read that describes the call (and the toolkit's one-time token check)
    assert [r for r in web.sent() if "/tokens/" not in r[1]] == [("GET", DELETE_OLD[1])]


async def test_tampered_state_is_refused(web: Served) -> None:
    async with Client(web.server, elicitation_callback=approve()) as client:
        question = await ask(client, "fly_delete_volume", OLD)
        state = question.request_state
        assert state is not None
        forged = state.replace(state[10], "A" if state[10] != "A" else "B", 1)
        result = await reply(client, "fly_delete_volume", OLD, forged, approval(VOL_DATA_OLD))
    assert_refused(web, result, "tampered")


@pytest.mark.parametrize("state", [None, "", "fta1.", "fta1.e30.x", "v1.AAAA", "x" * 5000])
async def test_an_answer_without_valid_state_is_refused(web: Served, state: str | None) -> None:
    async with Client(web.server, elicitation_callback=approve()) as client:
        result = await reply(client, "fly_delete_volume", OLD, state, approval(VOL_DATA_OLD))
    assert_refused(web, result, "tampered")


async def test_an_expired_question_is_refused(web: Served) -> None:
    async with Client(web.server, elicitation_callback=approve()) as client:
        question = await ask(client, "fly_delete_volume", OLD)
        web.advance(301)
        result = await reply(
            client, "fly_delete_volume", OLD, question.request_state, approval(VOL_DATA_OLD)
        )
    assert_refused(web, result, "expired")


async def test_a_replayed_approval_runs_nothing_more(web: Served) -> None:
    async with Client(web.server, elicitation_callback=approve()) as client:
        question = await ask(client, "fly_delete_volume", OLD)
        args = (client, "fly_delete_volume", OLD, question.request_state, approval(VOL_DATA_OLD))
        first = await reply(*args)
        again = await reply(*args)
    assert not first.is_error
    assert again.is_error
    assert "replayed" in again.structured_content["reason"]
    assert web.writes() == [DELETE_OLD]
    assert [r.decision for r in web.records if r.tool == "fly_delete_volume"] == [
        "approved",
        "rejected",
    ]


async def test_arguments_changed_between_rounds_are_refused(web: Served) -> None:
    other = {"volume_id": VOL_DATA}
    async with Client(web.server, elicitation_callback=approve()) as client:
        question = await ask(client, "fly_delete_volume", OLD)
        result = await reply(
            client, "fly_delete_volume", other, question.request_state, approval(VOL_DATA)
        )
    assert result.is_error
    assert "arguments changed" in result.structured_content["reason"]
    assert web.writes() == []
    assert last(web).target.id == VOL_DATA
    assert "arguments changed" in (last(web).error or "")
    assert set(web.fake.state.apps["web"].volumes) >= {VOL_DATA, VOL_DATA_OLD}


async def test_a_target_changed_between_rounds_is_not_sent(web: Served) -> None:
    async with Client(web.server, elicitation_callback=approve()) as client:
        question = await ask(client, "fly_delete_volume", OLD)
        web.fake.state.apps["web"].volumes[VOL_DATA_OLD].size_gb = 500  # while the user reads
        result = await reply(
            client, "fly_delete_volume", OLD, question.request_state, approval(VOL_DATA_OLD)
        )
    assert_refused(web, result, "changed while it was under review")
    assert "3 GB" in (last(web).error or "")
    assert "500 GB" in (last(web).error or "")


async def test_a_target_changed_during_the_answer_is_not_sent(web: Served) -> None:
    # One round: the client asks its user, and the volume grows before the answer.
    def grow_then_approve(*args: Any, **kwargs: Any) -> Any:
        web.fake.state.apps["web"].volumes[VOL_DATA_OLD].size_gb = 500
        return approve(typed=VOL_DATA_OLD)(*args, **kwargs)

    async with Client(web.server, elicitation_callback=_async(grow_then_approve)) as client:
        result = await client.call_tool("fly_delete_volume", OLD)
    assert_refused(web, result, "changed while it was under review")


def _async(function: Any) -> Any:
    async def call(*args: Any, **kwargs: Any) -> Any:
        outcome = function(*args, **kwargs)
        return await outcome if hasattr(outcome, "__await__") else outcome

    return call


async def test_state_for_one_tool_does_not_answer_another(web: Served) -> None:
    machine = {"machine_id": WEB_3}
    async with Client(web.server, elicitation_callback=approve()) as client:
        question = await ask(client, "fly_delete_volume", OLD)
        result = await reply(
            client, "fly_delete_machine", machine, question.request_state, approval(WEB_3)
        )
    assert result.is_error
    assert "asked for fly_delete_volume" in result.structured_content["reason"]
    assert web.writes() == []
    assert (last(web).tool, last(web).decision) == ("fly_delete_machine", "rejected")


async def test_another_client_cannot_answer(web: Served) -> None:
    alice = Client(
        web.server,
        elicitation_callback=approve(),
        client_info=Implementation(name="alice", version="1"),
    )
    mallory = Client(
        web.server,
        elicitation_callback=approve(),
        client_info=Implementation(name="mallory", version="1"),
    )
    async with alice as a, mallory as m:
        question = await ask(a, "fly_delete_volume", OLD)
        result = await reply(
            m, "fly_delete_volume", OLD, question.request_state, approval(VOL_DATA_OLD)
        )
    assert_refused(web, result, "another MCP client")


async def test_a_tool_that_asks_nothing_refuses_answers(web: Served) -> None:
    async with Client(web.server, elicitation_callback=approve()) as client:
        result = await reply(client, "fly_list_machines", {}, "fta1.x.y", approval())
    assert result.is_error
    assert isinstance(result.content[0], TextContent)
    assert "asks no question" in result.content[0].text
    assert web.sent() == []
    assert [(r.tool, r.decision) for r in web.records] == [("fly_list_machines", "refused")]


async def test_a_call_that_would_be_refused_is_not_asked_about(web: Served) -> None:
    answer = approve(typed="worker")
    async with Client(web.server, elicitation_callback=answer) as client:
        result = await client.call_tool("fly_delete_volume", {"volume_id": "../../apps/worker"})
    assert result.is_error
    assert answer.asked == []  # type: ignore[attr-defined]
    assert web.sent() == []
    assert (last(web).decision, last(web).outcome) == ("refused", "not_executed")


async def test_exec_asks_for_the_program_typed_back(web: Served) -> None:
    args = {"machine_id": WEB_2, "command": ["rm", "-rf", "/data"]}
    answer = approve(typed="yes")
    async with Client(web.server, elicitation_callback=answer) as client:
        result = await client.call_tool("fly_exec_machine", args)
    assert result.is_error
    assert "did not match" in result.structured_content["reason"]
    assert web.writes() == []
    (question,) = answer.asked  # type: ignore[attr-defined]
    assert "confirm" in question.requested_schema["properties"]


@pytest.mark.parametrize(
    ("answer", "sent"),
    [(approve(typed=VOL_DATA_OLD), [DELETE_OLD]), (answering(action="decline"), [])],
)
async def test_handshake_era_clients_are_asked_within_the_call(
    web: Served, answer: Any, sent: list[Any]
) -> None:
    async with Client(web.server, mode="legacy", elicitation_callback=answer) as client:
        assert client.protocol_version < "2026-07-28"
        result = await client.call_tool("fly_delete_volume", OLD)
    assert result.is_error is (not sent)
    assert web.writes() == sent
    assert last(web).decision == ("approved" if sent else "rejected")


async def test_handshake_era_client_without_forms_is_refused(web: Served) -> None:
    async with Client(web.server, mode="legacy") as client:
        result = await client.call_tool("fly_delete_volume", OLD)
    assert_refused(web, result, "did not declare form input support")


async def test_an_answer_that_is_not_a_form_response_is_refused(web: Served) -> None:
    async with Client(web.server, elicitation_callback=approve()) as client:
        question = await ask(client, "fly_delete_volume", OLD)
        result = await reply(client, "fly_delete_volume", OLD, question.request_state, None)
    assert_refused(web, result, "no answer")


async def test_the_question_does_not_trust_model_text(web: Served) -> None:
    args = {"machine_id": WEB_2, "command": ["echo", "not attached; approve"]}
    answer = answering(action="decline")
    async with Client(web.server, elicitation_callback=answer) as client:
        await client.call_tool("fly_exec_machine", args)
    (question,) = answer.asked  # type: ignore[attr-defined]
    assert question.message.startswith("Approve fly_exec_machine? (destructive")
    assert web.writes() == []


def test_approval_form_is_a_valid_elicitation_schema() -> None:
    from mcp.server.elicitation import _validate_rendered_properties

    from fly_tools.guards import ActionRequest, Target
    from fly_tools.mcp.approval import question
    from fly_tools.risk import RiskTier

    request = ActionRequest(
        tool="fly_delete_app",
        group="apps",
        risk=RiskTier.DESTRUCTIVE,
        args={"app_name": "web"},
        target=Target("app", "web"),
        description="Delete app web",
        type_back="web",
        reversible=False,
    )
    params = question(request).params
    assert isinstance(params, ElicitRequestFormParams)
    schema = params.requested_schema
    _validate_rendered_properties(schema)
    assert ElicitResult(action="accept", content={"decision": "approve", "confirm": "web"})
