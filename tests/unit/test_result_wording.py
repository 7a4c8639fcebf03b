"""What the model is told a change did comes from the record's phrase, never from the tool name.

A synthetic ``fly_frobnicate_widget`` (no verb a parser could read off its name) answers
with a body, with nothing, and as an action; each answer is worded with its phrase.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from fly_tools import ENDPOINTS, FlyToolkit, RiskTier
from fly_tools.catalogue import Catalogue, Endpoint, Phrase
from fly_tools.models.args import MachineArgs
from fly_tools.testing import FakeFly
from fly_tools.testing.calls import ROUTES, Call, Reply, extra_route
from fly_tools.testing.handlers.machines import MachinePath
from fly_tools.testing.state import FakeState
from fly_tools.testing.world import WEB_1

NAME = "fly_frobnicate_widget"
ARGS = {"app_name": "web", "machine_id": WEB_1}
WIDGET = Endpoint(
    name=NAME,
    group="control",
    operation_id="Machines_frobnicate",
    phrase=Phrase(
        ask="rename the widget of {target}",
        done="renamed the widget of {target}",
        then="Read the machine again to see its new widget.",
    ),
    method="POST",
    path="/apps/{app_name}/machines/{machine_id}/frobnicate",
    args_model=MachineArgs,
    risk=RiskTier.WRITE,
    scopes=frozenset({"org", "deploy"}),
    idempotent=True,
    description="Rename a machine's widget.",
)
ANSWERS: list[Any] = []


def frobnicate(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    fly.machine(p.app_name, p.machine_id)
    return Reply(ANSWERS[0])


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    extra_route(WIDGET, MachinePath)(frobnicate)
    try:
        yield
    finally:
        ROUTES.pop(NAME, None)
        ANSWERS.clear()


def _said(endpoint: Endpoint, answer: Any) -> str:
    """The content of one call of ``endpoint`` through ``tool.invoke``, Fly answering ``answer``."""
    ANSWERS.append(answer)
    fake = FakeFly.demo()
    kit = FlyToolkit(
        client=fake.client(), catalogue=Catalogue((*ENDPOINTS.records, endpoint)), scope="org"
    )
    tool = next(t for t in kit.get_tools() if t.name == NAME)
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": NAME, "args": ARGS})
    assert isinstance(message, ToolMessage)
    assert message.status != "error", message.content
    assert [r.endpoint for r in fake.requests if r.endpoint == NAME] == [NAME]
    return str(message.content)


def _no_name_words(text: str) -> None:
    for word in ("Frobnicate", "frobnicate", "Frobnicated"):
        assert word not in text, text


@pytest.mark.parametrize(
    ("result", "answer", "said"),
    [
        ("item", {"name": "blue"}, f"Renamed the widget of machine {WEB_1} in app web. "),
        ("item", None, f"Renamed the widget of machine {WEB_1} in app web."),
        (
            "machine",
            {"id": WEB_1, "state": "started"},
            f"Renamed the widget of machine {WEB_1} in app web.\n",
        ),
        (
            "action",
            {"ok": True},
            f"Fly accepted: rename the widget of machine {WEB_1} in app web. "
            "Read the machine again to see its new widget.",
        ),
    ],
    ids=["item", "empty", "machine", "action"],
)
def test_a_change_is_worded_with_its_phrase(result: Any, answer: Any, said: str) -> None:
    text = _said(replace(WIDGET, result=result, noun="widget"), answer)
    assert text.startswith(said), text
    _no_name_words(text)


def test_a_record_without_a_phrase_names_the_call_and_guesses_no_words() -> None:
    text = _said(replace(WIDGET, phrase=None, result="item"), None)
    assert text == f"Called {NAME} on machine {WEB_1} in app web."
    assert "Frobnicated" not in text


@pytest.mark.parametrize(
    ("tool", "said"),
    [
        (
            "fly_stop_machine",
            "Fly accepted: stop machine {m} in app web. "
            "Call fly_wait_machine with state='stopped' to confirm.",
        ),
        (
            "fly_cordon_machine",
            "Fly accepted: cordon machine {m} in app web. "
            "Fly's proxy sends it no traffic until fly_uncordon_machine.",
        ),
    ],
)
def test_a_catalogue_action_says_what_fly_accepted_and_what_to_do_next(
    tool: str, said: str
) -> None:
    kit = FlyToolkit(client=FakeFly.demo().client(), scope="org", groups=["control", "maintenance"])
    content, _ = kit.call(tool, ARGS)
    assert content == said.format(m=WEB_1)
