"""Redaction: secret values out of arguments and text, before anything is shown or recorded.

It sits below the client and the guards (it imports only the catalogue and the models),
so the client can scrub an error a server echoed a secret into before raising it;
:mod:`fly_tools.guards.redact` re-exports it."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from typing import Any, get_args
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, SecretStr

from fly_tools.catalogue import Endpoint

REDACTED = "[redacted]"
"""What stands in for a secret value."""
TOO_DEEP = "[too deep]"
"""What stands in for a value nested past :data:`MAX_DEPTH`."""
MAX_DEPTH = 32
"""How deep arguments may nest (Fly's machine config is a few levels deep)."""
MAX_NODES = 20_000
"""How many values (strings, numbers, containers) one call's arguments may hold."""
_SHORTEST_SECRET = 6  # shorter values ("80", "true") would scrub ordinary text
_SHORTEST_LINE = 16  # a line of a multi-line secret scrubbed on its own (PEM body lines)

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


def redact_unknown(args: Any) -> Any:
    """Arguments of a call to no known tool, redacted with no schema to go by: payload
    keys, values under secret-looking names and URL passwords are hidden, at any depth."""
    if not isinstance(args, Mapping):
        return _redact(args)
    return {str(k): _redact_entry(str(k), v, in_env=True, depth=2) for k, v in args.items()}


def _redact(value: Any, *, in_env: bool = False, depth: int = 1) -> Any:
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\1{REDACTED}\3", value) if "://" in value else value
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth > MAX_DEPTH:  # refused at the door; shown cut, never walked to a crash
        return TOO_DEEP
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, Mapping):
        return {
            str(k): _redact_entry(str(k), v, in_env=in_env, depth=depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(item, depth=depth + 1) for item in value]
    return _redact(str(value))


def _redact_entry(key: str, value: Any, *, in_env: bool, depth: int) -> Any:
    if key in _PAYLOAD_KEYS or (in_env and _SECRET_NAME.search(key)):
        return REDACTED
    return _redact(value, in_env=key in _ENV_KEYS, depth=depth)


def _encodable(text: str) -> bool:
    if text.isascii():  # the common case, answered without copying the text
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shape_refusal(args: Mapping[str, Any]) -> str | None:
    """Why ``args`` are too deep, too large or not sendable text, or ``None``.

    Walked without recursion, so a value nested thousands of levels deep is measured,
    not crashed on.
    """
    stack: list[tuple[Any, int]] = [(args, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            return f"the arguments hold more than {MAX_NODES} values; send less at once"
        if isinstance(value, str):
            if _encodable(value):
                continue
            return (
                "an argument holds invalid Unicode (a lone surrogate such as \\ud800), "
                "which cannot be sent; give the text as ordinary characters"
            )
        if isinstance(value, dict | Mapping):  # dict first: the abstract check is slower
            children: Iterable[Any] = [*value.keys(), *value.values()]
        elif isinstance(value, list | tuple | set | frozenset):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            return (
                f"the arguments nest deeper than {MAX_DEPTH} levels; Fly's configuration "
                "is a few levels deep: send the value flat"
            )
        stack.extend((child, depth + 1) for child in children)
    return None


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
    if not isinstance(value, Mapping | list | tuple):
        return False
    # Every string inside ``value``, walked without recursion (any depth).
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if REDACTED in item:
                return True
        elif isinstance(item, dict | Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def scrub(text: str, secrets: Iterable[str | SecretStr], placeholder: str = REDACTED) -> str:
    """``text`` with every known secret value replaced by ``placeholder``, in every
    encoding it can take in output (see :func:`encodings_of`).

    Comma-separated parts of a secret are scrubbed too, because a Fly macaroon token is
    a comma-separated list of tokens and each part is a credential on its own.
    """
    return _replace(text, _forms(_values(secrets)), placeholder)


def scrub_value(value: Any, secrets: Iterable[str | SecretStr]) -> Any:
    """``value`` (decoded JSON-like data) with secret values scrubbed from every string,
    keys included, walking the structure: text is never serialized and parsed back, so a
    secret that looks like JSON cannot break it. ``value`` comes back as it is when no
    secret is in it; walked, containers nested past twice :data:`MAX_DEPTH` come back
    as ``"[too deep]"``.
    """
    forms = _forms(_values(secrets))
    if not forms or isinstance(value, str):
        return _walk(value, forms, 0)
    try:  # the common case, found fast: no secret anywhere, nothing to walk
        text = _JSON.encode(value)
    except (ValueError, TypeError, RecursionError):
        return _walk(value, forms, 0)
    # JSON escapes character by character, so a form inside any string (or key) shows
    # in the text as its own escaped form.
    if any(form in text for form in _escaped(forms)):
        return _walk(value, forms, 0)
    return value


_JSON = json.JSONEncoder(ensure_ascii=False, default=str)  # made once, not on every call


def _walk(value: Any, forms: tuple[str, ...], depth: int) -> Any:
    if isinstance(value, str):
        return _replace(value, forms)
    if isinstance(value, SecretStr):
        return REDACTED
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_DEPTH * 2:  # results may nest a little more than arguments
        return TOO_DEEP
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {_walk(str(k), forms, depth): _walk(v, forms, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_walk(item, forms, depth + 1) for item in value]
    return _walk(str(value), forms, depth)


def _values(secrets: Iterable[str | SecretStr]) -> frozenset[str]:
    raws = frozenset(s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets)
    return _with_parts(raws)


@lru_cache(maxsize=64)
def _with_parts(raws: frozenset[str]) -> frozenset[str]:
    # The same few secrets on every call (the token, values seen): split once.
    values: set[str] = set()
    for raw in raws:
        if raw:
            values.add(raw)
            values.update(part.strip() for part in raw.split(",") if len(part.strip()) >= 8)
    return frozenset(values)


@lru_cache(maxsize=64)
def _forms(values: frozenset[str]) -> tuple[str, ...]:
    # Longest first: a secret containing another is replaced whole.
    forms = {form for value in values for form in encodings_of(value) if form}
    return tuple(sorted(forms, key=lambda form: (-len(form), form)))


@lru_cache(maxsize=64)
def _escaped(forms: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(json.dumps(form, ensure_ascii=False)[1:-1] for form in forms)


def _replace(text: str, forms: tuple[str, ...], placeholder: str = REDACTED) -> str:
    # A substring test per form is fast (C); the pattern covers only the forms present,
    # and replaces them in one pass, so a replacement never creates a new match.
    present = tuple(form for form in forms if form in text)
    return _pattern(present).sub(placeholder, text) if present else text


@lru_cache(maxsize=256)
def _pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(form) for form in forms))


def _lines(value: str) -> set[str]:
    # PEM armour lines ("-----BEGIN PRIVATE KEY-----") are not secret; the body is.
    lines = {line.strip() for line in value.splitlines()} if "\n" in value else set()
    return {line for line in lines if len(line) >= _SHORTEST_LINE and not line.startswith("-----")}


def encodings_of(value: str) -> set[str]:
    """The forms ``value`` can take in output: raw, JSON-escaped (ASCII-only or not,
    ``\\/`` escaped or not, twice escaped), Python-repr escaped, URL-encoded, base64
    (standard and URL-safe, padded or not), and each long line of a multi-line value
    (a PEM key shown line by line, or with CRLF endings).
    """
    forms = {value}
    for ascii_only in (True, False):
        once = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        forms.update(
            {once, once.replace("/", "\\/"), json.dumps(once, ensure_ascii=ascii_only)[1:-1]}
        )
    forms.add(repr(value)[1:-1])
    forms.update(_lines(value))
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no bytes, so no byte encodings
        return forms
    forms.update({quote(data, safe=""), quote_plus(data, safe=""), quote(data)})
    for encoded in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
        text = encoded.decode("ascii")
        forms.update({text, text.rstrip("=")})
    return {form for form in forms if len(form) >= _SHORTEST_SECRET}


def secret_values_in(endpoint: Endpoint, args: BaseModel | Mapping[str, Any]) -> set[str]:
    """The secret values :func:`redact_args` hides in ``args``: set-secret values, exec
    stdin, file contents, secret-looking env values, URL passwords.

    A toolkit scrubs them from everything it shows afterwards (answers, artifacts,
    errors), wherever a server or a guest echoes them back.
    """
    shown = redact_args(endpoint, args)
    if not contains_redacted(shown):
        return set()  # every value found is one shown redacted: none here (the common case)
    raw = args.model_dump() if isinstance(args, BaseModel) else dict(args)
    found: set[str] = set()
    _collect(raw, shown, found)
    return {value for value in found if len(value) >= _SHORTEST_SECRET}


def _collect(raw: Any, shown: Any, found: set[str], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        return
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
            _collect(value, shown.get(str(key)), found, depth + 1)
    elif isinstance(raw, list | tuple) and isinstance(shown, list):
        for item, shown_item in zip(raw, shown, strict=False):
            _collect(item, shown_item, found, depth + 1)
