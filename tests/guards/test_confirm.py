"""Asking a hook: sync and async hooks on both paths, failures and timeouts reject."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards import (
    ActionRequest,
    Approve,
    Decision,
    Edit,
    Reject,
    approve_all,
    decide_async,
    decide_sync,
    deny_all,
    from_callback,
    rejected_message,
)

RequestFor = Callable[..., ActionRequest]


def sync_hook(request: ActionRequest) -> Decision:
    return Edit({**request.args, "signal": "SIGTERM"}, by="sync")


async def async_hook(request: ActionRequest) -> Decision:
    await asyncio.sleep(0)  # a real suspension point
    return Reject("not now", by="async")


class AsyncCallable:
    async def __call__(self, request: ActionRequest) -> Decision:
        return Approve(by="async object")


def returns_coroutine(request: ActionRequest) -> Any:
    return async_hook(request)


HOOKS = [
    (sync_hook, Edit({"signal": "SIGTERM"}, by="sync")),
    (async_hook, Reject("not now", by="async")),
    (AsyncCallable(), Approve(by="async object")),
    (returns_coroutine, Reject("not now", by="async")),
]


def _expected(expected: Decision, request: ActionRequest) -> Decision:
    if isinstance(expected, Edit):
        return Edit({**request.args, **expected.args}, by=expected.by)
    return expected


@pytest.mark.parametrize(("hook", "expected"), HOOKS)
@pytest.mark.parametrize("timeout", [None, 5.0])
def test_decide_sync_runs_any_hook(
    hook: Any, expected: Decision, timeout: float | None, request_for: RequestFor
) -> None:
    request = request_for("fly_signal_machine")
    assert decide_sync(hook, request, timeout) == _expected(expected, request)


@pytest.mark.parametrize(("hook", "expected"), HOOKS)
@pytest.mark.parametrize("timeout", [None, 5.0])
async def test_decide_async_runs_any_hook(
    hook: Any, expected: Decision, timeout: float | None, request_for: RequestFor
) -> None:
    request = request_for("fly_signal_machine")
    assert await decide_async(hook, request, timeout) == _expected(expected, request)


async def test_decide_sync_works_inside_a_running_loop(request_for: RequestFor) -> None:
    # Sync tool code called from async code: the async hook must not need this loop.
    assert decide_sync(async_hook, request_for("fly_stop_machine"), None) == Reject(
        "not now", by="async"
    )


async def test_sync_hook_on_the_async_path_does_not_block_the_loop(
    request_for: RequestFor,
) -> None:
    release = threading.Event()
    loop_ran = asyncio.Event()

    def waits_for_the_loop(request: ActionRequest) -> Decision:
        # Answers only after the event loop has run other work meanwhile.
        assert release.wait(5)
        return Approve(by="thread")

    async def other_work() -> None:
        loop_ran.set()
        release.set()

    decision, _ = await asyncio.gather(
        decide_async(waits_for_the_loop, request_for("fly_stop_machine"), 5), other_work()
    )
    assert loop_ran.is_set()
    assert decision == Approve(by="thread")


def test_sync_hook_runs_in_the_calling_thread_without_timeout(request_for: RequestFor) -> None:
    seen: list[threading.Thread] = []

    def notes_its_thread(request: ActionRequest) -> Decision:
        seen.append(threading.current_thread())
        return Approve()

    decide_sync(notes_its_thread, request_for("fly_stop_machine"), None)
    assert seen == [threading.current_thread()]


def raises(request: ActionRequest) -> Decision:
    raise RuntimeError("approval service down")


async def raises_async(request: ActionRequest) -> Decision:
    raise RuntimeError("approval service down")


@pytest.mark.parametrize("hook", [raises, raises_async])
@pytest.mark.parametrize("timeout", [None, 5.0])
async def test_a_hook_that_raises_rejects_on_both_paths(
    hook: Any, timeout: float | None, request_for: RequestFor
) -> None:
    request = request_for("fly_delete_volume")
    for decision in (
        decide_sync(hook, request, timeout),
        await decide_async(hook, request, timeout),
    ):
        assert isinstance(decision, Reject)
        assert decision.by == "hook error"
        assert "RuntimeError: approval service down" in decision.reason


@pytest.mark.parametrize("answer", [True, None, "approve", {"type": "approve"}])
async def test_an_answer_that_is_not_a_decision_rejects(
    answer: Any, request_for: RequestFor
) -> None:
    request = request_for("fly_delete_volume")
    for decision in (
        decide_sync(lambda r: answer, request, None),
        await decide_async(lambda r: answer, request, None),
    ):
        assert isinstance(decision, Reject)
        assert decision.by == "hook error"
        assert type(answer).__name__ in decision.reason


def test_an_edit_with_bad_args_is_a_hook_error(request_for: RequestFor) -> None:
    def edits_with_text(request: ActionRequest) -> Decision:
        return Edit("force=true")  # type: ignore[arg-type]

    decision = decide_sync(edits_with_text, request_for("fly_delete_app"), None)
    assert isinstance(decision, Reject)
    assert decision.by == "hook error"


def test_slow_sync_hook_times_out_on_the_sync_path(request_for: RequestFor) -> None:
    release = threading.Event()

    def never_answers(request: ActionRequest) -> Decision:
        release.wait(10)
        return Approve()

    try:
        decision = decide_sync(never_answers, request_for("fly_delete_app"), 0.05)
    finally:
        release.set()
    assert decision == Reject("no decision within 0.05 s", by="hook timeout")


async def test_slow_hooks_time_out_on_the_async_path(request_for: RequestFor) -> None:
    release = threading.Event()
    cancelled: list[bool] = []

    def never_answers(request: ActionRequest) -> Decision:
        release.wait(10)
        return Approve()

    async def never_answers_async(request: ActionRequest) -> Decision:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return Approve()

    try:
        first = await decide_async(never_answers, request_for("fly_delete_app"), 0.05)
    finally:
        release.set()
    second = await decide_async(never_answers_async, request_for("fly_delete_app"), 0.05)
    assert first == second == Reject("no decision within 0.05 s", by="hook timeout")
    assert cancelled == [True]


def test_slow_async_hook_times_out_on_the_sync_path(request_for: RequestFor) -> None:
    async def never_answers_async(request: ActionRequest) -> Decision:
        await asyncio.Event().wait()
        return Approve()

    decision = decide_sync(never_answers_async, request_for("fly_delete_app"), 0.05)
    assert decision.by == "hook timeout"


def test_approve_all_and_deny_all_are_named(request_for: RequestFor) -> None:
    request = request_for("fly_delete_app")
    assert decide_sync(approve_all, request, None) == Approve(by="approve_all")
    denied = decide_sync(deny_all, request, None)
    assert isinstance(denied, Reject)
    assert denied.by == "deny_all"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (True, Approve(by="slack")),
        (False, Reject("declined by slack", by="slack")),
        (Reject("too risky"), Reject("too risky", by="slack")),
        (Approve(by="alice"), Approve(by="alice")),
    ],
)
async def test_from_callback_adapts_bools_and_decisions(
    answer: Any, expected: Decision, request_for: RequestFor
) -> None:
    request = request_for("fly_delete_app")

    async def async_fn(r: ActionRequest) -> Any:
        return answer

    async def awaited(r: ActionRequest) -> Any:
        return answer

    def returns_awaitable(r: ActionRequest) -> Any:
        return awaited(r)

    for fn in (lambda r: answer, async_fn, returns_awaitable):
        hook = from_callback(fn, name="slack")
        assert decide_sync(hook, request, None) == expected
        assert await decide_async(hook, request, None) == expected


def test_from_callback_with_a_bad_answer_rejects(request_for: RequestFor) -> None:
    hook = from_callback(lambda r: "yes", name="slack")  # type: ignore[arg-type,return-value]
    decision = decide_sync(hook, request_for("fly_delete_app"), None)
    assert isinstance(decision, Reject)
    assert decision.by == "hook error"
    assert "slack answered str" in decision.reason


def test_rejected_message_tells_the_model_not_to_retry() -> None:
    endpoint = ENDPOINTS["fly_delete_volume"]
    args = {"app_name": "web", "volume_id": "vol_abc123"}
    assert rejected_message(endpoint, args, Reject("keep the data", by="console")) == (
        "Not executed: fly_delete_volume on volume vol_abc123 in app web was rejected by "
        "console (keep the data). Nothing was sent to Fly. Do not retry unless the user asks."
    )
    assert "by deny_all. Nothing was sent" in rejected_message(
        endpoint, args, Reject("", by="deny_all")
    )
