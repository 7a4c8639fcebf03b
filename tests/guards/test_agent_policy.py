"""AgentPolicy: deny by default, group levels, tool overrides, loading, unknown names."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards import AgentPolicy
from fly_tools.risk import GROUPS, SCOPES, RiskTier


def allowed(policy: AgentPolicy) -> set[str]:
    return {e.name for e in ENDPOINTS.records if policy.allows(e)}


def test_nothing_is_allowed_by_default() -> None:
    policy = AgentPolicy("ops-bot")
    assert allowed(policy) == set()
    assert policy.refusal(ENDPOINTS["fly_list_apps"]) == (
        "the policy for ops-bot grants no access to the apps group, so fly_list_apps is not allowed"
    )


def test_group_levels_off_read_full() -> None:
    policy = AgentPolicy("ops-bot", groups={"machines": "full", "volumes": "read", "apps": "off"})
    machines = {e.name for e in ENDPOINTS.in_group("machines")}
    volume_reads = {e.name for e in ENDPOINTS.in_group("volumes") if e.risk is RiskTier.READ}
    assert allowed(policy) == machines | volume_reads
    assert policy.refusal(ENDPOINTS["fly_delete_volume"]) == (
        "the policy for ops-bot grants only read access to the volumes group, "
        "and fly_delete_volume is destructive"
    )


def test_tool_allow_adds_and_deny_always_wins() -> None:
    policy = AgentPolicy(
        "ops-bot",
        groups={"control": "full", "secrets": "read"},
        tools={"fly_exec_machine": "deny", "fly_set_secret": "allow", "fly_get_app": "allow"},
    )
    names = allowed(policy)
    assert "fly_exec_machine" not in names
    assert {"fly_stop_machine", "fly_set_secret", "fly_get_app", "fly_list_secrets"} <= names
    assert "fly_delete_secret" not in names
    assert policy.refusal(ENDPOINTS["fly_exec_machine"]) == (
        "the policy for ops-bot denies fly_exec_machine"
    )


def test_policy_intersects_with_token_scope() -> None:
    policy = AgentPolicy("ops-bot", groups=dict.fromkeys(GROUPS, "full"))
    for scope in SCOPES:
        names = [e.name for e in ENDPOINTS.records if scope in e.scopes and policy.allows(e)]
        assert names == [e.name for e in ENDPOINTS.records if scope in e.scopes]
    narrow = AgentPolicy("ops-bot", groups={"machines": "read"})
    reachable = {e.name for e in ENDPOINTS.records if "readonly" in e.scopes and narrow.allows(e)}
    machine_reads = {e.name for e in ENDPOINTS.in_group("machines") if e.read_only}
    assert reachable == machine_reads
    assert {"fly_list_machines", "fly_get_machine"} <= reachable


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"agent_id": "a", "groups": {"machine": "full"}},
            "unknown group in policy for a: 'machine' (did you mean 'machines'?); valid: apps, ",
        ),
        (
            {"agent_id": "a", "groups": {"apps": "write"}},
            "unknown group level in policy for a apps='write'; valid: off, read, full",
        ),
        (
            {"agent_id": "a", "tools": {"fly_delete_apps": "deny"}},
            "unknown tool in policy for a: 'fly_delete_apps' (did you mean 'fly_delete_app'?)",
        ),
        (
            {"agent_id": "a", "tools": {"fly_get_app": "yes"}},
            "unknown tool rule in policy for a fly_get_app='yes'; valid: allow, deny",
        ),
        ({"agent_id": "a", "group": {}}, "unknown policy key: 'group'"),
        ({"groups": {"apps": "read"}}, "non-empty agent_id"),
        ({"agent_id": "a", "groups": ["apps"]}, "'groups' must be a mapping"),
    ],
)
def test_unknown_names_are_errors_naming_the_valid_ones(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        AgentPolicy.from_dict(data)


def test_valid_tool_names_are_listed_in_the_error() -> None:
    with pytest.raises(ValueError, match="fly_request_oidc_token"):
        AgentPolicy("a", tools={"delete_everything": "allow"})


TOML = """
agent_id = "ops-bot"
[groups]
machines = "read"
control = "full"
[tools]
fly_exec_machine = "deny"
"""
JSON = """{"agent_id": "ops-bot", "groups": {"machines": "read", "control": "full"},
"tools": {"fly_exec_machine": "deny"}}"""
YAML = """
agent_id: ops-bot
groups:
  machines: read
  control: full
tools:
  fly_exec_machine: deny
"""


@pytest.mark.parametrize(
    ("suffix", "text"), [(".toml", TOML), (".json", JSON), (".yaml", YAML), (".yml", YAML)]
)
def test_files_in_every_format_load_the_same_policy(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"policy{suffix}"
    path.write_text(text, encoding="utf-8")
    policy = AgentPolicy.from_file(path)
    assert policy == AgentPolicy(
        "ops-bot",
        groups={"machines": "read", "control": "full"},
        tools={"fly_exec_machine": "deny"},
    )
    assert policy.allows(ENDPOINTS["fly_stop_machine"])
    assert not policy.allows(ENDPOINTS["fly_exec_machine"])
    assert not policy.allows(ENDPOINTS["fly_delete_machine"])


def test_unknown_suffix_and_missing_yaml_are_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = tmp_path / "policy.ini"
    ini.write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match=r"must end in \.toml, \.json, \.yaml or \.yml"):
        AgentPolicy.from_file(ini)
    yaml_file = tmp_path / "policy.yaml"
    yaml_file.write_text(YAML, encoding="utf-8")
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ImportError, match=r"fly-tools\[yaml\]"):
        AgentPolicy.from_file(yaml_file)


def test_a_policy_cannot_be_changed_after_it_is_built() -> None:
    groups = {"apps": "read"}
    policy = AgentPolicy("a", groups=groups)  # type: ignore[arg-type]
    groups["apps"] = "full"
    assert not policy.allows(ENDPOINTS["fly_delete_app"])
    with pytest.raises(TypeError):
        policy.groups["apps"] = "full"  # type: ignore[index]


# A later "allow" must not silently beat an earlier "deny" of the same tool.
DUPLICATES = {
    ".json": '{"agent_id": "a", "groups": {"control": "full"},\n'
    '"tools": {"fly_exec_machine": "deny", "fly_exec_machine": "allow"}}',
    ".yaml": "agent_id: a\ngroups:\n  control: full\ntools:\n"
    "  fly_exec_machine: deny\n  fly_exec_machine: allow\n",
    ".yml": "agent_id: a\nagent_id: b\ngroups: {control: full}\n",
    ".toml": 'agent_id = "a"\n[tools]\nfly_exec_machine = "deny"\nfly_exec_machine = "allow"\n',
}


@pytest.mark.parametrize("suffix", DUPLICATES)
def test_a_key_given_twice_is_refused_naming_the_key(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"policy{suffix}"
    path.write_text(DUPLICATES[suffix], encoding="utf-8")
    key = "agent_id" if suffix == ".yml" else "fly_exec_machine"
    with pytest.raises(ValueError, match=re.escape(path.name)) as info:
        AgentPolicy.from_file(path)
    assert key in str(info.value)
    assert "twice" in str(info.value)


@pytest.mark.parametrize(("suffix", "text"), [(".json", "{"), (".yaml", "a: [b")])
def test_unparsable_files_name_the_file(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.(json|yaml).* is not valid"):
        AgentPolicy.from_file(path)


def test_coerce_accepts_a_policy_a_mapping_a_path_or_none(tmp_path: Path) -> None:
    policy = AgentPolicy("ops-bot", groups={"machines": "read"})
    path = tmp_path / "policy.toml"
    path.write_text(TOML, encoding="utf-8")
    assert AgentPolicy.coerce(None) is None
    assert AgentPolicy.coerce(policy) is policy
    assert AgentPolicy.coerce({"agent_id": "ops-bot", "groups": {"machines": "read"}}) == policy
    assert AgentPolicy.coerce(path) == AgentPolicy.from_file(path)
    assert AgentPolicy.coerce(str(path)) == AgentPolicy.from_file(path)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ({"agent_id": "a", "group": {"apps": "full"}}, ValueError, "unknown policy key: 'group'"),
        (
            {"agent_id": "a", "tools": {"fly_exec_machnie": "allow"}},
            ValueError,
            "did you mean 'fly_exec_machine'?",
        ),
        (["agent_id", "a"], TypeError, "policy must be an AgentPolicy, a mapping"),
        (42, TypeError, "got int"),
    ],
)
def test_coerce_is_as_strict_as_from_dict(
    value: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        AgentPolicy.coerce(value)  # type: ignore[arg-type]


def test_a_toolkit_refuses_a_policy_mapping_with_a_misspelt_key() -> None:
    # Fails closed: a misspelt "groups" must not leave an agent with a default policy.
    from fly_tools import FlyToolkit
    from fly_tools.testing import FakeFly

    client = FakeFly.demo().client("org")
    with pytest.raises(ValueError, match="unknown policy key: 'gruops'"):
        FlyToolkit(client=client, scope="org", policy={"agent_id": "a", "gruops": {}})
    kit = FlyToolkit(
        client=client, scope="org", policy={"agent_id": "a", "groups": {"apps": "read"}}
    )
    assert kit.tool_names == ["fly_list_apps", "fly_get_app"]
