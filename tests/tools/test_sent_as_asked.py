"""What is sent is what was asked: every create/update field reaches Fly on every front door.

Each case goes through ``tool.invoke``, ``tool.ainvoke``, a LangChain agent and the
``fly-tools call`` command, and asserts the JSON body the fake received and the machine
the fake now holds; ``machine_config`` is the field LangChain used to swallow as ``config``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage, ToolCall, ToolMessage

from fly_tools import FlyToolkit, approve_all, cli
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import ScriptedChatModel, calls
from fly_tools.testing.world import VOL_DATA_OLD, WEB_2

HTTP_SERVICE = {
    "protocol": "tcp",
    "internal_port": 8080,
    "ports": [
        {"port": 80, "handlers": ["http"], "force_https": True},
        {"port": 443, "handlers": ["tls", "http"]},
    ],
}
CHECK = {"type": "http", "port": 8080, "path": "/up", "interval": 30, "timeout": 1.5}
CHECK_SENT = {**CHECK, "interval": "30s", "timeout": "1.5s"}

CREATE_FLAT: dict[str, Any] = {
    "image": "nginx:1.27",
    "cpus": 2,
    "memory_mb": 1024,
    "cpu_kind": "shared",
    "env": {"LOG_LEVEL": "debug"},
    "internal_port": 8080,
    "volume_id": VOL_DATA_OLD,
    "mount_path": "/data",
    "restart_policy": "on-failure",
    "name": "web-4",
    "region": "ord",
    "skip_launch": True,
    "machine_config": {
        "metadata": {"team": "ops"},
        "checks": {"up": CHECK},
        "init": {"cmd": ["nginx"]},
        "stop_config": {"signal": "SIGTERM", "timeout": 10},
        "processes": [{"env": {"WORKERS": "4"}, "cmd": ["serve"]}],
    },
}
CREATE_FLAT_SENT: dict[str, Any] = {
    "config": {
        "image": "nginx:1.27",
        "env": {"LOG_LEVEL": "debug"},
        "guest": {"cpus": 2, "memory_mb": 1024, "cpu_kind": "shared"},
        "services": [HTTP_SERVICE],
        "mounts": [{"volume": VOL_DATA_OLD, "path": "/data"}],
        "restart": {"policy": "on-failure"},
        "metadata": {"team": "ops"},
        "checks": {"up": CHECK_SENT},
        "init": {"cmd": ["nginx"]},
        "stop_config": {"signal": "SIGTERM", "timeout": "10s"},
        "processes": [{"env": {"WORKERS": "4"}, "cmd": ["serve"]}],
    },
    "name": "web-4",
    "region": "ord",
    "skip_launch": True,
}
# Everything in machine_config, nothing flat but the image: the case that used to go
# out as a bare image while the tool reported success.
CREATE_NESTED: dict[str, Any] = {
    "image": "nginx:1.27",
    "region": "ord",
    "machine_config": {
        "services": [HTTP_SERVICE],
        "mounts": [{"volume": VOL_DATA_OLD, "path": "/srv"}],
        "metadata": {"owner": "ops"},
        "env": {"MODE": "nested"},
        "auto_destroy": False,
    },
}
CREATE_NESTED_SENT: dict[str, Any] = {
    "config": {"image": "nginx:1.27", **CREATE_NESTED["machine_config"]}
}
CREATE_NESTED_SENT["region"] = "ord"
# An update whose only change is in machine_config: it must not be an empty restart.
UPDATE_ONLY_CONFIG: dict[str, Any] = {
    "machine_id": WEB_2,
    "machine_config": {"metadata": {"release": "r7"}, "checks": {"up": CHECK}},
}
UPDATE_FLAT: dict[str, Any] = {
    "machine_id": WEB_2,
    "image": "nginx:1.28",
    "cpus": 2,
    "memory_mb": 512,
    "cpu_kind": "shared",
    "env": {"NEW": "1"},
    "internal_port": 9090,
    "restart_policy": "always",
    "machine_config": {"metadata": {"release": "r8"}},
}

CASES = {
    "create-flat": ("fly_create_machine", CREATE_FLAT),
    "create-nested": ("fly_create_machine", CREATE_NESTED),
    "update-only-machine-config": ("fly_update_machine", UPDATE_ONLY_CONFIG),
    "update-flat": ("fly_update_machine", UPDATE_FLAT),
}


class Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Hands each request to the fake and keeps it, body included."""

    def __init__(self, fake: FakeFly) -> None:
        self.inner = fake.transport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def posted(self, tool: str) -> dict[str, Any]:
        """The body of the one create or update request that reached the fake."""
        path = "/v1/apps/web/machines" + (f"/{WEB_2}" if tool == "fly_update_machine" else "")
        sent = [r for r in self.requests if r.method == "POST" and r.url.path == path]
        (request,) = sent
        return json.loads(request.content)  # type: ignore[no-any-return]


def world() -> tuple[FakeFly, Recorder]:
    fake = FakeFly.demo()
    return fake, Recorder(fake)


def toolkit(fake: FakeFly, recorder: Recorder, *, run_async: bool = False) -> FlyToolkit:
    maker = fake.async_client if run_async else fake.client
    client = maker("deploy", "web", transport=recorder)
    return FlyToolkit(client=client, scope="deploy", app="web", confirm=approve_all)


def via_invoke(fake: FakeFly, recorder: Recorder, tool: str, args: dict[str, Any]) -> str:
    chosen = next(t for t in toolkit(fake, recorder).get_tools() if t.name == tool)
    message = chosen.invoke(ToolCall(name=tool, args=args, id="call-1", type="tool_call"))
    assert isinstance(message, ToolMessage)
    return str(message.status)


def via_ainvoke(fake: FakeFly, recorder: Recorder, tool: str, args: dict[str, Any]) -> str:
    kit = toolkit(fake, recorder, run_async=True)
    chosen = next(t for t in kit.get_tools() if t.name == tool)
    call_ = ToolCall(name=tool, args=args, id="call-1", type="tool_call")
    message = asyncio.run(chosen.ainvoke(call_))
    assert isinstance(message, ToolMessage)
    return str(message.status)


def via_agent(fake: FakeFly, recorder: Recorder, tool: str, args: dict[str, Any]) -> str:
    model = ScriptedChatModel(script=[calls((tool, args))])
    agent = create_agent(model, tools=toolkit(fake, recorder).get_tools())
    result = agent.invoke({"messages": [HumanMessage("Do it.")]})
    (message,) = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    return str(message.status)


FRONT_DOORS: dict[str, Callable[[FakeFly, Recorder, str, dict[str, Any]], str]] = {
    "invoke": via_invoke,
    "ainvoke": via_ainvoke,
    "agent": via_agent,
}


def expected_update(fake: FakeFly, args: dict[str, Any]) -> dict[str, Any]:
    """The body an update must send: the machine's current config with the changes merged."""
    current = fake.client("org").call("fly_get_machine", {"app_name": "web", "machine_id": WEB_2})
    config = json.loads(json.dumps(current["config"]))
    changes = args.get("machine_config", {})
    config.update({k: v for k, v in changes.items() if k != "checks"})
    if "checks" in changes:
        config["checks"] = {"up": CHECK_SENT}
    if "image" in args:
        config["image"] = args["image"]
        config["env"] = {**config.get("env", {}), **args["env"]}
        config["guest"] = {**config["guest"], "cpus": 2, "memory_mb": 512, "cpu_kind": "shared"}
        config["services"] = [{**HTTP_SERVICE, "internal_port": 9090}]
        config["restart"] = {**config.get("restart", {}), "policy": "always"}
    return {"config": config, "current_version": current["instance_id"]}


def expected_body(fake: FakeFly, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    if tool == "fly_update_machine":
        return expected_update(fake, args)
    return CREATE_FLAT_SENT if args is CREATE_FLAT else CREATE_NESTED_SENT


def held_config(fake: FakeFly, tool: str) -> dict[str, Any]:
    """The config of the machine the fake now holds for this call."""
    app = fake.state.apps["web"]
    if tool == "fly_update_machine":
        return app.machines[WEB_2].config
    (machine,) = [m for m in app.machines.values() if m.config.get("image") == "nginx:1.27"]
    return machine.config


def holds(held: Any, wanted: Any) -> bool:
    """Whether ``held`` has everything in ``wanted`` (the fake adds facts, e.g. a mount's size)."""
    if isinstance(wanted, dict):
        return isinstance(held, dict) and all(
            k in held and holds(held[k], v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return isinstance(held, list) and len(held) == len(wanted) and all(map(holds, held, wanted))
    return bool(held == wanted)


@pytest.mark.parametrize("door", FRONT_DOORS)
@pytest.mark.parametrize("case", CASES)
def test_every_field_reaches_fly(door: str, case: str) -> None:
    tool, args = CASES[case]
    fake, recorder = world()
    expected = expected_body(fake, tool, args)

    status = FRONT_DOORS[door](fake, recorder, tool, json.loads(json.dumps(args)))

    assert status == "success"
    assert recorder.posted(tool) == expected
    assert holds(held_config(fake, tool), expected["config"])


@pytest.fixture
def cli_world(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeFly, Recorder]:
    """The fake and recorder that `fly-tools call` will talk to."""
    fake, recorder = world()
    monkeypatch.setattr(fake, "transport", lambda: recorder)
    monkeypatch.setattr(FakeFly, "demo", classmethod(lambda cls, **kwargs: fake))
    for name in ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN", "FLY_API_HOSTNAME", "FLY_FLAPS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return fake, recorder


@pytest.mark.parametrize("case", CASES)
def test_every_field_reaches_fly_from_the_command_line(
    cli_world: tuple[FakeFly, Recorder], case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, recorder = cli_world
    tool, args = CASES[case]
    expected = expected_body(fake, tool, args)
    recorder.requests.clear()
    argv = [
        "call",
        tool,
        "--args",
        json.dumps({"app_name": "web", **args}),
        "--scope",
        "org",
        "--yes",
    ]

    status = cli.main(argv)

    assert status == 0, capsys.readouterr().err
    assert recorder.posted(tool) == expected
    assert holds(held_config(fake, tool), expected["config"])
