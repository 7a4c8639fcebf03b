"""Per-agent policy: which groups and tools one agent may use; everything else is denied."""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.risk import GROUPS, Group, RiskTier

GroupLevel = Literal["off", "read", "full"]
"""``off``: none of the group; ``read``: its READ-tier tools; ``full``: all of it."""

ToolRule = Literal["allow", "deny"]
"""Per-tool override: ``allow`` grants one tool; ``deny`` removes it whatever else says."""

_LEVELS: tuple[str, ...] = get_args(GroupLevel)
_RULES: tuple[str, ...] = get_args(ToolRule)
_KEYS = ("agent_id", "groups", "tools")


@dataclass(frozen=True)
class AgentPolicy:
    """What one agent may do, deny by default. Composes with token scope (intersection).

    A tool is allowed when its group's level covers it (``full``: every tool, ``read``:
    READ-tier tools only) or the tool is listed ``allow``; a tool listed ``deny`` is never
    allowed. Groups not listed are ``off``.

    Example (TOML)::

        agent_id = "ops-bot"
        [groups]
        machines = "read"
        control = "full"
        [tools]
        fly_exec_machine = "deny"

    Raises:
        ValueError: for unknown group or tool names or levels, naming the valid ones.
    """

    agent_id: str
    groups: Mapping[Group, GroupLevel] = field(default_factory=dict)
    tools: Mapping[str, ToolRule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.agent_id, str) or not self.agent_id.strip():
            raise ValueError("a policy needs a non-empty agent_id")
        who = f"policy for {self.agent_id}"
        _check_names(self.groups, GROUPS, f"group in {who}")
        _check_values(self.groups, _LEVELS, f"group level in {who}")
        _check_names(self.tools, tuple(ENDPOINTS), f"tool in {who}")
        _check_values(self.tools, _RULES, f"tool rule in {who}")
        object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))
        object.__setattr__(self, "tools", MappingProxyType(dict(self.tools)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgentPolicy:
        """Build from ``{"agent_id": ..., "groups": {...}, "tools": {...}}``."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a policy must be a mapping; got {type(data).__name__}")
        _check_names(data, _KEYS, "policy key")
        groups = data.get("groups") or {}
        tools = data.get("tools") or {}
        for key, value in (("groups", groups), ("tools", tools)):
            if not isinstance(value, Mapping):
                raise ValueError(f"policy {key!r} must be a mapping of names to levels")
        return cls(agent_id=data.get("agent_id", ""), groups=groups, tools=tools)

    @classmethod
    def from_file(cls, path: str | Path) -> AgentPolicy:
        """Load a ``.toml``, ``.json``, ``.yaml`` or ``.yml`` policy file.

        Raises:
            ImportError: for YAML when PyYAML is not installed (``fly-tools[yaml]``).
            ValueError: for another suffix or an invalid policy.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        elif suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        elif suffix in (".yaml", ".yml"):
            data = _load_yaml(path.read_text(encoding="utf-8"))
        else:
            raise ValueError(f"policy file {path.name!r} must end in .toml, .json, .yaml or .yml")
        return cls.from_dict(data)

    def allows(self, endpoint: Endpoint) -> bool:
        """Whether this agent may call ``endpoint``."""
        return self.refusal(endpoint) is None

    def refusal(self, endpoint: Endpoint) -> str | None:
        """Why this agent may not call ``endpoint`` (a clause, no final period), or ``None``."""
        rule = self.tools.get(endpoint.name)
        if rule == "deny":
            return f"the policy for {self.agent_id} denies {endpoint.name}"
        if rule == "allow":
            return None
        level = self.groups.get(endpoint.group, "off")
        if level == "full" or (level == "read" and endpoint.risk is RiskTier.READ):
            return None
        if level == "read":
            return (
                f"the policy for {self.agent_id} grants only read access to the "
                f"{endpoint.group} group, and {endpoint.name} is {endpoint.risk.label}"
            )
        return (
            f"the policy for {self.agent_id} grants no access to the {endpoint.group} "
            f"group, so {endpoint.name} is not allowed"
        )


def _check_names(data: Iterable[Any], valid: Iterable[str], what: str) -> None:
    valid = tuple(valid)
    for name in data:
        if name not in valid:
            close = difflib.get_close_matches(str(name), valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown {what}: {name!r}{hint}; valid: {', '.join(valid)}")


def _check_values(data: Mapping[Any, Any], valid: tuple[str, ...], what: str) -> None:
    for name, value in data.items():
        if value not in valid:
            raise ValueError(f"unknown {what} {name}={value!r}; valid: {', '.join(valid)}")


def _load_yaml(text: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise ImportError(
            "reading a YAML policy needs PyYAML: pip install 'fly-tools[yaml]' "
            "(or use a .toml or .json policy)"
        ) from None
    return yaml.safe_load(text)
