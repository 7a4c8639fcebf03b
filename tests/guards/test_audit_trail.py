"""Audit records: sentences, sinks, reading back, and no secret in any of them."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fly_tools.catalogue import ENDPOINTS, Phrase
from fly_tools.guards import (
    AuditLog,
    AuditRecord,
    JsonlSink,
    LoggingSink,
    MemorySink,
    Target,
    format_trail,
    read_jsonl,
)
from fly_tools.models.args import FlyArgs


def record(
    args_for: Callable[..., FlyArgs], tool: str = "fly_stop_machine", **fields: Any
) -> AuditRecord:
    endpoint = ENDPOINTS[tool]
    values: dict[str, Any] = {
        "agent_id": "ops-bot",
        "endpoint": endpoint,
        "args": args_for(endpoint),
        "decision": "approved",
        "decided_by": "console",
        "outcome": "ok",
        "duration_ms": 12.3456,
    }
    values.update(fields)
    return AuditRecord.build(**values)


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({}, "ops-bot stopped machine 3d8d9015b23489 in app web — approved at the prompt."),
        (
            {"decision": "edited", "decided_by": "alice"},
            "ops-bot stopped machine 3d8d9015b23489 in app web — edited and approved by alice.",
        ),
        (
            {"decision": "allowed", "decided_by": "toolkit policy", "tool": "fly_list_machines"},
            "ops-bot listed the machines in app web.",
        ),
        (
            {
                "decision": "refused",
                "decided_by": "guard",
                "outcome": "not_executed",
                "tool": "fly_delete_app",
                "error": "a readonly-scoped token cannot call fly_delete_app",
            },
            "ops-bot's attempt to delete app web was refused: "
            "a readonly-scoped token cannot call fly_delete_app.",
        ),
        (
            {"decision": "rejected", "outcome": "not_executed", "error": "keep it running."},
            "ops-bot's attempt to stop machine 3d8d9015b23489 in app web was rejected at the prompt: "
            "keep it running.",
        ),
        (
            {"outcome": "error", "status": 404, "error": "machine not found"},
            "ops-bot's attempt to stop machine 3d8d9015b23489 in app web failed: "
            "404 machine not found (approved at the prompt).",
        ),
        (
            {"decision": "allowed", "outcome": "error", "status": 409, "error": "409: lease held"},
            "ops-bot's attempt to stop machine 3d8d9015b23489 in app web failed: 409: lease held.",
        ),
        (
            {"agent_id": None, "decision": "allowed"},
            "The agent stopped machine 3d8d9015b23489 in app web.",
        ),
    ],
)
def test_each_record_is_one_plain_english_sentence(
    args_for: Callable[..., FlyArgs], fields: dict[str, Any], sentence: str
) -> None:
    tool = fields.pop("tool", "fly_stop_machine")
    assert record(args_for, tool, **fields).sentence == sentence


def test_a_sentence_reads_the_records_phrase_never_its_tool_name() -> None:
    # Deliberate change: words were parsed out of the tool name; now a wider catalogue's
    # endpoint reads by its own phrase, and one without a phrase is named, not guessed.
    quiesce = replace(
        ENDPOINTS["fly_stop_machine"],
        name="fly_quiesce_machine",
        phrase=Phrase(ask="quiesce {target}", done="quiesced {target}"),
    )
    assert "fly_quiesce_machine" not in ENDPOINTS
    args = {"app_name": "web", "machine_id": "3d8d9015b23489"}
    done = AuditRecord.build(
        agent_id="ops-bot",
        endpoint=quiesce,
        args=args,
        decision="allowed",
        decided_by="toolkit policy",
        outcome="ok",
    )
    assert done.sentence == "ops-bot quiesced machine 3d8d9015b23489 in app web."
    refused = replace(done, decision="refused", outcome="not_executed", error="no")
    assert refused.worded(quiesce).sentence == (
        "ops-bot's attempt to quiesce machine 3d8d9015b23489 in app web was refused: no."
    )
    unworded = replace(quiesce, phrase=None)
    bare = AuditRecord.build(
        agent_id="ops-bot",
        endpoint=unworded,
        args=args,
        decision="allowed",
        decided_by="toolkit policy",
        outcome="ok",
    )
    assert bare.sentence == (
        "ops-bot called fly_quiesce_machine on machine 3d8d9015b23489 in app web."
    )
    odd = replace(done, tool="quiesce", sentence="")
    assert odd.sentence == "ops-bot called quiesce on machine 3d8d9015b23489 in app web."


@pytest.mark.parametrize(
    ("agent", "decided_by", "error", "sentence"),
    [
        (
            "fly-tools",
            "--no",
            "run with --no",
            "fly-tools' attempt to delete volume vol_abc123 in app web was rejected with --no "
            "on the command line.",
        ),
        (
            "ops-bot",
            "console",
            "declined",
            "ops-bot's attempt to delete volume vol_abc123 in app web was rejected at the prompt: "
            "declined.",
        ),
        (
            "ops-bot",
            "mcp client",
            "the user chose reject: \x1b[2Kfine\u202e",
            "ops-bot's attempt to delete volume vol_abc123 in app web was rejected by mcp client: "
            "the user chose reject: \\x1b[2Kfine\\u202e.",
        ),
    ],
)
def test_rejections_read_as_a_person_writes(
    args_for: Callable[..., FlyArgs], agent: str, decided_by: str, error: str, sentence: str
) -> None:
    rec = record(
        args_for,
        "fly_delete_volume",
        agent_id=agent,
        decision="rejected",
        decided_by=decided_by,
        outcome="not_executed",
        error=error,
    )
    assert rec.sentence == sentence
    assert format_trail([rec]).startswith("1. ")
    assert "\x1b" not in format_trail([rec])


def test_the_trail_cuts_a_huge_sentence_with_a_mark(args_for: Callable[..., FlyArgs]) -> None:
    rec = record(args_for, decision="rejected", outcome="not_executed", error="x" * 5000)
    line = format_trail([rec])
    assert "more characters; full text in fly-tools audit --json]" in line
    assert len(line) < 800


def test_record_fields(args_for: Callable[..., FlyArgs]) -> None:
    rec = record(args_for, outcome="error", status=503, error="unavailable")
    assert rec.time.endswith("Z")
    assert "T" in rec.time
    assert rec.tool == "fly_stop_machine"
    assert rec.target == Target("machine", "web", "3d8d9015b23489")
    assert rec.args == {"app_name": "web", "machine_id": "3d8d9015b23489"}
    assert (rec.decision, rec.decided_by, rec.outcome, rec.status) == (
        "approved",
        "console",
        "error",
        503,
    )
    assert rec.duration_ms == 12.346


def test_invalid_call_is_recorded_with_what_is_known() -> None:
    endpoint = ENDPOINTS["fly_stop_machine"]
    for args in (None, {"app_name": "web", "machine_id": ["x"]}):
        rec = AuditRecord.build(
            agent_id="ops-bot",
            endpoint=endpoint,
            args=args,
            decision="refused",
            decided_by="validation",
            outcome="not_executed",
            error="machine_id: not a string",
        )
        assert rec.target.kind == "machine"
        assert rec.target.id is None
        assert rec.sentence.startswith("ops-bot's attempt to stop a machine")


def test_unknown_decision_or_outcome_is_an_error(args_for: Callable[..., FlyArgs]) -> None:
    with pytest.raises(ValueError, match="decision must be one of"):
        record(args_for, decision="failed")
    with pytest.raises(ValueError, match="outcome must be one of"):
        record(args_for, outcome="maybe")


def test_json_round_trip(args_for: Callable[..., FlyArgs]) -> None:
    rec = record(args_for, "fly_update_machine", outcome="error", status=422, error="bad — image")
    line = rec.to_json()
    assert "\n" not in line
    data = json.loads(line)
    assert data["target"] == {"kind": "machine", "app": "web", "id": "3d8d9015b23489"}
    assert AuditRecord.from_dict(data) == rec


def test_jsonl_sink_appends_lines_that_read_back(
    tmp_path: Path, args_for: Callable[..., FlyArgs]
) -> None:
    path = tmp_path / "audit" / "trail.jsonl"
    first = record(args_for)
    second = record(args_for, "fly_delete_app", decision="rejected", outcome="not_executed")
    JsonlSink(path).write(first)
    JsonlSink(path).write(second)  # a second writer appends, never truncates
    assert path.read_text(encoding="utf-8").count("\n") == 2
    assert read_jsonl(path) == [first, second]


def test_jsonl_sink_is_thread_safe(tmp_path: Path, args_for: Callable[..., FlyArgs]) -> None:
    path = tmp_path / "trail.jsonl"
    log = AuditLog(JsonlSink(path))
    records = [record(args_for, error=f"call {i} " + "x" * 5000) for i in range(200)]

    def write_every_eighth(start: int) -> None:
        for rec in records[start::8]:
            log.record(rec)

    threads = [threading.Thread(target=write_every_eighth, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    read = read_jsonl(path)
    assert len(read) == 200
    assert sorted(r.error or "" for r in read) == sorted(r.error or "" for r in records)


def test_read_jsonl_names_the_bad_line(tmp_path: Path, args_for: Callable[..., FlyArgs]) -> None:
    path = tmp_path / "trail.jsonl"
    path.write_text(record(args_for).to_json() + '\n\n{"tool": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"trail\.jsonl:3: not an audit record"):
        read_jsonl(path)


def test_logging_sink_logs_the_sentence_with_the_record(
    caplog: pytest.LogCaptureFixture, args_for: Callable[..., FlyArgs]
) -> None:
    rec = record(args_for)
    with caplog.at_level(logging.INFO, logger="fly_tools.audit"):
        LoggingSink().write(rec)
    (logged,) = caplog.records
    assert logged.name == "fly_tools.audit"
    assert logged.getMessage() == rec.sentence
    assert logged.audit_record == rec  # type: ignore[attr-defined]


def test_a_failing_sink_does_not_break_the_call(
    caplog: pytest.LogCaptureFixture, args_for: Callable[..., FlyArgs]
) -> None:
    class Broken:
        def write(self, record: AuditRecord) -> None:
            raise OSError("disk full")

    memory = MemorySink()
    log = AuditLog(Broken(), memory)
    with caplog.at_level(logging.WARNING):
        log.record(record(args_for))
    assert len(memory.records) == 1
    assert "OSError: disk full" in caplog.text


def test_format_trail_numbers_and_filters(args_for: Callable[..., FlyArgs]) -> None:
    records = [
        record(args_for),
        record(args_for, agent_id="cron", decision="allowed"),
        record(args_for, "fly_delete_app", decision="rejected", outcome="not_executed"),
    ]
    lines = format_trail(records).splitlines()
    assert len(lines) == 3
    assert lines[0] == f"1. {records[0].time} {records[0].sentence} (12 ms)"
    assert (
        format_trail(records, agent="cron") == f"1. {records[1].time} {records[1].sentence} (12 ms)"
    )
    assert format_trail(records, agent="ops-bot", decision="rejected").startswith("1. ")
    assert "was rejected" in format_trail(records, decision="rejected")
    assert format_trail(records, decision="edited") == "No audit records match."
    assert format_trail([]) == "No audit records."
    with pytest.raises(ValueError, match="unknown decision"):
        format_trail(records, decision="denied")


def test_token_and_secret_values_never_reach_a_record_or_log_line(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    args_for: Callable[..., FlyArgs],
    secret_value: str,
    token: str,
) -> None:
    path = tmp_path / "trail.jsonl"
    memory = MemorySink()
    log = AuditLog(JsonlSink(path), LoggingSink(), memory)
    secret_args = args_for(ENDPOINTS["fly_set_secret"])
    exec_args = args_for(ENDPOINTS["fly_exec_machine"], stdin=secret_value, command=["echo", token])
    secrets = [token, secret_value]
    with caplog.at_level(logging.DEBUG):
        for tool, args in (("fly_set_secret", secret_args), ("fly_exec_machine", exec_args)):
            for outcome, error in (
                ("ok", None),
                ("error", f"401 bad token {token}: {secret_value}"),
            ):
                rec = record(
                    args_for, tool, args=args, outcome=outcome, error=error, secrets=secrets
                )
                log.record(rec)
    assert len(memory.records) == 4
    texts = [path.read_text(encoding="utf-8"), caplog.text]
    texts += [r.to_json() + r.sentence for r in memory.records]
    texts += [json.dumps(vars(r), default=str) for r in caplog.records]
    for text in texts:
        assert token not in text
        assert secret_value not in text
    assert memory.records[0].args["value"] == "[redacted]"
