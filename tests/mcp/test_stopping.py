"""SIGINT and SIGTERM stop the server in one line, 130 and 143, over stdio and HTTP, even mid-start."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "mcp-stopping-token-0123456789abcdef"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "FLY_TOOLS_MCP_TOKEN": TOKEN}
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
SAID = {signal.SIGINT: "stopped (interrupted)", signal.SIGTERM: "stopped (terminated)"}


def start(*args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "fly_tools.mcp", "--scope", "deploy", "--app", "web", *args]
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
    )


def wait_for(process: subprocess.Popen[bytes], stream: str, text: bytes) -> bytes:
    """Read ``stream`` until it shows ``text`` (the server says it is serving)."""
    pipe = process.stderr if stream == "stderr" else process.stdout
    assert pipe is not None
    seen = b""
    deadline = time.monotonic() + 60
    while text not in seen and time.monotonic() < deadline:
        line = pipe.readline()
        if not line:
            break
        seen += line
    assert text in seen, seen
    return seen


def stopped(process: subprocess.Popen[bytes], sig: signal.Signals) -> tuple[int, str]:
    process.send_signal(sig)
    try:
        _, err = process.communicate(timeout=20)  # stdin stays open: it must not wait on it
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the server did not stop on the signal")
    return process.returncode, err.decode()


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"nothing listens on port {port}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stdio_stops_on_a_signal_with_stdin_still_open(sig: signal.Signals) -> None:
    process = start()
    wait_for(process, "stderr", b"over stdio")
    code, err = stopped(process, sig)
    assert code == CODES[sig]
    assert "Traceback" not in err
    assert err.strip().endswith(SAID[sig])


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_start_up_is_one_line_too(sig: signal.Signals) -> None:
    process = start()
    time.sleep(0.3)  # the SDK and LangChain are still loading
    code, err = stopped(process, sig)
    assert code == CODES[sig]
    assert "Traceback" not in err


@pytest.mark.slow
@pytest.mark.enable_socket
@pytest.mark.loopback
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_http_stops_on_a_signal_with_a_session_open(sig: signal.Signals) -> None:
    port = free_port()
    process = start("--http", "--port", str(port))
    wait_for(process, "stdout", b"Ctrl-C stops the server")
    wait_for_port(port)
    url = f"http://127.0.0.1:{port}/mcp"
    answered: list[bool] = []

    async def open_session_then_signal() -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
        with anyio.move_on_after(15):
            async with Client(transport) as client:
                answered.append(not (await client.call_tool("fly_list_machines", {})).is_error)
                process.send_signal(sig)  # while the session (and its stream) is open
                await anyio.sleep(10)

    with contextlib.suppress(Exception):  # the client's side of a connection cut: not tested
        anyio.run(open_session_then_signal)
    assert answered == [True]
    try:
        _, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the HTTP server did not stop on the signal")
    assert process.returncode == CODES[sig]
    assert "Traceback" not in err.decode()
    assert err.decode().strip().endswith(SAID[sig])
