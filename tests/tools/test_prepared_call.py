"""One prepared-call type fills in the bound app, validates, and carries the digest and the
machine version a decision is bound to."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fly_tools import FlyToolkit, approve_all
from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards.prepared import PreparedCall
from fly_tools.risk import RiskTier
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1

STOP = ENDPOINTS["fly_stop_machine"]
REGIONS = ENDPOINTS["fly_list_regions"]


def test_the_bound_app_is_filled_in_only_where_the_caller_named_none() -> None:
    raw = {"machine_id": WEB_1}
    assert PreparedCall.arguments(STOP, raw, "web") == {"machine_id": WEB_1, "app_name": "web"}
    assert raw == {"machine_id": WEB_1}  # the caller's input is left as it came
    other = PreparedCall.arguments(STOP, {"app_name": "db", "machine_id": WEB_1}, "web")
    assert other["app_name"] == "db"  # kept as given, so the guard refuses it
    assert PreparedCall.arguments(REGIONS, {}, "web") == {}  # it takes no app
    assert PreparedCall.arguments(STOP, raw, None) == raw


def test_another_app_is_told_apart_from_the_bound_one() -> None:
    assert PreparedCall.names_other_app({"app_name": "db"}, "web")
    assert not PreparedCall.names_other_app({}, "web")
    assert not PreparedCall.names_other_app({"app_name": "web"}, "web")
    assert not PreparedCall.names_other_app({"app_name": "db"}, None)


def test_validation_fills_in_the_app_and_refuses_a_redacted_placeholder() -> None:
    args = PreparedCall.validate(STOP, {"machine_id": WEB_1}, "web")
    assert args.model_dump()["app_name"] == "web"
    secret = {"secret_name": "API_KEY", "value": "[redacted]"}
    with pytest.raises(ValidationError, match="placeholder"):
        PreparedCall.validate(ENDPOINTS["fly_set_secret"], secret, "web")


def test_a_prepared_gated_call_carries_the_digest_and_version_its_receipt_binds() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        confirm=approve_all,
        confirm_at=RiskTier.DISRUPTIVE,
    )
    prepared = toolkit.prepare("fly_stop_machine", {"machine_id": WEB_1})
    assert prepared.request is not None
    assert prepared.args is not None
    assert prepared.digest == toolkit.runtime.receipts.digest(STOP, prepared.args) != ""
    assert prepared.version == fake.state.machine("web", WEB_1).version
    assert prepared.version == prepared.request.version


def test_a_call_not_asked_about_has_no_digest_or_version() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.client(scope="org"), scope="org", confirm=approve_all)
    read = toolkit.prepare("fly_get_machine", {"app_name": "web", "machine_id": WEB_1})
    assert not read.gated
    assert (read.digest, read.version) == ("", None)
