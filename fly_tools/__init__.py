"""fly_tools: the Fly.io Machines API as LangChain tools, with guardrails and a fake Fly API.

Names are imported on first use, so ``fly-tools --help`` and ``import fly_tools`` stay
fast; ``from fly_tools import FlyToolkit`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fly_tools._version import __version__

if TYPE_CHECKING:
    from fly_tools.approvals import StoreApproval
    from fly_tools.catalogue import ENDPOINTS, Catalogue, Endpoint
    from fly_tools.client import (
        AsyncFlyClient,
        BadRequestError,
        ConfigurationError,
        ConflictError,
        FlyAPIError,
        FlyClient,
        FlyConnectionError,
        FlyError,
        FlyTimeoutError,
        ForbiddenError,
        InvalidArgumentsError,
        NotFoundError,
        RateLimitedError,
        RateLimiter,
        ServerError,
        UnauthorizedError,
        UnprocessableError,
        WaitTimeoutError,
    )
    from fly_tools.guards import (
        ActionRequest,
        AgentPolicy,
        Approve,
        AuditError,
        AuditLog,
        AuditRecord,
        AuditSink,
        CallContext,
        ConfirmHook,
        ConsoleApproval,
        Decision,
        Edit,
        JsonlSink,
        LoggingSink,
        MemorySink,
        MiddlewareApproval,
        Reject,
        approve_all,
        deny_all,
        format_trail,
        from_callback,
        interrupt_on,
        read_jsonl,
    )
    from fly_tools.guards.decisions import Pending
    from fly_tools.risk import GROUPS, SCOPES, Group, RiskTier, Scope
    from fly_tools.toolkit import FlyToolkit, select_endpoints
    from fly_tools.tools.runtime import FlyToolError, PreparedCall

_EXPORTS: dict[str, str] = {
    "ActionRequest": "fly_tools.guards",
    "AgentPolicy": "fly_tools.guards",
    "Pending": "fly_tools.guards.decisions",
    "StoreApproval": "fly_tools.approvals",
    "Approve": "fly_tools.guards",
    "AsyncFlyClient": "fly_tools.client",
    "AuditError": "fly_tools.guards",
    "AuditLog": "fly_tools.guards",
    "AuditRecord": "fly_tools.guards",
    "AuditSink": "fly_tools.guards",
    "BadRequestError": "fly_tools.client",
    "CallContext": "fly_tools.guards",
    "Catalogue": "fly_tools.catalogue",
    "ConfigurationError": "fly_tools.client",
    "ConfirmHook": "fly_tools.guards",
    "ConflictError": "fly_tools.client",
    "ConsoleApproval": "fly_tools.guards",
    "Decision": "fly_tools.guards",
    "ENDPOINTS": "fly_tools.catalogue",
    "Edit": "fly_tools.guards",
    "Endpoint": "fly_tools.catalogue",
    "FlyAPIError": "fly_tools.client",
    "FlyClient": "fly_tools.client",
    "FlyConnectionError": "fly_tools.client",
    "FlyError": "fly_tools.client",
    "FlyTimeoutError": "fly_tools.client",
    "FlyToolError": "fly_tools.tools.runtime",
    "FlyToolkit": "fly_tools.toolkit",
    "ForbiddenError": "fly_tools.client",
    "GROUPS": "fly_tools.risk",
    "Group": "fly_tools.risk",
    "InvalidArgumentsError": "fly_tools.client",
    "JsonlSink": "fly_tools.guards",
    "LoggingSink": "fly_tools.guards",
    "MemorySink": "fly_tools.guards",
    "MiddlewareApproval": "fly_tools.guards",
    "NotFoundError": "fly_tools.client",
    "PreparedCall": "fly_tools.tools.runtime",
    "RateLimitedError": "fly_tools.client",
    "RateLimiter": "fly_tools.client",
    "Reject": "fly_tools.guards",
    "RiskTier": "fly_tools.risk",
    "SCOPES": "fly_tools.risk",
    "Scope": "fly_tools.risk",
    "ServerError": "fly_tools.client",
    "UnauthorizedError": "fly_tools.client",
    "UnprocessableError": "fly_tools.client",
    "WaitTimeoutError": "fly_tools.client",
    "approve_all": "fly_tools.guards",
    "deny_all": "fly_tools.guards",
    "format_trail": "fly_tools.guards",
    "from_callback": "fly_tools.guards",
    "interrupt_on": "fly_tools.guards",
    "read_jsonl": "fly_tools.guards",
    "select_endpoints": "fly_tools.toolkit",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fly_tools' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ENDPOINTS",
    "GROUPS",
    "SCOPES",
    "ActionRequest",
    "AgentPolicy",
    "Approve",
    "AsyncFlyClient",
    "AuditError",
    "AuditLog",
    "AuditRecord",
    "AuditSink",
    "BadRequestError",
    "CallContext",
    "Catalogue",
    "ConfigurationError",
    "ConfirmHook",
    "ConflictError",
    "ConsoleApproval",
    "Decision",
    "Edit",
    "Endpoint",
    "FlyAPIError",
    "FlyClient",
    "FlyConnectionError",
    "FlyError",
    "FlyTimeoutError",
    "FlyToolError",
    "FlyToolkit",
    "ForbiddenError",
    "Group",
    "InvalidArgumentsError",
    "JsonlSink",
    "LoggingSink",
    "MemorySink",
    "MiddlewareApproval",
    "NotFoundError",
    "Pending",
    "PreparedCall",
    "RateLimitedError",
    "RateLimiter",
    "Reject",
    "RiskTier",
    "Scope",
    "ServerError",
    "StoreApproval",
    "UnauthorizedError",
    "UnprocessableError",
    "WaitTimeoutError",
    "__version__",
    "approve_all",
    "deny_all",
    "format_trail",
    "from_callback",
    "interrupt_on",
    "read_jsonl",
    "select_endpoints",
]
