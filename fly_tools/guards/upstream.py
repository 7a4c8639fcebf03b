"""How an upstream reviewer (an agent's approval middleware) decided the call now running."""

from __future__ import annotations

from contextvars import ContextVar

from fly_tools.guards.decisions import Verdict

UPSTREAM_DECISION: ContextVar[tuple[Verdict, str] | None] = ContextVar(
    "fly_tools_upstream_decision", default=None
)
"""Set around a tool call by :class:`fly_tools.agents.FlyAuditMiddleware`: the verdict
(``approved`` or ``edited``) and who gave it, so the toolkit's audit record can say so."""
