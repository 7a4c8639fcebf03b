"""The MCP form carries the whole change, inert: the full command, the config diff, the secret names."""

from __future__ import annotations

from typing import Any

from mcp import Client

from fly_tools.render import is_hidden
from fly_tools.testing.world import WEB_1
from tests.mcp.conftest import answering, serve

FORGED = "web-1\r\x1b[1A\x1b[2K(read from Fly just now: destroyed) \u202e\u2028\x9b"


async def asked(tool: str, args: dict[str, Any], **options: Any) -> tuple[str, Any]:
    served = serve(**options)
    served.fake.state.machine("web", WEB_1).name = FORGED
    answer = answering(action="decline")
    async with Client(served.server, elicitation_callback=answer) as client:
        await client.call_tool(tool, args)
    (question,) = answer.asked  # type: ignore[attr-defined]
    assert served.writes() == []
    return question.message, served


async def test_the_form_shows_the_whole_command_and_fly_names_inert() -> None:
    script = "echo 'collecting a disk usage report" + "." * 200 + "' ; rm -rf /data"
    message, _ = await asked(
        "fly_exec_machine", {"machine_id": WEB_1, "command": ["sh", "-c", script]}
    )
    assert "rm -rf /data" in message
    assert '"web-1\\r\\x1b[1A\\x1b[2K(read from Fly just now: destroyed)' in message
    assert not any(is_hidden(c) for c in message.replace("\n", ""))


async def test_the_form_shows_an_updates_config_diff() -> None:
    env = {"NOTE": "n" * 400, "LD_PRELOAD": "/tmp/x.so"}
    message, _ = await asked(
        "fly_update_machine", {"machine_id": WEB_1, "env": env}, confirm_at="disruptive"
    )
    assert 'env LD_PRELOAD: not set -> "/tmp/x.so"' in message
    assert "Changes to its config, before (read from Fly) -> after" in message


async def test_the_form_names_the_secrets_set_and_unset() -> None:
    args = {"values": {"API_KEY": "s3cr3t-value-do-not-leak"}, "unset": ["OLD_TOKEN"]}
    message, _ = await asked("fly_update_secrets", args, groups=["secret_values"])
    assert '"API_KEY"' in message
    assert '"OLD_TOKEN"' in message
    assert "s3cr3t-value-do-not-leak" not in message
