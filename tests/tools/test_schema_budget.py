"""The tool definitions a chat model receives stay within budget, and stay as useful as before.

Budgets are counted in o200k tokens with the same tokenizer `make bench` uses (figure 3,
benchmarks/schema_budget.py) when node and benchmarks/node_modules are present; never
installed from here. Without them, characters stand in at the ratio measured on these
schemas (about 4.3 characters per token).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from fly_tools import ENDPOINTS, Endpoint, FlyClient, FlyToolkit
from fly_tools.risk import GROUPS
from tests.snapshots.schemas import default_names
from tests.tools.world import EXAMPLES, prepared_world

BENCH = Path(__file__).parents[2] / "benchmarks"
CHARS_PER_TOKEN = 4.3
MEAN_PER_TOOL = 110
FACADE_BUDGET = 1500


def _tokens(texts: list[str]) -> list[int]:
    if shutil.which("node") and (BENCH / "node_modules" / "gpt-tokenizer").exists():
        out = subprocess.run(
            ["node", str(BENCH / "count_tokens.mjs")],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
        )
        counts: list[int] = json.loads(out.stdout)
        return counts
    return [round(len(t) / CHARS_PER_TOKEN) for t in texts]


def _client() -> FlyClient:
    return FlyClient(
        token="t", transport=httpx.MockTransport(lambda r: httpx.Response(200)), rate_limit=False
    )


def _definitions(tools: list[BaseTool]) -> list[str]:
    return [json.dumps(convert_to_openai_tool(t), separators=(",", ":")) for t in tools]


def _tools(**kwargs: Any) -> list[BaseTool]:
    return FlyToolkit(client=_client(), **{"groups": GROUPS, **kwargs}).get_tools()


def test_default_tools_average_at_most_110_tokens() -> None:
    tokens = _tokens(_definitions(_tools(scope="org", groups=None)))
    assert len(tokens) == len(default_names())
    assert statistics.mean(tokens) <= MEAN_PER_TOOL, (statistics.mean(tokens), sum(tokens))


def test_app_bound_readonly_within_1300_tokens() -> None:
    assert sum(_tokens(_definitions(_tools(scope="readonly", app="web", groups=None)))) <= 1300


def test_facade_for_every_operation_within_1500_tokens() -> None:
    toolkit = FlyToolkit(client=_client(), scope="org", groups=list(GROUPS))
    facade = toolkit.facade_tools()
    assert len(facade) == 2
    assert sum(_tokens(_definitions(facade))) <= FACADE_BUDGET
    names = convert_to_openai_tool(facade[1])["function"]["parameters"]["properties"]
    assert names["operation"]["enum"] == toolkit.tool_names


def test_optional_fields_are_lean_and_required_ones_listed() -> None:
    tool = next(t for t in _tools(scope="org", app="web") if t.name == "fly_stop_machine")
    params = convert_to_openai_tool(tool)["function"]["parameters"]
    assert params["required"] == ["machine_id"]
    assert params["properties"]["signal"]["type"] == "string"
    assert "anyOf" not in json.dumps(params)
    assert "app_name" not in params["properties"]
    assert "title" not in json.dumps(tool.tool_call_schema.model_json_schema())  # type: ignore[union-attr]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_lean_schema_accepts_its_examples(name: str) -> None:
    _, example = prepared_world(name)
    for tool, args in (
        (_by_name(_tools(scope="org"), name), example),
        (_by_name(_tools(scope="deploy", app="web"), name), _unbound(example)),
    ):
        if tool is None:
            continue
        schema = tool.tool_call_schema.model_json_schema()  # type: ignore[union-attr]
        jsonschema.validate(args, schema)
        # The full model still validates what is sent (the lean schema only shows it).
        assert tool.args_schema.model_validate(args)  # type: ignore[union-attr]


@pytest.mark.parametrize("endpoint", ENDPOINTS.records, ids=lambda e: e.name)
def test_lean_schema_keeps_every_enum_limit_and_required_field(endpoint: Endpoint) -> None:
    tool = _by_name(_tools(scope="org"), endpoint.name)
    assert tool is not None
    assert tool.args_schema is endpoint.args_model  # validation is the full model
    full = endpoint.args_model.model_json_schema()
    lean = convert_to_openai_tool(tool)["function"]["parameters"]
    assert lean.get("required", []) == full.get("required", [])
    assert lean["properties"].keys() == full["properties"].keys()
    for field, prop in full["properties"].items():
        shown = lean["properties"][field]
        for key in ("enum", "minimum", "maximum", "minLength", "minItems", "pattern"):
            for kept in _values(prop, key):
                assert kept in _values(shown, key), (field, key)
        for limit in _values(prop, "maxLength"):
            assert limit >= 4096 or limit in _values(shown, "maxLength"), field


def _values(prop: dict[str, Any], key: str) -> list[Any]:
    """``key``'s values in ``prop``, its ``anyOf`` options and its ``items``."""
    found = [prop[key]] if key in prop else []
    nested = [*prop.get("anyOf", []), *([prop["items"]] if "items" in prop else [])]
    for option in nested:
        found += _values(option, key) if isinstance(option, dict) else []
    return found


def _by_name(tools: list[BaseTool], name: str) -> BaseTool | None:
    return next((t for t in tools if t.name == name), None)


def _unbound(example: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in example.items() if k != "app_name"}
