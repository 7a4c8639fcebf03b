"""What the model reads from ``tools/list``: each description once, within budget; honest output schemas."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from mcp_types import Tool

from benchmarks.tokens import HERE as BENCHMARKS
from benchmarks.tokens import count_tokens
from fly_tools.testing.world import VOL_DATA, WEB_1
from tests.mcp.conftest import approve, serve

BUDGET = 2_900
"""o200k tokens the model reads for deploy@web's tools (it was 3,435 with repeated descriptions)."""
SAMPLE = {"machine_id": WEB_1, "volume_id": VOL_DATA, "app_name": "web", "secret_name": "X"}


def model_facing(tool: Tool) -> str:
    """A tool as a host hands it to a chat model: an OpenAI-style function."""
    function = {"name": tool.name, "description": tool.description, "parameters": tool.input_schema}
    return json.dumps({"type": "function", "function": function}, separators=(",", ":"))


async def listed(scope: str = "deploy", app: str | None = "web") -> list[Tool]:
    async with Client(serve(scope, app).server, elicitation_callback=approve()) as client:
        return (await client.list_tools()).tools


async def test_no_schema_repeats_the_tool_description() -> None:
    for tool in await listed("org", None):
        assert "description" not in tool.input_schema, tool.name
        assert "title" not in tool.input_schema, tool.name
        assert tool.description


@pytest.mark.skipif(
    not (BENCHMARKS / "node_modules" / "gpt-tokenizer").exists(),
    reason="the o200k tokenizer is not installed (cd benchmarks && npm install)",
)
async def test_deploy_at_web_is_within_the_token_budget() -> None:
    counts, method = count_tokens([model_facing(tool) for tool in await listed()])
    assert method.startswith("o200k")
    assert sum(counts) <= BUDGET, sum(counts)


async def test_the_wait_state_says_what_its_schema_takes() -> None:
    wait = next(t for t in await listed() if t.name == "fly_wait_machine")
    state = wait.input_schema["properties"]["state"]
    assert state["type"] == "string"
    assert "settled" in state["enum"]
    assert "list" not in state["description"].lower()


async def test_output_schemas_only_on_reads_and_every_answer_matches_its_schema() -> None:
    web = serve("org", None)
    async with Client(web.server, elicitation_callback=approve()) as client:
        tools = (await client.list_tools()).tools
        declared = [t for t in tools if t.output_schema is not None]
        assert {t.name for t in declared} >= {
            "fly_list_machines",
            "fly_get_machine",
            "fly_wait_machine",
            "fly_list_volumes",
            "fly_list_secrets",
        }
        for tool in declared:
            assert tool.annotations is not None
            assert tool.annotations.read_only_hint, tool.name
            args: dict[str, Any] = {
                name: SAMPLE[name] for name in tool.input_schema.get("required", [])
            }
            # The SDK client checks structured content against the declared schema and
            # raises when it does not match.
            result = await client.call_tool(tool.name, args)
            assert not result.is_error, (tool.name, result.content)
            assert result.structured_content is not None
