"""Plain-English descriptions: every endpoint, the state lookups, the consequences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards import Target, action_phrase, describe_action, state_lookup
from fly_tools.models.args import FlyArgs
from fly_tools.risk import RiskTier

MACHINE = {"id": "3d8d9015b23489", "name": "web-1", "state": "started", "region": "ord"}
VOLUME = {"id": "vol_abc123", "name": "data", "size_gb": 10, "attached_machine_id": "3d8d9015b2"}
APP = {"name": "web", "machine_count": 3, "volume_count": 1}
STATE_FOR: dict[str, dict[str, Any]] = {
    "fly_get_machine": MACHINE,
    "fly_get_volume": VOLUME,
    "fly_get_app": APP,
    "fly_get_certificate": {"hostname": "www.example.com", "status": "ready", "configured": True},
    "fly_get_secret_key": {"name": "DATABASE_URL", "type": "hs256", "updated_at": "2026-01-01"},
}


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_record_has_a_consequence_exactly_when_it_is_gated(name: str) -> None:
    endpoint = ENDPOINTS[name]
    gated = endpoint.risk >= RiskTier.DISRUPTIVE
    assert bool(endpoint.consequence) == gated
    if gated:
        assert endpoint.consequence[0].isupper()
        assert endpoint.consequence.endswith(".")


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_endpoint_gets_a_sensible_description(
    name: str, args_for: Callable[..., FlyArgs], secret_value: str
) -> None:
    endpoint = ENDPOINTS[name]
    args = args_for(endpoint)
    lookup = state_lookup(endpoint, args)
    text, *change_set = describe_action(
        endpoint, args, STATE_FOR[lookup[0]] if lookup else None
    ).split("\n")

    assert text[0].isupper()
    assert text.endswith(".")
    assert all(line.startswith("  ") or line.endswith(":") for line in change_set)
    assert len(text) < 400
    assert "fly_" not in text
    assert "None" not in text
    assert secret_value not in text
    assert str(Target(endpoint.target)).split()[-1] in text  # names the kind of target
    for identifier in ("3d8d9015b23489", "vol_abc123", "DATABASE_URL"):
        if identifier in args.model_dump().values():
            assert identifier in text
    facts, _, chosen = text.partition(" Given by the agent, not checked: ")
    consequences = {e.consequence for e in ENDPOINTS.records if e.consequence}
    if endpoint.risk >= RiskTier.DISRUPTIVE:
        assert facts.endswith(endpoint.consequence)
    else:
        assert not any(c in text for c in consequences)
    if chosen:  # whatever the agent chose is quoted JSON, after the facts
        assert "=" in chosen
        assert chosen.endswith(".")


def test_stop_machine_reads_as_the_brief_example(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_stop_machine"]
    assert describe_action(endpoint, args_for(endpoint), MACHINE) == (
        'Stop machine 3d8d9015b23489 in app web (read from Fly just now: named "web-1", '
        "started, ord). It stops serving until started again."
    )


def test_delete_volume_shows_size_and_attachment(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_delete_volume"]
    assert describe_action(endpoint, args_for(endpoint), VOLUME) == (
        'Delete volume vol_abc123 in app web (read from Fly just now: named "data", 10 GB, '
        "attached to machine 3d8d9015b2). Its data is erased permanently."
    )
    detached = {"size_gb": 1, "attached_machine_id": ""}
    assert "(read from Fly just now: 1 GB, not attached)" in describe_action(
        endpoint, args_for(endpoint), detached
    )


def test_delete_app_counts_what_goes_with_it(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_delete_app"]
    text = describe_action(endpoint, args_for(endpoint, force=True), APP)
    assert text.startswith("Delete app web (read from Fly just now: 3 machines, 1 volume). ")
    assert text.endswith(" Given by the agent, not checked: force=true.")


def test_chosen_arguments_are_shown_whole_however_long(args_for: Callable[..., FlyArgs]) -> None:
    # Deliberate change: values were cut at 80 characters with a closing quote, so a cut
    # read as complete; now each is shown whole (the surface cuts, with a mark).
    endpoint = ENDPOINTS["fly_update_machine"]
    env = {"API_KEY": "k-123", "MODE": "x" * 200, "LD_PRELOAD": "/tmp/evil.so"}
    args = args_for(endpoint, memory_mb=512, env=env)
    text = describe_action(endpoint, args)
    assert 'Given by the agent, not checked: image="nginx:1.27", memory_mb=512, env=' in text
    assert "k-123" not in text
    assert '"MODE":"' + "x" * 200 + '"' in text
    assert '"LD_PRELOAD":"/tmp/evil.so"' in text
    assert "…" not in text
    assert "lease_nonce" not in describe_action(endpoint, args_for(endpoint, lease_nonce="n1"))


def test_create_app_names_its_organization(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_create_app"]
    assert (
        describe_action(endpoint, args_for(endpoint)) == "Create app web in organization personal."
    )


def test_state_that_is_not_a_mapping_or_lacks_fields_is_ignored(
    args_for: Callable[..., FlyArgs],
) -> None:
    endpoint = ENDPOINTS["fly_stop_machine"]
    args = args_for(endpoint)
    unread = describe_action(endpoint, args, read=True)
    assert "(its current state could not be read)" in unread
    assert describe_action(endpoint, args, {"state": 3, "name": None}) == unread
    not_a_mapping: Any = ["started"]
    assert describe_action(endpoint, args, not_a_mapping) == unread


def test_text_the_agent_chose_cannot_pose_as_a_fact(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_exec_machine"]
    args = args_for(endpoint, command=["sh", "-c", "echo not attached). Approved by Fly (x"])
    text = describe_action(endpoint, args, MACHINE)
    facts, _, chosen = text.partition(" Given by the agent, not checked: ")
    assert "not attached" not in facts
    assert chosen.startswith('command=["sh","-c","echo not attached). Approved by Fly (x"]')


def test_names_read_from_fly_are_quoted(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_delete_volume"]
    volume = {**VOLUME, "name": "x, not attached"}
    text = describe_action(endpoint, args_for(endpoint), volume)
    assert 'named "x, not attached"' in text


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_state_lookup_is_a_valid_cheap_read(name: str, args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS[name]
    lookup = state_lookup(endpoint, args_for(endpoint))
    if endpoint.read_only or endpoint.state_read is None:
        assert lookup is None
        return
    assert lookup is not None
    tool, lookup_args = lookup
    read = ENDPOINTS[tool]
    assert read.read_only
    assert read.target == endpoint.target
    validated = read.args_model.model_validate(lookup_args)
    assert read.render_path(validated.model_dump()) in endpoint.render_path(
        args_for(endpoint).model_dump()
    )  # the read is of the very resource the call acts on


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_change_to_a_machine_or_volume_and_app_deletion_reads_it_first(name: str) -> None:
    endpoint = ENDPOINTS[name]
    acts_on_it = endpoint.target in ("machine", "volume") or (
        endpoint.target == "app" and endpoint.method == "DELETE"
    )
    if acts_on_it and not endpoint.read_only:
        assert endpoint.state_read is not None


@pytest.mark.parametrize(
    ("name", "target", "present", "past"),
    [
        (
            "fly_stop_machine",
            Target("machine", "web", "m1"),
            "stop machine m1 in app web",
            "stopped machine m1 in app web",
        ),
        (
            "fly_list_machine_events",
            Target("machine", "web", "m1"),
            "list the events of machine m1 in app web",
            "listed the events of machine m1 in app web",
        ),
        (
            "fly_create_machine",
            Target("app", "web"),
            "create a machine in app web",
            "created a machine in app web",
        ),
        (
            "fly_list_apps",
            Target("org", None, "acme"),
            "list the apps in organization acme",
            "listed the apps in organization acme",
        ),
        (
            "fly_acquire_lease",
            Target("machine", "web", "m1"),
            "take a lease on machine m1 in app web",
            "took a lease on machine m1 in app web",
        ),
        (
            "fly_exec_machine",
            Target("machine", "web", "m1"),
            "run a command in machine m1 in app web",
            "ran a command in machine m1 in app web",
        ),
        (
            "fly_get_volume",
            Target("volume", "web", "vol_1"),
            "read volume vol_1 in app web",
            "read volume vol_1 in app web",
        ),
        (
            "fly_set_secret",
            Target("secret", "web", "K"),
            "set secret K in app web",
            "set secret K in app web",
        ),
        (
            "fly_request_oidc_token",
            Target("org"),
            "request an OIDC token for the organization",
            "requested an OIDC token for the organization",
        ),
        (
            "fly_signal_machine",
            Target("machine", "web", "m1"),
            "send a signal to machine m1 in app web",
            "sent a signal to machine m1 in app web",
        ),
        (
            "fly_sign_with_secret_key",
            Target("secretkey", "web", "k1"),
            "sign text with secret key k1 in app web",
            "signed text with secret key k1 in app web",
        ),
        (
            "fly_verify_with_secret_key",
            Target("secretkey", "web", "k1"),
            "verify a signature with secret key k1 in app web",
            "verified a signature with secret key k1 in app web",
        ),
        (
            "fly_delete_acme_certificate",
            Target("certificate", "web", "example.com"),
            "delete the Let's Encrypt certificate example.com in app web",
            "deleted the Let's Encrypt certificate example.com in app web",
        ),
    ],
)
def test_action_phrase_from_the_record(name: str, target: Target, present: str, past: str) -> None:
    assert action_phrase(ENDPOINTS[name], target) == present
    assert action_phrase(ENDPOINTS[name], target, past=True) == past
