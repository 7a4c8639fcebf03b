"""Shared pieces of the reliability suite: the leak scan and calling tools as an agent does."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool

from fly_tools import FlyToolkit
from fly_tools.testing import FakeFly

SECRET_VALUE = "reliability-secret-value-5b1e9c"
"""A secret value the suite sets through fly_set_secret; it must never come back out."""

ToolkitFactory = Callable[..., FlyToolkit]
"""``toolkit_for(fake, scope="org", **toolkit_options)`` (the fixture of that name)."""


class LeakScan(logging.Handler):
    """Keeps every text the suite produced and finds secrets in it at the end."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.secrets: set[str] = {SECRET_VALUE}
        self.texts: list[tuple[str, str]] = []

    def watch(self, fake: FakeFly) -> FakeFly:
        """Treat ``fake``'s tokens and its secret values as secrets."""
        self.secrets.update(fake.tokens.values())
        for app in fake.state.apps.values():
            self.secrets.update(secret.value for secret in app.secrets.values())
        return fake

    def add(self, where: str, text: object) -> None:
        """Remember ``text`` (anything; non-strings are JSON-dumped or repr'd)."""
        if not isinstance(text, str):
            try:
                text = json.dumps(text, default=repr)
            except (TypeError, ValueError):
                text = repr(text)
        self.texts.append((where, text))

    def emit(self, record: logging.LogRecord) -> None:
        """Keep a log record, formatted (with any traceback) and with its extras."""
        self.add(f"log {record.name}", self.format(record) + " " + repr(record.__dict__))

    def leaks(self) -> list[str]:
        """Where a secret showed up: ``"<where>: <first characters of the secret>..."``."""
        return [
            f"{where}: {secret[:6]}..."
            for where, text in self.texts
            for secret in self.secrets
            if secret in text
        ]


def call_tool(tool: BaseTool, args: dict[str, Any], call_id: str = "call-1") -> ToolMessage:
    """Invoke ``tool`` as an agent does: with a tool call, answered by a ToolMessage."""
    message = tool.invoke(ToolCall(name=tool.name, args=args, id=call_id, type="tool_call"))
    assert isinstance(message, ToolMessage)
    return message


async def acall_tool(tool: BaseTool, args: dict[str, Any], call_id: str) -> ToolMessage:
    """The async form of :func:`call_tool`."""
    message = await tool.ainvoke(ToolCall(name=tool.name, args=args, id=call_id, type="tool_call"))
    assert isinstance(message, ToolMessage)
    return message


def model_schema(tool: BaseTool) -> dict[str, Any]:
    """The JSON schema of a tool's arguments as the model sees them."""
    schema = tool.tool_call_schema
    if isinstance(schema, dict):
        return schema
    return schema.model_json_schema()  # type: ignore[union-attr]


def tools_by_name(toolkit: FlyToolkit) -> dict[str, BaseTool]:
    """The toolkit's tools, by name."""
    return {tool.name: tool for tool in toolkit.get_tools()}
