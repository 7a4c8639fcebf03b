"""The fake's areas without HTTP: each is typed state with Fly's rules, usable on its own."""

from __future__ import annotations

import dataclasses
from typing import Any, get_type_hints

import pytest

from fly_tools.testing.addresses import IpAddresses
from fly_tools.testing.apps import App
from fly_tools.testing.certificates import ACME_DELAY, Certificates
from fly_tools.testing.clock import FakeClock
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakeNotFoundError,
    FakePreconditionFailedError,
    FakeUnprocessableError,
)
from fly_tools.testing.ids import IdSource
from fly_tools.testing.maintenance import memory, running, set_memory_limit
from fly_tools.testing.regions import place
from fly_tools.testing.secretkeys import SecretKeys, checked_type, new_nonce
from fly_tools.testing.state import FakeState
from fly_tools.testing.world import WEB_1, WEB_3, WEB_APP, seed_demo_world


def test_every_field_of_an_app_is_typed_no_untyped_bag_of_areas() -> None:
    hints = get_type_hints(App)
    assert "extras" not in hints
    assert [f.name for f in dataclasses.fields(App) if hints[f.name] == dict[str, Any]] == []


def test_an_app_owns_its_areas_and_they_go_with_it() -> None:
    fly = FakeState(FakeClock(), IdSource(0), app_ready_delay=0)
    app = fly.create_app("api", "acme")
    app.ip_addresses.assign("v6", fly.now(), fly.ids)
    app.certificates.request_acme("api.example.com", fly.now())
    fly.delete_app("api")
    again = fly.create_app("api", "acme")
    assert list(again.ip_addresses) == []
    assert again.certificates.by_hostname == {}


def test_addresses_keep_fly_s_rules_without_any_request() -> None:
    ips, ids = IpAddresses("api", "acme", 123_456, 60_494), IdSource(0)
    shared = ips.assign("shared_v4", 1.0, ids, region="ams")
    assert shared.region == "global"  # only dedicated addresses live in a region
    with pytest.raises(FakeUnprocessableError, match="already has a shared IPv4"):
        ips.assign("shared_v4", 2.0, ids)
    with pytest.raises(FakeBadRequestError, match="only for private_v6"):
        ips.assign("v6", 2.0, ids, network="n1")
    with pytest.raises(FakeBadRequestError, match="not the organization of api"):
        ips.assign("v6", 2.0, ids, org_slug="other")
    flycast = ips.assign("private_v6", 3.0, ids)
    ips.release(flycast.ip.upper())  # any spelling of the address finds it
    with pytest.raises(FakeNotFoundError):
        ips.release(flycast.ip)
    assert ips.of_types("shared_v4") == [shared.ip]


def test_an_acme_certificate_is_issued_on_the_clock_it_is_given() -> None:
    certs = Certificates("api", "app_1", "acme")
    cert = certs.request_acme("Shop.Example.com", now=100.0)
    assert certs.get("shop.example.com") is cert
    assert cert.status(100.0 + ACME_DELAY - 1, owned=False) == "pending_validation"
    assert cert.status(100.0 + ACME_DELAY, owned=False) == "active"
    with pytest.raises(FakeUnprocessableError, match="already exists"):
        certs.request_acme("shop.example.com", now=200.0)
    record = certs.ownership(cert)
    assert not record.proven({})
    assert record.proven({record.name: "org-acme"})


def test_secret_keys_seal_and_sign_and_refuse_the_wrong_use() -> None:
    keys, ids = SecretKeys(), IdSource(0)
    box = keys.put("box", checked_type("box", "nacl_secretbox"), bytes(32), now=1.0)
    sealed = box.usable_to("encrypt").seal(new_nonce(ids), b"hello", b"ad")
    assert box.open(sealed, b"ad") == b"hello"
    with pytest.raises(FakeBadRequestError, match="authentication failed"):
        box.open(sealed, b"other")
    with pytest.raises(FakeBadRequestError, match="cannot sign"):
        box.usable_to("sign")
    with pytest.raises(FakeBadRequestError, match="not implemented"):
        checked_type("k", "es256")
    assert [k.name for k in keys.listed(["hs256"])] == []


def test_the_memory_balloon_is_the_machine_s_own() -> None:
    fly = FakeState(FakeClock(), IdSource(0))
    seed_demo_world(fly)
    web_1 = fly.machine(WEB_APP, WEB_1)
    assert memory(web_1).limit_mb == 256
    set_memory_limit(web_1, 200, fly.now())
    assert (web_1.memory_limit_mb, memory(web_1).limit_mb) == (200, 200)
    with pytest.raises(FakeBadRequestError, match="between 1 and"):
        set_memory_limit(web_1, 512, fly.now())
    with pytest.raises(FakePreconditionFailedError):
        running(fly.machine(WEB_APP, WEB_3), "read the memory of")


def test_placements_fill_each_region_before_the_next() -> None:
    placed = place("lhr,eu", 150, None)
    assert [(p.region, p.count) for p in placed] == [("lhr", 100), ("ams", 50)]
    assert place("", 0, {"cpus": 4})[0].capacity == 25
    with pytest.raises(FakeBadRequestError, match="unknown region"):
        place("mars", 1, None)
