"""The console prompt, driven by scripted input."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from fly_tools.guards import ActionRequest, Approve, ConsoleApproval, Edit, Reject, decide_sync

RequestFor = Callable[..., ActionRequest]


def console(scripted: Callable[..., object], *answers: str) -> tuple[ConsoleApproval, io.StringIO]:
    out = io.StringIO()
    return ConsoleApproval(input=scripted(*answers), output=out), out  # type: ignore[arg-type]


def test_shows_description_tier_target_and_args(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    prompt, out = console(scripted, "y")
    request = request_for("fly_stop_machine", signal="SIGTERM")
    assert prompt(request) == Approve(by="console")
    shown = out.getvalue()
    assert "fly_stop_machine (disruptive)" in shown
    assert "for ops-bot" in shown
    assert request.description in shown
    assert "target: machine 3d8d9015b23489 in app web" in shown
    assert json.dumps(dict(request.args)) in shown
    assert shown.rstrip().endswith("Approve? [y]es / [e]dit / [n]o:")


def test_no_unknown_answer_and_end_of_input_reject(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    request = request_for("fly_stop_machine")
    for answers, reason in [
        (("n",), "declined"),
        (("sure",), "answer 'sure' is not y/e/n"),
        ((), "no answer (end of input)"),
    ]:
        prompt, _ = console(scripted, *answers)
        assert prompt(request) == Reject(reason, by="console")


def test_edit_merges_a_json_object_into_the_arguments(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    request = request_for("fly_stop_machine")
    prompt, _ = console(scripted, "e", '{"signal": "SIGTERM", "timeout": "30s"}')
    assert prompt(request) == Edit(
        {**request.args, "signal": "SIGTERM", "timeout": "30s"}, by="console"
    )


def test_edit_that_is_not_a_json_object_rejects(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    request = request_for("fly_stop_machine")
    for text in ("{not json", "[1, 2]"):
        prompt, _ = console(scripted, "e", text)
        assert prompt(request) == Reject("the edit was not a JSON object", by="console")
    prompt, _ = console(scripted, "e")
    assert prompt(request) == Reject("no answer (end of input)", by="console")


def test_edit_must_restate_redacted_values(
    request_for: RequestFor, scripted: Callable[..., object], secret_value: str
) -> None:
    request = request_for("fly_set_secret")
    assert secret_value not in json.dumps(dict(request.args))
    prompt, out = console(scripted, "e", '{"secret_name": "API_KEY"}')
    decision = prompt(request)
    assert isinstance(decision, Reject)
    assert "[redacted]" in decision.reason
    assert secret_value not in out.getvalue()
    prompt, _ = console(scripted, "e", '{"value": "new-value"}')
    assert prompt(request) == Edit({**request.args, "value": "new-value"}, by="console")


def test_irreversible_delete_needs_the_name_typed(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    request = request_for("fly_delete_volume")
    prompt, out = console(scripted, "y", "vol_abc123")
    assert prompt(request) == Approve(by="console")
    assert "Type vol_abc123 to confirm" in out.getvalue()
    for answers in (("y", "vol_abc12"), ("y", ""), ("y",)):
        prompt, _ = console(scripted, *answers)
        assert prompt(request) == Reject("confirmation did not match 'vol_abc123'", by="console")


def test_each_delete_asks_for_its_own_name(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    for tool, name in [
        ("fly_delete_app", "web"),
        ("fly_delete_machine", "3d8d9015b23489"),
        ("fly_delete_secret", "DATABASE_URL"),
    ]:
        prompt, _ = console(scripted, "y", name)
        assert prompt(request_for(tool)) == Approve(by="console")
    prompt, _ = console(scripted, "y")  # not a delete: no second question
    assert prompt(request_for("fly_exec_machine")) == Approve(by="console")


def test_edited_delete_needs_the_new_name_typed(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    request = request_for("fly_delete_machine")
    prompt, _ = console(scripted, "e", '{"machine_id": "e2865013f6d3e8"}', "3d8d9015b23489")
    assert isinstance(prompt(request), Reject)
    prompt, _ = console(scripted, "e", '{"machine_id": "e2865013f6d3e8"}', "e2865013f6d3e8")
    decision = prompt(request)
    assert isinstance(decision, Edit)
    assert decision.args["machine_id"] == "e2865013f6d3e8"


def test_console_works_through_decide_sync_with_a_timeout(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    prompt, _ = console(scripted, "y", "web")
    prompt.name = "ops-desk"
    assert decide_sync(prompt, request_for("fly_delete_app"), 5) == Approve(by="ops-desk")
