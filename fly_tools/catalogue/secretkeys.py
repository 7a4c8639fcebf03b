"""Catalogue records: an app's secret keys (Fly's KMS) and secret values (opt-in groups)."""

from __future__ import annotations

from fly_tools.catalogue import sources as src
from fly_tools.catalogue.access import Need
from fly_tools.catalogue.record import Endpoint, Phrase
from fly_tools.models import secretkeys as k
from fly_tools.risk import RiskTier, Scope

_ALL: frozenset[Scope] = frozenset({"org", "deploy"})
_READ: frozenset[Scope] = frozenset({"org", "deploy", "readonly"})
R, W, DE = RiskTier.READ, RiskTier.WRITE, RiskTier.DESTRUCTIVE
KEYS = "/apps/{app_name}/secretkeys"
KEY = KEYS + "/{secret_name}"
# A key's answers: its name, type and public half; never key material (Fly sends none).
_KEY_SHOWS = ("name", "type", "updated_at", "version")

# fmt: off
RECORDS: tuple[Endpoint, ...] = (
    Endpoint(name="fly_list_secret_keys", group="secretkeys", operation_id="Secretkeys_list",
             phrase=Phrase(ask="list the secret keys in {target}", done="listed the secret keys in {target}"),
             method="GET", path=KEYS, args_model=k.ListSecretKeysArgs,
             access=Need("app", "r"),
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It reads key names and types; Fly never returns key material.",
             description="List an app's secret keys (names and types) for signing and encryption.",
             result="items", rows_at="secret_keys", noun="secret key",
             shows=("name", "type", "updated_at")),
    Endpoint(name="fly_get_secret_key", group="secretkeys", operation_id="Secretkey_get",
             phrase=Phrase(ask="read {target}", done="read {target}"),
             method="GET", path=KEY, args_model=k.GetSecretKeyArgs,
             access=Need("app", "r"),
             risk=R, scopes=_READ, idempotent=True, target_kind="secretkey",
             untrusted=src.NONE,
             tier_reason="It reads one key's name, type and public half, never its secret bytes.",
             description="Show one secret key: its type, timestamps and public key if it has one.",
             result="item", noun="secret key", shows=("name", "type", "created_at", "updated_at")),
    Endpoint(name="fly_set_secret_key", group="secretkeys", operation_id="Secretkey_set",
             phrase=Phrase(ask="set {target} from given key bytes", done="set {target} from given key bytes"),
             method="POST", path=KEY, args_model=k.SetSecretKeyArgs,
             access=Need("app", "w"),
             risk=DE, scopes=_ALL, idempotent=True, target_kind="secretkey",
             untrusted=src.NONE,
             state_read="fly_get_secret_key",
             tier_reason="It replaces a key with the given bytes, and what the old key "
             "encrypted or signed can no longer be decrypted or verified.",
             description="Create or replace a secret key from given key bytes (base64) of a type.",
             result="item", noun="secret key", shows=_KEY_SHOWS,
             consequence="If a key of this name exists, it is replaced for good: data it "
             "encrypted can no longer be decrypted, nor its signatures verified."),
    Endpoint(name="fly_generate_secret_key", group="secretkeys", operation_id="Secretkey_generate",
             phrase=Phrase(ask="generate new key material for {target}", done="generated new key material for {target}"),
             method="POST", path=KEY + "/generate", args_model=k.GenerateSecretKeyArgs,
             access=Need("app", "c"),
             risk=DE, scopes=_ALL, idempotent=False, target_kind="secretkey",
             untrusted=src.NONE,
             state_read="fly_get_secret_key",
             tier_reason="Generating over an existing name replaces that key, and what the old "
             "key encrypted or signed is lost with it.",
             description="Generate a new random secret key of a type (e.g. 'nacl_secretbox').",
             result="item", noun="secret key", shows=_KEY_SHOWS,
             consequence="If a key of this name exists, it is replaced for good: data it "
             "encrypted can no longer be decrypted, nor its signatures verified."),
    Endpoint(name="fly_delete_secret_key", group="secretkeys", operation_id="Secretkey_delete",
             phrase=Phrase(ask="delete {target}", done="deleted {target}"),
             method="DELETE", path=KEY, args_model=k.SecretKeyArgs,
             access=Need("app", "d"),
             risk=DE, scopes=_ALL, idempotent=True, target_kind="secretkey",
             untrusted=src.NONE,
             state_read="fly_get_secret_key", type_back=True,
             tier_reason="The key is gone for good, and with it everything it encrypted or signed.",
             description="Delete a secret key; data it encrypted or signed can no longer be used.",
             result="item", noun="secret key", shows=("version",),
             consequence="The key is gone for good: anything encrypted with it can never be "
             "decrypted again, and its signatures can no longer be verified."),
    Endpoint(name="fly_encrypt_with_secret_key", group="secretkeys", operation_id="Secretkey_encrypt",
             phrase=Phrase(ask="encrypt text with {target}", done="encrypted text with {target}"),
             method="POST", path=KEY + "/encrypt", args_model=k.EncryptArgs,
             access=Need("app", "r"),
             risk=W, scopes=_ALL, idempotent=True, target_kind="secretkey",
             untrusted=src.NONE,
             tier_reason="It changes nothing and reveals no secret, but as a POST that uses the "
             "app's key it stays out of read-only toolkits.",
             description="Encrypt text with an encrypting secret key; returns the ciphertext.",
             result="item", noun="ciphertext", shows=("ciphertext",)),
    Endpoint(name="fly_decrypt_with_secret_key", group="secretkeys", operation_id="Secretkey_decrypt",
             phrase=Phrase(ask="decrypt text with {target}", done="decrypted text with {target}"),
             method="POST", path=KEY + "/decrypt", args_model=k.DecryptArgs,
             access=Need("app", "r"),
             risk=DE, scopes=_ALL, idempotent=True, target_kind="secretkey",
             untrusted=src.PLAINTEXT,
             state_read="fly_get_secret_key",
             tier_reason="It reveals protected plaintext, which cannot be taken back once read; "
             "the approved plaintext is shown to the agent but never written to the audit.",
             description="Decrypt ciphertext with a secret key; the plaintext is shown to you.",
             result="item", noun="plaintext", shows=("plaintext",),
             consequence="The decrypted plaintext is revealed to the agent and cannot be "
             "taken back."),
    Endpoint(name="fly_sign_with_secret_key", group="secretkeys", operation_id="Secretkey_sign",
             phrase=Phrase(ask="sign text with {target}", done="signed text with {target}"),
             method="POST", path=KEY + "/sign", args_model=k.SignArgs,
             access=Need("app", "r"),
             risk=DE, scopes=_ALL, idempotent=True, target_kind="secretkey",
             untrusted=src.NONE,
             state_read="fly_get_secret_key",
             tier_reason="A signature made with the app's key vouches for the text for good "
             "and cannot be revoked.",
             description="Sign text with a signing secret key; returns the signature.",
             result="item", noun="text", shows=("signature",),
             consequence="The app's key vouches for the given text; the signature cannot be "
             "revoked once made."),
    Endpoint(name="fly_verify_with_secret_key", group="secretkeys", operation_id="Secretkey_verify",
             phrase=Phrase(ask="verify a signature with {target}", done="verified a signature with {target}"),
             method="POST", path=KEY + "/verify", args_model=k.VerifyArgs,
             access=Need("app", "r"),
             risk=W, scopes=_ALL, idempotent=True, target_kind="secretkey",
             untrusted=src.NONE,
             tier_reason="It only checks a signature and changes nothing, but as a POST it stays "
             "out of read-only toolkits.",
             description="Check a signature over text with a signing secret key; fails if invalid.",
             result="item", noun="signature",
             advice={400: "The signature does not match the text for this key (or the key "
                     "cannot sign): do not trust the text."}),
    Endpoint(name="fly_get_secret", group="secret_values", operation_id="Secret_get",
             phrase=Phrase(ask="read {target} from Fly's secret store", done="read {target} from Fly's secret store"),
             method="GET", path="/apps/{app_name}/secrets/{secret_name}", args_model=k.GetSecretArgs,
             access=Need("app", "r"),
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="Without show_secrets (never sent) Fly answers a digest and timestamps, "
             "as fly_list_secrets shows (fly-go flaps/flaps_secrets.go:40-48).",
             description="Show one app secret's digest and timestamps (never its value).",
             result="item", noun="secret", shows=("name", "digest", "created_at", "updated_at"),
             hidden=frozenset({"value"})),
    Endpoint(name="fly_update_secrets", group="secret_values", operation_id="Secrets_update",
             phrase=Phrase(ask="change the secrets of {target}", done="changed the secrets of {target}"),
             method="POST", path="/apps/{app_name}/secrets", args_model=k.UpdateSecretsArgs,
             access=Need("app", "w"),
             risk=DE, scopes=_ALL, idempotent=True, state_read="fly_get_app",
             untrusted=src.NONE,
             tier_reason="Unsetting a secret, or setting over one, loses its old value for good.",
             description="Set and unset several app secrets at once; machines get them on update.",
             result="item", noun="secrets", shows=("version", "secrets"),
             hidden=frozenset({"value"}),
             consequence="Unset secrets and replaced values are lost for good; machines pick "
             "up the change on their next update."),
)
# fmt: on
