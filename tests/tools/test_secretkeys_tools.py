"""Secret-key and secret-value tools through the toolkit: what is sent, what is asked, what never leaks."""

from __future__ import annotations

import base64
from typing import Any, NamedTuple, cast

import httpx
import pytest
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig

from fly_tools import ENDPOINTS, Approve, AuditLog, Decision, FlyToolkit, MemorySink, Reject
from fly_tools.testing import FakeFly
from tests.snapshots.schemas import names_in_group
from tests.tools.doubles import Hook, Recorder, Tracer

GROUPS = ["secretkeys", "secret_values"]
NAMES = [e.name for e in ENDPOINTS.records if e.group in GROUPS]
KEY = bytes(range(32))
KEY_B64 = base64.b64encode(KEY).decode()
PLAINTEXT = "pg-pass-7f3a9c1e"
SECRET = "hunter2-very-secret"


class Answer(NamedTuple):
    """What a tool call gave the model (content), kept aside (artifact), and its status."""

    content: str
    artifact: Any
    status: str


class Kit:
    """A toolkit with the secret-key groups on the demo world, a hook that records and answers."""

    def __init__(self, answer: Decision | None = None, transport: Any = None) -> None:
        self.fake = FakeFly.demo()
        self.transport = transport(self.fake) if transport else Recorder(self.fake)
        self.hook = Hook(answer=answer or Approve(by="alice"))
        self.asked = self.hook.asked
        self.sink = MemorySink()
        toolkit = FlyToolkit(
            client=self.fake.client(transport=self.transport),
            scope="org",
            groups=GROUPS,
            confirm=self.hook,
            audit=AuditLog(self.sink),
            check_scope=False,
        )
        self.tools = {t.name: t for t in toolkit.get_tools()}

    def call(self, name: str, args: dict[str, Any], **config: Any) -> Answer:
        tool_call = {"type": "tool_call", "id": "c1", "name": name, "args": args}
        message = self.tools[name].invoke(tool_call, config=cast(RunnableConfig, config))
        assert isinstance(message, ToolMessage)
        return Answer(str(message.content), message.artifact, message.status)

    def key(self, name: str, key_type: str, value: bytes = KEY) -> None:
        b64 = base64.b64encode(value).decode()
        self.fake.client().call(
            "fly_set_secret_key",
            {"app_name": "web", "secret_name": name, "type": key_type, "value": b64},
        )

    def posts(self) -> list[tuple[str, str, str, Any]]:
        return [s for s in self.transport.sent_tuples() if s[0] != "GET"]

    def audit_text(self) -> str:
        return "".join(r.to_json() for r in self.sink.records)


def test_the_default_toolkit_has_none_of_these_tools() -> None:
    default = FlyToolkit(client=FakeFly.demo().client(), scope="org")
    assert not set(default.tool_names) & set(NAMES)
    assert sorted(Kit().tools) == sorted(NAMES)
    assert set(NAMES) == set().union(*(names_in_group(g) for g in GROUPS))


def test_list_and_get_send_their_filters_and_show_names_and_types() -> None:
    kit = Kit()
    kit.key("jwt_v1", "hs256")
    kit.key("box", "nacl_secretbox")

    listed = kit.call("fly_list_secret_keys", {"app_name": "web", "types": ["hs256", "hs512"]})
    got = kit.call("fly_get_secret_key", {"app_name": "web", "secret_name": "box"})

    assert [(r.method, r.path, r.query) for r in kit.fake.requests[-2:]] == [
        ("GET", "/v1/apps/web/secretkeys", "types=hs256%2Chs512"),
        ("GET", "/v1/apps/web/secretkeys/box", ""),
    ]
    assert listed.content.startswith("1 secret key.")
    assert "name=jwt_v1 type=hs256" in listed.content
    assert "box" not in listed.content
    assert "name=box type=nacl_secretbox" in got.content
    assert kit.asked == []  # reads are not gated


def test_set_key_sends_key_bytes_as_an_array_and_never_shows_them() -> None:
    kit = Kit()
    tracer = Tracer()

    message = kit.call(
        "fly_set_secret_key",
        {"app_name": "web", "secret_name": "box", "type": "nacl_secretbox", "value": KEY_B64},
        callbacks=[tracer],
    )

    assert kit.posts() == [
        ("POST", "/v1/apps/web/secretkeys/box", "", {"type": "nacl_secretbox", "value": list(KEY)})
    ]
    assert (
        "Set secret key box in app web from given key bytes. The secret key: name=box type=nacl_secretbox"
        in message.content
    )
    (request,) = kit.asked
    assert request.target.id == "box"
    assert "replaced for good" in request.description
    assert request.args["value"] == "[redacted]"
    for text in (message.content, repr(message.artifact), kit.audit_text(), *tracer.seen):
        assert KEY_B64 not in text


def test_generate_and_delete_are_gated_and_name_their_key() -> None:
    kit = Kit()
    kit.key("old_v1", "hs256")

    kit.call(
        "fly_generate_secret_key", {"app_name": "web", "secret_name": "new_v1", "type": "hs512"}
    )
    deleted = kit.call("fly_delete_secret_key", {"app_name": "web", "secret_name": "old_v1"})

    assert [(m, p, b) for m, p, _, b in kit.posts()] == [
        ("POST", "/v1/apps/web/secretkeys/new_v1/generate", {"type": "hs512"}),
        ("DELETE", "/v1/apps/web/secretkeys/old_v1", None),
    ]
    generate, delete = kit.asked
    assert generate.type_back is None
    assert delete.type_back == "old_v1"
    assert "old_v1" in delete.description
    assert "can never be decrypted again" in delete.description
    # The state read describing the key to the reviewer: its type, read from Fly.
    assert 'type "hs256"' in delete.description
    assert "Deleted secret key old_v1 in app web. The secret key: version=" in deleted.content


def test_a_rejected_call_sends_nothing() -> None:
    kit = Kit(answer=Reject("not today", by="bob"))
    kit.key("old_v1", "hs256")
    message = kit.call("fly_delete_secret_key", {"app_name": "web", "secret_name": "old_v1"})
    assert "Not executed" in message.content
    assert kit.posts() == []
    assert "old_v1" in kit.fake.state.apps["web"].secret_keys.by_name
    assert [r.decision for r in kit.sink.records] == ["rejected"]


def test_encrypt_plaintext_stays_out_of_audit_callbacks_and_approvals() -> None:
    kit = Kit()
    kit.key("box", "xaes256gcm")
    tracer = Tracer()

    message = kit.call(
        "fly_encrypt_with_secret_key",
        {"app_name": "web", "secret_name": "box", "plaintext": PLAINTEXT, "min_version": 1},
        callbacks=[tracer],
    )

    ((method, path, query, body),) = kit.posts()
    assert (method, path, query) == ("POST", "/v1/apps/web/secretkeys/box/encrypt", "min_version=1")
    assert body == {"plaintext": list(PLAINTEXT.encode())}
    # The model can hand the ciphertext on: the content shows it whole, as base64.
    shown = base64.b64encode(bytes(message.artifact["ciphertext"])).decode()
    assert message.content == (
        f"Encrypted text with secret key box in app web. The ciphertext: ciphertext={shown} (base64)"
    )
    assert kit.asked == []  # WRITE: below the default threshold
    for text in (message.content, repr(message.artifact), kit.audit_text(), *tracer.seen):
        assert PLAINTEXT not in text


def test_decrypt_shows_the_approved_plaintext_but_the_audit_never_keeps_it() -> None:
    kit = Kit()
    kit.key("box", "nacl_secretbox")
    sealed = kit.fake.client().call(
        "fly_encrypt_with_secret_key",
        {"app_name": "web", "secret_name": "box", "plaintext": PLAINTEXT},
    )
    ciphertext = base64.b64encode(bytes(sealed["ciphertext"])).decode()

    message = kit.call(
        "fly_decrypt_with_secret_key",
        {"app_name": "web", "secret_name": "box", "ciphertext": ciphertext},
    )

    assert kit.posts()[-1][3] == {"ciphertext": sealed["ciphertext"]}
    (request,) = kit.asked
    assert "revealed to the agent" in request.description
    assert "box" in request.description
    assert bytes(message.artifact["plaintext"]) == PLAINTEXT.encode()
    assert message.content.startswith(
        f'Decrypted text with secret key box in app web. The plaintext: plaintext="{PLAINTEXT}" (base64 '
    )
    assert str(list(PLAINTEXT.encode())) not in kit.audit_text()
    assert str(PLAINTEXT.encode()[0]) + ", " + str(PLAINTEXT.encode()[1]) not in kit.audit_text()


def test_sign_is_gated_with_the_text_shown_and_verify_reports_a_bad_signature() -> None:
    kit = Kit()
    kit.key("rel_v1", "hs256")

    signed = kit.call(
        "fly_sign_with_secret_key", {"app_name": "web", "secret_name": "rel_v1", "plaintext": "v42"}
    )
    signature = signed.artifact["signature"]
    good = kit.call(
        "fly_verify_with_secret_key",
        {"app_name": "web", "secret_name": "rel_v1", "plaintext": "v42", "signature": signature},
    )
    bad = kit.call(
        "fly_verify_with_secret_key",
        {"app_name": "web", "secret_name": "rel_v1", "plaintext": "v43", "signature": signature},
    )

    (request,) = kit.asked  # only sign is gated
    assert '"v42"' in request.description
    assert "cannot be revoked" in request.description
    assert kit.posts()[1][3] == {"plaintext": list(b"v42"), "signature": signature}
    assert good.status != "error"
    assert "Verified" in good.content
    assert bad.status == "error"
    assert "do not trust the text" in bad.content


def test_get_secret_is_a_read_that_never_asks_for_the_value_and_withholds_one_fly_sends() -> None:
    class Leaky(Recorder):
        """Fly answering a value anyway: the tool must still withhold it."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            answer = super().handle_request(request)
            if request.method == "GET" and "/secrets/" in request.url.path:
                answer.read()
                return httpx.Response(200, json=answer.json() | {"value": SECRET})
            return answer

    kit = Kit(transport=Leaky)
    message = kit.call("fly_get_secret", {"app_name": "web", "secret_name": "DATABASE_URL"})

    ((method, path, query, _),) = [s for s in kit.transport.sent_tuples() if "/secrets/" in s[1]]
    assert (method, path, query) == ("GET", "/v1/apps/web/secrets/DATABASE_URL", "")
    assert "show_secrets" not in query
    # READ: fly-go's GetAppSecrets asks for the value only with show_secrets
    # (flaps/flaps_secrets.go:40-48), which the tool never sends.
    assert kit.asked == []
    assert "name=DATABASE_URL digest=" in message.content
    assert message.artifact["value"] == "[withheld]"
    assert SECRET not in message.content + repr(message.artifact) + kit.audit_text()


def test_update_secrets_sends_one_map_and_keeps_values_out_of_everything() -> None:
    kit = Kit()
    tracer = Tracer()

    message = kit.call(
        "fly_update_secrets",
        {"app_name": "web", "values": {"API_KEY": SECRET}, "unset": ["SESSION_SECRET"]},
        callbacks=[tracer],
    )

    assert kit.posts() == [
        (
            "POST",
            "/v1/apps/web/secrets",
            "",
            {"values": {"API_KEY": SECRET, "SESSION_SECRET": None}},
        )
    ]
    assert sorted(kit.fake.state.apps["web"].secrets) == ["API_KEY", "DATABASE_URL"]
    (request,) = kit.asked
    assert "SESSION_SECRET" in request.description
    assert "lost for good" in request.description
    assert message.content.startswith("Changed the secrets of app web. The secrets: version=")
    assert "name=API_KEY" in message.content
    for text in (message.content, repr(message.artifact), request.description, *tracer.seen):
        assert SECRET not in text
    assert SECRET not in kit.audit_text()


def test_invalid_update_is_refused_before_sending_and_the_audit_keeps_no_value() -> None:
    kit = Kit()
    message = kit.call("fly_update_secrets", {"app_name": "web", "values": {"bad name": SECRET}})
    assert message.status == "error"
    assert "nothing was sent" in message.content
    assert kit.transport.sent == []
    assert kit.asked == []
    assert SECRET not in message.content + kit.audit_text()


@pytest.mark.parametrize("hostile", ["../x", "a/b", "%2e", "k" * 300, "key\n", "a.b", ""])
@pytest.mark.parametrize(
    ("tool", "extra"),
    [
        ("fly_get_secret_key", {}),
        ("fly_delete_secret_key", {}),
        ("fly_sign_with_secret_key", {"plaintext": "x"}),
        ("fly_get_secret", {}),
    ],
)
def test_hostile_names_are_refused_before_any_request(
    tool: str, extra: dict[str, Any], hostile: str
) -> None:
    kit = Kit()
    message = kit.call(tool, {"app_name": "web", "secret_name": hostile} | extra)
    assert message.status == "error"
    assert "nothing was sent" in message.content
    assert kit.transport.sent == []
    assert kit.asked == []


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"type": "nacl_secretbox", "value": base64.b64encode(b"short").decode()}, "32 bytes"),
        ({"type": "hs256", "value": "not base64!"}, "base64"),
        ({"type": "rsa", "value": KEY_B64}, "type"),
    ],
)
def test_bad_key_material_is_refused_without_echoing_it(args: dict[str, Any], problem: str) -> None:
    kit = Kit()
    message = kit.call("fly_set_secret_key", {"app_name": "web", "secret_name": "k"} | args)
    assert message.status == "error"
    assert problem in message.content
    assert args["value"] not in message.content + kit.audit_text()
    assert kit.transport.sent == []


def test_a_literal_placeholder_never_becomes_key_bytes_or_a_secret() -> None:
    # Callbacks are shown "[redacted]" in place of each secret, so the schema admits it;
    # the toolkit's argument check refuses it in a secret field: nothing is sent.
    kit = Kit()
    before = kit.fake.state.apps["web"].secrets_version
    answers = [
        kit.call(
            "fly_set_secret_key",
            {"app_name": "web", "secret_name": "k", "type": "hs256", "value": "[redacted]"},
        ),
        kit.call("fly_update_secrets", {"app_name": "web", "values": "[redacted]"}),
    ]
    assert [a.status for a in answers] == ["error", "error"]
    assert all("placeholder '[redacted]'" in a.content for a in answers)
    assert kit.posts() == []
    assert kit.fake.state.apps["web"].secrets_version == before
    assert "k" not in kit.fake.state.apps["web"].secret_keys.by_name


async def test_async_calls_keep_secret_values_out_of_callbacks_and_the_audit() -> None:
    kit = Kit()
    tracer = Tracer()
    args = {"app_name": "web", "values": {"API_KEY": SECRET}}
    call = {"type": "tool_call", "id": "a1", "name": "fly_update_secrets", "args": args}

    message = await kit.tools["fly_update_secrets"].ainvoke(
        call, config=RunnableConfig(callbacks=[tracer])
    )

    assert isinstance(message, ToolMessage)
    assert message.status != "error"
    assert kit.posts()[-1][3] == {"values": {"API_KEY": SECRET}}
    assert tracer.seen
    assert all(SECRET not in text for text in tracer.seen)
    assert SECRET not in str(message.content) + repr(message.artifact) + kit.audit_text()


def test_a_readonly_token_reads_a_secret_s_digest_as_it_lists_them() -> None:
    # The same name, digest and timestamps fly_list_secrets (READ) shows; no value is asked
    # for (fly-go flaps/flaps_secrets.go:40-48 adds show_secrets only on request).
    fake = FakeFly.demo()
    kit = FlyToolkit(client=fake.client(scope="readonly"), scope="readonly", groups=GROUPS)
    assert "fly_get_secret" in kit.tool_names
    shown = kit.call("fly_get_secret", {"app_name": "web", "secret_name": "DATABASE_URL"})
    assert "digest=" in str(shown)
    [request] = [r for r in fake.requests if r.endpoint == "fly_get_secret"]
    assert (request.status, request.query) == (200, "")
