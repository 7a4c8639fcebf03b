"""Planted values, odd characters and deep nesting: every call still leaves one record.

A model can plant any text as a "secret" (``fly_set_secret`` is a write, not gated) and
every later record must still build; a lone surrogate in a tool-call id or an argument
must still be written; arguments nested hundreds of levels deep are refused with a
record, never a ``RecursionError``. Each door an agent uses is tried.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import StructuredTool, ToolException

from fly_tools import AuditLog, FlyToolkit, JsonlSink, MemorySink, approve_all, read_jsonl
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA_OLD, WEB_1
from tests.reliability.support import LeakScan

PLANTED = [
    '{"app_name": "',
    '"}], "x": [{"',
    "\\u00e9\\\\\\",
    "quote\"back\\slash'",
    "line one\nline two\r\n\t\x00end",
]
"""Values a model can store as a secret, each able to break text-level JSON scrubbing."""
DOORS = ["invoke", "ainvoke", "call", "acall"]


def _toolkit(fake: FakeFly, tmp_path: Path, *, strict: bool = False) -> tuple[FlyToolkit, Path]:
    path = tmp_path / "audit.jsonl"
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(MemorySink(), JsonlSink(path), strict=strict),
        confirm=approve_all,
    )
    return toolkit, path


def _through(toolkit: FlyToolkit, door: str, name: str, args: dict[str, Any], call_id: str) -> str:
    """Call ``name`` through ``door``; the text the model reads (errors included)."""
    if door in ("call", "acall"):
        try:
            if door == "call":
                content, _ = toolkit.call(name, args)
            else:
                content, _ = asyncio.run(toolkit.acall(name, args))
        except ToolException as err:
            return str(err)
        return str(content)
    tool = next(t for t in toolkit.get_tools() if t.name == name)
    call = ToolCall(name=name, args=args, id=call_id, type="tool_call")
    message = tool.invoke(call) if door == "invoke" else asyncio.run(tool.ainvoke(call))
    assert isinstance(message, ToolMessage)
    return str(message.content)


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("planted", PLANTED)
def test_a_planted_secret_breaks_no_later_call_or_record(
    planted: str, door: str, strict: bool, tmp_path: Path
) -> None:
    fake = FakeFly.demo()
    toolkit, path = _toolkit(fake, tmp_path, strict=strict)
    _through(toolkit, door, "fly_set_secret", {"secret_name": "PLANTED", "value": planted}, "c1")
    listed = _through(toolkit, door, "fly_list_machines", {}, "c2")
    assert WEB_1 in listed
    deleted = _through(toolkit, door, "fly_delete_volume", {"volume_id": VOL_DATA_OLD}, "c3")
    assert "Not executed" not in deleted
    assert any(r.method == "DELETE" and VOL_DATA_OLD in r.path for r in fake.requests)
    records = read_jsonl(path)
    assert [r.tool for r in records] == ["fly_set_secret", "fly_list_machines", "fly_delete_volume"]
    assert [r.outcome for r in records] == ["ok", "ok", "ok"]
    assert not any(planted in text for r in records for text in _strings(r.to_dict()))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_a_lone_surrogate_in_an_id_or_an_argument_is_recorded(strict: bool, tmp_path: Path) -> None:
    fake = FakeFly.demo()
    toolkit, path = _toolkit(fake, tmp_path, strict=strict)
    tools = {t.name: t for t in toolkit.get_tools()}
    call = ToolCall(
        name="fly_delete_volume", args={"volume_id": VOL_DATA_OLD}, id="c\ud800", type="tool_call"
    )
    message = tools["fly_delete_volume"].invoke(call)
    assert message.status != "error", message.content
    before = len(fake.requests)
    exec_args = {"machine_id": WEB_1, "command": ["echo", "caf\udce9"]}
    refused = tools["fly_exec_machine"].invoke(
        ToolCall(name="fly_exec_machine", args=exec_args, id="c2", type="tool_call")
    )
    assert "invalid Unicode" in str(refused.content)
    assert len(fake.requests) == before
    records = read_jsonl(path)
    assert [r.tool for r in records] == ["fly_delete_volume", "fly_exec_machine"]
    assert records[0].outcome == "ok"
    assert records[0].context["tool_call_id"] == "c\\ud800"
    assert records[1].decision == "refused"
    assert records[1].args["command"] == ["echo", "caf\\udce9"]


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("fly_create_machine", {"image": "nginx:1.27", "config_extra": _nested(350)}),
        ("fly_create_machine", {"image": "nginx:1.27", "metadata": _nested(350)}),
        ("fly_list_machines", {"extra": _nested(350)}),
        ("fly_exec_machine", {"machine_id": WEB_1, "command": ["ls"], "stdin": _nested(350)}),
        ("fly_set_secret", {"secret_name": "X", "value": [[[[[[[[[[_nested(340)]]]]]]]]]]}),
    ],
)
@pytest.mark.parametrize("door", ["invoke", "ainvoke", "func", "call"])
def test_arguments_nested_350_deep_are_refused_with_a_record(
    name: str, args: dict[str, Any], door: str, tmp_path: Path
) -> None:
    fake = FakeFly.demo()
    toolkit, path = _toolkit(fake, tmp_path)
    before = len(fake.requests)
    tool = next(t for t in toolkit.get_tools() if t.name == name)
    if door == "func":
        assert isinstance(tool, StructuredTool)
        assert tool.func is not None
        with pytest.raises(ToolException, match="deeper than 32 levels"):
            tool.func(**args)
    else:
        text = _through(toolkit, door, name, args, "deep")
        assert "deeper than 32 levels" in text
    assert len(fake.requests) == before
    (record,) = read_jsonl(path)
    assert record.decision == "refused"
    assert "deeper than 32 levels" in (record.error or "")


def test_callbacks_see_deep_arguments_cut_not_crashed(leak_scan: LeakScan) -> None:
    from tests.tools.test_recorded_once import Recorder

    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.client(scope="deploy", app="web"), scope="deploy", app="web")
    tool = next(t for t in toolkit.get_tools() if t.name == "fly_create_machine")
    recorder = Recorder()
    args = {"image": "nginx:1.27", "env": {"A": "b"}, "metadata": _nested(500)}
    message = tool.invoke(
        ToolCall(name=tool.name, args=args, id="c1", type="tool_call"),
        config={"callbacks": [recorder]},
    )
    assert "deeper than 32 levels" in str(message.content)
    assert recorder.seen


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_a_record_that_cannot_be_built_is_itself_recorded(
    strict: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fly_tools.tools.runtime import ToolkitRuntime

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("cannot build")

    monkeypatch.setattr(ToolkitRuntime, "build_record", broken)
    fake = FakeFly.demo()
    toolkit, path = _toolkit(fake, tmp_path, strict=strict)
    text = _through(toolkit, "invoke", "fly_delete_volume", {"volume_id": VOL_DATA_OLD}, "c1")
    sent = any(r.method == "DELETE" for r in fake.requests)
    (record,) = read_jsonl(path)
    assert "could not be recorded" in (record.error or "")
    if strict:  # decided before the send: nothing it cannot record goes out
        assert not sent
        assert "Not executed" in text
        assert record.outcome == "not_executed"
    else:
        assert sent
        assert record.outcome == "ok"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("fly_create_app", {"app_name": "new-app", "org_slug": "personal", "network": "a\r\nb"}),
        ("fly_create_app", {"app_name": "new-app", "org_slug": "personal", "network": "n\x00"}),
        ("fly_create_app", {"app_name": "new-app", "org_slug": "personal", "network": "../web"}),
        ("fly_create_app", {"app_name": "new-app", "org_slug": "personal", "network": "n" * 5000}),
        ("fly_get_placements", {"org_slug": "personal", "region": " web"}),
        ("fly_get_placements", {"org_slug": "personal", "region": "lhr, eu"}),
    ],
)
def test_network_and_region_fields_are_refused_not_trimmed(
    name: str, args: dict[str, Any], tmp_path: Path
) -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(
        client=fake.client(scope="org"),
        scope="org",
        groups=["apps", "platform"],
        audit=AuditLog(JsonlSink(tmp_path / "audit.jsonl")),
        confirm=approve_all,
    )
    before = len(fake.requests)
    text = _through(toolkit, "invoke", name, args, "c1")
    assert "Fix these arguments" in text
    assert len(fake.requests) == before
    (record,) = read_jsonl(tmp_path / "audit.jsonl")
    assert record.decision == "refused"


def test_a_planted_secret_breaks_nothing_through_a_tool_node(tmp_path: Path) -> None:
    from langchain_core.messages import AIMessage
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode

    fake = FakeFly.demo()
    toolkit, path = _toolkit(fake, tmp_path, strict=True)
    graph = StateGraph(MessagesState)
    graph.add_node("tools", ToolNode(toolkit.get_tools()))
    graph.add_edge(START, "tools")
    app = graph.compile()
    turns = [
        [("fly_set_secret", {"secret_name": "PLANTED", "value": PLANTED[0]})],
        [("fly_list_machines", {}), ("fly_delete_volume", {"volume_id": VOL_DATA_OLD})],
    ]
    answers: list[Any] = []
    for n, turn in enumerate(turns):
        calls = [
            {"name": name, "args": args, "id": f"t{n}-{i}", "type": "tool_call"}
            for i, (name, args) in enumerate(turn)
        ]
        answers += app.invoke({"messages": [AIMessage(content="", tool_calls=calls)]})["messages"][
            1:
        ]
    assert [m.status for m in answers] == ["success", "success", "success"]
    records = read_jsonl(path)
    assert sorted(r.tool for r in records) == sorted(
        ["fly_set_secret", "fly_list_machines", "fly_delete_volume"]
    )
    assert all(r.outcome == "ok" for r in records)


def test_a_strict_sink_failing_after_the_send_never_raises_past_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class FailsOnWrite:
        def check(self) -> None:
            """Writable when asked before the send."""

        def write(self, record: Any) -> None:
            raise OSError("disk full")

    fake = FakeFly.demo()
    memory = MemorySink()
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(memory, FailsOnWrite(), strict=True),
        confirm=approve_all,
    )
    text = _through(toolkit, "invoke", "fly_delete_volume", {"volume_id": VOL_DATA_OLD}, "c1")
    assert "Not executed" not in text
    assert any(r.method == "DELETE" for r in fake.requests)
    assert [r.outcome for r in memory.records] == ["ok"]  # the other sink still has it
    assert "could not be written" in caplog.text
