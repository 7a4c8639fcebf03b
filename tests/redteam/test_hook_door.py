"""Red team, confirmation-hook door: every gated call × every way in × hostile answers.

A scenario builds a fresh world, lets a hook answer (approve, reject, raise, answer
nonsense, edit toward another app or target, time out), calls through one door (tool
``invoke``/``ainvoke``, LangGraph's ``ToolNode`` sync and async, ``toolkit.call``/``acall``)
and checks the fake's request log: only what a person approved went out, once.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

import pytest

from fly_tools import (
    ActionRequest,
    Approve,
    AuditLog,
    Decision,
    Edit,
    FlyToolError,
    FlyToolkit,
    MemorySink,
    Reject,
)
from fly_tools.risk import GROUPS
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1, WEB_2
from tests.redteam.support import (
    ASYNC_DOORS,
    GATED,
    SYNC_DOORS,
    assert_only_approved,
    bound_args,
    tool_messages,
    wire,
)
from tests.tools.world import CUSTOM_HOST, HOST, prepared_world

# Another target of the same kind (or other settings, where a call names no target), for
# edits that move the call.
ALTERNATIVE: dict[str, dict[str, Any]] = {
    "fly_delete_app": {"force": True},
    "fly_delete_machine": {"machine_id": WEB_2, "force": True},
    "fly_exec_machine": {"machine_id": WEB_1, "command": ["id"]},
    "fly_extend_volume": {"volume_id": VOL_DATA, "size_gb": 30},
    "fly_delete_volume": {"volume_id": VOL_DATA},
    "fly_delete_secret": {"secret_name": "DATABASE_URL"},
    "fly_delete_certificate": {"hostname": CUSTOM_HOST},
    "fly_delete_acme_certificate": {"hostname": CUSTOM_HOST},
    "fly_delete_custom_certificate": {"hostname": HOST},
    "fly_release_ip": {"ip": "2a09:8280:1::99"},
    "fly_assign_ip": {"type": "v6", "region": "ams"},
    "fly_set_secret_key": {"secret_name": "sig_v2", "type": "hs256", "value": "a2V5LWJ5dGVz"},
    "fly_generate_secret_key": {"secret_name": "jwt_v2", "type": "hs512"},
    "fly_delete_secret_key": {"secret_name": "box"},
    "fly_decrypt_with_secret_key": {"secret_name": "sig", "ciphertext": "c2VhbGVk"},
    "fly_sign_with_secret_key": {"secret_name": "sig", "plaintext": "v43"},
    "fly_get_secret": {"secret_name": "SESSION_SECRET"},
    "fly_update_secrets": {"unset": ["DATABASE_URL"]},
    "fly_update_volume": {"volume_id": VOL_DATA_OLD, "snapshot_retention": 3},
    "fly_create_deploy_token": {"expiry": "24h"},
    "fly_request_kms_token": {},
}


def _approve(tool: str, args: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    return (lambda r: Approve(by="alice")), [wire(tool, args)]


def _reject(tool: str, args: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    return (lambda r: Reject("no", by="alice")), []


def _raises(tool: str, args: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    def hook(request: ActionRequest) -> Decision:
        raise RuntimeError("approval service down")

    return hook, []


def _nonsense(value: Any) -> Callable[[str, dict[str, Any]], tuple[Any, list[tuple[str, str]]]]:
    return lambda tool, args: ((lambda r: value), [])


def _edit_other_app(tool: str, args: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    def hook(request: ActionRequest) -> Decision:
        if request.edited:
            return Approve(by="mallory")
        return Edit({**args, "app_name": "worker"}, by="mallory")

    return hook, []


def _edit_then_approve(tool: str, args: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    other = ALTERNATIVE[tool]

    def hook(request: ActionRequest) -> Decision:
        return Approve(by="alice") if request.edited else Edit(other, by="alice")

    return hook, [wire(tool, other)]


def _edit_forever(tool: str, args: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    return (lambda r: Edit(ALTERNATIVE[tool], by="alice")), []


def _async_approve(tool: str, args: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    async def hook(request: ActionRequest) -> Decision:
        await asyncio.sleep(0)
        return Approve(by="alice")

    return hook, [wire(tool, args)]


def _too_slow(tool: str, args: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    def hook(request: ActionRequest) -> Decision:
        time.sleep(0.3)
        return Approve(by="late")

    return hook, []


ANSWERS: dict[str, Callable[[str, dict[str, Any]], tuple[Any, list[tuple[str, str]]]]] = {
    "approve": _approve,
    "async-approve": _async_approve,
    "reject": _reject,
    "raises": _raises,
    "none": _nonsense(None),
    "true": _nonsense(True),
    "dict": _nonsense({"type": "approve"}),
    "edit-other-app": _edit_other_app,
    "edit-then-approve": _edit_then_approve,
    "edit-forever": _edit_forever,
    "too-slow": _too_slow,
}


@functools.cache
def _example(tool: str) -> tuple[tuple[str, Any], ...]:
    # Worlds are seeded: the example prepared once holds for every fresh world.
    return tuple(prepared_world(tool)[1].items())


def _bound(tool: str) -> dict[str, Any]:
    return bound_args(tool, dict(_example(tool)))


def _world(hook: Any, tool: str = "fly_delete_app") -> tuple[FakeFly, FlyToolkit, MemorySink]:
    fake, _ = prepared_world(tool)
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        groups=GROUPS,
        confirm=hook,
        confirm_timeout=0.1,
        audit=AuditLog(sink),
    )
    return fake, toolkit, sink


def _check(fake: FakeFly, sink: MemorySink, result: Any, expected: list[tuple[str, str]]) -> None:
    assert_only_approved(fake, expected)
    calls = list(sink.records)
    assert len(calls) == 1, [r.sentence for r in calls]
    if not expected:
        assert calls[0].outcome == "not_executed"
        for message in tool_messages(result):
            assert message.status == "error"
            assert message.artifact["executed"] is False
        if isinstance(result, FlyToolError):
            assert result.artifact["executed"] is False


@pytest.mark.parametrize("answer", list(ANSWERS))
@pytest.mark.parametrize("tool", GATED)
@pytest.mark.parametrize("door", list(SYNC_DOORS))
def test_sync_door(door: str, tool: str, answer: str) -> None:
    args = _bound(tool)
    hook, expected = ANSWERS[answer](tool, args)
    fake, toolkit, sink = _world(hook, tool)
    result = SYNC_DOORS[door](toolkit, tool, args)
    _check(fake, sink, result, expected)


@pytest.mark.parametrize("answer", list(ANSWERS))
@pytest.mark.parametrize("tool", GATED)
@pytest.mark.parametrize("door", list(ASYNC_DOORS))
async def test_async_door(door: str, tool: str, answer: str) -> None:
    args = _bound(tool)
    hook, expected = ANSWERS[answer](tool, args)
    fake, toolkit, sink = _world(hook, tool)
    result = await ASYNC_DOORS[door](toolkit, tool, args)
    _check(fake, sink, result, expected)


@pytest.mark.parametrize("tool", GATED)
@pytest.mark.parametrize("door", [*SYNC_DOORS, *ASYNC_DOORS])
async def test_model_naming_another_app_is_refused_even_when_approved(tool: str, door: str) -> None:
    fake, toolkit, sink = _world(lambda r: Approve(by="alice"), tool)
    args = {**_bound(tool), "app_name": "worker"}
    doors = {**SYNC_DOORS, **ASYNC_DOORS}
    result = doors[door](toolkit, tool, args)
    if asyncio.iscoroutine(result):
        result = await result
    assert_only_approved(fake, [])
    assert not any("/apps/worker" in r.path for r in fake.requests)
    (record,) = sink.records
    assert record.decision == "refused"


def test_an_update_of_a_machine_changed_during_review_is_not_sent() -> None:
    fake = FakeFly.demo()
    client = fake.client(scope="deploy", app="web")

    def hook(request: ActionRequest) -> Decision:
        # Someone else changes the machine after the reviewer read it.
        client.call(
            "fly_update_machine", {"app_name": "web", "machine_id": WEB_2, "memory_mb": 1024}
        )
        return Approve(by="alice")

    toolkit = FlyToolkit(
        client=client, scope="deploy", app="web", confirm=hook, confirm_at="disruptive"
    )
    answer = next(t for t in toolkit.get_tools() if t.name == "fly_update_machine").invoke(
        {"machine_id": WEB_2, "memory_mb": 512}
    )
    updates = [r for r in fake.requests if r.method == "POST" and r.path.endswith(WEB_2)]
    # Only the other change: the machine is read again once approved, no longer reads as
    # the reviewer saw it, and ours is refused before it is sent (were it sent, its
    # current_version would make Fly refuse it).
    assert len(updates) == 1
    assert "changed while it was under review" in str(answer)
    assert fake.state.apps["web"].machines[WEB_2].config["guest"]["memory_mb"] == 1024
