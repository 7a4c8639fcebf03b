"""Approver keys: Ed25519 signatures on answers, so an agent cannot approve its own call.

An approver holds a private key (``fly-tools approvals keygen`` writes it, mode 0600);
toolkits hold only the approvers' public keys. An answer that arrives from outside the
asking process (the approvals CLI, a shared SQLite file, Redis) counts only with a
signature by one of those keys over what was approved: the question id, the request
digest, the asker, the decision, the approver and the expiry. An edited row no longer
matches its signature.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: only signed answers need the 'approvals' extra
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

KEYS_ENV = "FLY_TOOLS_APPROVER_KEYS"
"""Approvers' public keys (``ed25519:BASE64``), separated by commas or whitespace."""
KEY_FILE_ENV = "FLY_TOOLS_APPROVER_KEY"
"""Path of the approver's private key file, for ``fly-tools approvals approve``."""
DEFAULT_KEY_FILE = Path("~/.fly-tools/approver.key")
_PREFIX = "ed25519:"


class SigningError(Exception):
    """A key that cannot be used; the message says why and how to fix it."""


def _need_cryptography() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise SigningError(
            "signed approvals need the 'cryptography' package: pip install 'fly-tools[approvals]'"
        ) from None


def public_text(key: Ed25519PublicKey) -> str:
    """``ed25519:BASE64`` of the raw public key: what toolkits are configured with."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _PREFIX + base64.b64encode(raw).decode("ascii")


def parse_public_keys(keys: str | Iterable[str] | None) -> tuple[Ed25519PublicKey, ...]:
    """Public keys from ``ed25519:BASE64`` texts (one string may hold several).

    Raises:
        SigningError: a key that is not an Ed25519 public key in that form.
    """
    if keys is None:
        return ()
    texts = [keys] if isinstance(keys, str) else list(keys)
    if not any(t.strip() for t in texts):
        return ()
    _need_cryptography()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    parsed = []
    for text in (t for chunk in texts for t in chunk.replace(",", " ").split()):
        if not text.startswith(_PREFIX):
            raise SigningError(f"approver keys look like {_PREFIX}BASE64; got {text[:12]!r}...")
        try:
            raw = base64.b64decode(text[len(_PREFIX) :], validate=True)
            parsed.append(Ed25519PublicKey.from_public_bytes(raw))
        except (ValueError, binascii.Error):
            raise SigningError(f"{text[:20]}... is not an Ed25519 public key") from None
    return tuple(parsed)


def keys_from_env(env: Mapping[str, str] | None = None) -> tuple[Ed25519PublicKey, ...]:
    """The approvers' public keys named by ``$FLY_TOOLS_APPROVER_KEYS`` (none if unset)."""
    return parse_public_keys((env if env is not None else os.environ).get(KEYS_ENV, ""))


def generate_key_file(path: str | os.PathLike[str]) -> str:
    """Write a new private key to ``path`` (mode 0600; never overwrites); return its public key.

    Raises:
        SigningError: the file already exists.
    """
    _need_cryptography()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    target = Path(path).expanduser()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningError(f"{target} already exists; remove it or choose another --out") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return public_text(key.public_key())


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The approver's private key from ``path``; refused if others can read it.

    Raises:
        SigningError: missing, readable by group or others, or not an Ed25519 key.
    """
    _need_cryptography()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    target = Path(path).expanduser()
    try:
        info = target.stat()
        data = target.read_bytes()
    except OSError as exc:
        raise SigningError(
            f"no approver key at {target} ({exc.strerror}): run `fly-tools approvals keygen`"
        ) from None
    if info.st_mode & 0o077:
        raise SigningError(
            f"approver key {target} can be read by others (mode {stat.filemode(info.st_mode)}): "
            f"run chmod 600 {target}"
        )
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningError(f"{target} is not a private key made by keygen") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{target} is not an Ed25519 key")
    return key


def answer_payload(fields: Mapping[str, Any]) -> bytes:
    """The exact bytes an answer's signature covers (canonical JSON of ``fields``)."""
    return json.dumps(
        dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def sign(key: Ed25519PrivateKey, fields: Mapping[str, Any]) -> str:
    """Base64 signature of :func:`answer_payload` of ``fields``."""
    return base64.b64encode(key.sign(answer_payload(fields))).decode("ascii")


def verify(keys: Sequence[Ed25519PublicKey], fields: Mapping[str, Any], signature: str) -> bool:
    """Whether one of ``keys`` signed exactly ``fields``."""
    if not keys:
        return False
    from cryptography.exceptions import InvalidSignature

    try:
        raw = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        return False
    payload = answer_payload(fields)
    for key in keys:
        try:
            key.verify(raw, payload)
        except InvalidSignature:
            continue
        return True
    return False


def check_private_file(path: Path) -> None:
    """Refuse a store file others may write, or that another user owns.

    Raises:
        PermissionError: with the command that fixes it.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    loose = info.st_mode & 0o022
    foreign = hasattr(os, "getuid") and info.st_uid != os.getuid()
    if loose or foreign:
        why = (
            f"can be written by others (mode {stat.filemode(info.st_mode)})"
            if loose
            else "belongs to another user"
        )
        fix = f"chmod 600 {path}" if loose else f"chown $USER {path} && chmod 600 {path}"
        raise PermissionError(f"approvals store {path} {why}: run `{fix}`, or use another file")
