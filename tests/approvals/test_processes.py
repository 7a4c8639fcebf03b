"""Approvals across processes: the fake Fly in its own process, agents killed and started anew.

Pause (A gets "pending" and is killed with SIGKILL) → approve from a new process (B,
``fly-tools approvals approve``) → resume in a third (C, ``fly-tools call --store``):
exactly one DELETE reaches the fake. Two processes racing to use one approval: one DELETE.
Each runs on a SQLite file and, when redis-server is installed, on a real Redis.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from benchmarks import redis_server
from tests.approvals.conftest import DELETE_OLD

pytestmark = [pytest.mark.enable_socket, pytest.mark.loopback, pytest.mark.slow]
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TIMEOUT = 60
DELETE = ["DELETE", f"/v1/apps/web/volumes/{DELETE_OLD['volume_id']}"]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if not redis_server.available():
        pytest.skip(
            "redis-server is not on PATH (.ci/run installs it: apt-get install redis-server)"
        )
    with redis_server.RedisServer(password="approvals-procs-pw") as running:
        yield running.url


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "approvals.db")
    return f"{request.getfixturevalue('redis_url')}?prefix={request.node.name}"


class FakeProcess:
    """``fake_process.py`` running: its URL and tokens, and at the end what it saw."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "fake_process.py")],
            cwd=ROOT,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        banner = json.loads(_line(self.process.stdout))
        self.url, self.tokens = banner["url"], banner["tokens"]

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("FLY_") or k.startswith("FLY_TOOLS_APPROVER_")
        }
        return {**env, "FLY_API_HOSTNAME": self.url, "FLY_API_TOKEN": self.tokens["org"]}

    def requests(self) -> list[list[str]]:
        """Stop the fake; the (method, path) of every request it answered."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        seen = json.loads(_line(self.process.stdout))
        self.process.wait(TIMEOUT)
        return seen  # type: ignore[no-any-return]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(TIMEOUT)


@pytest.fixture
def fake() -> Iterator[FakeProcess]:
    running = FakeProcess()
    yield running
    running.kill()


def _line(stream: IO[str] | None) -> str:
    assert stream is not None
    line = stream.readline()
    assert line, "the process ended without answering"
    return line


def agent(fake: FakeProcess, store: str) -> subprocess.Popen[str]:
    """An agent process, ready to make the demo delete when told."""
    command = [
        sys.executable,
        str(HERE / "agent_process.py"),
        store,
        "fly_delete_volume",
        json.dumps(DELETE_OLD),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=fake.env(), text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert _line(process.stdout).strip() == "ready"
    return process


def go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def outcome(process: subprocess.Popen[str]) -> dict[str, Any]:
    return json.loads(_line(process.stdout))  # type: ignore[no-any-return]


def fly_tools(fake: FakeProcess, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fly_tools.cli", *argv],
        cwd=ROOT,
        env=fake.env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def approval_id(text: str) -> str:
    found = re.search(r"pending approval (\w+): a person must approve", text)
    assert found, text
    return found[1]


def test_pause_kill_approve_elsewhere_resume_in_a_third_process(
    fake: FakeProcess, store: str
) -> None:
    first = agent(fake, store)
    go(first)
    asked = outcome(first)
    assert asked["sent"] is False
    first.send_signal(signal.SIGKILL)  # the agent dies while its call waits
    assert first.wait(TIMEOUT) == -signal.SIGKILL
    answered = fly_tools(
        fake, "approvals", "approve", approval_id(asked["text"]), "--store", store, "--by", "oncall"
    )
    assert answered.returncode == 0, answered.stderr
    resumed = fly_tools(
        fake,
        "call",
        "fly_delete_volume",
        "--live",
        "--args",
        json.dumps(DELETE_OLD),
        "--store",
        store,
        "--agent-id",
        "ops-bot",
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "Deleted volume" in resumed.stdout
    assert [r for r in fake.requests() if r[0] == "DELETE"] == [DELETE]


def test_two_processes_racing_to_use_one_approval_send_once(fake: FakeProcess, store: str) -> None:
    asked = fly_tools(
        fake,
        "call",
        "fly_delete_volume",
        "--live",
        "--args",
        json.dumps(DELETE_OLD),
        "--store",
        store,
        "--agent-id",
        "ops-bot",
    )
    assert asked.returncode == 1
    answered = fly_tools(fake, "approvals", "approve", approval_id(asked.stderr), "--store", store)
    assert answered.returncode == 0, answered.stderr
    racers = [agent(fake, store), agent(fake, store)]
    for racer in racers:
        go(racer)
    results = [outcome(racer) for racer in racers]
    for racer in racers:
        racer.kill()
        racer.wait(TIMEOUT)
    assert sorted(r["sent"] for r in results) == [False, True]
    loser = next(r for r in results if not r["sent"])
    assert "pending approval" in loser["text"]  # asked again, nothing sent
    assert [r for r in fake.requests() if r[0] == "DELETE"] == [DELETE]
