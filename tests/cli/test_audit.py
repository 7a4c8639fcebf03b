"""`fly-tools audit`: the trail filtered by agent, decision, tool and time, as text or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from fly_tools import AuditRecord, JsonlSink
from fly_tools.catalogue import ENDPOINTS
from fly_tools.cli.commands import parse_since
from fly_tools.cli.usage import UsageError
from fly_tools.guards import Verdict
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA_OLD, WEB_1
from tests.cli.conftest import Run

NOW = datetime.now(UTC)


def write_trail(path: Path) -> None:
    """Three records: a read two days ago, a stop an hour ago, a rejected delete just now."""
    sink = JsonlSink(path)
    for ago, tool, args, decision, agent in [
        (timedelta(days=2), "fly_list_machines", {"app_name": "web"}, "allowed", "fly-tools"),
        (
            timedelta(hours=1),
            "fly_stop_machine",
            {"app_name": "web", "machine_id": WEB_1},
            "allowed",
            "night-shift",
        ),
        (
            timedelta(0),
            "fly_delete_volume",
            {"app_name": "web", "volume_id": VOL_DATA_OLD},
            "rejected",
            "fly-tools",
        ),
    ]:
        record = AuditRecord.build(
            agent_id=agent,
            endpoint=ENDPOINTS[tool],
            args=args,
            decision=cast(Verdict, decision),
            decided_by="--no" if decision == "rejected" else "toolkit policy",
            outcome="not_executed" if decision == "rejected" else "ok",
        )
        stamp = (NOW - ago).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        sink.write(AuditRecord.from_dict({**record.to_dict(), "time": stamp}))


@pytest.fixture
def trail(tmp_path: Path) -> str:
    path = tmp_path / "audit.jsonl"
    write_trail(path)
    return str(path)


def test_audit_prints_the_whole_trail(run: Run, trail: str) -> None:
    status, out, _ = run("audit", trail)
    assert status == 0
    lines = out.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("1. ")
    assert "fly-tools listed the machines in app web" in lines[0]
    assert f"night-shift stopped machine {WEB_1} in app web" in lines[1]
    assert "was rejected with --no on the command line." in lines[2]


@pytest.mark.parametrize(
    ("filters", "tools"),
    [
        (["--agent", "night-shift"], ["fly_stop_machine"]),
        (["--decision", "rejected"], ["fly_delete_volume"]),
        (["--tool", "fly_stop_machine"], ["fly_stop_machine"]),
        (["--since", "90m"], ["fly_stop_machine", "fly_delete_volume"]),
        (["--since", "1d"], ["fly_stop_machine", "fly_delete_volume"]),
        (
            ["--since", (NOW - timedelta(days=3)).date().isoformat()],
            ["fly_list_machines", "fly_stop_machine", "fly_delete_volume"],
        ),
        (["--since", "30m", "--agent", "fly-tools"], ["fly_delete_volume"]),
        (["--tool", "fly_delete_app"], []),
    ],
)
def test_filters_combine(run: Run, trail: str, filters: list[str], tools: list[str]) -> None:
    status, out, _ = run("audit", trail, *filters, "--json")
    assert status == 0
    document = json.loads(out)
    assert [r["tool"] for r in document["records"]] == tools
    assert document["count"] == len(tools)
    _, text, _ = run("audit", trail, *filters)
    if tools:
        assert len(text.strip().splitlines()) == len(tools)
    else:
        assert text.strip() == "No audit records match."


def test_json_records_read_back_as_records(run: Run, trail: str) -> None:
    _, out, _ = run("audit", trail, "--json")
    records = [AuditRecord.from_dict(r) for r in json.loads(out)["records"]]
    assert [r.decision for r in records] == ["allowed", "allowed", "rejected"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--tool", "fly_stop_machin"],
            "--tool: unknown name 'fly_stop_machin'; did you mean fly_stop_machine?",
        ),
        (["--since", "yesterday"], "--since 'yesterday' is neither a time"),
        (["--since", "10 parsecs"], "--since '10 parsecs' is neither a time"),
    ],
)
def test_bad_filters_are_usage_errors(run: Run, trail: str, argv: list[str], message: str) -> None:
    status, out, err = run("audit", trail, *argv)
    assert (status, out) == (2, "")
    assert message in err


def test_since_reads_times_dates_and_durations() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_since("15m", now) == datetime(2026, 5, 1, 11, 45, tzinfo=UTC)
    assert parse_since("2h", now) == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert parse_since("1w", now) == datetime(2026, 4, 24, 12, 0, tzinfo=UTC)
    assert parse_since("2026-04-30", now) == datetime(2026, 4, 30, tzinfo=UTC)
    assert parse_since("2026-04-30T10:00Z", now) == datetime(2026, 4, 30, 10, tzinfo=UTC)
    assert parse_since("2026-04-30T12:00+02:00", now) == datetime(2026, 4, 30, 10, tzinfo=UTC)
    with pytest.raises(UsageError):
        parse_since("soon", now)


def test_a_call_then_its_audit(run: Run, fake: FakeFly, tmp_path: Path) -> None:
    audit = str(tmp_path / "audit.jsonl")
    delete = json.dumps({"volume_id": VOL_DATA_OLD})
    run(
        "call",
        "fly_delete_volume",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        delete,
        "--no",
        "--audit",
        audit,
    )
    status, out, _ = run("audit", audit, "--decision", "rejected", "--tool", "fly_delete_volume")
    assert status == 0
    assert "delete volume" in out
    assert "rejected with --no on the command line" in out
    assert not [r for r in fake.requests if r.method == "DELETE"]


def test_audit_of_a_corrupt_file_names_the_line(run: Run, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    audit.write_text('{"not": "a record"}\n')
    status, _, err = run("audit", str(audit))
    assert status == 2
    assert f"{audit}:1: not an audit record" in err
