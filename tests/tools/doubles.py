"""Test doubles shared by the tool test modules: a recording transport, a hook, a tracer,
and a toolkit of some groups wired to them."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import httpx
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage

from fly_tools import ActionRequest, Approve, AuditLog, Decision, FlyToolkit, MemorySink, Reject
from fly_tools.testing import FakeFly


class Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Hands each request to the fake and keeps it (body and headers included) and its answer."""

    def __init__(self, fake: FakeFly) -> None:
        self.inner = fake.transport()
        self.sent: list[httpx.Request] = []
        self.answers: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.sent.append(request)
        response = self.inner.handle_request(request)
        self.answers.append(response.read().decode())
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.sent.append(request)
        response = await self.inner.handle_async_request(request)
        self.answers.append((await response.aread()).decode())
        return response

    def body(self, index: int = -1) -> Any:
        """The JSON body of the ``index``-th request kept (the last by default)."""
        return json.loads(self.sent[index].content)

    def last(self, path_end: str) -> tuple[httpx.Request, str]:
        """The last request whose path ends with ``path_end``, and its answer."""
        for request, answer in zip(reversed(self.sent), reversed(self.answers), strict=True):
            if request.url.path.endswith(path_end):
                return request, answer
        raise AssertionError(f"no request to {path_end}")

    def to(self, path: str) -> list[tuple[str, Any]]:
        """(method, JSON body or None) of each request to exactly ``path``."""
        return [(method, body) for method, p, _, body in self.sent_tuples() if p == path]

    def sent_tuples(self) -> list[tuple[str, str, str, Any]]:
        """(method, path, query, JSON body or None) of each request kept, in order."""
        return [
            (
                r.method,
                r.url.path,
                r.url.query.decode(),
                json.loads(r.content) if r.content else None,
            )
            for r in self.sent
        ]


class Hook:
    """Approves or rejects every gated call (or gives ``answer``), keeping what it was asked."""

    def __init__(self, approve: bool = True, *, answer: Decision | None = None) -> None:
        self.approve = approve
        self.answer = answer
        self.asked: list[ActionRequest] = []

    def __call__(self, request: ActionRequest) -> Decision:
        self.asked.append(request)
        if self.answer is not None:
            return self.answer
        return Approve(by="test") if self.approve else Reject("not today", by="test")


class Tracer(BaseCallbackHandler):
    """Keeps as text everything a tracing callback sees of a tool call: inputs, output, error."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
        inputs = kwargs.get("inputs")
        self.seen += [input_str, repr(inputs), json.dumps(inputs, default=str)]

    def on_tool_end(self, output: Any, **kwargs: Any) -> None:
        self.seen.append(repr(output))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.seen.append(repr(error))


class AreaKit:
    """A demo fake and an org toolkit of some groups on it, with the doubles above wired in."""

    def __init__(self, groups: list[str], *, approve: bool = True, **options: Any) -> None:
        self.fake = FakeFly.demo()
        self.recorder = Recorder(self.fake)
        self.hook = Hook(approve)
        self.asked = self.hook.asked
        self.sink = MemorySink()
        self.tracer = Tracer()
        self.client = self.fake.client(transport=self.recorder)
        self.toolkit = FlyToolkit(
            client=self.client,
            scope="org",
            groups=groups,
            confirm=self.hook,
            audit=AuditLog(self.sink),
            **options,
        )
        self.tools = {t.name: t for t in self.toolkit.get_tools()}

    def tool(self, name: str) -> Any:
        """The toolkit's tool ``name``."""
        return self.tools[name]

    def invoke(
        self, name: str, args: dict[str, Any], callbacks: list[BaseCallbackHandler] | None = None
    ) -> ToolMessage:
        """Call ``name`` as a model's tool call (traced by ``tracer`` unless told otherwise)."""
        call = {"type": "tool_call", "id": "c1", "name": name, "args": args}
        chosen: list[BaseCallbackHandler] = [self.tracer] if callbacks is None else callbacks
        message = self.tools[name].invoke(call, config={"callbacks": chosen})
        assert isinstance(message, ToolMessage)
        return message
