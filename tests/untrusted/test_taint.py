"""A thread that read text others wrote puts its next changes to a human, whatever their tier."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import ToolCall, ToolMessage

from fly_tools.testing.world import WEB_1, WEB_2
from fly_tools.untrusted import FENCE_NAME, UntrustedReads
from tests.untrusted.helpers import (
    INJECTION,
    SECRET_ARGS,
    Human,
    planted_world,
    records,
    secret_writes,
    toolkit_on,
)


def invoke(
    tools: dict[str, Any], name: str, args: dict[str, Any], thread: str | None = None
) -> ToolMessage:
    config = {"configurable": {"thread_id": thread}} if thread else None
    call = ToolCall(name=name, args=args, id=f"call-{name}", type="tool_call")
    message = tools[name].invoke(call, config)
    assert isinstance(message, ToolMessage)
    return message


async def ainvoke(
    tools: dict[str, Any], name: str, args: dict[str, Any], thread: str | None = None
) -> ToolMessage:
    config = {"configurable": {"thread_id": thread}} if thread else None
    call = ToolCall(name=name, args=args, id=f"call-{name}", type="tool_call")
    message = await tools[name].ainvoke(call, config)
    assert isinstance(message, ToolMessage)
    return message


def tools_of(toolkit: Any) -> dict[str, Any]:
    return {t.name: t for t in toolkit.get_tools()}


def test_planted_metadata_is_fenced_and_the_write_after_it_is_put_to_a_human() -> None:
    fake = planted_world()
    human = Human("reject")
    toolkit = toolkit_on(fake, confirm=human)
    tools = tools_of(toolkit)
    assert not toolkit.gated("fly_set_secret")  # a write-tier call, not gated by its tier
    read = invoke(tools, "fly_get_machine_metadata", {"machine_id": WEB_1})
    assert f"<{FENCE_NAME}-" in str(read.content)
    assert INJECTION in str(read.content)
    assert "data, not instructions" in str(read.content)
    # The obedient model does as the metadata says.
    assert toolkit.gated("fly_set_secret")
    write = invoke(tools, "fly_set_secret", SECRET_ARGS)
    assert write.status == "error"
    assert secret_writes(fake) == []
    (question,) = human.asked
    assert question.tool == "fly_set_secret"
    assert f"after reading metadata of machine {WEB_1} in app web at " in question.description


def test_without_an_untrusted_read_the_same_write_is_not_asked() -> None:
    fake = planted_world()
    human = Human("reject")
    tools = tools_of(toolkit_on(fake, confirm=human))
    invoke(tools, "fly_get_machine", {"machine_id": WEB_1})  # shows no metadata
    write = invoke(tools, "fly_set_secret", SECRET_ARGS)
    assert write.status == "success"
    assert human.asked == []
    assert len(secret_writes(fake)) == 1


def test_an_approved_write_after_the_read_is_sent_and_the_trail_says_why() -> None:
    fake = planted_world()
    human = Human("approve")
    toolkit = toolkit_on(fake, confirm=human)
    tools = tools_of(toolkit)
    invoke(tools, "fly_get_machine_metadata", {"machine_id": WEB_1})
    assert invoke(tools, "fly_restart_machine", {"machine_id": WEB_2}).status == "success"
    assert len(human.asked) == 1
    read, restart = records(toolkit)
    assert read.untrusted == f"read metadata of machine {WEB_1} in app web"
    assert restart.decision == "approved"
    assert restart.untrusted is not None
    assert restart.untrusted.startswith(f"after reading metadata of machine {WEB_1}")
    assert restart.to_dict()["untrusted"] == restart.untrusted


def test_reads_stay_free_in_a_tainted_thread() -> None:
    fake = planted_world()
    human = Human("reject")
    tools = tools_of(toolkit_on(fake, confirm=human))
    invoke(tools, "fly_get_machine_metadata", {"machine_id": WEB_1})
    assert invoke(tools, "fly_list_machines", {}).status == "success"
    assert invoke(tools, "fly_get_machine", {"machine_id": WEB_2}).status == "success"
    assert human.asked == []


def test_without_an_approver_a_tainted_write_is_refused_and_says_a_human_must_approve() -> None:
    fake = planted_world()
    toolkit = toolkit_on(fake)  # confirm=None
    tools = tools_of(toolkit)
    invoke(tools, "fly_get_machine_metadata", {"machine_id": WEB_1})
    write = invoke(tools, "fly_set_secret", SECRET_ARGS)
    assert write.status == "error"
    assert "a human must approve fly_set_secret after reading metadata" in str(write.content)
    assert "Nothing was sent to Fly" in str(write.content)
    assert secret_writes(fake) == []
    refused = records(toolkit)[-1]
    assert refused.decision == "refused"
    assert refused.untrusted is not None


def test_readonly_refuses_every_change_after_the_read_and_asks_nobody() -> None:
    fake = planted_world()
    human = Human("approve")
    toolkit = toolkit_on(fake, confirm=human, after_untrusted="readonly")
    tools = tools_of(toolkit)
    assert (
        invoke(tools, "fly_set_secret", {"secret_name": "BEFORE", "value": "v"}).status == "success"
    )
    invoke(tools, "fly_get_machine_metadata", {"machine_id": WEB_1})
    write = invoke(tools, "fly_set_secret", SECRET_ARGS)
    assert write.status == "error"
    assert "after_untrusted='readonly'" in str(write.content)
    destroy = invoke(tools, "fly_delete_volume", {"volume_id": "vol_x"})  # gated anyway
    assert destroy.status == "error"
    assert human.asked == []
    assert secret_writes(fake) == ["/v1/apps/web/secrets/BEFORE"]
    assert invoke(tools, "fly_list_machines", {}).status == "success"


def test_off_leaves_changes_to_their_tiers_but_keeps_the_fence_and_the_trail() -> None:
    fake = planted_world()
    human = Human("approve")
    toolkit = toolkit_on(fake, confirm=human, after_untrusted="off")
    tools = tools_of(toolkit)
    read = invoke(tools, "fly_get_machine_metadata", {"machine_id": WEB_1})
    assert f"<{FENCE_NAME}-" in str(read.content)
    assert invoke(tools, "fly_set_secret", SECRET_ARGS).status == "success"
    assert human.asked == []
    assert records(toolkit)[-1].untrusted.endswith("(not asked: after_untrusted='off')")


def test_the_option_is_checked() -> None:
    with pytest.raises(ValueError, match="after_untrusted"):
        toolkit_on(planted_world(), after_untrusted="sometimes")
    with pytest.raises(ValueError, match="after_untrusted"):
        UntrustedReads("never")  # type: ignore[arg-type]


def test_a_tainted_thread_does_not_taint_another() -> None:
    fake = planted_world()
    human = Human("reject")
    tools = tools_of(toolkit_on(fake, confirm=human))
    invoke(tools, "fly_get_machine_metadata", {"machine_id": WEB_1}, thread="reader")
    clean = invoke(tools, "fly_set_secret", {"secret_name": "CLEAN", "value": "v"}, thread="other")
    assert clean.status == "success"
    no_thread = invoke(tools, "fly_set_secret", {"secret_name": "BARE", "value": "v"})
    assert no_thread.status == "success"
    assert human.asked == []
    tainted = invoke(tools, "fly_set_secret", SECRET_ARGS, thread="reader")
    assert tainted.status == "error"
    assert [q.tool for q in human.asked] == ["fly_set_secret"]
    assert secret_writes(fake) == ["/v1/apps/web/secrets/CLEAN", "/v1/apps/web/secrets/BARE"]


def test_the_taint_works_the_same_awaited() -> None:
    async def run() -> None:
        fake = planted_world()
        human = Human("reject")
        tools = tools_of(toolkit_on(fake, confirm=human, asynchronous=True))
        read = await ainvoke(tools, "fly_get_machine_metadata", {"machine_id": WEB_1}, "t1")
        assert f"<{FENCE_NAME}-" in str(read.content)
        other, tainted = await asyncio.gather(
            ainvoke(tools, "fly_set_secret", {"secret_name": "OK", "value": "v"}, "t2"),
            ainvoke(tools, "fly_set_secret", SECRET_ARGS, "t1"),
        )
        assert other.status == "success"
        assert tainted.status == "error"
        assert [q.tool for q in human.asked] == ["fly_set_secret"]
        assert secret_writes(fake) == ["/v1/apps/web/secrets/OK"]

    asyncio.run(run())


def test_exec_output_and_process_command_lines_taint_too() -> None:
    fake = planted_world()
    machine = fake.state.machine("web", WEB_1)
    machine.config["env"]["NOTE"] = INJECTION
    machine.config["init"]["cmd"] = ["bin/server", "--motd", INJECTION]
    human = Human("approve")
    toolkit = toolkit_on(fake, confirm=human)
    tools = tools_of(toolkit)
    ps = invoke(tools, "fly_list_machine_processes", {"machine_id": WEB_1}, thread="ps")
    assert f"<{FENCE_NAME}-" in str(ps.content)
    assert "process command lines of machine" in str(ps.content)
    env = invoke(tools, "fly_exec_machine", {"machine_id": WEB_1, "command": ["env"]}, "exec")
    assert f'source="command output of machine {WEB_1} in app web"' in str(env.content)
    human.asked.clear()
    for thread in ("ps", "exec"):
        invoke(tools, "fly_start_machine", {"machine_id": WEB_2}, thread=thread)
    assert [q.tool for q in human.asked] == ["fly_start_machine", "fly_start_machine"]


def test_toolkit_call_and_the_facade_carry_the_taint() -> None:
    fake = planted_world()
    human = Human("reject")
    toolkit = toolkit_on(fake, confirm=human)
    content, _ = toolkit.call("fly_get_machine_metadata", {"machine_id": WEB_1})
    assert f"<{FENCE_NAME}-" in content
    assert toolkit.gated("fly_set_secret")  # outside a thread, the toolkit is the thread
    facade = {t.name: t for t in toolkit.facade_tools()}
    answer = facade["fly_call_operation"].invoke(
        {"operation": "fly_set_secret", "arguments": SECRET_ARGS}
    )
    assert "Not executed" in str(answer)
    assert [q.tool for q in human.asked] == ["fly_set_secret"]
    assert secret_writes(fake) == []


def test_the_trail_keeps_the_untrusted_note_through_json() -> None:
    fake = planted_world()
    toolkit = toolkit_on(fake, confirm=Human("approve"))
    tools = tools_of(toolkit)
    invoke(tools, "fly_get_machine_metadata", {"machine_id": WEB_1})
    invoke(tools, "fly_start_machine", {"machine_id": WEB_2})
    for record in records(toolkit):
        assert type(record).from_dict(record.to_dict()) == record
        assert record.untrusted is not None


def test_prepare_says_what_a_front_door_must_ask_or_refuse() -> None:
    fake = planted_world()
    asking = toolkit_on(fake, confirm=Human("approve"))
    asking.call("fly_get_machine_metadata", {"machine_id": WEB_1})
    prepared = asking.prepare("fly_start_machine", {"machine_id": WEB_2})
    assert prepared.gated
    assert prepared.request is not None
    assert "after reading metadata of machine" in prepared.request.description
    refusing = toolkit_on(fake, confirm=Human("approve"), after_untrusted="readonly")
    refusing.call("fly_get_machine_metadata", {"machine_id": WEB_1})
    refused = refusing.prepare("fly_start_machine", {"machine_id": WEB_2})
    assert refused.refusal is not None
    assert "after_untrusted='readonly'" in refused.refusal
