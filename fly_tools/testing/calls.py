"""What a handler receives and returns: typed request parameters, the call, the reply.

Each catalogue endpoint has one handler, registered with :func:`route` together with
the pydantic model of its parameters. The model merges path parameters, query
parameters and JSON body fields, as Fly's handlers read them (lease ``ttl`` may come
in either the query or the body). Bodies are read as Go's decoder reads them: unknown
fields are ignored and a ``null`` leaves a field unset (:func:`go_decoded`), while what
Fly validates (names, sizes, regions, the config's values) is still refused with a 400.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, TypeVar, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.models.identifiers import Region
from fly_tools.testing.auth import Token, TokenBook
from fly_tools.testing.errors import FakeBadRequestError
from fly_tools.testing.state import FakeState

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
REGION = TypeAdapter(Region)
"""Checks a region code given in a request."""


def _split(value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


Strings = Annotated[list[str], BeforeValidator(_split)]
"""A list from repeated (``state=a&state=b``) or comma-separated (``state=a,b``) values."""


class Params(BaseModel):
    """Base of the handlers' parameter models."""

    model_config = ConfigDict(extra="ignore")
    reads_body: ClassVar[bool] = False


class BodyParams(Params):
    """Parameters that include a JSON object body."""

    reads_body = True


@dataclass(frozen=True)
class Reply:
    """A handler's answer: status, JSON body (or text), extra headers."""

    body: Any = None
    status: int = 200
    content_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, text: str, status: int = 200) -> Reply:
        """A ``text/plain`` answer."""
        return cls(text, status, TEXT)

    @classmethod
    def empty(cls, status: int) -> Reply:
        """An answer without a body."""
        return cls(None, status, "")

    def encode(self) -> bytes:
        """The body's bytes."""
        if self.body is None:
            return b""
        if self.content_type == JSON:
            return json.dumps(self.body, separators=(",", ":")).encode()
        return str(self.body).encode()


@dataclass(frozen=True)
class Call:
    """Context of one request, beside its typed parameters.

    Attributes:
        endpoint: the catalogue endpoint being called.
        token: the caller's token (scope, org, app).
        nonce: the ``fly-machine-lease-nonce`` header, if sent.
        query: every query parameter, for filters the model does not name.
        now: the fake time the request arrived.
        tokens: every issued token, for endpoints that check a token given in the body.
    """

    endpoint: Endpoint
    token: Token
    nonce: str | None
    query: Sequence[tuple[str, str]]
    now: float
    tokens: TokenBook | None = None


HandlerResult = Reply | Generator[float, None, Reply]
"""A reply, or a generator that yields fake seconds to wait and finally returns one."""
P = TypeVar("P", bound=Params)
Handler = Callable[[FakeState, Call, P], HandlerResult]


@dataclass(frozen=True)
class Route:
    """An endpoint with its parameter model and handler."""

    endpoint: Endpoint
    params: type[Params]
    handler: Handler[Any]


ROUTES: dict[str, Route] = {}
"""Endpoint name -> route; filled by :func:`route`."""


def route(name: str, params: type[P]) -> Callable[[Handler[P]], Handler[P]]:
    """Register the decorated function as the handler of catalogue endpoint ``name``."""
    return extra_route(ENDPOINTS[name], params)


def extra_route(endpoint: Endpoint, params: type[P]) -> Callable[[Handler[P]], Handler[P]]:
    """Register a handler for ``endpoint``, which may lie outside the catalogue (no tool)."""

    def register(handler: Handler[P]) -> Handler[P]:
        ROUTES[endpoint.name] = Route(endpoint, params, handler)
        return handler

    return register


def parse_params(
    model: type[P], path: Mapping[str, str], query: Sequence[tuple[str, str]], body: bytes
) -> P:
    """Validate path, query and body values into ``model``; a 400 says what is wrong."""
    collected: dict[str, list[str]] = {}
    for key, value in query:
        collected.setdefault(key, []).append(value)
    data: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in collected.items()}
    if model.reads_body and body.strip():
        # A null in a body is Go's nil pointer: the field is left at its default.
        data |= {k: v for k, v in _json_object(body, model.__name__).items() if v is not None}
    data |= path
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FakeBadRequestError(describe(error)) from None


def _json_object(body: bytes, type_name: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise FakeBadRequestError(f"invalid JSON body: {error}") from None
    if not isinstance(payload, dict):
        kind = "array" if isinstance(payload, list) else type(payload).__name__
        # Go's decoder wording, which Fly passes through.
        raise FakeBadRequestError(
            f"json: cannot unmarshal {kind} into Go value of type {type_name}"
        )
    return payload


def describe(error: ValidationError) -> str:
    """Pydantic's complaints as ``field: problem`` lines, joined."""
    problems = []
    for item in error.errors()[:3]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        problems.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


def go_decoded(model: type[BaseModel], data: Any) -> Any:
    """``data`` as Go's JSON decoder hands it to Fly for ``model``: unknown keys dropped,
    ``null`` values left unset, all the way down (models that allow extras keep them)."""
    if not isinstance(data, dict):
        return data
    keep_extra = model.model_config.get("extra") == "allow"
    decoded: dict[str, Any] = {}
    for key, value in data.items():
        field_info = model.model_fields.get(key)
        if value is None or (field_info is None and not keep_extra):
            continue
        decoded[key] = _decode_nested(field_info.annotation, value) if field_info else value
    return decoded


def _decode_nested(annotation: Any, value: Any) -> Any:
    inner = _nested_model(annotation)
    if inner is None:
        return value
    if isinstance(value, list):
        return [go_decoded(inner, item) for item in value]
    if isinstance(value, dict) and _is_mapping_of_models(annotation):
        return {k: go_decoded(inner, v) for k, v in value.items()}
    return go_decoded(inner, value)


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _is_mapping_of_models(annotation: Any) -> bool:
    origin = getattr(annotation, "__origin__", None)
    if origin is dict:
        return True
    return any(_is_mapping_of_models(arg) for arg in get_args(annotation))
