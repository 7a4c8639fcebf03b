"""The maintenance and metadata tools through the toolkit: what reaches the fake, what is said, what is gated."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from fly_tools import ENDPOINTS, FlyToolkit
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1
from fly_tools.untrusted import unfenced
from tests.snapshots.schemas import names_in_group
from tests.tools.doubles import AreaKit, Tracer

GROUPS = ["maintenance", "metadata"]
OURS = [e.name for e in ENDPOINTS.records if e.group in GROUPS]
M1 = f"/v1/apps/web/machines/{WEB_1}"
WEB_1_ARGS: dict[str, Any] = {"app_name": "web", "machine_id": WEB_1}


class World(AreaKit):
    """A demo fake, a toolkit of this area's tools on it, and the hook's questions."""

    def __init__(self, *, approve: bool = True, **options: Any) -> None:
        super().__init__(GROUPS, approve=approve, confirm_at="disruptive", **options)

    def call(
        self, name: str, args: dict[str, Any], callbacks: list[BaseCallbackHandler] | None = None
    ) -> ToolMessage:
        return self.invoke(name, args, callbacks=callbacks or [])


@pytest.fixture
def world() -> World:
    return World()


def test_the_default_toolkit_has_none_of_them() -> None:
    fake = FakeFly.demo()
    names = FlyToolkit(client=fake.client(), scope="org").tool_names
    assert not set(OURS) & set(names)
    assert set(OURS) == set().union(*(names_in_group(g) for g in GROUPS))


def test_groups_and_scopes_offer_them(world: World) -> None:
    assert world.toolkit.tool_names == OURS
    fake = FakeFly.demo()
    readonly = FlyToolkit(client=fake.client("readonly"), scope="readonly", groups=GROUPS)
    assert readonly.tool_names == [
        "fly_get_machine_memory",
        "fly_get_machine_metadata",
        "fly_get_machine_metadata_key",
    ]
    bound = FlyToolkit(
        client=fake.client("deploy", "web"), scope="deploy", app="web", groups=GROUPS
    )
    for tool in bound.get_tools():
        assert "app_name" not in _props(tool), tool.name


def _props(tool: BaseTool) -> dict[str, Any]:
    return tool.tool_call_schema.model_json_schema().get("properties", {})  # type: ignore[union-attr, no-any-return]


# ---------------------------------------------------------------- reads


def test_reads_send_a_get_and_say_what_fly_answered(world: World) -> None:
    memory = world.call("fly_get_machine_memory", WEB_1_ARGS)
    assert memory.content == "Memory: limit_mb=256 available_mb=196"
    metadata = world.call("fly_get_machine_metadata", WEB_1_ARGS)
    # Metadata is text others write: fenced as data (tests/untrusted has the fence).
    assert isinstance(metadata.content, str)
    assert unfenced(metadata.content) == "Metadata: fly_process_group=app fly_platform_version=v2"
    value = world.call("fly_get_machine_metadata_key", WEB_1_ARGS | {"key": "fly_process_group"})
    assert isinstance(value.content, str)
    assert unfenced(value.content) == "Metadata value: value=app"
    assert world.recorder.to(M1 + "/memory") == [("GET", None)]
    assert world.recorder.to(M1 + "/metadata") == [("GET", None)]
    assert world.recorder.to(M1 + "/metadata/fly_process_group") == [("GET", None)]
    assert world.asked == []


def test_a_missing_key_gets_the_records_advice(world: World) -> None:
    message = world.call("fly_get_machine_metadata_key", WEB_1_ARGS | {"key": "nope"})
    assert message.status == "error"
    assert "fly_get_machine_metadata lists its keys" in str(message.content)


# ---------------------------------------------------------------- gated changes


def _said(message: ToolMessage, done: str, noun: str) -> bool:
    """Whether a body-less answer is worded as done to this machine (204s carry no data)."""
    text = str(message.content)
    return message.status != "error" and text.startswith(done) and noun in text and WEB_1 in text


def test_cordon_asks_with_the_machine_read_from_fly_and_the_consequence(world: World) -> None:
    message = world.call("fly_cordon_machine", WEB_1_ARGS)
    assert message.status != "error", message.content
    [request] = world.asked
    assert request.description.startswith(
        f'Cordon machine {WEB_1} in app web (read from Fly just now: named "web-1", started, ord).'
    )
    assert "stops routing requests to it until it is uncordoned" in request.description
    assert world.recorder.to(M1 + "/cordon") == [("POST", None)]
    assert world.fake.state.machine("web", WEB_1).cordoned is True
    [record] = [r for r in world.sink.records if r.tool == "fly_cordon_machine"]
    assert record.decision == "approved"


def test_uncordon_asks_as_it_sends_live_traffic_and_forwards_the_lease_nonce(
    world: World,
) -> None:
    # flyctl's blue-green cut-over is an uncordon (deploy/strategy_bluegreen.go:627-642).
    lease = world.fake.client().call("fly_acquire_lease", WEB_1_ARGS | {"ttl": 60})
    message = world.call("fly_uncordon_machine", WEB_1_ARGS | {"lease_nonce": lease["nonce"]})
    assert message.status != "error", message.content
    [asked] = world.asked
    assert "starts routing live requests to it at once" in asked.description
    [request] = [r for r in world.recorder.sent if r.url.path == M1 + "/uncordon"]
    assert request.headers["fly-machine-lease-nonce"] == lease["nonce"]


def test_set_memory_limit_sends_the_limit_and_names_the_risk(world: World) -> None:
    message = world.call("fly_set_machine_memory_limit", WEB_1_ARGS | {"limit_mb": "128"})
    assert message.content == (
        f"Set the memory limit of machine {WEB_1} in app web. "
        "The memory limit: limit_mb=128 available_mb=68"
    )
    assert world.recorder.to(M1 + "/memory") == [("PUT", {"limit_mb": 128})]
    [request] = world.asked
    assert "run short of memory" in request.description
    assert "killed" not in request.description  # Fly documents no such thing
    assert "limit_mb=128" in request.description


def test_reclaim_is_a_write_and_is_not_gated(world: World) -> None:
    message = world.call("fly_reclaim_machine_memory", WEB_1_ARGS | {"amount_mb": 8})
    assert message.content == (
        f"Reclaimed memory from machine {WEB_1} in app web. The memory: actual_mb=8"
    )
    assert world.recorder.to(M1 + "/memory/reclaim") == [("POST", {"amount_mb": 8})]
    assert world.asked == []


def test_setting_a_key_asks_and_sends_the_value(world: World) -> None:
    args = WEB_1_ARGS | {"key": "role", "value": "primary"}
    message = world.call("fly_set_machine_metadata_key", args)
    assert _said(message, "Set", "metadata key")
    assert world.recorder.to(M1 + "/metadata/role") == [("POST", {"value": "primary"})]
    [request] = world.asked
    assert 'key="role"' in request.description
    assert "process-group and platform-version keys" in request.description
    assert world.fake.state.machine("web", WEB_1).config["metadata"]["role"] == "primary"


def test_bulk_update_sends_patch_with_nulls_to_remove(world: World) -> None:
    args = WEB_1_ARGS | {"changes": {"fly_platform_version": None, "tier": "gold"}}
    message = world.call("fly_update_machine_metadata", args)
    assert _said(message, "Replaced the metadata of", "machine")
    sent = {"metadata": {"fly_platform_version": None, "tier": "gold"}}
    assert world.recorder.to(M1 + "/metadata") == [("PATCH", sent)]
    metadata = world.fake.state.machine("web", WEB_1).config["metadata"]
    assert metadata == {"fly_process_group": "app", "tier": "gold"}


def test_deleting_a_key_asks_then_sends_delete(world: World) -> None:
    message = world.call(
        "fly_delete_machine_metadata_key", WEB_1_ARGS | {"key": "fly_process_group"}
    )
    assert _said(message, "Deleted", "metadata key")
    assert world.recorder.to(M1 + "/metadata/fly_process_group") == [("DELETE", None)]
    [request] = world.asked
    assert request.risk.label == "disruptive"
    assert request.reversible is True


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("fly_cordon_machine", {}),
        ("fly_set_machine_memory_limit", {"limit_mb": 128}),
        ("fly_set_machine_metadata_key", {"key": "role", "value": "x"}),
        ("fly_update_machine_metadata", {"changes": {"role": "x"}}),
        ("fly_delete_machine_metadata_key", {"key": "fly_process_group"}),
    ],
)
def test_a_rejected_change_sends_nothing(tool: str, args: dict[str, Any]) -> None:
    world = World(approve=False)
    message = world.call(tool, WEB_1_ARGS | args)
    assert message.status == "error"
    assert len(world.asked) == 1
    assert world.asked[0].tool == tool
    # Only the state read reached the app (besides the toolkit's token-scope check).
    apps = [(r.method, r.url.path) for r in world.recorder.sent if "/apps/" in r.url.path]
    assert apps == [("GET", M1)]


# ---------------------------------------------------------------- refused before sending


@pytest.mark.parametrize(
    "key", ["../x", "a/b", "%2e", ".", ".hidden", "a..b", "a b", "a\nb", "ключ", "k" * 257]
)
@pytest.mark.parametrize(
    "tool",
    [
        "fly_get_machine_metadata_key",
        "fly_set_machine_metadata_key",
        "fly_delete_machine_metadata_key",
        "fly_update_machine_metadata",
    ],
)
def test_hostile_keys_are_refused_before_any_request(world: World, tool: str, key: str) -> None:
    if tool == "fly_update_machine_metadata":
        args = WEB_1_ARGS | {"changes": {key: "x"}}
    else:
        args = WEB_1_ARGS | {"key": key, "value": "x"}
    message = world.call(tool, args)
    assert message.status == "error"
    assert "metadata key must be" in str(message.content)
    assert world.recorder.sent == []
    assert world.asked == []


@pytest.mark.parametrize("machine_id", ["../web", "a/b", "%2e%2e", "x" * 65, "ab\x00"])
def test_hostile_machine_ids_are_refused_before_any_request(world: World, machine_id: str) -> None:
    for tool in ("fly_cordon_machine", "fly_get_machine_metadata", "fly_get_machine_memory"):
        message = world.call(tool, {"app_name": "web", "machine_id": machine_id})
        assert message.status == "error"
        assert "machine id must be" in str(message.content)
    assert world.recorder.sent == []


@pytest.mark.parametrize(
    ("tool", "args", "error"),
    [
        ("fly_set_machine_memory_limit", {"limit_mb": 0}, "limit_mb"),
        ("fly_set_machine_memory_limit", {"limit_mb": True}, "whole number"),
        ("fly_set_machine_memory_limit", {"limit_mb": 1.5}, "whole number"),
        ("fly_set_machine_memory_limit", {"limit_mb": 10**9}, "limit_mb"),
        ("fly_reclaim_machine_memory", {"amount_mb": -1}, "amount_mb"),
        ("fly_update_machine_metadata", {"changes": {}}, "changes"),
        (
            "fly_update_machine_metadata",
            {"changes": {"a": "b"}, "machine_version": "../v"},
            "version",
        ),
        ("fly_set_machine_metadata_key", {"key": "role", "value": ""}, "value"),
        ("fly_set_machine_metadata_key", {"key": "role", "value": "v" * 4097}, "value"),
    ],
)
def test_bad_values_are_refused_before_any_request(
    world: World, tool: str, args: dict[str, Any], error: str
) -> None:
    message = world.call(tool, WEB_1_ARGS | args)
    assert message.status == "error"
    assert error in str(message.content)
    assert world.recorder.sent == []


# ---------------------------------------------------------------- nothing leaks


def test_the_token_never_reaches_callbacks_content_or_the_audit_trail(world: World) -> None:
    token = world.fake.tokens["org"]
    tracer = Tracer()
    calls: list[tuple[str, dict[str, Any]]] = [
        ("fly_set_machine_metadata_key", {"key": "role", "value": "primary"}),
        ("fly_get_machine_metadata_key", {"key": "missing"}),
        ("fly_cordon_machine", {}),
        ("fly_set_machine_memory_limit", {"limit_mb": 128}),
    ]
    messages = [world.call(tool, WEB_1_ARGS | args, callbacks=[tracer]) for tool, args in calls]
    assert len(tracer.seen) >= 2 * len(calls)
    assert all(token not in text for text in tracer.seen)
    for message in messages:
        assert token not in str(message.content)
        assert token not in repr(message.artifact)
    assert world.sink.records
    assert all(token not in record.to_json() for record in world.sink.records)
