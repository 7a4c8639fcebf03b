"""FlyToolkit: the exact tool set for each filter, app binding, fail-closed construction, call-time guard."""

from __future__ import annotations

import itertools

import httpx
import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from fly_tools import ENDPOINTS, GROUPS, SCOPES, FlyClient, FlyToolkit, RiskTier


@pytest.fixture
def requests_seen() -> list[httpx.Request]:
    return []


@pytest.fixture
def client(requests_seen: list[httpx.Request]) -> FlyClient:
    def handler(request: httpx.Request) -> httpx.Response:
        requests_seen.append(request)
        if request.url.path.endswith("/tokens/current"):
            return httpx.Response(200, json={"tokens": [{"org_slug": "acme", "apps": []}]})
        return httpx.Response(200, json={})

    return FlyClient(token="t0k-secret", transport=httpx.MockTransport(handler), rate_limit=False)


def expected(scope: str, group: str | None = None, tier: RiskTier | None = None) -> list[str]:
    return [
        e.name
        for e in ENDPOINTS.records
        if scope in e.scopes
        and (e.default if group is None else e.group == group)
        and (tier is None or e.risk <= tier)
    ]


@pytest.mark.parametrize("scope", SCOPES)
def test_a_scope_gets_exactly_the_records_that_declare_it(client: FlyClient, scope: str) -> None:
    tools = FlyToolkit(client=client, scope=scope).get_tools()
    assert [t.name for t in tools] == expected(scope)
    assert all(scope in (t.metadata or {})["scopes"] for t in tools)


def test_scope_x_tier_x_group_matrix(client: FlyClient) -> None:
    checked = 0
    for scope, tier, group in itertools.product(SCOPES, [None, *RiskTier], [None, *GROUPS]):
        names = expected(scope, group, tier)
        kwargs = {"scope": scope, "max_risk": tier, "groups": None if group is None else [group]}
        if not names:
            with pytest.raises(ValueError, match="no tools"):
                FlyToolkit(client=client, **kwargs)
            continue
        toolkit = FlyToolkit(client=client, **kwargs)
        assert toolkit.tool_names == names, kwargs
        checked += 1
    assert checked > 100


def test_include_and_exclude(client: FlyClient) -> None:
    toolkit = FlyToolkit(
        client=client,
        scope="deploy",
        include=["fly_list_machines", "fly_get_machine", "fly_list_apps"],
        exclude=["fly_get_machine"],
    )
    # fly_list_apps is not reachable with a deploy token, so scope wins over include.
    assert toolkit.tool_names == ["fly_list_machines"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"groups": ["apps", "vms"]}, "unknown group"),
        ({"include": ["fly_list_apps", "fly_nuke"]}, "unknown tool"),
        ({"exclude": ["fly_nope"]}, "unknown tool"),
        ({"scope": "readonly", "groups": ["tokens"]}, "no tools"),
        ({"scope": "admin"}, "unknown token scope"),
        ({"max_risk": "catastrophic"}, "unknown risk tier"),
        ({"app": "../other"}, "app name must be"),
        ({"include": []}, "no tools"),
    ],
)
def test_construction_fails_closed(
    client: FlyClient, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        FlyToolkit(client=client, **{"scope": "org", **kwargs})


@pytest.mark.parametrize("confirm", ["upstream", "yes", 42])
def test_confirm_must_be_an_approver(client: FlyClient, confirm: object) -> None:
    with pytest.raises(ValueError, match="confirm"):
        FlyToolkit(client=client, scope="org", confirm=confirm)


def test_scope_is_required_and_says_how(client: FlyClient) -> None:
    with pytest.raises(ValueError, match=r"scope is required.*deploy"):
        FlyToolkit(client=client)  # type: ignore[call-arg]


def _schema_props(tool: BaseTool) -> dict[str, object]:
    properties: dict[str, object] = tool.tool_call_schema.model_json_schema().get(  # type: ignore[union-attr]
        "properties", {}
    )
    return properties


def test_app_binding_hides_and_pins_app_name(
    client: FlyClient, requests_seen: list[httpx.Request]
) -> None:
    toolkit = FlyToolkit(client=client, scope="deploy", app="web")
    tools = {t.name: t for t in toolkit.get_tools()}
    for tool in tools.values():
        assert "app_name" not in _schema_props(tool), tool.name
    tools["fly_list_machines"].invoke({})
    assert requests_seen[-1].url.path == "/v1/apps/web/machines"


def test_bound_tool_refuses_another_app(
    client: FlyClient, requests_seen: list[httpx.Request]
) -> None:
    tool = {t.name: t for t in FlyToolkit(client=client, scope="deploy", app="web").get_tools()}[
        "fly_get_machine"
    ]
    message = tool.invoke(
        {
            "type": "tool_call",
            "id": "1",
            "name": tool.name,
            "args": {"app_name": "worker", "machine_id": "abc"},
        }
    )
    assert isinstance(message, ToolMessage)
    assert "app_name" in str(message.content)
    assert requests_seen == []


def test_unbound_toolkit_keeps_app_name(client: FlyClient) -> None:
    tool = FlyToolkit(client=client, scope="org", include=["fly_get_app"]).get_tools()[0]
    assert "app_name" in _schema_props(tool)


def test_call_time_guard_holds_outside_the_toolkit(
    client: FlyClient, requests_seen: list[httpx.Request]
) -> None:
    # A tool object taken out of a readonly toolkit still carries the readonly guard.
    readonly = FlyToolkit(client=client, scope="readonly")
    from fly_tools.tools.pipeline import run_sync
    from fly_tools.tools.runtime import FlyToolError

    runtime = readonly._runtime
    with pytest.raises(FlyToolError, match=r"^Not executed") as refused:
        run_sync(runtime, ENDPOINTS["fly_delete_app"], {"app_name": "web", "force": True})
    assert refused.value.artifact["executed"] is False
    assert requests_seen == []


def test_exec_allow_list(client: FlyClient, requests_seen: list[httpx.Request]) -> None:
    from fly_tools.guards import approve_all

    toolkit = FlyToolkit(
        client=client, scope="machine-exec", exec_commands=["ls"], confirm=approve_all
    )
    tool = toolkit.get_tools()[0]
    refused = tool.invoke({"app_name": "web", "machine_id": "abc", "command": ["rm", "-rf", "/"]})
    assert "allow-list" in str(refused)
    assert requests_seen == []
    tool.invoke({"app_name": "web", "machine_id": "abc", "command": ["ls", "/"]})
    sent = [(r.method, r.url.path) for r in requests_seen if r.method == "POST"]
    assert sent == [("POST", "/v1/tokens/authorize"), ("POST", "/v1/apps/web/machines/abc/exec")]


def test_metadata_and_hints(client: FlyClient) -> None:
    tools = {t.name: t for t in FlyToolkit(client=client, scope="org").get_tools()}
    delete = tools["fly_delete_volume"].metadata or {}
    assert delete["risk"] == "destructive"
    assert delete["destructiveHint"] is True
    assert delete["readOnlyHint"] is False
    assert delete["operation_id"] == "Volume_delete"
    read = tools["fly_list_machines"].metadata or {}
    assert read["readOnlyHint"] is True
    assert read["idempotentHint"] is True
    assert set(read["scopes"]) == {"org", "deploy", "readonly"}
    assert all(t.response_format == "content_and_artifact" for t in tools.values())
    assert all(t.handle_tool_error for t in tools.values())
    assert all(t.coroutine is not None for t in tools.values() if hasattr(t, "coroutine"))


def test_read_only_convenience(client: FlyClient) -> None:
    toolkit = FlyToolkit.read_only(client, app="web")
    # Every read that names an app; org-wide reads cannot be bound to one app.
    reads = [
        e.name
        for e in ENDPOINTS.records
        if e.default and e.read_only and "readonly" in e.scopes and "app_name" in e.path_params
    ]
    assert toolkit.tool_names == reads
    assert all(t.metadata and t.metadata["readOnlyHint"] for t in toolkit.get_tools())


def test_gated_tool_without_hook_is_refused(
    client: FlyClient, requests_seen: list[httpx.Request]
) -> None:
    toolkit = FlyToolkit(client=client, scope="org")
    tool = {t.name: t for t in toolkit.get_tools()}["fly_delete_app"]
    content = tool.invoke({"app_name": "web"})
    assert "needs human approval" in str(content)
    assert requests_seen == []


def test_invalid_arguments_name_the_field_and_send_nothing(
    client: FlyClient, requests_seen: list[httpx.Request]
) -> None:
    tool = {t.name: t for t in FlyToolkit(client=client, scope="org").get_tools()}[
        "fly_get_machine"
    ]
    message = tool.invoke(
        {
            "type": "tool_call",
            "id": "1",
            "name": tool.name,
            "args": {"app_name": "web", "machine_id": "../../apps/other"},
        }
    )
    assert "machine_id" in str(message.content)
    assert "nothing was sent" in str(message.content)
    assert requests_seen == []


def test_a_command_string_gets_told_to_be_a_list(
    client: FlyClient, requests_seen: list[httpx.Request]
) -> None:
    tool = FlyToolkit(client=client, scope="machine-exec").get_tools()[0]
    message = tool.invoke(
        {
            "type": "tool_call",
            "id": "1",
            "name": tool.name,
            "args": {"app_name": "web", "machine_id": "abc", "command": "ls -la"},
        }
    )
    assert "command: must be a list" in str(message.content)
    assert requests_seen == []


@pytest.mark.parametrize(
    ("toolkit_scope", "app", "token_scope", "refused"),
    [
        ("org", None, "deploy", True),
        ("deploy", "worker", "deploy", True),
        ("deploy", "web", "deploy", False),
        ("deploy", "web", "readonly", True),
        ("org", None, "machine-exec", True),
        ("machine-exec", None, "machine-exec", False),
        ("deploy", "web", "org", False),
    ],
)
def test_a_toolkit_wider_than_its_token_sends_nothing(
    toolkit_scope: str, app: str | None, token_scope: str, refused: bool
) -> None:
    from fly_tools.guards import approve_all
    from fly_tools.testing import FakeFly

    fake = FakeFly.demo()
    client = fake.client(scope=token_scope, app="web" if token_scope == "deploy" else None)
    toolkit = FlyToolkit(client=client, scope=toolkit_scope, app=app, confirm=approve_all)
    name = "fly_exec_machine" if toolkit_scope == "machine-exec" else "fly_restart_machine"
    tool = next(t for t in toolkit.get_tools() if t.name == name)
    args: dict[str, object] = {"machine_id": "3d8d9015b23489"}
    if app is None:
        args["app_name"] = "web"
    if name == "fly_exec_machine":
        args["command"] = ["ls"]
    answer = tool.invoke(args)
    changed = [r for r in fake.requests if r.method != "GET" and "/tokens/" not in r.path]
    if refused:
        assert "token" in answer
        assert changed == []
    else:
        assert "token" not in answer.split(".")[0]
