"""The httpx transport that sends each request on its narrowed token (sync and async)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from fly_tools.macaroons.narrow import Narrowing, match


class NarrowingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Puts the narrowed ``Authorization`` header on every request, then sends it on.

    App numeric ids are learnt once per app with the user's token (``GET
    /tokens/current`` for the org, then ``POST /tokens/authorize``); an app the token
    cannot reach gets no id, and its calls go out on the reach token (Fly refuses them).
    """

    def __init__(self, narrowing: Narrowing, inner: object | None = None) -> None:
        self.narrowing = narrowing
        self._inner = inner
        self._ids: dict[str, int | None] = {}
        self._org: str | None = None

    def __repr__(self) -> str:
        return f"NarrowingTransport(app={self.narrowing.app!r})"

    # ------------------------------------------------------------ sync

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._sync_inner()
        if self.narrowing.macaroon:
            for app in self._apps_to_learn(request):
                self._ids[app] = self._learn(app, inner.handle_request)
            self._narrow(request)
        return inner.handle_request(request)

    def _sync_inner(self) -> httpx.BaseTransport:
        if isinstance(self._inner, httpx.BaseTransport):
            return self._inner
        if self._inner is None:
            self._inner = httpx.HTTPTransport()
            return self._inner
        raise TypeError("this client's transport cannot serve blocking requests")

    # ------------------------------------------------------------ async

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._async_inner()
        if self.narrowing.macaroon:
            for app in self._apps_to_learn(request):
                self._ids[app] = await self._alearn(app, inner)
            self._narrow(request)
        return await inner.handle_async_request(request)

    def _async_inner(self) -> httpx.AsyncBaseTransport:
        if isinstance(self._inner, httpx.AsyncBaseTransport):
            return self._inner
        if self._inner is None:
            self._inner = httpx.AsyncHTTPTransport()
            return self._inner
        raise TypeError("this client's transport cannot serve async requests")

    # ------------------------------------------------------------ shared

    def _narrow(self, request: httpx.Request) -> None:
        header = self.narrowing.header_for(request, lambda app: self._ids.get(app or ""))
        request.headers["Authorization"] = header

    def _apps_to_learn(self, request: httpx.Request) -> list[str]:
        apps = {self.narrowing.app} if self.narrowing.app else set()
        matched = match(self.narrowing.catalogue, request.method, request.url.path)
        if matched is not None and "app_name" in matched[1]:
            apps.add(matched[1]["app_name"])
        self._base = str(request.url).split("/v1", 1)[0] + "/v1"
        return sorted(a for a in apps if a and a not in self._ids)

    def _requests(self, app: str) -> tuple[httpx.Request, Any]:
        auth = {"Authorization": self.narrowing.header}
        current = httpx.Request("GET", self._base + "/tokens/current", headers=auth)

        def authorize(org: str) -> httpx.Request:
            body = {"header": self.narrowing.header, "access": {"org_slug": org, "app_name": app}}
            return httpx.Request("POST", self._base + "/tokens/authorize", headers=auth, json=body)

        return current, authorize

    def _learn(self, app: str, send: Any) -> int | None:
        current, authorize = self._requests(app)
        if self._org is None:
            self._org = _org_of(_read(send(current)))
        if self._org is None:
            return None
        return _app_id_of(_read(send(authorize(self._org))))

    async def _alearn(self, app: str, inner: httpx.AsyncBaseTransport) -> int | None:
        current, authorize = self._requests(app)
        if self._org is None:
            self._org = _org_of(await _aread(await inner.handle_async_request(current)))
        if self._org is None:
            return None
        answer = await inner.handle_async_request(authorize(self._org))
        return _app_id_of(await _aread(answer))


def _read(response: httpx.Response) -> Any:
    response.read()
    return _json(response)


async def _aread(response: httpx.Response) -> Any:
    await response.aread()
    return _json(response)


def _json(response: httpx.Response) -> Any:
    if not response.is_success:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _org_of(answer: Any) -> str | None:
    tokens = answer.get("tokens") if isinstance(answer, dict) else None
    first = tokens[0] if isinstance(tokens, list) and tokens else None
    slug = first.get("org_slug") if isinstance(first, dict) else None
    return slug if isinstance(slug, str) and slug else None


def _app_id_of(answer: Any) -> int | None:
    access = answer.get("access") if isinstance(answer, dict) else None
    app_id = access.get("appid") if isinstance(access, dict) else None
    return app_id if isinstance(app_id, int) and not isinstance(app_id, bool) else None
