"""SIGINT and SIGTERM stop the server in one line, 130 and 143, over stdio and HTTP, even mid-start."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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


def stopped(process: subprocess.Popen[bytes], sig: signal.Signals | None) -> tuple[int, str]:
    """Signal the server (unless ``None``: sent already) and wait with its stdin still open."""
    if sig is not None:
        process.send_signal(sig)
    try:
        code = process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the server did not stop on the signal")
    assert process.stderr is not None
    return code, process.stderr.read().decode()


HELLO = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "host", "version": "1"},
        },
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]


def converse(process: subprocess.Popen[bytes]) -> None:
    """Initialize and list the tools over stdio, as a host does, reading both answers."""
    assert process.stdin is not None
    for message in HELLO:
        process.stdin.write(json.dumps(message).encode() + b"\n")
    process.stdin.flush()
    wait_for(process, "stdout", b'"id":1')
    wait_for(process, "stdout", b'"id":2')


@contextlib.contextmanager
def running(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    """The server, killed at the end should a test leave it running."""
    process = start(*args)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


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
    with running() as process:
        wait_for(process, "stderr", b"over stdio")
        converse(process)  # a host that has listed the tools, and keeps stdin open
        code, err = stopped(process, sig)
    assert code == CODES[sig]
    assert "Traceback" not in err
    assert err.strip().endswith(SAID[sig])


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_start_up_is_one_line_too(sig: signal.Signals) -> None:
    with running() as process:
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
    with running("--http", "--port", str(port)) as process:
        wait_for(process, "stdout", b"Ctrl-C stops the server")
        wait_for_port(port)
        answered = session_then(process, sig, f"http://127.0.0.1:{port}/mcp")
        code, err = stopped(process, None)
    assert answered == [True]
    assert code == CODES[sig]
    assert "Traceback" not in err
    assert err.strip().endswith(SAID[sig])


def session_then(process: subprocess.Popen[bytes], sig: signal.Signals, url: str) -> list[bool]:
    """Open a session, make a call, then send ``sig`` while the session is still open."""
    answered: list[bool] = []

    async def open_session_then_signal() -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
        with anyio.move_on_after(15):
            async with Client(transport) as client:
                answered.append(not (await client.call_tool("fly_list_machines", {})).is_error)
                process.send_signal(sig)
                while process.poll() is None:  # the session stays open until the server ends
                    await anyio.sleep(0.1)

    with contextlib.suppress(Exception):  # the client's side of a connection cut: not tested
        anyio.run(open_session_then_signal)
    return answered
