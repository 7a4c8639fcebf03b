"""LangChain's standard tool suites, for every tool in the catalogue, against the in-process fake."""

from __future__ import annotations

import sys
from functools import cached_property
from typing import Any

from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from fly_tools import ENDPOINTS, GROUPS, FlyToolkit, approve_all
from tests.tools.world import EXAMPLES, prepared_world


class _FlyToolStandard:
    tool_name = ""

    @cached_property
    def _world(self) -> tuple[Any, dict[str, Any]]:
        return prepared_world(self.tool_name)

    @property
    def tool_constructor(self) -> BaseTool:
        fake, _ = self._world
        toolkit = FlyToolkit(client=fake.client(), scope="org", groups=GROUPS, confirm=approve_all)
        return next(t for t in toolkit.get_tools() if t.name == self.tool_name)

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return self._world[1]


def _make_suites() -> None:
    module = sys.modules[__name__]
    for endpoint in ENDPOINTS.records:
        title = "".join(part.title() for part in endpoint.name.split("_"))
        for base, kind in ((ToolsUnitTests, "Unit"), (ToolsIntegrationTests, "Integration")):
            name = f"Test{title}{kind}"
            suite = type(name, (_FlyToolStandard, base), {"tool_name": endpoint.name})
            setattr(module, name, suite)


_make_suites()


def test_every_tool_has_an_example() -> None:
    assert set(EXAMPLES) == set(ENDPOINTS)
