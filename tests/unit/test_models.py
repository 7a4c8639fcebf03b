"""Argument models: hostile identifiers and values, durations, numbers, guest limits, config merging."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from fly_tools.models import args as a
from fly_tools.models.config import MachineConfig

HOSTILE = [
    "../web",
    "web/../../admin",
    "web?x=1",
    "web#frag",
    "web%2f",
    "we b",
    "web\n",
    "web\x00",
    "",
    "a" * 64,
    "Web",
    "-web",
    "web-",
    "wéb",
    "web;rm",
    "web&x=1",
]


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
        ("machine_id", "abc/def"),
        ("machine_id", ".."),
        ("machine_id", "abc?x"),
        ("machine_id", "ABC"),
        ("machine_id", "a b"),
    ],
)
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
    ("given", "sent"),
    [
        (30, "30s"),
        ("30s", "30s"),
        ("1m30s", "1m30s"),
        (1.5, "1.5s"),
        (0.5, "500ms"),
        (1e7, "10000000s"),
        (1e-9, "1ns"),
        (0, "0s"),
        (2.5e-6, "2.5us"),
        ("500ms", "500ms"),
    ],
)
def test_durations_go_out_as_strings(given: object, sent: str) -> None:
    args = a.StopMachineArgs(app_name="web", machine_id="abc", timeout=given)
    assert args.json_body(frozenset({"app_name", "machine_id"})) == {"timeout": sent}


@pytest.mark.parametrize(
    "bad",
    [
        "30",
        "thirty seconds",
        -1,
        True,
        "1d",
        float("inf"),
        float("-inf"),
        float("nan"),
        1e-10,
        1e300,
        10**30,
        "99999999999h",
        "1.5ns",
        "-1s",
        "1e7s",
        "infs",
        "nans",
    ],
)
def test_bad_durations_rejected(bad: object) -> None:
    with pytest.raises(ValidationError, match="duration"):
        a.StopMachineArgs(app_name="web", machine_id="abc", timeout=bad)


def test_config_durations_normalised() -> None:
    config = MachineConfig.model_validate(
        {"image": "x", "checks": {"h": {"type": "http", "interval": 15, "timeout": "2s"}}}
    )
    assert config.to_wire()["checks"]["h"] == {"type": "http", "interval": "15s", "timeout": "2s"}


@pytest.mark.parametrize(
    ("kind", "cpus", "memory", "ok"),
    [
        ("shared", 1, 256, True),
        ("shared", 1, 2048, True),
        ("shared", 1, 4096, False),
        ("shared", 2, 300, False),
        ("shared", 3, 768, False),
        ("performance", 1, 1024, False),
        ("performance", 2, 4096, True),
        ("performance", 1, 8192, True),
    ],
)
def test_guest_limits(kind: str, cpus: int, memory: int, ok: bool) -> None:
    build: Callable[[], a.CreateMachineArgs] = lambda: a.CreateMachineArgs(  # noqa: E731
        app_name="web",
        image="nginx",
        cpu_kind=kind,
        cpus=cpus,
        memory_mb=memory,
    )
    if ok:
        assert build().merged_config()["guest"]["memory_mb"] == memory
    else:
        with pytest.raises(ValidationError, match=r"cpus|memory_mb"):
            build()


def test_create_machine_needs_an_image() -> None:
    with pytest.raises(ValidationError, match="image is required"):
        a.CreateMachineArgs(app_name="web")
    args = a.CreateMachineArgs(app_name="web", machine_config={"image": "nginx:1.27"})
    assert args.json_body(frozenset({"app_name"}))["config"]["image"] == "nginx:1.27"


def test_create_machine_flat_fields_build_fly_config() -> None:
    args = a.CreateMachineArgs(
        app_name="web",
        image="nginx",
        region="ord",
        cpus=2,
        memory_mb=1024,
        internal_port=8080,
        volume_id="vol_abc",
        mount_path="/data",
        restart_policy="always",
        env={"A": "1"},
        machine_config={"metadata": {"team": "ops"}, "env": {"B": "2"}},
    )
    body = args.json_body(frozenset({"app_name"}))
    config = body["config"]
    assert body["region"] == "ord"
    assert config["guest"] == {"cpus": 2, "memory_mb": 1024}
    assert config["env"] == {"B": "2", "A": "1"}
    assert config["mounts"] == [{"volume": "vol_abc", "path": "/data"}]
    assert config["services"][0]["internal_port"] == 8080
    assert config["restart"] == {"policy": "always"}
    assert config["metadata"] == {"team": "ops"}


def test_machine_config_field_is_checked_against_fly_config() -> None:
    with pytest.raises(ValidationError, match="memory"):
        a.CreateMachineArgs(app_name="web", image="x", machine_config={"guest": {"memory": 512}})
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
        a.WaitMachineArgs(app_name="web", machine_id="abc", state="running")


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
        a.ExecMachineArgs(app_name="web", machine_id="abc", command="ls -la")


def test_a_single_state_is_read_as_a_list() -> None:
    assert a.ListMachinesArgs(app_name="web", state="stopped").query_params() == [
        ("state", "stopped")
    ]


# ---------------------------------------------------------------- values never sent

BAD_ENV_NAMES = ["A=B", "A\x00B", "A\r\nB", "A\nB", "A B", "", " ", "1ABC", "A-B", "é", "A" * 257]
ENV_PLACES: dict[str, Callable[[str], dict[str, Any]]] = {
    "flat env": lambda name: {"env": {name: "x"}},
    "machine_config.env": lambda name: {"machine_config": {"env": {name: "x"}}},
    "processes[].env": lambda name: {"machine_config": {"processes": [{"env": {name: "x"}}]}},
    "containers[].env": lambda name: {"machine_config": {"containers": [{"env": {name: "x"}}]}},
    "secrets[].env_var": lambda name: {
        "machine_config": {"processes": [{"secrets": [{"env_var": name}]}]}
    },
    "env_from[].env_var": lambda name: {
        "machine_config": {"processes": [{"env_from": [{"env_var": name, "field_ref": "id"}]}]}
    },
}


@pytest.mark.parametrize("place", ENV_PLACES)
@pytest.mark.parametrize("name", BAD_ENV_NAMES)
def test_bad_env_var_names_are_refused_everywhere_with_the_expected_form(
    place: str, name: str
) -> None:
    with pytest.raises(ValidationError) as info:
        a.CreateMachineArgs(app_name="web", image="x", **ENV_PLACES[place](name))
    assert "letters, digits and underscores, not starting with a digit" in str(info.value)


def test_good_env_var_names_pass_and_nul_values_do_not() -> None:
    args = a.CreateMachineArgs(app_name="web", image="x", env={"_A1": "a=b c", "log_level": ""})
    assert args.merged_config()["env"] == {"_A1": "a=b c", "log_level": ""}
    with pytest.raises(ValidationError, match="NUL"):
        a.CreateMachineArgs(app_name="web", image="x", env={"A": "x\x00y"})


BAD_PATHS = ["/data\x00", "/data\r\n", "/da\nta", "data", "", "/" + "d" * 4096, "/" * 5000]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_mount_and_file_paths_are_refused(path: str) -> None:
    with pytest.raises(ValidationError, match="absolute, at most 4096 characters"):
        a.CreateMachineArgs(app_name="web", image="x", volume_id="vol_a", mount_path=path)
    for config in (
        {"mounts": [{"volume": "vol_a", "path": path}]},
        {"files": [{"guest_path": path, "raw_value": "eA=="}]},
        {"statics": [{"guest_path": path, "url_prefix": "/s"}]},
    ):
        with pytest.raises(ValidationError, match="absolute, at most 4096 characters"):
            a.CreateMachineArgs(app_name="web", image="x", machine_config=config)


def test_a_4096_character_mount_path_is_the_longest_accepted() -> None:
    path = "/" + "d" * 4095
    args = a.CreateMachineArgs(app_name="web", image="x", volume_id="vol_a", mount_path=path)
    assert args.merged_config()["mounts"] == [{"volume": "vol_a", "path": path}]


NON_FINITE = [float("nan"), float("inf"), float("-inf")]
FLOAT_PLACES = [
    {"restart": {"gpu_bid_price": "HERE"}},
    {"spot": {"max_price_fraction": "HERE"}},
    {"metadata": {"a": "HERE"}},
    {
        "services": [
            {
                "protocol": "tcp",
                "internal_port": 80,
                "ports": [{"port": 80, "http_options": {"response": {"headers": {"x": "HERE"}}}}],
            }
        ]
    },
    {"containers": [{"name": "c", "healthchecks": [{"grace_period": "HERE"}]}]},
    {"checks": {"c": {"interval": "HERE"}}},
    {"guest": {"cpus": "HERE"}},
]


def _placed(tree: object, value: object) -> object:
    if tree == "HERE":
        return value
    if isinstance(tree, dict):
        return {k: _placed(v, value) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_placed(v, value) for v in tree]
    return tree


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("place", range(len(FLOAT_PLACES)))
def test_non_finite_numbers_anywhere_in_machine_config_are_argument_errors(
    place: int, value: float
) -> None:
    config = _placed(FLOAT_PLACES[place], value)
    with pytest.raises(ValidationError) as info:
        a.CreateMachineArgs(app_name="web", image="x", machine_config=config)
    assert "machine_config" in str(info.value)
    with pytest.raises(ValidationError):
        MachineConfig.model_validate(config)


@pytest.mark.parametrize(
    ("field", "given", "read"),
    [
        ("internal_port", 8080, 8080),
        ("internal_port", "8080", 8080),
        ("internal_port", 8080.0, 8080),
        ("cpus", "2", 2),
        ("memory_mb", "+512", 512),
    ],
)
def test_whole_numbers_may_come_as_text_or_integral_floats(
    field: str, given: object, read: int
) -> None:
    args = a.CreateMachineArgs(app_name="web", image="x", **{field: given})
    assert getattr(args, field) == read
    assert type(getattr(args, field)) is int


NOT_WHOLE = [True, False, 8080.5, "8080.0", "1e3", "0x50", "8_080", " 80", "", None, [80], 2**63]


@pytest.mark.parametrize("value", NOT_WHOLE)
def test_booleans_fractions_and_odd_text_are_never_ints(value: object) -> None:
    if value is None:  # None is "not given" for the optional flat field; the config's is required
        with pytest.raises(ValidationError, match="internal_port"):
            MachineConfig.model_validate({"services": [{"protocol": "tcp", "internal_port": None}]})
        return
    with pytest.raises(ValidationError, match="internal_port"):
        a.CreateMachineArgs(app_name="web", image="x", internal_port=value)
    with pytest.raises(ValidationError, match="internal_port"):
        MachineConfig.model_validate({"services": [{"protocol": "tcp", "internal_port": value}]})


@pytest.mark.parametrize(
    ("model", "field", "required"),
    [
        (a.CreateVolumeArgs, "size_gb", {"app_name": "web", "name": "d", "region": "ord"}),
        (a.ExtendVolumeArgs, "size_gb", {"app_name": "web", "volume_id": "vol_a"}),
        (a.WaitMachineArgs, "timeout", {"app_name": "web", "machine_id": "m1"}),
        (a.ListEventsArgs, "limit", {"app_name": "web", "machine_id": "m1"}),
        (a.AcquireLeaseArgs, "ttl", {"app_name": "web", "machine_id": "m1"}),
    ],
)
def test_every_integer_field_refuses_booleans(
    model: type[a.FlyArgs], field: str, required: dict[str, object]
) -> None:
    assert getattr(model(**required, **{field: "1"}), field) == 1
    with pytest.raises(ValidationError, match=field):
        model(**required, **{field: True})


@pytest.mark.parametrize("value", [1, 0, "yes", "1", 1.0, None])
def test_numbers_are_never_booleans(value: object) -> None:
    with pytest.raises(ValidationError, match="true or false"):
        a.DeleteAppArgs(app_name="web", force=value)
    assert a.DeleteAppArgs(app_name="web", force="TRUE").force is True


# What Go's time.ParseDuration accepts (its grammar, written out independently of the model).
GO_DURATION = re.compile(
    r"[-+]?(?:0|(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+)"
)
GO_UNITS = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "μs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def go_parse_ns(text: str) -> Decimal:
    parts = re.findall(r"([0-9.]+)(ns|us|µs|μs|ms|s|m|h)", text)
    return sum((Decimal(number) * GO_UNITS[unit] for number, unit in parts), Decimal(0))


@given(
    st.integers(0, 2**63 - 1).map(lambda ns: float(Decimal(ns) / 10**9))
    | st.floats(0, 9.2e9, allow_nan=False, allow_infinity=False)
    | st.integers(0, 9_223_372_036)
)
def test_numeric_durations_round_trip_through_go_syntax(seconds: float) -> None:
    wanted = Decimal(repr(seconds)) * 10**9
    if wanted != wanted.to_integral_value() or wanted > 2**63 - 1:
        with pytest.raises(ValidationError, match="duration"):
            a.StopMachineArgs(app_name="web", machine_id="abc", timeout=seconds)
        return
    sent = a.StopMachineArgs(app_name="web", machine_id="abc", timeout=seconds).timeout
    assert sent is not None
    assert GO_DURATION.fullmatch(sent), sent
    assert "e" not in sent  # no exponent: no unit contains an "e"
    assert go_parse_ns(sent) == wanted
