"""Per-agent policy: which groups and tools one agent may use; everything else is denied."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

from fly_tools.catalogue import ENDPOINTS, Catalogue, Endpoint
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

    Tool names are checked against ``catalogue``: the package's own unless given. A
    toolkit re-checks a policy against its own catalogue (:meth:`for_catalogue`), so a
    policy may name the tools of a wider catalogue the toolkit was built from.

    Raises:
        ValueError: for unknown group or tool names or levels, naming the valid ones.
    """

    agent_id: str
    groups: Mapping[Group, GroupLevel] = field(default_factory=dict)
    tools: Mapping[str, ToolRule] = field(default_factory=dict)
    catalogue: Catalogue = field(default_factory=lambda: ENDPOINTS, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.agent_id, str) or not self.agent_id.strip():
            raise ValueError("a policy needs a non-empty agent_id")
        who = f"policy for {self.agent_id}"
        _check_names(self.groups, GROUPS, f"group in {who}")
        _check_values(self.groups, _LEVELS, f"group level in {who}")
        if not isinstance(self.catalogue, Catalogue):
            raise TypeError(f"a policy's catalogue must be a Catalogue; got {self.catalogue!r}")
        _check_names(self.tools, self.catalogue, f"tool in {who}")
        _check_values(self.tools, _RULES, f"tool rule in {who}")
        object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))
        object.__setattr__(self, "tools", MappingProxyType(dict(self.tools)))

    def for_catalogue(self, catalogue: Catalogue) -> AgentPolicy:
        """This policy with its tool names checked against ``catalogue`` (a toolkit's).

        Raises:
            ValueError: a tool the policy names is not in ``catalogue``.
        """
        return self if catalogue is self.catalogue else replace(self, catalogue=catalogue)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, catalogue: Catalogue = ENDPOINTS) -> AgentPolicy:
        """Build from ``{"agent_id": ..., "groups": {...}, "tools": {...}}``; tool names
        are checked against ``catalogue``."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a policy must be a mapping; got {type(data).__name__}")
        _check_names(data, _KEYS, "policy key")
        groups = data.get("groups") or {}
        tools = data.get("tools") or {}
        for key, value in (("groups", groups), ("tools", tools)):
            if not isinstance(value, Mapping):
                raise ValueError(f"policy {key!r} must be a mapping of names to levels")
        agent_id = data.get("agent_id", "")
        return cls(agent_id=agent_id, groups=groups, tools=tools, catalogue=catalogue)

    @classmethod
    def from_file(cls, path: str | Path, *, catalogue: Catalogue = ENDPOINTS) -> AgentPolicy:
        """Load a ``.toml``, ``.json``, ``.yaml`` or ``.yml`` policy file (tool names
        checked against ``catalogue``).

        A key given twice in one mapping is an error in every format: otherwise a later
        ``allow`` would silently beat an earlier ``deny``.

        Raises:
            ImportError: for YAML when PyYAML is not installed (``fly-tools[yaml]``).
            ValueError: for another suffix, a duplicate key or an invalid policy.
        """
        import tomllib  # only policy files need it: not on a toolkit's import path

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".toml", ".json", ".yaml", ".yml"):
            raise ValueError(f"policy file {path.name!r} must end in .toml, .json, .yaml or .yml")
        text = path.read_text(encoding="utf-8")
        try:
            if suffix == ".toml":
                data = tomllib.loads(text)
            elif suffix == ".json":
                data = json.loads(text, object_pairs_hook=_unique_keys)
            else:
                data = _load_yaml(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            why = _toml_duplicate(text, str(exc)) or f"is not valid {suffix[1:]}: {exc}"
            raise ValueError(f"policy file {path.name!r} {why}") from None
        except _FileError as exc:
            raise ValueError(f"policy file {path.name!r} {exc}") from None
        return cls.from_dict(data, catalogue=catalogue)

    @classmethod
    def coerce(
        cls,
        value: AgentPolicy | Mapping[str, Any] | str | Path | None,
        *,
        catalogue: Catalogue = ENDPOINTS,
    ) -> AgentPolicy | None:
        """A policy from what a caller may pass: a policy, a mapping or a file path.

        Mappings go through :meth:`from_dict` and paths through :meth:`from_file`, so a
        misspelt key is refused here as it is there. Tool names are checked against
        ``catalogue`` (a toolkit passes its own), a given policy's included.

        Raises:
            TypeError: for any other kind of value.
            ValueError: for an invalid policy.
        """
        if value is None:
            return None
        if isinstance(value, AgentPolicy):
            return value.for_catalogue(catalogue)
        if isinstance(value, Mapping):
            return cls.from_dict(value, catalogue=catalogue)
        if isinstance(value, str | Path):
            return cls.from_file(value, catalogue=catalogue)
        raise TypeError(
            "policy must be an AgentPolicy, a mapping like {'agent_id': ..., 'groups': {...}} "
            f"or the path of a policy file; got {type(value).__name__}"
        )

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


def _check_names(data: Iterable[Any], valid: Collection[str], what: str) -> None:
    for name in data:
        if name not in valid:
            names = tuple(valid)  # only now: listing a catalogue loads every area
            close = difflib.get_close_matches(str(name), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown {what}: {name!r}{hint}; valid: {', '.join(names)}")


def _check_values(data: Mapping[Any, Any], valid: tuple[str, ...], what: str) -> None:
    for name, value in data.items():
        if value not in valid:
            raise ValueError(f"unknown {what} {name}={value!r}; valid: {', '.join(valid)}")


class _FileError(ValueError):
    """What is wrong inside a policy file; the message follows the file's name."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _FileError(f"has the key {key!r} twice; give each key once")
        seen[key] = value
    return seen


def _toml_duplicate(text: str, message: str) -> str | None:
    # tomllib refuses a repeated key but does not name it: name it from the line it points at.
    found = re.match(r"Cannot (?:overwrite|declare) .*\(at line (\d+), column \d+\)", message)
    if found is None:
        return None
    number = int(found.group(1))
    lines = text.splitlines()
    line = lines[number - 1] if number <= len(lines) else ""
    key = line.split("=", 1)[0].strip().strip("[]").strip() or "?"
    return f"has the key {key!r} twice (line {number}); give each key once"


def _load_yaml(text: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise ImportError(
            "reading a YAML policy needs PyYAML: pip install 'fly-tools[yaml]' "
            "(or use a .toml or .json policy)"
        ) from None

    # PyYAML's safe loader, except that a repeated key is an error, not "last wins".
    loader: type[yaml.SafeLoader] = type("UniqueKeyLoader", (yaml.SafeLoader,), {})
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise _FileError(f"is not valid yaml: {exc}") from None


def _unique_mapping(loader: Any, node: Any) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    keys = [loader.construct_object(key, deep=True) for key, _ in node.value]
    for index, (key, (key_node, _)) in enumerate(zip(keys, node.value, strict=True)):
        if key in keys[:index]:
            line = key_node.start_mark.line + 1
            raise _FileError(f"has the key {key!r} twice (line {line}); give each key once")
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    return mapping
