"""A toolkit built from a wider catalogue uses it everywhere: policy, console, HITL and MCP.

Three made-up records (a drain, an irreversible retire that needs the machine typed back,
and a read that answers one machine) join the package's catalogue, with fake handlers, as
``test_synthetic_endpoint.py`` does. Every layer a toolkit call passes through must find
them in the toolkit's catalogue; none may look them up in the package's own.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import StructuredTool
from mcp import Client

from fly_tools import ENDPOINTS, FlyToolkit, RiskTier
from fly_tools.catalogue import Catalogue, Phrase
from fly_tools.guards import (
    ActionRequest,
    AgentPolicy,
    Approve,
    ConsoleApproval,
    Reject,
    interrupt_on,
    redact_args,
    target_of,
)
from fly_tools.guards.console import expected_type_back
from fly_tools.testing import FakeFly
from fly_tools.testing.calls import ROUTES, Call, Reply, extra_route
from fly_tools.testing.handlers.machines import MachinePath
from fly_tools.testing.state import FakeState
from fly_tools.testing.world import WEB_1
from tests.guards.conftest import ScriptedInput
from tests.mcp.conftest import approve, serve
from tests.unit.test_synthetic_endpoint import DRAIN, DRAINED, drain_machine

RETIRE = replace(
    DRAIN,
    name="fly_retire_machine",
    operation_id="Machines_retire",
    phrase=Phrase(ask="retire {target}", done="retired {target}"),
    path="/apps/{app_name}/machines/{machine_id}/retire",
    risk=RiskTier.DESTRUCTIVE,
    idempotent=False,
    description="Retire a machine for good: it never starts again.",
    consequence="The machine can never be started again.",
    type_back=True,
)
PEEK = replace(
    DRAIN,
    name="fly_peek_machine",
    group="machines",
    operation_id="Machines_peek",
    phrase=Phrase(ask="peek at {target}", done="peeked at {target}"),
    method="GET",
    path="/apps/{app_name}/machines/{machine_id}/peek",
    risk=RiskTier.READ,
    scopes=frozenset({"org", "deploy", "readonly"}),
    description="One machine as Fly sees it, by another road.",
    consequence="",
    state_read=None,
    result="machine",
)
ROOMY = Catalogue((*ENDPOINTS.records, DRAIN, RETIRE, PEEK))
ARGS = {"app_name": "web", "machine_id": WEB_1}
RETIRED: list[str] = []


def retire_machine(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    fly.machine(p.app_name, p.machine_id)
    RETIRED.append(p.machine_id)
    return Reply({"ok": True})


def peek_machine(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    return Reply(fly.machine(p.app_name, p.machine_id).to_wire())


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    for endpoint, handler in ((DRAIN, drain_machine), (RETIRE, retire_machine)):
        extra_route(endpoint, MachinePath)(handler)
    extra_route(PEEK, MachinePath)(peek_machine)
    DRAINED.clear()
    RETIRED.clear()
    try:
        yield
    finally:
        for endpoint in (DRAIN, RETIRE, PEEK):
            ROUTES.pop(endpoint.name, None)


def _invoke(toolkit: FlyToolkit, name: str) -> ToolMessage:
    tool = next(t for t in toolkit.get_tools() if t.name == name)
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": name, "args": ARGS})
    assert isinstance(message, ToolMessage)
    return message


# ---------------------------------------------------------------- policy


def test_a_policy_naming_a_tool_of_the_toolkits_catalogue_is_allowed(tmp_path: Path) -> None:
    fake = FakeFly.demo()
    rules = {"agent_id": "ops-bot", "groups": {"machines": "read"}, "tools": {DRAIN.name: "allow"}}
    file = tmp_path / "policy.toml"
    file.write_text(
        f'agent_id = "ops-bot"\n[groups]\nmachines = "read"\n[tools]\n{DRAIN.name} = "allow"\n'
    )
    built = AgentPolicy(
        agent_id="ops-bot",
        groups={"machines": "read"},
        tools={DRAIN.name: "allow"},
        catalogue=ROOMY,
    )
    for policy in (rules, file, built):
        toolkit = FlyToolkit(client=fake.client(), scope="org", catalogue=ROOMY, policy=policy)
        assert toolkit.policy is not None
        assert toolkit.policy.catalogue is ROOMY
        assert DRAIN.name in toolkit.tool_names
        assert PEEK.name in toolkit.tool_names  # machines: read
        assert RETIRE.name not in toolkit.tool_names  # its group is not granted
    assert _invoke(toolkit, DRAIN.name).status != "error"
    assert DRAINED == [("web", WEB_1)]
    assert [r.endpoint for r in fake.requests if r.endpoint == DRAIN.name] == [DRAIN.name]


def test_a_policy_denying_a_wider_tool_removes_it_and_unknown_names_still_fail() -> None:
    fake = FakeFly.demo()
    deny = {"agent_id": "ops-bot", "groups": {"control": "full"}, "tools": {DRAIN.name: "deny"}}
    toolkit = FlyToolkit(client=fake.client(), scope="org", catalogue=ROOMY, policy=deny)
    assert DRAIN.name not in toolkit.tool_names
    assert RETIRE.name in toolkit.tool_names
    typo = {"agent_id": "ops-bot", "tools": {"fly_drain_machin": "deny"}}
    with pytest.raises(ValueError, match="did you mean 'fly_drain_machine'"):
        FlyToolkit(client=fake.client(), scope="org", catalogue=ROOMY, policy=typo)
    # A policy for the wider catalogue does not fit a toolkit of the package's own.
    wider = AgentPolicy(agent_id="ops-bot", tools={DRAIN.name: "allow"}, catalogue=ROOMY)
    with pytest.raises(ValueError, match=f"unknown tool in policy for ops-bot: '{DRAIN.name}'"):
        FlyToolkit(client=fake.client(), scope="org", policy=wider)
    with pytest.raises(ValueError, match="unknown tool"):
        AgentPolicy(agent_id="ops-bot", tools={DRAIN.name: "allow"})  # the package's catalogue
    assert fake.requests == []


# ---------------------------------------------------------------- console


def test_the_console_asks_for_the_wider_records_type_back_through_the_toolkit() -> None:
    for answers, sent in (((("y", "y", "y", "y"), [])), ((("y", WEB_1), [WEB_1]))):
        fake = FakeFly.demo()
        RETIRED.clear()
        out = io.StringIO()
        prompt = ConsoleApproval(input=ScriptedInput(*answers), output=out, catalogue=ROOMY)
        toolkit = FlyToolkit(client=fake.client(), scope="org", catalogue=ROOMY, confirm=prompt)
        message = _invoke(toolkit, RETIRE.name)
        assert f"Type {WEB_1} or web-1 to confirm fly_retire_machine" in out.getvalue()
        assert f"Retire machine {WEB_1} in app web" in out.getvalue()
        assert sent == RETIRED
        assert (message.status == "error") is (sent == [])
        reached = [r.endpoint for r in fake.requests if r.endpoint == RETIRE.name]
        assert reached == [RETIRE.name] * len(sent)


def test_a_request_without_type_back_is_judged_by_the_consoles_catalogue() -> None:
    # A front door that does not fill type_back in (a hand-built request): the rule of
    # the record decides, and the record is the one in the catalogue the console is given.
    args = RETIRE.args_model.model_validate(ARGS)
    request = ActionRequest(
        tool=RETIRE.name,
        group=RETIRE.group,
        risk=RETIRE.risk,
        args=redact_args(RETIRE, args),
        target=target_of(RETIRE, args),
        description="Retire it.",
    )
    assert expected_type_back(request, ROOMY) == WEB_1
    assert expected_type_back(request) is None  # the package has no such record
    out = io.StringIO()
    plain_yes = ConsoleApproval(input=ScriptedInput("y"), output=out, catalogue=ROOMY)
    assert plain_yes(request) == Reject("no answer (end of input)", by="console")
    typed = ConsoleApproval(input=ScriptedInput("y", WEB_1), output=out, catalogue=ROOMY)
    assert typed(request) == Approve(by="console")


# ---------------------------------------------------------------- HITL


def test_interrupt_on_describes_the_wider_records() -> None:
    toolkit = FlyToolkit(client=FakeFly.demo().client(), scope="org", catalogue=ROOMY)
    gates = interrupt_on(toolkit.get_tools(), "disruptive")
    assert {DRAIN.name, RETIRE.name} <= set(gates)
    assert PEEK.name not in gates
    call = {"name": RETIRE.name, "args": ARGS, "id": "c1"}
    expected = f"Retire machine {WEB_1} in app web. {RETIRE.consequence}"
    assert gates[RETIRE.name]["description"](call, None, None) == expected
    # A wrapper that carries no record finds it in the catalogue it is given.
    wrapper = StructuredTool.from_function(
        lambda **kwargs: "",
        name=RETIRE.name,
        description="wrapped",
        metadata={"risk": "destructive"},
        args_schema=RETIRE.args_model,
    )
    wrapped = interrupt_on([wrapper], catalogue=toolkit.catalogue)[RETIRE.name]["description"]
    assert wrapped(call, None, None) == expected
    bad = {"name": RETIRE.name, "args": {"app_name": "web"}, "id": "c2"}
    assert "will be refused if approved" in wrapped(bad, None, None)


# ---------------------------------------------------------------- MCP


async def test_the_mcp_server_lists_and_calls_the_wider_records() -> None:
    served = serve("deploy", "web", catalogue=ROOMY)
    async with Client(served.server, elicitation_callback=approve()) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert {DRAIN.name, RETIRE.name, PEEK.name} <= set(tools)
        peek = tools[PEEK.name]
        assert peek.output_schema is not None  # from its own record's result kind
        assert peek.output_schema["required"] == ["id"]
        assert peek.annotations is not None
        assert peek.annotations.read_only_hint is True
        assert tools[DRAIN.name].annotations.destructive_hint is True  # type: ignore[union-attr]

        result = await client.call_tool(PEEK.name, {"machine_id": WEB_1})
        assert not result.is_error, result
        assert (result.structured_content or {}).get("id") == WEB_1
        drained = await client.call_tool(DRAIN.name, {"machine_id": WEB_1})
        assert not drained.is_error, drained
    assert DRAINED == [("web", WEB_1)]
    reached = [(r.method, r.endpoint) for r in served.fake.requests if r.endpoint in ROOMY]
    assert ("GET", PEEK.name) in reached
    assert ("POST", DRAIN.name) in reached
    assert [r.tool for r in served.records if r.tool in (PEEK.name, DRAIN.name)] == [
        PEEK.name,
        DRAIN.name,
    ]
