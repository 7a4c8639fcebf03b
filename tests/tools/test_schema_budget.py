"""The tool definitions a chat model receives stay within budget (characters as a proxy).

`make bench` measures real o200k tokens (benchmarks/schema_budget.py); at about four
characters per token for these schemas, these character limits track its targets.
"""

from __future__ import annotations

import json

import httpx
from langchain_core.utils.function_calling import convert_to_openai_tool

from fly_tools import FlyClient, FlyToolkit

CHARS_PER_TOKEN = 4


def _chars(**kwargs: object) -> list[int]:
    client = FlyClient(
        token="t", transport=httpx.MockTransport(lambda r: httpx.Response(200)), rate_limit=False
    )
    tools = FlyToolkit(client=client, **kwargs).get_tools()  # type: ignore[arg-type]
    return [len(json.dumps(convert_to_openai_tool(t), separators=(",", ":"))) for t in tools]


def test_all_31_within_5000_tokens() -> None:
    sizes = _chars(scope="org")
    assert len(sizes) == 31
    assert sum(sizes) <= 5000 * CHARS_PER_TOKEN
    assert sum(sizes) / len(sizes) <= 160 * CHARS_PER_TOKEN


def test_app_bound_readonly_within_1300_tokens() -> None:
    assert sum(_chars(scope="readonly", app="web")) <= 1300 * CHARS_PER_TOKEN


def test_optional_fields_are_lean_and_required_ones_listed() -> None:
    client = FlyClient(
        token="t", transport=httpx.MockTransport(lambda r: httpx.Response(200)), rate_limit=False
    )
    tool = next(
        t
        for t in FlyToolkit(client=client, scope="org", app="web").get_tools()
        if t.name == "fly_stop_machine"
    )
    params = convert_to_openai_tool(tool)["function"]["parameters"]
    assert params["required"] == ["machine_id"]
    assert params["properties"]["signal"]["type"] == "string"
    assert "anyOf" not in json.dumps(params)
    assert "app_name" not in params["properties"]
