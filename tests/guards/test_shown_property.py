"""Random Unicode through every name Fly returns and every argument an agent passes: every surface stays inert.

Whatever a hostile Fly state or agent puts in a name, a state, a command, an env value or a
reason, no raw control, format, bidi or separator character reaches a person; every changed
field is shown in full (or behind an explicit cut mark); and the text outside quoted values
keeps the description's own structure, so agent text and Fly's names cannot pose as facts.
"""

from __future__ import annotations

import io
import re
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards import (
    ActionRequest,
    AuditRecord,
    ConsoleApproval,
    describe_action,
    format_trail,
    redact_args,
    target_of,
)
from fly_tools.guards.hitl import PendingCallDescription
from fly_tools.render import CUT_MARK, is_hidden, quoted

SPECIAL = (
    "\x00\x07\x08\x1b\r\n\t\x7f\x85\x9b\u00ad\u200b\u200c\u200d\u200e\u200f\u2028\u2029"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u061c\U000e0001\ue000"
    '"\\\uff02\uff09\uff08\u201c\u201d\u2018\u2019\u00ab\u00bb\u3000\u00a0()[],.:;=->'
    "\u0435\u0430\u043e\u0440\u0441\u03bf\u0391ABCabc019 "
)
TEXT = st.text(
    st.one_of(st.sampled_from(SPECIAL), st.characters(exclude_categories=["Cs"])), max_size=60
)
WORDS = st.sampled_from(
    [
        "(read from Fly just now: destroyed)",
        ". Given by the agent, not checked: ",
        "\x1b[1A\x1b[2K",
        '", stopped, ord)',
        "\uff02, stopped, ord\uff09",
        "\u2026 [cut: 0 more characters; full text in nowhere]",
        "\n--- Approval needed: nothing ---\n",
    ]
)
HOSTILE = st.lists(st.one_of(TEXT, WORDS), min_size=1, max_size=4).map("".join)
QUOTED = r'"(?:[^"\\]|\\.)*"'
FLAG = r" \[(?:contains non-ASCII|mixes scripts): [^\]\[]*\]"
CUT = r"… \[cut: [\d,]+ more characters; full text in [^\]\[]*\]"
PLACE = {"app_name": "web", "machine_id": "3d8d9015b23489"}
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def skeleton(text: str) -> str:
    """The text outside quoted values, flags and cut marks: the structure a person reads."""
    text = re.sub(QUOTED, "Q", text)
    return re.sub(CUT, "", re.sub(FLAG, "", text))


def inert(text: str) -> bool:
    return not any(is_hidden(c) for c in text.replace("\n", ""))


def shown_whole(value: str, text: str) -> bool:
    """``value`` is in ``text`` whole, as the renderer quotes it, or visibly cut."""
    full = quoted(value)
    return full in text or (CUT_MARK in text and full[: len(full) // 2] in text)


def machine(name: str, state: str, region: str, env: dict[str, str]) -> dict[str, Any]:
    config = {"image": "registry.fly.io/web:v42", "env": env}
    return {
        "id": PLACE["machine_id"],
        "name": name,
        "state": state,
        "region": region,
        "instance_id": "01HV",
        "config": config,
    }


FACTS = (
    r"(?:\(read from Fly just now: (?:named Q)?(?:(?:, )?(?:Q|[a-z0-9_-]+))*\)"
    r"|\(its current state could not be read\))"
)


@EXAMPLES
@given(name=HOSTILE, state=HOSTILE, region=HOSTILE, command=st.lists(HOSTILE, min_size=1))
def test_an_exec_description_keeps_its_structure(
    name: str, state: str, region: str, command: list[str]
) -> None:
    endpoint = ENDPOINTS["fly_exec_machine"]
    command = ["sh", *command]
    args = endpoint.args_model.model_validate({**PLACE, "command": command})
    text = describe_action(endpoint, args, machine(name, state, region, {}))
    assert inert(text)
    assert "\n" not in text
    assert re.fullmatch(
        rf"Run a command in machine 3d8d9015b23489 in app web(?: {FACTS})?\. "
        rf"{re.escape(endpoint.consequence)} Given by the agent, not checked: "
        r"command=\[Q(?:,Q)*\]\.",
        skeleton(text),
    ), skeleton(text)
    assert quoted(command) in text  # the whole command, every part
    hitl = PendingCallDescription(_tool(endpoint))(
        {"args": {**PLACE, "command": command}}, {}, None
    )
    assert inert(hitl)
    assert quoted(command) in hitl


@EXAMPLES
@given(
    name=HOSTILE,
    before=st.dictionaries(  # Fly's config: any key at all
        st.one_of(st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True), HOSTILE),
        HOSTILE,
        max_size=4,
    ),
    after=st.dictionaries(
        st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True), HOSTILE, max_size=4
    ),
    image=st.one_of(st.none(), st.sampled_from(["registry.fly.io/w\u0435b:v43", "nginx:1.27"])),
    whole=st.booleans(),
)
def test_an_update_lists_every_changed_env_var_whole(
    name: str, before: dict[str, str], after: dict[str, str], image: str | None, whole: bool
) -> None:
    endpoint = ENDPOINTS["fly_update_machine"]
    after = {k: v.replace("\x00", "") for k, v in after.items()}  # the model refuses NUL
    # A whole machine_config replaces the env: every variable it leaves out is removed.
    change = {"machine_config": {"env": after}} if whole else {"env": after}
    fields: dict[str, Any] = {**PLACE, **change}
    if image:
        fields["image"] = image
    args = endpoint.args_model.model_validate(fields)
    state = machine(name, "started", "ord", before)
    text = describe_action(endpoint, args, state)
    assert inert(text)
    first, *changes = text.split("\n")
    assert re.fullmatch(
        rf"Update machine 3d8d9015b23489 in app web {FACTS}\. {re.escape(endpoint.consequence)}",
        skeleton(first),
    ), skeleton(first)
    shown_env = redact_args(endpoint, {"env": after})["env"]
    for key, value in after.items():
        if before.get(key) != value:
            line = next(line for line in changes if line.startswith(f"  env {key}: "))
            assert shown_whole(shown_env[key], line)
    if whole:
        for key in set(before) - set(after):
            assert any(line.endswith("-> removed") and "env " in line for line in changes), key
    for line in changes[1:]:
        assert re.fullmatch(
            r"  (?:env (?:[A-Za-z0-9_./#-]+|Q)|image): (?:Q|not set) -> (?:Q|removed)",
            skeleton(line),
        ), line


@EXAMPLES
@given(name=HOSTILE, agent=HOSTILE, reason=HOSTILE, answer=HOSTILE)
def test_the_console_and_the_audit_trail_stay_inert(
    name: str, agent: str, reason: str, answer: str
) -> None:
    endpoint = ENDPOINTS["fly_stop_machine"]
    args = endpoint.args_model.model_validate(PLACE)
    state = machine(name, "started", "ord", {})
    description = describe_action(endpoint, args, state)
    request = ActionRequest(
        tool=endpoint.name,
        group=endpoint.group,
        risk=endpoint.risk,
        args=redact_args(endpoint, args),
        target=target_of(endpoint, args),
        description=description,
        agent_id=agent,
        facts={"name": name, "state": "started"},
    )
    out = io.StringIO()
    answers = iter([answer, answer, answer])
    ConsoleApproval(input=lambda prompt: next(answers), output=out)(request)
    shown = out.getvalue()
    assert inert(shown)
    header = [line for line in shown.split("\n") if line.startswith("--- Approval needed")]
    assert len(header) == 1  # nothing forged a second question
    if name:
        assert f"named {quoted(name)[:40]}" in shown
    record = AuditRecord.build(
        agent_id=agent,
        endpoint=endpoint,
        args=args,
        decision="rejected",
        decided_by="mcp client",
        outcome="not_executed",
        error=reason,
    )
    trail = format_trail([record])
    assert inert(trail)
    assert "\n" not in trail
    assert "machine 3d8d9015b23489 in app web was rejected by mcp client" in trail


@cache
def _tool(endpoint: Any) -> Any:
    from fly_tools import FlyToolkit
    from fly_tools.testing import FakeFly

    tools = FlyToolkit(client=FakeFly.demo().client(), scope="org").get_tools()
    return next(t for t in tools if t.name == endpoint.name)
