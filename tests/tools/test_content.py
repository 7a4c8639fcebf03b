"""What the model reads: concise content with the key fields; errors that read as advice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from fly_tools import ENDPOINTS, GROUPS, FlyToolkit, approve_all
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1, WEB_3
from tests.tools.world import prepared_world

MAX_CONTENT = 2000


def invoke(tool_name: str, args: dict[str, Any], fake: FakeFly | None = None) -> ToolMessage:
    fake = fake or FakeFly.demo()
    toolkit = FlyToolkit(client=fake.client(), scope="org", groups=GROUPS, confirm=approve_all)
    tool = next(t for t in toolkit.get_tools() if t.name == tool_name)
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": tool_name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_tool_answers_concisely(name: str) -> None:
    fake, example = prepared_world(name)
    message = invoke(name, example, fake)
    content = str(message.content)
    assert message.status != "error", content
    assert 10 < len(content) <= MAX_CONTENT
    assert message.artifact is not None


def test_list_machines_carries_operator_fields() -> None:
    content = str(invoke("fly_list_machines", {"app_name": "web"}).content)
    assert content.startswith("3 machines.")
    for expected in (WEB_1, "web-1", "started", "ord", "ams", "stopped", "registry.fly.io/web:v42"):
        assert expected in content
    assert "shared-1x/256MB" in content


def test_get_machine_is_a_fifth_of_the_raw_json() -> None:
    message = invoke("fly_get_machine", {"app_name": "web", "machine_id": WEB_1})
    content = str(message.content)
    raw = json.dumps(message.artifact)
    assert len(content) <= 0.2 * len(raw), (len(content), len(raw))
    for expected in (WEB_1, "started", "ord", "image=", "ip=", "checks 1/1 passing", VOL_DATA):
        assert expected in content


def test_volumes_show_attachment() -> None:
    content = str(invoke("fly_list_volumes", {"app_name": "web"}).content)
    assert f"{VOL_DATA} data 10GB ord" in content
    assert f"attached to machine {WEB_1}" in content
    assert f"{VOL_DATA_OLD} data_old 3GB ord" in content
    assert "not attached" in content


def test_secret_values_never_in_content() -> None:
    message = invoke(
        "fly_set_secret", {"app_name": "web", "secret_name": "API_KEY", "value": "hunter2-xyz"}
    )
    assert "hunter2" not in str(message.content)
    listing = invoke("fly_list_secrets", {"app_name": "web"})
    assert "DATABASE_URL" in str(listing.content)
    assert "values are never shown" in str(listing.content)


def test_large_lists_are_summarised_with_hints() -> None:
    fake = FakeFly.demo()
    client = fake.client()
    for i in range(40):
        client.call(
            "fly_create_machine",
            {"app_name": "web", "image": "nginx", "region": "ord" if i % 2 else "ams"},
        )
    content = str(invoke("fly_list_machines", {"app_name": "web"}, fake).content)
    assert content.startswith("43 machines.")
    assert "By region:" in content
    assert "more not shown" in content
    assert "Narrow with state=" in content
    assert len(content) <= MAX_CONTENT * 2


def test_not_found_reads_as_advice() -> None:
    message = invoke("fly_get_machine", {"app_name": "web", "machine_id": "0000000000dead"})
    assert message.status == "error"
    text = str(message.content)
    assert "404" in text
    assert "scope" in text.lower()


def test_delete_running_machine_error_says_what_to_do() -> None:
    message = invoke("fly_delete_machine", {"app_name": "web", "machine_id": WEB_1})
    assert message.status == "error"
    text = str(message.content).lower()
    assert "stop" in text or "force" in text


def test_start_points_to_wait() -> None:
    content = str(invoke("fly_start_machine", {"app_name": "web", "machine_id": WEB_3}).content)
    assert "fly_wait_machine" in content


def test_oidc_token_stays_out_of_content() -> None:
    message = invoke("fly_request_oidc_token", {"aud": "sts.amazonaws.com"})
    assert isinstance(message.artifact, str)
    assert message.artifact.count(".") == 2
    assert message.artifact not in str(message.content)


def test_every_result_kind_has_one_renderer() -> None:
    from typing import get_args

    from fly_tools.catalogue import ResultKind
    from fly_tools.tools.content import RENDERERS

    assert set(RENDERERS) == set(get_args(ResultKind))
    assert {e.result for e in ENDPOINTS.records} <= set(RENDERERS)


# ---------------------------------------------------------------- Fly's documented answers


DOCS_EVENTS = [  # the shape of the events in Fly's docs' machine example
    {
        "type": "exit",
        "status": "stopped",
        "source": "flyd",
        "timestamp": 1694799086340,
        "request": {
            "exit_event": {
                "requested_stop": True,
                "restarting": False,
                "guest_exit_code": 0,
                "guest_signal": -1,
                "guest_error": "",
                "exit_code": 143,
                "signal": -1,
                "error": "",
                "oom_killed": False,
                "exited_at": "2023-09-15T17:31:26.227Z",
            },
            "restart_count": 0,
        },
    },
    {"type": "start", "status": "started", "source": "flyd", "timestamp": 1694799071474},
]


def render(tool: str, args: dict[str, Any], result: Any) -> str:
    from fly_tools.tools.content import summarise

    endpoint = ENDPOINTS[tool]
    return summarise(endpoint, endpoint.args_model.model_validate(args), result)


def test_event_times_are_iso_like_every_other_time() -> None:
    content = render(
        "fly_list_machine_events", {"app_name": "web", "machine_id": WEB_1}, DOCS_EVENTS
    )
    assert "2023-09-15T17:31:26Z exit stopped (flyd)" in content
    assert "1694799086340" not in content


def test_events_from_the_fake_read_as_iso_times() -> None:
    content = str(
        invoke("fly_list_machine_events", {"app_name": "web", "machine_id": WEB_3}).content
    )
    assert "T" in content.splitlines()[1].split()[0]
    assert content.splitlines()[1].split()[0].endswith("Z")


def test_no_lease_is_a_normal_answer() -> None:
    message = invoke("fly_get_lease", {"app_name": "web", "machine_id": WEB_1})
    assert message.status != "error"
    assert str(message.content).startswith(f"No lease is held on machine {WEB_1}")


def test_deleted_volumes_are_listed_apart() -> None:
    fake = FakeFly.demo()
    invoke("fly_delete_volume", {"app_name": "web", "volume_id": VOL_DATA_OLD}, fake)
    content = str(invoke("fly_list_volumes", {"app_name": "web"}, fake).content)
    first, rest = content.split("\n", 1)
    assert first == "1 volume."
    assert "1 deleted volume still being destroyed (not usable; the delete succeeded" in rest
    assert f"{VOL_DATA_OLD} data_old (scheduling_destroy)" in rest


def test_a_delete_whose_reply_was_lost_reads_as_done() -> None:
    from fly_tools.testing import Fault

    fake = FakeFly.demo()
    fake.inject(Fault.reset(before=False), match="fly_delete_volume")
    message = invoke("fly_delete_volume", {"app_name": "web", "volume_id": VOL_DATA_OLD}, fake)
    assert message.status != "error"
    assert str(message.content).startswith(
        f"Volume {VOL_DATA_OLD} deleted: the first attempt succeeded but its reply was lost"
    )
    assert "Do not repeat the call." in str(message.content)
    # the approval's reads of the volume (to describe it, then to check it once approved),
    # the delete whose reply was lost, the retry (besides the toolkit's one-time check of
    # what its token may do)
    calls = [r for r in fake.requests if not r.path.startswith("/v1/tokens/")]
    assert [r.status for r in calls] == [200, 200, None, 404]
