"""Every record names the fields of its answer others write, and no such text reaches the
model outside a fence (rules over the whole catalogue, not a list of names)."""

from __future__ import annotations

from typing import Any

import pytest

from fly_tools import ENDPOINTS, Approve, Endpoint, FlyToolkit
from fly_tools.risk import GROUPS
from fly_tools.testing.world import WEB_1
from fly_tools.tools.factory import tool_metadata
from fly_tools.tools.runtime import FlyToolError
from fly_tools.untrusted import others_text, shown_paths, unfenced, values_at
from tests.tools.world import EXAMPLES, prepared_world

RECORDS = pytest.mark.parametrize("endpoint", ENDPOINTS.records, ids=lambda e: e.name)
CANARY = "CANARY-7d1f"


@RECORDS
def test_answers_with_a_machine_config_name_its_metadata_and_env(endpoint: Endpoint) -> None:
    if endpoint.result in ("machine", "machines"):
        assert {"config.metadata", "config.env", "image_ref.labels"} <= set(endpoint.untrusted)
    if endpoint.result == "items" and endpoint.noun == "machine":
        prefix = f"{endpoint.rows_at}."
        assert {prefix + "config.metadata", prefix + "config.env"} <= set(endpoint.untrusted)
    if endpoint.result == "versions":
        assert {"user_config.metadata", "user_config.env"} <= set(endpoint.untrusted)


@RECORDS
def test_guest_output_events_processes_and_leases_name_theirs(endpoint: Endpoint) -> None:
    if endpoint.result == "exec" or endpoint.guest_output:
        assert endpoint.untrusted
    if endpoint.result == "processes":
        assert "command" in endpoint.untrusted
    if endpoint.result == "events":
        assert "request" in endpoint.untrusted
    if endpoint.result == "lease" and endpoint.method != "DELETE":
        assert "description" in endpoint.untrusted


@RECORDS
def test_metadata_answers_name_it(endpoint: Endpoint) -> None:
    if endpoint.group == "metadata" and endpoint.method in ("GET", "PATCH", "POST"):
        assert endpoint.untrusted, "a metadata answer carries others' keys and values"


@RECORDS
def test_each_untrusted_field_says_what_it_is_and_makes_the_tool_open_world(
    endpoint: Endpoint,
) -> None:
    for path, what in endpoint.untrusted.items():
        assert what
        assert what == what.strip()
        assert not what.endswith(".")
        assert path == "" or all(part.isidentifier() for part in path.split("."))
    hint = tool_metadata(endpoint, None)["openWorldHint"]
    assert hint is bool(endpoint.untrusted or endpoint.guest_output)


def test_values_at_walks_lists_and_reads_keys_and_values() -> None:
    answer = {"machines": [{"config": {"metadata": {"k": "v"}}}, {"config": {}}]}
    assert list(values_at(answer, "machines.config.metadata")) == ["k", "v"]
    assert list(values_at(["a", {"b": "c"}], "")) == ["a", "b", "c"]
    assert list(values_at({"x": 1}, "y")) == []


def _planted(tool: str) -> tuple[Any, dict[str, Any]]:
    """The tool's example world, with a canary in every field others can write."""
    fake, example = prepared_world(tool)
    for machine in fake.state.machines("web"):
        machine.config.setdefault("metadata", {})[f"{CANARY}-key"] = f"{CANARY}-value"
        machine.config.setdefault("env", {})["NOTE"] = f"{CANARY}-env"
        machine.config.setdefault("init", {})["cmd"] = ["bin/server", f"{CANARY}-cmd"]
        if machine.lease is not None:
            machine.lease.description = f"{CANARY}-lease"
    if tool == "fly_get_machine_metadata_key":
        example["key"] = f"{CANARY}-key"
    if tool == "fly_exec_machine":
        example["command"] = ["env"]
    return fake, example


READS = [e for e in ENDPOINTS.records if e.read_only or e.result == "exec"]


def _read_planted(endpoint: Endpoint) -> tuple[str, Any]:
    """(content, artifact) of the tool's example on the canary world; on an error, its
    text as content (a read the demo world cannot answer)."""
    fake, example = _planted(endpoint.name)
    toolkit = FlyToolkit(
        client=fake.client(scope="org"),
        scope="org",
        groups=list(GROUPS),
        confirm=lambda request: Approve(by="test"),
        check_scope=False,
    )
    try:
        return toolkit.call(endpoint.name, example)
    except FlyToolError as err:
        return str(err), None


@pytest.mark.parametrize("endpoint", READS, ids=lambda e: e.name)
def test_no_text_others_wrote_reaches_the_model_outside_a_fence(endpoint: Endpoint) -> None:
    content, artifact = _read_planted(endpoint)
    inside = unfenced(content)
    outside = content if inside == content else content.replace(inside, "")
    assert CANARY not in outside, content
    # The rule the fence follows is the one the record declares: fenced exactly when the
    # content shows a declared field that holds text.
    assert (inside != content) == bool(others_text(endpoint, artifact)), content
    if CANARY in inside:
        assert shown_paths(endpoint)


def test_the_canary_world_is_really_planted() -> None:
    fake, example = _planted("fly_get_machine_metadata")
    assert example["machine_id"] == WEB_1
    assert any(CANARY in str(m.config) for m in fake.state.machines("web"))
    assert EXAMPLES  # the tool tests' examples drive the canary test


def test_the_canary_reaches_the_fence_of_every_answer_that_shows_others_text() -> None:
    fenced = set()
    for endpoint in READS:
        content, _ = _read_planted(endpoint)
        if CANARY in unfenced(content) and unfenced(content) != content:
            fenced.add(endpoint.name)
    assert {
        "fly_exec_machine",
        "fly_list_machine_processes",
        "fly_get_lease",
        "fly_get_machine_metadata",
        "fly_get_machine_metadata_key",
    } <= fenced
