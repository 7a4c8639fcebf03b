"""The two demo variants: the fake Fly API with a deploy toolkit, and live with a readonly one."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from langchain_core.language_models import BaseChatModel
from pydantic import ValidationError

from fly_tools.client import ConfigurationError
from fly_tools.client.settings import TOKEN_ENV_VARS
from fly_tools.demo.agent import DemoReport, Reviewer, run_agent
from fly_tools.demo.plans import first_line, operator_model, reporter_model
from fly_tools.guards import AuditLog, MemorySink, format_trail, interrupt_on
from fly_tools.guards.decisions import MiddlewareApproval
from fly_tools.toolkit import FlyToolkit

if TYPE_CHECKING:
    from fly_tools.testing import FakeFly

MODEL_ENV = "FLY_TOOLS_MODEL"
"""Names a chat model for ``init_chat_model`` (``provider:model`` or e.g. ``gpt-4o``); unset = the scripted model."""
AGENT_ID = "ops-bot"
TASK = (
    "Find the stopped machine in {app}, start it and wait until it is started; "
    "then remove the volume nothing uses."
)
LIVE_TASK = (
    "Report on app {app}: its machines and volumes, and anything stopped or not attached "
    "to a machine. Change nothing."
)
SCRIPTED_LABEL = "scripted model (a fixed plan that reads the tool results; not a language model)"


class DemoError(Exception):
    """The demo cannot start; the message is one line saying why and what to do."""


def load_model(spec: str) -> BaseChatModel:
    """A chat model named as ``init_chat_model`` takes it: ``provider:model``, or a model
    name whose provider it infers (``gpt-4o``, ``claude-sonnet-4-5``).

    Raises:
        DemoError: an empty name, or a model that cannot be loaded (an unknown provider,
            its package not installed, no credentials).
    """
    if not spec.strip(" :"):
        raise DemoError(f"{MODEL_ENV}={spec!r} names no model; use provider:model or a model name")
    try:
        from langchain.chat_models import init_chat_model

        return init_chat_model(spec.strip())
    except Exception as exc:  # whatever the provider raises, the user gets one line
        reason = first_line(str(exc)) or type(exc).__name__
        raise DemoError(
            f"{MODEL_ENV}={spec}: cannot load this model ({reason}); install the provider's "
            f"LangChain package and its credentials, or unset {MODEL_ENV} for the scripted model"
        ) from None


def model_from_env(env: Mapping[str, str] | None = None) -> BaseChatModel | None:
    """The model named by ``FLY_TOOLS_MODEL``, or ``None`` when it is unset."""
    spec = (os.environ if env is None else env).get(MODEL_ENV, "").strip()
    return load_model(spec) if spec else None


def run_demo(
    *,
    reviewer: Reviewer,
    app: str = "web",
    model: BaseChatModel | None = None,
    fake: FakeFly | None = None,
    out: TextIO | None = None,
    store: str | None = None,
) -> DemoReport:
    """The demo on the fake Fly API: start the stopped machine, delete the unused volume.

    Args:
        reviewer: answers the pause before the destructive delete.
        app: the demo world's app to work on (``web`` or ``worker``).
        model: a chat model; the scripted operator when ``None``.
        fake: the :class:`~fly_tools.testing.FakeFly` to use (a new demo world by default).
        out: where to print (stdout by default).
        store: an approvals store (a SQLite path or ``redis://`` URL): the delete is left
            pending there instead of asked about, and the demo exits; after
            ``fly-tools approvals approve ID --store ...`` from any terminal, running the
            demo again with the same store carries the delete out.

    Raises:
        DemoError: ``app`` is not in the demo world.
    """
    from fly_tools.testing import FakeFly

    out = out or sys.stdout
    fake = fake or FakeFly.demo()
    if app not in fake.state.apps:
        known = ", ".join(sorted(fake.state.apps))
        raise DemoError(f"app {app!r} is not in the demo world; use one of: {known}")
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app=app),
        scope="deploy",
        app=app,
        confirm=_store_hook(store) if store else MiddlewareApproval(),
        agent_id=AGENT_ID,
        audit=AuditLog(MemorySink()),
    )
    task = TASK.format(app=app)
    _header(
        out, model, f"the embedded fake (demo world, org {fake.org}), in-process", toolkit, task
    )
    report = _run_agent(model, model or operator_model(app), toolkit, task, reviewer, out)
    report.requests = [f"{r.method} {r.path} {r.status}" for r in fake.requests]
    _footer(out, report, f"Requests that reached the fake Fly API: {len(report.requests)}")
    if store:
        _pending_note(report, store, out)
    return report


def _store_hook(store: str) -> Any:
    from fly_tools.approvals import StoreApproval, open_store

    return StoreApproval(open_store(store))


def _pending_note(report: DemoReport, store: str, out: TextIO) -> None:
    pending = [r for r in report.records if r.decision == "pending"]
    if not pending:
        return
    print(
        f"\nThe delete is pending in {store}. From any terminal:\n"
        f"  fly-tools approvals list --store {store}\n"
        f"  fly-tools approvals approve ID --store {store} --by YOUR-NAME\n"
        f"then run `fly-tools demo --store {store}` again: the approved delete runs once.",
        file=out,
    )


def run_live(
    *,
    reviewer: Reviewer,
    app: str | None = None,
    model: BaseChatModel | None = None,
    out: TextIO | None = None,
) -> DemoReport:
    """A read-only report on one app on the real Fly API, with a readonly-scoped toolkit.

    Raises:
        DemoError: no token in ``FLY_API_TOKEN`` (or ``FLY_ACCESS_TOKEN``), no app, or a
            malformed token or base URL.
    """
    out = out or sys.stdout
    if not any(os.environ.get(name, "").strip() for name in TOKEN_ENV_VARS):
        raise DemoError(
            "--live needs a Fly API token in FLY_API_TOKEN "
            "(create one with `fly tokens create readonly` or `fly tokens create deploy -a APP`)"
        )
    app = app or os.environ.get("FLY_APP_NAME") or None
    if app is None:
        raise DemoError("--live needs --app NAME: the app to report on")
    try:
        toolkit = FlyToolkit.from_env(
            scope="readonly",
            app=app,
            agent_id=AGENT_ID,
            audit=AuditLog(MemorySink()),
            confirm=MiddlewareApproval(),
        )
    except ValidationError as exc:
        raise DemoError(f"--app {app!r}: {exc.errors()[0]['msg']}") from None
    except ConfigurationError as exc:
        raise DemoError(first_line(str(exc))) from None
    task = LIVE_TASK.format(app=app)
    _header(out, model, f"live, {toolkit.client.base_url}", toolkit, task)
    report = _run_agent(model, model or reporter_model(app), toolkit, task, reviewer, out)
    answered = sum(record.outcome == "ok" for record in report.records)
    calls = f"Calls to Fly (all reads): {len(report.records)}, {answered} answered"
    _footer(out, report, calls)
    return report


def _run_agent(
    named: BaseChatModel | None,
    model: BaseChatModel,
    toolkit: FlyToolkit,
    task: str,
    reviewer: Reviewer,
    out: TextIO,
) -> DemoReport:
    """:func:`run_agent`; a named model that fails (no network, a bad key) is one line."""
    try:
        return run_agent(model, toolkit, task, reviewer, out)
    except Exception as exc:
        if named is None:  # the scripted model: a failure here is a bug, shown whole
            raise
        reason = first_line(str(exc)) or "no message"
        raise DemoError(
            f"the model from {MODEL_ENV} ({_model_name(named)}) failed: "
            f"{type(exc).__name__}: {reason}; check its network and credentials, or unset "
            f"{MODEL_ENV} for the scripted model"
        ) from None


def failed_calls(report: DemoReport) -> str:
    """One line saying how many of the run's calls to Fly failed and why; empty if none did."""
    failed = [r for r in report.records if r.outcome in ("error", "unknown")]
    if not failed:
        return ""
    why = first_line(failed[0].error or "") or "no reason recorded"
    return f"{len(failed)} of {len(report.records)} calls to Fly failed; the first: {why}"


def _header(
    out: TextIO, model: BaseChatModel | None, api: str, toolkit: FlyToolkit, task: str
) -> None:
    gated = len(interrupt_on(toolkit.get_tools()))
    bound = f" bound to app {toolkit.app}" if toolkit.app else ""
    print("fly-tools demo", file=out)
    print(f"  model:   {SCRIPTED_LABEL if model is None else _model_name(model)}", file=out)
    print(f"  Fly API: {api}", file=out)
    print(
        f"  toolkit: {toolkit.scope} scope{bound}: {len(toolkit.tool_names)} tools, "
        f"{gated} of them pause for a human",
        file=out,
    )
    print(f"  task:    {task}\n", file=out, flush=True)


def _model_name(model: BaseChatModel) -> str:
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    return f"{type(model).__name__} {name}" if name else type(model).__name__


def _footer(out: TextIO, report: DemoReport, requests_title: str) -> None:
    print(f"\nAnswer:\n  {report.answer or '(none)'}", file=out)
    print("\nAudit trail:", file=out)
    print(format_trail(report.records), file=out)
    print(f"\n{requests_title}", file=out)
    for line in report.requests:
        print(f"  {line}", file=out)
    out.flush()
