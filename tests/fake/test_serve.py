"""The fake over real HTTP on loopback: served by uvicorn, driven by plain httpx."""

from __future__ import annotations

import argparse
import io
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from fly_tools.testing import FakeFly, Fault
from fly_tools.testing.command import parse_fault, serve_main
from fly_tools.testing.world import WEB_3

ROOT = Path(__file__).resolve().parents[2]

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


def banner_facts(lines: list[str]) -> tuple[str, dict[str, str]]:
    """The base URL and the tokens from the server's banner."""
    base_url = next(line.split("=", 1)[1] for line in lines if "FLY_API_HOSTNAME=" in line)
    tokens = dict(line.split() for line in lines if line.startswith("  ") and " fm2_" in line)
    return base_url, tokens


def test_serve_main_prints_one_banner_and_stops_when_told() -> None:
    stop, output = threading.Event(), io.StringIO()
    argv = ["--port", "0", "--time-scale", "50", "--rate-limits", "--fault", "503@fly_get_app"]
    thread = threading.Thread(target=serve_main, args=(argv,), kwargs={"stop": stop, "out": output})
    thread.start()
    try:
        for _ in range(200):
            if "Ctrl-C" in output.getvalue():
                break
            time.sleep(0.05)
        lines = output.getvalue().splitlines()
        base_url, tokens = banner_facts(lines)
        assert set(tokens) == {"org", "deploy", "readonly", "machine-exec"}
        assert "real time x50; rate limits enforced; 1 fault rule(s) pending" in lines[1]
        headers = {"Authorization": f"Bearer {tokens['readonly']}"}
        with httpx.Client(base_url=base_url + "/v1", headers=headers, timeout=10) as http:
            assert http.get("/apps/web").status_code == 503  # the --fault rule
            assert http.get("/apps/web").json()["name"] == "web"
            names = [m["name"] for m in http.get("/apps/web/machines").json()]
        assert names == ["web-1", "web-2", "web-3"]
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


@pytest.mark.parametrize(
    ("spec", "described", "count", "match"),
    [
        ("503", "status 503", 1, None),
        ("429/5x3@fly_get_app", "status 429", 3, "fly_get_app"),
        ("reset-after@DELETE /apps/*/volumes/*", "reset after", 1, "DELETE /apps/*/volumes/*"),
        ("slow:2.5x2", "slow 2.5s", 2, None),
    ],
)
def test_fault_options(spec: str, described: str, count: int, match: str | None) -> None:
    fault, got_count, got_match = parse_fault(spec)
    assert (fault.describe(), got_count, got_match) == (described, count, match)


@pytest.mark.parametrize("spec", ["teapot", "418x0", "slow:-1", "200"])
def test_bad_fault_options_are_usage_errors(spec: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_fault(spec)


def start_server(*options: str) -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    """``python -m fly_tools.testing`` started with SIGINT ignored, as a background job is."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fly_tools.testing", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if "Ctrl-C" in line:
            break
    base_url, tokens = banner_facts(lines)
    return process, base_url, tokens


def test_a_polling_client_sees_machines_settle_on_the_real_clock() -> None:
    """No /wait: plain GETs, as a non-Python client polls, see start and stop complete."""
    process, base_url, tokens = start_server("--time-scale", "10")
    try:
        headers = {"Authorization": f"FlyV1 {tokens['deploy']}"}
        with httpx.Client(base_url=base_url + "/v1", headers=headers, timeout=10) as http:
            machine = f"/apps/web/machines/{WEB_3}"
            assert http.post(f"{machine}/start").json()["previous_state"] == "stopped"
            started_at = time.monotonic()
            seen: list[str] = []
            while not seen or seen[-1] != "started":
                assert time.monotonic() - started_at < 10, seen
                seen.append(http.get(machine).json()["state"])
                time.sleep(0.02)
            assert seen[0] == "starting"  # time passed between polls, not by a wait request
            assert http.post(f"{machine}/stop").status_code == 200
            while http.get(machine).json()["state"] != "stopped":
                assert time.monotonic() - started_at < 10
                time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=10)
    assert status == 0


def test_sigint_stops_the_server_even_when_inherited_as_ignored() -> None:
    process, _, _ = start_server()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    assert process.stderr is not None
    assert "fake Fly API stopped" in process.stderr.read()


def test_sigterm_stops_the_server() -> None:
    process, _, _ = start_server("--empty")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_a_port_in_use_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert serve_main(["--port", str(port)], prog="fake") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fake: cannot serve on 127.0.0.1:{port}:")
    assert len(err.strip().splitlines()) == 1
