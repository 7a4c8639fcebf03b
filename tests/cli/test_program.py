"""The installed program, run as a process: limiter offline, a closed pipe, argument errors,
a tool's own help, relative approvals stores, and a fast `audit`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fly_tools import FlyToolkit
from fly_tools.catalogue import ENDPOINTS
from fly_tools.risk import DEFAULT_GROUPS
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA_OLD, WEB_1
from tests.cli.test_audit import write_trail

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **{
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLY_API", "FLY_ACCESS", "FLY_TOOLS"))
    },
    "PYTHONPATH": str(ROOT),
}


def fly_tools(
    *argv: str, cwd: Path, stdout: int = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """``fly-tools argv`` as a new process, from ``cwd``, with this checkout's package."""
    return subprocess.run(
        [sys.executable, "-m", "fly_tools.cli", *argv],
        cwd=cwd,
        env=ENV | _approver_vars(),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )


def _approver_vars() -> dict[str, str]:
    # The approver key a test installed (tests.approver), for the process it starts.
    return {k: v for k, v in os.environ.items() if k.startswith("FLY_TOOLS_APPROVER")}


# ---------------------------------------------------------------- --limiter


def test_limiter_memory_works_offline(tmp_path: Path) -> None:
    done = fly_tools(
        "call", "fly_list_machines", "--app", "web", "--limiter", "memory", cwd=tmp_path
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("3 machines.")
    bad = fly_tools("call", "fly_list_machines", "--app", "web", "--limiter", "bogus", cwd=tmp_path)
    assert (bad.returncode, bad.stdout) == (2, "")
    # The URL is not echoed (a limiter URL may hold a password); the fix is named.
    assert bad.stderr.startswith("fly-tools: The rate limiter from limiter= is neither")
    assert bad.stderr.count("\n") == 1


# ---------------------------------------------------------------- a closed pipe


@pytest.mark.parametrize(
    "argv",
    [
        ["tools", "--json"],  # a few kB: written before the reader could go away
        [
            "tools",
            "--scope",
            "org",
            "--groups",
            ",".join(sorted({e.group for e in ENDPOINTS.records})),
            "--json",
        ],
        ["tools", "--scope", "org"],
    ],
)
def test_a_closed_stdout_ends_quietly_whatever_the_size(tmp_path: Path, argv: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte, as after `| head -1`
    try:
        done = fly_tools(*argv, cwd=tmp_path, stdout=write_end)
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141  # 128 + SIGPIPE, as other Unix tools


# ---------------------------------------------------------------- argument errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"machine_id": WEB_1, "state": "bogus"},
            "state: Input should be 'started', 'stopped', 'suspended', 'destroyed', 'failed' "
            "or 'settled'; nothing was sent",
        ),
        (
            {"machine_id": WEB_1, "timeout": "soon"},
            "timeout: must be a whole number from 1 to 600; got 'soon'",
        ),
        (
            {"machine_id": WEB_1, "app_name": "worker"},
            "app_name: this toolkit is bound to app web; leave app_name out",
        ),
        ({}, "machine_id is required (give it in --args)"),
        (
            {"machine_id": WEB_1, "timeout": True},
            "timeout: must be a whole number from 1 to 600, not the boolean True",
        ),
    ],
)
def test_argument_errors_are_readable_and_exit_2(
    tmp_path: Path, args: dict[str, object], message: str
) -> None:
    audit = tmp_path / "audit.jsonl"
    done = fly_tools(
        "call",
        "fly_wait_machine",
        "--app",
        "web",
        "--args",
        json.dumps(args),
        "--audit",
        str(audit),
        cwd=tmp_path,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("fly-tools: --args for fly_wait_machine are invalid: ")
    assert message in done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stderr.count("nothing was sent") == 1
    for internal in ("function-after", "literal[", "like 8080", "Input should be 'web'"):
        assert internal not in done.stderr
    (record,) = [json.loads(line) for line in audit.read_text().splitlines()]
    assert (record["decision"], record["outcome"]) == ("refused", "not_executed")


def test_a_size_names_its_own_range(tmp_path: Path) -> None:
    args = json.dumps({"name": "data", "region": "ord", "size_gb": "big"})
    done = fly_tools(
        "call",
        "fly_create_volume",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        args,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "size_gb: must be a whole number from 1 to 500; got 'big'" in done.stderr


def test_the_tool_text_for_a_model_shows_no_validator_internals() -> None:
    toolkit = FlyToolkit(client=FakeFly.demo().client(scope="deploy"), scope="deploy", app="web")
    (wait,) = [t for t in toolkit.get_tools() if t.name == "fly_wait_machine"]
    text = wait.invoke({"machine_id": WEB_1, "state": ["bogus"]})
    assert "- state: Input should be 'started'" in text
    assert "function-after" not in text
    assert "literal[" not in text


def test_the_client_names_each_field_once_with_what_to_give() -> None:
    from fly_tools.client import InvalidArgumentsError

    fake = FakeFly.demo()
    bad = {"app_name": "web", "machine_id": WEB_1, "state": ["bogus"], "timeout": "soon"}
    with pytest.raises(InvalidArgumentsError) as caught:
        fake.client(scope="deploy").call("fly_wait_machine", bad)
    assert caught.value.problems == (
        "state: Input should be 'started', 'stopped', 'suspended', 'destroyed', 'failed' "
        "or 'settled'",
        "timeout: must be a whole number from 1 to 600; got 'soon'",
    )
    assert fake.requests == []


# ---------------------------------------------------------------- a tool's own help


def test_call_tool_help_lists_its_arguments(tmp_path: Path) -> None:
    done = fly_tools("call", "fly_wait_machine", "--help", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    out = done.stdout
    assert out.startswith("usage: fly-tools call fly_wait_machine")
    assert ENDPOINTS["fly_wait_machine"].description in out
    assert "  machine_id: string, required\n      From fly_list_machines." in out
    assert "  timeout: integer 1..600, default 60\n      Seconds in total." in out
    assert '"settled", or a list of them, default "started"' in out
    assert "--confirm-at" not in out  # the tool's arguments, not the command's options
    generic = fly_tools("call", "--help", cwd=tmp_path)
    assert "--confirm-at" in generic.stdout
    assert "`fly-tools call TOOL --help` lists the tool's arguments" in " ".join(
        generic.stdout.split()
    )
    typo = fly_tools("call", "fly_wait_machin", "--help", cwd=tmp_path)
    assert typo.returncode == 2
    assert "did you mean fly_wait_machine?" in typo.stderr


def test_every_tools_help_runs_and_names_each_argument() -> None:
    from fly_tools.cli.toolhelp import tool_help

    for endpoint in ENDPOINTS.records:
        text = tool_help(endpoint)
        for name in endpoint.args_model.model_fields:
            assert f"\n  {name}: " in text, (endpoint.name, name)


def test_tools_json_carries_each_argument_schema(tmp_path: Path) -> None:
    done = fly_tools("tools", "--scope", "deploy", "--app", "web", "--json", cwd=tmp_path)
    tools = {t["name"]: t for t in json.loads(done.stdout)["tools"]}
    schema = tools["fly_wait_machine"]["arguments"]
    assert schema["required"] == ["machine_id"]  # app_name is bound by --app
    assert schema["properties"]["timeout"]["maximum"] == 600
    unbound = json.loads(fly_tools("tools", "--scope", "org", "--json", cwd=tmp_path).stdout)
    wait = next(t for t in unbound["tools"] if t["name"] == "fly_wait_machine")
    assert wait["arguments"] == ENDPOINTS["fly_wait_machine"].args_model.model_json_schema()


# ---------------------------------------------------------------- groups= and include=


def test_groups_and_include_name_the_only_tools_offered() -> None:
    client = FakeFly.demo().client(scope="org")
    assert FlyToolkit(client=client, scope="org", include=["fly_list_regions"]).tool_names == [
        "fly_list_regions"
    ]
    default = FlyToolkit(client=client, scope="org").tool_names
    widened = FlyToolkit(client=client, scope="org", groups=[*DEFAULT_GROUPS, "platform"])
    platform = [e.name for e in ENDPOINTS.records if e.group == "platform" and "org" in e.scopes]
    assert widened.tool_names == [n for n in ENDPOINTS if n in {*default, *platform}]
    assert len(widened.tool_names) == len(default) + len(platform)


def test_help_and_readme_say_groups_and_include_replace_the_default() -> None:
    done = fly_tools("tools", "--help", cwd=ROOT)
    text = " ".join(done.stdout.split())
    assert "--groups GROUP[,GROUP] only these groups, in place of the default ones" in text
    assert "--include TOOL[,TOOL] only these tools" in text
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "to add it" not in readme
    assert "`groups=` names the groups a toolkit offers, in place of the default ones" in readme
    assert "`include=` names the only tools it offers" in readme


# ---------------------------------------------------------------- approvals stores


@pytest.mark.usefixtures("approver_env")
def test_a_relative_store_is_printed_absolute_and_found_from_elsewhere(tmp_path: Path) -> None:
    here, elsewhere = tmp_path / "agent", tmp_path / "person"
    here.mkdir()
    elsewhere.mkdir()
    args = json.dumps({"volume_id": VOL_DATA_OLD})
    asked = fly_tools(
        "call",
        "fly_delete_volume",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        args,
        "--store",
        "approvals.db",
        cwd=here,
    )
    assert asked.returncode == 1
    store = here / "approvals.db"
    assert f"--store {store}`" in asked.stderr
    command = asked.stderr.split("`")[1].split()
    assert command[:3] == ["fly-tools", "approvals", "approve"]
    answered = fly_tools(*command[1:], "--by", "alice", "--json", cwd=elsewhere)
    assert answered.returncode == 0, answered.stderr
    approval = json.loads(answered.stdout)
    assert approval["answered_by"] == "alice"
    assert approval["answered_at"].endswith("Z")  # ISO-8601, as the audit's times
    assert approval["created_at"][:4].isdigit()
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("store", ["typo.db", "sqlite:///typo.db"])
def test_approvals_on_a_missing_store_say_so_and_create_nothing(tmp_path: Path, store: str) -> None:
    for action in (["list"], ["show", "abc"], ["approve", "abc"]):
        done = fly_tools("approvals", *action, "--store", store, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (1, "")
        assert f"no approvals store at {tmp_path / 'typo.db'}" in done.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- audit


AUDIT_IMPORTS = """
import sys
from fly_tools.cli import main
main({argv!r})
print("IMPORTED", sorted(sys.modules))
"""


@pytest.mark.parametrize("flags", [[], ["--json"], ["--agent", "night-shift", "--since", "2h"]])
def test_audit_starts_without_pydantic_langchain_or_the_catalogue(
    tmp_path: Path, flags: list[str]
) -> None:
    path = tmp_path / "audit.jsonl"
    write_trail(path)
    code = AUDIT_IMPORTS.format(argv=["audit", str(path), *flags])
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    imported = {
        name.split(".")[0]
        for name in json.loads(done.stdout.rsplit("IMPORTED ", 1)[1].replace("'", '"'))
    }
    assert not imported & {"pydantic", "langchain_core", "langgraph", "httpx"}
    assert "fly_tools.catalogue" not in done.stdout.rsplit("IMPORTED ", 1)[1]


def test_the_fast_trail_is_the_guards_trail(tmp_path: Path) -> None:
    from fly_tools.cli.commands import read_trail, trail_text
    from fly_tools.guards import format_trail, read_jsonl

    path = tmp_path / "audit.jsonl"
    write_trail(path)
    assert trail_text(read_trail(str(path))) == format_trail(read_jsonl(path))
    assert read_trail(str(path)) == [r.to_dict() for r in read_jsonl(path)]


# ---------------------------------------------------------------- docs and make


def test_the_docs_describe_the_package_not_how_it_came_about() -> None:
    text = " ".join((ROOT / "docs" / "rate-limits.md").read_text(encoding="utf-8").split())
    for history in ("The issue", "were compared", "Choice:", "the older spelling", "still turns"):
        assert history not in text


def test_make_bench_says_it_runs_npm_install() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    assert "npm install" in recipe.splitlines()[1]  # said before anything runs
    assert "npm install" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_logs_are_turned_on_by_environment_and_show_no_token(tmp_path: Path) -> None:
    env = {**ENV, "FLY_TOOLS_LOG": "debug"}
    done = subprocess.run(
        [sys.executable, "-m", "fly_tools.cli", "call", "fly_list_machines", "--app", "web"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert "fly-tools DEBUG fly_tools.client: GET /apps/web/machines -> 200" in done.stderr
    assert "fm2_" not in done.stderr
    quiet = fly_tools("call", "fly_list_machines", "--app", "web", cwd=tmp_path)
    assert quiet.stderr == ""
