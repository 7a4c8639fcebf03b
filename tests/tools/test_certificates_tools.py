"""Certificate and IP address tools through the toolkit: what reaches the fake, what is asked, what never leaks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from fly_tools import ENDPOINTS, FlyToolkit
from fly_tools.testing import FakeFly
from tests.fake.tour_certificates import FULLCHAIN, PRIVATE_KEY
from tests.tools.doubles import AreaKit, Hook, Tracer

GROUPS = ["certificates", "network"]
AREA = [e for e in ENDPOINTS.records if e.group in GROUPS]
AREA_NAMES = {e.name for e in AREA}
KEY_TEXT = PRIVATE_KEY.splitlines()[1]
"""The key's base64 body: searched for in everything the toolkit lets out."""
HOSTILE = ("../x", "a/b", "%2e", "x" * 300, "a.example.com\n", "a\x00.example.com", "")


class Setup(AreaKit):
    def __init__(self, approve: bool = True) -> None:
        super().__init__(GROUPS, approve=approve)

    def sent(self) -> list[Any]:
        """The requests to this area's endpoints (not the token's scope check)."""
        return [r for r in self.fake.requests if r.endpoint in AREA_NAMES]

    def seed(self, name: str, args: dict[str, Any]) -> Any:
        """Set the world up straight through a client, outside the log under test."""
        result = self.fake.client().call(name, args)
        self.fake.clear_requests()
        return result


@pytest.fixture
def s() -> Setup:
    return Setup()


def test_the_default_toolkit_leaves_these_tools_out() -> None:
    names = FlyToolkit(client=FakeFly.demo().client(), scope="org").tool_names
    assert not {e.name for e in AREA} & set(names)
    toolkit = FlyToolkit(client=FakeFly.demo().client(), scope="org", groups=GROUPS)
    assert toolkit.tool_names == [e.name for e in AREA]


def test_readonly_scope_gets_only_the_reads() -> None:
    toolkit = FlyToolkit(client=FakeFly.demo().client(), scope="readonly", groups=GROUPS)
    assert toolkit.tool_names == [
        "fly_list_certificates",
        "fly_get_certificate",
        "fly_list_ip_assignments",
    ]


# ---------------------------------------------------------------- what is sent


def test_list_sends_the_filters_as_fly_names_them(s: Setup) -> None:
    s.seed("fly_request_acme_certificate", {"app_name": "web", "hostname": "a.example.com"})
    message = s.invoke(
        "fly_list_certificates", {"app_name": "web", "filter": "example", "limit": 5}
    )
    (request,) = s.sent()
    assert (request.method, request.path) == ("GET", "/v1/apps/web/certificates")
    assert request.query == "filter=example&limit=5"
    assert "a.example.com" in message.content
    assert "pending" in message.content


def test_request_acme_sends_the_lower_cased_hostname(s: Setup) -> None:
    message = s.invoke(
        "fly_request_acme_certificate", {"app_name": "web", "hostname": "Shop.Example.COM"}
    )
    (request,) = s.sent()
    assert (request.method, request.path, request.status) == (
        "POST",
        "/v1/apps/web/certificates/acme",
        201,
    )
    assert s.recorder.body() == {"hostname": "shop.example.com"}
    assert str(message.content).startswith(
        "Requested a Let's Encrypt certificate shop.example.com in app web. "
        "The certificate: hostname=shop.example.com"
    )
    assert "web.fly.dev" in message.content  # the CNAME to create
    assert s.hook.asked == []  # a write below the threshold asks nobody


def test_get_and_check_read_one_hostname(s: Setup) -> None:
    s.seed("fly_request_acme_certificate", {"app_name": "web", "hostname": "*.example.com"})
    shown = s.invoke("fly_get_certificate", {"app_name": "web", "hostname": "*.example.com"})
    checked = s.invoke("fly_check_certificate", {"app_name": "web", "hostname": "*.example.com"})
    assert [(r.method, r.path, r.status) for r in s.sent()] == [
        ("GET", "/v1/apps/web/certificates/%2A.example.com", 200),
        ("POST", "/v1/apps/web/certificates/%2A.example.com/check", 200),
    ]
    assert "_acme-challenge.example.com" in shown.content
    assert str(checked.content).startswith(
        "Checked the DNS and issuance of certificate *.example.com in app web. "
        "The certificate: hostname=*.example.com"
    )


def test_upload_sends_the_key_to_fly_and_nowhere_else(s: Setup) -> None:
    args = {
        "app_name": "web",
        "hostname": "c.example.com",
        "fullchain": FULLCHAIN,
        "private_key": PRIVATE_KEY,
    }
    message = s.invoke("fly_upload_custom_certificate", args)
    assert s.recorder.body() == {k: v for k, v in args.items() if k != "app_name"}
    assert s.sent()[-1].status == 201
    assert str(message.content).startswith(
        "Uploaded the custom certificate c.example.com in app web. "
        "The certificate: hostname=c.example.com"
    )
    assert KEY_TEXT not in message.content
    assert KEY_TEXT not in repr(message.artifact)
    assert all(KEY_TEXT not in r.to_json() for r in s.sink.records)
    (record,) = [r for r in s.sink.records if r.tool == "fly_upload_custom_certificate"]
    assert json.loads(record.to_json())["target"] == {
        "kind": "certificate",
        "app": "web",
        "id": "c.example.com",
    }


def test_assign_ip_sends_the_spec_body(s: Setup) -> None:
    args = {
        "app_name": "web",
        "type": "v4",
        "region": "ord",
        "org_slug": "acme",
        "service_name": "http",
    }
    message = s.invoke("fly_assign_ip", args)
    assert s.recorder.body() == {
        "type": "v4",
        "region": "ord",
        "org_slug": "acme",
        "service_name": "http",
    }
    (request,) = s.sent()
    assert (request.method, request.path, request.status) == (
        "POST",
        "/v1/apps/web/ip_assignments",
        200,
    )
    assert str(message.content).startswith(
        "Assigned an IP address to app web. The IP address: ip=137.66."
    )
    # A first public address exposes the app (docs networking/flycast.html.markerb:41) and
    # a dedicated IPv4 is billed (networking/services.html.markerb:17): asked first.
    [asked] = s.hook.asked
    assert "reachable from the whole internet" in asked.description
    assert "billed monthly" in asked.description
    listed = s.invoke("fly_list_ip_assignments", {"app_name": "web"})
    assert "region=ord" in listed.content


def test_an_app_bound_toolkit_pins_the_app() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        groups=GROUPS,
        confirm=Hook(),
    )
    assign = next(t for t in toolkit.get_tools() if t.name == "fly_assign_ip")
    assert "app_name" not in assign.tool_call_schema.model_json_schema()["properties"]  # type: ignore[union-attr]
    assert "Assigned an IP address to app web" in assign.invoke({"type": "v6"})
    refused = assign.invoke({"app_name": "worker", "type": "v6"})
    assert "Assigned" not in refused
    sent = [(r.method, r.path) for r in fake.requests if r.endpoint in AREA_NAMES]
    assert sent == [("POST", "/v1/apps/web/ip_assignments")]
    assert list(fake.state.apps["worker"].ip_addresses) == []


# ---------------------------------------------------------------- gated calls


@pytest.mark.parametrize(
    ("tool", "path", "says"),
    [
        ("fly_delete_certificate", "", "stops serving HTTPS"),
        ("fly_delete_acme_certificate", "/acme", "Let's Encrypt certificates are removed"),
        ("fly_delete_custom_certificate", "/custom", "uploaded certificate is deleted"),
    ],
)
def test_certificate_deletes_ask_with_the_hostname_and_consequence(
    s: Setup, tool: str, path: str, says: str
) -> None:
    host = {"app_name": "web", "hostname": "e.example.com"}
    s.seed("fly_request_acme_certificate", host)
    s.seed(
        "fly_upload_custom_certificate", host | {"fullchain": FULLCHAIN, "private_key": PRIVATE_KEY}
    )
    s.invoke(tool, host)
    (asked,) = s.hook.asked
    assert "e.example.com" in asked.description
    assert says in asked.description
    assert "status" in asked.description  # read from Fly just now
    assert [(r.method, r.path) for r in s.sent()] == [
        ("GET", "/v1/apps/web/certificates/e.example.com"),  # to describe it
        ("GET", "/v1/apps/web/certificates/e.example.com"),  # to check it once approved
        ("DELETE", "/v1/apps/web/certificates/e.example.com" + path),
    ]


def test_release_ip_asks_then_sends_the_canonical_address(s: Setup) -> None:
    v6 = s.seed("fly_assign_ip", {"app_name": "web", "type": "v6"})["ip"]
    message = s.invoke("fly_release_ip", {"app_name": "web", "ip": v6.upper()})
    (asked,) = s.hook.asked
    assert v6 in asked.description
    assert "cannot be got back" in asked.description
    (request,) = s.sent()
    assert request.method == "DELETE"
    assert httpx.URL(request.path).path == f"/v1/apps/web/ip_assignments/{v6}"
    assert request.status == 204
    assert "Released" in message.content
    assert s.fake.state.apps["web"].ip_addresses.held == {}


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("fly_delete_certificate", {"hostname": "f.example.com"}),
        ("fly_release_ip", {"ip": "137.66.1.2"}),
    ],
)
def test_a_rejected_call_sends_nothing(tool: str, args: dict[str, str]) -> None:
    s = Setup(approve=False)
    message = s.invoke(tool, {"app_name": "web"} | args)
    assert len(s.hook.asked) == 1
    assert "Not executed" in message.content
    assert [r.method for r in s.sent()] in ([], ["GET"])  # at most the state read


# ---------------------------------------------------------------- refused before sending


PATH_TOOLS = [(e.name, p) for e in AREA for p in e.path_params if p != "app_name"]


@pytest.mark.parametrize(("tool", "param"), PATH_TOOLS)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_identifiers_are_refused_before_any_request(
    s: Setup, tool: str, param: str, hostile: str
) -> None:
    message = s.invoke(tool, {"app_name": "web", param: hostile})
    assert "Invalid arguments" in message.content
    assert s.fake.requests == []
    assert s.hook.asked == []


@pytest.mark.parametrize(
    ("tool", "args", "problem"),
    [
        ("fly_release_ip", {"ip": "fe80::1%eth0"}, "ip must be one IPv4 or IPv6"),
        ("fly_release_ip", {"ip": "web.example.com"}, "ip must be one IPv4 or IPv6"),
        ("fly_request_acme_certificate", {"hostname": "*.*.example.com"}, "DNS name"),
        ("fly_request_acme_certificate", {"hostname": "localhost"}, "DNS name"),
        ("fly_assign_ip", {"type": "v4", "network": "internal"}, "private_v6"),
        ("fly_assign_ip", {"type": "shared_v4", "region": "ord"}, "anycast"),
        ("fly_assign_ip", {"type": "dedicated"}, "type"),
        ("fly_list_certificates", {"limit": 501}, "limit"),
        ("fly_list_certificates", {"filter": "a&b=c"}, "filter"),
        (
            "fly_upload_custom_certificate",
            {
                "hostname": "a.example.com",
                "fullchain": FULLCHAIN + PRIVATE_KEY,
                "private_key": PRIVATE_KEY,
            },
            "fullchain holds a private key",
        ),
        (
            "fly_upload_custom_certificate",
            {"hostname": "a.example.com", "fullchain": FULLCHAIN, "private_key": "hunter2"},
            "private_key must be one unencrypted PEM key",
        ),
    ],
)
def test_arguments_fly_would_refuse_are_refused_here(
    s: Setup, tool: str, args: dict[str, Any], problem: str
) -> None:
    message = s.invoke(tool, {"app_name": "web"} | args)
    assert "Invalid arguments" in message.content
    assert problem in message.content
    assert KEY_TEXT not in message.content
    assert s.fake.requests == []


# ---------------------------------------------------------------- tracing callbacks


@pytest.mark.parametrize("fullchain", [FULLCHAIN, FULLCHAIN + PRIVATE_KEY])
async def test_callbacks_never_see_the_private_key(s: Setup, fullchain: str) -> None:
    tracer = Tracer()
    args = {
        "app_name": "web",
        "hostname": "g.example.com",
        "fullchain": fullchain,
        "private_key": PRIVATE_KEY,
    }
    call = {"type": "tool_call", "id": "c1", "name": "fly_upload_custom_certificate", "args": args}
    tool = s.tool("fly_upload_custom_certificate")
    message = tool.invoke(call, config={"callbacks": [tracer]})
    amessage = await tool.ainvoke(call, config={"callbacks": [tracer]})
    assert tracer.seen
    assert all(KEY_TEXT not in text for text in tracer.seen)
    for result in (message, amessage):
        assert KEY_TEXT not in str(result.content)
        assert KEY_TEXT not in repr(result.artifact)
    assert all(KEY_TEXT not in r.to_json() for r in s.sink.records)
