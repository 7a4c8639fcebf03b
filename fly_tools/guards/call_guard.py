"""The call-time guard: what a toolkit allows, checked again on every call."""

from __future__ import annotations

from dataclasses import dataclass

from fly_tools.catalogue import Endpoint
from fly_tools.guards.policy import AgentPolicy
from fly_tools.models.args import ExecMachineArgs, FlyArgs
from fly_tools.risk import Scope


@dataclass(frozen=True)
class CallGuard:
    """Scope, app binding, the toolkit's tool set, per-agent policy and the exec allow-list.

    The toolkit filters with the same rules when it builds its tools; the guard repeats
    them when a tool runs, so a tool taken out of its toolkit cannot reach further.
    """

    scope: Scope
    tool_names: frozenset[str]
    app: str | None = None
    policy: AgentPolicy | None = None
    exec_commands: frozenset[str] | None = None

    def refusal(self, endpoint: Endpoint, args: FlyArgs) -> str | None:
        """Why this call is not allowed, or ``None`` when it is."""
        if self.scope not in endpoint.scopes:
            return f"a {self.scope}-scoped token cannot call {endpoint.name}"
        if endpoint.name not in self.tool_names:
            return f"{endpoint.name} is not part of this toolkit"
        app = getattr(args, "app_name", None)
        if self.app is not None and app is not None and app != self.app:
            return f"this toolkit is bound to app {self.app!r} and cannot reach app {app!r}"
        if self.policy is not None:
            reason = self.policy.refusal(endpoint)
            if reason:
                return reason
        if self.exec_commands is not None and isinstance(args, ExecMachineArgs):
            program = args.command[0]
            if program not in self.exec_commands:
                allowed = ", ".join(sorted(self.exec_commands))
                return f"command {program!r} is not in the exec allow-list ({allowed})"
        return None
