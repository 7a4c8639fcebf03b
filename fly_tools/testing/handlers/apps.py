"""Handlers for apps, secrets and OIDC tokens."""

from __future__ import annotations

from pydantic import Field, TypeAdapter

from fly_tools.models.identifiers import SecretName
from fly_tools.testing.auth import oidc_token, resolve_org
from fly_tools.testing.calls import BodyParams, Call, Params, Reply, route
from fly_tools.testing.errors import FakeBadRequestError, require_valid
from fly_tools.testing.state import FakeState

_SECRET_NAME = TypeAdapter(SecretName)


class AppPath(Params):
    app_name: str


class ListAppsParams(Params):
    org_slug: str | None = None
    app_role: str | None = None


class CreateAppParams(BodyParams):
    name: str | None = None
    app_name: str | None = None  # the docs' curl examples send this name (D1)
    org_slug: str | None = None
    network: str | None = None
    enable_subdomains: bool | None = None
    app_role_id: str | None = None
    idempotency_key: str | None = None
    wait: bool = False  # fly-go sends POST /apps?wait=true


class DeleteAppParams(AppPath):
    force: bool = False


class ListSecretsParams(AppPath):
    min_version: int | None = None
    version: int | None = None  # what fly-go sends instead of min_version (D8)
    show_secrets: bool = False


class SecretPath(AppPath):
    secret_name: str


class SetSecretParams(SecretPath, BodyParams):
    value: str


class OidcParams(BodyParams):
    aud: str | None = Field(default=None, max_length=1024)
    aws_principal_tags: bool = False


@route("fly_list_apps", ListAppsParams)
def list_apps(fly: FakeState, call: Call, p: ListAppsParams) -> Reply:
    if not p.org_slug:
        raise FakeBadRequestError("org_slug is required (an org slug, or 'personal')")
    org = resolve_org(call.token, p.org_slug)
    apps = [app.to_wire() for app in fly.apps.values() if app.org.slug == org]
    return Reply({"total_apps": len(apps), "apps": apps})


@route("fly_get_app", AppPath)
def get_app(fly: FakeState, call: Call, p: AppPath) -> Reply:
    return Reply(fly.app(p.app_name).to_wire())


@route("fly_create_app", CreateAppParams)
def create_app(fly: FakeState, call: Call, p: CreateAppParams) -> Reply:
    name = p.name or p.app_name
    if not name or not p.org_slug:
        raise FakeBadRequestError("name and org_slug are required")
    app = fly.create_app(name, resolve_org(call.token, p.org_slug), network=p.network)
    # Answered at once, but served only a moment later, as on Fly (wait=true included).
    app.ready_at = call.now + fly.app_ready_delay
    # Real Fly answers 201 {id, created_at} (ms), not the spec's stale {token} (D1);
    # fly-go's ?wait=true decodes an App from the same answer, so both are given then.
    body = {"id": app.id, "created_at": int(app.created_at * 1000)}
    return Reply(app.to_wire() | body if p.wait else body, 201)


@route("fly_delete_app", DeleteAppParams)
def delete_app(fly: FakeState, call: Call, p: DeleteAppParams) -> Reply:
    # Deletion takes machines down with it whether or not force is given; Fly answers
    # 202 Accepted with no body.
    fly.delete_app(p.app_name)
    return Reply.empty(202)


@route("fly_list_secrets", ListSecretsParams)
def list_secrets(fly: FakeState, call: Call, p: ListSecretsParams) -> Reply:
    # The fake's store is never behind, so min_version / version are always satisfied;
    # show_secrets is accepted but values are never returned.
    app = fly.app(p.app_name)
    secrets = [app.secrets[name].to_wire() for name in sorted(app.secrets)]
    return Reply({"secrets": secrets})


@route("fly_set_secret", SetSecretParams)
def set_secret(fly: FakeState, call: Call, p: SetSecretParams) -> Reply:
    require_valid(_SECRET_NAME, p.secret_name)
    secret, version = fly.set_secret(p.app_name, p.secret_name, p.value)
    # 201 as on Fly; the spec lists `value` in the answer, but the fake never echoes it.
    return Reply(secret.to_wire() | {"version": version, "Version": version}, 201)


@route("fly_delete_secret", SecretPath)
def delete_secret(fly: FakeState, call: Call, p: SecretPath) -> Reply:
    version = fly.delete_secret(p.app_name, p.secret_name)
    return Reply({"version": version, "Version": version})


@route("fly_request_oidc_token", OidcParams)
def request_oidc_token(fly: FakeState, call: Call, p: OidcParams) -> Reply:
    # Fly answers the bare JWT as text/plain, not JSON (D13).
    jwt = oidc_token(call.token, aud=p.aud, now=call.now, aws_principal_tags=p.aws_principal_tags)
    return Reply.text(jwt)
