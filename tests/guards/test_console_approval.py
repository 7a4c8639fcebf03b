"""The console prompt, driven by scripted input: what it shows, type-back, one prompt at a time."""

from __future__ import annotations

import builtins
import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from fly_tools import ConsoleApproval as ExportedConsoleApproval
from fly_tools import FlyToolkit
from fly_tools.guards import ActionRequest, Approve, ConsoleApproval, Edit, Reject, decide_sync
from fly_tools.guards import console as console_module
from fly_tools.guards.console import INTERRUPTED, write_unless_prompting
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD

RequestFor = Callable[..., ActionRequest]


def console(scripted: Callable[..., object], *answers: str) -> tuple[ConsoleApproval, io.StringIO]:
    out = io.StringIO()
    return ConsoleApproval(input=scripted(*answers), output=out), out  # type: ignore[arg-type]


def test_the_prompt_lives_in_its_own_module_and_keeps_its_exports() -> None:
    assert ConsoleApproval is ExportedConsoleApproval is console_module.ConsoleApproval
    import fly_tools.guards.confirm as confirm

    assert not hasattr(confirm, "ConsoleApproval")


def test_shows_description_tier_target_and_args_and_names_the_action(
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
    assert '  args:   {"app_name":"web","machine_id":"3d8d9015b23489","signal":"SIGTERM"}' in shown
    assert shown.rstrip().endswith(
        "Approve fly_stop_machine on machine 3d8d9015b23489 in app web? [y]es / [e]dit / [n]o:"
    )
    assert "EDITED" not in shown


def test_no_unknown_answer_end_of_input_and_ctrl_c_reject(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    request = request_for("fly_stop_machine")
    for answers, reason in [
        (("n",), "declined"),
        (("sure", "", "yess"), 'no answer among y/e/n in 3 tries (last: "yess")'),
        (("sure",), "no answer (end of input)"),
        ((), "no answer (end of input)"),
    ]:
        prompt, _ = console(scripted, *answers)
        assert prompt(request) == Reject(reason, by="console")

    def ctrl_c(prompt: str) -> str:
        raise KeyboardInterrupt

    interrupted = ConsoleApproval(input=ctrl_c, output=io.StringIO())
    assert interrupted(request) == Reject(INTERRUPTED, by="console")
    assert not console_module._EXCHANGE.locked(), "Ctrl-C must not leave the prompt lock held"
    prompt, _ = console(scripted, "y")  # the next prompt is not blocked
    assert prompt(request) == Approve(by="console")


def test_ctrl_c_at_the_type_back_rejects_and_frees_the_lock(
    request_for: RequestFor,
) -> None:
    answers = iter(["y"])

    def answer(prompt: str) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise KeyboardInterrupt from None

    prompt = ConsoleApproval(input=answer, output=io.StringIO())
    assert prompt(request_for("fly_delete_app")) == Reject(INTERRUPTED, by="console")
    assert not console_module._EXCHANGE.locked()


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


def test_without_edit_the_prompt_offers_yes_or_no(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    out = io.StringIO()
    prompt = ConsoleApproval(input=scripted("e"), output=out, allow_edit=False)  # type: ignore[arg-type]
    decision = prompt(request_for("fly_stop_machine"))
    assert decision == Reject("no answer (end of input)", by="console")
    assert "? [y]es / [n]o:" in out.getvalue()


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
    assert (
        "Type vol_abc123 to confirm fly_delete_volume on volume vol_abc123 in app web"
        in out.getvalue()
    )
    for answers in (("y", "vol_abc12", "", "vol_abc1234"), ("y", "", "", "")):
        prompt, _ = console(scripted, *answers)
        assert prompt(request) == Reject("confirmation did not match 'vol_abc123'", by="console")
    prompt, _ = console(scripted, "y")
    assert prompt(request) == Reject("no answer (end of input)", by="console")


def test_each_delete_and_exec_asks_for_its_own_target(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    for tool, name in [
        ("fly_delete_app", "web"),
        ("fly_delete_machine", "3d8d9015b23489"),
        ("fly_delete_secret", "DATABASE_URL"),
        ("fly_exec_machine", "3d8d9015b23489"),
    ]:
        prompt, _ = console(scripted, "y", name)
        assert prompt(request_for(tool)) == Approve(by="console"), tool
        prompt, _ = console(scripted, "y", "y", "y", "y")  # a second "y" is not the target
        assert isinstance(prompt(request_for(tool)), Reject), tool
    prompt, _ = console(scripted, "y")  # disruptive: no second question
    assert prompt(request_for("fly_stop_machine")) == Approve(by="console")


def test_the_requests_type_back_is_what_must_be_typed(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    exec_request = replace(request_for("fly_exec_machine"), type_back="ls")
    prompt, out = console(scripted, "y", "ls")
    assert prompt(exec_request) == Approve(by="console")
    assert "Type ls to confirm" in out.getvalue()
    prompt, _ = console(scripted, "y", "3d8d9015b23489", "3d8d9015b23489", "3d8d9015b23489")
    assert prompt(exec_request) == Reject("confirmation did not match 'ls'", by="console")
    # A tier the fallback would not ask about still asks when the toolkit says so.
    extend = replace(request_for("fly_extend_volume"), type_back="vol_abc123")
    prompt, _ = console(scripted, "y")
    assert isinstance(prompt(extend), Reject)


def test_an_edited_call_is_marked_and_facts_are_shown(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    request = replace(
        request_for("fly_stop_machine"),
        edited=True,
        reversible=False,
        facts={"state": "started", "region": "ord"},
    )
    prompt, out = console(scripted, "n")
    prompt(request)
    shown = out.getvalue()
    assert "EDITED CALL: this is the call as edited; it needs your approval again." in shown
    assert shown.index("EDITED CALL") < shown.index(request.description)
    assert 'read from Fly just now: state: "started", region: "ord"' in shown
    assert "this cannot be undone" in shown


def test_an_edit_is_returned_to_be_asked_again_as_edited(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    request = request_for("fly_delete_machine")
    prompt, out = console(scripted, "e", '{"machine_id": "e2865013f6d3e8"}')
    decision = prompt(request)
    assert decision == Edit({**request.args, "machine_id": "e2865013f6d3e8"}, by="console")
    assert "Type " not in out.getvalue()  # the edited call's own question asks for that
    assert "will be described again for your approval" in out.getvalue()


def test_through_a_toolkit_the_edited_call_is_asked_again_with_its_own_target() -> None:
    fake = FakeFly.demo()
    out = io.StringIO()
    answers = iter(["e", json.dumps({"volume_id": VOL_DATA_OLD}), "y", VOL_DATA_OLD])
    prompt = ConsoleApproval(input=lambda text: next(answers), output=out)
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy"), scope="deploy", app="web", confirm=prompt
    )
    delete = {t.name: t for t in toolkit.get_tools()}["fly_delete_volume"]
    delete.invoke({"volume_id": VOL_DATA})
    shown = out.getvalue()
    first, again = shown.split("--- Approval needed")[1:]
    assert VOL_DATA in first
    assert "EDITED CALL" not in first
    assert "EDITED CALL" in again
    assert f"Type {VOL_DATA_OLD} or data_old to confirm fly_delete_volume on volume" in again
    assert [r.path for r in fake.requests if r.method == "DELETE"] == [
        f"/v1/apps/web/volumes/{VOL_DATA_OLD}"
    ]


def test_through_a_toolkit_a_wrong_name_for_the_edited_call_sends_nothing() -> None:
    fake = FakeFly.demo()
    answers = iter(["e", json.dumps({"volume_id": VOL_DATA_OLD}), "y", VOL_DATA])
    prompt = ConsoleApproval(input=lambda text: next(answers), output=io.StringIO())
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy"), scope="deploy", app="web", confirm=prompt
    )
    delete = {t.name: t for t in toolkit.get_tools()}["fly_delete_volume"]
    delete.invoke({"volume_id": VOL_DATA})
    changes = [r for r in fake.requests if r.method != "GET" and "/tokens/" not in r.path]
    assert changes == []  # asking Fly what the token may do changes nothing


def test_console_works_through_decide_sync_with_a_timeout(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    prompt, _ = console(scripted, "y", "web")
    prompt.name = "ops-desk"
    assert decide_sync(prompt, request_for("fly_delete_app"), 5) == Approve(by="ops-desk")


# ---------------------------------------------------------------- one prompt at a time


class Person:
    """Answers whatever question is on screen: the target when asked to type it, else ``y``.

    Slow on purpose, so that any second prompt opened meanwhile would show up.
    """

    def __init__(self, out: io.StringIO) -> None:
        self.out = out
        self.waiting = 0
        self.most_waiting = 0
        self.lock_held: list[bool] = []
        self.ticks: list[bool] = []
        self._count = threading.Lock()

    def __call__(self, prompt: str) -> str:
        with self._count:
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
        self.lock_held.append(console_module._EXCHANGE.locked())
        self.ticks.append(write_unless_prompting(io.StringIO(), "tick"))
        time.sleep(0.01)
        question = self.out.getvalue().rsplit("\n", 1)[-1]
        with self._count:
            self.waiting -= 1
        if "This cannot be undone. Type " in question:
            return question.split("This cannot be undone. Type ", 1)[1].split(" ", 1)[0]
        return "y"


def test_parallel_calls_are_asked_one_at_a_time(request_for: RequestFor) -> None:
    out = io.StringIO()
    person = Person(out)
    requests = [
        request_for("fly_exec_machine"),
        request_for("fly_delete_secret"),
        request_for("fly_delete_volume"),
        request_for("fly_stop_machine"),
    ] * 3
    results: list[object] = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def ask(n: int) -> None:
        prompt = ConsoleApproval(input=person, output=out)  # an instance per call
        start.wait()
        results[n] = decide_sync(prompt, requests[n], 30)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert results == [Approve(by="console")] * len(requests)
    assert person.most_waiting == 1
    assert all(person.lock_held)
    assert not any(person.ticks), "nothing else may print while a prompt waits"
    # Each block shows one request, then only questions about that request's target.
    blocks = out.getvalue().split("--- Approval needed")[1:]
    assert len(blocks) == len(requests)
    for block in blocks:
        target = block.split("target: ", 1)[1].split("\n", 1)[0]
        questions = [line for line in block.splitlines() if "Approve " in line or "Type " in line]
        assert questions, block
        assert all(target in q for q in questions), block
    assert write_unless_prompting(io.StringIO(), "tick")


def test_lines_typed_ahead_of_a_question_are_discarded(
    request_for: RequestFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    termios = pytest.importorskip("termios")
    flushed: list[int] = []

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

        def fileno(self) -> int:
            return 0

    monkeypatch.setattr("sys.stdin", Terminal("y\nvol_abc123\n"))
    monkeypatch.setattr(termios, "tcflush", lambda fd, queue: flushed.append(queue))
    prompt = ConsoleApproval(input=builtins.input, output=io.StringIO())
    assert prompt(request_for("fly_delete_volume")) == Approve(by="console")
    assert flushed == [termios.TCIFLUSH, termios.TCIFLUSH]  # before each question


def test_the_volumes_name_read_from_fly_is_accepted_as_its_type_back() -> None:
    fake = FakeFly.demo()
    out = io.StringIO()
    answers = iter(["y", "data_old"])
    prompt = ConsoleApproval(input=lambda text: next(answers), output=out)
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy"), scope="deploy", app="web", confirm=prompt
    )
    delete = {t.name: t for t in toolkit.get_tools()}["fly_delete_volume"]
    delete.invoke({"volume_id": VOL_DATA_OLD})
    assert f"Type {VOL_DATA_OLD} or data_old to confirm" in out.getvalue()
    assert [r.path for r in fake.requests if r.method == "DELETE"] == [
        f"/v1/apps/web/volumes/{VOL_DATA_OLD}"
    ]


def test_a_name_that_is_not_plain_is_never_a_type_back(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    for name in ("y", "d\u0430ta", "data\x1b", " data", "x"):
        request = replace(request_for("fly_delete_volume"), facts={"name": name})
        prompt, _ = console(scripted, "y", name, name, name)
        assert isinstance(prompt(request), Reject), name


def test_a_typo_at_the_type_back_asks_again(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    prompt, out = console(scripted, "y", "vol_abc12", "vol_abc123")
    assert prompt(request_for("fly_delete_volume")) == Approve(by="console")
    assert "That is not vol_abc123." in out.getvalue()
    prompt, out = console(scripted, "yy", "y", "vol_abc123")
    assert prompt(request_for("fly_delete_volume")) == Approve(by="console")
    assert "Please answer y, e or n." in out.getvalue()


def test_ctrl_c_says_it_rejected(request_for: RequestFor) -> None:
    def ctrl_c(prompt: str) -> str:
        raise KeyboardInterrupt

    out = io.StringIO()
    ConsoleApproval(input=ctrl_c, output=out)(request_for("fly_stop_machine"))
    assert "Rejected: interrupted at the prompt (Ctrl-C); nothing was sent." in out.getvalue()


def test_nothing_fly_or_the_agent_wrote_reaches_the_terminal_raw(
    request_for: RequestFor, scripted: Callable[..., object]
) -> None:
    forged = "web-1\r\x1b[1A\x1b[2K--- read from Fly just now: destroyed \u202e\x9b"
    request = replace(
        request_for("fly_stop_machine"),
        description=f"Stop it.\nnamed {forged}",
        facts={"name": forged, "state": "started\x1b[2K"},
        agent_id="ops\x1bbot",
    )
    prompt, out = console(scripted, "n")
    prompt(request)
    shown = out.getvalue()
    for char in ("\r", "\x1b", "\u202e", "\x9b"):
        assert char not in shown
    assert '"web-1\\r\\x1b[1A\\x1b[2K--- read from Fly' in shown
