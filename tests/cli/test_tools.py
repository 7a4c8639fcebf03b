"""`fly-tools tools`: the toolkit's tools for the given options, as a table or as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fly_tools import ENDPOINTS, FlyToolkit, RiskTier, select_endpoints
from fly_tools.cli import options
from fly_tools.testing import FakeFly
from tests.cli.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "ops-bot-policy.toml"


def rows(out: str) -> list[str]:
    """The table's tool rows (after the column titles), without the footnote."""
    lines = out.strip().splitlines()
    start = next(n for n, line in enumerate(lines) if line.split()[:1] == ["tool"]) + 1
    return [line for line in lines[start:] if line.strip() and not line.startswith("* pauses")]


@pytest.mark.parametrize(
    "argv",
    [
        ["--scope", "org"],
        ["--scope", "deploy", "--app", "web"],
        ["--scope", "readonly"],
        ["--scope", "machine-exec"],
        ["--scope", "deploy", "--app", "web", "--policy", str(POLICY)],
        ["--scope", "org", "--groups", "machines,control", "--max-risk", "disruptive"],
        [
            "--scope",
            "org",
            "--groups",
            "volumes",
            "--groups",
            "secrets",
            "--exclude",
            "fly_delete_secret",
        ],
        ["--scope", "org", "--include", "fly_list_apps,fly_delete_app"],
    ],
)
def test_the_table_is_the_toolkits_tools(run: Run, fake: FakeFly, argv: list[str]) -> None:
    status, out, err = run("tools", *argv)
    assert (status, err) == (0, "")
    kit = FlyToolkit(
        client=fake.client(), **_toolkit_kwargs(argv)
    )  # the same options through the Python API
    listed = [row[2:].split()[0] for row in rows(out)]
    assert listed == kit.tool_names
    count = len(kit.tool_names)
    assert out.startswith(f"{count} tool{'s' if count != 1 else ''} for a")
    assert fake.requests == []  # listing sends nothing


def _toolkit_kwargs(argv: list[str]) -> dict[str, object]:
    flags: dict[str, list[str]] = {}
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        flags.setdefault(flag.removeprefix("--").replace("-", "_"), []).extend(value.split(","))
    kwargs: dict[str, object] = {
        k: v for k, v in flags.items() if k in ("groups", "include", "exclude")
    }
    kwargs["scope"] = flags["scope"][0]
    if "app" in flags:
        kwargs["app"] = flags["app"][0]
    if "max_risk" in flags:
        kwargs["max_risk"] = flags["max_risk"][0]
    if "policy" in flags:
        from fly_tools import AgentPolicy

        kwargs["policy"] = AgentPolicy.from_file(flags["policy"][0])
    return kwargs


def test_rows_say_what_a_tool_does_and_mark_those_that_pause(run: Run) -> None:
    status, out, _ = run("tools", "--scope", "org")
    assert status == 0
    assert out.splitlines()[2].split() == ["tool", "tier", "group", "what", "it", "does"]
    for row in rows(out):
        name = row[2:].split()[0]
        endpoint = ENDPOINTS[name]
        assert endpoint.description in row
        assert row.startswith("* ") is (endpoint.risk >= RiskTier.DESTRUCTIVE), row
    assert "* pauses for a human before it runs (destructive and above)." in out


def test_confirm_at_moves_the_mark(run: Run) -> None:
    _, out, _ = run("tools", "--scope", "org", "--confirm-at", "write")
    marked = {row[2:].split()[0] for row in rows(out) if row.startswith("* ")}
    assert marked == {e.name for e in ENDPOINTS.records if e.default and e.risk >= RiskTier.WRITE}
    assert "(write and above)" in out


def test_without_scope_or_live_the_scope_is_readonly_and_said_so(run: Run) -> None:
    status, out, _ = run("tools")
    assert status == 0
    readonly = select_endpoints("readonly")
    assert out.splitlines()[0] == (
        f"{len(readonly)} tools for a readonly-scoped token "
        "(the default without --live; give --scope for more):"
    )
    assert all(ENDPOINTS[row[2:].split()[0]].risk == RiskTier.READ for row in rows(out))
    assert "* pauses" not in out  # nothing in readonly pauses


def test_grammar_one_tool_and_an_org(run: Run) -> None:
    _, out, _ = run("tools", "--scope", "machine-exec")
    assert out.startswith("1 tool for a machine-exec-scoped token:")
    _, out, _ = run("tools", "--scope", "org", "--include", "fly_list_apps")
    assert out.startswith("1 tool for an org-scoped token:")


def test_json_is_one_document_with_every_field(run: Run) -> None:
    status, out, err = run("tools", "--scope", "deploy", "--app", "web", "--json")
    assert (status, err) == (0, "")
    document = json.loads(out)
    assert (document["scope"], document["scope_from"], document["app"]) == ("deploy", "flag", "web")
    assert document["confirm_at"] == "destructive"
    expected = select_endpoints("deploy", app_bound=True)
    assert [t["name"] for t in document["tools"]] == [e.name for e in expected]
    first = document["tools"][0]
    endpoint = ENDPOINTS[first["name"]]
    assert first == {
        "name": endpoint.name,
        "group": endpoint.group,
        "tier": endpoint.risk.label,
        "scopes": [
            s for s in ("org", "deploy", "readonly", "machine-exec") if s in endpoint.scopes
        ],
        "description": endpoint.description,
        "pauses": False,
        "arguments": {  # the arguments JSON Schema, without the app --app binds
            **endpoint.args_model.model_json_schema(),
            "properties": {
                k: v
                for k, v in endpoint.args_model.model_json_schema()["properties"].items()
                if k != "app_name"
            },
            "required": [
                k for k in endpoint.args_model.model_json_schema()["required"] if k != "app_name"
            ],
        },
    }
    assert {t["name"] for t in document["tools"] if t["pauses"]} == {
        e.name for e in expected if e.risk >= RiskTier.DESTRUCTIVE
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--groups", "volumz"], "--groups: unknown name 'volumz'; did you mean volumes?"),
        (
            ["--include", "fly_lst_apps"],
            "--include: unknown name 'fly_lst_apps'; did you mean fly_list_apps?",
        ),
        (["--exclude", "nope"], "--exclude: unknown name 'nope'"),
        (["--app", "Not An App"], "is not a Fly app name"),
        (
            ["--max-risk", "read", "--include", "fly_delete_app"],
            "these options leave no tools for a readonly-scoped token: widen --groups, "
            "--max-risk or --include, drop --exclude, or loosen --policy",
        ),
    ],
)
def test_bad_filters_are_one_line_usage_errors_in_flag_terms(
    run: Run, argv: list[str], message: str
) -> None:
    status, out, err = run("tools", *argv)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err
    assert "max_risk" not in err
    assert "groups/" not in err


def test_live_reads_the_scope_from_the_token(
    run: Run, fake: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(options, "live_client", lambda **extra: fake.client(scope="readonly"))
    status, out, _ = run("tools", "--live", "--json")
    assert status == 0
    document = json.loads(out)
    assert (document["scope"], document["scope_from"]) == ("readonly", "token")
    assert [(r.method, r.path) for r in fake.requests] == [
        ("GET", "/v1/tokens/current"),
        ("POST", "/v1/tokens/authorize"),
    ]
