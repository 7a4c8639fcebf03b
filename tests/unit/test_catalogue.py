"""Rules every catalogue record keeps, checked against Fly's OpenAPI spec; one tier snapshot."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

import fly_tools
from fly_tools import ENDPOINTS, RiskTier
from fly_tools.client.core import RequestPlan
from fly_tools.client.flows import call_flow
from fly_tools.client.settings import SecretToken
from fly_tools.risk import GROUPS
from tests.guards.conftest import TOKEN, sample_args

R, W, DI, DE = RiskTier.READ, RiskTier.WRITE, RiskTier.DISRUPTIVE, RiskTier.DESTRUCTIVE

SPEC = json.loads(
    (Path(fly_tools.__file__).parent / "spec" / "fly-machines-openapi.json").read_text()
)

# The one deliberate second signature of the catalogue: each tool's tier, said twice, so
# that a change of tier is a visible, reviewed edit of this snapshot as well.
TIERS: dict[str, RiskTier] = {
    "fly_list_apps": R,
    "fly_get_app": R,
    "fly_create_app": W,
    "fly_delete_app": DE,
    "fly_list_machines": R,
    "fly_get_machine": R,
    "fly_create_machine": W,
    "fly_update_machine": DI,
    "fly_delete_machine": DE,
    "fly_start_machine": W,
    "fly_stop_machine": DI,
    "fly_restart_machine": DI,
    "fly_suspend_machine": DI,
    "fly_signal_machine": DI,
    "fly_exec_machine": DE,
    "fly_wait_machine": R,
    "fly_list_machine_processes": R,
    "fly_list_machine_events": R,
    "fly_list_machine_versions": R,
    "fly_acquire_lease": W,
    "fly_get_lease": R,
    "fly_release_lease": W,
    "fly_list_volumes": R,
    "fly_get_volume": R,
    "fly_create_volume": W,
    "fly_extend_volume": DE,
    "fly_delete_volume": DE,
    "fly_list_secrets": R,
    "fly_set_secret": W,
    "fly_delete_secret": DE,
    "fly_request_oidc_token": W,
    "fly_list_certificates": R,
    "fly_get_certificate": R,
    "fly_request_acme_certificate": W,
    "fly_upload_custom_certificate": W,
    "fly_check_certificate": W,
    "fly_delete_certificate": DE,
    "fly_delete_acme_certificate": DE,
    "fly_delete_custom_certificate": DE,
    "fly_list_ip_assignments": R,
    "fly_assign_ip": DE,
    "fly_release_ip": DE,
    "fly_cordon_machine": DI,
    "fly_uncordon_machine": DI,
    "fly_get_machine_memory": R,
    "fly_set_machine_memory_limit": DI,
    "fly_reclaim_machine_memory": W,
    "fly_get_machine_metadata": R,
    "fly_update_machine_metadata": DI,
    "fly_get_machine_metadata_key": R,
    "fly_set_machine_metadata_key": DI,
    "fly_delete_machine_metadata_key": DI,
    "fly_list_secret_keys": R,
    "fly_get_secret_key": R,
    "fly_set_secret_key": DE,
    "fly_generate_secret_key": DE,
    "fly_delete_secret_key": DE,
    "fly_encrypt_with_secret_key": W,
    "fly_decrypt_with_secret_key": DE,
    "fly_sign_with_secret_key": DE,
    "fly_verify_with_secret_key": W,
    "fly_get_secret": R,
    "fly_update_secrets": DE,
    "fly_list_volume_snapshots": R,
    "fly_create_volume_snapshot": W,
    "fly_update_volume": W,
    "fly_list_regions": R,
    "fly_get_placements": R,
    "fly_list_org_machines": R,
    "fly_list_org_volumes": R,
    "fly_create_deploy_token": DE,
    "fly_request_kms_token": DE,
    "fly_get_current_token": R,
    "fly_authorize_token": R,
    "fly_authenticate_token": R,
}
RECORDS = pytest.mark.parametrize("endpoint", ENDPOINTS.records, ids=lambda e: e.name)
HOSTILE_IDS = ("../x", "a/b", "", "x" * 300, "web?x=1", "web%2F", "web\n")


def _spec_operations() -> dict[str, tuple[str, str]]:
    ops = {}
    for path, methods in SPEC["paths"].items():
        for method, op in methods.items():
            ops[op["operationId"]] = (method.upper(), path)
    return ops


def test_records_come_in_group_order_and_every_group_has_some() -> None:
    order = [GROUPS.index(e.group) for e in ENDPOINTS.records]
    assert order == sorted(order)
    assert {e.group for e in ENDPOINTS.records} == set(GROUPS)
    for group in GROUPS:
        assert all(e.group == group for e in ENDPOINTS.in_group(group))


@RECORDS
def test_names_are_fly_verb_object_and_operations_unique(endpoint: fly_tools.Endpoint) -> None:
    assert re.fullmatch(r"fly_[a-z]+(_[a-z]+)+", endpoint.name)
    same_operation = [e for e in ENDPOINTS.records if e.operation_id == endpoint.operation_id]
    assert same_operation == [endpoint]


@pytest.mark.parametrize("endpoint", ENDPOINTS.records, ids=lambda e: e.name)
def test_method_and_path_match_the_spec(endpoint: fly_tools.Endpoint) -> None:
    assert _spec_operations()[endpoint.operation_id] == (endpoint.method, endpoint.path)


@pytest.mark.parametrize("endpoint", ENDPOINTS.records, ids=lambda e: e.name)
def test_path_parameters_are_model_fields(endpoint: fly_tools.Endpoint) -> None:
    assert endpoint.path_params <= set(endpoint.args_model.model_fields)
    method, path = _spec_operations()[endpoint.operation_id]
    spec_op = SPEC["paths"][path][method.lower()]
    in_path = {p["name"] for p in spec_op.get("parameters", []) if p.get("in") == "path"}
    assert endpoint.path_params == in_path


@RECORDS
@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_every_path_identifier_is_validated(endpoint: fly_tools.Endpoint, hostile: str) -> None:
    valid = sample_args(endpoint).model_dump(exclude_none=True)
    endpoint.args_model.model_validate(valid)  # only the hostile value is wrong
    for param in endpoint.path_params:
        with pytest.raises(ValidationError):
            endpoint.args_model.model_validate({**valid, param: hostile})


# POSTs that change nothing (Fly computes an answer).
POST_READS = frozenset({"fly_get_placements", "fly_authorize_token", "fly_authenticate_token"})
# What any token may ask about itself, whatever its scope.
OWN_TOKEN = frozenset({"fly_get_current_token", "fly_authorize_token", "fly_authenticate_token"})


@RECORDS
def test_reads_are_gets_and_gets_are_reads(endpoint: fly_tools.Endpoint) -> None:
    exception = endpoint.name in POST_READS
    assert endpoint.read_only == ((endpoint.method == "GET") != exception)
    if endpoint.method in ("GET", "DELETE") or endpoint.name in POST_READS:
        assert endpoint.idempotent


@RECORDS
def test_gated_records_say_what_they_cost(endpoint: fly_tools.Endpoint) -> None:
    assert bool(endpoint.consequence) == (endpoint.risk >= RiskTier.DISRUPTIVE)


@RECORDS
def test_type_back_is_asked_for_irreversible_deletes_and_commands(
    endpoint: fly_tools.Endpoint,
) -> None:
    runs_a_command = "command" in endpoint.args_model.model_fields
    deletes = endpoint.method == "DELETE" and endpoint.risk is RiskTier.DESTRUCTIVE
    assert endpoint.type_back == (deletes or runs_a_command)
    if endpoint.type_back:
        assert endpoint.risk is RiskTier.DESTRUCTIVE


@RECORDS
def test_state_reads_name_a_read_of_the_same_target(endpoint: fly_tools.Endpoint) -> None:
    if endpoint.state_read is None:
        return
    read = ENDPOINTS[endpoint.state_read]
    assert read.read_only
    assert read.target == endpoint.target
    assert read.path_params <= endpoint.path_params


@RECORDS
def test_guest_output_is_declared_where_a_guest_writes_the_answer(
    endpoint: fly_tools.Endpoint,
) -> None:
    if "command" in endpoint.args_model.model_fields:
        assert endpoint.guest_output
    if endpoint.guest_output:
        assert endpoint.target == "machine"


@RECORDS
def test_every_flow_gets_the_model_it_reads(endpoint: fly_tools.Endpoint) -> None:
    flow = call_flow(
        endpoint, sample_args(endpoint), clock=lambda: 0.0, own_token=SecretToken(TOKEN)
    )
    plan = next(flow)
    assert isinstance(plan, RequestPlan)
    assert plan.endpoint.read_only or plan.endpoint is endpoint
    flow.close()


@RECORDS
def test_advice_overrides_are_for_error_statuses(endpoint: fly_tools.Endpoint) -> None:
    for status, advice in endpoint.advice.items():
        assert 400 <= status < 600
        assert advice.endswith(".")


@pytest.mark.parametrize("endpoint", ENDPOINTS.records, ids=lambda e: e.name)
def test_every_field_has_a_description(endpoint: fly_tools.Endpoint) -> None:
    for name, field in endpoint.args_model.model_fields.items():
        assert field.description, f"{endpoint.name}.{name} has no description"
    assert 20 <= len(endpoint.description) <= 100


def test_every_spec_operation_has_a_record() -> None:
    assert {e.operation_id for e in ENDPOINTS.records} == set(_spec_operations())


@RECORDS
def test_every_record_says_why_it_sits_in_its_tier(endpoint: fly_tools.Endpoint) -> None:
    assert 20 <= len(endpoint.tier_reason) <= 160
    assert endpoint.tier_reason.endswith(".")


@RECORDS
def test_opt_in_records_result_wording_names_what_it_shows(endpoint: fly_tools.Endpoint) -> None:
    if endpoint.result in ("item", "items"):
        assert endpoint.noun
    if endpoint.result == "items" and endpoint.rows_at is not None:
        assert "." not in endpoint.rows_at or endpoint.rows_at.replace(".", "").isidentifier()


def test_tiers_snapshot() -> None:
    assert {e.name: e.risk for e in ENDPOINTS.records} == TIERS
    assert RiskTier.READ < RiskTier.WRITE < RiskTier.DISRUPTIVE < RiskTier.DESTRUCTIVE


@RECORDS
def test_scopes(endpoint: fly_tools.Endpoint) -> None:
    # org tokens reach everything; deploy tokens are bound to apps, so not the org-wide
    # app collection or org-wide lists; readonly reaches exactly the reads; machine-exec
    # only commands, and (as every token) questions about itself.
    assert "org" in endpoint.scopes
    org_wide = endpoint.path == "/apps" or endpoint.path.startswith("/orgs/")
    assert ("deploy" in endpoint.scopes) == (not org_wide)
    assert ("readonly" in endpoint.scopes) == endpoint.read_only
    runs_a_command = "command" in endpoint.args_model.model_fields
    assert ("machine-exec" in endpoint.scopes) == (runs_a_command or endpoint.name in OWN_TOKEN)


def test_catalogue_is_immutable() -> None:
    endpoint = ENDPOINTS["fly_get_app"]
    with pytest.raises(AttributeError):
        endpoint.risk = RiskTier.DESTRUCTIVE  # type: ignore[misc]
    with pytest.raises(TypeError):
        ENDPOINTS["x"] = endpoint  # type: ignore[index]
    with pytest.raises(KeyError, match="no Fly endpoint named"):
        ENDPOINTS["fly_nope"]


@RECORDS
def test_rate_classes(endpoint: fly_tools.Endpoint) -> None:
    # Fly's documented exceptions to 1/s: reading one machine, and deleting apps.
    reads_one_machine = endpoint.method == "GET" and endpoint.path.endswith("{machine_id}")
    deletes_an_app = endpoint.method == "DELETE" and endpoint.path == "/apps/{app_name}"
    assert (endpoint.rate_class == "get_machine") == reads_one_machine
    assert (endpoint.rate_class == "app_delete") == deletes_an_app


def test_risk_tier_parse() -> None:
    assert RiskTier.parse("destructive") is RiskTier.DESTRUCTIVE
    assert RiskTier.parse(1) is RiskTier.WRITE
    with pytest.raises(ValueError, match="unknown risk tier"):
        RiskTier.parse("dangerous")
