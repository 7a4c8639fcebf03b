"""Reading and narrowing headers: prefixes, discharges, refusals that never show a token."""

from __future__ import annotations

import base64
import time

import pytest

from fly_tools.macaroons import (
    ALL,
    CONTROL,
    DELETE,
    FLY,
    READ,
    WRITE,
    Access,
    Action,
    Apps,
    AttenuationError,
    Command,
    Commands,
    IfPresent,
    Machines,
    NotAMacaroonError,
    Organization,
    Unknown,
    ValidityWindow,
    Volumes,
    attenuate,
    decode_set,
    mint,
    parse_mask,
    permission_tokens,
)
from fly_tools.macaroons.caveats import pack_set

KEY = b"k" * 32


def token(*caveats: object, location: str = FLY) -> str:
    return mint(KEY, b"kid", list(caveats), location=location)  # type: ignore[arg-type]


def test_minted_tokens_verify_and_narrowed_ones_still_do() -> None:
    (root,) = permission_tokens(token(Organization(7, ALL)))
    assert root.verify(KEY)
    assert not root.verify(b"x" * 32)
    (narrowed,) = permission_tokens(attenuate(token(Organization(7, ALL)), [Action(READ)]))
    assert narrowed.verify(KEY)
    assert narrowed.caveats[-1] == Action(READ)


@pytest.mark.parametrize("prefix", ["fm2", "fm1r", "fm1a"])
@pytest.mark.parametrize("scheme", ["FlyV1 ", "Bearer ", "flyv1 ", ""])
def test_prefixes_and_schemes_fly_go_reads(prefix: str, scheme: str) -> None:
    body = token().removeprefix("fm2_")
    (macaroon,) = permission_tokens(f"{scheme}{prefix}_{body}")
    assert macaroon.location == FLY


def test_discharge_and_oauth_tokens_pass_untouched() -> None:
    discharge = token(location="https://api.fly.io/aaa/v1").replace("fm2_", "fm1a_")
    header = f"FlyV1 {token()},{discharge},fo1_opaque"
    narrowed = attenuate(header, [Action(READ)])
    parts = narrowed.removeprefix("FlyV1 ").split(",")
    assert parts[1:] == [discharge, "fo1_opaque"]
    assert parts[0] != token()


def test_every_permission_token_is_narrowed() -> None:
    narrowed = attenuate(f"FlyV1 {token()},{token()}", [Action(READ)])
    assert all(m.caveats == (Action(READ),) for m in permission_tokens(narrowed))


def test_a_caveat_already_held_is_not_added_twice() -> None:
    once = attenuate(token(Action(READ)), [Action(READ), Action(READ)])
    (macaroon,) = permission_tokens(once)
    assert macaroon.caveats == (Action(READ),)


@pytest.mark.parametrize(
    "secret",
    ["fo1_secretvalue", "plain-secret-value", "fm2_!!!secretvalue", "FlyV1 fm9_secretvalue"],
)
def test_not_a_macaroon_is_refused_without_quoting_it(secret: str) -> None:
    with pytest.raises(NotAMacaroonError) as refused:
        attenuate(secret, [Action(READ)])
    assert "secretvalue" not in str(refused.value)
    assert "plain-secret" not in str(refused.value)


def test_no_permission_token_for_the_location_is_an_error() -> None:
    with pytest.raises(AttenuationError):
        attenuate(token(location="elsewhere"), [Action(READ)])


def test_reprs_show_no_token_bytes() -> None:
    header = token(Organization(7, ALL))
    (macaroon,) = permission_tokens(header)
    shown = repr(macaroon) + repr(Unknown(99, b"secret-bytes"))
    assert "secret-bytes" not in shown
    assert base64.b64encode(macaroon.tail).decode() not in shown
    assert header.removeprefix("fm2_")[:20] not in shown


def access(action: int, **kw: object) -> Access:
    return Access(action=action, org_id=7, **kw)  # type: ignore[arg-type]


def test_organization_and_resource_sets_follow_go() -> None:
    assert Organization(7, READ).prohibits(access(READ)) is None
    assert Organization(8, ALL).prohibits(access(READ)) is not None
    assert Organization(0, ALL).prohibits(access(READ)) is None  # 0: any org
    apps = Apps({5: READ | WRITE})
    assert apps.prohibits(access(WRITE, app_id=5)) is None
    assert apps.prohibits(access(DELETE, app_id=5)) is not None
    assert apps.prohibits(access(READ, app_id=6)) is not None
    denied = apps.prohibits(access(READ))
    assert denied is not None
    assert denied.unspecified
    assert Machines({"": CONTROL}).prohibits(access(CONTROL, machine="m1")) is None  # "": any
    assert Volumes({"": READ, "v": READ}).prohibits(access(READ, volume="v")) is not None


def test_if_present_checks_the_ifs_when_named_else_the_mask() -> None:
    no_exec = IfPresent((Commands(),), otherwise=ALL)
    assert no_exec.prohibits(access(CONTROL, machine="m")) is None
    assert no_exec.prohibits(access(CONTROL, machine="m", command=("sh",))) is not None
    only_m1 = IfPresent((Machines({"m1": ALL}),), otherwise=READ)
    assert only_m1.prohibits(access(DELETE, machine="m1")) is None
    assert only_m1.prohibits(access(DELETE, machine="m2")) is not None
    assert only_m1.prohibits(access(WRITE, app_id=1)) is not None
    assert only_m1.prohibits(access(READ, app_id=1)) is None


def test_commands_match_prefixes_or_exact_argv() -> None:
    allowed = Commands((Command(("ls",)), Command(("cat", "/etc/hostname"), exact=True)))
    assert allowed.prohibits(access(CONTROL, command=("ls", "-la"))) is None
    assert allowed.prohibits(access(CONTROL, command=("cat", "/etc/hostname"))) is None
    assert allowed.prohibits(access(CONTROL, command=("cat", "/etc/hostname", "x"))) is not None
    assert allowed.prohibits(access(CONTROL, command=("rm",))) is not None


def test_validity_window_and_unknown_caveats() -> None:
    now = int(time.time())
    window = ValidityWindow(now - 10, now + 10)
    assert window.prohibits(access(READ, now=now)) is None
    assert window.prohibits(access(READ, now=now + 11)) is not None
    assert window.prohibits(access(READ, now=now - 11)) is not None
    assert Unknown(1 << 48, b"\xc0").prohibits(access(READ)) is not None


def test_typed_caveats_round_trip_through_their_msgpack() -> None:
    caveats = [
        Organization(7, ALL),
        Apps({3: READ, 1: ALL}),
        Volumes({"vol_b": DELETE, "vol_a": READ}),
        Machines({"m": CONTROL}),
        Action(READ | WRITE),
        ValidityWindow(1, 2),
        Commands((Command(("ls",), exact=True),)),
        IfPresent((Commands(), Machines({"": READ})), READ),
    ]
    assert decode_set(pack_set(caveats)) == caveats


def test_json_forms_are_fly_s() -> None:
    assert Organization(7, READ | WRITE).to_json() == {
        "type": "Organization",
        "body": {"id": 7, "mask": "rw"},
    }
    assert Apps({5: ALL}).to_json() == {"type": "Apps", "body": {"apps": {"5": "rwcdC"}}}
    assert IfPresent((Commands(),), READ).to_json()["body"] == {
        "ifs": [{"type": "Commands", "body": []}],
        "else": "r",
    }
    assert parse_mask("rwcdC") == ALL
    assert parse_mask("*") == ALL
    with pytest.raises(ValueError, match="letters of"):
        parse_mask("x")
