"""Asking a confirmation hook, sync or async, failing closed; and the built-in hooks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from fly_tools.catalogue import Endpoint
from fly_tools.guards.decisions import (
    ActionRequest,
    Approve,
    ConfirmHook,
    Decision,
    Edit,
    Reject,
    target_of,
)

HOOK_ERROR = "hook error"
HOOK_TIMEOUT = "hook timeout"
_MAX_REASON = 300


def decide_sync(hook: ConfirmHook, request: ActionRequest, timeout: float | None) -> Decision:
    """Ask ``hook`` about ``request`` from synchronous code.

    An async hook is run to completion on a private event loop (in a worker thread when
    the calling thread already runs a loop). With a ``timeout`` the hook runs in a daemon
    thread, so a hook that never answers cannot hold the call, or the process, forever.

    Returns:
        The hook's decision; a :class:`Reject` by ``"hook error"`` when the hook raises or
        answers something that is not a decision, by ``"hook timeout"`` when it is late.
    """
    try:
        if timeout is None and not _loop_running():
            return _checked(_call_to_completion(hook, request, None))
        future = _in_daemon_thread(_call_to_completion, hook, request, timeout)
        return _checked(future.result(timeout))
    except TimeoutError:
        return _timed_out(timeout)
    except Exception as exc:
        return _hook_error(exc)


async def decide_async(
    hook: ConfirmHook, request: ActionRequest, timeout: float | None
) -> Decision:
    """Ask ``hook`` about ``request`` from async code, without blocking the event loop.

    An async hook is awaited; a sync hook runs in a daemon thread. Failures count as a
    rejection exactly as in :func:`decide_sync`.
    """
    try:
        return _checked(await asyncio.wait_for(_call_async(hook, request), timeout))
    except TimeoutError:
        return _timed_out(timeout)
    except Exception as exc:
        return _hook_error(exc)


def _call_to_completion(hook: ConfirmHook, request: ActionRequest, timeout: float | None) -> Any:
    answer = hook(request)
    if inspect.isawaitable(answer):
        return asyncio.run(asyncio.wait_for(_awaited(answer), timeout))
    return answer


async def _call_async(hook: ConfirmHook, request: ActionRequest) -> Any:
    if _is_async_callable(hook):
        answer: Any = hook(request)
    else:
        answer = await asyncio.wrap_future(_in_daemon_thread(hook, request))
    return await answer if inspect.isawaitable(answer) else answer


async def _awaited(answer: Awaitable[Any]) -> Any:
    return await answer


def _in_daemon_thread(fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
    # Not an executor: its threads are joined at exit, so a hung hook would hang the exit.
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name="fly-tools-confirm", daemon=True).start()
    return future


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _is_async_callable(hook: object) -> bool:
    call = getattr(type(hook), "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(call)


def _checked(answer: object) -> Decision:
    if isinstance(answer, Approve | Edit | Reject):
        return answer
    reason = f"the hook answered {type(answer).__name__}, not Approve, Edit or Reject"
    return Reject(reason=reason, by=HOOK_ERROR)


def _hook_error(exc: Exception) -> Reject:
    reason = f"the hook raised {type(exc).__name__}: {exc}"
    return Reject(reason=reason[:_MAX_REASON], by=HOOK_ERROR)


def _timed_out(timeout: float | None) -> Reject:
    return Reject(reason=f"no decision within {timeout:g} s", by=HOOK_TIMEOUT)


def rejected_message(endpoint: Endpoint, args: Any, decision: Reject) -> str:
    """What the model is told when a call was rejected: not done, and do not retry."""
    reason = f" ({decision.reason})" if decision.reason else ""
    target = target_of(endpoint, args)
    return (
        f"Not executed: {endpoint.name} on {target} was rejected by {decision.by}"
        f"{reason}. Nothing was sent to Fly. Do not retry unless the user asks."
    )


# ---------------------------------------------------------------- built-in hooks


def approve_all(request: ActionRequest) -> Decision:
    """Approve everything. For tests and scripts that have decided in advance."""
    return Approve(by="approve_all")


def deny_all(request: ActionRequest) -> Decision:
    """Reject everything. For tests, dry runs and read-mostly agents."""
    return Reject(reason="every gated action is refused by this toolkit", by="deny_all")


def from_callback(
    fn: Callable[[ActionRequest], bool | Decision | Awaitable[bool | Decision]], *, name: str
) -> ConfirmHook:
    """A hook from a function answering ``True``/``False`` or a decision, sync or async.

    ``True`` approves and ``False`` rejects, both by ``name``; a decision whose ``by`` is
    left ``"unknown"`` is attributed to ``name``. An async ``fn`` gives an async hook.
    """
    if inspect.iscoroutinefunction(fn):

        async def hook(request: ActionRequest) -> Decision:
            return _as_decision(await fn(request), name)

        return hook
    return _SyncCallbackHook(fn, name)


class _SyncCallbackHook:
    """A sync callback as a hook; an awaitable answer is converted once awaited."""

    def __init__(self, fn: Callable[[ActionRequest], Any], name: str) -> None:
        self._fn = fn
        self._name = name

    def __call__(self, request: ActionRequest) -> Decision | Awaitable[Decision]:
        answer = self._fn(request)
        if inspect.isawaitable(answer):
            return self._converted(answer)
        return _as_decision(answer, self._name)

    async def _converted(self, answer: Awaitable[Any]) -> Decision:
        return _as_decision(await answer, self._name)


def _as_decision(answer: object, name: str) -> Decision:
    if answer is True:
        return Approve(by=name)
    if answer is False:
        return Reject(reason=f"declined by {name}", by=name)
    if isinstance(answer, Approve | Edit | Reject):
        return replace(answer, by=name) if answer.by == "unknown" else answer
    raise TypeError(f"{name} answered {type(answer).__name__}; expected a bool or a decision")
