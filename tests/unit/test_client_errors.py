"""Error mapping: each status becomes its class, with Fly's message and advice an agent can use."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from fly_tools.catalogue import ENDPOINTS
from fly_tools.client import (
    BadRequestError,
    ConfigurationError,
    ConflictError,
    FlyAPIError,
    FlyClient,
    FlyConnectionError,
    FlyError,
    FlyTimeoutError,
    ForbiddenError,
    InvalidArgumentsError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    UnprocessableError,
    WaitTimeoutError,
    async_twin,
)
from fly_tools.client.errors import ERROR_CLASSES, error_class
from fly_tools.models.args import MachineArgs

GET_APP = ("fly_get_app", {"app_name": "web"})


def failure(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    response: httpx.Response,
    call: tuple[str, Mapping[str, object]] = GET_APP,
) -> FlyError:
    fly = fake_fly(response)
    client = make_client(fly, max_retries=0)
    with pytest.raises(FlyError) as caught:
        client.call(*call)
    return caught.value


@pytest.mark.parametrize(
    ("status", "cls", "advice"),
    [
        (400, BadRequestError, "correct the request"),
        (401, UnauthorizedError, "FLY_API_TOKEN"),
        (403, ForbiddenError, "cannot reach"),
        (404, NotFoundError, "token's scope reaches the app"),
        (408, WaitTimeoutError, "timed the request out"),
        (409, ConflictError, "release it"),
        (422, UnprocessableError, "change the request"),
        (429, RateLimitedError, "slow down"),
        (500, ServerError, "Fly's side"),
        (502, ServerError, "retry later"),
        (503, ServerError, "retry later"),
        (418, FlyAPIError, "Read the message"),
    ],
)
def test_status_maps_to_class_and_advice(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    status: int,
    cls: type[FlyAPIError],
    advice: str,
) -> None:
    call = ("fly_list_machines", {"app_name": "web"})
    err = failure(make_client, fake_fly, httpx.Response(status, json={"error": "boom"}), call)
    assert type(err) is cls
    assert isinstance(err, FlyAPIError)
    assert err.status == status
    assert (err.method, err.path) == ("GET", "/apps/web/machines")
    assert advice in str(err)
    # A refused token says so first (the cause in the first words); the rest reads alike.
    lead = "Token refused: " if status == 401 else ""
    assert str(err).startswith(f"{lead}Fly answered {status} to GET /apps/web/machines: boom.")


def test_one_table_maps_statuses() -> None:
    assert ERROR_CLASSES[404] is NotFoundError
    assert error_class(504) is ServerError
    assert error_class(410) is FlyAPIError


def test_hierarchy() -> None:
    for cls in (*ERROR_CLASSES.values(), ServerError):
        assert issubclass(cls, FlyAPIError)
    assert issubclass(FlyTimeoutError, FlyConnectionError)
    for cls in (FlyAPIError, FlyConnectionError, ConfigurationError, InvalidArgumentsError):
        assert issubclass(cls, FlyError)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            httpx.Response(400, json={"message": "from message", "error": "from error"}),
            "from message",
        ),
        (httpx.Response(400, json={"error": "from error"}), "from error"),
        (httpx.Response(400, text="plain words"), "plain words"),
        (httpx.Response(400), "Bad Request"),
        (httpx.Response(400, json=["not", "an", "object"]), '["not","an","object"]'),
    ],
)
def test_message_comes_from_message_then_error_then_text(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    response: httpx.Response,
    message: str,
) -> None:
    err = failure(make_client, fake_fly, response)
    assert isinstance(err, FlyAPIError)
    assert err.message == message


def test_long_text_body_is_truncated(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    err = failure(make_client, fake_fly, httpx.Response(502, text="x" * 5000))
    assert isinstance(err, FlyAPIError)
    assert len(err.message) < 400
    assert err.message.endswith("…")


def test_request_id_is_kept(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    response = httpx.Response(404, json={"error": "nope"}, headers={"fly-request-id": "01REQ"})
    err = failure(make_client, fake_fly, response)
    assert isinstance(err, FlyAPIError)
    assert err.request_id == "01REQ"
    assert "01REQ" in str(err)


@pytest.mark.parametrize(
    ("call", "status", "category", "advice"),
    [
        (
            ("fly_create_machine", {"app_name": "web", "image": "nginx"}),
            412,
            "insufficient_capacity",
            "choose another region",
        ),
        (
            ("fly_create_app", {"app_name": "web", "org_slug": "personal"}),
            422,
            "name_taken",
            "global across Fly.io",
        ),
        (
            ("fly_create_volume", {"app_name": "web", "name": "data", "region": "ord"}),
            422,
            "volume_placement_capacity",
            "choose another region",
        ),
    ],
)
def test_error_category_gives_its_advice(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    call: tuple[str, dict[str, object]],
    status: int,
    category: str,
    advice: str,
) -> None:
    body = {"error": "cannot", "status": category}
    err = failure(make_client, fake_fly, httpx.Response(status, json=body), call)
    assert isinstance(err, FlyAPIError)
    assert err.fly_status == category
    assert advice in str(err)


def test_conflict_on_version_says_read_again(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    body = {"error": "current_version 01A does not match 01B"}
    err = failure(make_client, fake_fly, httpx.Response(409, json=body))
    assert "read the machine again" in str(err)


def test_conflict_on_lease_says_wait_or_release(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    body = {"error": "machine already has a lease"}
    call = ("fly_acquire_lease", {"app_name": "web", "machine_id": "m1"})
    err = failure(make_client, fake_fly, httpx.Response(409, json=body), call)
    assert "fly_release_lease" in str(err)
    assert "expire" in str(err)


def test_forbidden_get_app_means_another_org(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    err = failure(make_client, fake_fly, httpx.Response(403, json={"error": "no"}))
    assert "organization this token cannot reach" in str(err)


def test_not_found_lease_is_an_answer_not_a_failure(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(404, json={"error": "lease not found"}))
    got = make_client(fly).call("fly_get_lease", {"app_name": "web", "machine_id": "m1"})
    assert got == {"lease": None}
    assert fly.paths == ["GET /v1/apps/web/machines/m1/lease"]


def test_get_lease_of_a_missing_machine_still_fails(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    call = ("fly_get_lease", {"app_name": "web", "machine_id": "m1"})
    missing = httpx.Response(404, json={"error": "machine m1 not found"})
    assert isinstance(failure(make_client, fake_fly, missing, call), NotFoundError)


def test_rate_limited_names_retry_after(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    response = httpx.Response(429, json={"error": "slow"}, headers={"retry-after": "7"})
    err = failure(make_client, fake_fly, response)
    assert isinstance(err, RateLimitedError)
    assert err.retry_after == 7
    assert "retry after 7 s" in str(err)


def test_server_error_on_create_says_it_may_have_happened(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    call = ("fly_create_machine", {"app_name": "web", "image": "nginx"})
    err = failure(make_client, fake_fly, httpx.Response(500, json={"error": "oops"}), call)
    assert "may have happened" in str(err)
    assert "list or get" in str(err)


# ---------------------------------------------------------------- invalid arguments


@pytest.mark.parametrize(
    "args",
    [
        {"app_name": "../x", "machine_id": "m1"},
        {"app_name": "web", "machine_id": "a/b?c"},
        {"app_name": "web", "machine_id": ".."},
        {"app_name": "web%2F..", "machine_id": "m1"},
        {"app_name": "web", "machine_id": "m1#frag"},
    ],
)
def test_hostile_identifiers_are_rejected_before_sending(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], args: dict[str, str]
) -> None:
    fly = fake_fly()
    client = make_client(fly)
    with pytest.raises(InvalidArgumentsError) as caught:
        client.call("fly_get_machine", args)
    assert fly.requests == []
    assert "nothing was sent" in str(caught.value)


def test_unvalidated_instance_cannot_walk_the_path(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly()
    client = make_client(fly)
    sneaky = MachineArgs.model_construct(app_name="..", machine_id="m1")
    with pytest.raises(InvalidArgumentsError):
        client.call("fly_get_machine", sneaky)
    sneaky = MachineArgs.model_construct(app_name="web", machine_id="a/b?c")
    client.call("fly_get_machine", sneaky)
    assert fly.requests[0].url.raw_path == b"/v1/apps/web/machines/a%2Fb%3Fc"


def test_invalid_arguments_name_each_field_and_the_fix(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    client = make_client(fake_fly())
    with pytest.raises(InvalidArgumentsError) as caught:
        client.call("fly_create_app", {"app_name": "Bad Name", "colour": "red"})
    err = caught.value
    assert err.endpoint == "fly_create_app"
    text = str(err)
    assert "app_name: app name must be" in text
    assert "org_slug: required" in text
    assert "colour: not an argument" in text
    assert len(err.problems) == 3


def test_another_models_instance_is_checked_against_this_endpoint(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly()
    client = make_client(fly)
    wrong = ENDPOINTS["fly_delete_machine"].args_model.model_validate(
        {"app_name": "web", "machine_id": "m1", "force": True}
    )
    with pytest.raises(InvalidArgumentsError, match="force: not an argument"):
        client.call("fly_start_machine", wrong)
    assert fly.requests == []


def test_unknown_endpoint_name(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    with pytest.raises(InvalidArgumentsError, match="fly_get_machine"):
        make_client(fake_fly()).call("fly_nope", {})


def test_non_mapping_arguments(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    with pytest.raises(InvalidArgumentsError, match="mapping"):
        make_client(fake_fly()).call("fly_get_app", ["web"])  # type: ignore[arg-type]


# ---------------------------------------------------------------- the token never shows


def test_token_never_appears_in_reprs_errors_or_logs(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def echo_auth(request: httpx.Request) -> httpx.Response:
        # A hostile or buggy server echoing the credential back.
        return httpx.Response(503, text=f"bad auth {request.headers['authorization']}")

    fly = fake_fly(echo_auth)
    client = make_client(fly, max_retries=2)
    caplog.set_level(logging.DEBUG)
    outputs = [repr(client), str(client), repr(client._config), repr(async_twin(client))]
    with pytest.raises(ServerError) as caught:
        client.call("fly_get_app", {"app_name": "web"})
    err = caught.value
    outputs += [str(err), repr(err), err.message, err.advice, repr(err.args), caplog.text]
    assert len(fly.requests) == 3
    assert "[token]" in err.message
    for output in outputs:
        assert token not in output


def test_token_absent_from_connection_errors(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], token: str
) -> None:
    fly = fake_fly(httpx.ConnectError("refused"))
    with pytest.raises(FlyConnectionError) as caught:
        make_client(fly, max_retries=0).call("fly_get_app", {"app_name": "web"})
    assert token not in str(caught.value)
    assert token not in repr(caught.value.__cause__)
