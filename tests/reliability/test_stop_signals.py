"""Stopping the stdio MCP server mid-call: exactly one record per attempt, never none.

The MCP spec stops a stdio server by closing its stdin, then SIGTERM. A signal at each
step of a gated call (the approver deliberating; the DELETE out, its answer not back)
leaves exactly one record: ``not_executed`` before the send, ``unknown`` once the
request may have reached Fly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fly_tools import read_jsonl
from fly_tools.testing.world import VOL_DATA_OLD

ROOT = Path(__file__).resolve().parents[2]


def _send(process: subprocess.Popen[bytes], message: dict[str, object]) -> None:
    assert process.stdin is not None
    process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()


def _start(command: list[str]) -> subprocess.Popen[bytes]:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    for name in ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN", "FLY_API_HOSTNAME", "FLY_FLAPS_BASE_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _send(
        process,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "signal-test", "version": "1"},
            },
        },
    )
    assert process.stdout is not None
    assert b'"id":1' in process.stdout.readline().replace(b" ", b"")
    _send(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    return process


def _wait_for(marker: Path, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not marker.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            raise AssertionError(f"the call never reached its step: {err.decode()[-2000:]}")
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize(("step", "outcome"), [("approval", "not_executed"), ("send", "unknown")])
def test_a_signal_mid_call_leaves_exactly_one_record(
    step: str, outcome: str, signum: int, tmp_path: Path
) -> None:
    audit, marker = tmp_path / "audit.jsonl", tmp_path / "at-step"
    process = _start(["tests.reliability.mcp_signal_process", str(audit), str(marker), step])
    call = {"name": "fly_delete_volume", "arguments": {"volume_id": VOL_DATA_OLD}}
    _send(process, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
    _wait_for(marker, process)
    process.send_signal(signum)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 128 + signum, err.decode()[-2000:]
    records = read_jsonl(audit)
    assert [(r.tool, r.outcome) for r in records] == [("fly_delete_volume", outcome)]
    assert records[0].context.get("front_door") == "mcp"
    if outcome == "unknown":
        assert "may have run" in (records[0].error or "")


@pytest.mark.slow
def test_fly_tools_mcp_stops_on_sigterm_with_the_signal_as_its_status(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    process = _start(["fly_tools.mcp", "--scope", "deploy", "--app", "web", "--audit", str(audit)])
    call = {"name": "fly_list_machines", "arguments": {}}
    _send(process, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
    assert process.stdout is not None
    assert b'"id":2' in process.stdout.readline().replace(b" ", b"")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, err.decode()[-2000:]
    assert b"stopped (terminated)" in err
    assert [r.tool for r in read_jsonl(audit)] == ["fly_list_machines"]
