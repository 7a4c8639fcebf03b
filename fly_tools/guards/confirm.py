"""Asking a confirmation hook, sync or async, failing closed; and the built-in hooks."""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import inspect
import json
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, TextIO

from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards.decisions import (
    ActionRequest,
    Approve,
    ConfirmHook,
    Decision,
    Edit,
    Reject,
    target_of,
)
from fly_tools.guards.redact import REDACTED, contains_redacted
from fly_tools.risk import RiskTier

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


def rejected_message(request: ActionRequest, decision: Reject) -> str:
    """What the model is told when a call was rejected: not done, and do not retry."""
    reason = f" ({decision.reason})" if decision.reason else ""
    return (
        f"Not executed: {request.tool} on {request.target} was rejected by {decision.by}"
        f"{reason}. Do not retry unless the user asks."
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


class ConsoleApproval:
    """Ask at the console: shows the action, then approve (``y``), edit (``e``) or reject.

    Irreversible deletes (``fly_delete_app``, ``_machine``, ``_volume``, ``_secret``) also
    need the target's name or id typed back. End of input, or any other answer, rejects.
    """

    def __init__(
        self,
        *,
        input: Callable[[str], str] = builtins.input,
        output: TextIO = sys.stdout,
        name: str = "console",
    ) -> None:
        self._input = input
        self._output = output
        self.name = name

    def __call__(self, request: ActionRequest) -> Decision:
        """Show ``request`` and return the person's decision."""
        self._show(request)
        answer = self._ask("Approve? [y]es / [e]dit / [n]o: ")
        if answer is None:
            return Reject(reason="no answer (end of input)", by=self.name)
        if answer.lower() in ("y", "yes"):
            return self._confirm_typed(request.tool, request.args, Approve(by=self.name))
        if answer.lower() in ("e", "edit"):
            return self._edit(request)
        reason = "declined" if answer.lower() in ("n", "no") else f"answer {answer!r} is not y/e/n"
        return Reject(reason=reason, by=self.name)

    def _show(self, request: ActionRequest) -> None:
        agent = f" for {request.agent_id}" if request.agent_id else ""
        lines = [
            f"--- Approval needed{agent}: {request.tool} ({request.risk.label}) ---",
            request.description,
            f"  target: {request.target}",
            f"  args:   {json.dumps(dict(request.args), default=str)}",
        ]
        print("\n".join(lines), file=self._output, flush=True)

    def _ask(self, prompt: str) -> str | None:
        print(prompt, end="", file=self._output, flush=True)
        try:
            return self._input("").strip()
        except EOFError:
            return None

    def _edit(self, request: ActionRequest) -> Decision:
        text = self._ask("Arguments to change, as a JSON object: ")
        if text is None:
            return Reject(reason="no answer (end of input)", by=self.name)
        try:
            changes = json.loads(text)
        except json.JSONDecodeError:
            changes = None
        if not isinstance(changes, dict):
            return Reject(reason="the edit was not a JSON object", by=self.name)
        args = {**request.args, **changes}
        if contains_redacted(args):
            reason = f"the edit must give every {REDACTED} value again"
            return Reject(reason=reason, by=self.name)
        return self._confirm_typed(request.tool, args, Edit(args=args, by=self.name))

    def _confirm_typed(self, tool: str, args: Mapping[str, Any], decision: Decision) -> Decision:
        expected = _name_to_type(tool, args)
        if expected is None:
            return decision
        typed = self._ask(f"This cannot be undone. Type {expected} to confirm: ")
        if typed and typed == expected:
            return decision
        return Reject(reason=f"confirmation did not match {expected!r}", by=self.name)


def _name_to_type(tool: str, args: Mapping[str, Any]) -> str | None:
    """The name a person types to approve an irreversible delete; ``None`` for other calls."""
    endpoint = ENDPOINTS.get(tool)
    if endpoint is None or endpoint.risk < RiskTier.DESTRUCTIVE or "_delete_" not in tool:
        return None
    target = target_of(endpoint, args)
    return (target.app if target.kind == "app" else target.id) or ""
