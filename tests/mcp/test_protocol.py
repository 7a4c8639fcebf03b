"""What the server says about itself: capabilities, who is shown which tools, errors by the spec."""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND

from fly_tools.approvals import StoreApproval
from fly_tools.testing.world import VOL_DATA_OLD
from tests.mcp.conftest import Served, approve, serve


async def test_only_tools_are_advertised_and_the_rest_is_method_not_found(web: Served) -> None:
    async with Client(web.server) as client:
        capabilities = client.server_capabilities
        assert capabilities.tools is not None
        assert capabilities.prompts is None
        assert capabilities.resources is None
        for method in (client.list_prompts, client.list_resources):
            with pytest.raises(MCPError) as raised:
                await method()
            assert raised.value.code == METHOD_NOT_FOUND


async def test_a_client_without_forms_is_not_shown_gated_tools(web: Served) -> None:
    gated = {t.name for t in web.toolkit.get_tools() if web.toolkit.gated(t.name)}
    assert "fly_delete_volume" in gated
    async with Client(web.server) as stock:
        shown = {t.name for t in (await stock.list_tools()).tools}
        refused = await stock.call_tool("fly_delete_volume", {"volume_id": VOL_DATA_OLD})
    async with Client(web.server, elicitation_callback=approve()) as asking:
        shown_to_forms = {t.name for t in (await asking.list_tools()).tools}
    assert shown == {t.name for t in web.toolkit.get_tools()} - gated
    assert shown_to_forms == shown | gated
    assert refused.is_error  # called anyway: refused through the pipeline, and audited
    assert web.records[-1].decision == "rejected"
    assert web.writes() == []


async def test_confirm_at_widens_what_is_hidden() -> None:
    web = serve(confirm_at="disruptive")
    async with Client(web.server) as stock:
        shown = {t.name for t in (await stock.list_tools()).tools}
    assert "fly_stop_machine" not in shown
    assert "fly_list_machines" in shown


@pytest.mark.usefixtures("approver_env")
async def test_with_a_store_every_client_is_shown_every_tool(tmp_path: object) -> None:
    web = serve()
    from fly_tools.mcp import build_server

    store = StoreApproval(f"{tmp_path}/approvals.db")
    server = build_server(web.toolkit, approvals=store)
    async with Client(server) as stock:
        shown = {t.name for t in (await stock.list_tools()).tools}
        pending = await stock.call_tool("fly_delete_volume", {"volume_id": VOL_DATA_OLD})
    assert shown == {t.name for t in web.toolkit.get_tools()}
    assert "pending approval" in pending.content[0].text  # type: ignore[union-attr]
    assert web.writes() == []


async def test_the_instructions_say_who_is_shown_what(web: Served) -> None:
    async with Client(web.server) as client:
        said = client.instructions or ""
    assert "form elicitation are not shown" in said


async def test_a_cursor_is_invalid_params_since_the_list_is_never_paged(web: Served) -> None:
    async with Client(web.server) as client:
        assert (await client.list_tools()).next_cursor is None
        with pytest.raises(MCPError) as raised:
            await client.list_tools(cursor="made-up")
    assert raised.value.code == INVALID_PARAMS
