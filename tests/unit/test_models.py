"""Argument models: hostile identifiers, durations, guest limits, config merging, wire mapping."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fly_tools.models import args as a
from fly_tools.models.config import MachineConfig

HOSTILE = [
    "../web", "web/../../admin", "web?x=1", "web#frag", "web%2f", "we b", "web\n",
    "web\x00", "", "a" * 64, "Web", "-web", "web-", "wéb", "web;rm", "web&x=1",
]  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_app_names_rejected_with_the_expected_form(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        a.AppArgs(app_name=value)
    message = str(info.value)
    assert "app_name" in message
    assert "lower-case letters, digits or dashes" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("machine_id", "abc/def"), ("machine_id", "..") , ("machine_id", "abc?x"),
        ("machine_id", "ABC"), ("machine_id", "a b"),
    ],
)  # fmt: skip
def test_hostile_machine_ids(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match="machine id must be"):
        a.MachineArgs(app_name="web", machine_id=value)


@pytest.mark.parametrize("value", ["vol/../x", "vol_", "x", "vol_a?b", "vol_a%00"])
def test_hostile_volume_ids(value: str) -> None:
    with pytest.raises(ValidationError, match="volume id must be"):
        a.VolumeArgs(app_name="web", volume_id=value)


@pytest.mark.parametrize("value", ["A/B", "1ABC", "A B", "A-B", "A..B", ""])
def test_hostile_secret_names(value: str) -> None:
    with pytest.raises(ValidationError, match="secret name must be"):
        a.SecretArgs(app_name="web", secret_name=value)


def test_error_names_the_bad_characters() -> None:
    with pytest.raises(ValidationError) as info:
        a.AppArgs(app_name="../etc?x")
    assert "'/'" in str(info.value)
    assert "'..'" in str(info.value)
    assert "'?'" in str(info.value)


def test_unknown_arguments_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        a.AppArgs(app_name="web", force=True)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("given", "sent"), [(30, "30s"), ("30s", "30s"), ("1m30s", "1m30s"), (1.5, "1.5s")]
)
def test_durations_go_out_as_strings(given: object, sent: str) -> None:
    args = a.StopMachineArgs(app_name="web", machine_id="abc", timeout=given)  # type: ignore[arg-type]
    assert args.json_body(frozenset({"app_name", "machine_id"})) == {"timeout": sent}


@pytest.mark.parametrize("bad", ["30", "thirty seconds", -1, True, "1d"])
def test_bad_durations_rejected(bad: object) -> None:
    with pytest.raises(ValidationError, match="duration"):
        a.StopMachineArgs(app_name="web", machine_id="abc", timeout=bad)  # type: ignore[arg-type]


def test_config_durations_normalised() -> None:
    config = MachineConfig.model_validate(
        {"image": "x", "checks": {"h": {"type": "http", "interval": 15, "timeout": "2s"}}}
    )
    assert config.to_wire()["checks"]["h"] == {"type": "http", "interval": "15s", "timeout": "2s"}


@pytest.mark.parametrize(
    ("kind", "cpus", "memory", "ok"),
    [
        ("shared", 1, 256, True), ("shared", 1, 2048, True), ("shared", 1, 4096, False),
        ("shared", 2, 300, False), ("shared", 3, 768, False), ("performance", 1, 1024, False),
        ("performance", 2, 4096, True), ("performance", 1, 8192, True),
    ],
)  # fmt: skip
def test_guest_limits(kind: str, cpus: int, memory: int, ok: bool) -> None:
    build = lambda: a.CreateMachineArgs(  # noqa: E731
        app_name="web",
        image="nginx",
        cpu_kind=kind,
        cpus=cpus,
        memory_mb=memory,  # type: ignore[arg-type]
    )
    if ok:
        assert build().merged_config()["guest"]["memory_mb"] == memory
    else:
        with pytest.raises(ValidationError, match=r"cpus|memory_mb"):
            build()


def test_create_machine_needs_an_image() -> None:
    with pytest.raises(ValidationError, match="image is required"):
        a.CreateMachineArgs(app_name="web")
    args = a.CreateMachineArgs(app_name="web", config={"image": "nginx:1.27"})
    assert args.json_body(frozenset({"app_name"}))["config"]["image"] == "nginx:1.27"


def test_create_machine_flat_fields_build_fly_config() -> None:
    args = a.CreateMachineArgs(
        app_name="web", image="nginx", region="ord", cpus=2, memory_mb=1024,
        internal_port=8080, volume_id="vol_abc", mount_path="/data", restart_policy="always",
        env={"A": "1"}, config={"metadata": {"team": "ops"}, "env": {"B": "2"}},
    )  # fmt: skip
    body = args.json_body(frozenset({"app_name"}))
    config = body["config"]
    assert body["region"] == "ord"
    assert config["guest"] == {"cpus": 2, "memory_mb": 1024}
    assert config["env"] == {"B": "2", "A": "1"}
    assert config["mounts"] == [{"volume": "vol_abc", "path": "/data"}]
    assert config["services"][0]["internal_port"] == 8080
    assert config["restart"] == {"policy": "always"}
    assert config["metadata"] == {"team": "ops"}


def test_config_field_is_checked_against_fly_config() -> None:
    with pytest.raises(ValidationError, match="memory"):
        a.CreateMachineArgs(app_name="web", image="x", config={"guest": {"memory": 512}})
    with pytest.raises(ValidationError, match="volume_id and mount_path"):
        a.CreateMachineArgs(app_name="web", image="x", volume_id="vol_abc")


def test_update_merges_into_current_config_and_guards_version() -> None:
    args = a.UpdateMachineArgs(app_name="web", machine_id="abc", image="web:v43", env={"X": "1"})
    current = {
        "instance_id": "01V1",
        "config": {"image": "web:v42", "env": {"A": "1"}, "guest": {"cpus": 1, "memory_mb": 256}},
    }
    body = args.update_body(current)
    assert body["current_version"] == "01V1"
    assert body["config"]["image"] == "web:v43"
    assert body["config"]["env"] == {"A": "1", "X": "1"}
    assert body["config"]["guest"] == {"cpus": 1, "memory_mb": 256}


def test_update_keeps_fields_this_package_does_not_model() -> None:
    args = a.UpdateMachineArgs(app_name="web", machine_id="abc", memory_mb=512)
    current = {"config": {"image": "x", "guest": {"cpus": 1, "memory_mb": 256}, "newer": {"a": 1}}}
    config = args.update_body(current)["config"]
    assert config["newer"] == {"a": 1}
    assert config["guest"] == {"cpus": 1, "memory_mb": 512}


def test_update_checks_the_resulting_guest_size() -> None:
    args = a.UpdateMachineArgs(app_name="web", machine_id="abc", cpus=4)
    with pytest.raises(ValueError, match="memory_mb for 4 shared"):
        args.update_body({"config": {"image": "x", "guest": {"cpus": 1, "memory_mb": 256}}})


def test_update_needs_a_change() -> None:
    with pytest.raises(ValidationError, match="at least one change"):
        a.UpdateMachineArgs(app_name="web", machine_id="abc")


def test_wait_caps_each_request_at_60_seconds() -> None:
    args = a.WaitMachineArgs(
        app_name="web", machine_id="abc", state=["started", "settled"], timeout=300
    )
    assert args.query_params() == [("state", "started"), ("state", "settled"), ("timeout", "60")]
    with pytest.raises(ValidationError):
        a.WaitMachineArgs(app_name="web", machine_id="abc", state="running")  # type: ignore[arg-type]


def test_query_and_body_mapping() -> None:
    assert a.DeleteMachineArgs(app_name="w", machine_id="a", force=True).query_params() == [
        ("force", "true")
    ]
    assert a.ListMachinesArgs(app_name="w", state=["started", "stopped"]).query_params() == [
        ("state", "started,stopped")
    ]
    assert a.CreateAppArgs(app_name="new", org_slug="acme").json_body(frozenset()) == {
        "name": "new",
        "org_slug": "acme",
    }
    assert (
        a.ReleaseLeaseArgs(app_name="w", machine_id="a", lease_nonce="n1").lease_nonce_header()
        == "n1"
    )


def test_secret_value_hidden_in_repr_but_sent() -> None:
    args = a.SetSecretArgs(app_name="web", secret_name="API_KEY", value="hunter2-value")
    assert "hunter2" not in repr(args)
    assert "hunter2" not in str(args.model_dump())
    assert args.json_body(frozenset({"app_name", "secret_name"})) == {"value": "hunter2-value"}


@pytest.mark.parametrize("size", [0, 501, -3])
def test_volume_sizes(size: int) -> None:
    with pytest.raises(ValidationError, match="size_gb"):
        a.CreateVolumeArgs(app_name="web", name="data", region="ord", size_gb=size)
    with pytest.raises(ValidationError, match="size_gb"):
        a.ExtendVolumeArgs(app_name="web", volume_id="vol_abc", size_gb=size)


def test_exec_command_is_a_list() -> None:
    with pytest.raises(ValidationError, match="command"):
        a.ExecMachineArgs(app_name="web", machine_id="abc", command=[])
    with pytest.raises(ValidationError, match="command"):
        a.ExecMachineArgs(app_name="web", machine_id="abc", command="ls -la")  # type: ignore[arg-type]


def test_a_single_state_is_read_as_a_list() -> None:
    assert a.ListMachinesArgs(app_name="web", state="stopped").query_params() == [  # type: ignore[arg-type]
        ("state", "stopped")
    ]
