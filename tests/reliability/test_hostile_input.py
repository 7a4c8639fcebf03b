"""Hostile input on every tool's schema: refused before any request; valid input matches the spec."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fly_tools import ENDPOINTS, GROUPS, FlyClient, FlyToolkit, MemorySink, approve_all, cli
from fly_tools.client import InvalidArgumentsError
from fly_tools.guards import AuditLog
from fly_tools.testing import BASE_URL, FakeFly
from fly_tools.testing.http import FakeTransport
from fly_tools.testing.world import VOL_DATA_OLD, WEB_2
from tests.conftest import DEPTH
from tests.reliability.samples import prepare, sample_arguments
from tests.reliability.spec_requests import request_checker
from tests.reliability.strategies import hostile_arguments, valid_arguments
from tests.reliability.support import (
    LeakScan,
    acall_tool,
    call_tool,
    model_schema,
    tools_by_name,
)

NAMES = list(ENDPOINTS)
HOSTILE_EXAMPLES = 30 * DEPTH
VALID_EXAMPLES = 12 * DEPTH
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Passes requests to the fake and keeps each one, body included."""

    def __init__(self, inner: FakeTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


class World:
    """A demo fake, an org toolkit on it, and what each tool's model sees."""

    def __init__(self, fake: FakeFly, toolkit: FlyToolkit, recorder: RecordingTransport) -> None:
        self.fake = fake
        self.recorder = recorder
        self.tools = tools_by_name(toolkit)
        sink = toolkit.audit_log.sinks[0]
        assert isinstance(sink, MemorySink)
        self.audit = sink
        self.schemas = {name: model_schema(tool) for name, tool in self.tools.items()}

    def __repr__(self) -> str:  # hypothesis prints fixtures of a failing example
        return f"World({self.fake!r})"


@pytest.fixture(scope="module")
def world(leak_scan: LeakScan) -> Iterator[World]:
    fake = leak_scan.watch(FakeFly.demo())
    recorder = RecordingTransport(fake.transport())
    client = FlyClient(
        fake.tokens["org"],
        base_url=BASE_URL,
        transport=recorder,
        rate_limit=False,
        sleep=fake.clock.sleep,
        clock=fake.clock.now,
    )
    audit = AuditLog(MemorySink(limit=None))  # every record, however deep the run
    toolkit = FlyToolkit(
        client=client, scope="org", groups=GROUPS, confirm=approve_all, audit=audit
    )
    yield World(fake, toolkit, recorder)
    client.close()


def names_field(content: str, name: str) -> bool:
    """Whether an error text names ``name`` as a word (not inside another word)."""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", content) is not None


@pytest.mark.parametrize("name", NAMES)
@settings(FAST, max_examples=HOSTILE_EXAMPLES)
@given(data=st.data())
def test_hostile_arguments_are_refused_before_any_request(
    world: World, leak_scan: LeakScan, name: str, data: st.DataObject
) -> None:
    endpoint = ENDPOINTS[name]
    args, bad = data.draw(hostile_arguments(endpoint, world.schemas[name]), label="arguments")
    sent, audited = len(world.fake.requests), len(world.audit.records)

    message = call_tool(world.tools[name], args)

    leak_scan.add(f"{name} content", message.content)
    assert message.status == "error"
    assert "nothing was sent to Fly" in str(message.content)
    assert names_field(str(message.content), bad), (bad, message.content)
    assert len(world.fake.requests) == sent
    assert [(r.tool, r.decision, r.outcome) for r in world.audit.records[audited:]] == [
        (name, "refused", "not_executed")
    ]


@pytest.mark.parametrize("name", NAMES)
@settings(FAST, max_examples=VALID_EXAMPLES)
@given(data=st.data())
def test_valid_arguments_send_only_requests_the_spec_allows(
    world: World, name: str, data: st.DataObject
) -> None:
    endpoint = ENDPOINTS[name]
    world.fake.reset()
    world.recorder.requests.clear()
    args = data.draw(valid_arguments(endpoint, world.schemas[name]), label="arguments")

    message = call_tool(world.tools[name], args)

    if "nothing was sent to Fly" in str(message.content):
        # A rule the schema cannot express (e.g. guest sizes) refused it: still no request.
        assert world.recorder.requests == []
        return
    assert world.recorder.requests, message.content
    checker = request_checker()
    for request in world.recorder.requests:
        assert checker.problems(request) == []
    calls = [checker.match(request) for request in world.recorder.requests]
    operations = [call[0].operation_id for call in calls if call is not None]
    # Besides its own request a call may only read: an update fetches the whole config,
    # an approval describes what it will touch.
    # Besides, a toolkit asks once what its token may do (/tokens/*), and create-app
    # reads the new app back until Fly serves it.
    extra = [c[0] for c in calls if c is not None and c[0].operation_id != endpoint.operation_id]
    tokens = {"CurrentToken_show", "Tokens_authorize"}
    assert all(op.method == "GET" or op.operation_id in tokens for op in extra)
    if message.status == "success":
        assert endpoint.operation_id in operations
    for call in calls:
        if call is not None and call[0].operation_id == endpoint.operation_id:
            assert call[1] == {k: str(args[k]) for k in endpoint.path_params}


@pytest.mark.parametrize("name", NAMES)
def test_sample_arguments_reach_fly_and_match_the_spec(world: World, name: str) -> None:
    checker = request_checker()
    # The valid-input property above would pass vacuously if every draw were refused,
    # and the hostile one if the base it breaks one field of were refused already.
    world.fake.reset()
    args = prepare(world.fake, name, sample_arguments(ENDPOINTS[name], world.schemas[name]))
    world.recorder.requests.clear()

    message = call_tool(world.tools[name], args)

    assert message.status == "success", message.content
    operations = [c[0].operation_id for r in world.recorder.requests if (c := checker.match(r))]
    assert ENDPOINTS[name].operation_id in operations
    assert [p for r in world.recorder.requests for p in checker.problems(r)] == []


BOUND = [n for n in NAMES if "deploy" in ENDPOINTS[n].scopes and "app_name" in ENDPOINTS[n].path]


@pytest.mark.parametrize("name", BOUND)
def test_an_app_bound_tool_cannot_name_another_app(leak_scan: LeakScan, name: str) -> None:
    fake = leak_scan.watch(FakeFly.demo())
    toolkit = FlyToolkit(
        client=fake.client("org"), scope="org", app="web", groups=GROUPS, confirm=approve_all
    )
    tool = tools_by_name(toolkit)[name]
    args = sample_arguments(ENDPOINTS[name], model_schema(tool))

    message = call_tool(tool, {**args, "app_name": "worker"})

    assert message.status == "error"
    assert names_field(str(message.content), "app_name")
    assert fake.requests == []


def _text_fields() -> list[Any]:
    """One case per (tool, free-text or identifier field), from the argument models."""
    schemas = {
        name: e.args_model.model_json_schema()["properties"] for name, e in ENDPOINTS.items()
    }
    cases = []
    for name, properties in schemas.items():
        for field_name, prop in properties.items():
            options = prop.get("anyOf", [prop])
            if not any(o.get("type") == "string" and "enum" not in o for o in options):
                continue
            cases.append(pytest.param(name, field_name, id=f"{name}.{field_name}"))
    return cases


@pytest.mark.parametrize(("name", "field_name"), _text_fields())
def test_oversized_text_in_any_field_is_answered_not_raised(
    world: World, name: str, field_name: str
) -> None:
    endpoint = ENDPOINTS[name]
    world.fake.reset()
    world.recorder.requests.clear()
    audited = len(world.audit.records)
    args = {**sample_arguments(endpoint, world.schemas[name]), field_name: "x" * 100_000}

    message = call_tool(world.tools[name], args)

    assert message.status in ("success", "error")
    assert len(world.audit.records) == audited + 1
    if "nothing was sent to Fly" in str(message.content):
        assert world.recorder.requests == []
        assert names_field(str(message.content), field_name)


NAN, INF = float("nan"), float("inf")
NEVER_SENT: list[tuple[str, Any]] = [
    *[("env", {name: "x"}) for name in ("A=B", "A\x00B", "A\r\nB", "A B", "", "A\n")],
    *[("mount_path", path) for path in ("/data\x00", "/data\r\nX", "/" + "d" * 5000, "data")],
    *[("machine_config", {"env": {name: "x"}}) for name in ("A=B", "A\x00", "\r\n")],
    ("machine_config", {"processes": [{"cmd": ["run"], "env": {"A=B": "x"}}]}),
    ("machine_config", {"containers": [{"name": "app", "env": {"A B": "x"}}]}),
    ("machine_config", {"mounts": [{"volume": VOL_DATA_OLD, "path": "/d\x00"}]}),
    ("machine_config", {"files": [{"guest_path": "/" + "f" * 5000, "raw_value": "eA=="}]}),
    *[
        ("machine_config", {"checks": {"up": {"type": "tcp", "interval": value}}})
        for value in (NAN, INF, -INF, 1e-10, 1e300, True, "99999999999h")
    ],
    ("machine_config", {"restart": {"gpu_bid_price": NAN}}),
    ("machine_config", {"containers": [{"name": "app", "healthchecks": [{"x": INF}]}]}),
    ("machine_config", {"services": [{"protocol": "tcp", "internal_port": True}]}),
    *[("internal_port", value) for value in (True, False, 8080.5, NAN, "8080.0")],
    *[("cpus", value) for value in (True, INF)],
]
STOP_TIMEOUTS = [NAN, INF, -INF, 1e-10, 1e300, 10**30, True, "1e+07s", "infs"]


def _never_sent_cases() -> list[Any]:
    cases = []
    for tool in ("fly_create_machine", "fly_update_machine"):
        for index, (field, value) in enumerate(NEVER_SENT):
            cases.append(pytest.param(tool, field, value, id=f"{tool}-{field}-{index}"))
    for tool in ("fly_stop_machine", "fly_restart_machine"):
        for index, value in enumerate(STOP_TIMEOUTS):
            cases.append(pytest.param(tool, "timeout", value, id=f"{tool}-timeout-{index}"))
    return cases


VALID_BASE: dict[str, dict[str, Any]] = {
    "fly_create_machine": {"app_name": "web", "image": "nginx:1.27"},
    "fly_update_machine": {"app_name": "web", "machine_id": WEB_2, "image": "nginx:1.27"},
    "fly_stop_machine": {"app_name": "web", "machine_id": WEB_2},
    "fly_restart_machine": {"app_name": "web", "machine_id": WEB_2},
}


def _hostile_call(name: str, field: str, value: Any) -> dict[str, Any]:
    volume = {"volume_id": VOL_DATA_OLD} if field == "mount_path" else {}
    return {**VALID_BASE[name], **volume, field: value}


@pytest.mark.parametrize(("name", "field", "value"), _never_sent_cases())
def test_values_fly_must_never_receive_are_refused_on_every_path(
    leak_scan: LeakScan, name: str, field: str, value: Any
) -> None:
    fake = leak_scan.watch(FakeFly.demo())
    recorder = RecordingTransport(fake.transport())
    client = fake.client("org", transport=recorder)
    args = _hostile_call(name, field, value)
    bound = FlyToolkit(
        client=fake.client("deploy", "web", transport=recorder),
        scope="deploy",
        app="web",
        groups=GROUPS,
        confirm=approve_all,
    )
    toolkit = FlyToolkit(client=client, scope="org", groups=GROUPS, confirm=approve_all)
    tool = tools_by_name(toolkit)[name]
    bound_args = {k: v for k, v in args.items() if k != "app_name"}
    # Building a toolkit may read the token; the calls below must send nothing at all.
    before, recorded = len(fake.requests), len(recorder.requests)

    answers = [
        call_tool(tool, args),
        asyncio.run(acall_tool(tool, args, "call-2")),
        call_tool(tools_by_name(bound)[name], bound_args),
    ]
    with pytest.raises(InvalidArgumentsError) as raised:
        client.call(name, args)

    assert recorder.requests[recorded:] == []
    assert fake.requests[before:] == []
    for message in answers:
        assert message.status == "error"
        assert "nothing was sent to Fly" in str(message.content)
        assert names_field(str(message.content), field), message.content
    assert field in str(raised.value)


CLI_NEVER_SENT = [
    '{"app_name": "web", "image": "x:1", "env": {"A=B": "x"}}',
    '{"app_name": "web", "image": "x:1", "machine_config": {"restart": {"gpu_bid_price": NaN}}}',
    '{"app_name": "web", "image": "x:1", "machine_config": {"checks": {"c": {"interval": 1e7, '
    '"timeout": Infinity}}}}',
    '{"app_name": "web", "image": "x:1", "internal_port": true}',
    '{"app_name": "web", "image": "x:1", "volume_id": "vol_a", "mount_path": "/d\\u0000"}',
]


@pytest.mark.parametrize("raw", CLI_NEVER_SENT)
def test_the_command_line_sends_none_of_them(
    leak_scan: LeakScan, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    # Python's JSON reader takes NaN and Infinity, so --args can carry them.
    fake = leak_scan.watch(FakeFly.demo())
    monkeypatch.setattr(FakeFly, "demo", classmethod(lambda cls, **kwargs: fake))
    for name in ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN", "FLY_API_HOSTNAME", "FLY_FLAPS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)

    status = cli.main(["call", "fly_create_machine", "--scope", "org", "--args", raw, "--yes"])

    assert status != 0
    assert [r for r in fake.requests if r.endpoint == "fly_create_machine"] == []
    assert all(r.method == "GET" or r.path.startswith("/v1/tokens/") for r in fake.requests)
