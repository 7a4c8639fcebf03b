"""The fake over real HTTP on loopback: served by uvicorn, driven by plain httpx."""

from __future__ import annotations

import io
import threading
from contextlib import redirect_stdout
from typing import Any

import httpx
import pytest

from fly_tools.testing import FakeFly, Fault
from fly_tools.testing import __main__ as cli
from fly_tools.testing.world import WEB_3

pytestmark = [pytest.mark.enable_socket, pytest.mark.loopback]


def test_a_flow_over_http_with_plain_httpx(fake: FakeFly) -> None:
    with fake.serve() as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        headers = {"Authorization": f"Bearer {fake.tokens['deploy']}"}
        with httpx.Client(base_url=base_url + "/v1", headers=headers, timeout=10) as http:
            created = http.post("/apps/web/machines", json={"config": {"image": "nginx:1.27"}})
            assert created.status_code == 200
            assert created.json()["state"] == "created"
            machine_id = created.json()["id"]
            waited = http.get(f"/apps/web/machines/{machine_id}/wait", params={"state": "started"})
            assert waited.json()["state"] == "started"
            assert http.get(f"/apps/web/machines/{machine_id}").json()["state"] == "started"
            assert http.post("/tokens/oidc").headers["content-type"].startswith("text/plain")
            assert http.get("/apps/worker").status_code == 404  # a deploy token's reach
            assert http.get("/nowhere").status_code == 404
    assert [r.status for r in fake.requests] == [200, 200, 200, 200, 404, 404]


def test_faults_over_http(fake: FakeFly) -> None:
    with fake.serve() as base_url, httpx.Client(base_url=base_url + "/v1", timeout=10) as http:
        headers = {"Authorization": f"Bearer {fake.tokens['org']}"}
        fake.inject(Fault.status(503, retry_after=3), match="fly_get_app")
        refused = http.get("/apps/web", headers=headers)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "3"
        fake.inject(Fault.reset(before=False), match="fly_start_machine")
        with pytest.raises(httpx.TransportError):
            http.post(f"/apps/web/machines/{WEB_3}/start", headers=headers)
    assert fake.state.apps["web"].machines[WEB_3].state == "starting"


def test_python_dash_m_serves_and_prints_url_and_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    servers: list[Any] = []
    made = threading.Event()
    make_server = cli.make_server

    def keep(app: Any, **options: Any) -> Any:
        servers.append(make_server(app, **{**options, "log_level": "warning"}))
        made.set()
        return servers[-1]

    monkeypatch.setattr(cli, "make_server", keep)
    output = io.StringIO()
    thread = threading.Thread(target=cli.main, args=(["--port", "0", "--demo"],))
    with redirect_stdout(output):
        thread.start()
        assert made.wait(10)  # printing is done once the server is made
    try:
        lines = output.getvalue().splitlines()
        base_url = lines[0].split(" at ")[1].split()[0]
        tokens = {}
        for line in lines[2:]:
            scope, token = line.split(" token: ")
            tokens[scope.strip()] = token
        assert set(tokens) == {"org", "deploy", "readonly", "machine-exec"}
        # The socket listens before the URL is printed, so this queues until served.
        headers = {"Authorization": f"Bearer {tokens['readonly']}"}
        listed = httpx.get(f"{base_url}/v1/apps/web/machines", headers=headers, timeout=10)
        assert [m["name"] for m in listed.json()] == ["web-1", "web-2", "web-3"]
    finally:
        servers[0].should_exit = True
        thread.join(10)
    assert not thread.is_alive()
