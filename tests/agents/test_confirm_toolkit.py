"""The toolkit's confirmation hook with plain tool.invoke/ainvoke, policy, and the audit trail."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from fly_tools import (
    ActionRequest,
    AgentPolicy,
    Approve,
    AuditLog,
    Decision,
    Edit,
    FlyToolkit,
    JsonlSink,
    LoggingSink,
    MemorySink,
    Reject,
    approve_all,
    deny_all,
)
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1, WEB_2


def toolkit_for(fake: FakeFly, **kwargs: Any) -> tuple[dict[str, Any], MemorySink]:
    sink = MemorySink()
    kwargs.setdefault("scope", "deploy")
    kwargs.setdefault("app", "web")
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"), audit=AuditLog(sink), **kwargs
    )
    return {t.name: t for t in toolkit.get_tools()}, sink


def calls(sink: MemorySink) -> list[Any]:
    """The audit records: one per call (the reads that describe a call are in its `reads`)."""
    return list(sink.records)


def sent(fake: FakeFly, method: str) -> list[str]:
    return [
        r.path for r in fake.requests if r.method == method and not r.path.startswith("/v1/tokens")
    ]


def test_hook_sees_a_described_request_and_approves() -> None:
    seen: list[ActionRequest] = []

    def hook(request: ActionRequest) -> Decision:
        seen.append(request)
        return Approve(by="alice")

    fake = FakeFly.demo()
    tools, sink = toolkit_for(fake, confirm=hook, agent_id="ops-bot")
    tools["fly_delete_volume"].invoke({"volume_id": VOL_DATA_OLD})
    (request,) = seen
    assert request.tool == "fly_delete_volume"
    assert request.target.id == VOL_DATA_OLD
    assert request.target.app == "web"
    assert "3 GB" in request.description
    assert "not attached" in request.description
    assert sent(fake, "DELETE") == [f"/v1/apps/web/volumes/{VOL_DATA_OLD}"]
    (record,) = sink.records
    assert record.reads == ("fly_get_volume", "fly_get_volume")  # described, then checked
    assert (record.decision, record.decided_by, record.outcome) == ("approved", "alice", "ok")
    assert record.sentence.startswith("ops-bot deleted volume")
    assert "approved by alice" in record.sentence


def test_reject_sends_nothing_and_tells_the_model_not_to_retry() -> None:
    fake = FakeFly.demo()
    tools, sink = toolkit_for(fake, confirm=deny_all)
    content = tools["fly_delete_volume"].invoke({"volume_id": VOL_DATA_OLD})
    assert "Not executed" in content
    assert "not retry" in content.lower()
    assert sent(fake, "DELETE") == []
    assert [r.decision for r in calls(sink)] == ["rejected"]


def test_edit_is_validated_again_and_runs_edited() -> None:
    fake = FakeFly.demo()
    tools, sink = toolkit_for(fake, confirm=lambda r: Edit({"volume_id": VOL_DATA_OLD}, by="bob"))
    tools["fly_extend_volume"].invoke({"volume_id": VOL_DATA, "size_gb": 400})
    # The edit replaced the arguments entirely, so it lacks size_gb: refused as invalid.
    assert sent(fake, "PUT") == []
    assert sink.records[-1].decision == "rejected"
    asked: list[ActionRequest] = []

    def edit_then_approve(request: ActionRequest) -> Decision:
        asked.append(request)
        if request.edited:  # the edited call, described again
            return Approve(by="bob")
        return Edit({"volume_id": VOL_DATA, "size_gb": 11}, by="bob")

    tools2, sink2 = toolkit_for(fake, confirm=edit_then_approve)
    tools2["fly_extend_volume"].invoke({"volume_id": VOL_DATA, "size_gb": 400})
    assert fake.state.apps["web"].volumes[VOL_DATA].size_gb == 11
    assert sink2.records[-1].decision == "edited"
    assert [r.edited for r in asked] == [False, True]
    assert "size_gb=11" in asked[1].description
    assert asked[0].digest != asked[1].digest


def test_a_hook_that_edits_twice_is_a_rejection() -> None:
    fake = FakeFly.demo()
    tools, sink = toolkit_for(fake, confirm=lambda r: Edit({"volume_id": VOL_DATA, "size_gb": 11}))
    content = tools["fly_extend_volume"].invoke({"volume_id": VOL_DATA, "size_gb": 400})
    assert "approved or rejected as it stands" in content
    assert sent(fake, "PUT") == []
    assert calls(sink)[-1].decision == "rejected"


def test_edit_cannot_widen_the_scope() -> None:
    fake = FakeFly.demo()
    hook = lambda r: Edit({"volume_id": VOL_DATA_OLD, "app_name": "worker"}, by="mallory")  # noqa: E731
    tools, _sink = toolkit_for(fake, confirm=hook)
    content = tools["fly_delete_volume"].invoke({"volume_id": VOL_DATA_OLD})
    assert "Not executed" in content
    assert sent(fake, "DELETE") == []


def test_hook_that_raises_counts_as_reject() -> None:
    def broken(request: ActionRequest) -> Decision:
        raise RuntimeError("approval service down")

    fake = FakeFly.demo()
    tools, _sink = toolkit_for(fake, confirm=broken)
    content = tools["fly_delete_volume"].invoke({"volume_id": VOL_DATA_OLD})
    assert "Not executed" in content
    assert sent(fake, "DELETE") == []


async def test_async_hook_on_the_async_path() -> None:
    async def hook(request: ActionRequest) -> Decision:
        await asyncio.sleep(0)
        return Reject("not during business hours", by="pager")

    fake = FakeFly.demo()
    tools, _sink = toolkit_for(fake, confirm=hook)
    content = await tools["fly_delete_volume"].ainvoke({"volume_id": VOL_DATA_OLD})
    assert "business hours" in content
    assert sent(fake, "DELETE") == []
    tools2, _ = toolkit_for(fake, confirm=approve_all)
    await tools2["fly_delete_volume"].ainvoke({"volume_id": VOL_DATA_OLD})
    assert sent(fake, "DELETE") == [f"/v1/apps/web/volumes/{VOL_DATA_OLD}"]


def test_confirm_at_lower_threshold_gates_disruptive_calls() -> None:
    fake = FakeFly.demo()
    tools, sink = toolkit_for(fake, confirm=deny_all, confirm_at="disruptive")
    tools["fly_stop_machine"].invoke({"machine_id": WEB_2})
    tools["fly_get_machine"].invoke({"machine_id": WEB_2})
    assert sent(fake, "POST") == []
    assert [r.decision for r in calls(sink)] == ["rejected", "allowed"]


def test_policy_intersects_with_scope(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(
        'agent_id = "ops-bot"\n[groups]\nmachines = "read"\ncontrol = "full"\n'
        '[tools]\nfly_exec_machine = "deny"\nfly_list_volumes = "allow"\n'
    )
    policy = AgentPolicy.from_file(policy_file)
    fake = FakeFly.demo()
    tools, _sink = toolkit_for(fake, policy=policy, confirm=approve_all)
    assert set(tools) == {
        "fly_list_machines",
        "fly_get_machine",
        "fly_start_machine",
        "fly_stop_machine",
        "fly_restart_machine",
        "fly_suspend_machine",
        "fly_signal_machine",
        "fly_wait_machine",
        "fly_list_volumes",
    }
    readonly, _ = toolkit_for(fake, policy=policy, scope="readonly")
    assert set(readonly) == {
        "fly_list_machines",
        "fly_get_machine",
        "fly_wait_machine",
        "fly_list_volumes",
    }
    with pytest.raises(ValueError, match="fly_nuke"):
        AgentPolicy.from_dict({"agent_id": "x", "tools": {"fly_nuke": "allow"}})


def test_audit_to_jsonl_and_logging_redacts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeFly.demo()
    path = tmp_path / "audit.jsonl"
    token = fake.tokens["deploy"]
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(JsonlSink(path), LoggingSink()),
        agent_id="ops-bot",
        confirm=approve_all,
    )
    tools = {t.name: t for t in toolkit.get_tools()}
    with caplog.at_level(logging.INFO, logger="fly_tools.audit"):
        tools["fly_set_secret"].invoke({"secret_name": "API_KEY", "value": "hunter2-zz"})
        tools["fly_delete_secret"].invoke({"secret_name": "API_KEY"})
        tools["fly_get_machine"].invoke({"machine_id": "0000000000dead"})
        tools["fly_exec_machine"].invoke({"machine_id": WEB_1, "command": ["ls"]})
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    records = list(records)
    assert len(records) == 4
    assert [r["outcome"] for r in records] == ["ok", "ok", "error", "ok"]
    assert records[2]["status"] == 404
    everything = path.read_text() + caplog.text + repr([r.__dict__ for r in caplog.records])
    assert "hunter2" not in everything
    assert token not in everything
    assert len(caplog.records) == len(lines)


async def test_200_concurrent_async_calls_give_200_records() -> None:
    fake = FakeFly.demo()
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(sink),
    )
    tool = {t.name: t for t in toolkit.get_tools()}["fly_list_volumes"]
    results = await asyncio.gather(*(tool.ainvoke({}) for _ in range(200)))
    assert len(results) == 200
    assert len(sink.records) == 200
    assert all(r.outcome == "ok" for r in sink.records)


def test_invalid_arguments_are_audited_as_refused() -> None:
    fake = FakeFly.demo()
    tools, sink = toolkit_for(fake)
    message = tools["fly_get_volume"].invoke(
        {"type": "tool_call", "id": "x", "name": "fly_get_volume", "args": {"volume_id": "../x"}}
    )
    assert "volume_id" in str(message.content)
    assert [r.decision for r in sink.records] == ["refused"]
    assert fake.requests == []


def test_token_and_secret_values_absent_from_reprs() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.client(), scope="org", app="web", confirm=approve_all)
    tools = {t.name: t for t in toolkit.get_tools()}
    tools["fly_set_secret"].invoke({"secret_name": "X_KEY", "value": "hunter2hunter2"})
    token = fake.tokens["org"]
    for text in (
        repr(toolkit),
        str(toolkit),
        repr(tools["fly_set_secret"]),
        repr(toolkit._runtime),
        repr(toolkit.audit_log.sinks[0].records),  # type: ignore[attr-defined]
    ):
        assert "hunter2" not in text
        assert token not in text
