"""The demo: a scripted operator under HumanInTheLoopMiddleware on the fake, and its variants."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from fly_tools import FlyToolkit, cli
from fly_tools.demo import (
    DemoError,
    DemoReport,
    Reviewer,
    load_model,
    model_from_env,
    operator_model,
    run_demo,
    run_live,
)
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_2, WEB_3

ROOT = Path(__file__).resolve().parents[2]


def _run(fake: FakeFly, reviewer: Reviewer, **options: object) -> tuple[DemoReport, str]:
    out = io.StringIO()
    report = run_demo(reviewer=reviewer, fake=fake, out=out, **options)  # type: ignore[arg-type]
    return report, out.getvalue()


def _volume_ids(fake: FakeFly) -> list[str]:
    """The volumes still there (a deleted one may be listed while Fly destroys it)."""
    volumes = fake.client().call("fly_list_volumes", {"app_name": "web"})
    return [v["id"] for v in volumes if "destroy" not in v.get("state", "")]


def _deletes(fake: FakeFly) -> list[str]:
    return [r.path for r in fake.requests if r.method == "DELETE"]


def test_without_a_terminal_or_flag_the_delete_is_rejected_and_said_so() -> None:
    fake = FakeFly.demo()
    reviewer = Reviewer.from_flags(yes=False, no=False, interactive=False)
    report, output = _run(fake, reviewer)

    assert fake.state.machine("web", WEB_3).state == "started"
    assert _deletes(fake) == []
    assert VOL_DATA_OLD in _volume_ids(fake)
    assert "scripted model" in output
    assert "no terminal to ask" in output
    assert "pass --yes to approve" in output
    assert [name for name, _ in report.reviews] == ["fly_delete_volume"]
    assert "I did not delete volume data_old" in report.answer
    last = report.records[-1]
    assert (last.tool, last.decision, last.outcome) == (
        "fly_delete_volume",
        "rejected",
        "not_executed",
    )


def test_yes_approves_the_delete_and_the_trail_shows_every_step() -> None:
    fake = FakeFly.demo()
    report, output = _run(fake, Reviewer.from_flags(yes=True, no=False))

    assert _deletes(fake) == [f"/v1/apps/web/volumes/{VOL_DATA_OLD}"]
    # The agent's own calls; reads made to describe the delete to the reviewer are audited too.
    agents_calls = list(report.records)
    assert [r.tool for r in agents_calls] == [
        "fly_list_machines",
        "fly_start_machine",
        "fly_wait_machine",
        "fly_list_volumes",
        "fly_delete_volume",
    ]
    assert all(r.outcome == "ok" for r in report.records)
    assert "Deleted volume data_old" in report.answer
    # The printed trail and request log come from the run, not from fixed text.
    assert "Audit trail:" in output
    assert f"ops-bot deleted volume {VOL_DATA_OLD} in app web" in output
    assert f"Requests that reached the fake Fly API: {len(fake.requests)}" in output
    assert f"DELETE /v1/apps/web/volumes/{VOL_DATA_OLD} 200" in output
    assert VOL_DATA_OLD not in _volume_ids(fake)


def test_no_rejects_and_nothing_destructive_reaches_the_fake() -> None:
    fake = FakeFly.demo()
    report, output = _run(fake, Reviewer.from_flags(yes=False, no=True))

    assert _deletes(fake) == []
    assert report.reviews[0][1].by == "--no"
    assert "rejected: the demo was run with --no" in output
    assert report.requests == [f"{r.method} {r.path} {r.status}" for r in fake.requests]


def test_the_plan_reads_tool_results_instead_of_fixed_ids() -> None:
    fake = FakeFly.demo()
    org = fake.client(scope="org")
    org.call("fly_start_machine", {"app_name": "web", "machine_id": WEB_3})
    org.call("fly_stop_machine", {"app_name": "web", "machine_id": WEB_2})
    org.call("fly_wait_machine", {"app_name": "web", "machine_id": WEB_2, "state": "stopped"})
    org.call("fly_delete_volume", {"app_name": "web", "volume_id": VOL_DATA_OLD})
    scratch = org.call(
        "fly_create_volume", {"app_name": "web", "name": "scratch", "region": "ams", "size_gb": 1}
    )
    fake.clear_requests()

    report, _ = _run(fake, Reviewer("approve"))

    started = [r for r in report.records if r.tool == "fly_start_machine"]
    assert [r.target.id for r in started] == [WEB_2]
    assert _deletes(fake) == [f"/v1/apps/web/volumes/{scratch['id']}"]
    assert "web-2" in report.answer


def test_an_app_with_nothing_to_delete_ends_without_a_pause() -> None:
    fake = FakeFly.demo()
    report, _ = _run(fake, Reviewer("reject"), app="worker")

    assert report.reviews == []
    assert "worker-3" in report.answer
    assert "removed none" in report.answer


def test_an_app_outside_the_demo_world_is_a_clear_error() -> None:
    with pytest.raises(DemoError, match="not in the demo world; use one of: web, worker"):
        _run(FakeFly.demo(), Reviewer("reject"), app="billing")


PROMPT = f"Approve fly_delete_volume on volume {VOL_DATA_OLD} in app web? [y]es / [e]dit / [n]o:"


@pytest.mark.parametrize(
    ("answers", "approved", "reason"),
    [
        (["y", VOL_DATA_OLD], True, None),
        (["y", "data_old"], True, None),  # the name read from Fly, what a person knows
        (["y", "data", "data", "data"], False, f"confirmation did not match '{VOL_DATA_OLD}'"),
        (["y", "y", "y", "y"], False, f"confirmation did not match '{VOL_DATA_OLD}'"),
        (["n"], False, "declined"),
        ([], False, "no answer (end of input)"),
    ],
)
def test_asking_at_the_terminal_uses_the_shared_console_prompt(
    answers: list[str], approved: bool, reason: str | None
) -> None:
    pending = iter(answers)

    def answer(prompt: str) -> str:
        try:
            return next(pending)
        except StopIteration:
            raise EOFError from None

    fake = FakeFly.demo()
    report, output = _run(fake, Reviewer("ask", input=answer))

    ((_, review),) = report.reviews
    assert (review.approved, review.by, review.reason) == (approved, "console", reason)
    # The same prompt as `fly-tools call` and ConsoleApproval: action named, target typed back.
    assert "--- Approval needed for ops-bot: fly_delete_volume (destructive) ---" in output
    assert PROMPT in output
    assert f"volume {VOL_DATA_OLD} in app web" in output
    assert "Approve? [y/N]" not in output
    if answers[:1] == ["y"]:
        assert f"Type {VOL_DATA_OLD} or data_old to confirm" in output
    assert bool(_deletes(fake)) is approved


def test_an_edit_at_the_terminal_becomes_the_middlewares_edit_decision() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.client(scope="deploy"), scope="deploy", app="web")
    answers = iter(["e", '{"volume_id": "vol_other"}'])
    action = {
        "name": "fly_delete_volume",
        "args": {"volume_id": VOL_DATA_OLD},
        "description": f"Delete volume {VOL_DATA_OLD} in app web.",
    }
    out = io.StringIO()
    review = Reviewer("ask", input=lambda prompt: next(answers)).review(
        action, out, toolkit=toolkit, allowed=["approve", "edit", "reject"]
    )
    assert review.decision == {
        "type": "edit",
        "edited_action": {"name": "fly_delete_volume", "args": {"volume_id": "vol_other"}},
    }
    assert "edited [console]" in out.getvalue()
    assert fake.requests == []


@pytest.mark.parametrize(("typed", "sent"), [(VOL_DATA, True), (VOL_DATA_OLD, False)])
def test_an_edited_delete_is_asked_again_and_sent_only_as_edited(typed: str, sent: bool) -> None:
    answers = iter(["e", json.dumps({"volume_id": VOL_DATA}), "y", typed, typed, typed])
    fake = FakeFly.demo()
    _, output = _run(fake, Reviewer("ask", input=lambda prompt: next(answers)))

    first, again = output.split("--- Approval needed")[1:]
    assert VOL_DATA_OLD in first
    assert "Edited by the reviewer" in again
    assert f"Type {VOL_DATA} or data to confirm" in again  # the edited target, id or name
    # Only the edited call can reach Fly, and only with its own id typed back.
    assert _deletes(fake) == ([f"/v1/apps/web/volumes/{VOL_DATA}"] if sent else [])


def test_where_the_middleware_allows_no_edit_the_prompt_offers_none() -> None:
    answers = iter(["e", "e", "e"])  # not a choice here: asked again, three times
    action = {"name": "fly_delete_app", "args": {"app_name": "web"}, "description": "Delete."}
    out = io.StringIO()
    review = Reviewer("ask", input=lambda prompt: next(answers)).review(
        action, out, allowed=["approve", "reject"]
    )
    assert review.decision["type"] == "reject"
    assert "Approve fly_delete_app on app web? [y]es / [n]o:" in out.getvalue()


def test_reviewer_from_flags() -> None:
    assert Reviewer.from_flags(yes=True, no=False, interactive=False).mode == "approve"
    assert Reviewer.from_flags(yes=False, no=True, interactive=True).mode == "reject"
    assert Reviewer.from_flags(yes=False, no=False, interactive=True).mode == "ask"
    assert Reviewer.from_flags(yes=False, no=False, interactive=False).mode == "no-terminal"
    with pytest.raises(ValueError, match="together"):
        Reviewer.from_flags(yes=True, no=True)


# ---------------------------------------------------------------- model choice


def test_no_model_configured_means_the_scripted_model() -> None:
    assert model_from_env({}) is None
    assert model_from_env({"FLY_TOOLS_MODEL": "  "}) is None


@pytest.mark.parametrize("spec", ["gpt", "no-such-provider:some-model", " : "])
def test_a_model_that_cannot_load_is_one_clear_line(spec: str) -> None:
    with pytest.raises(DemoError) as caught:
        load_model(spec)
    message = str(caught.value)
    assert "FLY_TOOLS_MODEL" in message
    assert "\n" not in message


@pytest.mark.parametrize("spec", ["gpt-4o", "openai:gpt-4o"])
def test_a_model_name_init_chat_model_accepts_is_passed_to_it(
    monkeypatch: pytest.MonkeyPatch, spec: str
) -> None:
    import langchain.chat_models

    chosen: list[str] = []

    def init_chat_model(name: str) -> object:
        chosen.append(name)
        return operator_model("web")

    monkeypatch.setattr(langchain.chat_models, "init_chat_model", init_chat_model)
    assert load_model(spec) is not None
    assert chosen == [spec]


def test_a_configured_model_runs_the_same_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import langchain.chat_models

    chosen: list[str] = []

    def init_chat_model(spec: str) -> object:
        chosen.append(spec)
        return operator_model("web")

    monkeypatch.setattr(langchain.chat_models, "init_chat_model", init_chat_model)
    monkeypatch.setenv("FLY_TOOLS_MODEL", "someprovider:some-model")

    assert cli.main(["demo", "--yes"]) == 0
    output = capsys.readouterr().out
    assert chosen == ["someprovider:some-model"]
    assert "model:   ScriptedChatModel" in output
    assert "a fixed plan that reads" not in output
    assert "Deleted volume data_old" in output


# ---------------------------------------------------------------- live (never for real)


def test_live_without_a_token_names_fly_api_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    monkeypatch.delenv("FLY_ACCESS_TOKEN", raising=False)

    assert cli.main(["demo", "--live", "--app", "web"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert "FLY_API_TOKEN" in line


def test_live_needs_an_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", "fm2_example")
    monkeypatch.delenv("FLY_APP_NAME", raising=False)
    with pytest.raises(DemoError, match="--live needs --app"):
        run_live(reviewer=Reviewer("reject"))


def test_live_reports_a_malformed_token_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = "fm2_has a space"
    monkeypatch.setenv("FLY_API_TOKEN", token)
    monkeypatch.delenv("FLY_ACCESS_TOKEN", raising=False)
    with pytest.raises(DemoError) as caught:
        run_live(reviewer=Reviewer("reject"), app="web")
    message = str(caught.value)
    assert "token" in message
    assert "\n" not in message
    assert "has a space" not in message


def test_live_flags_reach_the_live_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    from fly_tools import demo

    seen: dict[str, object] = {}

    def run_live(**options: object) -> DemoReport:
        seen.update(options)
        return DemoReport(messages=[AIMessage("ok")], records=[])

    monkeypatch.setattr(demo, "run_live", run_live)
    monkeypatch.delenv("FLY_TOOLS_MODEL", raising=False)

    assert cli.main(["demo", "--live", "--app", "billing", "--no"]) == 0
    assert seen["app"] == "billing"
    assert seen["model"] is None
    assert isinstance(seen["reviewer"], Reviewer)
    assert seen["reviewer"].mode == "reject"


def test_the_live_variant_reads_and_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_live end to end, its toolkit's client pointed at the fake instead of Fly."""
    fake = FakeFly.demo()
    built: dict[str, object] = {}

    def from_env(cls: type[FlyToolkit], /, scope: str, app: str, **options: object) -> FlyToolkit:
        built.update(options, scope=scope, app=app)
        return cls(client=fake.client(scope=scope, app=app), scope=scope, app=app, **options)

    monkeypatch.setattr(FlyToolkit, "from_env", classmethod(from_env))
    monkeypatch.setenv("FLY_API_TOKEN", "fm2_example")
    out = io.StringIO()

    report = run_live(reviewer=Reviewer("reject"), app="web", out=out)

    assert (built["scope"], built["app"]) == ("readonly", "web")
    assert {r.method for r in fake.requests} == {"GET"}
    assert report.answer == (
        f"web has 3 machine(s); stopped: web-3 ({WEB_3}). "
        f"web has 2 volume(s); not attached: data_old ({VOL_DATA_OLD}). Nothing was changed."
    )
    assert "readonly scope bound to app web: 11 tools, 0 of them pause" in out.getvalue()
    assert "Calls to Fly (all reads): 2, 2 answered" in out.getvalue()


# ---------------------------------------------------------------- a real terminal


def test_the_demo_asks_in_a_terminal_and_approves_on_y_and_the_typed_id() -> None:
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "FLY_TOOLS_MODEL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fly_tools.cli", "demo"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
        env=env,
    )
    os.close(follower)
    output = b""
    answered = typed = False
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        assert ready, f"no output for 60 s; so far: {output.decode(errors='replace')}"
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when the demo exits
            break
        if not chunk:
            break
        output += chunk
        if not answered and PROMPT.encode() in output:
            os.write(leader, b"y\n")
            answered = True
        if (
            answered
            and not typed
            and f"Type {VOL_DATA_OLD} or data_old to confirm".encode() in output
        ):
            os.write(leader, VOL_DATA_OLD.encode() + b"\n")
            typed = True
    os.close(leader)
    assert process.wait(timeout=60) == 0
    text = output.decode(errors="replace")
    assert answered
    assert typed
    assert "approved [console]" in text
    assert f"ops-bot deleted volume {VOL_DATA_OLD} in app web" in text


def test_demo_with_a_store_pauses_exits_and_resumes_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from fly_tools.approvals import open_store
    from fly_tools.approvals.hook import answer_signed
    from fly_tools.approvals.signing import public_text
    from fly_tools.demo import Reviewer, run_demo
    from fly_tools.testing import FakeFly
    from fly_tools.testing.world import VOL_DATA_OLD

    key = Ed25519PrivateKey.generate()
    monkeypatch.setenv("FLY_TOOLS_APPROVER_KEYS", public_text(key.public_key()))
    # One Fly and one token across the three runs: an answer is spent only by the caller
    # (token, API host, agent) that asked, so each run must be the same caller.
    world = FakeFly.demo()
    store_url = str(tmp_path / "approvals.db")
    first = run_demo(
        reviewer=Reviewer.from_flags(yes=False, no=False),
        store=store_url,
        out=io.StringIO(),
        fake=world,
    )
    assert not [r for r in first.requests if r.startswith("DELETE")]
    assert [r.decision for r in first.records if r.tool == "fly_delete_volume"] == ["pending"]
    store = open_store(store_url)
    (waiting,) = store.entries()
    answer_signed(store, key, waiting.id, "approved", "alice")  # another terminal
    seen = len(world.requests)
    second = run_demo(
        reviewer=Reviewer.from_flags(yes=False, no=False),
        store=store_url,
        out=io.StringIO(),
        fake=world,
    )
    assert [r for r in second.requests[seen:] if r.startswith("DELETE")] == [
        f"DELETE /v1/apps/web/volumes/{VOL_DATA_OLD} 200"
    ]
    seen = len(world.requests)
    third = run_demo(
        reviewer=Reviewer.from_flags(yes=False, no=False),
        store=store_url,
        out=io.StringIO(),
        fake=world,
    )
    third.requests = third.requests[seen:]
    assert not [r for r in third.requests if r.startswith("DELETE")]  # the approval is used up
