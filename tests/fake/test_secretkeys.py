"""The fake's secret keys and secret values over raw HTTP and the client, answers spec-checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx
import pytest

from fly_tools.catalogue import ENDPOINTS
from fly_tools.client import BadRequestError, NotFoundError
from fly_tools.testing import FakeFly
from tests.fake.tour import drive, drive_async
from tests.fake.tour_secretkeys import secretkeys_tour

KEY32 = bytes(range(32))
KEYS = "/apps/web/secretkeys"


@pytest.fixture(params=["go", "spec"])
def fake(request: pytest.FixtureRequest) -> FakeFly:
    """The demo world answering as Fly's Go server does, then as the spec types it: bytes
    as base64 text (superfly/fly-go secrets_types.go:74-93, ``[]byte``) or as arrays."""
    return FakeFly.demo(shapes=request.param)


def _version(fake: FakeFly, app: str = "web") -> int:
    return fake.state.apps[app].secrets_version


def _bytes(answer: dict[str, Any], key: str) -> bytes:
    """A byte field of a raw answer, in the form the fake's shape writes it."""
    value = answer[key]
    return base64.b64decode(value, validate=True) if isinstance(value, str) else bytes(value)


def _set(http: httpx.Client, name: str, key_type: str, value: Any) -> httpx.Response:
    return http.post(f"{KEYS}/{name}", json={"type": key_type, "value": value})


def test_generate_get_list_and_delete_move_the_secrets_version(
    fake: FakeFly, http: httpx.Client
) -> None:
    before = _version(fake)
    assert http.get(KEYS).json() == {"secret_keys": []}

    made = http.post(f"{KEYS}/jwt_v1/generate", json={"type": "hs256"})

    assert made.status_code == 201
    assert made.json()["version"] == made.json()["Version"] == before + 1
    assert (made.json()["name"], made.json()["type"]) == ("jwt_v1", "hs256")
    assert "value" not in made.json()
    assert http.get(f"{KEYS}/jwt_v1").json()["type"] == "hs256"
    http.post(f"{KEYS}/box/generate", json={"type": "nacl_secretbox"})
    only_signing = http.get(KEYS, params={"types": "hs256,nacl_auth"}).json()
    assert [k["name"] for k in only_signing["secret_keys"]] == ["jwt_v1"]
    assert [k["name"] for k in http.get(KEYS).json()["secret_keys"]] == ["box", "jwt_v1"]

    gone = http.delete(f"{KEYS}/jwt_v1")

    assert gone.status_code == 200
    assert gone.json() == {"version": before + 3, "Version": before + 3}
    assert http.get(f"{KEYS}/jwt_v1").status_code == 404
    assert http.delete(f"{KEYS}/jwt_v1").status_code == 404


def test_set_takes_key_bytes_as_an_array_or_base64(fake: FakeFly, http: httpx.Client) -> None:
    as_array = _set(http, "a", "nacl_secretbox", list(KEY32))
    as_text = _set(http, "b", "nacl_secretbox", base64.b64encode(KEY32).decode())

    assert (as_array.status_code, as_text.status_code) == (201, 201)
    keys = fake.state.apps["web"].secret_keys.by_name
    assert keys["a"].material == keys["b"].material == KEY32
    assert "material" not in repr(keys["a"])
    assert str(list(KEY32)) not in repr(keys["a"])


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("k", {"type": "nacl_secretbox", "value": [1, 2, 3]}, "is 32 bytes, got 3"),
        ("k", {"type": "rot13", "value": [1]}, "unknown key type 'rot13'"),
        ("k", {"value": [1]}, "no type"),
        ("k", {"type": "nacl_sign", "value": list(KEY32)}, "not implemented by the fake"),
        ("k", {"type": "hs256"}, "value is required"),
        ("k", {"type": "hs256", "value": [1, 256]}, "cannot unmarshal"),
        ("a.b", {"type": "hs256", "value": [1]}, "secret key name must be"),
    ],
)
def test_bad_set_requests_are_refused_and_store_nothing(
    fake: FakeFly, http: httpx.Client, name: str, body: dict[str, Any], message: str
) -> None:
    before = _version(fake)
    answer = http.post(f"{KEYS}/{name}", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert fake.state.apps["web"].secret_keys.by_name == {}
    assert _version(fake) == before


def test_encrypt_then_decrypt_round_trips_and_refuses_tampering(http: httpx.Client) -> None:
    _set(http, "box", "nacl_secretbox", list(KEY32))
    aad = list(b"order-42")
    sealed = http.post(
        f"{KEYS}/box/encrypt", json={"plaintext": list(b"hi"), "associated_data": aad}
    )
    assert sealed.status_code == 200
    ciphertext = list(_bytes(sealed.json(), "ciphertext"))
    assert bytes(ciphertext) != b"hi"
    assert len(ciphertext) == 2 + 24 + 16

    opened = http.post(
        f"{KEYS}/box/decrypt", json={"ciphertext": ciphertext, "associated_data": aad}
    )

    assert _bytes(opened.json(), "plaintext") == b"hi"
    tampered = [*ciphertext[:-1], ciphertext[-1] ^ 1]
    for body in (
        {"ciphertext": tampered, "associated_data": aad},
        {"ciphertext": ciphertext, "associated_data": list(b"order-43")},
        {"ciphertext": ciphertext[:10]},
    ):
        refused = http.post(f"{KEYS}/box/decrypt", json=body)
        assert refused.status_code == 400
        assert "authentication failed" in refused.json()["error"]


@pytest.mark.parametrize(
    ("key_type", "digest", "size"),
    [
        ("hs256", hashlib.sha256, 32),
        ("hs512", hashlib.sha512, 64),
        ("nacl_auth", hashlib.sha512, 32),
    ],
)
def test_sign_is_real_hmac_and_verify_answers_204(
    http: httpx.Client, key_type: str, digest: Any, size: int
) -> None:
    _set(http, "sig", key_type, list(KEY32))
    signed = http.post(f"{KEYS}/sig/sign", json={"plaintext": list(b"release v42")})
    signature = _bytes(signed.json(), "signature")
    assert signature == hmac.new(KEY32, b"release v42", digest).digest()[:size]

    good = http.post(
        f"{KEYS}/sig/verify", json={"plaintext": list(b"release v42"), "signature": list(signature)}
    )
    bad = http.post(
        f"{KEYS}/sig/verify", json={"plaintext": list(b"release v43"), "signature": list(signature)}
    )

    assert (good.status_code, good.content) == (204, b"")
    assert bad.status_code == 400
    assert bad.json()["error"] == "signature verification failed"


def test_a_key_is_used_only_for_what_its_type_does(http: httpx.Client) -> None:
    _set(http, "sig", "hs256", list(KEY32))
    _set(http, "box", "xaes256gcm", list(KEY32))
    cannot_encrypt = http.post(f"{KEYS}/sig/encrypt", json={"plaintext": [1]})
    cannot_sign = http.post(f"{KEYS}/box/sign", json={"plaintext": [1]})
    assert cannot_encrypt.status_code == cannot_sign.status_code == 400
    assert "hs256 key, which cannot encrypt" in cannot_encrypt.json()["error"]
    assert "xaes256gcm key, which cannot sign" in cannot_sign.json()["error"]
    assert http.post(f"{KEYS}/nokey/sign", json={"plaintext": [1]}).status_code == 404
    assert http.post(f"{KEYS}/sig/sign", json={}).json()["error"] == "plaintext is required"


def test_min_version_ahead_of_the_store_is_refused_and_fly_gos_version_is_read(
    fake: FakeFly, http: httpx.Client
) -> None:
    current = _version(fake)
    assert http.get(KEYS, params={"min_version": current}).status_code == 200
    ahead = http.get(KEYS, params={"min_version": current + 1})
    assert ahead.status_code == 400
    assert "ahead" in ahead.json()["error"]
    assert http.get(KEYS, params={"version": current + 1}).status_code == 400


def test_keys_go_with_their_app(fake: FakeFly, http: httpx.Client) -> None:
    http.post("/apps/worker/secretkeys/k/generate", json={"type": "hs256"})
    assert http.delete("/apps/worker").status_code == 202
    assert http.post("/apps", json={"name": "worker", "org_slug": "acme"}).status_code == 201
    fake.clock.advance(fake.state.app_ready_delay)
    assert http.get("/apps/worker/secretkeys").json() == {"secret_keys": []}


def test_get_secret_answers_metadata_never_the_value(http: httpx.Client) -> None:
    answer = http.get("/apps/web/secrets/SESSION_SECRET", params={"show_secrets": "true"})
    assert answer.status_code == 200
    assert set(answer.json()) == {"name", "digest", "created_at", "updated_at"}
    assert "demo-session-secret" not in answer.text
    assert http.get("/apps/web/secrets/NOPE").status_code == 404


def test_update_secrets_sets_and_unsets_in_one_call(fake: FakeFly, http: httpx.Client) -> None:
    before = _version(fake)
    body = {"values": {"API_KEY": "k-1", "SESSION_SECRET": None, "NEVER_SET": None}}

    answer = http.post("/apps/web/secrets", json=body)

    assert answer.status_code == 200
    names = [s["name"] for s in answer.json()["secrets"]]
    assert names == ["API_KEY", "DATABASE_URL"]
    assert "k-1" not in answer.text
    # One bump per secret changed, as fly_set_secret / fly_delete_secret do; the absent
    # name changed nothing.
    assert answer.json()["version"] == before + 2 == _version(fake)
    listed = http.get("/apps/web/secrets").json()["secrets"]
    assert [s["name"] for s in listed] == ["API_KEY", "DATABASE_URL"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"values": {"OK_NAME": "v", "bad name": "v"}}, "secret name must be"),
        ({"values": {"OK_NAME": "v", "EMPTY": ""}}, "must be non-empty"),
        ({"values": {}}, "values is required"),
        ({}, "values is required"),
    ],
)
def test_a_bad_update_changes_nothing(
    fake: FakeFly, http: httpx.Client, body: dict[str, Any], message: str
) -> None:
    before = _version(fake)
    answer = http.post("/apps/web/secrets", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert _version(fake) == before
    assert "OK_NAME" not in fake.state.apps["web"].secrets


def test_the_client_calls_every_operation_by_name(fake: FakeFly) -> None:
    client = fake.client()
    web = {"app_name": "web"}
    key = web | {"secret_name": "box"}
    client.call(
        "fly_set_secret_key",
        key | {"type": "xaes256gcm", "value": base64.b64encode(KEY32).decode()},
    )
    assert client.call("fly_get_secret_key", key)["type"] == "xaes256gcm"
    sealed = client.call("fly_encrypt_with_secret_key", key | {"plaintext": "pw"})
    opened = client.call("fly_decrypt_with_secret_key", key | {"ciphertext": sealed["ciphertext"]})
    assert bytes(opened["plaintext"]) == b"pw"
    with pytest.raises(BadRequestError, match="cannot sign"):
        client.call("fly_sign_with_secret_key", key | {"plaintext": "x"})
    with pytest.raises(NotFoundError):
        client.call("fly_get_secret_key", web | {"secret_name": "other"})
    assert [(r.method, r.path, r.status) for r in fake.requests][-2:] == [
        ("POST", "/v1/apps/web/secretkeys/box/sign", 400),
        ("GET", "/v1/apps/web/secretkeys/other", 404),
    ]


def test_the_tour_runs_with_the_blocking_client(fake: FakeFly) -> None:
    before = {name: s.value for name, s in fake.state.apps["web"].secrets.items()}
    drive(fake.client(), secretkeys_tour())
    assert {name: s.value for name, s in fake.state.apps["web"].secrets.items()} == before
    assert fake.state.apps["web"].secret_keys.by_name == {}
    assert len([r for r in fake.requests if "secret" in r.path]) == 15


async def test_the_tour_runs_with_the_async_client(fake: FakeFly) -> None:
    await drive_async(fake.async_client(), secretkeys_tour())
    assert {r.endpoint for r in fake.requests} >= {
        e.name for e in ENDPOINTS.records if e.group in ("secretkeys", "secret_values")
    }


def test_keys_and_ciphertexts_repeat_with_the_seed_and_differ_per_call() -> None:
    def run() -> tuple[bytes, list[int], list[int]]:
        fake = FakeFly.demo()
        client, box = fake.client(), {"app_name": "web", "secret_name": "box"}
        client.call("fly_generate_secret_key", box | {"type": "nacl_secretbox"})
        first = client.call("fly_encrypt_with_secret_key", box | {"plaintext": "x"})
        second = client.call("fly_encrypt_with_secret_key", box | {"plaintext": "x"})
        material = fake.state.apps["web"].secret_keys.by_name["box"].material
        return material, first["ciphertext"], second["ciphertext"]

    one, two = run(), run()
    assert one == two
    assert one[1] != one[2]  # a fresh nonce per encryption
    assert len(one[0]) == 32
