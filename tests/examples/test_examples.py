"""Each example runs as `python examples/NAME.py`, offline, in seconds, and says what it did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fly_tools.testing.world import VOL_DATA_OLD, WEB_1, WEB_2

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMEOUT = 60


@dataclass
class Run:
    status: int
    out: str
    err: str


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("policy-audit")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, audit_dir: Path) -> Iterator[dict[str, Run]]:
    """Every example, started together (they are independent) and run to the end."""
    cwd = tmp_path_factory.mktemp("examples-cwd")  # examples must not depend on the cwd
    extra = {"policy_and_audit": [str(audit_dir)]}
    processes = {
        path.stem: subprocess.Popen(
            [sys.executable, str(path), *extra.get(path.stem, [])],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in sorted(EXAMPLES.glob("*.py"))
    }
    results = {}
    try:
        for name, process in processes.items():
            out, err = process.communicate(timeout=TIMEOUT)
            results[name] = Run(process.returncode, out, err)
        yield results
    finally:
        for process in processes.values():
            process.kill()


def ran(runs: dict[str, Run], name: str) -> str:
    run = runs[name]
    assert run.status == 0, run.err
    return run.out


def test_every_example_is_covered(runs: dict[str, Run]) -> None:
    assert set(runs) == {
        "quickstart",
        "read_only_agent",
        "approval_with_middleware",
        "policy_and_audit",
        "mcp_server",
        "durable_approval",
    }


def test_quickstart(runs: dict[str, Run]) -> None:
    out = ran(runs, "quickstart")
    assert "29 tools for app web" in out
    assert "(artifact: 3 full machine records)" in out
    assert "Agent (scripted model): web has 3 machines: 2 started, 1 stopped." in out
    assert out.count("quickstart listed the machines in app web") == 2


def test_read_only_agent(runs: dict[str, Run]) -> None:
    out = ran(runs, "read_only_agent")
    assert "11 read-only tools" in out
    assert "fly_get_machine takes: machine_id\n" in out
    assert "web-3 is stopped (last event: exit by flyd)" in out
    assert "Volumes not attached: data_old" in out
    assert "fly_start_machine is not a valid tool" in out
    assert "methods: ['GET']" in out


def test_approval_with_middleware(runs: dict[str, Run]) -> None:
    out = ran(runs, "approval_with_middleware")
    before, after = out.split("Requests before resuming:")
    assert (
        f"Delete volume {VOL_DATA_OLD} in app web (read from Fly just now: "
        'named "data_old", 3 GB, not attached)'
    ) in before
    assert "-> approved" in before
    assert "-> rejected: keep web-3" in before
    assert "DELETE" not in after.splitlines()[0]
    assert (
        f"ops-bot deleted volume {VOL_DATA_OLD} in app web — approved by on-call reviewer" in after
    )
    assert "attempt to delete machine" in after
    assert "was rejected by on-call reviewer" in after
    assert (
        f"DELETE requests that reached the fake Fly API: ['DELETE /v1/apps/web/volumes/{VOL_DATA_OLD}']"
        in after
    )


def test_policy_and_audit(runs: dict[str, Run], audit_dir: Path) -> None:
    out = ran(runs, "policy_and_audit")
    assert "Policy for ops-bot: 14 tools" in out
    assert "fly_delete_volume is absent: the policy for ops-bot grants only read access" in out
    lines = (audit_dir / "audit.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    records = list(records)
    assert [(r["tool"], r["decision"]) for r in records] == [
        ("fly_list_machines", "allowed"),
        ("fly_restart_machine", "approved"),
        ("fly_stop_machine", "rejected"),
        ("fly_restart_machine", "refused"),
    ]
    assert records[1]["target"]["id"] == WEB_2
    assert records[2]["target"]["id"] == WEB_1
    assert "was rejected by on-call rule: web-1 holds the data volume" in out
    assert f"fly-tools audit {audit_dir / 'audit.jsonl'} --decision rejected" in out


def test_durable_approval(runs: dict[str, Run]) -> None:
    out = ran(runs, "durable_approval")
    assert "Paused: Delete volume" in out
    assert "Process 1 exited" in out
    assert (
        f"DELETE requests that reached Fly: ['DELETE /v1/apps/web/volumes/{VOL_DATA_OLD}']" in out
    )
    assert "approved by alice" in out


def test_durable_approval_under_strict_msgpack(tmp_path: Path) -> None:
    # Checkpoints hold plain JSON only: LangGraph's strict deserializer reads them back.
    env = {**os.environ, "LANGGRAPH_STRICT_MSGPACK": "true", "PYTHONWARNINGS": "error::UserWarning"}
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "durable_approval.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert f"['DELETE /v1/apps/web/volumes/{VOL_DATA_OLD}']" in run.stdout
