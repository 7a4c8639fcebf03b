"""A misspelt option is an error naming the right one, never a toolkit that ignores it."""

from __future__ import annotations

import pytest

from fly_tools import FlyToolkit, MiddlewareApproval
from fly_tools.guards import AgentPolicy
from fly_tools.testing import FakeFly


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("polcy", "policy"),
        ("max_rsik", "max_risk"),
        ("confrim", "confirm"),
        ("exclde", "exclude"),
        ("confirm_a", "confirm_at"),
        ("agentid", "agent_id"),
    ],
)
def test_a_typo_in_a_toolkit_option_is_refused_with_did_you_mean(typo: str, meant: str) -> None:
    fake = FakeFly.demo()
    with pytest.raises(ValueError, match=rf"no option '{typo}' \(did you mean '{meant}'\?\)"):
        FlyToolkit(client=fake.client("org"), scope="org", **{typo: "x"})
    assert fake.requests == []


def test_an_unknown_option_with_no_close_name_lists_the_options() -> None:
    fake = FakeFly.demo()
    with pytest.raises(
        ValueError, match=r"no option 'banana'; its options: after_untrusted, agent_id, app"
    ):
        FlyToolkit(client=fake.client("org"), scope="org", banana=1)  # type: ignore[call-arg]


def test_from_env_and_read_only_refuse_typos_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", "fm2_not-used")
    with pytest.raises(ValueError, match="did you mean 'policy'"):
        FlyToolkit.from_env("org", polcy=AgentPolicy(agent_id="a"))
    with pytest.raises(ValueError, match="did you mean 'max_risk'"):
        FlyToolkit.read_only(FakeFly.demo().client("readonly"), max_rsik="read")


def test_other_public_config_objects_refuse_unknown_options() -> None:
    with pytest.raises(TypeError, match="reviwer"):
        MiddlewareApproval(reviwer="alice")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="tols"):
        AgentPolicy(agent_id="a", tols={})  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="tols"):
        AgentPolicy.from_dict({"agent_id": "a", "tols": {}})
