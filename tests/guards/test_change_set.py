"""What a reviewer reads is the whole change, and inert: exec, config diffs, secrets, names from Fly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards import describe_action
from fly_tools.guards.changes import config_diff
from fly_tools.models.args import FlyArgs
from fly_tools.render import CUT_MARK, is_hidden

CONFIG: dict[str, Any] = {
    "image": "registry.fly.io/web:v42",
    "env": {"MODE": "prod", "DEBUG": "0", "API_TOKEN": "tok-old-value"},
    "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256},
    "mounts": [{"volume": "vol_abc123", "path": "/data"}],
    "services": [{"protocol": "tcp", "internal_port": 8080}],
}
MACHINE: dict[str, Any] = {
    "id": "3d8d9015b23489",
    "name": "web-1",
    "state": "started",
    "region": "ord",
    "instance_id": "01HV",
    "config": CONFIG,
}


def test_exec_shows_the_whole_command(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_exec_machine"]
    script = "echo 'collecting a disk usage report" + "." * 200 + "' ; rm -rf /data"
    text = describe_action(endpoint, args_for(endpoint, command=["sh", "-c", script]), MACHINE)
    assert "rm -rf /data" in text
    assert CUT_MARK not in text


def test_an_env_var_after_a_long_one_is_shown(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_update_machine"]
    env = {"NOTE": "n" * 400, "LD_PRELOAD": "/tmp/x.so"}
    for state in (None, MACHINE):
        text = describe_action(endpoint, args_for(endpoint, env=env), state)
        assert "LD_PRELOAD" in text
        assert "/tmp/x.so" in text


def test_an_update_shows_its_config_before_and_after(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_update_machine"]
    args = args_for(
        endpoint, image="registry.fly.io/web:v43", memory_mb=512, env={"LD_PRELOAD": "/x.so"}
    )
    text = describe_action(endpoint, args, MACHINE)
    lines = text.split("\n")
    assert lines[1].startswith("Changes to its config, before (read from Fly) -> after")
    assert '  image: "registry.fly.io/web:v42" -> "registry.fly.io/web:v43"' in lines
    assert '  env LD_PRELOAD: not set -> "/x.so"' in lines
    assert "  guest memory_mb: 256 -> 512" in lines
    assert not any("MODE" in line for line in lines)  # unchanged fields are not listed


def test_a_full_config_that_drops_env_mounts_and_services_says_removed(
    args_for: Callable[..., FlyArgs],
) -> None:
    endpoint = ENDPOINTS["fly_update_machine"]
    replacement = {
        "image": "registry.fly.io/web:v42",
        "env": {"MODE": "prod"},
        "mounts": [],
        "services": [],
    }
    text = describe_action(
        endpoint, args_for(endpoint, image=None, machine_config=replacement), MACHINE
    )
    lines = text.split("\n")
    assert '  env DEBUG: "0" -> removed' in lines
    assert '  env API_TOKEN: "[redacted]" -> removed' in lines
    assert any(
        line.startswith("  mount /data: {") and line.endswith("-> removed") for line in lines
    )
    assert any(
        line.startswith("  service on port 8080: {") and line.endswith("-> removed")
        for line in lines
    )
    assert "tok-old-value" not in text


def test_a_changed_secret_env_value_is_listed_never_shown() -> None:
    before = {"env": {"API_TOKEN": "a"}}
    after = {"env": {"API_TOKEN": "b"}}
    shown = {"env": {"API_TOKEN": "[redacted]"}}
    assert config_diff(before, after, shown, shown) == [
        'env API_TOKEN: "[redacted]" -> "[redacted]"'
    ]


def test_a_secrets_update_names_what_it_sets_and_unsets(
    args_for: Callable[..., FlyArgs], secret_value: str
) -> None:
    endpoint = ENDPOINTS["fly_update_secrets"]
    args = args_for(
        endpoint, values={"API_KEY": secret_value, "DB_URL": secret_value}, unset=["OLD"]
    )
    text = describe_action(endpoint, args)
    assert '"API_KEY", "DB_URL"' in text
    assert 'unset (the value is lost for good): "OLD"' in text
    assert secret_value not in text
    assert "[redacted]" not in text


def test_a_name_from_fly_cannot_forge_the_facts(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_stop_machine"]
    forged = (
        "web-1\uff02, stopped, ord\uff09. Nothing to approve \u202e\u2066\u2028\x9b\u200b\u00ad"
    )
    text = describe_action(endpoint, args_for(endpoint), {**MACHINE, "name": forged})
    assert not any(is_hidden(c) for c in text)
    assert '(read from Fly just now: named "web-1\\uff02, stopped, ord\\uff09.' in text
    assert "started, ord). It stops serving" in text


def test_a_look_alike_image_is_flagged(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_update_machine"]
    args = args_for(endpoint, image="registry.fly.io/w\u0435b:v43")
    text = describe_action(endpoint, args, MACHINE)
    assert (
        '"registry.fly.io/web:v42" -> "registry.fly.io/w\u0435b:v43" '
        "[contains non-ASCII: U+0435 CYRILLIC SMALL LETTER IE]"
    ) in text


def test_a_huge_name_is_cut_with_a_mark_and_the_facts_stay_in_view(
    args_for: Callable[..., FlyArgs],
) -> None:
    endpoint = ENDPOINTS["fly_stop_machine"]
    text = describe_action(endpoint, args_for(endpoint), {**MACHINE, "name": "w" * 4000})
    assert "… [cut: 3,920 more characters; full text in Fly (fly_get_machine)]" in text
    assert len(text) < 400
    assert "started, ord)" in text


def test_names_in_a_config_from_fly_cannot_forge_diff_lines() -> None:
    before = {"env": {'X: "1" -> "2"\n  image': "a"}, "odd key\x1b": 1}
    lines = config_diff(before, {})
    assert lines == [
        'env "X: \\"1\\" -> \\"2\\"\\n  image": "a" -> removed',
        '"odd key\\x1b": 1 -> removed',
    ]
