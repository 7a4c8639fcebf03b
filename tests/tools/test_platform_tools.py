"""Snapshot, platform and credential tools through the toolkit: what reaches the fake,
what the approver is asked, and that no token ever leaves the tool."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from fly_tools import ENDPOINTS, FlyToolkit
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA
from tests.tools.doubles import AreaKit

GROUPS = ["snapshots", "platform", "credentials"]
AREA = [e for e in ENDPOINTS.records if e.group in GROUPS]
AREA_NAMES = {e.name for e in AREA}
VOLUME = {"app_name": "web", "volume_id": VOL_DATA}
HOSTILE = ("../x", "a/b", "%2e", "x" * 300, "web\n", "we\x00b", "")


class Setup(AreaKit):
    def __init__(self, approve: bool = True) -> None:
        super().__init__(GROUPS, approve=approve)

    def sent(self, name: str) -> list[Any]:
        return [r for r in self.fake.requests if r.endpoint == name]

    def everything_let_out(self, message: ToolMessage) -> str:
        """Content, artifact, audit records and callback payloads, as one text."""
        records = [r.to_json() for r in self.sink.records]
        parts = [str(message.content), repr(message.artifact), *records, *self.tracer.seen]
        return "\n".join(parts)


@pytest.fixture
def s() -> Setup:
    return Setup()


def test_the_default_toolkit_leaves_these_tools_out() -> None:
    names = FlyToolkit(client=FakeFly.demo().client(), scope="org").tool_names
    assert not AREA_NAMES & set(names)
    toolkit = FlyToolkit(client=FakeFly.demo().client(), scope="org", groups=GROUPS)
    assert toolkit.tool_names == [e.name for e in AREA]


def test_deploy_scope_gets_no_org_wide_lists() -> None:
    client = FakeFly.demo().client(scope="deploy", app="web")
    names = FlyToolkit(client=client, scope="deploy", app="web", groups=GROUPS).tool_names
    assert "fly_list_volume_snapshots" in names
    assert not {"fly_list_org_machines", "fly_list_org_volumes"} & set(names)


# ---------------------------------------------------------------- what is sent


def test_org_machines_send_the_filters_as_fly_reads_them(s: Setup) -> None:
    args = {"org_slug": "acme", "state": ["started", "stopped"], "limit": 2, "summary": True}
    message = s.invoke("fly_list_org_machines", args)
    request, _ = s.recorder.last("/orgs/acme/machines")
    assert dict(request.url.params) == {"state": "started,stopped", "limit": "2", "summary": "true"}
    [logged] = s.sent("fly_list_org_machines")
    assert logged.status == 200
    assert "cursor=" in str(message.content)  # more pages: the model is told how to go on


def test_placements_send_the_guest_size_as_compute(s: Setup) -> None:
    args = {"org_slug": "acme", "region": "ord,eu", "count": 3, "cpus": 2, "memory_mb": 4096}
    message = s.invoke("fly_get_placements", args)
    request, _ = s.recorder.last("/platform/placements")
    assert json.loads(request.content) == {
        "org_slug": "acme",
        "region": "ord,eu",
        "count": 3,
        "compute": {"cpus": 2, "memory_mb": 4096},
    }
    assert "region=ord" in str(message.content)


def test_a_snapshot_is_taken_without_asking(s: Setup) -> None:
    message = s.invoke("fly_create_volume_snapshot", VOLUME)
    assert s.hook.asked == []  # a write, below the default threshold
    assert [r.method for r in s.sent("fly_create_volume_snapshot")] == ["POST"]
    assert VOL_DATA in str(message.content)
    listed = s.invoke("fly_list_volume_snapshots", VOLUME)
    assert "1 snapshot" in str(listed.content)


def test_lowering_retention_is_a_write_that_keeps_existing_snapshots(s: Setup) -> None:
    # Fly applies a new retention to new snapshots only (superfly/docs
    # volumes/snapshots.html.markerb:26): nothing is lost, so no approval is asked.
    s.invoke("fly_create_volume_snapshot", VOLUME)
    done = s.invoke("fly_update_volume", VOLUME | {"snapshot_retention": 1})
    assert s.hook.asked == []
    assert "snapshot_retention=1" in str(done.content)
    request, _ = s.recorder.last(f"/volumes/{VOL_DATA}")
    assert (request.method, json.loads(request.content)) == ("PUT", {"snapshot_retention": 1})
    assert s.fake.state.volume("web", VOL_DATA).snapshot_retention == 1
    listed = s.invoke("fly_list_volume_snapshots", VOLUME)
    assert "1 snapshot" in str(listed.content)
    record = ENDPOINTS["fly_update_volume"]
    assert "new snapshots only" in record.tier_reason
    assert "snapshots.html.markerb" in record.tier_reason


@pytest.mark.parametrize(
    ("tool", "args", "problem"),
    [
        ("fly_update_volume", VOLUME, "nothing to change"),
        ("fly_update_volume", VOLUME | {"snapshot_retention": 90}, "snapshot_retention"),
        ("fly_list_org_volumes", {"org_slug": "acme", "updated_after": "2024-05-01"}, "RFC 3339"),
        ("fly_list_org_machines", {"org_slug": "acme", "state": ["running"]}, "state"),
        ("fly_get_placements", {"org_slug": "acme", "cpus": 3}, "cpus"),
        ("fly_authorize_token", {"action": "rwx", "org_slug": "acme"}, "rwcdC"),
        (
            "fly_authorize_token",
            {"org_slug": "acme", "machine_id": "3d8d9015b23489"},
            "needs app_name",
        ),
        ("fly_create_deploy_token", {"app_name": "web", "expiry": "forever"}, "duration"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    s: Setup, tool: str, args: dict[str, Any], problem: str
) -> None:
    message = s.invoke(tool, args)
    assert problem in str(message.content)
    assert s.recorder.sent == []
    assert s.hook.asked == []


@pytest.mark.parametrize(
    ("tool", "param"),
    [
        ("fly_list_volume_snapshots", "volume_id"),
        ("fly_create_volume_snapshot", "app_name"),
        ("fly_update_volume", "volume_id"),
        ("fly_list_org_machines", "org_slug"),
        ("fly_list_org_volumes", "org_slug"),
        ("fly_create_deploy_token", "app_name"),
        ("fly_get_placements", "org_slug"),
    ],
)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_identifiers_are_refused_before_any_request(
    s: Setup, tool: str, param: str, hostile: str
) -> None:
    args = VOLUME | {"org_slug": "acme", "snapshot_retention": 3}
    fields = ENDPOINTS[tool].args_model.model_fields
    message = s.invoke(tool, {k: v for k, v in args.items() if k in fields} | {param: hostile})
    assert message.status == "error" or "invalid" in str(message.content).lower()
    assert s.recorder.sent == []


# ---------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("tool", "args", "path"),
    [
        ("fly_create_deploy_token", {"app_name": "web"}, "/apps/web/deploy_token"),
        ("fly_request_kms_token", {}, "/tokens/kms"),
    ],
)
def test_a_minted_token_is_asked_for_and_never_let_out(
    s: Setup, tool: str, args: dict[str, Any], path: str
) -> None:
    message = s.invoke(tool, args)
    [asked] = s.hook.asked
    assert "credential" in asked.description
    _, answer = s.recorder.last(path)
    minted = json.loads(answer)["token"] if answer.startswith("{") else answer
    assert len(minted) > 20
    assert minted not in s.everything_let_out(message)
    assert minted.removeprefix("FlyV1 ") not in s.everything_let_out(message)
    assert "[withheld]" in str(message.content)
    assert message.artifact == {"token": "[withheld]"}


def test_a_rejected_deploy_token_is_never_minted() -> None:
    rejected = Setup(approve=False)
    rejected.invoke("fly_create_deploy_token", {"app_name": "web"})
    assert rejected.sent("fly_create_deploy_token") == []


@pytest.mark.parametrize(
    ("tool", "args", "path"),
    [
        (
            "fly_authorize_token",
            {"action": "r", "org_slug": "acme", "app_name": "web"},
            "/tokens/authorize",
        ),
        ("fly_authenticate_token", {}, "/tokens/authenticate"),
    ],
)
def test_own_token_questions_send_the_clients_token_and_show_it_nowhere(
    s: Setup, tool: str, args: dict[str, Any], path: str
) -> None:
    message = s.invoke(tool, args)
    request, _ = s.recorder.last(path)
    body = json.loads(request.content)
    own = s.client.token.reveal()
    assert body["header"].endswith(own)  # the client's own token, sent by the client
    assert request.headers["authorization"].endswith(own)
    assert own not in s.everything_let_out(message)
    assert "'permission_token': '[withheld]'" in repr(message.artifact)
    assert message.status != "error"


def test_the_token_is_not_an_argument_the_model_can_give(s: Setup) -> None:
    tool = next(t for t in s.toolkit.get_tools() if t.name == "fly_authorize_token")
    schema = tool.tool_call_schema.model_json_schema()  # type: ignore[union-attr]
    assert "header" not in schema["properties"]
    message = s.invoke("fly_authorize_token", {"header": "Bearer fm2_someone-elses"})
    assert "not an argument" in str(message.content)
    assert s.recorder.sent == []


def test_authorize_tells_the_model_when_access_is_denied() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.client(scope="readonly"), scope="readonly", groups=GROUPS)
    tool = next(t for t in toolkit.get_tools() if t.name == "fly_authorize_token")
    call = {
        "type": "tool_call",
        "id": "c1",
        "name": tool.name,
        "args": {"action": "w", "org_slug": "acme"},
    }
    message = tool.invoke(call)
    assert "does not grant that access" in str(message.content)
    assert [r.status for r in fake.requests if r.endpoint == "fly_authorize_token"] == [403]


async def test_the_async_client_sends_its_own_token_too(s: Setup) -> None:
    tool = next(t for t in s.toolkit.get_tools() if t.name == "fly_authenticate_token")
    call = {"type": "tool_call", "id": "c1", "name": tool.name, "args": {}}
    message = await tool.ainvoke(call, config={"callbacks": [s.tracer]})
    request, _ = s.recorder.last("/tokens/authenticate")
    own = s.client.token.reveal()
    assert json.loads(request.content)["header"].endswith(own)
    assert own not in s.everything_let_out(message)
