"""Targets and decisions: what a hook is asked and what it may answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards import Approve, Edit, Reject, Target, target_of
from fly_tools.models.args import FlyArgs


@pytest.mark.parametrize(
    ("target", "text"),
    [
        (Target("machine", "web", "3d8d9015b23489"), "machine 3d8d9015b23489 in app web"),
        (Target("volume", "web", "vol_x"), "volume vol_x in app web"),
        (Target("secret", "web", "API_KEY"), "secret API_KEY in app web"),
        (Target("app", "web"), "app web"),
        (Target("org", None, "personal"), "organization personal"),
        (Target("org"), "the organization"),
        (Target("machine"), "a machine"),
    ],
)
def test_target_reads_as_english(target: Target, text: str) -> None:
    assert str(target) == text


def test_target_round_trips_through_dict() -> None:
    target = Target("volume", "web", "vol_x")
    assert Target.from_dict(target.to_dict()) == target
    with pytest.raises(ValueError, match="unknown target kind"):
        Target.from_dict({"kind": "cluster"})


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_target_of_every_endpoint(name: str, args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS[name]
    target = target_of(endpoint, args_for(endpoint))
    assert target.kind == endpoint.target
    expected_id = {
        "machine": "3d8d9015b23489",
        "volume": "vol_abc123",
        "secret": "DATABASE_URL",
        "secretkey": "DATABASE_URL",
        "certificate": "www.example.com",
        "ip": "137.66.1.2",
        "app": None,
        "platform": None,
        "org": "personal" if "org_slug" in endpoint.args_model.model_fields else None,
    }[endpoint.target]
    assert target.id == expected_id
    app_field = endpoint.args_model.model_fields.get("app_name")
    assert target.app == ("web" if app_field is not None and app_field.is_required() else None)


def test_target_of_raw_arguments_keeps_only_strings() -> None:
    endpoint = ENDPOINTS["fly_stop_machine"]
    assert target_of(endpoint, {"app_name": "web", "machine_id": 42}) == Target("machine", "web")
    assert target_of(endpoint, None) == Target("machine")


def test_decisions_carry_their_verdict_and_author() -> None:
    assert Approve().by == "unknown"
    assert (Approve.verdict, Edit.verdict, Reject.verdict) == ("approved", "edited", "rejected")
    assert Reject("no", by="alice").reason == "no"


def test_edit_needs_a_mapping_of_names() -> None:
    assert Edit({"signal": "SIGTERM"}).args == {"signal": "SIGTERM"}
    with pytest.raises(TypeError, match="mapping"):
        Edit(["signal"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="mapping"):
        Edit({1: "x"})  # type: ignore[dict-item]
