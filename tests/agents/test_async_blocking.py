"""An async agent with approval never blocks its event loop (checked by blockbuster).

The fake is served over loopback HTTP, so a blocking read (the sync client on the loop)
is real socket I/O that blockbuster catches.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from blockbuster import BlockBuster, blockbuster_ctx
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from fly_tools import (
    ActionRequest,
    Approve,
    AsyncFlyClient,
    Decision,
    FlyClient,
    FlyToolkit,
    MiddlewareApproval,
)
from fly_tools.agents import approval_middleware
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import ScriptedChatModel, call
from fly_tools.testing.world import VOL_DATA_OLD

pytestmark = [pytest.mark.enable_socket, pytest.mark.loopback]


@pytest.fixture
def served() -> Iterator[tuple[FakeFly, str]]:
    fake = FakeFly.demo()
    with fake.serve() as base_url:
        yield fake, base_url


@pytest.fixture
def blockbuster(served: tuple[FakeFly, str]) -> Iterator[BlockBuster]:
    with blockbuster_ctx() as bb:
        # The fake Fly server runs its own event loop in a thread; it stands in for Fly
        # and is not under test. Everything else, the agent's loop above all, is checked.
        for function in bb.functions.values():
            function.can_block_in("fly_tools/testing/server.py", "_serve_in_thread")
        yield bb


def _async_client(fake: FakeFly, base_url: str) -> AsyncFlyClient:
    return AsyncFlyClient(token=fake.tokens["deploy"], base_url=base_url, rate_limit=False)


@pytest.mark.parametrize("mode", ["batched", "per_call"])
async def test_async_agent_with_middleware_approval(
    served: tuple[FakeFly, str], blockbuster: BlockBuster, mode: str
) -> None:
    fake, base_url = served
    client = _async_client(fake, base_url)
    toolkit = FlyToolkit(client=client, scope="deploy", app="web", confirm=MiddlewareApproval())
    agent = create_agent(
        ScriptedChatModel(script=[call("fly_delete_volume", volume_id=VOL_DATA_OLD)]),
        tools=toolkit.get_tools(),
        middleware=approval_middleware(toolkit, interrupt_mode=mode),
        checkpointer=InMemorySaver(),
    )
    config: RunnableConfig = {"configurable": {"thread_id": "async"}}
    paused = await agent.ainvoke({"messages": [HumanMessage("clean up")]}, config)
    (pending,) = paused["__interrupt__"]
    answer = {"type": "approve"}
    resume = {"decisions": [answer]} if mode == "batched" else {pending.id: answer}
    await agent.ainvoke(Command(resume=resume), config)
    assert [r.path for r in fake.requests if r.method == "DELETE"] == [
        f"/v1/apps/web/volumes/{VOL_DATA_OLD}"
    ]


async def test_async_tool_with_an_async_hook(
    served: tuple[FakeFly, str], blockbuster: BlockBuster
) -> None:
    fake, base_url = served

    async def hook(request: ActionRequest) -> Decision:
        return Approve(by="alice")

    toolkit = FlyToolkit(
        client=_async_client(fake, base_url), scope="deploy", app="web", confirm=hook
    )
    tool = next(t for t in toolkit.get_tools() if t.name == "fly_delete_volume")
    await tool.ainvoke({"volume_id": VOL_DATA_OLD})
    assert any(r.method == "DELETE" for r in fake.requests)


async def test_the_check_itself_catches_a_blocking_read(
    served: tuple[FakeFly, str], blockbuster: BlockBuster
) -> None:
    # The guard above is only worth something if a sync read on the loop is caught.
    fake, base_url = served
    client = FlyClient(token=fake.tokens["deploy"], base_url=base_url, rate_limit=False)
    toolkit = FlyToolkit(client=client, scope="deploy", app="web")
    tool = next(t for t in toolkit.get_tools() if t.name == "fly_list_volumes")
    answer = tool.invoke({})  # the sync tool path, called on the running loop
    assert "BlockingError" in answer  # caught, and reported as an unknown outcome
