"""The catalogue matches the issue's table and Fly's OpenAPI spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import fly_tools
from fly_tools import ENDPOINTS, RiskTier

SPEC = json.loads(
    (Path(fly_tools.__file__).parent / "spec" / "fly-machines-openapi.json").read_text()
)

GROUPS = {
    "apps": ["fly_list_apps", "fly_get_app", "fly_create_app", "fly_delete_app"],
    "machines": [
        "fly_list_machines", "fly_get_machine", "fly_create_machine",
        "fly_update_machine", "fly_delete_machine",
    ],
    "control": [
        "fly_start_machine", "fly_stop_machine", "fly_restart_machine", "fly_suspend_machine",
        "fly_signal_machine", "fly_exec_machine", "fly_wait_machine",
    ],
    "info": ["fly_list_machine_processes", "fly_list_machine_events", "fly_list_machine_versions"],
    "leases": ["fly_acquire_lease", "fly_get_lease", "fly_release_lease"],
    "volumes": [
        "fly_list_volumes", "fly_get_volume", "fly_create_volume",
        "fly_extend_volume", "fly_delete_volume",
    ],
    "secrets": ["fly_list_secrets", "fly_set_secret", "fly_delete_secret"],
    "tokens": ["fly_request_oidc_token"],
}  # fmt: skip

TIERS = {
    RiskTier.READ: {
        "fly_list_apps", "fly_get_app", "fly_list_machines", "fly_get_machine",
        "fly_wait_machine", "fly_list_machine_processes", "fly_list_machine_events",
        "fly_list_machine_versions", "fly_get_lease", "fly_list_volumes", "fly_get_volume",
        "fly_list_secrets",
    },
    RiskTier.WRITE: {
        "fly_create_app", "fly_create_machine", "fly_start_machine", "fly_acquire_lease",
        "fly_release_lease", "fly_create_volume", "fly_set_secret", "fly_request_oidc_token",
    },
    RiskTier.DISRUPTIVE: {
        "fly_update_machine", "fly_stop_machine", "fly_restart_machine",
        "fly_suspend_machine", "fly_signal_machine",
    },
    RiskTier.DESTRUCTIVE: {
        "fly_delete_app", "fly_delete_machine", "fly_delete_volume", "fly_delete_secret",
        "fly_exec_machine", "fly_extend_volume",
    },
}  # fmt: skip


def _spec_operations() -> dict[str, tuple[str, str]]:
    ops = {}
    for path, methods in SPEC["paths"].items():
        for method, op in methods.items():
            ops[op["operationId"]] = (method.upper(), path)
    return ops


def test_exactly_31_records_in_group_order() -> None:
    assert len(ENDPOINTS) == 31
    assert [e.name for e in ENDPOINTS.records] == [n for names in GROUPS.values() for n in names]
    for group, names in GROUPS.items():
        assert [e.name for e in ENDPOINTS.in_group(group)] == names  # type: ignore[arg-type]


@pytest.mark.parametrize("endpoint", ENDPOINTS.records, ids=lambda e: e.name)
def test_method_and_path_match_the_spec(endpoint: fly_tools.Endpoint) -> None:
    assert _spec_operations()[endpoint.operation_id] == (endpoint.method, endpoint.path)


@pytest.mark.parametrize("endpoint", ENDPOINTS.records, ids=lambda e: e.name)
def test_path_parameters_are_model_fields(endpoint: fly_tools.Endpoint) -> None:
    assert endpoint.path_params <= set(endpoint.args_model.model_fields)


@pytest.mark.parametrize("endpoint", ENDPOINTS.records, ids=lambda e: e.name)
def test_every_field_has_a_description(endpoint: fly_tools.Endpoint) -> None:
    for name, field in endpoint.args_model.model_fields.items():
        assert field.description, f"{endpoint.name}.{name} has no description"
    assert 20 <= len(endpoint.description) <= 100


def test_tiers() -> None:
    for tier, names in TIERS.items():
        assert {e.name for e in ENDPOINTS.records if e.risk is tier} == names
    assert RiskTier.READ < RiskTier.WRITE < RiskTier.DISRUPTIVE < RiskTier.DESTRUCTIVE


def test_scopes() -> None:
    def reach(scope: str) -> set[str]:
        return {e.name for e in ENDPOINTS.records if scope in e.scopes}

    assert len(reach("org")) == 31
    assert reach("deploy") == set(ENDPOINTS) - {"fly_list_apps", "fly_create_app"}
    assert reach("readonly") == TIERS[RiskTier.READ]
    assert reach("machine-exec") == {"fly_exec_machine"}


def test_catalogue_is_immutable() -> None:
    endpoint = ENDPOINTS["fly_get_app"]
    with pytest.raises(AttributeError):
        endpoint.risk = RiskTier.DESTRUCTIVE  # type: ignore[misc]
    with pytest.raises(TypeError):
        ENDPOINTS["x"] = endpoint  # type: ignore[index]
    with pytest.raises(KeyError, match="no Fly endpoint named"):
        ENDPOINTS["fly_nope"]


def test_rate_classes() -> None:
    assert ENDPOINTS["fly_get_machine"].rate_class == "get_machine"
    assert ENDPOINTS["fly_delete_app"].rate_class == "app_delete"
    others = {e.rate_class for e in ENDPOINTS.records} - {"get_machine", "app_delete"}
    assert others == {"standard"}


def test_risk_tier_parse() -> None:
    assert RiskTier.parse("destructive") is RiskTier.DESTRUCTIVE
    assert RiskTier.parse(1) is RiskTier.WRITE
    with pytest.raises(ValueError, match="unknown risk tier"):
        RiskTier.parse("dangerous")
