"""Redaction: secret values out of arguments and text, before anything is shown or recorded."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, SecretStr

from fly_tools.catalogue import Endpoint

REDACTED = "[redacted]"
"""What stands in for a secret value."""
_SHORTEST_SECRET = 6  # shorter values ("80", "true") would scrub ordinary text

# Environment variable names that usually hold credentials. Over-redacting an env value
# costs a little readability; under-redacting leaks a credential into a log for good.
_SECRET_NAME = re.compile(
    r"token|secret|passw|pwd|key|credential|private|auth|session|cookie|signature|salt|dsn"
    r"|database_url|conn",
    re.IGNORECASE,
)
# user:password@ inside a URL, anywhere in a string (e.g. an exec command).
# The scheme starts where no scheme character precedes it and is at most 32 long, so a
# long word cannot make the search quadratic.
_URL_PASSWORD = re.compile(
    r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}://[^/\s:@]+:)([^/\s@]+)(@)", re.IGNORECASE
)
# Keys whose values are payloads that often carry credentials, wherever they appear.
_PAYLOAD_KEYS = frozenset({"stdin", "raw_value"})
_ENV_KEYS = frozenset({"env"})


def redact_args(endpoint: Endpoint, args: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """Arguments as JSON-able data with every secret value replaced by ``"[redacted]"``.

    Redacted: fields typed ``SecretStr`` in the endpoint's model (``fly_set_secret``'s
    ``value``, also when ``args`` is a raw mapping), exec ``stdin``, file contents
    (``raw_value``), values of environment variables whose names look secret
    (``API_TOKEN``, ``DB_PASSWORD`` ...), and passwords inside URLs. Fields left ``None``
    are omitted.

    Args:
        endpoint: the endpoint the arguments are for.
        args: validated arguments, or the raw mapping of a call that failed validation.
    """
    items = iter(args) if isinstance(args, BaseModel) else iter(args.items())
    secret_fields = _secret_fields(endpoint.args_model)
    redacted: dict[str, Any] = {}
    for name, value in items:
        if value is None:
            continue
        if name in secret_fields or name in _PAYLOAD_KEYS:
            redacted[str(name)] = REDACTED
        else:
            redacted[str(name)] = _redact(value, in_env=name in _ENV_KEYS)
    return redacted


def _redact(value: Any, *, in_env: bool = False) -> Any:
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): _redact_entry(str(k), v, in_env=in_env) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(item) for item in value]
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\1{REDACTED}\3", value) if "://" in value else value
    if value is None or isinstance(value, bool | int | float):
        return value
    return _redact(str(value))


def _redact_entry(key: str, value: Any, *, in_env: bool) -> Any:
    if key in _PAYLOAD_KEYS or (in_env and _SECRET_NAME.search(key)):
        return REDACTED
    return _redact(value, in_env=key in _ENV_KEYS)


@cache
def _secret_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(
        name
        for name, field in model.model_fields.items()
        if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
    )


def contains_redacted(value: Any) -> bool:
    """Whether ``"[redacted]"`` appears anywhere in ``value`` (e.g. in edited arguments).

    An edit built from an action request's arguments still holds the placeholder for
    every secret it did not restate; sending it would store the placeholder as the value.
    """
    if isinstance(value, str):
        return REDACTED in value
    if isinstance(value, Mapping):
        return any(contains_redacted(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_redacted(v) for v in value)
    return False


def scrub(text: str, secrets: Iterable[str | SecretStr]) -> str:
    """``text`` with every occurrence of a known secret value replaced by ``"[redacted]"``.

    Comma-separated parts of a secret are scrubbed too, because a Fly macaroon token is
    a comma-separated list of tokens and each part is a credential on its own.
    """
    values: set[str] = set()
    for secret in secrets:
        raw = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        if raw:
            values.add(raw)
            values.update(part.strip() for part in raw.split(",") if len(part.strip()) >= 8)
    # Longest first, so a secret that contains another is replaced whole.
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def secret_values_in(endpoint: Endpoint, args: BaseModel | Mapping[str, Any]) -> set[str]:
    """The secret values :func:`redact_args` hides in ``args``: set-secret values, exec
    stdin, file contents, secret-looking env values, URL passwords.

    A toolkit scrubs them from everything it shows afterwards (answers, artifacts,
    errors), wherever a server or a guest echoes them back.
    """
    raw = args.model_dump() if isinstance(args, BaseModel) else dict(args)
    found: set[str] = set()
    _collect(raw, redact_args(endpoint, args), found)
    return {value for value in found if len(value) >= _SHORTEST_SECRET}


def _collect(raw: Any, shown: Any, found: set[str]) -> None:
    if isinstance(raw, SecretStr):
        found.add(raw.get_secret_value())
    elif isinstance(raw, str):
        if shown == REDACTED:
            found.add(raw)
        elif isinstance(shown, str) and shown != raw:
            found.update(m.group(2) for m in _URL_PASSWORD.finditer(raw))
    elif isinstance(raw, Mapping) and isinstance(shown, Mapping):
        for key, value in raw.items():
            if shown.get(str(key)) == REDACTED and not isinstance(value, str | SecretStr):
                continue
            _collect(value, shown.get(str(key)), found)
    elif isinstance(raw, list | tuple) and isinstance(shown, list):
        for item, shown_item in zip(raw, shown, strict=False):
            _collect(item, shown_item, found)
